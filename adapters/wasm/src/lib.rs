//! Arcana's plugin host: WebAssembly components (`plugins/wit`, `arcana:plugin@0.1.0`) on
//! wasmtime, each signed, sandboxed, budgeted and hot-reloaded.
//!
//! A module goes load → verify (ed25519 over its bytes, before parsing) → compile (off the
//! async workers) → describe (in a store with nothing granted) → enable → calls (warm instances,
//! per-call wall-clock budget that yields to the runtime, memory limit) → disable → unload.
//! Failing plugins are quarantined by a failure budget; fail-open hooks never fail a request.
//! Only `bootstrap` depends on this crate.

#[cfg(feature = "bench")]
pub mod bench_support;
mod bindings;
mod compiled;
mod convert;
mod engine;
mod grants;
mod host;
mod loader;
mod manifest;
mod output;
mod port;
mod settings;
pub mod signature;
mod slot;
mod state;
mod supervisor;
mod telemetry;
mod version;
mod watch;

pub use host::WasmPluginHost;
pub use port::ROUTE_BODY_LIMIT;
pub use settings::HostSettings;
pub use supervisor::FailureBudget;
