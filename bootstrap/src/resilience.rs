//! The resilience decorators of `resilience.*`, put around each outbound dependency: the
//! database or the repository tier (users, sessions, audit), Redis-held sessions, and the
//! controller's link to the service tier. One guard (one breaker) per dependency.

use std::sync::Arc;

use arcana_adapter_internal::Transport;
use arcana_adapter_resilience::{
    Guard, GuardedHealth, ResilienceMetrics, ResilientAuditLog, ResilientPluginKv,
    ResilientSessionStore, ResilientTransport, ResilientUserRepository,
};
use arcana_ports::health::HealthCheck;
use arcana_ports::sessions::SessionStore;

use crate::config::{DependencyResilience, Settings};
use crate::storage::Storage;

/// The guard of `dependency` under its table, `None` when the table is switched off.
pub(crate) fn guard(
    dependency: &'static str,
    table: &DependencyResilience,
    metrics: &ResilienceMetrics,
) -> Option<Arc<Guard>> {
    let policy = table.policy()?;
    tracing::debug!(dependency, ?policy, "resilience decorators on");
    Some(Arc::new(Guard::new(dependency, &policy, metrics)))
}

/// The process's one guard of Redis (one breaker, whichever port reaches it: sessions, login
/// counters, the shared rate limiter); `None` without `redis.url` or with the table off.
pub(crate) fn redis_guard(settings: &Settings, metrics: &ResilienceMetrics) -> Option<Arc<Guard>> {
    settings.redis.url.as_ref()?;
    guard("redis", &settings.resilience.redis, metrics)
}

/// `storage` with every port (and its readiness check, which then reports the breaker) behind
/// `guard`.
pub(crate) fn storage(storage: &Storage, guard: Option<Arc<Guard>>) -> Storage {
    let Some(guard) = guard else {
        return storage.clone();
    };
    Storage {
        users: Arc::new(ResilientUserRepository::new(
            storage.users.clone(),
            guard.clone(),
        )),
        sessions: Arc::new(ResilientSessionStore::new(
            storage.sessions.clone(),
            guard.clone(),
        )),
        audit: Arc::new(ResilientAuditLog::new(storage.audit.clone(), guard.clone())),
        plugin_kv: Arc::new(ResilientPluginKv::new(
            storage.plugin_kv.clone(),
            guard.clone(),
        )),
        health: Arc::new(GuardedHealth::new(storage.health.clone(), guard)),
        ..storage.clone()
    }
}

/// A session store other than the database's (Redis) behind its own guard.
pub(crate) fn sessions(
    store: Arc<dyn SessionStore>,
    health: Arc<dyn HealthCheck>,
    guard: Option<Arc<Guard>>,
) -> (Arc<dyn SessionStore>, Arc<dyn HealthCheck>) {
    match guard {
        Some(guard) => (
            Arc::new(ResilientSessionStore::new(store, guard.clone())),
            Arc::new(GuardedHealth::new(health, guard)),
        ),
        None => (store, health),
    }
}

/// A link to a remote tier behind its guard.
pub(crate) fn link(
    transport: Arc<dyn Transport>,
    health: Arc<dyn HealthCheck>,
    guard: Option<Arc<Guard>>,
) -> (Arc<dyn Transport>, Arc<dyn HealthCheck>) {
    match guard {
        Some(guard) => (
            Arc::new(ResilientTransport::new(transport, guard.clone())),
            Arc::new(GuardedHealth::new(health, guard)),
        ),
        None => (transport, health),
    }
}
