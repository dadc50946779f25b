//! A tier that goes away: prompt 503s with Retry-After (never a hang or a 500), readiness that
//! says which tier is missing, recovery without restarting anything else, and no acknowledged
//! write lost across a restart.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use arcana_tests::layered::Transport as Link;
use serde_json::Value;

use crate::{PASSWORD, eventually, register_status, stack};

/// Quick checks, so that the test observes the outage and the recovery promptly.
const FAST: [(&str, &str); 2] = [
    ("ARCANA_TIERS__TIMEOUT_MS", "1000"),
    ("ARCANA_SERVER__INTERNAL__HEALTH_POLL_INTERVAL_MS", "200"),
];

async fn a_dead_repository_gives_503s_and_recovers_by_itself(link: Link) {
    let (mut stack, _file) = stack(link, &FAST).await;
    assert_eq!(register_status(&stack.controller, "before").await, 201);
    stack.kill_repository().await;

    let started = Instant::now();
    let body = serde_json::json!({"username": "during", "email": "during@example.com", "password": PASSWORD});
    let refused = stack
        .controller
        .post("/api/v1/auth/register", None, &body)
        .await;
    let took = started.elapsed();
    assert_eq!(refused.status(), 503);
    assert!(
        refused.headers().contains_key("retry-after"),
        "503 carries Retry-After"
    );
    // The configured bound is 1 s per hop; anything near the client's 30 s would be a hang.
    assert!(took < Duration::from_secs(10), "answered in {took:?}");
    let (_, problem) = arcana_tests::problem(refused).await;
    assert_eq!(problem["code"], "service_unavailable");

    let app = &stack.controller;
    eventually(
        Duration::from_secs(15),
        "readiness names the repository",
        || async {
            let ready = app.get("/health/ready", None).await;
            let status = ready.status();
            let report: Value = ready.json().await.unwrap_or_default();
            status == 503 && report.to_string().contains("repository")
        },
    )
    .await;

    stack.restart_repository().await;
    let app = &stack.controller;
    let mut attempt = 0;
    eventually(Duration::from_secs(20), "registration works again", || {
        attempt += 1;
        let name = format!("after{attempt}");
        async move { register_status(app, &name).await == 201 }
    })
    .await;
    eventually(Duration::from_secs(15), "ready again", || async {
        app.get("/health/ready", None).await.status() == 200
    })
    .await;
    app.login_ok("before", PASSWORD).await;
}

#[tokio::test]
async fn a_dead_repository_gives_503s_and_recovers_by_itself_over_grpc() {
    a_dead_repository_gives_503s_and_recovers_by_itself(Link::Grpc).await;
}

#[tokio::test]
async fn a_dead_repository_gives_503s_and_recovers_by_itself_over_http() {
    a_dead_repository_gives_503s_and_recovers_by_itself(Link::Http).await;
}

/// Registrations, one after another, until told to stop: each name with the status it got.
async fn light_load(base_url: String, stop: Arc<AtomicBool>) -> Vec<(String, u16)> {
    let client = arcana_tests::http_client()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let mut outcomes = Vec::new();
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let name = format!("load{i}");
        let body = serde_json::json!({"username": name, "email": format!("{name}@example.com"), "password": PASSWORD});
        let status = client
            .post(format!("{base_url}/api/v1/auth/register"))
            .json(&body)
            .send()
            .await
            .map_or(0, |answer| answer.status().as_u16());
        outcomes.push((name, status));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    outcomes
}

