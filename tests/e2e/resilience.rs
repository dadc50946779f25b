//! Resilience end to end: a database that fails opens its circuit breaker, which then answers
//! at once (503 + Retry-After over REST, UNAVAILABLE + RetryInfo over gRPC), shows in
//! readiness and metrics, and closes by itself once the database answers again.

use std::time::Duration;

use arcana_tests::api::{Api, Kind, Protocol};
use arcana_tests::chaos::{self, ChaosProxy};
use arcana_tests::databases::{Service, TestDatabase};
use arcana_tests::redis::TestRedis;
use arcana_tests::{TestApp, problem};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_arcana");
const PASSWORD: &str = "a-long-enough-password";
const ME: &str = "/api/v1/auth/me";

/// The breaker state `/health/ready` reports next to the readiness check named `check`.
async fn breaker(app: &TestApp, check: &str) -> Value {
    let ready: Value = app.get("/health/ready", None).await.json().await.unwrap();
    ready["checks"][check]["breaker"].clone()
}

/// The value of the sample of `metric` whose labels contain `labels`, from `/metrics`.
async fn sample(app: &TestApp, metric: &str, labels: &str) -> Option<f64> {
    let text = app.get("/metrics", None).await.text().await.unwrap();
    text.lines()
        .filter(|line| line.starts_with(metric) && line.contains(labels))
        .find_map(|line| line.rsplit(' ').next()?.parse().ok())
}

