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

#[async_trait]
pub trait AuditUseCases: Send + Sync {
    /// Admin or above; newest first.
    async fn query(
        &self,
        actor: &Principal,
        filter: AuditFilter,
    ) -> Result<AuditPage, ManagementError>;
}