async fn restarting_the_service_tier_loses_no_acknowledged_write(link: Link) {
    let (mut stack, _file) = stack(link, &FAST).await;
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(light_load(stack.controller.base_url.clone(), stop.clone()));
    tokio::time::sleep(Duration::from_millis(700)).await;
    stack.restart_service().await;
    let app = &stack.controller;
    eventually(
        Duration::from_secs(20),
        "the controller is ready again",
        || async { app.get("/health/ready", None).await.status() == 200 },
    )
    .await;
    // The controller's breaker on the service link may have opened during the restart; it lets
    // a probe through once its open period ends, and then registrations succeed again.
    let probes = std::sync::atomic::AtomicUsize::new(0);
    eventually(
        Duration::from_secs(20),
        "registrations succeed again",
        || async {
            let n = probes.fetch_add(1, Ordering::Relaxed);
            register_status(app, &format!("probe{n}")).await == 201
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    stop.store(true, Ordering::Relaxed);
    let outcomes = load.await.unwrap();

    let unexpected: Vec<_> = outcomes
        .iter()
        .filter(|(_, s)| *s != 201 && *s != 503)
        .collect();
    assert!(
        unexpected.is_empty(),
        "only 201 or 503 during the restart: {unexpected:?}"
    );
    let acknowledged: Vec<&String> = outcomes
        .iter()
        .filter(|(_, s)| *s == 201)
        .map(|(n, _)| n)
        .collect();
    let last = outcomes.last().expect("the load ran");
    assert_eq!(last.1, 201, "registrations succeed after the restart");
    for name in acknowledged {
        app.login_ok(name, PASSWORD).await;
    }
}

#[tokio::test]
async fn restarting_the_service_tier_loses_no_acknowledged_write_over_grpc() {
    restarting_the_service_tier_loses_no_acknowledged_write(Link::Grpc).await;
}

#[tokio::test]
async fn restarting_the_service_tier_loses_no_acknowledged_write_over_http() {
    restarting_the_service_tier_loses_no_acknowledged_write(Link::Http).await;
}

async fn one_request_id_is_in_the_logs_of_every_tier(link: Link) {
    let verbose = [(
        "ARCANA_OBSERVABILITY__LOG_LEVEL",
        "warn,arcana_adapter_rest=debug,arcana_adapter_internal=debug",
    )];
    let (stack, _file) = stack(link, &verbose).await;
    let id = format!("e2e-{}", uuid::Uuid::now_v7().simple());
    let body = serde_json::json!({"username": "traced", "email": "traced@example.com", "password": PASSWORD});
    let answer = stack
        .controller
        .request(reqwest::Method::POST, "/api/v1/auth/register", None)
        .header("x-request-id", &id)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    assert_eq!(answer.headers()["x-request-id"], id.as_str());
    let missing = || {
        let logs = [
            ("controller", stack.controller.logs()),
            ("service", stack.service.logs()),
            ("repository", stack.repository.logs()),
        ];
        logs.into_iter()
            .filter(|(_, logs)| !logs.contains(&id))
            .map(|(tier, logs)| format!("{tier}:\n{logs}"))
            .collect::<Vec<_>>()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !missing().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let missing = missing();
    assert!(
        missing.is_empty(),
        "request id {id} missing from: {missing:#?}"
    );
}

#[tokio::test]
async fn one_request_id_is_in_the_logs_of_every_tier_over_grpc() {
    one_request_id_is_in_the_logs_of_every_tier(Link::Grpc).await;
}

#[tokio::test]
async fn one_request_id_is_in_the_logs_of_every_tier_over_http() {
    one_request_id_is_in_the_logs_of_every_tier(Link::Http).await;
}

/// The controller's breaker on its link to the service tier: a dead service tier opens it, an
/// open breaker answers at once with 503 + Retry-After and shows in readiness, and it closes by
/// itself once the tier is back.
async fn a_dead_service_tier_opens_the_controllers_breaker_until_it_returns(link: Link) {
    let breaker_env = [
        FAST[0],
        FAST[1],
        ("ARCANA_RESILIENCE__SERVICE__BREAKER_FAILURES", "2"),
        ("ARCANA_RESILIENCE__SERVICE__BREAKER_OPEN_SECS", "2"),
        ("ARCANA_RESILIENCE__SERVICE__BREAKER_MAX_OPEN_SECS", "2"),
    ];
    let (mut stack, _file) = stack(link, &breaker_env).await;
    assert_eq!(register_status(&stack.controller, "before").await, 201);
    stack.kill_service().await;
    let app = &stack.controller;
    let breaker = || async {
        let report: Value = app
            .get("/health/ready", None)
            .await
            .json()
            .await
            .unwrap_or_default();
        report["checks"]["service"]["breaker"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let mut attempt = 0;
    eventually(Duration::from_secs(20), "the service breaker opens", || {
        attempt += 1;
        let name = format!("during{attempt}");
        async move {
            let _ = register_status(app, &name).await;
            breaker().await == "open"
        }
    })
    .await;
    let refused = app.get("/api/v1/auth/me", Some("not-a-token")).await;
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));

    stack.start_service().await;
    let app = &stack.controller;
    let mut attempt = 0;
    eventually(Duration::from_secs(20), "registration works again", || {
        attempt += 1;
        let name = format!("after{attempt}");
        async move { register_status(app, &name).await == 201 }
    })
    .await;
    let report: Value = app.get("/health/ready", None).await.json().await.unwrap();
    assert_eq!(report["checks"]["service"]["breaker"], "closed", "{report}");
}

#[tokio::test]
async fn a_dead_service_tier_opens_the_controllers_breaker_until_it_returns_over_grpc() {
    a_dead_service_tier_opens_the_controllers_breaker_until_it_returns(Link::Grpc).await;
}

#[tokio::test]
async fn a_dead_service_tier_opens_the_controllers_breaker_until_it_returns_over_http() {
    a_dead_service_tier_opens_the_controllers_breaker_until_it_returns(Link::Http).await;
}