/// Polls `/health/ready` (bounded) until the breaker of `check` reads `state`, sending a
/// request through the breaker before each look (a breaker moves only when called).
async fn wait_for_breaker(app: &TestApp, check: &str, token: &str, state: &str) {
    for _ in 0..80 {
        if breaker(app, check).await == state {
            return;
        }
        let _ = app.get(ME, Some(token)).await;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the {check} breaker never became {state}: {}", app.logs());
}

#[tokio::test]
async fn postgres_errors_open_the_breaker_which_fails_fast_and_closes_by_itself() {
    an_open_breaker_fails_fast_shows_in_readiness_and_metrics_and_closes_by_itself(
        Service::Postgres,
    )
    .await;
}

#[tokio::test]
async fn mariadb_errors_open_the_breaker_which_fails_fast_and_closes_by_itself() {
    an_open_breaker_fails_fast_shows_in_readiness_and_metrics_and_closes_by_itself(Service::Mysql)
        .await;
}

async fn an_open_breaker_fails_fast_shows_in_readiness_and_metrics_and_closes_by_itself(
    service: Service,
) {
    let Some(db) = TestDatabase::create(service).await else {
        return;
    };
    let proxy = ChaosProxy::start(&chaos::target_of(&db.url)).await;
    let mut url = chaos::redirect(&db.url, proxy.addr());
    if service == Service::Mysql {
        // mysql_async would otherwise switch a loopback connection to the server's Unix
        // socket, around the proxy.
        url.push_str(if url.contains('?') {
            "&prefer_socket=false"
        } else {
            "?prefer_socket=false"
        });
    }
    let env = [
        ("ARCANA_DATABASE__URL", url.as_str()),
        ("ARCANA_DATABASE__ACQUIRE_TIMEOUT_SECS", "1"),
        ("ARCANA_CACHE__BACKEND", "none"),
        ("ARCANA_RESILIENCE__DATABASE__BREAKER_FAILURES", "2"),
        ("ARCANA_RESILIENCE__DATABASE__BREAKER_OPEN_SECS", "3"),
        ("ARCANA_RESILIENCE__DATABASE__BREAKER_MAX_OPEN_SECS", "3"),
    ];
    let app = TestApp::spawn(BIN, &env).await;
    let tokens = app.register("breaker", PASSWORD).await;
    assert_eq!(app.get(ME, Some(&tokens.access)).await.status(), 200);
    assert_eq!(breaker(&app, "database").await, "closed");
    let state = r#"dependency="database""#;
    assert_eq!(
        sample(&app, "arcana_circuit_breaker_state", state).await,
        Some(0.0)
    );

    proxy.cut();
    wait_for_breaker(&app, "database", &tokens.access, "open").await;
    let refused_before = sample(&app, "arcana_circuit_breaker_rejections_total", state)
        .await
        .unwrap_or(0.0);
    let response = app.get(ME, Some(&tokens.access)).await;
    let retry_after = response.headers().get("retry-after").cloned();
    let (status, body) = problem(response).await;
    assert_eq!(status, 503, "{body}");
    let seconds: u64 = retry_after
        .expect("an open breaker's 503 carries Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=3).contains(&seconds),
        "at most the open period: {seconds}"
    );
    let refused = sample(&app, "arcana_circuit_breaker_rejections_total", state).await;
    assert!(
        refused.unwrap_or(0.0) > refused_before,
        "the 503 came from the breaker, without trying the database"
    );
    assert_eq!(
        sample(&app, "arcana_circuit_breaker_state", state).await,
        Some(1.0)
    );
    let opened = r#"dependency="database",to="open""#;
    let transitions = "arcana_circuit_breaker_transitions_total";
    assert!(sample(&app, transitions, opened).await >= Some(1.0));

    let grpc = Api::new(&app, Protocol::Grpc).await;
    let failure = grpc
        .me(&tokens.access)
        .await
        .expect_err("the breaker is open");
    assert_eq!(failure.kind, Kind::Unavailable, "{failure:?}");
    assert!(
        failure.retry_after.is_some(),
        "UNAVAILABLE carries RetryInfo: {failure:?}"
    );

    proxy.restore().await;
    let mut recovered = false;
    for _ in 0..80 {
        if app.get(ME, Some(&tokens.access)).await.status() == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        recovered,
        "the breaker let a probe through and closed, without a restart"
    );
    assert_eq!(breaker(&app, "database").await, "closed");
    assert_eq!(
        sample(&app, "arcana_circuit_breaker_state", state).await,
        Some(0.0)
    );
    let closed = r#"dependency="database",to="closed""#;
    assert!(sample(&app, transitions, closed).await >= Some(1.0));
}

/// A server on its own Redis key prefix, reached through a proxy the test can cut, with a
/// Redis breaker that opens after two failures for three seconds; `None` (the suite skips)
/// when no Redis is configured.
async fn behind_a_redis_proxy(extra: &[(&str, &str)]) -> Option<(TestRedis, ChaosProxy, TestApp)> {
    let redis = TestRedis::create()?;
    let proxy = ChaosProxy::start(&chaos::target_of(&redis.url)).await;
    let url = chaos::redirect(&redis.url, proxy.addr());
    let mut env = vec![
        ("ARCANA_REDIS__URL", url.as_str()),
        ("ARCANA_REDIS__KEY_PREFIX", redis.prefix.as_str()),
        ("ARCANA_RESILIENCE__REDIS__BREAKER_FAILURES", "2"),
        ("ARCANA_RESILIENCE__REDIS__BREAKER_OPEN_SECS", "3"),
        ("ARCANA_RESILIENCE__REDIS__BREAKER_MAX_OPEN_SECS", "3"),
    ];
    env.extend_from_slice(extra);
    let app = TestApp::spawn(BIN, &env).await;
    Some((redis, proxy, app))
}

#[tokio::test]
async fn redis_errors_open_the_sessions_breaker_which_fails_fast_and_closes_by_itself() {
    let Some((_redis, proxy, app)) = behind_a_redis_proxy(&[
        ("ARCANA_SESSIONS__BACKEND", "redis"),
        ("ARCANA_CACHE__BACKEND", "none"),
    ])
    .await
    else {
        return;
    };
    let tokens = app.register("sessions", PASSWORD).await;
    assert_eq!(app.get(ME, Some(&tokens.access)).await.status(), 200);
    assert_eq!(breaker(&app, "sessions").await, "closed");

    proxy.cut();
    wait_for_breaker(&app, "sessions", &tokens.access, "open").await;
    let response = app.get(ME, Some(&tokens.access)).await;
    assert!(response.headers().get("retry-after").is_some());
    assert_eq!(response.status(), 503);
    let state = r#"dependency="redis""#;
    assert_eq!(
        sample(&app, "arcana_circuit_breaker_state", state).await,
        Some(1.0)
    );

    proxy.restore().await;
    let mut recovered = false;
    for _ in 0..80 {
        if app.get(ME, Some(&tokens.access)).await.status() == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(recovered, "the sessions breaker closed without a restart");
    assert_eq!(breaker(&app, "sessions").await, "closed");
}

/// The shared rate limiter sits behind the process's one Redis guard: with Redis gone its
/// breaker opens, and from then on requests are let through at once (the limiter fails open)
/// instead of each waiting out the Redis timeout; it closes again when Redis is back.
#[tokio::test]
async fn the_shared_rate_limiter_fails_open_through_the_redis_breaker() {
    let Some((_redis, proxy, app)) =
        behind_a_redis_proxy(&[("ARCANA_RATE_LIMIT__STORE", "redis")]).await
    else {
        return;
    };
    let tokens = app.register("limited", PASSWORD).await;
    let me = app.get(ME, Some(&tokens.access)).await;
    assert_eq!(me.status(), 200);
    assert!(
        me.headers().get("ratelimit").is_some(),
        "the limiter counted it"
    );
    let state = r#"dependency="redis""#;
    assert_eq!(
        sample(&app, "arcana_circuit_breaker_state", state).await,
        Some(0.0)
    );

    proxy.cut();
    let mut opened = false;
    for _ in 0..80 {
        // Served whatever the limiter's state: an outage of the limiter is not one of the API.
        assert_eq!(app.get(ME, Some(&tokens.access)).await.status(), 200);
        if sample(&app, "arcana_circuit_breaker_state", state).await == Some(1.0) {
            opened = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(opened, "the redis breaker opened: {}", app.logs());
    assert_eq!(app.get(ME, Some(&tokens.access)).await.status(), 200);
    assert!(sample(&app, "arcana_circuit_breaker_rejections_total", state).await >= Some(1.0));

    proxy.restore().await;
    let mut closed = false;
    for _ in 0..80 {
        let me = app.get(ME, Some(&tokens.access)).await;
        assert_eq!(me.status(), 200);
        if sample(&app, "arcana_circuit_breaker_state", state).await == Some(0.0)
            && me.headers().get("ratelimit").is_some()
        {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(closed, "the redis breaker closed without a restart");
}
