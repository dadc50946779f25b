//! The tower layer around every call: request id (adopted from `x-request-id` metadata or a new
//! UUIDv7, echoed in the response metadata), a tracing span carrying it, and metrics.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use http::{HeaderName, HeaderValue, Method, Request, Response};
use tower::{Layer, Service};
use tracing::Instrument;
use uuid::Uuid;

use crate::metrics::{GrpcMetrics, code_name, labels};

pub(crate) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");

#[derive(Clone)]
pub(crate) struct ObserveLayer {
    pub(crate) metrics: GrpcMetrics,
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

#[derive(Clone)]
pub(crate) struct Observe<S> {
    inner: S,
    metrics: GrpcMetrics,
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Observe<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let id = request_id(request.headers().get(X_REQUEST_ID));
        // Handlers read it back from the request metadata.
        request.headers_mut().insert(X_REQUEST_ID, id.clone());
        // Preflights and other non-calls (CORS OPTIONS) are not gRPC calls to count.
        let call = (request.method() == Method::POST).then(|| request.uri().clone());
        let span = tracing::info_span!(
            "grpc_request",
            rpc = request.uri().path(),
            request_id = id.to_str().unwrap_or_default(),
            trace_id = tracing::field::Empty,
        );
        let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
        arcana_adapter_otel::continue_trace(&span, header("traceparent"), header("tracestate"));
        let started = Instant::now();
        let response = self.inner.call(request);
        let metrics = self.metrics.clone();
        Box::pin(
            async move {
                let mut response = response.await?;
                response.headers_mut().insert(X_REQUEST_ID, id);
                if let Some(uri) = call {
                    // Errors are trailers-only responses (status in the headers); a unary call
                    // whose headers carry no status succeeded, its OK comes in the trailers.
                    let code = response
                        .headers()
                        .get(GRPC_STATUS)
                        .map_or("OK", |status| code_name(status.as_bytes()));
                    let (service, method) = labels(uri.path(), code);
                    metrics.observe(service, method, code, started.elapsed());
                }
                Ok(response)
            }
            .instrument(span),
        )
    }
}

/// The caller's id when it is a sane token (so log lines cannot be forged), else a new UUIDv7.
fn request_id(incoming: Option<&HeaderValue>) -> HeaderValue {
    match incoming {
        Some(value) if arcana_ports::usecases::is_acceptable_request_id(value.as_bytes()) => {
            value.clone()
        }
        _ => {
            let mut buffer = Uuid::encode_buffer();
            let text = Uuid::now_v7().hyphenated().encode_lower(&mut buffer);
            HeaderValue::from_str(text).expect("a UUID is a valid header value")
        }
    }
}
