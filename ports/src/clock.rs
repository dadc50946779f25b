//! Time, as a port, so that expiry, lockouts and retries are testable without sleeping.

use chrono::{DateTime, Utc};

#[cfg_attr(feature = "mock", mockall::automock)]
pub trait Clock: Send + Sync {
    /// The current instant. Successive calls never go backwards within one process.
    fn now(&self) -> DateTime<Utc>;
}
