//! The job admin API through the layered controller, over both internal transports: the answers
//! the monolith gives (`jobs_admin.rs`), the live feed of the service tier streamed to a public
//! gRPC watcher, and `arcana-worker` beside the service tier running what the controller
//! enqueued on a shared Redis queue.

use std::time::Duration;

use arcana_adapter_grpc::proto::jobs::v1 as pb;
use arcana_adapter_grpc::proto::jobs::v1::jobs_service_client::JobsServiceClient;
use arcana_tests::api::grpc::with_bearer;
use arcana_tests::layered::Transport as Link;
use arcana_tests::redis::TestRedis;
use arcana_tests::{TestApp, problem};
use reqwest::Method;
use serde_json::{Value, json};
use tonic::Code;

use super::{PASSWORD, stack};

const WORKER: &str = env!("CARGO_BIN_EXE_arcana-worker");

/// The service tier's own worker pool polls often, as in the monolith's suite.
const FAST: [(&str, &str); 2] = [
    ("ARCANA_JOBS__WORKER__POLL_INTERVAL_MS", "10"),
    ("ARCANA_JOBS__WORKER__SWEEP_INTERVAL_MS", "50"),
];

async fn json_of(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    response.json().await.expect("a JSON body")
}

async fn call(app: &TestApp, method: Method, path: &str, token: &str) -> reqwest::Response {
    app.request(method, path, Some(token))
        .send()
        .await
        .expect("request sent")
}

async fn enqueue(app: &TestApp, token: &str, body: &Value) -> String {
    let created = json_of(app.post("/api/v1/jobs", Some(token), body).await, 201).await;
    created["id"].as_str().expect("an id").to_owned()
}

/// Polls the job until its state is `state`, failing after fifteen seconds.
async fn job_in_state(app: &TestApp, token: &str, id: &str, state: &str) -> Value {
    let start = tokio::time::Instant::now();
    loop {
        let path = format!("/api/v1/jobs/{id}");
        let job = json_of(app.get(&path, Some(token)).await, 200).await;
        if job["state"] == state {
            return job;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "job {id} stuck in {}",
            job["state"]
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn an_admin_operates_jobs_and_others_are_refused(link: Link) {
    let (stack, _db) = stack(link, &FAST).await;
    let app = &stack.controller;
    let root = app.root().await.access;
    let id = enqueue(app, &root, &json!({"name": "noop", "tags": ["layered"]})).await;
    let done = job_in_state(app, &root, &id, "completed").await;
    assert_eq!(
        (done["name"].as_str(), done["queue"].as_str(), &done["tags"]),
        (Some("noop"), Some("default"), &json!(["layered"]))
    );
    let found = json_of(app.get("/api/v1/jobs?tag=layered", Some(&root)).await, 200).await;
    assert_eq!(found["items"][0]["id"].as_str(), Some(id.as_str()));
    let queues = json_of(app.get("/api/v1/jobs/queues", Some(&root)).await, 200).await;
    let default = queues["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["queue"] == "default");
    assert_eq!(default.map(|q| q["completed"].as_u64()), Some(Some(1)));
    let dashboard = json_of(app.get("/api/v1/jobs/dashboard", Some(&root)).await, 200).await;
    assert_eq!(dashboard["totals"]["completed"].as_u64(), Some(1));
    let schedules = json_of(app.get("/api/v1/jobs/schedules", Some(&root)).await, 200).await;
    assert_eq!(
        schedules["items"][0]["name"].as_str(),
        Some("sessions.purge")
    );

    let user = app.register("plainjobs", PASSWORD).await.access;
    for path in [
        "/api/v1/jobs/queues",
        "/api/v1/jobs/dashboard",
        "/api/v1/jobs",
    ] {
        let (status, body) = problem(app.get(path, Some(&user)).await).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("forbidden")),
            "{path}"
        );
        assert_eq!(app.get(path, None).await.status(), 401, "{path}");
    }
    let (status, _) = problem(
        app.post("/api/v1/jobs", Some(&user), &json!({"name": "noop"}))
            .await,
    )
    .await;
    assert_eq!(status, 403);

    for path in ["/api/v1/jobs/not-a-job-id", "/api/v1/jobs/queues/nowhere"] {
        let (status, _) = problem(app.get(path, Some(&root)).await).await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, body) = problem(app.get("/api/v1/jobs?state=sideways", Some(&root)).await).await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (422, Some("state"))
    );

    let later = enqueue(app, &root, &json!({"name": "noop", "delay_secs": 3600})).await;
    let cancel = format!("/api/v1/jobs/{later}/cancel");
    assert_eq!(call(app, Method::POST, &cancel, &root).await.status(), 204);
    let (status, body) = problem(call(app, Method::POST, &cancel, &root).await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("job_state_conflict"))
    );
    let retry = format!("/api/v1/jobs/{later}/retry");
    let (status, _) = problem(call(app, Method::POST, &retry, &root).await).await;
    assert_eq!(status, 409, "only dead letters are retried");
}

