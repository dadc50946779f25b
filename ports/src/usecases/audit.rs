//! Reading the audit log.

use arcana_domain::audit::AuditEntry;
use async_trait::async_trait;

use super::auth::Principal;
use super::users::ManagementError;

#[derive(Debug, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub action: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Debug)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait AuditUseCases: Send + Sync {
    /// Admin or above; newest first.
    ///
    /// # Errors
    /// `Forbidden` (below admin), `Validation` (a limit out of range, an unknown action, a
    /// cursor this API did not issue), `Unavailable`, `Internal`. Safe to retry.
    async fn query(
        &self,
        actor: &Principal,
        filter: AuditFilter,
    ) -> Result<AuditPage, ManagementError>;
}
