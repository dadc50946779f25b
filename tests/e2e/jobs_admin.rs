//! The job admin API over REST against the real `arcana` binary (memory queue, the monolith's
//! own worker pool): every operation, and that each one needs the admin role.

use std::time::Duration;

use arcana_tests::{TestApp, problem};
use reqwest::Method;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_arcana");

async fn app() -> TestApp {
    TestApp::spawn(
        BIN,
        &[
            ("ARCANA_JOBS__WORKER__POLL_INTERVAL_MS", "10"),
            ("ARCANA_JOBS__WORKER__SWEEP_INTERVAL_MS", "50"),
        ],
    )
    .await
}

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
    created["id"].as_str().unwrap().to_owned()
}

/// Polls the job until its state is `state`, failing after ten seconds.
async fn job_in_state(app: &TestApp, token: &str, id: &str, state: &str) -> Value {
    let start = tokio::time::Instant::now();
    loop {
        let job = json_of(
            app.get(&format!("/api/v1/jobs/{id}"), Some(token)).await,
            200,
        )
        .await;
        if job["state"] == state {
            return job;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "job {id} stuck in {}",
            job["state"]
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_job_admin_api_needs_an_admin() {
    let app = app().await;
    let user = app.register("plainuser", "a-long-enough-password").await;
    for (method, path) in [
        (Method::GET, "/api/v1/jobs/queues"),
        (Method::GET, "/api/v1/jobs/dashboard"),
        (Method::GET, "/api/v1/jobs"),
        (Method::GET, "/api/v1/jobs/dead-letters"),
        (Method::GET, "/api/v1/jobs/schedules"),
        (Method::GET, "/api/v1/jobs/workers"),
        (
            Method::POST,
            "/api/v1/jobs/schedules/sessions.purge/trigger",
        ),
        (Method::DELETE, "/api/v1/jobs/queues/default/dead-letters"),
    ] {
        let (status, body) = problem(call(&app, method.clone(), path, &user.access).await).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("forbidden")),
            "{method} {path}"
        );
        let anonymous = app
            .request(method.clone(), path, None)
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), 401, "{method} {path}");
    }
    let (status, _) = problem(
        app.post("/api/v1/jobs", Some(&user.access), &json!({"name": "noop"}))
            .await,
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn an_admin_enqueues_inspects_and_searches_jobs() {
    let app = app().await;
    let root = app.root().await.access;
    let id = enqueue(
        &app,
        &root,
        &json!({"name": "sleep", "payload": {"ms": 1}, "tags": ["smoke"], "priority": "high"}),
    )
    .await;
    let done = job_in_state(&app, &root, &id, "completed").await;
    assert_eq!(
        (
            done["payload"].clone(),
            done["priority"].as_str(),
            done["attempt"].as_u64()
        ),
        (json!({"ms": 1}), Some("high"), Some(1))
    );

    let unique = json!({"name": "noop", "unique_key": "report-42", "unique_window_secs": 60, "delay_secs": 3600});
    let first = json_of(app.post("/api/v1/jobs", Some(&root), &unique).await, 201).await;
    let again = json_of(app.post("/api/v1/jobs", Some(&root), &unique).await, 201).await;
    assert_eq!(
        (again["id"].clone(), again["deduplicated"].as_bool()),
        (first["id"].clone(), Some(true))
    );

    let found = json_of(
        app.get("/api/v1/jobs?tag=smoke&state=completed", Some(&root))
            .await,
        200,
    )
    .await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let scheduled = json_of(
        app.get("/api/v1/jobs?state=scheduled&name=noop", Some(&root))
            .await,
        200,
    )
    .await;
    assert_eq!(scheduled["items"][0]["id"], first["id"]);
    let (status, body) = problem(app.get("/api/v1/jobs?state=sideways", Some(&root)).await).await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (422, Some("state"))
    );
    let (status, _) = problem(
        app.post(
            "/api/v1/jobs",
            Some(&root),
            &json!({"name": "no spaces allowed"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = problem(app.get("/api/v1/jobs/not-a-job-id", Some(&root)).await).await;
    assert_eq!(status, 404);

    let queues = json_of(app.get("/api/v1/jobs/queues", Some(&root)).await, 200).await;
    assert!(
        queues["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["queue"] == "default")
    );
    let default = json_of(
        app.get("/api/v1/jobs/queues/default", Some(&root)).await,
        200,
    )
    .await;
    assert_eq!(
        (default["completed"].as_u64(), default["scheduled"].as_u64()),
        (Some(1), Some(1))
    );
    let (status, _) = problem(app.get("/api/v1/jobs/queues/nowhere", Some(&root)).await).await;
    assert_eq!(status, 404);
    let dashboard = json_of(app.get("/api/v1/jobs/dashboard", Some(&root)).await, 200).await;
    assert_eq!(dashboard["totals"]["completed"].as_u64(), Some(1));

    let expected = [
        "arcana_jobs_enqueued_total",
        "arcana_jobs_completed_total{queue=\"default\"} 1",
        "arcana_job_duration_seconds_count{job=\"sleep\",outcome=\"completed\",queue=\"default\"} 1",
        "arcana_scheduler_is_leader 1",
        "arcana_workers_active 0",
        "arcana_jobs_pending{queue=\"default\"}",
    ];
    // The queue gauges are refreshed by the sweep, so they may lag a moment behind.
    let start = tokio::time::Instant::now();
    loop {
        let metrics = app.get("/metrics", None).await.text().await.unwrap();
        let missing: Vec<_> = expected
            .iter()
            .filter(|line| !metrics.contains(*line))
            .collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "/metrics lacks {missing:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_admin_cancels_retries_and_purges_dead_letters() {
    let app = app().await;
    let root = app.root().await.access;
    let later = enqueue(&app, &root, &json!({"name": "noop", "delay_secs": 3600})).await;
    assert_eq!(
        call(
            &app,
            Method::POST,
            &format!("/api/v1/jobs/{later}/cancel"),
            &root
        )
        .await
        .status(),
        204
    );
    job_in_state(&app, &root, &later, "cancelled").await;
    let (status, body) = problem(
        call(
            &app,
            Method::POST,
            &format!("/api/v1/jobs/{later}/cancel"),
            &root,
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("job_state_conflict"))
    );

    // No handler is registered for this name, so its one attempt dead-letters it.
    let payload = json!({"order": 7, "lines": ["a", "b"]});
    let dead = enqueue(
        &app,
        &root,
        &json!({"name": "not.registered", "payload": payload, "max_attempts": 1}),
    )
    .await;
    job_in_state(&app, &root, &dead, "dead").await;
    let letters = json_of(
        app.get("/api/v1/jobs/dead-letters?queue=default", Some(&root))
            .await,
        200,
    )
    .await;
    assert_eq!(letters["items"][0]["id"].as_str(), Some(dead.as_str()));
    assert_eq!(
        call(
            &app,
            Method::POST,
            &format!("/api/v1/jobs/dead-letters/{dead}/retry"),
            &root
        )
        .await
        .status(),
        204
    );
    let replayed = job_in_state(&app, &root, &dead, "dead").await;
    assert_eq!(replayed["payload"], payload, "the replay kept the payload");
    assert_eq!(
        call(
            &app,
            Method::POST,
            &format!("/api/v1/jobs/{dead}/retry"),
            &root
        )
        .await
        .status(),
        204
    );
    job_in_state(&app, &root, &dead, "dead").await;
    let (status, _) = problem(
        call(
            &app,
            Method::POST,
            &format!("/api/v1/jobs/{later}/retry"),
            &root,
        )
        .await,
    )
    .await;
    assert_eq!(status, 409, "only dead letters are retried");

    let purged = json_of(
        call(
            &app,
            Method::DELETE,
            "/api/v1/jobs/queues/default/dead-letters",
            &root,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(purged["purged"].as_u64(), Some(1));
    let (status, _) = problem(app.get(&format!("/api/v1/jobs/{dead}"), Some(&root)).await).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_admin_lists_pauses_resumes_and_triggers_schedules() {
    let app = app().await;
    let root = app.root().await.access;
    let listed = json_of(app.get("/api/v1/jobs/schedules", Some(&root)).await, 200).await;
    let purge = &listed["items"][0];
    assert_eq!(
        (
            purge["name"].as_str(),
            purge["job"].as_str(),
            purge["paused"].as_bool()
        ),
        (Some("sessions.purge"), Some("sessions.purge"), Some(false))
    );

    let pause = "/api/v1/jobs/schedules/sessions.purge/pause";
    assert_eq!(call(&app, Method::POST, pause, &root).await.status(), 204);
    let listed = json_of(app.get("/api/v1/jobs/schedules", Some(&root)).await, 200).await;
    assert_eq!(listed["items"][0]["paused"].as_bool(), Some(true));
    assert_eq!(
        call(
            &app,
            Method::POST,
            "/api/v1/jobs/schedules/sessions.purge/resume",
            &root
        )
        .await
        .status(),
        204
    );
    let listed = json_of(app.get("/api/v1/jobs/schedules", Some(&root)).await, 200).await;
    assert_eq!(listed["items"][0]["paused"].as_bool(), Some(false));
    let (status, _) = problem(
        call(
            &app,
            Method::POST,
            "/api/v1/jobs/schedules/nope/pause",
            &root,
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);

    let triggered = json_of(
        call(
            &app,
            Method::POST,
            "/api/v1/jobs/schedules/sessions.purge/trigger",
            &root,
        )
        .await,
        201,
    )
    .await;
    let id = triggered["id"].as_str().unwrap();
    let ran = job_in_state(&app, &root, id, "completed").await;
    assert_eq!(
        (ran["queue"].as_str(), ran["correlation_id"].as_str()),
        (Some("maintenance"), Some("manual:sessions.purge"))
    );
}

#[tokio::test]
async fn an_admin_lists_the_live_workers() {
    let app = app().await;
    let root = app.root().await.access;
    let workers = json_of(app.get("/api/v1/jobs/workers", Some(&root)).await, 200).await;
    let pool = &workers["items"][0];
    assert_eq!(
        pool["queues"],
        json!(["default", "maintenance"]),
        "the monolith's own pool"
    );
    assert!(
        pool["id"].as_str().unwrap().starts_with("worker@"),
        "{pool}"
    );
    assert_eq!(workers["items"].as_array().unwrap().len(), 1);
}

#[path = "jobs_admin_grpc.rs"]
mod grpc;

#[path = "jobs_admin_validation.rs"]
mod validation;