#[tokio::test]
async fn the_layered_grpc_controller_serves_the_job_admin_api_like_the_monolith() {
    an_admin_operates_jobs_and_others_are_refused(Link::Grpc).await;
}

#[tokio::test]
async fn the_layered_http_controller_serves_the_job_admin_api_like_the_monolith() {
    an_admin_operates_jobs_and_others_are_refused(Link::Http).await;
}

async fn a_watcher_sees_the_service_tier_s_events_live(link: Link) {
    let (stack, _db) = stack(link, &FAST).await;
    let app = &stack.controller;
    let root = app.root().await.access;
    let user = app.register("plainwatcher", PASSWORD).await.access;
    let mut client = JobsServiceClient::new(app.grpc_channel().await);
    let watch = |token| {
        with_bearer(
            pb::WatchEventsRequest {
                queue: Some("default".into()),
            },
            token,
        )
    };
    let denied = client.watch_events(watch(Some(&user))).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    let mut events = client
        .watch_events(watch(Some(&root)))
        .await
        .unwrap()
        .into_inner();
    let id = enqueue(app, &root, &json!({"name": "sleep", "payload": {"ms": 1}})).await;
    let mut kinds = Vec::new();
    while kinds.len() < 3 {
        let next = tokio::time::timeout(Duration::from_secs(10), events.message()).await;
        let event = next
            .expect("an event within 10 s")
            .unwrap()
            .expect("the stream stays open");
        if event.id == id {
            assert_eq!(
                (event.name.as_str(), event.queue.as_str()),
                ("sleep", "default")
            );
            kinds.push(event.kind);
        }
    }
    kinds.sort();
    assert_eq!(kinds, ["completed", "enqueued", "started"]);
}

#[tokio::test]
async fn a_watcher_of_the_layered_grpc_controller_sees_events_live() {
    a_watcher_sees_the_service_tier_s_events_live(Link::Grpc).await;
}

#[tokio::test]
async fn a_watcher_of_the_layered_http_controller_sees_events_live() {
    a_watcher_sees_the_service_tier_s_events_live(Link::Http).await;
}

async fn a_layered_worker_runs_what_the_controller_enqueued(link: Link) {
    let Some(redis) = TestRedis::create() else {
        return;
    };
    let env = [
        ("ARCANA_REDIS__URL", redis.url.as_str()),
        ("ARCANA_REDIS__KEY_PREFIX", redis.prefix.as_str()),
        ("ARCANA_JOBS__BACKEND", "redis"),
        // Only arcana-worker runs jobs here, not the service tier's own pool.
        ("ARCANA_JOBS__WORKER__ENABLED", "false"),
        ("ARCANA_JOBS__WORKER__POLL_INTERVAL_MS", "20"),
        ("ARCANA_JOBS__WORKER__SWEEP_INTERVAL_MS", "100"),
        ("ARCANA_JOBS__SCHEDULER__PURGE_SESSIONS_CRON", ""),
    ];
    let (stack, _db) = stack(link, &env).await;
    let app = &stack.controller;
    let root = app.root().await.access;
    let id = enqueue(app, &root, &json!({"name": "noop", "payload": {"n": 1}})).await;
    let waiting = json_of(
        app.get(&format!("/api/v1/jobs/{id}"), Some(&root)).await,
        200,
    )
    .await;
    assert_eq!(
        waiting["state"].as_str(),
        Some("pending"),
        "no worker runs yet"
    );

    let worker = stack
        .spawn_worker(WORKER, &[("ARCANA_JOBS__WORKER__ENABLED", "true")])
        .await;
    let done = job_in_state(app, &root, &id, "completed").await;
    assert_eq!(done["attempt"].as_u64(), Some(1), "{}", worker.logs());
    let workers = json_of(app.get("/api/v1/jobs/workers", Some(&root)).await, 200).await;
    let ids: Vec<&str> = workers["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["id"].as_str())
        .collect();
    assert!(ids.iter().any(|id| id.starts_with("worker@")), "{workers}");
}

#[tokio::test]
async fn arcana_worker_beside_a_layered_grpc_service_runs_jobs_enqueued_through_the_controller() {
    a_layered_worker_runs_what_the_controller_enqueued(Link::Grpc).await;
}

#[tokio::test]
async fn arcana_worker_beside_a_layered_http_service_runs_jobs_enqueued_through_the_controller() {
    a_layered_worker_runs_what_the_controller_enqueued(Link::Http).await;
}
