//! Counters behind login throttling. The policy (thresholds, growing lockouts) lives in the
//! application; this port only counts and remembers, atomically, with expiry.

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use crate::StoreError;

/// Failed attempts recorded under one key (an account identifier or a client address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempts {
    /// Failures inside the current window.
    pub failures: u32,
    pub window_started: DateTime<Utc>,
    /// While in the future, attempts under this key are refused without checking a password.
    pub locked_until: Option<DateTime<Utc>>,
}

#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait ThrottleStore: Send + Sync {
    /// The current record for `key`, or `None` when there is none or it has expired.
    async fn get(&self, key: &str, now: DateTime<Utc>) -> Result<Option<Attempts>, StoreError>;

    /// Atomically counts one failure. A window older than `window` starts afresh; a lockout
    /// still running is kept.
    async fn record_failure(
        &self,
        key: &str,
        window: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<Attempts, StoreError>;

    /// Refuses attempts under `key` until `until`; the record expires by itself after that.
    async fn lock(&self, key: &str, until: DateTime<Utc>) -> Result<(), StoreError>;

    /// Forgets `key` (after a successful login, or when an administrator unlocks an account).
    async fn clear(&self, key: &str) -> Result<(), StoreError>;
}
