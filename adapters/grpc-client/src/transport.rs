//! The calling end: one mutual-TLS channel to the next tier.

use std::time::Duration;

use anyhow::Context as _;
use arcana_adapter_internal::{CallMeta, Encoding, MessageStream, RemoteError, Transport};
use arcana_ports::health::{Health, HealthCheck};
use async_trait::async_trait;
use bytes::Bytes;
use http::uri::PathAndQuery;
use tonic::Status;
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::codec::RawCodec;
use crate::status::into_remote_error;
use crate::tls::TlsMaterial;

/// A link to one remote tier. Cloning shares the channel.
#[derive(Clone)]
pub struct GrpcTransport {
    channel: Channel,
    /// The tier on the other end: the name its certificate must carry.
    tier: &'static str,
}

impl GrpcTransport {
    fn request(body: Vec<u8>, meta: &CallMeta) -> tonic::Request<Bytes> {
        let mut request = tonic::Request::new(Bytes::from(body));
        *request.metadata_mut() = metadata(meta);
        request
    }

    async fn ready(&self) -> Result<tonic::client::Grpc<Channel>, RemoteError> {
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        grpc.ready()
            .await
            .map_err(|err| RemoteError::Unreachable(anyhow::anyhow!(err)))?;
        Ok(grpc)
    }

    /// Connects lazily to `url` (`https://host:port`), trusting only the deployment's CA and
    /// expecting the server's certificate to name `tier`; every call is bounded by `timeout`,
    /// connecting included, so a dead tier costs at most that.
    ///
    /// # Errors
    /// The URL or the TLS material is unusable.
    pub fn connect_lazy(
        url: &str,
        tier: &'static str,
        tls: &TlsMaterial,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let tls_config = ClientTlsConfig::new()
            .domain_name(tier)
            .ca_certificate(tls.ca.clone())
            .identity(tls.identity.clone());
        let channel = Endpoint::from_shared(url.to_owned())
            .with_context(|| format!("tiers URL {url:?}"))?
            .tls_config(tls_config)
            .context("configuring TLS toward the next tier")?
            // Connecting (TCP and TLS) gets half the call's budget: a tier that cannot be
            // connected to in that time then reports "never reached" (nothing was sent) rather
            // than racing the call's own timeout, which means "outcome unknown".
            .connect_timeout(timeout / 2)
            .timeout(timeout)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_while_idle(true)
            .connect_lazy();
        Ok(Self { channel, tier })
    }

    /// The readiness check of the tier on the other end, as its gRPC health service reports it;
    /// when it is not ready, the report names which of `downstream` (that tier's own
    /// dependencies, e.g. `repository`) it lacks.
    pub fn health(&self, downstream: &'static [&'static str]) -> GrpcHealth {
        GrpcHealth {
            channel: self.channel.clone(),
            tier: self.tier,
            downstream,
        }
    }
}

fn metadata(meta: &CallMeta) -> MetadataMap {
    let mut map = MetadataMap::new();
    for (key, value) in meta.entries() {
        if let Ok(value) = MetadataValue::try_from(value) {
            map.insert(key, value);
        }
    }
    map
}

#[async_trait]
impl Transport for GrpcTransport {
    fn encoding(&self) -> Encoding {
        Encoding::Protobuf
    }

    async fn call(
        &self,
        path: &'static str,
        body: Vec<u8>,
        meta: &CallMeta,
    ) -> Result<Vec<u8>, RemoteError> {
        let mut grpc = self.ready().await?;
        match grpc
            .unary(
                Self::request(body, meta),
                PathAndQuery::from_static(path),
                RawCodec,
            )
            .await
        {
            Ok(response) => Ok(response.into_inner().to_vec()),
            Err(status) => Err(into_remote_error(&status)),
        }
    }

    /// A server-streaming call on the same channel. The channel's timeout bounds only the wait
    /// for the response head; the messages then flow under HTTP/2 flow control (a slow reader
    /// holds the callee back rather than buffering here), and the channel's keep-alive pings
    /// detect a dead peer. Dropping the stream resets it, which the callee sees at once.
    async fn open_stream(
        &self,
        path: &'static str,
        body: Vec<u8>,
        meta: &CallMeta,
    ) -> Result<MessageStream, RemoteError> {
        let mut grpc = self.ready().await?;
        let response = grpc
            .server_streaming(
                Self::request(body, meta),
                PathAndQuery::from_static(path),
                RawCodec,
            )
            .await
            .map_err(|status| into_remote_error(&status))?;
        let messages =
            futures_util::stream::unfold(Some(response.into_inner()), |state| async move {
                let mut messages = state?;
                match messages.message().await {
                    Ok(Some(bytes)) => Some((Ok(bytes.to_vec()), Some(messages))),
                    Ok(None) => None,
                    Err(status) => Some((Err(into_remote_error(&status)), None)),
                }
            });
        Ok(Box::pin(messages))
    }
}

/// Readiness of the next tier: its `grpc.health.v1.Health` answer for the whole server, which
/// in turn covers the tier behind it.
pub struct GrpcHealth {
    channel: Channel,
    tier: &'static str,
    downstream: &'static [&'static str],
}

impl GrpcHealth {
    async fn serving(&self, service: &str) -> Result<bool, Status> {
        let mut client = HealthClient::new(self.channel.clone());
        let request = HealthCheckRequest {
            service: service.to_owned(),
        };
        let answer = client.check(request).await?;
        Ok(answer.get_ref().status() == ServingStatus::Serving)
    }
}

#[async_trait]
impl HealthCheck for GrpcHealth {
    fn name(&self) -> &'static str {
        self.tier
    }

    async fn check(&self) -> Health {
        match self.serving("").await {
            Ok(true) => Health::Up {
                detail: format!("{} tier serving (gRPC)", self.tier),
            },
            Ok(false) => {
                let mut down = Vec::new();
                for name in self.downstream {
                    if !matches!(self.serving(name).await, Ok(true)) {
                        down.push(*name);
                    }
                }
                let reason = if down.is_empty() {
                    format!("the {} tier is not ready", self.tier)
                } else {
                    format!(
                        "the {} tier is not ready: {} down",
                        self.tier,
                        down.join(", ")
                    )
                };
                Health::Down { reason }
            }
            Err(status) => Health::Down {
                reason: format!(
                    "the {} tier is unreachable ({:?})",
                    self.tier,
                    status.code()
                ),
            },
        }
    }
}
