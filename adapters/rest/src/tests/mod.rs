//! Unit tests of the HTTP plumbing: problems, extractors, middleware, the handlers over mocked
//! use cases, and the OpenAPI document. They drive routers through the real middleware stack;
//! the application itself is not involved (end-to-end suites cover it against the real binary).

mod extract;
mod handlers;
mod middleware;
mod openapi;
mod openapi_values;
mod problems;

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use tower::ServiceExt;

use crate::metrics::HttpMetrics;
use crate::state::RestConfig;

const BODY_LIMIT: usize = 1024;

fn config() -> RestConfig {
    RestConfig {
        body_limit_bytes: BODY_LIMIT,
        request_timeout: Duration::from_millis(200),
        cors_allowed_origins: Vec::new(),
        openapi_enabled: false,
        trust_forwarded_for: false,
        in_flight: None,
    }
}

/// `routes` behind the production middleware stack, with the production fallback.
fn stack(routes: Router) -> (Router, prometheus::Registry) {
    let registry = prometheus::Registry::new();
    let metrics = HttpMetrics::register(&registry).expect("fresh registry");
    let app = routes.fallback(crate::routes::not_found);
    (
        crate::middleware::apply(app, &config(), metrics, None, None),
        registry,
    )
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|value| value.to_str().expect("ASCII header"))
    }
}

async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    Reply {
        status,
        headers,
        body: body.to_vec(),
    }
}

fn get_request(uri: &str) -> Request<Body> {
    Request::get(uri)
        .body(Body::empty())
        .expect("valid request")
}
