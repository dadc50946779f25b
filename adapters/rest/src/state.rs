//! What the REST adapter is built from (public), and the shared state its handlers see.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use arcana_ports::health::HealthCheck;
use arcana_ports::plugins::PluginRequests;
use arcana_ports::usecases::{
    AuditUseCases, AuthUseCases, JobsUseCases, PluginUseCases, UserUseCases,
};

use arcana_ports::ratelimit::RateLimiter;

use crate::limits::Limits;
use crate::metrics::HttpMetrics;

/// The driving ports the API calls, plus what it reports on.
pub struct RestState {
    /// Sign-up, sign-in, tokens, the caller's own sessions.
    pub auth: Arc<dyn AuthUseCases>,
    /// User management under the rank rule.
    pub users: Arc<dyn UserUseCases>,
    /// Reading the audit log.
    pub audit: Arc<dyn AuditUseCases>,
    /// Operating the job queue; `None` where the deployment does not offer it, and then the
    /// `/api/v1/jobs` routes are neither served nor documented.
    pub jobs: Option<Arc<dyn JobsUseCases>>,
    /// The plugin host and its administration; `None` where plugins are off, and then
    /// `/api/v1/plugins` and `/api/v1/ext` are neither served nor documented.
    pub plugins: Option<PluginsApi>,
    /// Every dependency `/health/ready` must vouch for; all run concurrently on each probe.
    pub health: Vec<Arc<dyn HealthCheck>>,
    /// HTTP request counters and latency histograms, already registered.
    pub metrics: HttpMetrics,
    /// Inbound rate limits (per address, per route class, per user); `None` switches them off.
    pub limiter: Option<Arc<dyn RateLimiter>>,
}

/// What the REST adapter needs of plugins: the host (its routes and interceptors) and the
/// admin use cases.
#[derive(Clone)]
pub struct PluginsApi {
    pub host: Arc<dyn PluginRequests>,
    pub admin: Arc<dyn PluginUseCases>,
}

/// Operator-tunable behaviour of the HTTP layer.
#[derive(Debug, Clone)]
pub struct RestConfig {
    /// Largest accepted request body; bigger ones get 413 before any JSON is parsed.
    pub body_limit_bytes: usize,
    /// A request that has not produced a response by then gets 503.
    pub request_timeout: Duration,
    /// Origins browsers may call the API from. Empty: no CORS headers at all (same-origin only).
    pub cors_allowed_origins: Vec<String>,
    /// Serve `/api-docs/openapi.json` and `/swagger-ui`.
    pub openapi_enabled: bool,
    /// Take the client address from the first `X-Forwarded-For` hop. Only safe behind a proxy
    /// that sets the header itself, otherwise clients could pick the address throttling sees.
    pub trust_forwarded_for: bool,
    /// Slots of requests served at once (shared with the gRPC listener); past them, 503 at once
    /// (load shedding). `None`: no bound.
    pub in_flight: Option<Arc<tokio::sync::Semaphore>>,
}

/// State shared by every handler; one `Arc` so that axum's per-request clone is a counter bump.
#[derive(Clone)]
pub(crate) struct AppState(Arc<Shared>);

pub(crate) struct Shared {
    pub(crate) ports: RestState,
    /// Rendered by `/metrics`.
    pub(crate) registry: prometheus::Registry,
    pub(crate) trust_forwarded_for: bool,
    /// What the per-user limit of the bearer extractor counts against.
    pub(crate) limits: Option<Limits>,
}

impl AppState {
    pub(crate) fn new(
        ports: RestState,
        registry: prometheus::Registry,
        trust_forwarded_for: bool,
    ) -> Self {
        let limits = ports.limiter.clone().map(|limiter| {
            Limits::new(limiter, trust_forwarded_for, ports.metrics.limited.clone())
        });
        Self(Arc::new(Shared {
            ports,
            registry,
            trust_forwarded_for,
            limits,
        }))
    }
}

impl Shared {
    /// The job admin port. Its routes are mounted only when it exists, so the refusal here is
    /// a second line, never the usual path.
    pub(crate) fn jobs(&self) -> Result<&dyn JobsUseCases, crate::problem::ApiError> {
        self.ports
            .jobs
            .as_deref()
            .ok_or_else(|| crate::problem::ApiError::not_found("No resource at this path."))
    }

    /// The plugin ports; mounted only when they exist, like [`Self::jobs`].
    pub(crate) fn plugins(&self) -> Result<&PluginsApi, crate::problem::ApiError> {
        self.ports
            .plugins
            .as_ref()
            .ok_or_else(|| crate::problem::ApiError::not_found("No resource at this path."))
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
