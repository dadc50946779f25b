//! How the guard reads the errors of the ports it protects.

use std::time::Duration;

use anyhow::anyhow;
use arcana_adapter_internal::RemoteError;
use arcana_ports::StoreError;
use arcana_ports::resilience::CircuitOpen;

/// Whether an operation may be sent again after a failure whose outcome is unknown: true when
/// a repeat can change neither the stored state nor the answer (reads, upserts of the same
/// value). Each port method documents which it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Safety {
    /// Safe to retry.
    Idempotent,
    /// Never retried: a repeat could apply a write twice or change the answer (insert, a
    /// compare-and-swap, an append).
    Once,
}

/// An error type a [`Guard`](crate::Guard) can protect calls of.
pub trait Failure: Sized {
    /// Whether this error says the dependency is failing (counted by the breaker, retried when
    /// safe), as opposed to an answer of a healthy dependency (not found, a conflict).
    fn is_dependency_failure(&self) -> bool;

    /// The call did not finish within `after`: it may have reached the dependency.
    fn timed_out(dependency: &'static str, after: Duration) -> Self;

    /// The guard refused the call without trying the dependency (`cause` says why: an open
    /// breaker, a full bulkhead).
    fn refused(cause: anyhow::Error) -> Self;

    /// Whether the guard itself refused the call; such a call is never retried.
    fn is_refusal(&self) -> bool;
}

impl Failure for StoreError {
    fn is_dependency_failure(&self) -> bool {
        match self {
            Self::Unavailable(_) | Self::OutcomeUnknown(_) => true,
            Self::Conflict(_)
            | Self::StaleVersion
            | Self::NotFound
            | Self::TooLarge
            | Self::Other(_) => false,
        }
    }

    fn timed_out(dependency: &'static str, after: Duration) -> Self {
        Self::OutcomeUnknown(anyhow!("{dependency} did not answer within {after:?}"))
    }

    fn refused(cause: anyhow::Error) -> Self {
        Self::Unavailable(cause)
    }

    fn is_refusal(&self) -> bool {
        match self {
            Self::Unavailable(cause) => is_guard_refusal(cause),
            _ => false,
        }
    }
}

impl Failure for RemoteError {
    /// Only an unreachable tier counts: a tier that answers, even with "my own dependency is
    /// unavailable", is a working link (its own breaker protects what is behind it).
    fn is_dependency_failure(&self) -> bool {
        matches!(self, Self::Unreachable(_) | Self::NoAnswer(_))
    }

    fn timed_out(dependency: &'static str, after: Duration) -> Self {
        Self::NoAnswer(anyhow!("{dependency} did not answer within {after:?}"))
    }

    fn refused(cause: anyhow::Error) -> Self {
        Self::Unreachable(cause)
    }

    fn is_refusal(&self) -> bool {
        match self {
            Self::Unreachable(cause) => is_guard_refusal(cause),
            Self::Refused(_) | Self::NoAnswer(_) => false,
        }
    }
}

/// A full bulkhead: too many calls to the dependency in flight for one more to wait its turn.
#[derive(Debug, thiserror::Error)]
#[error("too many calls to {dependency} in flight")]
pub(crate) struct BulkheadFull {
    pub(crate) dependency: &'static str,
}

fn is_guard_refusal(cause: &anyhow::Error) -> bool {
    CircuitOpen::find(cause).is_some() || cause.downcast_ref::<BulkheadFull>().is_some()
}
