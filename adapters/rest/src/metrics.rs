//! HTTP metrics (request counts and latency by route) and the `/metrics` endpoint.

use std::fmt;
use std::time::Duration;

use anyhow::Context;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, TextEncoder,
};

use crate::problem::ApiError;
use crate::state::AppState;

/// Collectors for every HTTP request served.
///
/// Labels use the *matched route template* (`/api/v1/users/{id}`), never the raw path, and
/// `unmatched` for the fallback, so that scanning random URLs cannot blow up label cardinality.
#[derive(Clone)]
pub struct HttpMetrics {
    requests: IntCounterVec,
    duration: HistogramVec,
    /// `arcana_rate_limited_total{class}`: requests refused with 429 by an inbound limit.
    pub(crate) limited: IntCounterVec,
    /// `arcana_shed_requests_total`: requests refused with 503 past `max_in_flight`.
    pub(crate) shed: IntCounter,
    /// `arcana_http_requests_in_flight` (probes and metrics excluded), kept when shedding is on.
    pub(crate) in_flight: IntGauge,
}

impl fmt::Debug for HttpMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpMetrics").finish_non_exhaustive()
    }
}

impl HttpMetrics {
    /// Creates `http_requests_total{method,route,status}` and
    /// `http_request_duration_seconds{method,route}` and registers both with `registry`.
    pub fn register(registry: &prometheus::Registry) -> anyhow::Result<Self> {
        let requests = registered(
            registry,
            "http_requests_total",
            IntCounterVec::new(
                Opts::new(
                    "http_requests_total",
                    "HTTP requests served, by method, route and status.",
                ),
                &["method", "route", "status"],
            ),
        )?;
        let duration = registered(
            registry,
            "http_request_duration_seconds",
            HistogramVec::new(
                HistogramOpts::new(
                    "http_request_duration_seconds",
                    "Time from receiving an HTTP request to producing its response head.",
                ),
                &["method", "route"],
            ),
        )?;
        let limited = registered(
            registry,
            "arcana_rate_limited_total",
            IntCounterVec::new(
                Opts::new(
                    "arcana_rate_limited_total",
                    "Requests refused with 429 by an inbound rate limit, by class.",
                ),
                &["class"],
            ),
        )?;
        let shed = registered(
            registry,
            "arcana_shed_requests_total",
            IntCounter::new(
                "arcana_shed_requests_total",
                "Requests refused with 503 because too many were in flight.",
            ),
        )?;
        let in_flight = registered(
            registry,
            "arcana_http_requests_in_flight",
            IntGauge::new(
                "arcana_http_requests_in_flight",
                "REST requests being served (probes and metrics excluded), when shedding is on.",
            ),
        )?;
        Ok(Self {
            requests,
            duration,
            limited,
            shed,
            in_flight,
        })
    }

    pub(crate) fn observe(&self, method: &Method, route: &str, status: StatusCode, took: Duration) {
        let method = method_label(method);
        self.requests
            .with_label_values(&[method, route, status.as_str()])
            .inc();
        self.duration
            .with_label_values(&[method, route])
            .observe(took.as_secs_f64());
    }
}

/// Extension methods are folded into one label value, for the same cardinality reason as routes.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Prometheus text exposition of the whole process registry.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "health",
    responses(
        (status = 200, description = "Prometheus text format", body = String,
            content_type = "text/plain; version=0.0.4"),
        (status = 500, response = crate::openapi::InternalError),
    )
)]
pub(crate) async fn render(State(state): State<AppState>) -> Result<Response, ApiError> {
    exposition(&state.registry)
}

/// `registry` in the Prometheus text format.
pub(crate) fn exposition(registry: &prometheus::Registry) -> Result<Response, ApiError> {
    let encoder = TextEncoder::new();
    let mut body = Vec::with_capacity(16 * 1024);
    encoder
        .encode(&registry.gather(), &mut body)
        .context("encoding metrics")
        .map_err(ApiError::internal)?;
    let content_type = HeaderValue::from_static(prometheus::TEXT_FORMAT);
    Ok(([(CONTENT_TYPE, content_type)], body).into_response())
}

/// A metric created and registered, or why not (named: prometheus errors do not say which).
fn registered<C>(
    registry: &prometheus::Registry,
    name: &str,
    created: prometheus::Result<C>,
) -> anyhow::Result<C>
where
    C: prometheus::core::Collector + Clone + 'static,
{
    let metric = created.with_context(|| format!("creating {name}"))?;
    registry
        .register(Box::new(metric.clone()))
        .with_context(|| format!("registering {name}"))?;
    Ok(metric)
}
