//! Internal gRPC between Arcana's tiers: the transport of the `layered-grpc` mode, both ends.
//!
//! - [`GrpcTransport`] implements the internal [`Transport`](arcana_adapter_internal::Transport)
//!   over one mutual-TLS channel (HTTP/2, multiplexed, reused: no handshake per call), so the
//!   remote port clients of `arcana-adapter-internal` run over it unchanged.
//! - [`serve`] runs a tier's internal listener: TLS only, client certificates required and
//!   verified against the deployment's CA, and on every call the caller's certificate must name
//!   the one tier allowed to call this one (the controller may call the service, the service the
//!   repository, nothing else). The standard `grpc.health.v1.Health` service reports this tier's
//!   readiness, downstream included.
//!
//! Messages are the internal contract's protobuf; the RPC paths are those the protos declare.

mod codec;
#[cfg(feature = "dev-certs")]
pub mod devcerts;
mod identity;
mod server;
mod status;
mod tls;
mod transport;

pub use server::{InternalListener, serve};
pub use tls::TlsMaterial;
pub use transport::{GrpcHealth, GrpcTransport};
