//! Shared state across processes, against real `arcana` processes, PostgreSQL and Redis:
//! revocation and profile changes on one process reach another at once through the two-tier
//! cache and the Redis session store, login failures count cluster-wide, and losing Redis
//! degrades (cache) or fails closed (sessions) and heals by itself.

use std::time::Duration;

use arcana_tests::chaos::{ChaosProxy, redirect, target_of};
use arcana_tests::databases::{Service, TestDatabase};
use arcana_tests::redis::TestRedis;
use arcana_tests::{Storage, TestApp, Tokens, problem};
use reqwest::Method;
use serde_json::{Value, json};
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const BIN: &str = env!("CARGO_BIN_EXE_arcana");
const PASSWORD: &str = "a-long-enough-password";

/// Polls `check` until it holds, failing after `bound`; returns how long it took.
async fn within<F, Fut>(bound: Duration, what: &str, check: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = tokio::time::Instant::now();
    while !check().await {
        assert!(start.elapsed() < bound, "{what}: not within {bound:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    start.elapsed()
}

async fn me_status(app: &TestApp, token: &str) -> u16 {
    app.get("/api/v1/auth/me", Some(token))
        .await
        .status()
        .as_u16()
}

/// Two monolith processes on one PostgreSQL database and one Redis namespace, with the
/// two-tier cache and Redis sessions.
async fn cluster() -> Option<(TestApp, TestApp, TestDatabase, TestRedis)> {
    let db = TestDatabase::create(Service::Postgres).await?;
    let redis = TestRedis::create()?;
    let env = [
        ("ARCANA_DATABASE__URL", db.url.as_str()),
        ("ARCANA_REDIS__URL", redis.url.as_str()),
        ("ARCANA_REDIS__KEY_PREFIX", redis.prefix.as_str()),
        ("ARCANA_CACHE__BACKEND", "tiered"),
        ("ARCANA_SESSIONS__BACKEND", "redis"),
        ("ARCANA_RATE_LIMIT__STORE", "redis"),
    ];
    // One after the other: the first migrates and seeds, the second finds both done.
    let a = TestApp::spawn(BIN, &env).await;
    let b = TestApp::spawn(BIN, &env).await;
    Some((a, b, db, redis))
}

/// Reads on `b` until its caches are warm (the second read is served from them).
async fn warm(b: &TestApp, path: &str, token: &str) -> Value {
    for _ in 0..2 {
        let response = b.get(path, Some(token)).await;
        assert_eq!(response.status(), 200, "{path}");
    }
    b.get(path, Some(token)).await.json().await.unwrap()
}

#[tokio::test]
async fn suspension_and_logout_on_one_process_fail_the_token_on_another_within_a_second() {
    let Some((a, b, _db, _redis)) = cluster().await else {
        return;
    };
    let root = a.root().await;
    let bob = a.create_user(&root, "bob", "user", PASSWORD).await;
    warm(&b, "/api/v1/auth/me", &bob.access).await;

    let path = format!("/api/v1/users/{}/status", bob.user_id);
    let body = json!({"status": "suspended", "reason": "spam"});
    let response = a
        .send_json(Method::PUT, &path, Some(&root.access), &body)
        .await;
    assert_eq!(response.status(), 200);
    let took = within(Duration::from_secs(1), "suspension seen by B", || async {
        me_status(&b, &bob.access).await == 401
    })
    .await;
    println!("suspension on A refused on B after {took:?}");

    let carol = a.create_user(&root, "carol", "user", PASSWORD).await;
    warm(&b, "/api/v1/auth/me", &carol.access).await;
    let logout = a
        .request(Method::POST, "/api/v1/auth/logout", Some(&carol.access))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    let took = within(Duration::from_secs(1), "logout seen by B", || async {
        me_status(&b, &carol.access).await == 401
    })
    .await;
    println!("logout on A refused on B after {took:?}");
    let (status, body) = problem(b.get("/api/v1/auth/me", Some(&carol.access)).await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("token_revoked"))
    );
}

#[tokio::test]
async fn a_profile_change_on_one_process_is_what_another_serves_next() {
    let Some((a, b, _db, _redis)) = cluster().await else {
        return;
    };
    let root = a.root().await;
    let dave = a.create_user(&root, "dave", "user", PASSWORD).await;
    let path = format!("/api/v1/users/{}", dave.user_id);
    let before = warm(&b, &path, &root.access).await;
    assert_eq!(before["display_name"], Value::Null);

    let changes = json!({"display_name": "Dave D."});
    let response = a
        .send_json(Method::PATCH, &path, Some(&dave.access), &changes)
        .await;
    assert_eq!(response.status(), 200);
    let took = within(
        Duration::from_secs(1),
        "profile change seen by B",
        || async {
            let user: Value = b.get(&path, Some(&root.access)).await.json().await.unwrap();
            user["display_name"] == "Dave D."
        },
    )
    .await;
    println!("profile change on A served by B after {took:?}");
}

#[tokio::test]
async fn failed_logins_on_both_processes_count_toward_one_lockout() {
    let Some((a, b, _db, _redis)) = cluster().await else {
        return;
    };
    a.register("judy", PASSWORD).await;
    for app in [&a, &b, &a, &b, &a] {
        assert_eq!(app.login("judy", "wrong-password-here").await.status(), 401);
    }
    for app in [&b, &a] {
        let (status, _) = problem(app.login("judy", PASSWORD).await).await;
        assert_eq!(
            status, 429,
            "five failures across the cluster lock the identifier out"
        );
    }
}

/// The server's Redis URL goes through a proxy the test can cut.
async fn behind_proxy(redis: &TestRedis) -> (ChaosProxy, String) {
    let proxy = ChaosProxy::start(&target_of(&redis.url)).await;
    let url = redirect(&redis.url, proxy.addr());
    (proxy, url)
}

/// The overall gRPC serving status, as load balancers probing gRPC see it.
async fn grpc_health(channel: &Channel) -> ServingStatus {
    let request = HealthCheckRequest {
        service: String::new(),
    };
    let answer = HealthClient::new(channel.clone()).check(request).await;
    answer.expect("Health/Check answers").into_inner().status()
}

async fn ready(app: &TestApp) -> (u16, Value) {
    let response = app.get("/health/ready", None).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn without_redis_the_cache_is_bypassed_and_reads_still_succeed_until_it_returns() {
    let Some(redis) = TestRedis::create() else {
        return;
    };
    let (proxy, url) = behind_proxy(&redis).await;
    let env = [
        ("ARCANA_REDIS__URL", url.as_str()),
        ("ARCANA_REDIS__KEY_PREFIX", redis.prefix.as_str()),
        ("ARCANA_CACHE__BACKEND", "tiered"),
        ("ARCANA_SERVER__GRPC__HEALTH_POLL_INTERVAL_MS", "100"),
    ];
    let Some(app) = TestApp::on(BIN, Storage::Sqlite, &env).await else {
        return;
    };
    let user: Tokens = app.register("erin", PASSWORD).await;
    let path = format!("/api/v1/users/{}", user.user_id);
    warm(&app, &path, &user.access).await;

    proxy.cut();
    for _ in 0..3 {
        assert_eq!(app.get(&path, Some(&user.access)).await.status(), 200);
        assert_eq!(me_status(&app, &user.access).await, 200);
    }
    let (status, body) = ready(&app).await;
    assert_eq!(status, 200, "a cache is not required: {body}");
    assert_eq!(body["checks"]["cache"]["status"], "degraded");
    let channel = app.grpc_channel().await;
    // Over several health polls, gRPC keeps serving too: the cache is not required.
    for _ in 0..5 {
        assert_eq!(grpc_health(&channel).await, ServingStatus::Serving);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(metrics.contains("arcana_cache_lookups_total{kind=\"user\",outcome=\"error\"}"));

    proxy.restore().await;
    within(Duration::from_secs(10), "the cache back up", || async {
        ready(&app).await.1["checks"]["cache"]["status"] == "up"
    })
    .await;
    assert_eq!(app.get(&path, Some(&user.access)).await.status(), 200);
}

#[tokio::test]
async fn without_redis_sessions_checks_fail_closed_with_503_and_recover_by_themselves() {
    let Some(redis) = TestRedis::create() else {
        return;
    };
    let (proxy, url) = behind_proxy(&redis).await;
    let env = [
        ("ARCANA_REDIS__URL", url.as_str()),
        ("ARCANA_REDIS__KEY_PREFIX", redis.prefix.as_str()),
        ("ARCANA_SESSIONS__BACKEND", "redis"),
        ("ARCANA_CACHE__BACKEND", "none"),
        ("ARCANA_SERVER__GRPC__HEALTH_POLL_INTERVAL_MS", "100"),
    ];
    let Some(app) = TestApp::on(BIN, Storage::Sqlite, &env).await else {
        return;
    };
    let channel = app.grpc_channel().await;
    let user = app.register("frank", PASSWORD).await;
    assert_eq!(me_status(&app, &user.access).await, 200);

    proxy.cut();
    let (status, body) = problem(app.get("/api/v1/auth/me", Some(&user.access)).await).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        app.get("/api/v1/auth/me", Some(&user.access))
            .await
            .headers()
            .contains_key("retry-after")
    );
    assert_eq!(ready(&app).await.0, 503);
    within(Duration::from_secs(10), "gRPC not serving", || async {
        grpc_health(&channel).await == ServingStatus::NotServing
    })
    .await;

    proxy.restore().await;
    within(Duration::from_secs(10), "sessions back", || async {
        me_status(&app, &user.access).await == 200
    })
    .await;
    assert_eq!(ready(&app).await.0, 200);
    within(Duration::from_secs(10), "gRPC serving again", || async {
        grpc_health(&channel).await == ServingStatus::Serving
    })
    .await;
}
