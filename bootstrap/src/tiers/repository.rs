//! `arcana-repository`: the storage adapters, served to the service tier only. The one tier that
//! holds database credentials.

use std::sync::Arc;

use arcana_adapter_internal::server::StorageApi;

use crate::config::{Settings, Tier};
use crate::shutdown::Shutdown;
use crate::{links, serve, telemetry};

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    super::require_layered(&settings, Tier::Repository)?;
    telemetry::init(&settings);
    let shutdown = Shutdown::listen();
    let database = serve::open_database(&settings).await?;
    let api = StorageApi {
        users: database.users.clone(),
        sessions: database.sessions.clone(),
        audit: database.audit.clone(),
        plugin_kv: database.plugin_kv.clone(),
    };
    let listener = links::bind_internal(&settings, Tier::Repository).await?;
    let health = vec![database.health.clone()];
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
    Ok(())
}
