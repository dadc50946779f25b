//! Readiness of the dependencies an adapter talks to.

use async_trait::async_trait;

use crate::resilience::BreakerState;

/// Result of one dependency check, reported by `/health/ready`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Reachable; `detail` names the backend (never credentials or addresses with passwords).
    Up { detail: String },
    /// Not usable right now; `reason` is safe to show to operators.
    Down { reason: String },
}

#[async_trait]
pub trait HealthCheck: Send + Sync {
    /// Short stable name of the dependency (`database`, `sessions`, `cache` …).
    fn name(&self) -> &'static str;

    /// Whether the service can do its work without this dependency. A cache is not required:
    /// when it is down, requests fall back to the source of truth, so readiness reports it as
    /// degraded instead of taking the process out of rotation.
    fn required(&self) -> bool {
        true
    }

    /// Checks the dependency. Must return within the adapter's own timeout and never panic.
    async fn check(&self) -> Health;

    /// The state of the circuit breaker in front of this dependency, if one is configured.
    /// Readiness reports it next to the check; it does not decide readiness by itself (the
    /// check does), so a breaker that opened on a burst of errors does not take a process out
    /// of rotation while the dependency answers its probe.
    fn breaker(&self) -> Option<BreakerState> {
        None
    }
}

/// Occupancy of a database connection pool at one instant, exported as `arcana_db_pool_*`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolUsage {
    /// Connections open, in use or idle.
    pub open: u32,
    /// Open connections nobody holds.
    pub idle: u32,
    /// The pool's bound (`database.max_connections`).
    pub max: u32,
    /// Acquisitions since start that had to wait for a connection, and those that gave up after
    /// `database.acquire_timeout_secs`; `None` where the pool does not count them.
    pub waited: Option<u64>,
    pub timed_out: Option<u64>,
}
