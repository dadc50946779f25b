//! What the resilience decorators report through the ports: a call refused because a circuit
//! breaker is open, and the state of each breaker for readiness and metrics.

use std::time::Duration;

/// The state of one dependency's circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls flow; failures are counted.
    Closed,
    /// Calls are refused at once until the open period ends.
    Open,
    /// The open period ended: one probe call decides between closed and open again.
    HalfOpen,
}

impl BreakerState {
    /// The name operators see in `/health/ready` and in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

/// The cause carried by [`StoreError::Unavailable`](crate::StoreError::Unavailable) (and the
/// use-case errors it becomes) when a breaker refused the call without trying the dependency,
/// so that the inbound adapters can answer with a precise `Retry-After`.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the circuit breaker of {dependency} is open")]
pub struct CircuitOpen {
    /// The dependency's name (`database`, `redis`, `repository`, `service`).
    pub dependency: &'static str,
    /// When the breaker lets a probe call through.
    pub retry_after: Duration,
}

impl CircuitOpen {
    /// The breaker refusal somewhere in `cause`'s chain, if that is why the call failed.
    pub fn find(cause: &anyhow::Error) -> Option<&Self> {
        cause.chain().find_map(|err| err.downcast_ref::<Self>())
    }
}
