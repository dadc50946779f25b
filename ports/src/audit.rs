//! The append-only audit log.

use arcana_domain::UserId;
use arcana_domain::audit::AuditEntry;
use arcana_domain::event::EventKind;
use arcana_domain::ids::EventId;
use async_trait::async_trait;

use crate::StoreError;

/// Newest-first page of audit entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    pub actor: Option<UserId>,
    /// Exact rendered subject, e.g. `user:<id>`.
    pub subject: Option<String>,
    pub action: Option<EventKind>,
    /// Only entries strictly older than this one (the last id of the previous page).
    pub before: Option<EventId>,
    pub limit: usize,
}

/// Which methods are safe to retry (the resilience decorators retry only those) is stated on
/// each: safe means a repeat after an unknown outcome changes neither the stored state nor the
/// answer.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Appends one entry. Entries are never changed or removed except by retention.
    /// Not safe to retry: a repeat appends the entry twice.
    async fn append(&self, entry: &AuditEntry) -> Result<(), StoreError>;

    /// Entries matching `query`, newest first (by id, which is time-ordered).
    /// Safe to retry.
    async fn query(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError>;
}
