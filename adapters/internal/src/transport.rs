//! What a transport must do: carry one encoded request to a named RPC and bring back the encoded
//! answer or the callee's [`Failure`](crate::wire::Failure).

use std::pin::Pin;

use async_trait::async_trait;
use futures_util::{Stream, StreamExt as _};
use prost::Message;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::context::CallMeta;
use crate::wire;

/// How messages are encoded on a transport: protobuf on gRPC, JSON on internal HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    /// # Errors
    /// The message cannot be written as JSON (never for the generated messages, which hold only
    /// strings, numbers and nested messages).
    pub fn encode<M: Message + Serialize>(self, message: &M) -> Result<Vec<u8>, anyhow::Error> {
        match self {
            Self::Protobuf => Ok(message.encode_to_vec()),
            Self::Json => Ok(serde_json::to_vec(message)?),
        }
    }

    /// # Errors
    /// The bytes are not a `M` in this encoding.
    pub fn decode<M: Message + Default + DeserializeOwned>(
        self,
        bytes: &[u8],
    ) -> Result<M, anyhow::Error> {
        match self {
            Self::Protobuf => Ok(M::decode(bytes)?),
            Self::Json => Ok(serde_json::from_slice(bytes)?),
        }
    }
}

/// Why a remote call did not produce an answer.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The callee answered with a failure of its own.
    #[error("the remote tier refused the call ({:?})", .0.kind())]
    Refused(wire::Failure),
    /// The call never reached the callee (connection refused, TLS refused, the guard's open
    /// breaker or full bulkhead): nothing happened there. Retrying later may succeed.
    #[error("the remote tier is unreachable")]
    Unreachable(#[source] anyhow::Error),
    /// The call may have reached the callee and no usable answer came back (a timeout, a
    /// connection cut mid-call, an answer that is not this protocol): a write may have been
    /// applied. Retrying later may succeed; retrying a write may apply it twice.
    #[error("the remote tier did not answer")]
    NoAnswer(#[source] anyhow::Error),
}

/// The answers of a server-streaming RPC, encoded, in the order the callee sent them. It ends
/// when the callee ends the feed; a broken link yields one `NoAnswer` item, then the end.
/// Dropping it cancels the call on the callee (gRPC: the stream is reset; HTTP: the connection
/// is closed), which drops the callee's side of the feed.
pub type MessageStream = Pin<Box<dyn Stream<Item = Result<Vec<u8>, RemoteError>> + Send>>;

/// One link to a remote tier. Implementations reuse their connections (no handshake per call)
/// and bound every call by their configured timeout, reporting it as `NoAnswer`.
#[async_trait]
pub trait Transport: Send + Sync {
    fn encoding(&self) -> Encoding;

    /// Sends `body` to the RPC at `path` (`/arcana.internal.v1.Storage/FindUserById`).
    async fn call(
        &self,
        path: &'static str,
        body: Vec<u8>,
        meta: &CallMeta,
    ) -> Result<Vec<u8>, RemoteError>;

    /// Opens the server-streaming RPC at `path` (`/arcana.internal.v1.Jobs/Watch`) with `body`.
    /// Opening (up to the callee's accepting or refusing the call) is bounded by the call
    /// timeout, as for [`Transport::call`]; the stream itself lives as long as the feed, and a
    /// dead peer is detected by the transport's own liveness checks, not by that timeout.
    async fn open_stream(
        &self,
        path: &'static str,
        body: Vec<u8>,
        meta: &CallMeta,
    ) -> Result<MessageStream, RemoteError>;
}

/// Encodes `request`, calls `path` and decodes the answer.
pub(crate) async fn invoke<Req, Resp>(
    transport: &dyn Transport,
    path: &'static str,
    request: &Req,
    meta: &CallMeta,
) -> Result<Resp, RemoteError>
where
    Req: Message + Serialize,
    Resp: Message + Default + DeserializeOwned,
{
    let encoding = transport.encoding();
    let body = encoding.encode(request).map_err(RemoteError::Unreachable)?;
    let answer = transport.call(path, body, meta).await?;
    encoding
        .decode(&answer)
        .map_err(|err| RemoteError::NoAnswer(err.context(format!("decoding the answer of {path}"))))
}

/// The decoded answers of a server-streaming RPC.
pub(crate) type Answers<Resp> = Pin<Box<dyn Stream<Item = Result<Resp, RemoteError>> + Send>>;

/// Encodes `request`, opens the server-streaming RPC at `path` and decodes each answer; an
/// answer that does not decode ends the stream as a `NoAnswer` item.
pub(crate) async fn subscribe<Req, Resp>(
    transport: &dyn Transport,
    path: &'static str,
    request: &Req,
    meta: &CallMeta,
) -> Result<Answers<Resp>, RemoteError>
where
    Req: Message + Serialize,
    Resp: Message + Default + DeserializeOwned + Send + 'static,
{
    let encoding = transport.encoding();
    let body = encoding.encode(request).map_err(RemoteError::Unreachable)?;
    let stream = transport.open_stream(path, body, meta).await?;
    let decoded = stream.map(move |answer| {
        answer.and_then(|bytes| {
            encoding.decode(&bytes).map_err(|err| {
                RemoteError::NoAnswer(err.context(format!("decoding an answer of {path}")))
            })
        })
    });
    Ok(Box::pin(decoded))
}
