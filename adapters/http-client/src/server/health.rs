//! The internal listener's probes, open without the credential: an orchestrator's kubelet and
//! the calling tier's readiness check hold no secret.

use std::sync::Arc;
use std::time::Duration;

use arcana_ports::health::{Health, HealthCheck};
use axum::Json;
use axum::extract::State;
use http::StatusCode;
use serde_json::{Value, json};

/// Backstop for a check that ignores its own timeout.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The process answers: no dependency is consulted, so a slow database never gets the process
/// restarted.
pub(super) async fn live() -> StatusCode {
    StatusCode::OK
}

/// 200 when every required dependency is up, 503 otherwise; the body names each check, so an
/// operator reading the controller's readiness sees which tier is down.
pub(super) async fn ready(
    State(checks): State<Arc<Vec<Arc<dyn HealthCheck>>>>,
) -> (StatusCode, Json<Value>) {
    let mut ready = true;
    let mut report = serde_json::Map::new();
    for check in checks.iter() {
        let health = tokio::time::timeout(CHECK_TIMEOUT, check.check())
            .await
            .unwrap_or_else(|_| Health::Down {
                reason: "the check timed out".into(),
            });
        let entry = match health {
            Health::Up { detail } => json!({ "status": "up", "detail": detail }),
            Health::Down { reason } => {
                ready &= !check.required();
                json!({ "status": "down", "reason": reason, "required": check.required() })
            }
        };
        report.insert(check.name().to_owned(), entry);
    }
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let overall = if ready { "up" } else { "down" };
    (status, Json(json!({ "status": overall, "checks": report })))
}
