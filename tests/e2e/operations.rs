//! Operating the binary: graceful shutdown, log formats, and what must never be logged.

use arcana_tests::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_arcana");
const PASSWORD: &str = "a-long-enough-password";

#[tokio::test]
async fn sigterm_lets_the_server_exit_cleanly() {
    let app = TestApp::spawn(BIN, &[]).await;
    assert_eq!(app.get("/health", None).await.status(), 200);
    assert_eq!(app.terminate().await, Some(0));
}

#[tokio::test]
async fn production_logs_are_json_lines() {
    let app = TestApp::spawn(
        BIN,
        &[
            ("ARCANA_ENVIRONMENT", "production"),
            ("ARCANA_OBSERVABILITY__LOG_LEVEL", "info"),
        ],
    )
    .await;
    assert_eq!(app.get("/health", None).await.status(), 200);
    let logs = app.logs();
    let first = logs.lines().next().expect("the server logged at start-up");
    let line: Value = serde_json::from_str(first).expect("a JSON log line");
    assert!(
        line["level"].is_string() && line["timestamp"].is_string(),
        "{line}"
    );
}

#[tokio::test]
async fn passwords_tokens_and_full_emails_never_reach_the_logs() {
    let app = TestApp::spawn(BIN, &[("ARCANA_OBSERVABILITY__LOG_LEVEL", "trace")]).await;
    let tokens = app.register("secretive", PASSWORD).await;
    app.login("secretive", "a-wrong-password-typed").await;
    let me = app.get("/api/v1/auth/me", Some(&tokens.access)).await;
    assert_eq!(me.status(), 200);
    let refreshed = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": tokens.refresh}),
        )
        .await;
    assert_eq!(refreshed.status(), 200);
    let response = app
        .request(Method::POST, "/api/v1/auth/logout", Some(&tokens.access))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);

    let logs = app.logs();
    assert!(
        logs.contains("http_request"),
        "request spans are logged at trace level: {logs}"
    );
    let secret_part = tokens.refresh.split('.').nth(1).unwrap();
    for secret in [
        PASSWORD,
        "a-wrong-password-typed",
        tokens.access.as_str(),
        secret_part,
        "secretive@example.com",
    ] {
        assert!(!logs.contains(secret), "{secret:?} was logged");
    }
}
