//! `arcana-controller`: the public REST and gRPC APIs over the service tier's use cases. No
//! database, no secrets: every user's token is verified by the service tier on every call.

use std::sync::Arc;

use arcana_adapter_internal::client::{
    RemoteAudit, RemoteAuth, RemoteJobs, RemotePlugins, RemoteUsers,
};
use arcana_adapter_resilience::ResilienceMetrics;
use arcana_adapter_rest::PluginsApi;

use crate::config::{Settings, Tier};
use crate::public::{self, PublicApi};
use crate::shutdown::Shutdown;
use crate::{limits, links, resilience, telemetry};

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    super::require_layered(&settings, Tier::Controller)?;
    let telemetry = telemetry::init(&settings, "arcana-controller");
    let shutdown = Shutdown::listen();
    let registry = prometheus::Registry::new();
    let metrics = ResilienceMetrics::register(&registry)?;
    let (service, health) = links::service(&settings, &metrics)?;
    let redis_guard = resilience::redis_guard(&settings, &metrics);
    // The host runs on the service tier; this tier serves its routes, interceptors and admin.
    let plugins = settings.plugins.enabled.then(|| {
        let remote = RemotePlugins::new(service.clone());
        PluginsApi {
            host: remote.clone(),
            admin: remote,
        }
    });
    let api = PublicApi {
        auth: Arc::new(RemoteAuth::new(service.clone())),
        users: Arc::new(RemoteUsers::new(service.clone())),
        audit: Arc::new(RemoteAudit::new(service.clone())),
        jobs: Some(Arc::new(RemoteJobs::new(service))),
        plugins,
        health: vec![health],
        limiter: limits::limiter(&settings, redis_guard.as_ref())?,
    };
    let listeners = public::bind(&settings, Some(Tier::Controller.as_str())).await?;
    public::serve(&settings, listeners, api, &registry, &shutdown).await?;
    tracing::info!("stopped");
    telemetry.shutdown();
    Ok(())
}
