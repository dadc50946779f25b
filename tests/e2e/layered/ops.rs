//! The operations listener of the internal tiers: what a kubelet and Prometheus reach without
//! the internal client certificate, and nothing more.

use std::time::Duration;

use arcana_tests::layered::Transport as Link;
use serde_json::Value;

use crate::{eventually, stack};

async fn get(url: &str) -> (u16, String) {
    let reply = reqwest::get(url)
        .await
        .expect("the operations listener answers");
    let status = reply.status().as_u16();
    (status, reply.text().await.unwrap_or_default())
}

#[tokio::test]
async fn internal_tiers_answer_probes_and_metrics_in_plain_http_and_nothing_else() {
    let fast = [("ARCANA_SERVER__INTERNAL__HEALTH_POLL_INTERVAL_MS", "200")];
    let (mut stack, _file) = stack(Link::Grpc, &fast).await;
    for tier in [&stack.service, &stack.repository] {
        let ops = &tier.ops_url;
        assert_eq!(get(&format!("{ops}/health/live")).await.0, 200);
        let (status, ready) = get(&format!("{ops}/health/ready")).await;
        assert_eq!(status, 200, "{ready}");
        let ready: Value = serde_json::from_str(&ready).expect("a JSON readiness report");
        assert_eq!(ready["status"], "ready");
        let (status, metrics) = get(&format!("{ops}/metrics")).await;
        assert_eq!(status, 200);
        assert!(
            metrics.contains("arcana_circuit_breaker_state"),
            "the breaker of the next dependency is exported:\n{metrics}"
        );
        // No use case, no internal RPC: only the three paths.
        for path in [
            "/api/v1/auth/me",
            "/arcana.internal.v1.Storage/GetUser",
            "/",
        ] {
            assert_eq!(get(&format!("{ops}{path}")).await.0, 404, "{path}");
        }
    }
    let (_, repository_ready) = get(&format!("{}/health/ready", stack.repository.ops_url)).await;
    assert!(repository_ready.contains("database"), "{repository_ready}");

    stack.kill_repository().await;
    let service_ops = stack.service.ops_url.clone();
    eventually(
        Duration::from_secs(15),
        "the service tier's readiness follows its repository",
        || async {
            let (status, report) = get(&format!("{service_ops}/health/ready")).await;
            status == 503 && report.contains("repository")
        },
    )
    .await;
    // Liveness never depends on another tier.
    assert_eq!(get(&format!("{service_ops}/health/live")).await.0, 200);
}
