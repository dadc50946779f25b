//! The storage ports an application is built on: a local database (monolith, repository tier)
//! or the repository tier reached over the internal API (service tier, `arcana-worker` in a
//! layered deployment). The application cannot tell which.

use std::sync::Arc;

use arcana_adapter_internal::Transport;
use arcana_adapter_internal::client::{
    RemoteAuditLog, RemotePluginKv, RemoteSessionStore, RemoteUserRepository,
};
use arcana_ports::audit::AuditLog;
use arcana_ports::health::HealthCheck;
use arcana_ports::plugins::PluginKv;
use arcana_ports::sessions::SessionStore;
use arcana_ports::users::UserRepository;

#[derive(Clone)]
pub(crate) struct Storage {
    pub(crate) users: Arc<dyn UserRepository>,
    /// The session store of `sessions.backend = sql`: the database's own tables.
    pub(crate) sessions: Arc<dyn SessionStore>,
    pub(crate) audit: Arc<dyn AuditLog>,
    /// Plugins' durable state, in the same storage as the accounts so that it survives restarts
    /// and every process sees the same values.
    pub(crate) plugin_kv: Arc<dyn PluginKv>,
    /// Readiness of whatever answers these ports.
    pub(crate) health: Arc<dyn HealthCheck>,
    /// The dependency behind these ports, as resilience settings, metrics and readiness name
    /// it: `database` or `repository`.
    pub(crate) dependency: &'static str,
    /// Whether other processes write to the same storage, so that an in-process cache cannot
    /// hear of every change.
    pub(crate) shared: bool,
}

impl Storage {
    /// The repository tier's storage, over `transport`; `health` is that tier's readiness.
    pub(crate) fn remote(transport: &Arc<dyn Transport>, health: Arc<dyn HealthCheck>) -> Self {
        Self {
            users: Arc::new(RemoteUserRepository::new(transport.clone())),
            sessions: Arc::new(RemoteSessionStore::new(transport.clone())),
            audit: Arc::new(RemoteAuditLog::new(transport.clone())),
            plugin_kv: Arc::new(RemotePluginKv::new(transport.clone())),
            health,
            dependency: "repository",
            // Every service process (and every worker) talks to the same repository.
            shared: true,
        }
    }
}
