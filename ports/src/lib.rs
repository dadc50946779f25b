//! Every port of Arcana, as traits the application is written against.
//!
//! *Driven* ports (storage, security, clock, queue, cache, …) are implemented by adapters in
//! `adapters/*`; *driving* ports ([`usecases`]) are implemented by the application and called by
//! inbound adapters (REST, gRPC) — or by a remote client in the layered deployment modes, which is
//! why they are traits rather than concrete services.
//!
//! All traits are dyn-compatible and held as `Arc<dyn Port>`. Each documents its contract; an
//! adapter that passes the port's conformance suite in `tests/` honours it.

pub mod audit;
pub mod cache;
pub mod clock;
pub mod error;
pub mod events;
pub mod health;
pub mod jobs;
pub mod locks;
pub mod mail;
pub mod plugins;
pub mod ratelimit;
pub mod resilience;
pub mod security;
pub mod sessions;
pub mod throttle;
pub mod usecases;
pub mod users;

pub use error::{StoreError, UniqueField};
