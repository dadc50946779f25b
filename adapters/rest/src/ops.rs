//! The operations listener of the processes that serve no public API (the service and
//! repository tiers, `arcana-worker`): liveness, readiness and metrics over plain HTTP, so that
//! a kubelet (whose probes cannot present a client certificate) and Prometheus can reach them.
//! It serves nothing else: no use case is reachable through it.

use std::sync::Arc;

use arcana_ports::health::HealthCheck;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::{health, metrics};

#[derive(Clone)]
struct Ops {
    health: Arc<[Arc<dyn HealthCheck>]>,
    registry: prometheus::Registry,
}

/// `/health/live` (no dependency checked), `/health/ready` (the same document as the public
/// listener's, over `health`) and `/metrics` (`registry`); 404 for anything else.
pub fn ops_router(health: Vec<Arc<dyn HealthCheck>>, registry: prometheus::Registry) -> Router {
    let state = Ops {
        health: health.into(),
        registry,
    };
    Router::new()
        .route("/health/live", get(health::live))
        .route("/health/ready", get(ready))
        .route("/metrics", get(render))
        .with_state(state)
}

async fn ready(State(ops): State<Ops>) -> Response {
    health::readiness(&ops.health).await
}

async fn render(State(ops): State<Ops>) -> Response {
    metrics::exposition(&ops.registry).into_response()
}
