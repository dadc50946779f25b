//! Inbound rate limits on gRPC: per peer address on every call and per route class on sign-in
//! (a tower layer), per user once the bearer token is verified ([`per_user`]). A refused call
//! ends with `RESOURCE_EXHAUSTED` and `google.rpc.RetryInfo`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use arcana_ports::ratelimit::{LimitClass, RateLimiter, Subject, Verdict};
use http::{Method, Request, Response};
use prometheus::IntCounterVec;
use tonic::Status;
use tonic::transport::server::TcpConnectInfo;
use tower::{Layer, Service};

use crate::errors::throttled;

/// The sign-in RPCs, limited by the stricter `auth` class, as REST's authentication routes.
const AUTH_RPCS: [&str; 3] = [
    "/arcana.auth.v1.AuthService/Login",
    "/arcana.auth.v1.AuthService/Register",
    "/arcana.auth.v1.AuthService/Refresh",
];

/// The limiter, handed to the layer and, through the request extensions, to the bearer
/// extractor.
#[derive(Clone)]
pub struct GrpcLimits {
    pub limiter: Arc<dyn RateLimiter>,
    /// `grpc_rate_limited_total{class}`, registered by the caller.
    pub limited: IntCounterVec,
}

impl GrpcLimits {
    /// `Err` is the status to end the call with. An unreachable limiter lets the call through.
    pub(crate) async fn count(&self, class: LimitClass, subject: &Subject) -> Result<(), Status> {
        if self.limiter.quota(class).per_second == 0 {
            return Ok(());
        }
        match self.limiter.check(class, subject).await {
            Ok(Verdict::Allowed { .. }) => Ok(()),
            Ok(Verdict::Limited { retry_after }) => {
                self.limited.with_label_values(&[class.as_str()]).inc();
                Err(throttled(retry_after))
            }
            Err(err) => {
                // While the breaker is open every call would log the same outage again.
                if err.is_circuit_open() {
                    tracing::debug!(
                        class = class.as_str(),
                        "rate limiter's breaker open; call let through"
                    );
                } else {
                    tracing::warn!(error = %err, class = class.as_str(), "rate limiter unavailable; call let through");
                }
                Ok(())
            }
        }
    }
}

/// Counts the authenticated caller against the per-user limit, when limits are on.
pub(crate) async fn per_user<T>(
    request: &tonic::Request<T>,
    principal: &arcana_ports::usecases::Principal,
) -> Result<(), Status> {
    let Some(limits) = request.extensions().get::<GrpcLimits>() else {
        return Ok(());
    };
    let subject = Subject::User(principal.user.id());
    limits.count(LimitClass::PerUser, &subject).await
}

#[derive(Clone)]
pub(crate) struct LimitLayer(pub(crate) GrpcLimits);

impl<S> Layer<S> for LimitLayer {
    type Service = Limit<S>;

    fn layer(&self, inner: S) -> Limit<S> {
        Limit {
            inner,
            limits: self.0.clone(),
        }
    }
}

#[derive(Clone)]
pub(crate) struct Limit<S> {
    inner: S,
    limits: GrpcLimits,
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Limit<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        // The clone that was driven to readiness serves this call (tower's usual swap).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let limits = self.limits.clone();
        let peer = request
            .extensions()
            .get::<TcpConnectInfo>()
            .and_then(TcpConnectInfo::remote_addr)
            .map(|addr| addr.ip());
        let path = request.uri().path();
        let auth_call = AUTH_RPCS.contains(&path);
        // Probes and tooling are never limited, as REST's /health.
        let exempt = request.method() == Method::OPTIONS
            || path.starts_with("/grpc.health.")
            || path.starts_with("/grpc.reflection.");
        request.extensions_mut().insert(limits.clone());
        Box::pin(async move {
            if let (Some(peer), false) = (peer, exempt) {
                let subject = Subject::Address(peer);
                let mut verdict = limits.count(LimitClass::PerIp, &subject).await;
                if verdict.is_ok() && auth_call {
                    verdict = limits.count(LimitClass::Auth, &subject).await;
                }
                if let Err(status) = verdict {
                    return Ok(status.into_http());
                }
            }
            inner.call(request).await
        })
    }
}

/// Past `server.max_in_flight` requests in flight (REST and gRPC together), a call ends at once
/// with `UNAVAILABLE` and `RetryInfo` of one second instead of queueing into timeouts. Health
/// and reflection are never shed.
#[derive(Clone)]
pub(crate) struct ShedLayer {
    pub(crate) in_flight: Arc<tokio::sync::Semaphore>,
    pub(crate) shed: prometheus::IntCounter,
}

impl<S> Layer<S> for ShedLayer {
    type Service = Shed<S>;

    fn layer(&self, inner: S) -> Shed<S> {
        Shed {
            inner,
            layer: self.clone(),
        }
    }
}

#[derive(Clone)]
pub(crate) struct Shed<S> {
    inner: S,
    layer: ShedLayer,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Shed<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let path = request.uri().path();
        let exempt = path.starts_with("/grpc.health.") || path.starts_with("/grpc.reflection.");
        let slot = if exempt {
            None
        } else if let Ok(permit) = self.layer.in_flight.clone().try_acquire_owned() {
            Some(permit)
        } else {
            self.layer.shed.inc();
            let mut details = tonic_types::ErrorDetails::new();
            details.set_retry_info(Some(std::time::Duration::from_secs(1)));
            let status = <Status as tonic_types::StatusExt>::with_error_details(
                tonic::Code::Unavailable,
                "The server is at capacity. Retry shortly.",
                details,
            );
            return Box::pin(async move { Ok(status.into_http()) });
        };
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await;
            drop(slot);
            response
        })
    }
}
