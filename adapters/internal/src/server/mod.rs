//! The serving side of the internal APIs: from an RPC path and an encoded body to the local
//! ports, whatever the transport. Each transport authenticates the calling tier, then hands the
//! call to [`serve`].

mod jobs;
mod plugins;
mod service;
mod storage;

pub use plugins::{INSTALL, ROUTE, ServicePlugins};
pub use service::ServiceApi;
pub use storage::StorageApi;

/// The RPCs whose requests may exceed [`body_limit`]'s default.
pub const LARGER_BODIES: [&str; 2] = [INSTALL, ROUTE];

/// The largest request body a transport accepts for `path`: internal messages are a user
/// record or a session at most, except a plugin route's body (up to 1 MiB, base64 on internal
/// HTTP) and a module upload (up to 32 MiB). Anything bigger is a confused or hostile caller.
pub fn body_limit(path: &str) -> usize {
    const MIB: usize = 1024 * 1024;
    match path {
        INSTALL => 48 * MIB,
        ROUTE => 2 * MIB,
        _ => MIB,
    }
}

use std::pin::Pin;

use async_trait::async_trait;
use futures_util::{Stream, StreamExt as _};
use prost::Message;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument as _;

use crate::context::{self, CallMeta};
use crate::failure;
use crate::transport::Encoding;
use crate::wire::Failure;

/// One decoded-enough call: which method, how the body is encoded, and its metadata.
pub struct Call {
    pub encoding: Encoding,
    pub body: Vec<u8>,
    pub meta: CallMeta,
}

impl Call {
    pub(crate) fn decode<M: Message + Default + DeserializeOwned>(&self) -> Result<M, Refusal> {
        self.encoding
            .decode(&self.body)
            .map_err(|err| Refusal::Failed(failure::malformed(&err)))
    }

    pub(crate) fn reply<M: Message + Serialize>(&self, message: &M) -> Result<Vec<u8>, Refusal> {
        self.encoding
            .encode(message)
            .map_err(|err| Refusal::Failed(failure::malformed(&err)))
    }
}

/// Why a call produced no answer.
#[derive(Debug)]
pub enum Refusal {
    /// The API has no such method (gRPC UNIMPLEMENTED, HTTP 404).
    UnknownMethod,
    /// The port refused, or failed; the failure says how, for the caller to rebuild.
    Failed(Failure),
}

impl From<Failure> for Refusal {
    fn from(failure: Failure) -> Self {
        Self::Failed(failure)
    }
}

/// The answers of a server-streaming RPC, each encoded in the call's encoding. The transport
/// sends them as the caller reads them (so a slow caller holds at most what the feed itself
/// buffers) and drops the stream when the caller goes away or the listener stops.
pub type AnswerStream = Pin<Box<dyn Stream<Item = Vec<u8>> + Send>>;

/// The ports one tier exposes to the tier above it.
#[async_trait]
pub trait InternalApi: Send + Sync {
    /// The proto service names this API answers, e.g. `arcana.internal.v1.Storage`.
    fn services(&self) -> &'static [&'static str];

    /// The paths of the server-streaming RPCs among them (`/arcana.internal.v1.Jobs/Watch`);
    /// every other RPC is unary. None by default.
    fn streams(&self) -> &'static [&'static str] {
        &[]
    }

    async fn handle(&self, service: &str, method: &str, call: Call) -> Result<Vec<u8>, Refusal>;

    /// Opens one of [`InternalApi::streams`]. An API without streaming RPCs has nothing to open.
    async fn open_stream(
        &self,
        service: &str,
        method: &str,
        call: Call,
    ) -> Result<AnswerStream, Refusal> {
        let _ = (service, method, call);
        Err(Refusal::UnknownMethod)
    }
}

/// Whether `path` names a server-streaming RPC of `api`, which the transport then answers with
/// a stream rather than one message.
pub fn is_stream(api: &dyn InternalApi, path: &str) -> bool {
    api.streams().contains(&path)
}

fn split(path: &str) -> Option<(&str, &str)> {
    path.strip_prefix('/').and_then(|rest| rest.split_once('/'))
}

fn call_span(path: &str, call: &Call) -> tracing::Span {
    let request = &call.meta.request;
    let span = tracing::info_span!(
        "internal_call",
        rpc = path,
        request_id = request.request_id.as_deref().unwrap_or(""),
        trace_id = tracing::field::Empty,
    );
    arcana_adapter_otel::continue_trace(
        &span,
        request.traceparent.as_deref(),
        request.tracestate.as_deref(),
    );
    span
}

/// Serves one call at `path` (`/arcana.internal.v1.Storage/FindUserById`): inside a span that
/// carries the forwarded request id, so this tier's log lines name the same request as the
/// caller's, and with the request recorded for the calls this one makes in turn.
pub async fn serve(api: &dyn InternalApi, path: &str, call: Call) -> Result<Vec<u8>, Refusal> {
    let Some((service, method)) = split(path) else {
        return Err(Refusal::UnknownMethod);
    };
    if !api.services().contains(&service) {
        return Err(Refusal::UnknownMethod);
    }
    let request = call.meta.request.clone();
    let span = call_span(path, &call);
    let handled = async move {
        let answer = api.handle(service, method, call).await;
        tracing::debug!(ok = answer.is_ok(), "internal call served");
        answer
    };
    context::serving(request, handled).instrument(span).await
}

/// Opens the server-streaming call at `path`, in the same span and request context as [`serve`]
/// gives a unary call; the answers then flow outside it, for as long as the caller reads.
pub async fn serve_stream(
    api: &dyn InternalApi,
    path: &str,
    call: Call,
) -> Result<AnswerStream, Refusal> {
    let Some((service, method)) = split(path) else {
        return Err(Refusal::UnknownMethod);
    };
    if !api.services().contains(&service) || !is_stream(api, path) {
        return Err(Refusal::UnknownMethod);
    }
    let request = call.meta.request.clone();
    let span = call_span(path, &call);
    let opened = async move {
        let answer = api.open_stream(service, method, call).await;
        tracing::debug!(ok = answer.is_ok(), "internal stream opened");
        answer
    };
    context::serving(request, opened).instrument(span).await
}

/// Ends `answers` as soon as `stopping` turns true (or its sender goes): a listener's graceful
/// shutdown waits for the calls in flight, and a live feed would otherwise never finish.
pub fn until_stopping(
    answers: AnswerStream,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> AnswerStream {
    let stopped = async move {
        let _ = stopping.wait_for(|stop| *stop).await;
    };
    Box::pin(answers.take_until(stopped))
}
