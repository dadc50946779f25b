//! Plugin administration shapes of `/api/v1/plugins`.

use arcana_ports::plugins::PluginInfo;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::timestamp;

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PluginCounters)]
pub(crate) struct PluginCountersDto {
    calls: u64,
    failures: u64,
    timeouts: u64,
    traps: u64,
    dropped_events: u64,
    latency_p50_us: u64,
    latency_p99_us: u64,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Plugin)]
pub(crate) struct PluginDto {
    name: String,
    version: String,
    /// `enabled | disabled | quarantined | rejected`
    state: &'static str,
    /// Hex SHA-256 of the module.
    sha256: String,
    subscriptions: Vec<String>,
    routes: bool,
    interceptor: bool,
    counters: PluginCountersDto,
    last_error: Option<String>,
    quarantined_until: Option<String>,
    loaded_at: Option<String>,
}

impl From<PluginInfo> for PluginDto {
    fn from(info: PluginInfo) -> Self {
        let c = info.counters;
        Self {
            name: info.name.to_string(),
            version: info.version,
            state: info.state.as_str(),
            sha256: info.sha256,
            subscriptions: info.subscriptions,
            routes: info.routes,
            interceptor: info.interceptor,
            counters: PluginCountersDto {
                calls: c.calls,
                failures: c.failures,
                timeouts: c.timeouts,
                traps: c.traps,
                dropped_events: c.dropped_events,
                latency_p50_us: c.latency_p50_us,
                latency_p99_us: c.latency_p99_us,
            },
            last_error: info.last_error,
            quarantined_until: info.quarantined_until.map(timestamp),
            loaded_at: info.loaded_at.map(timestamp),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PluginList)]
pub(crate) struct PluginListDto {
    pub(crate) items: Vec<PluginDto>,
}

/// An upload: the module and its detached signature (the content of `NAME.wasm.sig`).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = PluginUpload)]
#[serde(deny_unknown_fields)]
pub(crate) struct PluginUploadDto {
    /// The `.wasm` component, base64 (standard alphabet, padded).
    pub(crate) module_base64: String,
    /// `ed25519:<base64>`; may be omitted only where `plugins.allow_unsigned = true`.
    #[serde(default)]
    pub(crate) signature: Option<String>,
}
