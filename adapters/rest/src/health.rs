//! Liveness and readiness probes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use arcana_ports::health::{Health, HealthCheck};
use arcana_ports::resilience::BreakerState;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::header::HeaderValue;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio::task::JoinSet;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::problem::KeepBody;
use crate::state::AppState;

/// Backstop for a check that ignores its own timeout. Kubernetes probes should allow more
/// than this (`timeoutSeconds: 3`), so a slow dependency reads as "down", not as a failed probe.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(live))
        .routes(routes!(ready))
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Alive {
    /// Always `ok`.
    status: &'static str,
}

/// Static, so the probe that load balancers hammer allocates nothing and touches no dependency.
const OK_BODY: &str = r#"{"status":"ok"}"#;

/// Room for every header the edge adds (security headers, request id), so the map is allocated
/// once instead of growing and rehashing halfway through the response (a tenth of a probe's
/// instructions, callgrind said).
const PROBE_HEADERS: usize = 12;

fn ok() -> Response {
    let mut headers = HeaderMap::with_capacity(PROBE_HEADERS);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let mut response = Response::new(Body::from(OK_BODY));
    *response.headers_mut() = headers;
    response
}

/// The process is up and serving. Checks no dependency.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, description = "Serving", body = Alive)))]
async fn health() -> Response {
    ok()
}

/// Liveness probe: restart the process only if this fails. Checks no dependency.
#[utoipa::path(get, path = "/health/live", tag = "health",
    responses((status = 200, description = "Alive", body = Alive)))]
pub(crate) async fn live() -> Response {
    ok()
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Readiness {
    /// `ready` or `not_ready`.
    status: &'static str,
    /// One entry per dependency, by name (`database`, `sessions` …).
    checks: BTreeMap<&'static str, Report>,
}

/// A dependency's check, and the state of the circuit breaker in front of it.
#[derive(Serialize, ToSchema)]
pub(crate) struct Report {
    #[serde(flatten)]
    check: Check,
    /// `closed`, `open` or `half_open`; absent when no breaker guards the dependency. An open
    /// breaker answers calls with 503 at once until its open period ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "closed")]
    breaker: Option<&'static str>,
}

#[derive(Serialize, ToSchema)]
#[serde(tag = "status", rename_all = "lowercase")]
pub(crate) enum Check {
    /// Usable; `detail` names the backend.
    Up { detail: String },
    /// Not usable; `reason` is safe to show operators.
    Down { reason: String },
    /// Not usable, but not required either (a cache): requests fall back to the source of
    /// truth, slower. Does not make the process unready.
    Degraded { reason: String },
}

/// Readiness probe: every configured dependency is checked concurrently; 503 if a required one
/// is down, so traffic is routed elsewhere until it recovers. An optional dependency that is
/// down (the cache) is reported as `degraded` and keeps the process ready.
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses(
        (status = 200, description = "Every required dependency is up", body = Readiness),
        (status = 503, description = "A required dependency is down", body = Readiness),
    ))]
async fn ready(State(state): State<AppState>) -> Response {
    readiness(&state.ports.health).await
}

/// The readiness answer over `checks`, shared by the public listener and the operations one.
pub(crate) async fn readiness(checks: &[Arc<dyn HealthCheck>]) -> Response {
    let checks = run_checks(checks).await;
    let all_up = checks
        .values()
        .all(|report| !matches!(report.check, Check::Down { .. }));
    let (status, word) = if all_up {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not_ready")
    };
    let mut response = (
        status,
        Json(Readiness {
            status: word,
            checks,
        }),
    )
        .into_response();
    // A deliberate JSON document, not an error to turn into a problem.
    response.extensions_mut().insert(KeepBody);
    response
}

async fn run_checks(checks: &[Arc<dyn HealthCheck>]) -> BTreeMap<&'static str, Report> {
    let mut running = JoinSet::new();
    for check in checks {
        let check = Arc::clone(check);
        running.spawn(async move {
            let outcome = tokio::time::timeout(CHECK_TIMEOUT, check.check()).await;
            (check.name(), check.required(), check.breaker(), outcome)
        });
    }
    let mut report: BTreeMap<&'static str, Report> = BTreeMap::new();
    while let Some(joined) = running.join_next().await {
        // A panicking check is reported below as missing, hence down.
        let Ok((name, required, breaker, outcome)) = joined else {
            continue;
        };
        let down = |reason| {
            if required {
                Check::Down { reason }
            } else {
                Check::Degraded { reason }
            }
        };
        let check = match outcome {
            Ok(Health::Up { detail }) => Check::Up { detail },
            Ok(Health::Down { reason }) => down(reason),
            Err(_) => down(format!("no answer within {CHECK_TIMEOUT:?}")),
        };
        let breaker = breaker.map(BreakerState::as_str);
        report.insert(name, Report { check, breaker });
    }
    for check in checks {
        report.entry(check.name()).or_insert_with(|| Report {
            check: Check::Down {
                reason: "the check failed".to_owned(),
            },
            breaker: check.breaker().map(BreakerState::as_str),
        });
    }
    report
}
