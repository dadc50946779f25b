//! Errors become RFC 9457 documents: one shape for ours and for the framework's.

use std::time::Duration;

use arcana_domain::ValueError;
use arcana_ports::UniqueField;
use arcana_ports::usecases::{AuthError, ManagementError, TokenRejection};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;

use super::{get_request, send, stack};
use crate::problem::ApiError;

/// A router whose only route fails with `error`.
fn failing(error: impl Fn() -> ApiError + Clone + Send + Sync + 'static) -> Router {
    stack(Router::new().route(
        "/fail",
        get(move || {
            let error = error.clone();
            async move { error() }
        }),
    ))
    .0
}

#[tokio::test]
async fn validation_errors_render_as_problem_json_with_every_field_and_the_request_id() {
    let app = failing(|| {
        AuthError::Validation(vec![
            ValueError::new("too_short", "must be at least 10 characters").at("password"),
            ValueError::new("invalid_email", "must be a valid email address").at("email"),
        ])
        .into()
    });
    let request = Request::get("/fail")
        .header("x-request-id", "req-42")
        .body(Body::empty())
        .unwrap();
    let reply = send(&app, request).await;

    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    let body = reply.json();
    assert_eq!(
        body["type"],
        "https://arcana.dev/problems/validation_failed"
    );
    assert_eq!(body["title"], "Unprocessable Entity");
    assert_eq!(body["status"], 422);
    assert_eq!(body["code"], "validation_failed");
    assert_eq!(body["request_id"], "req-42");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|detail| !detail.is_empty())
    );
    assert_eq!(body["errors"][0]["field"], "password");
    assert_eq!(body["errors"][0]["code"], "too_short");
    assert_eq!(
        body["errors"][0]["message"],
        "must be at least 10 characters"
    );
    assert_eq!(body["errors"][1]["field"], "email");
}

#[tokio::test]
async fn internal_errors_are_opaque() {
    let app = failing(|| {
        ManagementError::Internal(anyhow::anyhow!(
            "connection to postgres://admin:hunter2@db failed"
        ))
        .into()
    });
    let reply = send(&app, get_request("/fail")).await;

    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply.json()["code"], "internal_error");
    let text = String::from_utf8(reply.body).unwrap();
    assert!(
        !text.contains("hunter2") && !text.contains("postgres"),
        "{text}"
    );
}

#[tokio::test]
async fn unavailable_dependencies_answer_503_with_retry_after() {
    let app = failing(|| AuthError::Unavailable(anyhow::anyhow!("redis down")).into());
    let reply = send(&app, get_request("/fail")).await;

    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.header("retry-after"), Some("5"));
    assert_eq!(reply.json()["code"], "service_unavailable");
    assert!(!String::from_utf8(reply.body).unwrap().contains("redis"));
}

#[tokio::test]
async fn rejected_tokens_answer_401_with_a_bearer_challenge_and_a_precise_code() {
    let cases = [
        (TokenRejection::Missing, "token_missing"),
        (TokenRejection::Invalid, "token_invalid"),
        (TokenRejection::Expired, "token_expired"),
        (TokenRejection::Revoked, "token_revoked"),
        (TokenRejection::Reused, "refresh_token_reused"),
        (TokenRejection::Superseded, "refresh_token_superseded"),
    ];
    for (rejection, code) in cases {
        let app = failing(move || AuthError::InvalidToken(rejection).into());
        let reply = send(&app, get_request("/fail")).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{code}");
        assert!(
            reply
                .header("www-authenticate")
                .is_some_and(|v| v.starts_with("Bearer")),
            "{code}"
        );
        assert_eq!(reply.json()["code"], code);
    }
}

#[tokio::test]
async fn throttling_answers_429_with_retry_after_rounded_up_to_whole_seconds() {
    let app = failing(|| {
        AuthError::Throttled {
            retry_after: Duration::from_millis(1200),
        }
        .into()
    });
    let reply = send(&app, get_request("/fail")).await;

    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.header("retry-after"), Some("2"));
}

#[tokio::test]
async fn conflicts_name_the_field_and_version_conflicts_have_their_own_code() {
    let app = failing(|| AuthError::Conflict(UniqueField::Email).into());
    let reply = send(&app, get_request("/fail")).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    let body = reply.json();
    assert_eq!(body["code"], "conflict");
    assert!(body["detail"].as_str().unwrap().contains("email"));
    assert_eq!(body["errors"][0]["field"], "email");

    let app = failing(|| ManagementError::VersionConflict.into());
    let reply = send(&app, get_request("/fail")).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.json()["code"], "version_conflict");
}

#[tokio::test]
async fn management_refusals_map_to_403_and_404() {
    let app = failing(|| ManagementError::Forbidden.into());
    assert_eq!(
        send(&app, get_request("/fail")).await.json()["code"],
        "forbidden"
    );
    let app = failing(|| ManagementError::NotFound.into());
    let reply = send(&app, get_request("/fail")).await;
    assert_eq!(
        (reply.status, reply.json()["code"].clone()),
        (StatusCode::NOT_FOUND, "not_found".into())
    );
    let app = failing(|| AuthError::AccountDisabled(arcana_domain::Status::Suspended).into());
    let reply = send(&app, get_request("/fail")).await;
    assert_eq!(
        (reply.status, reply.json()["code"].clone()),
        (StatusCode::FORBIDDEN, "account_disabled".into())
    );
}

#[tokio::test]
async fn unknown_paths_are_404_problems() {
    let (app, _) = stack(Router::new());
    let reply = send(&app, get_request("/nowhere")).await;

    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    let body = reply.json();
    assert_eq!(body["code"], "not_found");
    assert!(body["request_id"].is_string());
}

#[tokio::test]
async fn wrong_methods_are_405_problems_that_keep_the_allow_header() {
    let (app, _) = stack(Router::new().route("/only-get", get(|| async { "ok" })));
    let request = Request::delete("/only-get").body(Body::empty()).unwrap();
    let reply = send(&app, request).await;

    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    assert!(
        reply
            .header("allow")
            .is_some_and(|allow| allow.contains("GET"))
    );
    let body = reply.json();
    assert_eq!(body["code"], "method_not_allowed");
    assert_eq!(body["type"], "about:blank");
}

#[tokio::test(start_paused = true)]
async fn requests_running_past_the_timeout_become_503_problems() {
    let slow = || async {
        tokio::time::sleep(Duration::from_mins(1)).await;
        "too late"
    };
    let (app, _) = stack(Router::new().route("/slow", get(slow)));
    let reply = send(&app, get_request("/slow")).await;

    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(reply.json()["code"], "service_unavailable");
}

#[tokio::test]
async fn deliberate_json_error_documents_are_left_alone() {
    let handler = || async {
        let mut response = (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({"status": "not_ready"})),
        )
            .into_response();
        response.extensions_mut().insert(crate::problem::KeepBody);
        response
    };
    let (app, _) = stack(Router::new().route("/ready", get(handler)));
    let reply = send(&app, get_request("/ready")).await;

    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.json()["status"], "not_ready");
}
