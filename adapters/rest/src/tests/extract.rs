//! What each kind of bad input turns into, before any use case runs.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{BODY_LIMIT, get_request, send, stack};
use crate::extract::{ApiJson, ApiQuery, IfMatch, user_id};

#[derive(Deserialize)]
struct Signup {
    name: String,
    age: u32,
    #[serde(default)]
    inner: Option<Inner>,
}

#[derive(Deserialize)]
struct Inner {
    #[expect(dead_code, reason = "only its type matters")]
    count: u32,
}

#[derive(Deserialize)]
struct Flags {
    #[serde(default)]
    all: bool,
}

#[derive(Deserialize)]
struct Page {
    limit: Option<u32>,
}

fn app() -> Router {
    let signup = |ApiJson(body): ApiJson<Signup>| async move {
        format!("{} {} {}", body.name, body.age, body.inner.is_some())
    };
    let flags = |body: Option<ApiJson<Flags>>| async move {
        match body {
            None => "none".to_owned(),
            Some(ApiJson(flags)) => format!("all={}", flags.all),
        }
    };
    let page = |ApiQuery(page): ApiQuery<Page>| async move { format!("{:?}", page.limit) };
    let version = |IfMatch(version): IfMatch| async move { format!("{version:?}") };
    stack(
        Router::new()
            .route("/signup", post(signup))
            .route("/flags", post(flags))
            .route("/page", get(page))
            .route("/version", get(version)),
    )
    .0
}

fn post_json(uri: &str, content_type: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut request = Request::post(uri);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    request.body(body.into()).unwrap()
}

#[tokio::test]
async fn well_formed_json_reaches_the_handler() {
    let request = post_json(
        "/signup",
        Some("application/json"),
        r#"{"name":"ann","age":30}"#,
    );
    let reply = send(&app(), request).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, b"ann 30 false");
}

#[tokio::test]
async fn json_media_types_with_suffixes_and_parameters_are_accepted() {
    for content_type in [
        "application/json; charset=utf-8",
        "application/merge-patch+json",
        "Application/JSON",
    ] {
        let request = post_json("/signup", Some(content_type), r#"{"name":"ann","age":30}"#);
        assert_eq!(
            send(&app(), request).await.status,
            StatusCode::OK,
            "{content_type}"
        );
    }
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    for body in [
        r#"{"name":"ann","#,
        "not json",
        r#"{"name":"ann","age":30} trailing"#,
        "",
    ] {
        let reply = send(&app(), post_json("/signup", Some("application/json"), body)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body:?}");
        assert_eq!(reply.json()["code"], "malformed_json", "{body:?}");
    }
}

#[tokio::test]
async fn a_body_not_declared_as_json_is_a_415() {
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/jsonx"),
    ] {
        let reply = send(
            &app(),
            post_json("/signup", content_type, r#"{"name":"ann","age":30}"#),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        assert_eq!(reply.json()["code"], "unsupported_media_type");
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413() {
    let body = format!(r#"{{"name":"{}","age":1}}"#, "a".repeat(BODY_LIMIT));
    let reply = send(&app(), post_json("/signup", Some("application/json"), body)).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.json()["code"], "payload_too_large");
}

#[tokio::test]
async fn a_field_of_the_wrong_type_is_a_422_naming_the_field_without_echoing_the_value() {
    let body = r#"{"name":"ann","age":"secret-value"}"#;
    let reply = send(&app(), post_json("/signup", Some("application/json"), body)).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let problem = reply.json();
    assert_eq!(problem["code"], "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "age");
    assert_eq!(problem["errors"][0]["code"], "invalid_type");
    assert!(
        !String::from_utf8(reply.body)
            .unwrap()
            .contains("secret-value")
    );
}

#[tokio::test]
async fn missing_and_nested_fields_are_named_by_their_path() {
    let reply = send(
        &app(),
        post_json("/signup", Some("application/json"), r#"{"age":3}"#),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.json()["errors"][0]["field"], "name");
    assert_eq!(reply.json()["errors"][0]["code"], "required");

    let body = r#"{"name":"ann","age":3,"inner":{"count":-1}}"#;
    let reply = send(&app(), post_json("/signup", Some("application/json"), body)).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.json()["errors"][0]["field"], "inner.count");
}

#[tokio::test]
async fn an_optional_body_may_be_empty_but_not_of_another_type() {
    let reply = send(&app(), post_json("/flags", None, "")).await;
    assert_eq!(
        (reply.status, reply.body.as_slice()),
        (StatusCode::OK, b"none".as_slice())
    );
    let reply = send(
        &app(),
        post_json("/flags", Some("application/json"), r#"{"all":true}"#),
    )
    .await;
    assert_eq!(reply.body, b"all=true");
    let reply = send(&app(), post_json("/flags", Some("text/plain"), "all")).await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let reply = send(&app(), post_json("/flags", Some("application/json"), "{")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_query_parameter_of_the_wrong_type_is_a_422_naming_it() {
    let reply = send(&app(), get_request("/page?limit=5")).await;
    assert_eq!(reply.body, b"Some(5)");
    let reply = send(&app(), get_request("/page?limit=many")).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.json()["errors"][0]["field"], "limit");
}

#[tokio::test]
async fn if_match_carries_a_quoted_version() {
    let with = |value: &str| {
        Request::get("/version")
            .header("if-match", value)
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(send(&app(), with("\"7\"")).await.body, b"Some(7)");
    assert_eq!(send(&app(), with("W/\"7\"")).await.body, b"Some(7)");
    assert_eq!(send(&app(), with("*")).await.body, b"None");
    assert_eq!(send(&app(), get_request("/version")).await.body, b"None");
    let reply = send(&app(), with("\"seven\"")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["code"], "invalid_if_match");
}

#[test]
fn a_path_id_that_is_not_a_uuid_is_not_found() {
    let error = user_id("not-a-uuid").unwrap_err();
    let problem = error.to_problem(None);
    assert_eq!((problem.status, problem.code.as_str()), (404, "not_found"));
    assert!(user_id("0190f3a0-8b4c-7d2e-9f10-123456789abc").is_ok());
}
