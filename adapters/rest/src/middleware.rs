//! The middleware stack every request goes through, and the order it runs in.

use std::time::{Duration, Instant};

use arcana_ports::usecases::is_acceptable_request_id;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, IF_MATCH, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;
use uuid::Uuid;

use std::sync::Arc;

use arcana_ports::plugins::{BeforeRequest, HeaderOp, PluginHost};

use crate::limits::{Limits, Shedding, rate_limit, shed};
use crate::metrics::HttpMetrics;
use crate::problem;
use crate::state::RestConfig;

pub(crate) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Label and span value for requests no route matched.
const UNMATCHED: &str = "unmatched";

/// Wraps `app` in every layer. `Router::layer` wraps each route (and the fallback), so the layers
/// run after routing and can read [`MatchedPath`]. Listed outermost first:
///
/// 1. request id: adopts or generates `x-request-id` and echoes it on *every* response, including
///    those produced by the layers below;
/// 2. trace: one span per request with method, route and request id, so every log line of the
///    request (including the 5xx cause logged by 4) carries them;
/// 3. metrics: sees the final status and the whole latency, timeouts included;
/// 4. problem rendering: turns every error response, ours or a layer's, into problem+json;
/// 5. security headers: added to everything below, CORS preflights included;
/// 6. load shedding: past `max_in_flight` requests in flight, 503 at once (probes exempt);
/// 7. rate limits per address and route class (429 + `RateLimit` headers; preflights exempt);
///    the per-user limit is counted by the bearer extractor, once the token is verified;
/// 8. CORS: answers preflights before the timeout and the handler (absent when no origin is
///    allowed, so no CORS header is ever sent);
/// 9. timeout: a handler still running after `request_timeout` is dropped and becomes a 503,
///    which 4 renders;
/// 10. body limit: read by the body extractors, which answer 413 past it;
/// 11. plugin interceptors (when plugins are on): inside the timeout, so a slow one is bounded,
///     and inside everything else, so an answer a plugin gives still gets a request id,
///     security headers, metrics, limits and problem rendering.
pub(crate) fn apply(
    app: Router,
    config: &RestConfig,
    metrics: HttpMetrics,
    limits: Option<Limits>,
    plugins: Option<Arc<dyn PluginHost>>,
) -> Router {
    let mut app = app;
    if let Some(host) = plugins {
        app = app.layer(from_fn_with_state(host, intercept));
    }
    let mut app = app
        .layer(DefaultBodyLimit::max(config.body_limit_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            config.request_timeout,
        ));
    if let Some(cors) = cors(&config.cors_allowed_origins) {
        app = app.layer(cors);
    }
    if let Some(limits) = limits {
        app = app.layer(from_fn_with_state(limits, rate_limit));
    }
    if let Some(in_flight) = &config.in_flight {
        let shedding = Shedding {
            in_flight: in_flight.clone(),
            shed: metrics.shed.clone(),
            gauge: metrics.in_flight.clone(),
        };
        app = app.layer(from_fn_with_state(shedding, shed));
    }
    app.layer(from_fn(security_headers))
        .layer(from_fn(problem::render))
        .layer(from_fn_with_state(metrics, track_metrics))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_failure(()),
        )
        .layer(from_fn(request_id))
}

/// The id a request is known by in logs, problems and across tiers.
#[derive(Debug, Clone)]
pub(crate) struct RequestId(HeaderValue);

impl RequestId {
    /// Adopts the caller's id when it is 1–128 visible ASCII characters (safe to log and echo),
    /// otherwise mints a UUIDv7, which sorts by time in log searches.
    pub(crate) fn from_header(incoming: Option<&HeaderValue>) -> Self {
        match incoming {
            // Longer ones are replaced, not truncated, so a log search for what the client sent
            // never matches half an id.
            Some(value) if is_acceptable_request_id(value.as_bytes()) => Self(value.clone()),
            _ => Self::generate(),
        }
    }

    fn generate() -> Self {
        let mut buffer = Uuid::encode_buffer();
        let text = Uuid::now_v7().hyphenated().encode_lower(&mut buffer);
        Self(HeaderValue::from_str(text).expect("a UUID is a valid header value"))
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only visible ASCII ever gets in, so this cannot fail.
        self.0.to_str().unwrap_or_default()
    }
}

