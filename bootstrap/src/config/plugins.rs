//! `plugins.*`: the WebAssembly plugin host.

use std::collections::HashMap;
use std::path::PathBuf;

use arcana_adapter_wasm::signature::TrustedKey;
use serde::{Deserialize, Serialize};

use super::Environment;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PluginSettings {
    pub(crate) enabled: bool,
    pub(crate) directory: PathBuf,
    pub(crate) allow_unsigned: bool,
    /// One-line contents of `.pub` files (`ed25519:<base64>`).
    pub(crate) trusted_keys: Vec<String>,
    pub(crate) watch: bool,
    /// Compiled modules kept across restarts; relative to `directory` unless absolute, empty
    /// for none.
    pub(crate) compiled_cache: PathBuf,
    pub(crate) memory_limit_mib: usize,
    pub(crate) event_budget_ms: u64,
    pub(crate) interceptor_budget_ms: u64,
    pub(crate) route_budget_ms: u64,
    pub(crate) job_budget_ms: u64,
    pub(crate) event_queue: usize,
    pub(crate) failure_budget: FailureBudgetSettings,
    /// Capabilities granted per plugin name, e.g. `audit = ["env:TZ"]`.
    pub(crate) grants: HashMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FailureBudgetSettings {
    pub(crate) max_failures: usize,
    pub(crate) window_secs: u64,
    pub(crate) backoff_secs: u64,
    pub(crate) max_backoff_secs: u64,
}

impl PluginSettings {
    pub(crate) fn compiled_cache_dir(&self) -> Option<PathBuf> {
        (!self.compiled_cache.as_os_str().is_empty())
            .then(|| self.directory.join(&self.compiled_cache))
    }
}

/// Keys must parse, limits must be usable, and unsigned plugins are never allowed in production.
pub(super) fn check(plugins: &PluginSettings, environment: Environment, errors: &mut Vec<String>) {
    for (i, key) in plugins.trusted_keys.iter().enumerate() {
        if let Err(err) = TrustedKey::parse(key) {
            errors.push(format!("plugins.trusted_keys[{i}]: {err}"));
        }
    }
    if plugins.allow_unsigned && environment == Environment::Production {
        errors.push("plugins.allow_unsigned: not allowed in production".into());
    }
    let positive = [
        ("memory_limit_mib", plugins.memory_limit_mib as u64),
        ("event_budget_ms", plugins.event_budget_ms),
        ("interceptor_budget_ms", plugins.interceptor_budget_ms),
        ("route_budget_ms", plugins.route_budget_ms),
        ("job_budget_ms", plugins.job_budget_ms),
        ("event_queue", plugins.event_queue as u64),
        (
            "failure_budget.max_failures",
            plugins.failure_budget.max_failures as u64,
        ),
    ];
    for (key, value) in positive {
        if value == 0 {
            errors.push(format!("plugins.{key}: must be positive"));
        }
    }
    if plugins.memory_limit_mib > 4_096 {
        errors.push("plugins.memory_limit_mib: at most 4096".into());
    }
}
