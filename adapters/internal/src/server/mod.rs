//! The serving side of the internal APIs: from an RPC path and an encoded body to the local
//! ports, whatever the transport. Each transport authenticates the calling tier, then hands the
//! call to [`serve`].

mod service;
mod storage;

pub use service::ServiceApi;
pub use storage::StorageApi;

use async_trait::async_trait;
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

/// The ports one tier exposes to the tier above it.
#[async_trait]
pub trait InternalApi: Send + Sync {
    /// The proto service names this API answers, e.g. `arcana.internal.v1.Storage`.
    fn services(&self) -> &'static [&'static str];

    async fn handle(&self, service: &str, method: &str, call: Call) -> Result<Vec<u8>, Refusal>;
}

/// Serves one call at `path` (`/arcana.internal.v1.Storage/FindUserById`): inside a span that
/// carries the forwarded request id, so this tier's log lines name the same request as the
/// caller's, and with the request recorded for the calls this one makes in turn.
pub async fn serve(api: &dyn InternalApi, path: &str, call: Call) -> Result<Vec<u8>, Refusal> {
    let Some((service, method)) = path.strip_prefix('/').and_then(|rest| rest.split_once('/'))
    else {
        return Err(Refusal::UnknownMethod);
    };
    if !api.services().contains(&service) {
        return Err(Refusal::UnknownMethod);
    }
    let request = call.meta.request.clone();
    let span = tracing::info_span!(
        "internal_call",
        rpc = path,
        request_id = request.request_id.as_deref().unwrap_or(""),
    );
    let handled = async move {
        let answer = api.handle(service, method, call).await;
        tracing::debug!(ok = answer.is_ok(), "internal call served");
        answer
    };
    context::serving(request, handled).instrument(span).await
}
