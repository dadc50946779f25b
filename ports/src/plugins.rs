//! Sandboxed extensions: what the rest of Arcana asks of a plugin host, and the key-value store
//! plugins keep their state in.
//!
//! The host runs untrusted code. Every method here is written so that a misbehaving plugin cannot
//! fail, block or slow the caller beyond a budget: events are queued, interceptors fail open
//! unless the plugin declared itself required, and a plugin that keeps failing is quarantined.

use arcana_domain::event::DomainEvent;
use arcana_domain::plugin::{PLUGIN_VALUE_MAX_BYTES, PluginKey, PluginName};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::StoreError;

/// Where a plugin is in its lifecycle, as an operator sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginState {
    /// Loaded, verified and called.
    Enabled,
    /// Loaded but switched off by an operator; not called.
    Disabled,
    /// Trapped or timed out too often; not called until its backoff ends (`quarantined_until`),
    /// then on probation.
    Quarantined,
    /// A module in the plugin directory that could not be loaded (bad signature, not a component,
    /// `describe` failed) and no earlier version is running; `last_error` says why.
    Rejected,
}

impl PluginState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "enabled",
            Self::Disabled => "disabled",
            Self::Quarantined => "quarantined",
            Self::Rejected => "rejected",
        }
    }
}

/// Counters since the plugin version was loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PluginCounters {
    pub calls: u64,
    /// Calls that did not return normally, whatever the reason (includes `timeouts` and `traps`).
    pub failures: u64,
    pub timeouts: u64,
    pub traps: u64,
    /// Events not delivered because the plugin's queue was full or it was not running.
    pub dropped_events: u64,
    /// Median and 99th percentile of call latency, in microseconds (0 before the first call).
    pub latency_p50_us: u64,
    pub latency_p99_us: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginInfo {
    pub name: PluginName,
    /// What the plugin's `describe` said; empty for a rejected module.
    pub version: String,
    pub state: PluginState,
    /// Hex SHA-256 of the module bytes running (or rejected).
    pub sha256: String,
    /// Event patterns the plugin subscribed to (`user.*`).
    pub subscriptions: Vec<String>,
    /// Whether the plugin serves routes under `/api/v1/ext/{name}/`.
    pub routes: bool,
    /// Whether the plugin intercepts HTTP requests.
    pub interceptor: bool,
    pub counters: PluginCounters,
    pub last_error: Option<String>,
    pub quarantined_until: Option<DateTime<Utc>>,
    pub loaded_at: Option<DateTime<Utc>>,
}

/// The parts of an HTTP request a plugin is shown. Header names are lowercase; the
/// `authorization` and `cookie` headers are never included.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpHead {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
}

/// A change an interceptor asks for on request or response headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderOp {
    Set { name: String, value: String },
    Remove { name: String },
}

/// An answer produced by a plugin, either by its route or by an interceptor short-cutting the
/// request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PluginResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What the interceptors decided before a request reaches its handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BeforeRequest {
    /// Go on, after applying these operations to the request headers (possibly none).
    Continue(Vec<HeaderOp>),
    /// Answer with this instead of calling the handler.
    Respond(PluginResponse),
}

