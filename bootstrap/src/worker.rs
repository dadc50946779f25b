//! `arcana-worker`: runs jobs (and competes for cron leadership) without serving HTTP, on the
//! shared Redis queue, until SIGINT or SIGTERM.

use anyhow::bail;
use arcana_adapter_jobs::JobClient;

use crate::config::{JobsBackend, Settings};
use crate::jobs::Roles;
use crate::{jobs, telemetry, wiring};

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    telemetry::init(&settings);
    if settings.jobs.backend == JobsBackend::Memory {
        bail!("arcana-worker needs jobs.backend = redis: a memory queue is private to one process");
    }
    let registry = prometheus::Registry::new();
    let app = wiring::build(&settings, &registry)?;
    let metrics = app.job_metrics.clone();
    let parts = app.jobs.clone();
    let client = JobClient::new(parts.queue.clone(), parts.clock.clone());
    let roles = Roles {
        worker: true,
        scheduler: true,
    };
    let runtime = jobs::start(
        &settings,
        &parts,
        &client,
        app.sessions.clone(),
        &metrics,
        roles,
    )
    .await?;
    let queues: Vec<&String> = settings.jobs.worker.queues.keys().collect();
    tracing::info!(?queues, "worker running");
    println!("arcana-worker: running");
    shutdown_signal().await;
    tracing::info!("shutdown requested; finishing or releasing running jobs");
    runtime.shutdown().await;
    app.database.close().await;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let Ok(mut sigterm) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = sigterm.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
