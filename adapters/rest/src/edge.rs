//! The work every request shares, in one tower service: its id, its span, its metrics, problem
//! rendering, security headers, load shedding and the per-address rate limits.
//!
//! One hand-written service rather than a middleware per concern: each `from_fn` middleware
//! clones the stack below it, boxes it into a `Next` and boxes its own future on every request,
//! and each `Router::layer` call boxes the route again. Here the whole shared part is one boxed
//! future over a concrete inner stack.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service, ServiceExt as _};
use tracing::Instrument as _;

use crate::limits::{self, Limits, Shedding};
use crate::metrics::HttpMetrics;
use crate::middleware::{RequestId, UNMATCHED, X_REQUEST_ID, request_span, secure};
use crate::problem;

/// What the edge needs, shared by every route's copy of the service.
pub(crate) struct Edge {
    pub(crate) metrics: HttpMetrics,
    pub(crate) shedding: Option<Shedding>,
    pub(crate) limits: Option<Limits>,
}

#[derive(Clone)]
pub(crate) struct EdgeLayer(pub(crate) Arc<Edge>);

impl<S> Layer<S> for EdgeLayer {
    type Service = EdgeService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        EdgeService {
            edge: self.0.clone(),
            inner,
        }
    }
}

#[derive(Clone)]
pub(crate) struct EdgeService<S> {
    edge: Arc<Edge>,
    inner: S,
}

impl<S> Service<Request> for EdgeService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Readiness is the inner stack's, checked by `oneshot` on the clone that serves.
        Poll::Ready(Ok(()))
    }

    /// Outermost first: the request id (adopted or minted, echoed on every response), the span
    /// every log line of the request carries, the metrics (final status, whole latency), problem
    /// rendering, security headers, shedding, rate limits; then the inner stack.
    ///
    /// One async block under one span: every nested `async fn` here cost a move of the inner
    /// stack's future (several hundred bytes) per request, which callgrind showed as a fifth of
    /// this service's own instructions.
    fn call(&mut self, mut request: Request) -> Self::Future {
        let edge = self.edge.clone();
        let inner = self.inner.clone();
        let id = RequestId::from_header(request.headers().get(X_REQUEST_ID));
        request.extensions_mut().insert(id.clone());
        let span = request_span(&request);
        let started = Instant::now();
        let method = request.method().clone();
        // `MatchedPath` holds an `Arc<str>`: cloning it allocates nothing.
        let route = request.extensions().get::<MatchedPath>().cloned();
        let path = request.uri().path();
        // API answers are per-user and often carry tokens: no cache may keep them.
        let no_store = path.starts_with("/api/");
        let strict_csp = !path.starts_with(crate::SWAGGER_UI_PATH);
        Box::pin(
            async move {
                let mut response = 'answer: {
                    let _slot = match &edge.shedding {
                        Some(shedding) => match shedding.admit(request.uri().path()) {
                            Ok(slot) => slot,
                            Err(overloaded) => break 'answer overloaded.into_response(),
                        },
                        None => None,
                    };
                    let (applied, verdict) = match &edge.limits {
                        Some(limits) => match limits::admit(limits, &mut request).await {
                            Some((applied, verdict)) => (Some(applied), verdict),
                            None => (None, Ok(())),
                        },
                        None => (None, Ok(())),
                    };
                    let mut response = match verdict {
                        Ok(()) => match inner.oneshot(request).await {
                            Ok(response) => response,
                            Err(never) => match never {},
                        },
                        Err(limited) => limited.into_response(),
                    };
                    if let (Some(limits), Some(applied)) = (&edge.limits, &applied) {
                        limits::headers(limits, applied, &mut response);
                    }
                    response
                };
                secure(response.headers_mut(), no_store, strict_csp);
                let mut response = problem::rendered(response, &id);
                let route = route.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
                let took = started.elapsed();
                edge.metrics
                    .observe(&method, route, response.status(), took);
                // One line per request for whoever turns this module's debug level on.
                tracing::debug!(
                    status = response.status().as_u16(),
                    latency_us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
                    "request finished"
                );
                response
                    .headers_mut()
                    .insert(X_REQUEST_ID, id.into_header());
                Ok(response)
            }
            .instrument(span),
        )
    }
}
