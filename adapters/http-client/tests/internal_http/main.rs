//! The internal HTTP transport end to end: real listeners on 127.0.0.1, real TLS with
//! certificates minted per test, the storage API over the in-memory adapters, driven through the
//! remote port clients exactly as the service tier drives the repository tier.

mod failures;
mod security;
mod storage;
mod streams;
mod support;
