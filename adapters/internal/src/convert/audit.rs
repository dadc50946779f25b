//! Audit entries and queries.

use arcana_domain::UserId;
use arcana_domain::audit::AuditEntry;
use arcana_domain::event::EventKind;
use arcana_domain::ids::EventId;
use arcana_ports::audit::AuditQuery;

use super::{Invalid, micros, parsed, time};
use crate::wire;

pub(crate) fn audit_record(entry: &AuditEntry) -> wire::AuditRecord {
    wire::AuditRecord {
        id: entry.id.to_string(),
        at_us: micros(entry.at),
        action: entry.action.name().to_owned(),
        actor: entry.actor.map(|id| id.to_string()),
        subject: entry.subject.clone(),
        detail: entry.detail.clone(),
        ip: entry.ip.clone(),
    }
}

pub(crate) fn audit_entry(record: wire::AuditRecord) -> Result<AuditEntry, Invalid> {
    Ok(AuditEntry {
        id: parsed("id", EventId::parse(&record.id))?,
        at: time("at_us", record.at_us)?,
        action: event_kind(&record.action)?,
        actor: record
            .actor
            .as_deref()
            .map(|id| parsed("actor", UserId::parse(id)))
            .transpose()?,
        subject: record.subject,
        detail: record.detail,
        ip: record.ip,
    })
}

fn event_kind(raw: &str) -> Result<EventKind, Invalid> {
    EventKind::parse(raw).ok_or_else(|| anyhow::anyhow!("field action: unknown event {raw:?}"))
}

pub(crate) fn audit_query(query: &AuditQuery) -> wire::AuditQuery {
    wire::AuditQuery {
        actor: query.actor.map(|id| id.to_string()),
        subject: query.subject.clone(),
        action: query.action.map(|kind| kind.name().to_owned()),
        before: query.before.map(|id| id.to_string()),
        limit: u64::try_from(query.limit).unwrap_or(u64::MAX),
    }
}

pub(crate) fn query_of_audit(message: wire::AuditQuery) -> Result<AuditQuery, Invalid> {
    Ok(AuditQuery {
        actor: message
            .actor
            .as_deref()
            .map(|id| parsed("actor", UserId::parse(id)))
            .transpose()?,
        subject: message.subject,
        action: message.action.as_deref().map(event_kind).transpose()?,
        before: message
            .before
            .as_deref()
            .map(|id| parsed("before", EventId::parse(id)))
            .transpose()?,
        limit: usize::try_from(message.limit).unwrap_or(usize::MAX),
    })
}
