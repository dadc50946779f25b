//! The serving end: a tier's internal listener.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use arcana_adapter_internal::server::{self, Call, InternalApi, Refusal};
use arcana_adapter_internal::wire::{Failure, FailureKind};
use arcana_adapter_internal::{CallMeta, Encoding};
use arcana_ports::health::{Health, HealthCheck};
use bytes::Bytes;
use futures_util::{Stream, StreamExt as _};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::metadata::MetadataMap;
use tonic::server::{ServerStreamingService, UnaryService};
use tonic::service::Routes;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Server, ServerTlsConfig};
use tonic::{Request, Response, Status};
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tracing::Instrument as _;

use crate::codec::RawCodec;
use crate::identity;
use crate::status::from_failure;
use crate::tls::TlsMaterial;

/// Backstop for a readiness check that ignores its own timeout.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// What one internal listener serves, and to whom.
pub struct InternalListener {
    pub api: Arc<dyn InternalApi>,
    /// The only tier whose certificate may call (`controller` for the service tier, `service`
    /// for the repository tier).
    pub caller: &'static str,
    pub tls: TlsMaterial,
    /// What readiness (the gRPC health service) follows: this tier's own dependencies, the next
    /// tier included.
    pub health: Vec<Arc<dyn HealthCheck>>,
    pub health_interval: Duration,
    pub request_timeout: Duration,
}

/// Serves `listener` until `shutdown` resolves, then drains in-flight calls.
///
/// # Errors
/// The TLS configuration is refused or the server fails.
pub async fn serve(
    listener: TcpListener,
    config: InternalListener,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let (reporter, health_service) = tonic_health::server::health_reporter();
    let follower = follow_readiness(reporter, config.health, config.health_interval).await;
    // Live feeds end when shutdown starts, so that draining the calls in flight terminates.
    let (stop, stopping) = watch::channel(false);
    let dispatch = Dispatch {
        api: config.api,
        caller: Arc::new(identity::Admission::new(config.caller)),
        stopping,
    };
    let dispatcher = axum::Router::new().fallback_service(tower::service_fn(move |request| {
        let dispatch = dispatch.clone();
        async move { Ok::<_, Infallible>(dispatch.handle(request).await) }
    }));
    let routes = Routes::from(dispatcher).add_service(health_service);
    let tls = ServerTlsConfig::new()
        .identity(config.tls.identity.clone())
        .client_ca_root(config.tls.ca.clone());
    let outcome = Server::builder()
        .tls_config(tls)
        .context("configuring the internal listener's TLS")?
        .timeout(config.request_timeout)
        .tcp_nodelay(true)
        .add_routes(routes)
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), async move {
            shutdown.await;
            let _ = stop.send(true);
        })
        .await
        .context("serving internal gRPC");
    follower.abort();
    outcome
}

/// Routes every internal RPC path to the tier's API, after checking the caller's tier.
#[derive(Clone)]
struct Dispatch {
    api: Arc<dyn InternalApi>,
    caller: Arc<identity::Admission>,
    stopping: watch::Receiver<bool>,
}

impl Dispatch {
    async fn handle(
        &self,
        request: http::Request<axum::body::Body>,
    ) -> http::Response<tonic::body::Body> {
        let rpc = Rpc {
            api: self.api.clone(),
            caller: self.caller.clone(),
            path: request.uri().path().to_owned(),
            stopping: self.stopping.clone(),
        };
        let mut grpc = tonic::server::Grpc::new(RawCodec);
        // tonic's own limit (4 MiB) stands for every other RPC.
        if server::LARGER_BODIES.contains(&rpc.path.as_str()) {
            grpc = grpc.max_decoding_message_size(server::body_limit(&rpc.path));
        }
        if server::is_stream(&*self.api, &rpc.path) {
            grpc.server_streaming(rpc, request).await
        } else {
            grpc.unary(rpc, request).await
        }
    }
}

/// One call to one RPC path.
struct Rpc {
    api: Arc<dyn InternalApi>,
    caller: Arc<identity::Admission>,
    path: String,
    stopping: watch::Receiver<bool>,
}

