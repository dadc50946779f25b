//! `arcana-service`: the use cases, caches, job producers and the plugin host, over the
//! repository tier's storage, served to the controller only.

use std::sync::Arc;

use arcana_adapter_internal::server::{ServiceApi, ServicePlugins};

use crate::config::{Settings, Tier};
use crate::jobs::{self, Roles};
use crate::shutdown::Shutdown;
use crate::{background, links, ops, plugins, serve, telemetry, wiring};

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    settings.require_signing_key()?;
    super::require_layered(&settings, Tier::Service)?;
    let telemetry = telemetry::init(&settings, "arcana-service");
    let shutdown = Shutdown::listen();
    let registry = prometheus::Registry::new();
    let storage = links::repository(&settings)?;
    let app = wiring::build(&settings, &storage, &registry)?;
    serve::seed_admin(&settings, &app).await?;
    background::count_events(&app.events, &registry)?;
    let roles = Roles {
        worker: settings.jobs.worker.enabled,
        scheduler: true,
    };
    let plugins = plugins::start(&settings, &app.storage, &app.events, &registry).await?;
    let plugin_jobs = plugins.as_ref().map(plugins::Plugins::jobs);
    let job_runtime = jobs::start(&settings, &app, roles, plugin_jobs).await?;
    let api = ServiceApi {
        auth: app.auth.clone(),
        users: app.users.clone(),
        audit: app.audit.clone(),
        jobs: app.jobs_admin.clone(),
        plugins: plugins.map(|plugins| ServicePlugins {
            host: plugins.host.clone(),
            admin: plugins.admin,
        }),
    };
    let listener = links::bind_internal(&settings, Tier::Service).await?;
    let health = app.health.clone();
    ops::start(&settings, "service", health.clone(), registry).await?;
    links::serve_internal(
        &settings,
        listener,
        Arc::new(api),
        (Tier::Controller, Tier::Service),
        health,
        &shutdown,
    )
    .await?;
    job_runtime.shutdown().await;
    tracing::info!("stopped");
    telemetry.shutdown();
    Ok(())
}
