//! How the operator configured the plugin host (`plugins.*`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::signature::TrustedKey;
use crate::supervisor::FailureBudget;

#[derive(Debug, Clone)]
pub struct HostSettings {
    /// Where `NAME.wasm` and `NAME.wasm.sig` live; watched for changes when `watch` is on.
    pub directory: PathBuf,
    /// Load modules without a signature (development only; logged loudly).
    pub allow_unsigned: bool,
    pub trusted_keys: Vec<TrustedKey>,
    /// Capabilities granted per plugin name; a plugin gets those it also asks for.
    pub grants: HashMap<String, Vec<String>>,
    /// Linear memory one instance may grow to.
    pub memory_limit_bytes: usize,
    pub event_budget: Duration,
    pub interceptor_budget: Duration,
    pub route_budget: Duration,
    pub job_budget: Duration,
    /// Events queued per plugin before new ones are dropped (and counted).
    pub event_queue: usize,
    pub failure_budget: FailureBudget,
    pub watch: bool,
    /// Where compiled modules are kept across restarts; `None` compiles every module at load.
    pub compiled_cache: Option<PathBuf>,
    /// Quiet time after the last file change before a reload, so a copy in progress is not
    /// loaded half-written.
    pub reload_debounce: Duration,
}

impl HostSettings {
    /// Settings for a directory, with the documented defaults.
    pub fn new(directory: impl Into<PathBuf>) -> Self {
        Self {
            directory: directory.into(),
            allow_unsigned: false,
            trusted_keys: Vec::new(),
            grants: HashMap::new(),
            memory_limit_bytes: 64 * 1024 * 1024,
            event_budget: Duration::from_millis(100),
            interceptor_budget: Duration::from_millis(5),
            route_budget: Duration::from_secs(1),
            job_budget: Duration::from_secs(30),
            event_queue: 1_024,
            failure_budget: FailureBudget::default(),
            watch: true,
            compiled_cache: None,
            reload_debounce: Duration::from_millis(100),
        }
    }
}
