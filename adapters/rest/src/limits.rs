//! Inbound protection: rate limits per client address, per route class and per user (with the
//! IETF `RateLimit` / `RateLimit-Policy` headers), and load shedding past a bound of requests
//! in flight.

use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use arcana_ports::ratelimit::{LimitClass, Quota, RateLimiter, Subject, Verdict};
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use prometheus::IntCounterVec;
use tokio::sync::Semaphore;

use crate::problem::ApiError;

const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// The authentication routes, limited by the stricter `auth` class: each costs a password
/// hash or a session rotation, and they are what credential stuffing hammers.
const AUTH_ROUTES: [&str; 3] = [
    "/api/v1/auth/login",
    "/api/v1/auth/register",
    "/api/v1/auth/refresh",
];

/// What the rate-limit middleware needs.
#[derive(Clone)]
pub(crate) struct Limits {
    pub(crate) limiter: Arc<dyn RateLimiter>,
    pub(crate) trust_forwarded_for: bool,
    /// `arcana_rate_limited_total{class}`.
    pub(crate) limited: IntCounterVec,
    /// The `RateLimit-Policy` value of every set of classes a request can be counted against
    /// (index: bit i set when `CLASSES[i]` was counted). Quotas are fixed for the process, so
    /// the header is written once, not per request.
    policies: Arc<[Option<HeaderValue>; 8]>,
}

impl Limits {
    pub(crate) fn new(
        limiter: Arc<dyn RateLimiter>,
        trust_forwarded_for: bool,
        rejections: IntCounterVec,
    ) -> Self {
        let by_mask = std::array::from_fn(|mask| {
            let mut policy = String::new();
            for (bit, class) in CLASSES.iter().enumerate() {
                if mask & (1 << bit) == 0 {
                    continue;
                }
                let quota = limiter.quota(*class);
                let per_second = u64::from(quota.per_second.max(1));
                let window = u64::from(quota.burst).div_ceil(per_second).max(1);
                let separator = if policy.is_empty() { "" } else { ", " };
                let _ = write!(
                    policy,
                    "{separator}\"{}\";q={};w={window}",
                    class.as_str(),
                    quota.burst
                );
            }
            (!policy.is_empty())
                .then(|| HeaderValue::try_from(policy).ok())
                .flatten()
        });
        Self {
            limiter,
            trust_forwarded_for,
            limited: rejections,
            policies: Arc::new(by_mask),
        }
    }
}

/// The order of the limits in the headers: the order they are counted in.
const CLASSES: [LimitClass; 3] = [LimitClass::PerIp, LimitClass::Auth, LimitClass::PerUser];

/// The limits a request was counted against, filled by the middleware and, once the caller is
/// authenticated, by the bearer extractor (per user); rendered into the response headers. One
/// slot per class (a request is counted at most once against each): no lock, no list.
#[derive(Clone, Default)]
pub(crate) struct Applied(Arc<[OnceLock<(Quota, Verdict)>; 3]>);

impl Applied {
    fn record(&self, class: LimitClass, quota: Quota, verdict: Verdict) {
        let slot = CLASSES.iter().position(|c| *c == class).unwrap_or(0);
        // A class counted twice keeps its first verdict, the one that decided.
        let _ = self.0[slot].set((quota, verdict));
    }

    fn counted(&self) -> impl Iterator<Item = (LimitClass, Quota, Verdict)> + '_ {
        CLASSES
            .iter()
            .zip(self.0.iter())
            .filter_map(|(class, slot)| slot.get().map(|(q, v)| (*class, *q, *v)))
    }
}

/// Counts one request of `subject` against `class`; `Err` is the 429 to answer with. A limiter
/// that cannot answer (Redis down) lets the request through: its outage must not become the
/// API's.
pub(crate) async fn count(
    limits: &Limits,
    applied: &Applied,
    class: LimitClass,
    subject: &Subject,
) -> Result<(), ApiError> {
    let quota = limits.limiter.quota(class);
    if quota.per_second == 0 {
        return Ok(());
    }
    let verdict = match limits.limiter.check(class, subject).await {
        Ok(verdict) => verdict,
        Err(err) => {
            // While the breaker is open every request would log the same outage again.
            if err.is_circuit_open() {
                tracing::debug!(
                    class = class.as_str(),
                    "rate limiter's breaker open; request let through"
                );
            } else {
                tracing::warn!(error = %err, class = class.as_str(), "rate limiter unavailable; request let through");
            }
            return Ok(());
        }
    };
    applied.record(class, quota, verdict);
    match verdict {
        Verdict::Allowed { .. } => Ok(()),
        Verdict::Limited { retry_after } => {
            limits.limited.with_label_values(&[class.as_str()]).inc();
            Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many requests. Wait before trying again.",
            )
            .retry_after(whole_seconds(retry_after)))
        }
    }
}

fn whole_seconds(duration: Duration) -> u64 {
    (duration.as_secs() + u64::from(duration.subsec_nanos() > 0)).max(1)
}

