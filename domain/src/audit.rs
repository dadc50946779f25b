//! Audit entries: the durable, queryable record of privileged actions and security events.

use chrono::{DateTime, Utc};

use crate::UserId;
use crate::event::{DomainEvent, EventKind};
use crate::ids::EventId;

/// One line of the audit log, derived from the domain event it records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: EventId,
    pub at: DateTime<Utc>,
    pub action: EventKind,
    pub actor: Option<UserId>,
    /// Rendered subject (`user:<id>`, `session:<id>`, `login:<masked>`).
    pub subject: String,
    pub detail: Option<String>,
    /// Client address of the request that caused it, when known.
    pub ip: Option<String>,
}

impl AuditEntry {
    pub fn from_event(event: &DomainEvent, ip: Option<String>) -> Self {
        Self {
            id: event.id,
            at: event.occurred_at,
            action: event.kind,
            actor: event.actor,
            subject: event.subject.render(),
            detail: event.detail.clone(),
            ip,
        }
    }
}
