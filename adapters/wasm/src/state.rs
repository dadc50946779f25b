//! What one plugin instance's store carries: the host functions' dependencies, its WASI context
//! (deny-all unless granted), its memory limiter and the deadline of the call in progress.

use std::sync::Arc;
use std::time::Instant;

use arcana_domain::audit::AuditEntry;
use arcana_domain::event::{DomainEvent, EventKind, Subject};
use arcana_domain::plugin::{PLUGIN_VALUE_MAX_BYTES, PluginKey, PluginName};
use arcana_ports::audit::AuditLog;
use arcana_ports::plugins::PluginKv;
use wasmtime::component::ResourceTable;
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::arcana::plugin::{audit, clock, kv, log, metrics, types};
use crate::grants::Grants;
use crate::output::OutputTail;
use crate::telemetry::PluginMetrics;

/// The most keys one `keys` call returns.
const KEYS_LIMIT: usize = 1_000;

/// Shared by every instance of every plugin.
#[derive(Clone)]
pub struct HostServices {
    pub kv: Arc<dyn PluginKv>,
    pub audit: Arc<dyn AuditLog>,
    pub metrics: Arc<PluginMetrics>,
}

pub struct InstanceState {
    plugin: PluginName,
    services: HostServices,
    wasi: WasiCtx,
    table: ResourceTable,
    /// The end of what the guest printed, to explain a trap.
    pub(crate) output: OutputTail,
    pub(crate) limits: StoreLimits,
    /// When the call in progress must stop; checked at every epoch tick.
    pub(crate) deadline: Instant,
    /// Set by the epoch callback when it stops a call, so the caller can tell a timeout from a
    /// trap.
    pub(crate) timed_out: bool,
}

impl InstanceState {
    pub fn new(
        plugin: PluginName,
        services: HostServices,
        grants: &Grants,
        memory_limit: usize,
    ) -> Self {
        let output = OutputTail::default();
        Self {
            plugin,
            services,
            wasi: grants.wasi_context(&output),
            output,
            table: ResourceTable::new(),
            limits: StoreLimitsBuilder::new()
                .memory_size(memory_limit)
                .trap_on_grow_failure(true)
                .instances(64)
                .build(),
            deadline: Instant::now(),
            timed_out: false,
        }
    }

    fn key(raw: &str) -> Result<PluginKey, String> {
        PluginKey::parse(raw).map_err(|err| err.message)
    }
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for InstanceState {}

impl log::Host for InstanceState {
    fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        let plugin = self.plugin.as_str();
        // Capped so a plugin cannot flood the log with one call.
        let message: String = message.chars().take(2_048).collect();
        match level {
            log::Level::Trace => tracing::trace!(plugin, "{message}"),
            log::Level::Debug => tracing::debug!(plugin, "{message}"),
            log::Level::Info => tracing::info!(plugin, "{message}"),
            log::Level::Warn => tracing::warn!(plugin, "{message}"),
            log::Level::Error => tracing::error!(plugin, "{message}"),
        }
        Ok(())
    }
}

impl kv::Host for InstanceState {
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, String> {
        let key = Self::key(&key)?;
        self.services
            .kv
            .get(&self.plugin, &key)
            .await
            .map_err(|err| err.to_string())
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), String> {
        let key = Self::key(&key)?;
        if value.len() > PLUGIN_VALUE_MAX_BYTES {
            return Err(format!(
                "values are limited to {PLUGIN_VALUE_MAX_BYTES} bytes"
            ));
        }
        self.services
            .kv
            .put(&self.plugin, &key, &value)
            .await
            .map_err(|err| err.to_string())
    }

    async fn delete(&mut self, key: String) -> Result<bool, String> {
        let key = Self::key(&key)?;
        self.services
            .kv
            .delete(&self.plugin, &key)
            .await
            .map_err(|err| err.to_string())
    }

    async fn keys(&mut self, prefix: String) -> Result<Vec<String>, String> {
        let keys = self
            .services
            .kv
            .keys(&self.plugin, &prefix, KEYS_LIMIT)
            .await
            .map_err(|err| err.to_string())?;
        Ok(keys
            .into_iter()
            .map(|key| key.as_str().to_owned())
            .collect())
    }
}

impl audit::Host for InstanceState {
    async fn append(&mut self, detail: String) -> Result<(), String> {
        let detail: String = detail.chars().take(1_024).collect();
        let event = DomainEvent::new(
            EventKind::PluginRecorded,
            None,
            Subject::Plugin(self.plugin.clone()),
            chrono::Utc::now(),
        )
        .with_detail(detail);
        self.services
            .audit
            .append(&AuditEntry::from_event(&event, None))
            .await
            .map_err(|err| err.to_string())
    }
}

impl metrics::Host for InstanceState {
    fn counter_add(
        &mut self,
        name: String,
        value: u64,
        labels: Vec<(String, String)>,
    ) -> wasmtime::Result<()> {
        self.services
            .metrics
            .plugin_counter_add(&self.plugin, &name, value, &labels);
        Ok(())
    }
}

impl clock::Host for InstanceState {
    fn now_ms(&mut self) -> wasmtime::Result<u64> {
        Ok(u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0))
    }
}