type Pending<T> = std::pin::Pin<Box<dyn Future<Output = Result<Response<T>, Status>> + Send>>;
type Answers = std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, Status>> + Send>>;

impl Rpc {
    /// The call, if the peer is the tier allowed to make it.
    fn admit(&self, request: Request<Bytes>) -> Result<Call, Status> {
        if !self.caller.admits(request.peer_certs().as_ref()) {
            tracing::warn!(rpc = %self.path, expected = self.caller.tier(), "internal call refused: the peer is not the allowed tier");
            let refused = Failure {
                kind: FailureKind::PeerRefused.into(),
                ..Failure::default()
            };
            return Err(from_failure(&refused));
        }
        Ok(Call {
            encoding: Encoding::Protobuf,
            meta: call_meta(request.metadata()),
            body: request.into_inner().to_vec(),
        })
    }
}

fn refused(path: &str, refusal: Refusal) -> Status {
    match refusal {
        Refusal::UnknownMethod => Status::unimplemented(format!("no such internal RPC: {path}")),
        Refusal::Failed(failure) => from_failure(&failure),
    }
}

impl UnaryService<Bytes> for Rpc {
    type Response = Bytes;
    type Future = Pending<Bytes>;

    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        let admitted = self.admit(request);
        let api = self.api.clone();
        let path = std::mem::take(&mut self.path);
        Box::pin(async move {
            match server::serve(&*api, &path, admitted?).await {
                Ok(answer) => Ok(Response::new(Bytes::from(answer))),
                Err(refusal) => Err(refused(&path, refusal)),
            }
        })
    }
}

impl ServerStreamingService<Bytes> for Rpc {
    type Response = Bytes;
    type ResponseStream = Answers;
    type Future = Pending<Answers>;

    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        let admitted = self.admit(request);
        let api = self.api.clone();
        let path = std::mem::take(&mut self.path);
        let stopping = self.stopping.clone();
        Box::pin(async move {
            match server::serve_stream(&*api, &path, admitted?).await {
                Ok(answers) => {
                    let answers = server::until_stopping(answers, stopping)
                        .map(|answer| Ok(Bytes::from(answer)));
                    Ok(Response::new(Box::pin(answers) as Answers))
                }
                Err(refusal) => Err(refused(&path, refusal)),
            }
        })
    }
}

fn call_meta(metadata: &MetadataMap) -> CallMeta {
    CallMeta::read(|key| {
        metadata
            .get(key)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    })
}

/// Keeps the health statuses in step with `checks`, re-checked every `interval`: the overall
/// one (`""`), and one per dependency under its name (`repository`, `database` …), so that the
/// tier above can say which one is missing.
async fn follow_readiness(
    reporter: HealthReporter,
    checks: Vec<Arc<dyn HealthCheck>>,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    let mut published = statuses(&checks).await;
    publish(&reporter, &published).await;
    tokio::spawn(
        async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                let now = statuses(&checks).await;
                if now != published {
                    tracing::info!(serving = now[0].1, "internal readiness changed");
                    publish(&reporter, &now).await;
                    published = now;
                }
            }
        }
        .in_current_span(),
    )
}

async fn publish(reporter: &HealthReporter, statuses: &[(&'static str, bool)]) {
    for (name, up) in statuses {
        let status = if *up {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        reporter.set_service_status(*name, status).await;
    }
}

/// The overall status first (every required check up), then each check's.
async fn statuses(checks: &[Arc<dyn HealthCheck>]) -> Vec<(&'static str, bool)> {
    let mut each = Vec::with_capacity(checks.len());
    let mut serving = true;
    for check in checks {
        let outcome = tokio::time::timeout(CHECK_TIMEOUT, check.check()).await;
        let up = matches!(outcome, Ok(Health::Up { .. }));
        serving &= up || !check.required();
        each.push((check.name(), up));
    }
    std::iter::once(("", serving)).chain(each).collect()
}
