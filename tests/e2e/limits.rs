//! Inbound protection end to end: each rate-limit class refuses past its quota with 429,
//! `Retry-After` and the `RateLimit` headers (gRPC: RESOURCE_EXHAUSTED + RetryInfo); two
//! processes on one Redis enforce one limit; past `server.max_in_flight` requests are shed
//! with 503 at once while those within the bound are served.

use std::time::Duration;

use arcana_tests::api::{Api, Kind, Protocol};
use arcana_tests::redis::TestRedis;
use arcana_tests::{TestApp, problem};
use reqwest::Response;
use serde_json::json;
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;

const BIN: &str = env!("CARGO_BIN_EXE_arcana");
const PASSWORD: &str = "a-long-enough-password";

/// `[(key, value)]` setting `class` to `per_second`/`burst`.
fn quota(class: &str, per_second: &str, burst: &str) -> [(String, String); 2] {
    let key = |field: &str| format!("ARCANA_RATE_LIMIT__{}__{field}", class.to_uppercase());
    [
        (key("PER_SECOND"), per_second.to_owned()),
        (key("BURST"), burst.to_owned()),
    ]
}

fn pairs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn header(response: &Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// Signs in (with unknown names, taking turns over `apps`) until refused with 429, at most
/// `attempts` times; returns how many were let through first and the refusal. One unit of a
/// class refills each second, so a quota of `burst` lets `burst` through at once and refuses
/// one of the next few.
async fn logins_until_limited(apps: &[&TestApp], attempts: usize) -> (usize, Response) {
    for sent in 0..attempts {
        let app = apps[sent % apps.len()];
        let response = app.login(&format!("nobody{sent}"), PASSWORD).await;
        if response.status() == 429 {
            return (sent, response);
        }
    }
    panic!("no 429 within {attempts} sign-ins");
}

/// `GET path` until refused with 429, as [`logins_until_limited`].
async fn gets_until_limited(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    attempts: usize,
) -> (usize, Response) {
    for sent in 0..attempts {
        let response = app.get(path, token).await;
        if response.status() == 429 {
            return (sent, response);
        }
    }
    panic!("no 429 within {attempts} requests");
}

async fn assert_refusal(response: Response, class: &str) {
    let retry_after: u64 = header(&response, "retry-after")
        .parse()
        .expect("Retry-After");
    assert!(retry_after >= 1);
    let policy = header(&response, "ratelimit-policy");
    assert!(policy.contains(&format!("\"{class}\";q=")), "{policy}");
    let state = header(&response, "ratelimit");
    assert!(state.contains(&format!("\"{class}\";r=0;t=")), "{state}");
    let (status, body) = problem(response).await;
    assert_eq!(status, 429);
    assert_eq!(body["code"], "rate_limited", "{body}");
}

#[tokio::test]
async fn each_class_refuses_past_its_quota_with_retry_after_and_ratelimit_headers() {
    let env: Vec<_> = [quota("per_user", "1", "3"), quota("auth", "1", "4")]
        .concat()
        .into_iter()
        .chain([(
            "ARCANA_RATE_LIMIT__LOGIN__IP_THRESHOLD".into(),
            "1000".into(),
        )])
        .collect();
    let app = TestApp::spawn(BIN, &pairs(&env)).await;

    // Sign-in routes: the stricter auth class (register spent one of its four).
    let tokens = app.register("limited", PASSWORD).await;
    let first = app.login("someone", PASSWORD).await;
    assert_eq!(first.status(), 401);
    let policy = header(&first, "ratelimit-policy");
    assert!(
        policy.contains("\"per_ip\";q=") && policy.contains("\"auth\";q=4;w=4"),
        "{policy}"
    );
    assert!(header(&first, "ratelimit").contains("\"auth\";r=2;t="));
    let (let_through, refused) = logins_until_limited(&[&app], 10).await;
    assert!(let_through >= 2, "the burst is served: {let_through}");
    assert_refusal(refused, "auth").await;

    // Authenticated requests: per user.
    let me = "/api/v1/auth/me";
    let (let_through, refused) = gets_until_limited(&app, me, Some(&tokens.access), 10).await;
    assert!(let_through >= 3, "the burst is served: {let_through}");
    assert_refusal(refused, "per_user").await;
}

#[tokio::test]
async fn per_address_limits_refuse_grpc_calls_with_resource_exhausted_and_retry_info() {
    let env: Vec<_> = quota("per_ip", "1", "3").into_iter().collect();
    let app = TestApp::spawn(BIN, &pairs(&env)).await;
    let api = Api::new(&app, Protocol::Grpc).await;
    let mut refusal = None;
    for _ in 0..10 {
        if let Err(failure) = api.me_anonymous().await
            && failure.kind == Kind::Throttled
        {
            refusal = Some(failure);
            break;
        }
    }
    let failure = refusal.expect("a RESOURCE_EXHAUSTED within 10 calls");
    assert!(failure.retry_after.is_some(), "RetryInfo: {failure:?}");

    let (let_through, refused) = gets_until_limited(&app, "/api/v1/auth/me", None, 10).await;
    assert!(let_through <= 3, "REST and gRPC share the address's bucket");
    assert_refusal(refused, "per_ip").await;
    let health = app.get("/health/ready", None).await;
    assert_eq!(health.status(), 200, "probes are never limited");
}

#[tokio::test]
async fn two_processes_sharing_redis_enforce_one_limit() {
    let Some(redis) = TestRedis::create() else {
        return;
    };
    let env: Vec<_> = quota("auth", "1", "4")
        .into_iter()
        .chain([
            ("ARCANA_REDIS__URL".into(), redis.url.clone()),
            ("ARCANA_REDIS__KEY_PREFIX".into(), redis.prefix.clone()),
            ("ARCANA_RATE_LIMIT__STORE".into(), "redis".into()),
        ])
        .collect();
    let first = TestApp::spawn(BIN, &pairs(&env)).await;
    let second = TestApp::spawn(BIN, &pairs(&env)).await;
    let apps = [&first, &second];
    // Alternating: each process alone would let 4 through (8 in all); together, 4 at once and
    // at most one more per second.
    let (let_through, refused) = logins_until_limited(&apps, 12).await;
    assert!(
        (4..=6).contains(&let_through),
        "one shared bucket: {let_through}"
    );
    assert_refusal(refused, "auth").await;
}

/// A request whose body never finishes: in flight until the connection closes.
async fn stalled(app: &TestApp) -> TcpStream {
    let addr = app.base_url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         content-length: 1000\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

async fn in_flight(app: &TestApp) -> String {
    let text = app.get("/metrics", None).await.text().await.unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("arcana_http_requests_in_flight "))
        .unwrap_or_default()
        .to_owned()
}

async fn wait_for_in_flight(app: &TestApp, expected: &str) {
    for _ in 0..100 {
        if in_flight(app).await == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never {expected} requests in flight");
}

#[tokio::test]
async fn past_max_in_flight_requests_are_shed_at_once_while_those_within_are_served() {
    let app = TestApp::spawn(BIN, &[("ARCANA_SERVER__MAX_IN_FLIGHT", "2")]).await;
    let body = json!({"username_or_email": "nobody", "password": PASSWORD});
    let one = stalled(&app).await;
    wait_for_in_flight(&app, "1").await;
    let within = app.post("/api/v1/auth/login", None, &body).await;
    assert_eq!(within.status(), 401, "within the bound, served as usual");

    let two = stalled(&app).await;
    wait_for_in_flight(&app, "2").await;
    let response = app.post("/api/v1/auth/login", None, &body).await;
    assert_eq!(header(&response, "retry-after"), "1");
    let (status, problem) = problem(response).await;
    assert_eq!(status, 503);
    assert_eq!(problem["code"], "overloaded", "{problem}");
    assert_eq!(
        app.get("/health/ready", None).await.status(),
        200,
        "probes are never shed"
    );
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains("arcana_shed_requests_total 1"),
        "{metrics}"
    );
    // The bound is the process's: gRPC calls are shed too, with RetryInfo.
    let grpc = Api::new(&app, Protocol::Grpc).await;
    let failure = grpc.me_anonymous().await.expect_err("shed");
    assert_eq!(failure.kind, Kind::Unavailable, "{failure:?}");
    assert_eq!(failure.retry_after, Some(Duration::from_secs(1)));

    drop((one, two));
    wait_for_in_flight(&app, "0").await;
    let served = app.post("/api/v1/auth/login", None, &body).await;
    assert_eq!(
        served.status(),
        401,
        "capacity is back once requests finish"
    );
}
