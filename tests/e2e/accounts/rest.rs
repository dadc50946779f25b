//! What only REST has: JSON bodies and their problem statuses (400, 413, 415), challenges and
//! headers, `/health` and `/metrics`, the OpenAPI document. Run on every storage backend.

use arcana_tests::{Storage, TestApp, problem};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{BIN, PASSWORD};

macro_rules! on_every_backend {
    ($($scenario:ident),* $(,)?) => {
        mod memory { $(#[tokio::test] async fn $scenario() { super::$scenario(super::Storage::Memory).await; })* }
        mod sqlite { $(#[tokio::test] async fn $scenario() { super::$scenario(super::Storage::Sqlite).await; })* }
        mod postgres { $(#[tokio::test] async fn $scenario() { super::$scenario(super::Storage::Postgres).await; })* }
        mod mysql { $(#[tokio::test] async fn $scenario() { super::$scenario(super::Storage::Mysql).await; })* }
    };
}

on_every_backend!(
    malformed_requests_get_their_problem_statuses,
    refused_credentials_get_bearer_challenges_and_identical_headers,
    health_metrics_and_request_ids_are_served,
);

async fn malformed_requests_get_their_problem_statuses(storage: Storage) {
    let Some(app) = TestApp::on(BIN, storage, &[]).await else {
        return;
    };
    let register = app.url("/api/v1/auth/register");
    let send = |body: &'static str, content_type: &'static str| {
        app.client
            .post(&register)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let (status, body) = problem(send("{\"username\": ", "application/json").await.unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("malformed_json"))
    );
    let (status, _) = problem(send("{}", "text/plain").await.unwrap()).await;
    assert_eq!(status, 415);
    let huge = format!("{{\"username\": \"{}\"}}", "x".repeat(200_000));
    // Its own client: the server answers 413 without reading the body and then closes the
    // connection, which must not linger in the shared client's pool for the next request.
    let response = arcana_tests::http_client()
        .build()
        .expect("a client")
        .post(&register)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(problem(response).await.0, 413);
    let wrong_type = app
        .post("/api/v1/auth/register", None, &json!({"username": 5}))
        .await;
    let (status, body) = problem(wrong_type).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        problem(app.get("/api/v1/nothing-here", None).await).await.0,
        404
    );
}

async fn refused_credentials_get_bearer_challenges_and_identical_headers(storage: Storage) {
    let Some(app) = TestApp::on(BIN, storage, &[]).await else {
        return;
    };
    let tokens = app.register("ivan", PASSWORD).await;
    let me: Value = app
        .get("/api/v1/auth/me", Some(&tokens.access))
        .await
        .json()
        .await
        .unwrap();
    assert!(me.get("password_hash").is_none() && !me.to_string().contains("argon2"));
    app.request(Method::POST, "/api/v1/auth/logout", Some(&tokens.access))
        .send()
        .await
        .unwrap();
    let response = app.get("/api/v1/auth/me", Some(&tokens.access)).await;
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(challenge.starts_with("bearer"), "{challenge}");

    let wrong = app.login("ivan", "wrong-password-here").await;
    let unknown = app.login("nobody-here", "wrong-password-here").await;
    let header_names = |r: &reqwest::Response| {
        let mut names: Vec<String> = r
            .headers()
            .keys()
            .map(ToString::to_string)
            .filter(|n| n != "date" && n != "x-request-id")
            .collect();
        names.sort();
        names
    };
    assert_eq!(header_names(&wrong), header_names(&unknown));
    let (_, mut wrong) = problem(wrong).await;
    let (_, mut unknown) = problem(unknown).await;
    wrong["request_id"] = Value::Null;
    unknown["request_id"] = Value::Null;
    assert_eq!(wrong, unknown);
}

async fn health_metrics_and_request_ids_are_served(storage: Storage) {
    let Some(app) = TestApp::on(BIN, storage, &[]).await else {
        return;
    };
    let response = app.get("/health", None).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let ready: Value = app.get("/health/ready", None).await.json().await.unwrap();
    assert_eq!(ready["checks"]["database"]["status"], "up", "{ready}");
    let response = app
        .request(Method::GET, "/health/live", None)
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-42");
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    assert!(metrics.contains("route=\"/health\""));
}

#[tokio::test]
async fn openapi_lists_every_route_with_schemas_and_error_statuses() {
    let app = TestApp::spawn(BIN, &[]).await;
    let doc: Value = app
        .get("/api-docs/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let expected = [
        ("/api/v1/auth/register", "post", "422"),
        ("/api/v1/auth/login", "post", "401"),
        ("/api/v1/auth/refresh", "post", "401"),
        ("/api/v1/auth/logout", "post", "401"),
        ("/api/v1/auth/me", "get", "401"),
        ("/api/v1/auth/sessions", "get", "401"),
        ("/api/v1/auth/sessions/{id}", "delete", "404"),
        ("/api/v1/auth/password", "put", "422"),
        ("/api/v1/users", "get", "403"),
        ("/api/v1/users", "post", "409"),
        ("/api/v1/users/{id}", "get", "404"),
        ("/api/v1/users/{id}", "patch", "422"),
        ("/api/v1/users/{id}", "delete", "403"),
        ("/api/v1/users/{id}/role", "put", "403"),
        ("/api/v1/users/{id}/status", "put", "403"),
        ("/api/v1/audit", "get", "403"),
        ("/health", "get", "200"),
        ("/health/ready", "get", "503"),
    ];
    for (path, method, status) in expected {
        let operation = &doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} missing");
        assert!(
            operation["responses"][status].is_object(),
            "{method} {path} lacks {status}"
        );
    }
    let register = &doc["paths"]["/api/v1/auth/register"]["post"];
    assert!(register["requestBody"]["content"]["application/json"]["schema"].is_object());
    let page = app
        .client
        .get(app.url("/swagger-ui/"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
}

#[tokio::test]
async fn a_null_logout_body_means_the_defaults() {
    let app = TestApp::spawn(BIN, &[]).await;
    let tokens = app.register("nullbody", PASSWORD).await;
    let response = app
        .request(Method::POST, "/api/v1/auth/logout", Some(&tokens.access))
        .header("content-type", "application/json")
        .body("null")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let after = app.get("/api/v1/auth/me", Some(&tokens.access)).await;
    assert_eq!(after.status(), 401, "the session was ended");
}
