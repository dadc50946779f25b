//! Administration of plugins (admin or above), the same for REST and gRPC.

use arcana_domain::FieldError;
use async_trait::async_trait;

use crate::plugins::PluginInfo;
use crate::usecases::Principal;

#[derive(Debug, thiserror::Error)]
pub enum PluginAdminError {
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    #[error("not allowed")]
    Forbidden,
    #[error("no such plugin")]
    NotFound,
    /// The uploaded module or its signature was refused; the reason is the host's own text
    /// (never module content) and is shown to the administrator.
    #[error("plugin refused: {0}")]
    Rejected(String),
    #[error("a dependency is unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait PluginUseCases: Send + Sync {
    /// Every plugin the host knows, enabled or not, rejected included.
    ///
    /// # Errors
    /// `Forbidden` below admin. Safe to retry.
    async fn list(&self, actor: &Principal) -> Result<Vec<PluginInfo>, PluginAdminError>;

    /// # Errors
    /// `Forbidden` below admin, `Validation` for a malformed name, `NotFound`. Safe to retry.
    async fn set_enabled(
        &self,
        actor: &Principal,
        name: &str,
        enabled: bool,
    ) -> Result<PluginInfo, PluginAdminError>;

    /// Installs (or replaces) a plugin from its module bytes and detached signature.
    ///
    /// # Errors
    /// `Forbidden` below admin, `Validation` for a malformed name, `Rejected` when the host
    /// refuses the module. Safe to retry: installing the same bytes twice is one install.
    async fn install(
        &self,
        actor: &Principal,
        name: &str,
        module: Vec<u8>,
        signature: Option<Vec<u8>>,
    ) -> Result<PluginInfo, PluginAdminError>;

    /// # Errors
    /// `Forbidden` below admin, `Validation` for a malformed name, `NotFound`.
    async fn remove(&self, actor: &Principal, name: &str) -> Result<(), PluginAdminError>;
}
