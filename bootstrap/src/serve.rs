//! `arcana serve`: the monolith. Storage, application, job runtime and the public listeners in
//! one process, until SIGINT or SIGTERM; one signal drains everything in order.

use anyhow::{Context, bail};
use arcana_application::SeedOutcome;
use arcana_domain::Password;

use crate::config::{Mode, Settings};
use crate::database::Database;
use crate::jobs::{self, Roles};
use crate::shutdown::Shutdown;
use crate::wiring::{self, App};
use crate::{background, plugins, pool_metrics, public, telemetry};

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    settings.require_signing_key()?;
    if settings.mode != Mode::Monolith {
        bail!(
            "mode = {}: run arcana-controller, arcana-service and arcana-repository \
             (or `arcana dev layered` to try it locally); `arcana serve` is the monolith",
            settings.mode.as_str()
        );
    }
    let telemetry = telemetry::init(&settings, "arcana");
    let shutdown = Shutdown::listen();
    let registry = prometheus::Registry::new();
    let database = open_database(&settings).await?;
    if let Some(read) = database.pool_usage() {
        pool_metrics::register(&registry, read)?;
    }
    let storage = database.storage();
    let app = wiring::build(&settings, &storage, &registry)?;
    seed_admin(&settings, &app).await?;
    background::count_events(&app.events, &registry)?;
    let roles = Roles {
        worker: settings.jobs.worker.enabled,
        scheduler: true,
    };
    let plugins = plugins::start(&settings, &app.storage, &app.events, &registry).await?;
    let plugin_jobs = plugins.as_ref().map(plugins::Plugins::jobs);
    let job_runtime = jobs::start(&settings, &app, roles, plugin_jobs).await?;
    let mut api = app.public_api();
    api.plugins = plugins.as_ref().map(plugins::Plugins::public);
    let listeners = public::bind(&settings, None).await?;
    public::serve(&settings, listeners, api, &registry, &shutdown).await?;
    job_runtime.shutdown().await;
    database.close().await;
    tracing::info!("stopped");
    telemetry.shutdown();
    Ok(())
}

/// Opens the configured database and, where configured, applies pending migrations.
pub(crate) async fn open_database(settings: &Settings) -> anyhow::Result<Database> {
    let database = Database::open(&settings.database)?;
    if settings.database.migrates_on_start(settings.environment) {
        database
            .migrate()
            .await
            .context("applying database migrations at start-up")?;
    }
    tracing::info!(backend = database.backend(), "storage ready");
    Ok(database)
}

pub(crate) async fn seed_admin(settings: &Settings, app: &App) -> anyhow::Result<()> {
    let admin = &settings.bootstrap_admin;
    let (Some(username), Some(email), Some(password)) =
        (&admin.username, &admin.email, &admin.password)
    else {
        return Ok(());
    };
    let password = Password::candidate(password.expose());
    match app.users.ensure_superadmin(username, email, password).await {
        Ok(SeedOutcome::Created) => {
            tracing::info!(username = %username, "seeded the configured superadmin");
        }
        Ok(SeedOutcome::AlreadyPresent) => {}
        Err(err) => anyhow::bail!("bootstrap_admin: {}", wiring::describe(&err)),
    }
    Ok(())
}
