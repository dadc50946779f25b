//! Sandboxed extensions that react to domain events.

use arcana_domain::event::DomainEvent;
use async_trait::async_trait;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginState {
    Loaded,
    Enabled,
    Disabled,
    /// Trapped or timed out too often; retried after a backoff.
    Quarantined,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    pub state: PluginState,
    /// Event patterns the plugin subscribed to (`user.*`).
    pub subscriptions: Vec<String>,
    pub calls: u64,
    pub failures: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("no plugin named {0}")]
    NotFound(String),
    #[error("plugin host failure")]
    Internal(#[source] anyhow::Error),
}

#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait PluginHost: Send + Sync {
    /// Delivers `event` to every enabled plugin subscribed to it. A failing plugin is counted
    /// and eventually quarantined; it never fails the caller.
    async fn dispatch(&self, event: &DomainEvent);

    async fn list(&self) -> Vec<PluginInfo>;

    async fn set_enabled(&self, name: &str, enabled: bool) -> Result<PluginInfo, PluginError>;
}
