//! Handlers over mocked use cases (the ports' `mock` feature): the request a handler builds
//! from the wire and what each use-case answer becomes on it, with no application, storage or
//! network behind them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arcana_ports::usecases::audit::MockAuditUseCases;
use arcana_ports::usecases::auth::MockAuthUseCases;
use arcana_ports::usecases::users::MockUserUseCases;
use arcana_ports::usecases::{AuthError, TokenRejection};
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};

use super::{config, send};
use crate::metrics::HttpMetrics;
use crate::state::RestState;

fn app(auth: MockAuthUseCases) -> Router {
    let registry = prometheus::Registry::new();
    let state = RestState {
        auth: Arc::new(auth),
        users: Arc::new(MockUserUseCases::new()),
        audit: Arc::new(MockAuditUseCases::new()),
        jobs: None,
        plugins: None,
        health: Vec::new(),
        metrics: HttpMetrics::register(&registry).expect("fresh registry"),
        limiter: None,
    };
    crate::router(state, &config(), registry)
}

fn from_peer(mut request: Request<Body>) -> Request<Body> {
    let peer: SocketAddr = "192.0.2.7:40000".parse().expect("an address");
    request.extensions_mut().insert(ConnectInfo(peer));
    request
}

#[tokio::test]
async fn a_login_reaches_the_use_case_as_typed_and_its_throttling_becomes_429() {
    let mut auth = MockAuthUseCases::new();
    auth.expect_login()
        .withf(|login| {
            login.username_or_email == "ada" && login.client.ip.as_deref() == Some("192.0.2.7")
        })
        .times(1)
        .returning(|_| {
            Err(AuthError::Throttled {
                retry_after: Duration::from_millis(1_500),
            })
        });
    let request = Request::post("/api/v1/auth/login")
        .header("content-type", "application/json")
        .body(Body::from(
            r#"{"username_or_email":"ada","password":"a-long-enough-password"}"#,
        ))
        .expect("valid request");

    let reply = send(&app(auth), from_peer(request)).await;

    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.header("retry-after"), Some("2"));
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(reply.json()["code"], "too_many_requests");
}

#[tokio::test]
async fn a_rejected_bearer_is_401_with_a_challenge_and_reaches_no_other_use_case() {
    let mut auth = MockAuthUseCases::new();
    auth.expect_authenticate()
        .withf(|token, _| token == "expired-token")
        .times(1)
        .returning(|_, _| Err(AuthError::InvalidToken(TokenRejection::Expired)));
    let request = Request::get("/api/v1/auth/me")
        .header("authorization", "Bearer expired-token")
        .body(Body::empty())
        .expect("valid request");

    let reply = send(&app(auth), from_peer(request)).await;

    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.json()["code"], "token_expired");
    let challenge = reply.header("www-authenticate").expect("a challenge");
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    assert!(challenge.contains("invalid_token"), "{challenge}");
}

#[tokio::test]
async fn a_dependency_outage_is_503_with_retry_after_and_no_cause_in_the_body() {
    let mut auth = MockAuthUseCases::new();
    auth.expect_authenticate().times(1).returning(|_, _| {
        Err(AuthError::Unavailable(anyhow::anyhow!(
            "postgres at 10.1.2.3 refused the connection"
        )))
    });
    let request = Request::get("/api/v1/auth/me")
        .header("authorization", "Bearer some-token")
        .body(Body::empty())
        .expect("valid request");

    let reply = send(&app(auth), from_peer(request)).await;

    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(reply.header("retry-after").is_some());
    let body = String::from_utf8_lossy(&reply.body);
    assert!(!body.contains("10.1.2.3"), "{body}");
}
