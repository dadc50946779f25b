//! The internal APIs between Arcana's tiers (controller → service → repository), independent of
//! the transport that carries them.
//!
//! The contracts are `proto/arcana/internal/v1`: the *service API* mirrors the driving ports and
//! the *storage API* the storage ports, one RPC per port method. This crate holds everything
//! both transports share, so that an RPC, a conversion or an error rule is written once:
//!
//! - [`wire`]: the generated messages (prost, with serde for the HTTP transport's JSON);
//! - conversions between domain values and messages, always through the domain parsers;
//! - the [`Failure`](wire::Failure) envelope, mapped exhaustively to and from every port error;
//! - [`client`]: remote adapters implementing the ports over any [`Transport`];
//! - [`server`]: the dispatch from a method name and an encoded body to the local ports.
//!
//! `arcana-adapter-grpc-client` and `arcana-adapter-http-client` provide the transports (a
//! [`Transport`] and a listener each). Nothing here opens a socket.

mod bytes_json;
mod convert;
mod failure;

pub mod client;
pub mod context;
pub mod server;
pub mod transport;
pub mod wire;

pub use context::CallMeta;
pub use transport::{Encoding, MessageStream, RemoteError, Transport};

/// Default protobuf package of every internal service.
pub const PACKAGE: &str = "arcana.internal.v1";
