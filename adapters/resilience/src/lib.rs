//! Resilience decorators for Arcana's outbound ports: each wraps an adapter (database, Redis,
//! a remote tier) and implements the same port, so the application cannot tell it is there.
//!
//! One [`Guard`] per dependency applies, from the outside in: retry with exponential backoff
//! and jitter (only for operations the port documents as safe to retry, and never for a call
//! the breaker refused), a bulkhead (a bound on calls in flight), the circuit breaker (the
//! `failsafe` crate, with a single probe in half-open) and, inside the breaker, the timeout, so
//! that a call cut short by it is counted as a failure.
//!
//! Inbound, [`GovernorRateLimiter`] implements the rate-limit port in this process.

mod breaker;
mod failure;
mod guard;
mod health;
mod metrics;
mod ratelimit;
mod storage;
mod stores;
mod transport;

pub use failure::{Failure, Safety};
pub use guard::{BreakerPolicy, Guard, Policy, RetryPolicy};
pub use health::GuardedHealth;
pub use metrics::ResilienceMetrics;
pub use ratelimit::GovernorRateLimiter;
pub use storage::{ResilientAuditLog, ResilientSessionStore, ResilientUserRepository};
pub use stores::{ResilientPluginKv, ResilientRateLimiter, ResilientThrottleStore};
pub use transport::ResilientTransport;
