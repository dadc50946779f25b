//! `arcana-worker`: runs jobs (and competes for cron leadership) without serving HTTP, on the
//! shared Redis queue, until SIGINT or SIGTERM. In a layered deployment it reaches storage
//! through the repository tier, as the service tier does; otherwise it opens the database.

use anyhow::bail;

use crate::config::{JobsBackend, Mode, Settings};
use crate::jobs::Roles;
use crate::shutdown::Shutdown;
use crate::{jobs, links, ops, plugins, pool_metrics, serve, telemetry, wiring};

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    settings.require_signing_key()?;
    let telemetry = telemetry::init(&settings, "arcana-worker");
    if settings.jobs.backend == JobsBackend::Memory {
        bail!("arcana-worker needs jobs.backend = redis: a memory queue is private to one process");
    }
    let shutdown = Shutdown::listen();
    let registry = prometheus::Registry::new();
    let database = match settings.mode {
        Mode::Monolith => Some(serve::open_database(&settings).await?),
        Mode::LayeredGrpc | Mode::LayeredHttp => None,
    };
    if let Some(read) = database
        .as_ref()
        .and_then(crate::database::Database::pool_usage)
    {
        pool_metrics::register(&registry, read)?;
    }
    let storage = match &database {
        Some(database) => database.storage(),
        None => links::repository(&settings)?,
    };
    let app = wiring::build(&settings, &storage, &registry)?;
    let roles = Roles {
        worker: true,
        scheduler: true,
    };
    // A plugin's jobs can land on any worker of the queue, so every worker loads the plugins.
    let plugins = plugins::start(&settings, &app.storage, &app.events, &registry).await?;
    let plugin_jobs = plugins.as_ref().map(plugins::Plugins::jobs);
    let runtime = jobs::start(&settings, &app, roles, plugin_jobs).await?;
    ops::start(&settings, "worker", app.health.clone(), registry).await?;
    let queues: Vec<&String> = settings.jobs.worker.queues.keys().collect();
    tracing::info!(?queues, "worker running");
    println!("arcana-worker: running");
    shutdown.requested().await;
    tracing::info!("shutdown requested; finishing or releasing running jobs");
    runtime.shutdown().await;
    if let Some(database) = database {
        database.close().await;
    }
    telemetry.shutdown();
    Ok(())
}