/// Per address on every API route, and per route class on the authentication routes; the
/// bearer extractor adds the per-user limit. Probes, metrics and documentation are not limited.
/// Counts an API request against the per-address limit (and the auth class on the
/// authentication routes). `None`: exempt (not under `/api/`, or a CORS preflight). Otherwise
/// the limits counted, to render into the response with [`headers`], and the 429 to answer
/// with if one refused; a request let through carries the [`Applied`] limits as an extension,
/// for the bearer extractor's per-user count.
pub(crate) async fn admit(
    limits: &Limits,
    request: &mut Request,
) -> Option<(Applied, Result<(), ApiError>)> {
    let path = request.uri().path();
    if !path.starts_with("/api/") || request.method() == Method::OPTIONS {
        return None;
    }
    let auth_route = request.method() == Method::POST && AUTH_ROUTES.contains(&path);
    let applied = Applied::default();
    let address = crate::extract::client_ip(
        request.headers(),
        request.extensions(),
        limits.trust_forwarded_for,
    );
    let mut verdict = Ok(());
    if let Some(address) = address {
        let subject = Subject::Address(address);
        verdict = count(limits, &applied, LimitClass::PerIp, &subject).await;
        if verdict.is_ok() && auth_route {
            verdict = count(limits, &applied, LimitClass::Auth, &subject).await;
        }
    }
    if verdict.is_ok() {
        request.extensions_mut().insert(applied.clone());
    }
    Some((applied, verdict))
}

/// `RateLimit-Policy: "per_ip";q=200;w=2` and `RateLimit: "per_ip";r=199;t=1` for each limit
/// the request was counted against (draft-ietf-httpapi-ratelimit-headers): `q` requests per
/// window of `w` seconds, `r` left now, full again in `t` seconds.
pub(crate) fn headers(limits: &Limits, applied: &Applied, response: &mut Response) {
    let mut mask = 0;
    let mut state = String::with_capacity(64);
    let mut numbers = itoa::Buffer::new();
    for (class, quota, verdict) in applied.counted() {
        let bit = CLASSES.iter().position(|c| *c == class).unwrap_or(0);
        mask |= 1 << bit;
        let per_second = u64::from(quota.per_second.max(1));
        let remaining = match verdict {
            Verdict::Allowed { remaining } => remaining,
            Verdict::Limited { .. } => 0,
        };
        let refill = u64::from(quota.burst.saturating_sub(remaining)).div_ceil(per_second);
        if !state.is_empty() {
            state.push_str(", ");
        }
        state.push('"');
        state.push_str(class.as_str());
        state.push_str("\";r=");
        state.push_str(numbers.format(remaining));
        state.push_str(";t=");
        state.push_str(numbers.format(refill));
    }
    let Some(policy) = limits.policies[mask].clone() else {
        return;
    };
    if let Ok(state) = HeaderValue::try_from(state) {
        let headers = response.headers_mut();
        headers.insert(RATELIMIT_POLICY, policy);
        headers.insert(RATELIMIT, state);
    }
}

/// Paths never shed: the probes (a shed liveness probe would get the process restarted exactly
/// when it is busiest) and the metrics that show the overload.
fn never_shed(path: &str) -> bool {
    path.starts_with("/health") || path == "/metrics"
}

/// Past `max_in_flight` requests being served, answers 503 at once instead of queueing them
/// into timeouts; requests within the bound are served as usual.
#[derive(Clone)]
pub(crate) struct Shedding {
    pub(crate) in_flight: Arc<Semaphore>,
    /// `arcana_shed_requests_total`.
    pub(crate) shed: prometheus::IntCounter,
    /// `arcana_http_requests_in_flight`: what the bound is compared with.
    pub(crate) gauge: prometheus::IntGauge,
}

/// Holds a slot and counts it in the gauge while the request runs.
pub(crate) struct Slot {
    _permit: tokio::sync::OwnedSemaphorePermit,
    gauge: prometheus::IntGauge,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.gauge.dec();
    }
}

impl Shedding {
    /// A slot for the request, held until its response is produced; `Err` is the 503 to answer
    /// with when every slot is taken. Probes and metrics are never shed (`Ok(None)`).
    pub(crate) fn admit(&self, path: &str) -> Result<Option<Slot>, Overloaded> {
        if never_shed(path) {
            return Ok(None);
        }
        let Ok(permit) = self.in_flight.clone().try_acquire_owned() else {
            self.shed.inc();
            return Err(Overloaded);
        };
        self.gauge.inc();
        Ok(Some(Slot {
            _permit: permit,
            gauge: self.gauge.clone(),
        }))
    }
}

/// The answer of a shed request.
pub(crate) struct Overloaded;

impl IntoResponse for Overloaded {
    fn into_response(self) -> Response {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "The server is at capacity. Retry shortly.",
        )
        .retry_after(1)
        .into_response()
    }
}