async fn request_id(mut request: Request, next: Next) -> Response {
    let id = RequestId::from_header(request.headers().get(X_REQUEST_ID));
    let echoed = id.0.clone();
    request.extensions_mut().insert(id);
    let mut response = next.run(request).await;
    response.headers_mut().insert(X_REQUEST_ID, echoed);
    response
}

fn route_of(request: &Request) -> &str {
    request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
}

fn request_span(request: &Request) -> Span {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map_or("", RequestId::as_str);
    let span = tracing::info_span!(
        "http_request",
        method = %request.method(),
        route = route_of(request),
        request_id,
        trace_id = tracing::field::Empty,
    );
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
    arcana_adapter_otel::continue_trace(&span, header("traceparent"), header("tracestate"));
    span
}

async fn track_metrics(
    State(metrics): State<HttpMetrics>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    // `MatchedPath` holds an `Arc<str>`: cloning it allocates nothing.
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    let route = route.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
    metrics.observe(&method, route, response.status(), started.elapsed());
    response
}

const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
const DENY: HeaderValue = HeaderValue::from_static("DENY");
const NO_REFERRER: HeaderValue = HeaderValue::from_static("no-referrer");
const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");
/// Nothing the API returns is a document to render; Swagger UI is exempt because it is one.
const STRICT_CSP: HeaderValue =
    HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'");

async fn security_headers(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    // API answers are per-user and often carry tokens: no cache may keep them.
    let no_store = path.starts_with("/api/");
    let strict_csp = !path.starts_with(crate::SWAGGER_UI_PATH);
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(X_CONTENT_TYPE_OPTIONS, NOSNIFF);
    headers.insert(X_FRAME_OPTIONS, DENY);
    headers.insert(REFERRER_POLICY, NO_REFERRER);
    if no_store {
        headers.insert(CACHE_CONTROL, NO_STORE);
    }
    if strict_csp {
        headers.insert(CONTENT_SECURITY_POLICY, STRICT_CSP);
    }
    response
}

/// `None` for an empty allow-list. Origins that are not valid header values are skipped with a
/// warning rather than failing startup, since bootstrap validates configuration already.
fn cors(origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|origin| {
            HeaderValue::from_str(origin)
                .inspect_err(|_| tracing::warn!(origin, "ignoring an invalid CORS origin"))
                .ok()
        })
        .collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([AUTHORIZATION, CONTENT_TYPE, IF_MATCH, X_REQUEST_ID])
            .expose_headers([X_REQUEST_ID])
            // Browsers may reuse a preflight answer this long instead of repeating it per call.
            .max_age(Duration::from_mins(10)),
    )
}

/// Runs the plugins' `before` interceptors, then the request, then their `after` interceptors.
/// With no interceptor loaded this is one atomic load.
async fn intercept(
    State(host): State<Arc<dyn PluginHost>>,
    mut request: Request,
    next: Next,
) -> Response {
    if !host.intercepts() {
        return next.run(request).await;
    }
    let path = request.uri().path().to_owned();
    let head =
        crate::routes::plugins::head(request.method(), request.uri(), request.headers(), &path);
    match host.before_request(&head).await {
        Ok(BeforeRequest::Continue(ops)) => apply_ops(request.headers_mut(), ops),
        Ok(BeforeRequest::Respond(answer)) => {
            let mut response = Response::new(axum::body::Body::from(answer.body));
            *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
            let ops = answer
                .headers
                .into_iter()
                .map(|(name, value)| HeaderOp::Set { name, value })
                .collect();
            apply_ops(response.headers_mut(), ops);
            response.extensions_mut().insert(problem::KeepBody);
            return response;
        }
        Err(_) => {
            return problem::ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "plugin_unavailable",
                "A required request interceptor is unavailable. Retry later.",
            )
            .retry_after(5)
            .into_response();
        }
    }
    let mut response = next.run(request).await;
    let ops = host.after_response(&head, response.status().as_u16()).await;
    apply_ops(response.headers_mut(), ops);
    response
}

fn apply_ops(headers: &mut axum::http::HeaderMap, ops: Vec<HeaderOp>) {
    for op in ops {
        match op {
            HeaderOp::Set { name, value } => {
                if let (Ok(name), Ok(value)) =
                    (HeaderName::try_from(name), HeaderValue::try_from(value))
                {
                    headers.insert(name, value);
                }
            }
            HeaderOp::Remove { name } => {
                if let Ok(name) = HeaderName::try_from(name) {
                    headers.remove(name);
                }
            }
        }
    }
}
