//! The plugin host (`plugins.enabled`): built on the deployment's storage, fed from the event
//! bus, running the plugins' jobs, and handed to the public API with its admin use cases.
//!
//! It runs where the use cases run: in the monolith, and in the layered modes on the service
//! tier (and on every worker, for jobs). The controller holds no host: it reaches the service
//! tier's through the internal API (`arcana.internal.v1.Plugins`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use arcana_adapter_jobs::{DynamicJobs, JobContext, JobError, JobFuture};
use arcana_adapter_memory::{InProcessEventBus, SystemClock};
use arcana_adapter_rest::PluginsApi;
use arcana_adapter_wasm::signature::TrustedKey;
use arcana_adapter_wasm::{FailureBudget, HostSettings, WasmPluginHost};
use arcana_application::PluginAdminService;
use arcana_ports::plugins::{PluginHost, PluginJobError};
use arcana_ports::usecases::PluginUseCases;
use tokio::sync::broadcast::error::RecvError;

use crate::config::{PluginSettings, Settings};
use crate::storage::Storage;

/// A running host and its administration.
pub(crate) struct Plugins {
    pub(crate) host: Arc<dyn PluginHost>,
    pub(crate) admin: Arc<dyn PluginUseCases>,
}

impl Plugins {
    /// What the public listeners need of it.
    pub(crate) fn public(&self) -> PluginsApi {
        PluginsApi {
            host: self.host.clone(),
            admin: self.admin.clone(),
        }
    }

    /// The plugins' jobs, for the worker pool's registry.
    pub(crate) fn jobs(&self) -> Arc<dyn DynamicJobs> {
        Arc::new(PluginJobs(self.host.clone()))
    }
}

/// Starts the host when `plugins.enabled`; `None` otherwise.
pub(crate) async fn start(
    settings: &Settings,
    storage: &Storage,
    events: &InProcessEventBus,
    registry: &prometheus::Registry,
) -> anyhow::Result<Option<Plugins>> {
    if !settings.plugins.enabled {
        return Ok(None);
    }
    let host = WasmPluginHost::start(
        host_settings(&settings.plugins)?,
        storage.plugin_kv.clone(),
        storage.audit.clone(),
        registry,
    )
    .await
    .context("starting the plugin host")?;
    let host: Arc<dyn PluginHost> = Arc::new(host);
    feed(events, host.clone());
    let admin = Arc::new(PluginAdminService::new(
        host.clone(),
        storage.audit.clone(),
        Arc::new(SystemClock),
    ));
    Ok(Some(Plugins { host, admin }))
}

/// Jobs named `<plugin>.<kind>` run by the plugin that declares them.
struct PluginJobs(Arc<dyn PluginHost>);

impl DynamicJobs for PluginJobs {
    fn handles(&self, name: &str) -> bool {
        self.0.runs_job(name)
    }

    /// The plugin's own budget bounds the attempt, so the lease's cancellation is not needed.
    fn run(&self, name: &str, payload: &[u8], _ctx: JobContext) -> JobFuture {
        let (host, name, payload) = (self.0.clone(), name.to_owned(), payload.to_vec());
        Box::pin(async move {
            host.run_job(&name, &payload)
                .await
                .map_err(|err| match err {
                    PluginJobError::Retry(message) => JobError::Retry(message),
                    PluginJobError::Fatal(message) => JobError::Fatal(message),
                })
        })
    }
}

fn host_settings(config: &PluginSettings) -> anyhow::Result<HostSettings> {
    let trusted_keys = config
        .trusted_keys
        .iter()
        .map(|line| TrustedKey::parse(line))
        .collect::<Result<Vec<_>, _>>()
        .context("plugins.trusted_keys")?;
    let budget = &config.failure_budget;
    Ok(HostSettings {
        directory: config.directory.clone(),
        allow_unsigned: config.allow_unsigned,
        trusted_keys,
        grants: config.grants.clone().into_iter().collect::<HashMap<_, _>>(),
        memory_limit_bytes: config.memory_limit_mib.saturating_mul(1024 * 1024),
        event_budget: Duration::from_millis(config.event_budget_ms),
        interceptor_budget: Duration::from_millis(config.interceptor_budget_ms),
        route_budget: Duration::from_millis(config.route_budget_ms),
        job_budget: Duration::from_millis(config.job_budget_ms),
        event_queue: config.event_queue,
        failure_budget: FailureBudget {
            max_failures: budget.max_failures.max(1),
            window: Duration::from_secs(budget.window_secs),
            backoff: Duration::from_secs(budget.backoff_secs),
            max_backoff: Duration::from_secs(budget.max_backoff_secs.max(budget.backoff_secs)),
        },
        watch: config.watch,
        compiled_cache: config.compiled_cache_dir(),
        reload_debounce: Duration::from_millis(100),
    })
}

/// Hands every domain event to the host, which queues it per subscribed plugin and returns at
/// once; the publisher never waits for a plugin.
fn feed(bus: &InProcessEventBus, host: Arc<dyn PluginHost>) {
    let mut events = bus.subscribe();
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => host.dispatch(&event),
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(
                        missed,
                        "plugin event feed fell behind; events were dropped for every plugin"
                    );
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}
