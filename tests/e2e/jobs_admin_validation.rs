//! What the enqueue endpoint accepts and refuses: numbers, payloads and windows exactly as the
//! OpenAPI document says, out-of-range durations as 422s.

use arcana_tests::problem;
use reqwest::Method;
use serde_json::json;

use super::{app, call, enqueue, json_of};

#[tokio::test]
async fn a_delay_or_uniqueness_window_past_a_year_is_a_422_not_a_crashed_handler() {
    let app = app().await;
    let root = app.root().await;
    for body in [
        json!({"name": "noop", "delay_secs": u64::MAX}),
        json!({"name": "noop", "unique_key": "k", "unique_window_secs": 9_300_000_000_000_000_u64}),
    ] {
        let response = app.post("/api/v1/jobs", Some(&root.access), &body).await;
        let (status, problem) = problem(response).await;
        assert_eq!(status, 422, "{problem}");
    }
    let year = json!({"name": "noop", "delay_secs": 31_536_000});
    let response = app.post("/api/v1/jobs", Some(&root.access), &year).await;
    assert_eq!(response.status(), 201);
}

/// What the OpenAPI document allows is accepted: JSON has one number type, so `3.0` is the
/// integer 3 (and `3.5` is not an integer); a payload is any JSON value; a window without a
/// unique key is refused, as the document's `if`/`then` says.
#[tokio::test]
async fn enqueue_accepts_exactly_what_the_document_allows() {
    let app = app().await;
    let root = app.root().await.access;
    let integral = json!({"name": "noop", "max_attempts": 3.0, "payload": [1, "two", null]});
    let id = enqueue(&app, &root, &integral).await;
    let job = json_of(
        call(&app, Method::GET, &format!("/api/v1/jobs/{id}"), &root).await,
        200,
    )
    .await;
    assert_eq!(job["max_attempts"], 3);
    assert_eq!(job["payload"], json!([1, "two", null]));

    for (body, field) in [
        (json!({"name": "noop", "max_attempts": 3.5}), "max_attempts"),
        (
            json!({"name": "noop", "unique_window_secs": 60}),
            "unique_window_secs",
        ),
    ] {
        let (status, problem) = problem(app.post("/api/v1/jobs", Some(&root), &body).await).await;
        assert_eq!(status, 422, "{body}: {problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let logout = app
        .request(Method::POST, "/api/v1/auth/logout", Some(&root))
        .json(&json!([]))
        .send()
        .await
        .expect("answers");
    assert_eq!(
        logout.status(),
        422,
        "a logout body must be an object or null"
    );
}