/// A request to a plugin's own route; `path` is what follows `/api/v1/ext/{name}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteRequest {
    pub head: HttpHead,
    pub body: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("no plugin named {0}")]
    NotFound(String),
    /// The module (or its signature) was refused; nothing changed.
    #[error("plugin refused: {0}")]
    Rejected(String),
    /// The plugin exists but is not being called (disabled or quarantined), or a required
    /// interceptor could not run.
    #[error("plugin {0} is not available")]
    Unavailable(String),
    /// The plugin ran but failed (trap, timeout, memory limit, malformed answer).
    #[error("plugin {name} failed: {reason}")]
    Failed { name: String, reason: String },
    /// The host itself could not be reached (in the layered modes it runs on the service tier),
    /// or reports a dependency of its own unavailable. Retrying later may succeed.
    #[error("the plugin host is unreachable")]
    HostUnreachable(#[source] anyhow::Error),
    #[error("plugin host failure")]
    Internal(#[source] anyhow::Error),
}

/// Why one attempt of a plugin's job failed; the job's retry policy decides what follows.
#[derive(Debug, thiserror::Error)]
pub enum PluginJobError {
    /// Another attempt may succeed (the plugin said so, trapped, ran out of time, or is
    /// quarantined or disabled at the moment).
    #[error("{0}")]
    Retry(String),
    /// Retrying cannot help.
    #[error("{0}")]
    Fatal(String),
}

/// What the public HTTP listener asks of plugins on the request path: its interceptors and
/// the routes under `/api/v1/ext`. Split from [`PluginHost`] because in the layered modes the
/// controller, which serves HTTP, reaches the host that runs on the service tier through this
/// and nothing else.
#[async_trait]
pub trait PluginRequests: Send + Sync {
    /// Whether any running plugin intercepts HTTP requests, so the middleware can skip building
    /// an [`HttpHead`] for every request when none does.
    fn intercepts(&self) -> bool;

    /// Whether a running interceptor declared itself required: a caller that cannot reach the
    /// host must then refuse requests rather than go on without it.
    fn requires_interception(&self) -> bool;

    /// Runs the `before` interceptors in their declared order.
    ///
    /// # Errors
    /// [`PluginError::Unavailable`] only when an interceptor that declared itself required
    /// failed or is quarantined; a fail-open interceptor's failure is counted and skipped.
    async fn before_request(&self, head: &HttpHead) -> Result<BeforeRequest, PluginError>;

    /// Runs the `after` interceptors in their declared order and returns the header operations
    /// to apply to the response. Failures are counted and skipped (the response is already
    /// decided).
    async fn after_response(&self, head: &HttpHead, status: u16) -> Vec<HeaderOp>;

    /// Serves a request to `/api/v1/ext/{name}/…`.
    ///
    /// # Errors
    /// `NotFound` for an unknown plugin or one without routes, `Unavailable` when disabled or
    /// quarantined, `Failed` when the plugin trapped or ran past its budget. Not safe to retry:
    /// the plugin may have acted before it failed.
    async fn handle_route(
        &self,
        name: &PluginName,
        request: RouteRequest,
    ) -> Result<PluginResponse, PluginError>;
}

/// The host of sandboxed plugins.
#[async_trait]
pub trait PluginHost: PluginRequests {
    /// Queues `event` for every enabled plugin subscribed to it and returns at once. A full queue
    /// drops the event for that plugin and counts it; this never fails or waits.
    fn dispatch(&self, event: &DomainEvent);

    /// Whether a loaded plugin declares the job `name` (`<plugin>.<kind>`), so a worker can
    /// take it instead of dead-lettering it as unknown.
    fn runs_job(&self, name: &str) -> bool;

    /// Runs one attempt of job `name` with its JSON `payload`.
    ///
    /// # Errors
    /// `Fatal` when no plugin declares the job or the plugin says retrying cannot help; `Retry`
    /// for everything else. Delivery is at least once, as for every job.
    async fn run_job(&self, name: &str, payload: &[u8]) -> Result<(), PluginJobError>;

    async fn list(&self) -> Vec<PluginInfo>;

    /// # Errors
    /// `NotFound` for an unknown plugin. Enabling a quarantined plugin lifts the quarantine.
    async fn set_enabled(
        &self,
        name: &PluginName,
        enabled: bool,
    ) -> Result<PluginInfo, PluginError>;

    /// Verifies, compiles and describes `module`, then stores it (and its signature) in the
    /// plugin directory and runs it, replacing an earlier version once in-flight calls end.
    ///
    /// # Errors
    /// `Rejected` when the signature is missing or wrong, the module is not a valid component,
    /// or its `describe` names another plugin; nothing changes then.
    async fn install(
        &self,
        name: &PluginName,
        module: Vec<u8>,
        signature: Option<Vec<u8>>,
    ) -> Result<PluginInfo, PluginError>;

    /// Stops calling the plugin and deletes its files.
    ///
    /// # Errors
    /// `NotFound` for an unknown plugin.
    async fn remove(&self, name: &PluginName) -> Result<(), PluginError>;
}

/// Durable key-value state of plugins, in the deployment's storage so that it survives restarts
/// and is shared by every process. Each plugin sees only its own keys: the same key under two
/// plugin names is two entries.
///
/// Keys order by their bytes (UTF-8, so by code point) on every adapter, and a prefix is matched
/// literally: `%`, `_` and `\` in it are ordinary characters.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait PluginKv: Send + Sync {
    /// The value stored under `key`, byte for byte; `None` when there is none.
    ///
    /// # Errors
    /// `Unavailable` when the storage cannot be reached. Safe to retry.
    async fn get(
        &self,
        plugin: &PluginName,
        key: &PluginKey,
    ) -> Result<Option<Vec<u8>>, StoreError>;

    /// Stores `value` (any bytes, at most [`PLUGIN_VALUE_MAX_BYTES`]), replacing any earlier
    /// value.
    ///
    /// # Errors
    /// `TooLarge` when `value` is longer than [`PLUGIN_VALUE_MAX_BYTES`]: checked before the
    /// storage is touched, so the earlier value (if any) stays. `Unavailable` when the storage
    /// cannot be reached. Safe to retry (last write wins).
    async fn put(
        &self,
        plugin: &PluginName,
        key: &PluginKey,
        value: &[u8],
    ) -> Result<(), StoreError>;

    /// Removes the key; `false` when it did not exist.
    ///
    /// # Errors
    /// `Unavailable` when the storage cannot be reached. Not retried by the resilience guard:
    /// the key is gone either way, but a repeat after an unknown outcome would answer `false`.
    async fn delete(&self, plugin: &PluginName, key: &PluginKey) -> Result<bool, StoreError>;

    /// Keys starting with `prefix` (all keys for `""`), in byte order, at most `limit`.
    ///
    /// # Errors
    /// `Unavailable` when the storage cannot be reached. Safe to retry.
    async fn keys(
        &self,
        plugin: &PluginName,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<PluginKey>, StoreError>;
}

/// The check every [`PluginKv`] adapter makes before touching its storage.
///
/// # Errors
/// `TooLarge` when `value` is longer than [`PLUGIN_VALUE_MAX_BYTES`].
pub fn check_value_size(value: &[u8]) -> Result<(), StoreError> {
    if value.len() > PLUGIN_VALUE_MAX_BYTES {
        return Err(StoreError::TooLarge);
    }
    Ok(())
}
