//! The middleware stack every request goes through, and the order it runs in.

use std::time::Duration;

use arcana_ports::usecases::is_acceptable_request_id;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, IF_MATCH, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::TimeoutLayer;
use tracing::Span;
use uuid::Uuid;

use std::sync::Arc;

use arcana_ports::plugins::{BeforeRequest, HeaderOp, PluginRequests};

use crate::edge::{Edge, EdgeLayer};
use crate::limits::{Limits, Shedding};
use crate::metrics::HttpMetrics;
use crate::problem;
use crate::state::RestConfig;

pub(crate) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Label and span value for requests no route matched.
pub(crate) const UNMATCHED: &str = "unmatched";

/// Wraps `app` in every layer, as one `Router::layer` (each call boxes every route again).
/// `Router::layer` wraps each route (and the fallback), so the layers run after routing and can
/// read [`MatchedPath`]. Outermost first:
///
/// 1. the edge ([`crate::edge`]): request id (adopted or generated, echoed on *every* response),
///    the request's span (so every log line of it, the 5xx cause included, carries the method,
///    route and request id), metrics (final status, whole latency), problem rendering of every
///    error response, security headers, load shedding past `max_in_flight` (probes exempt), and
///    rate limits per address and route class (429 + `RateLimit` headers; preflights exempt; the
///    per-user limit is counted by the bearer extractor, once the token is verified);
/// 2. CORS: answers preflights before the timeout and the handler (absent when no origin is
///    allowed, so no CORS header is ever sent);
/// 3. timeout: a handler still running after `request_timeout` is dropped and becomes a 503,
///    which the edge renders;
/// 4. body limit: read by the body extractors, which answer 413 past it;
/// 5. plugin interceptors (when plugins are on): inside the timeout, so a slow one is bounded,
///    and inside everything else, so an answer a plugin gives still gets a request id,
///    security headers, metrics, limits and problem rendering.
pub(crate) fn apply(
    app: Router,
    config: &RestConfig,
    metrics: HttpMetrics,
    limits: Option<Limits>,
    plugins: Option<Arc<dyn PluginRequests>>,
) -> Router {
    let shedding = config.in_flight.as_ref().map(|in_flight| Shedding {
        in_flight: in_flight.clone(),
        shed: metrics.shed.clone(),
        gauge: metrics.in_flight.clone(),
    });
    let edge = Edge {
        metrics,
        shedding,
        limits,
    };
    let stack = ServiceBuilder::new()
        .layer(EdgeLayer(Arc::new(edge)))
        .option_layer(cors(&config.cors_allowed_origins))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            config.request_timeout,
        ))
        .layer(DefaultBodyLimit::max(config.body_limit_bytes))
        .option_layer(plugins.map(|host| from_fn_with_state(host, intercept)));
    app.layer(stack)
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

    pub(crate) fn into_header(self) -> HeaderValue {
        self.0
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only visible ASCII ever gets in, so this cannot fail.
        self.0.to_str().unwrap_or_default()
    }
}

fn route_of(request: &Request) -> &str {
    request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
}

pub(crate) fn request_span(request: &Request) -> Span {
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

const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
const DENY: HeaderValue = HeaderValue::from_static("DENY");
const NO_REFERRER: HeaderValue = HeaderValue::from_static("no-referrer");
const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");
/// Nothing the API returns is a document to render; Swagger UI is exempt because it is one.
const STRICT_CSP: HeaderValue =
    HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'");

/// The headers every answer carries; `no_store` for API answers (per-user, often carrying
/// tokens: no cache may keep them), a strict CSP for all but Swagger UI (which is a document).
pub(crate) fn secure(headers: &mut HeaderMap, no_store: bool, strict_csp: bool) {
    headers.insert(X_CONTENT_TYPE_OPTIONS, NOSNIFF);
    headers.insert(X_FRAME_OPTIONS, DENY);
    headers.insert(REFERRER_POLICY, NO_REFERRER);
    if no_store {
        headers.insert(CACHE_CONTROL, NO_STORE);
    }
    if strict_csp {
        headers.insert(CONTENT_SECURITY_POLICY, STRICT_CSP);
    }
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
    State(host): State<Arc<dyn PluginRequests>>,
    mut request: Request,
    next: Next,
) -> Response {
    // Probes never depend on a plugin: an orchestrator must not restart a healthy process
    // because an interceptor (or, layered, the tier running it) is unavailable.
    let path = request.uri().path();
    if !host.intercepts() || path == "/health" || path.starts_with("/health/") {
        return next.run(request).await;
    }
    let path = path.to_owned();
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

fn apply_ops(headers: &mut HeaderMap, ops: Vec<HeaderOp>) {
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
