//! Request ids, security headers, CORS, metrics labels and client addresses.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use uuid::Uuid;

use super::{config, get_request, send, stack};
use crate::extract::auth::client_info;

fn app() -> (Router, prometheus::Registry) {
    stack(
        Router::new()
            .route("/api/v1/things/{id}", get(|| async { "thing" }))
            .route("/swagger-ui/index.html", get(|| async { "<html>" }))
            .route("/health", get(|| async { "ok" })),
    )
}

fn with_request_id(uri: &str, id: &str) -> Request<Body> {
    Request::get(uri)
        .header("x-request-id", id)
        .body(Body::empty())
        .unwrap()
}

fn assert_generated_v7(id: Option<&str>) {
    let id = Uuid::parse_str(id.expect("x-request-id echoed")).expect("a UUID");
    assert_eq!(id.get_version_num(), 7);
}

#[tokio::test]
async fn an_acceptable_incoming_request_id_is_echoed_on_success_and_in_problems() {
    let (app, _) = app();
    let reply = send(&app, with_request_id("/health", "client-id_1.2:3")).await;
    assert_eq!(reply.header("x-request-id"), Some("client-id_1.2:3"));

    let reply = send(&app, with_request_id("/missing", "client-id-2")).await;
    assert_eq!(reply.header("x-request-id"), Some("client-id-2"));
    assert_eq!(reply.json()["request_id"], "client-id-2");
}

#[tokio::test]
async fn a_missing_overlong_or_invisible_request_id_is_replaced_by_a_uuid_v7() {
    let (app, _) = app();
    assert_generated_v7(
        send(&app, get_request("/health"))
            .await
            .header("x-request-id"),
    );
    let long = "x".repeat(129);
    assert_generated_v7(
        send(&app, with_request_id("/health", &long))
            .await
            .header("x-request-id"),
    );
    assert_generated_v7(
        send(&app, with_request_id("/health", "has space"))
            .await
            .header("x-request-id"),
    );
    let longest = "y".repeat(128);
    let reply = send(&app, with_request_id("/health", &longest)).await;
    assert_eq!(reply.header("x-request-id"), Some(longest.as_str()));
}

#[tokio::test]
async fn every_response_carries_security_headers_and_api_answers_are_not_cached() {
    let (app, _) = app();
    let id = Uuid::now_v7();
    for uri in [
        format!("/api/v1/things/{id}"),
        "/nowhere".to_owned(),
        "/health".to_owned(),
    ] {
        let reply = send(&app, get_request(&uri)).await;
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{uri}"
        );
        assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{uri}");
        assert_eq!(
            reply.header("referrer-policy"),
            Some("no-referrer"),
            "{uri}"
        );
        assert_eq!(
            reply.header("content-security-policy"),
            Some("default-src 'none'; frame-ancestors 'none'"),
            "{uri}"
        );
    }
    let api = send(&app, get_request(&format!("/api/v1/things/{id}"))).await;
    assert_eq!(api.header("cache-control"), Some("no-store"));
    assert_eq!(
        send(&app, get_request("/health"))
            .await
            .header("cache-control"),
        None
    );
}

#[tokio::test]
async fn swagger_ui_is_exempt_from_the_strict_content_security_policy() {
    let (app, _) = app();
    let reply = send(&app, get_request("/swagger-ui/index.html")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-security-policy"), None);
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
}

#[tokio::test]
async fn metrics_are_labelled_by_route_template_and_unmatched_paths_share_one_label() {
    let (app, registry) = app();
    send(
        &app,
        get_request(&format!("/api/v1/things/{}", Uuid::now_v7())),
    )
    .await;
    send(&app, get_request("/random/scan/1")).await;
    send(&app, get_request("/random/scan/2")).await;

    let text = prometheus::TextEncoder::new()
        .encode_to_string(&registry.gather())
        .unwrap();
    assert!(
        text.contains(
            r#"http_requests_total{method="GET",route="/api/v1/things/{id}",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="unmatched",status="404"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(r#"http_request_duration_seconds_count{method="GET",route="unmatched"} 2"#)
    );
    assert!(!text.contains("/random/scan"));
}

#[tokio::test]
async fn cors_headers_are_sent_only_to_allowed_origins_and_only_when_configured() {
    let routes = || Router::new().route("/api/v1/things", get(|| async { "things" }));
    let preflight = |origin: &str| {
        Request::options("/api/v1/things")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .body(Body::empty())
            .unwrap()
    };

    let (closed, _) = stack(routes());
    let reply = send(&closed, preflight("https://app.example")).await;
    assert_eq!(reply.header("access-control-allow-origin"), None);

    let mut open = config();
    open.cors_allowed_origins = vec!["https://app.example".to_owned()];
    let metrics = crate::metrics::HttpMetrics::register(&prometheus::Registry::new()).unwrap();
    let open = crate::middleware::apply(routes(), &open, metrics, None, None);
    let reply = send(&open, preflight("https://app.example")).await;
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert!(
        reply
            .header("access-control-allow-methods")
            .is_some_and(|m| m.contains("PATCH"))
    );
    let reply = send(&open, preflight("https://evil.example")).await;
    assert_eq!(reply.header("access-control-allow-origin"), None);
    let simple = Request::get("/api/v1/things")
        .header("origin", "https://app.example")
        .body(Body::empty())
        .unwrap();
    let reply = send(&open, simple).await;
    assert_eq!(
        reply.header("access-control-expose-headers"),
        Some("x-request-id")
    );
}

#[test]
fn the_client_address_comes_from_x_forwarded_for_only_when_trusted() {
    let mut request = Request::get("/")
        .header("x-forwarded-for", "203.0.113.7, 10.0.0.1")
        .header("user-agent", "curl/8")
        .body(())
        .unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo("192.0.2.1:5000".parse::<SocketAddr>().unwrap()));
    let (parts, ()) = request.into_parts();

    let trusted = client_info(&parts, true);
    assert_eq!(trusted.ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(trusted.user_agent.as_deref(), Some("curl/8"));
    assert_eq!(client_info(&parts, false).ip.as_deref(), Some("192.0.2.1"));

    let mut junk = Request::get("/")
        .header("x-forwarded-for", "<script>")
        .body(())
        .unwrap();
    junk.extensions_mut()
        .insert(ConnectInfo("192.0.2.1:5000".parse::<SocketAddr>().unwrap()));
    let (parts, ()) = junk.into_parts();
    assert_eq!(client_info(&parts, true).ip.as_deref(), Some("192.0.2.1"));
}
