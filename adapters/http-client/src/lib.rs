//! Internal HTTP/JSON between Arcana's tiers: the transport of the `layered-http` mode, both ends.
//!
//! - [`HttpTransport`] implements the internal [`Transport`](arcana_adapter_internal::Transport)
//!   over a pool of keep-alive TLS connections (no handshake per call), so the remote port
//!   clients of `arcana-adapter-internal` run over it unchanged. A call is
//!   `POST {tiers url}{rpc path}` with the request message as JSON; every call carries the
//!   link's service credential in [`CREDENTIAL_HEADER`].
//! - [`serve`] runs a tier's internal listener: TLS only, and every request but the two health
//!   probes must present the link's credential, checked in constant time before anything else
//!   (401 otherwise, whatever the path). `/health/ready` reports this tier's readiness,
//!   downstream included.
//!
//! Both ends trust only the deployment's CA and expect the callee's certificate to name its tier
//! (`service`, `repository`), as the gRPC transport does: the same `arcana tls init` material
//! and the same `tiers.*_url` values work for either transport.
//!
//! A server-streaming RPC (the job event feed) answers `200` with newline-delimited JSON, one
//! message per line, and an empty line as a heartbeat while the feed is quiet, so both ends
//! notice a vanished peer within 30 seconds.
//!
//! The RPC paths are those the internal protos declare (`/arcana.internal.v1.Storage/InsertUser`);
//! a refusal travels as the internal `Failure` envelope in JSON, under its own media type so that
//! nothing else (a proxy's error page) is ever mistaken for one.

mod credential;
mod ndjson;
mod server;
mod status;
mod tls;
mod transport;

pub use credential::CREDENTIAL_HEADER;
pub use server::{InternalHttpListener, serve};
pub use transport::{HttpHealth, HttpTransport};
