//! The operations listener (`server.ops.port`) of the processes that serve no public API.

use std::sync::Arc;

use anyhow::Context as _;
use arcana_ports::health::HealthCheck;
use tokio::net::TcpListener;

use crate::config::Settings;

/// Binds `server.ops.port` when set and serves probes and metrics on it until the process
/// exits: liveness must keep answering while the rest drains, or a kubelet would restart a pod
/// that is only shutting down.
pub(crate) async fn start(
    settings: &Settings,
    who: &str,
    health: Vec<Arc<dyn HealthCheck>>,
    registry: prometheus::Registry,
) -> anyhow::Result<()> {
    let Some(port) = settings.server.ops.port else {
        return Ok(());
    };
    let host = settings.server.host.as_str();
    let listener = TcpListener::bind((host, port))
        .await
        .with_context(|| format!("binding {host}:{port} for the operations listener"))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "operations listener ready (probes, metrics)");
    println!("arcana: {who} operations listening on http://{addr}");
    let router = arcana_adapter_rest::ops_router(health, registry);
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, router).await {
            tracing::error!(%err, "operations listener failed");
        }
    });
    Ok(())
}
