//! `arcana serve`: the monolith on bound listeners (REST, and gRPC unless disabled), until
//! SIGINT or SIGTERM; one shutdown signal drains both.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use arcana_adapter_rest::{HttpMetrics, RestConfig, RestState};
use arcana_application::SeedOutcome;
use arcana_domain::Password;
use tokio::net::TcpListener;
use tokio::sync::watch;

use arcana_adapter_jobs::JobClient;

use crate::config::Settings;
use crate::jobs::{self, Roles};
use crate::wiring::{self, App};
use crate::{background, grpc, telemetry};

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    telemetry::init(&settings);
    let registry = prometheus::Registry::new();
    let app = wiring::build(&settings, &registry)?;
    if settings.database.migrates_on_start(settings.environment) {
        app.database
            .migrate()
            .await
            .context("applying database migrations at start-up")?;
    }
    tracing::info!(backend = app.database.backend(), "storage ready");
    seed_admin(&settings, &app).await?;

    background::count_events(&app.events, &registry)?;
    let job_metrics = app.job_metrics.clone();
    let job_parts = app.jobs.clone();
    let job_client = JobClient::new(job_parts.queue.clone(), job_parts.clock.clone());
    let roles = Roles {
        worker: settings.jobs.worker.enabled,
        scheduler: true,
    };
    let job_runtime = jobs::start(
        &settings,
        &job_parts,
        &job_client,
        app.sessions.clone(),
        &job_metrics,
        roles,
    )
    .await?;
    let router = rest_router(&settings, &app, &registry)?;

    // gRPC is bound (and announced) first, so that whoever waits for the REST line knows both.
    let grpc_listener = grpc::bind(&settings).await?;
    let rest = &settings.server.rest;
    let listener = TcpListener::bind((settings.server.host.as_str(), rest.port))
        .await
        .with_context(|| format!("binding {}:{}", settings.server.host, rest.port))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, environment = ?settings.environment, "REST API listening");
    println!("arcana: REST listening on http://{addr}");

    serve_until_stopped(
        &settings,
        &app,
        &registry,
        (listener, router),
        grpc_listener,
    )
    .await?;
    job_runtime.shutdown().await;
    app.database.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Runs both servers until a signal asks them to stop and they drain, or the grace runs out.
async fn serve_until_stopped(
    settings: &Settings,
    app: &App,
    registry: &prometheus::Registry,
    (listener, router): (TcpListener, axum::Router),
    grpc_listener: Option<TcpListener>,
) -> anyhow::Result<()> {
    let (stop, stopping) = watch::channel(false);
    tokio::spawn(signal(stop));
    let rest_server = async {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(requested(stopping.clone()))
        .await
        .context("serving HTTP")
    };
    let grpc_server = async {
        match grpc_listener {
            Some(listener) => {
                grpc::serve(
                    listener,
                    settings,
                    app,
                    registry,
                    requested(stopping.clone()),
                )
                .await
            }
            None => Ok(()),
        }
    };
    let grace_period = Duration::from_secs(settings.server.shutdown_grace_secs);
    tokio::select! {
        outcome = async { tokio::try_join!(rest_server, grpc_server) } => { outcome?; }
        () = async { requested(stopping.clone()).await; tokio::time::sleep(grace_period).await } => {
            tracing::warn!(?grace_period, "requests still running after the shutdown grace; exiting anyway");
        }
    }
    Ok(())
}

fn rest_router(
    settings: &Settings,
    app: &App,
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
    };
    let state = RestState {
        auth: app.auth.clone(),
        users: app.users.clone(),
        audit: app.audit.clone(),
        jobs: app.jobs_admin.clone(),
        health: app.health.clone(),
        metrics,
    };
    Ok(arcana_adapter_rest::router(
        state,
        &config,
        registry.clone(),
    ))
}

async fn seed_admin(settings: &Settings, app: &App) -> anyhow::Result<()> {
    let admin = &settings.bootstrap_admin;
    let (Some(username), Some(email), Some(password)) =
        (&admin.username, &admin.email, &admin.password)
    else {
        return Ok(());
    };
    let password = Password::candidate(password.expose());
    match app
        .users
        .ensure_superadmin(username, email, &password)
        .await
    {
        Ok(SeedOutcome::Created) => {
            tracing::info!(username = %username, "seeded the configured superadmin");
        }
        Ok(SeedOutcome::AlreadyPresent) => {}
        Err(err) => anyhow::bail!("bootstrap_admin: {}", wiring::describe(&err)),
    }
    Ok(())
}

/// Resolves once shutdown has been requested.
async fn requested(mut stopping: watch::Receiver<bool>) {
    // An error means the sender is gone, which only happens once the process is ending.
    let _ = stopping.wait_for(|stop| *stop).await;
}

/// Waits for SIGINT or SIGTERM and then requests shutdown: both servers stop accepting, and the
/// grace timer starts.
async fn signal(stop: watch::Sender<bool>) {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
    stop.send_replace(true);
}
