//! The gRPC listener of `arcana serve`: bound on its own port next to REST, unless disabled.

use std::time::Duration;

use anyhow::Context;
use arcana_adapter_grpc::{GrpcConfig, GrpcMetrics, GrpcState};
use tokio::net::TcpListener;

use crate::config::Settings;
use crate::wiring::App;

/// Binds `server.grpc.port` and prints the address, or `None` when gRPC is disabled.
pub async fn bind(settings: &Settings) -> anyhow::Result<Option<TcpListener>> {
    let grpc = &settings.server.grpc;
    if !grpc.enabled {
        tracing::info!("gRPC API disabled (server.grpc.enabled = false)");
        return Ok(None);
    }
    let host = settings.server.host.as_str();
    let listener = TcpListener::bind((host, grpc.port))
        .await
        .with_context(|| format!("binding {host}:{} for gRPC", grpc.port))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "gRPC API listening");
    println!("arcana: gRPC listening on http://{addr}");
    Ok(Some(listener))
}

/// Serves gRPC on `listener` until `shutdown` resolves; metrics go to `registry`.
pub async fn serve(
    listener: TcpListener,
    settings: &Settings,
    app: &App,
    registry: &prometheus::Registry,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let grpc = &settings.server.grpc;
    let state = GrpcState {
        auth: app.auth.clone(),
        users: app.users.clone(),
        jobs: app.jobs_admin.clone(),
        health: app.health.clone(),
        metrics: GrpcMetrics::register(registry).context("registering gRPC metrics")?,
    };
    let config = GrpcConfig {
        reflection_enabled: grpc.reflection_enabled,
        max_message_bytes: grpc.max_message_bytes,
        request_timeout: Duration::from_secs(grpc.request_timeout_secs),
        cors_allowed_origins: settings.server.rest.cors_allowed_origins.clone(),
        health_poll_interval: Duration::from_millis(grpc.health_poll_interval_ms),
    };
    arcana_adapter_grpc::serve(listener, state, &config, shutdown).await
}
