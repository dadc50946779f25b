//! `arcana-repository`: the storage adapters, served to the service tier only. The one tier that
//! holds database credentials.

use std::sync::Arc;

use arcana_adapter_internal::server::StorageApi;
use arcana_adapter_resilience::ResilienceMetrics;

use crate::config::{Settings, Tier};
use crate::shutdown::Shutdown;
use crate::{links, ops, pool_metrics, resilience, serve, telemetry};

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    super::require_layered(&settings, Tier::Repository)?;
    let telemetry = telemetry::init(&settings, "arcana-repository");
    let shutdown = Shutdown::listen();
    let database = serve::open_database(&settings).await?;
    let registry = prometheus::Registry::new();
    let metrics = ResilienceMetrics::register(&registry)?;
    if let Some(read) = database.pool_usage() {
        pool_metrics::register(&registry, read)?;
    }
    let guard = resilience::guard("database", &settings.resilience.database, &metrics);
    let storage = resilience::storage(&database.storage(), guard);
    let api = StorageApi {
        users: storage.users,
        sessions: storage.sessions,
        audit: storage.audit,
        plugin_kv: storage.plugin_kv,
    };
    let listener = links::bind_internal(&settings, Tier::Repository).await?;
    let health = vec![storage.health];
    ops::start(&settings, "repository", health.clone(), registry).await?;
    links::serve_internal(
        &settings,
        listener,
        Arc::new(api),
        (Tier::Service, Tier::Repository),
        health,
        &shutdown,
    )
    .await?;
    database.close().await;
    tracing::info!("stopped");
    telemetry.shutdown();
    Ok(())
}
