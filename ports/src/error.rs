//! The error vocabulary shared by storage ports.

/// A uniqueness rule of the user store, so that a conflict can name the offending field without
/// echoing the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueField {
    Username,
    Email,
}

impl UniqueField {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Username => "username",
            Self::Email => "email",
        }
    }
}

/// Failure of a storage port. Adapters translate driver errors into these variants (by
/// constraint name or error code), so that nothing above them ever sees driver text.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was violated.
    #[error("{} is already taken", .0.as_str())]
    Conflict(UniqueField),
    /// The stored record changed since it was read (optimistic concurrency).
    #[error("the record was modified concurrently")]
    StaleVersion,
    /// The record to update does not exist.
    #[error("record not found")]
    NotFound,
    /// A value is larger than the port accepts (a plugin value over
    /// [`arcana_domain::plugin::PLUGIN_VALUE_MAX_BYTES`]). Refused before the storage is
    /// touched, so nothing changed; retrying the same value fails the same way.
    #[error("the value is larger than the store accepts")]
    TooLarge,
    /// The request never reached the backend, or the backend refused it before doing anything
    /// (connection refused, no pooled connection in time, an open circuit breaker, a full
    /// bulkhead): nothing happened, so any operation may be sent again later.
    #[error("storage unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// The request may have reached the backend, but no answer came back (a timeout, a
    /// connection lost mid-call): a write may or may not have been applied. Only operations
    /// documented as safe to retry may be sent again without checking first.
    #[error("storage outcome unknown")]
    OutcomeUnknown(#[source] anyhow::Error),
    /// Anything else: a bug, corrupt data, an unexpected driver answer.
    #[error("storage failure")]
    Other(#[source] anyhow::Error),
}

impl StoreError {
    /// Whether an open circuit breaker refused the call without trying the dependency: the
    /// outage is already known (and logged once, when the breaker opened).
    pub fn is_circuit_open(&self) -> bool {
        matches!(self, Self::Unavailable(cause) if crate::resilience::CircuitOpen::find(cause).is_some())
    }
}
