//! The public listeners (REST, and gRPC unless disabled) of the monolith and the controller
//! tier: the same API over whatever implements the driving ports.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use arcana_adapter_grpc::{GrpcConfig, GrpcMetrics, GrpcState};
use arcana_adapter_rest::{HttpMetrics, PluginsApi, RestConfig, RestState};
use arcana_ports::health::HealthCheck;
use arcana_ports::ratelimit::RateLimiter;
use arcana_ports::usecases::{AuditUseCases, AuthUseCases, JobsUseCases, UserUseCases};
use tokio::net::TcpListener;

use crate::config::Settings;
use crate::shutdown::Shutdown;

/// The driving ports the public API serves, and what its readiness follows.
pub(crate) struct PublicApi {
    pub(crate) auth: Arc<dyn AuthUseCases>,
    pub(crate) users: Arc<dyn UserUseCases>,
    pub(crate) audit: Arc<dyn AuditUseCases>,
    /// `None` where the deployment does not offer the job admin API.
    pub(crate) jobs: Option<Arc<dyn JobsUseCases>>,
    /// `None` unless this process runs the plugin host.
    pub(crate) plugins: Option<PluginsApi>,
    pub(crate) health: Vec<Arc<dyn HealthCheck>>,
    /// The inbound rate limiter of `rate_limit.*`; `None` when it is switched off.
    pub(crate) limiter: Option<Arc<dyn RateLimiter>>,
}

/// Bound before anything is served, so that the printed addresses are live.
pub(crate) struct PublicListeners {
    rest: TcpListener,
    grpc: Option<TcpListener>,
}

/// Binds `server.rest.port` and `server.grpc.port` (unless gRPC is disabled) and prints each
/// address as `arcana: [<tier> ]<listener> listening on <url>`. gRPC is announced first, so
/// whoever waits for the REST line knows both.
pub(crate) async fn bind(
    settings: &Settings,
    tier: Option<&str>,
) -> anyhow::Result<PublicListeners> {
    let who = tier.map_or_else(String::new, |tier| format!("{tier} "));
    let host = settings.server.host.as_str();
    let grpc = if settings.server.grpc.enabled {
        let port = settings.server.grpc.port;
        let listener = TcpListener::bind((host, port))
            .await
            .with_context(|| format!("binding {host}:{port} for gRPC"))?;
        let addr = listener.local_addr()?;
        tracing::info!(%addr, "gRPC API listening");
        println!("arcana: {who}gRPC listening on http://{addr}");
        Some(listener)
    } else {
        tracing::info!("gRPC API disabled (server.grpc.enabled = false)");
        None
    };
    let port = settings.server.rest.port;
    let rest = TcpListener::bind((host, port))
        .await
        .with_context(|| format!("binding {host}:{port}"))?;
    let addr = rest.local_addr()?;
    tracing::info!(%addr, environment = ?settings.environment, "REST API listening");
    println!("arcana: {who}REST listening on http://{addr}");
    Ok(PublicListeners { rest, grpc })
}

/// Serves both listeners until shutdown is requested and they drain, or the grace runs out.
pub(crate) async fn serve(
    settings: &Settings,
    listeners: PublicListeners,
    api: PublicApi,
    registry: &prometheus::Registry,
    shutdown: &Shutdown,
) -> anyhow::Result<()> {
    let limiter = api.limiter.clone();
    // One bound for both listeners: overload is of the process, whatever the protocol.
    let max_in_flight = settings.server.max_in_flight;
    let in_flight =
        (max_in_flight > 0).then(|| Arc::new(tokio::sync::Semaphore::new(max_in_flight)));
    let grpc_state = GrpcState {
        auth: api.auth.clone(),
        users: api.users.clone(),
        jobs: api.jobs.clone(),
        plugins: api.plugins.as_ref().map(|plugins| plugins.admin.clone()),
        health: api.health.clone(),
        metrics: GrpcMetrics::register(registry).context("registering gRPC metrics")?,
        limits: crate::limits::grpc(limiter.clone(), registry)?,
    };
    let router = rest_router(settings, api, (limiter, in_flight.clone()), registry)?;
    let rest = axum::serve(
        listeners.rest,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown.requested());
    let rest = async { rest.await.context("serving HTTP") };
    let grpc = async {
        match listeners.grpc {
            Some(listener) => {
                let config = grpc_config(settings, in_flight);
                arcana_adapter_grpc::serve(listener, grpc_state, &config, shutdown.requested())
                    .await
            }
            None => Ok(()),
        }
    };
    let grace = Duration::from_secs(settings.server.shutdown_grace_secs);
    tokio::select! {
        outcome = async { tokio::try_join!(rest, grpc) } => { outcome?; }
        () = shutdown.deadline(grace) => {
            tracing::warn!(?grace, "requests still running after the shutdown grace; exiting anyway");
        }
    }
    Ok(())
}

fn grpc_config(settings: &Settings, in_flight: Option<Arc<tokio::sync::Semaphore>>) -> GrpcConfig {
    let grpc = &settings.server.grpc;
    GrpcConfig {
        in_flight,
        reflection_enabled: grpc.reflection_enabled,
        max_message_bytes: grpc.max_message_bytes,
        request_timeout: Duration::from_secs(grpc.request_timeout_secs),
        cors_allowed_origins: settings.server.rest.cors_allowed_origins.clone(),
        health_poll_interval: Duration::from_millis(grpc.health_poll_interval_ms),
    }
}

fn rest_router(
    settings: &Settings,
    api: PublicApi,
    (limiter, in_flight): (
        Option<Arc<dyn RateLimiter>>,
        Option<Arc<tokio::sync::Semaphore>>,
    ),
    registry: &prometheus::Registry,
) -> anyhow::Result<axum::Router> {
    let metrics = HttpMetrics::register(registry).context("registering HTTP metrics")?;
    let rest = &settings.server.rest;
    let config = RestConfig {
        body_limit_bytes: rest.body_limit_bytes,
        request_timeout: Duration::from_secs(rest.request_timeout_secs),
        cors_allowed_origins: rest.cors_allowed_origins.clone(),
        openapi_enabled: rest.openapi_enabled,
        trust_forwarded_for: rest.trust_forwarded_for,
        in_flight,
    };
    let state = RestState {
        auth: api.auth,
        users: api.users,
        audit: api.audit,
        jobs: api.jobs,
        plugins: api.plugins,
        health: api.health,
        metrics,
        limiter,
    };
    Ok(arcana_adapter_rest::router(
        state,
        &config,
        registry.clone(),
    ))
}
