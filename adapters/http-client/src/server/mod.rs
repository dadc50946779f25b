//! The serving end: a tier's internal HTTP listener.

mod health;
mod listener;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use arcana_adapter_internal::server::{self, Call, InternalApi, Refusal};
use arcana_adapter_internal::wire::{Failure, FailureKind};
use arcana_adapter_internal::{CallMeta, Encoding};
use arcana_ports::health::HealthCheck;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse as _, Response};
use axum::routing::{get, post};
use http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::timeout::TimeoutLayer;

use crate::credential::ExpectedCredential;
use crate::ndjson;
use crate::status::failure_response;
use listener::TlsListener;

/// The largest request body accepted but on [`server::LARGER_BODIES`].
const BODY_LIMIT: usize = 1024 * 1024;

/// What one internal listener serves, and to whom.
pub struct InternalHttpListener {
    pub api: Arc<dyn InternalApi>,
    /// The link's credential (`tiers.service_credential` on the service tier,
    /// `tiers.repository_credential` on the repository tier): the only caller admitted is the
    /// one presenting it.
    pub credential: String,
    /// This tier's certificate chain (PEM); it must name the tier, which callers check.
    pub cert_pem: Vec<u8>,
    /// This tier's private key (PEM).
    pub key_pem: Vec<u8>,
    /// What `/health/ready` follows: this tier's own dependencies, the next tier included.
    pub health: Vec<Arc<dyn HealthCheck>>,
    /// Bounds each request (reading its body included) and each TLS handshake; past it the
    /// caller gets 503, its cue to retry later.
    pub request_timeout: Duration,
}

impl std::fmt::Debug for InternalHttpListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InternalHttpListener")
            .field("services", &self.api.services())
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

/// Serves `listener` (TLS only) until `shutdown` resolves, then stops accepting and finishes
/// the requests in flight.
///
/// # Errors
/// The credential is empty, the certificate or key is unusable, or the server fails.
pub async fn serve(
    listener: TcpListener,
    config: InternalHttpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let credential = Arc::new(ExpectedCredential::new(&config.credential)?);
    let tls = crate::tls::server_config(&config.cert_pem, &config.key_pem)?;
    let listener = TlsListener::new(listener, tls, config.request_timeout)
        .context("reading the internal listener's address")?;
    // Live feeds end when shutdown starts, so that finishing the requests in flight terminates.
    let (stop_feeds, stopping) = watch::channel(false);
    let rpc = Rpc {
        api: config.api,
        stopping,
    };
    let app = router(rpc, credential, config.health, config.request_timeout);

    // axum wants a `'static` shutdown signal; relaying it keeps this signature the gRPC one.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async {
        let _ = stopped.await;
    });
    let mut serving = std::pin::pin!(server.into_future());
    tokio::select! {
        outcome = &mut serving => return outcome.context("serving internal HTTP"),
        () = shutdown => {
            let _ = stop_feeds.send(true);
            let _ = stop.send(());
        }
    }
    serving.await.context("draining internal HTTP")
}

/// Every path but the two probes sits behind the credential; the probes are added after the
/// gate's layer, which therefore does not wrap them.
fn router(
    rpc: Rpc,
    credential: Arc<ExpectedCredential>,
    checks: Vec<Arc<dyn HealthCheck>>,
    request_timeout: Duration,
) -> Router {
    let mut rpc_routes = Router::new();
    for path in server::LARGER_BODIES {
        rpc_routes = rpc_routes.route(
            path,
            post(dispatch).layer(DefaultBodyLimit::max(server::body_limit(path))),
        );
    }
    let rpc = rpc_routes
        .route("/{*rpc}", post(dispatch))
        .fallback(no_such_path)
        .with_state(rpc)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            request_timeout,
        ))
        .layer(middleware::from_fn_with_state(
            credential,
            require_credential,
        ));
    let probes = Router::new()
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .with_state(Arc::new(checks));
    rpc.merge(probes)
}

/// Refuses, before reading anything else of the request, a caller without the credential.
async fn require_credential(
    State(credential): State<Arc<ExpectedCredential>>,
    request: Request,
    next: Next,
) -> Response {
    if credential.admits(request.headers()) {
        return next.run(request).await;
    }
    tracing::warn!(path = %request.uri().path(), "internal call refused: no valid service credential");
    let refused = Failure {
        kind: FailureKind::PeerRefused.into(),
        ..Failure::default()
    };
    failure_response(&refused)
}

/// What the RPC routes serve: the tier's API, and the signal that ends its live feeds.
#[derive(Clone)]
struct Rpc {
    api: Arc<dyn InternalApi>,
    stopping: watch::Receiver<bool>,
}

async fn dispatch(State(rpc): State<Rpc>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let call = Call {
        encoding: Encoding::Json,
        body: body.into(),
        meta: call_meta(&headers),
    };
    let api = &*rpc.api;
    if server::is_stream(api, uri.path()) {
        return match server::serve_stream(api, uri.path(), call).await {
            Ok(answers) => feed(server::until_stopping(answers, rpc.stopping)),
            Err(Refusal::UnknownMethod) => no_such_path().await,
            Err(Refusal::Failed(failure)) => failure_response(&failure),
        };
    }
    match server::serve(api, uri.path(), call).await {
        Ok(answer) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            answer,
        )
            .into_response(),
        Err(Refusal::UnknownMethod) => no_such_path().await,
        Err(Refusal::Failed(failure)) => failure_response(&failure),
    }
}

/// A server-streaming answer: chunked newline-delimited JSON, sent as the caller reads it.
fn feed(answers: server::AnswerStream) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(ndjson::MEDIA_TYPE),
        )],
        Body::from_stream(ndjson::write(answers, ndjson::HEARTBEAT)),
    )
        .into_response()
}

/// Not a [`Failure`]: like gRPC's UNIMPLEMENTED, the caller reads it as a peer that does not
/// speak its version of the contract.
async fn no_such_path() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({ "error": "no such internal RPC" })),
    )
        .into_response()
}

fn call_meta(headers: &HeaderMap) -> CallMeta {
    CallMeta::read(|name| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    })
}
