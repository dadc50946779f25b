//! Brute-force protection for login: failures are counted per account identifier and per client
//! address; past a threshold the key is locked out for a time that doubles with every further
//! failure, up to a ceiling, and the lockout expires by itself.
//!
//! Keys are the *typed* identifier, not a user id, so an unknown account is throttled exactly
//! like a real one and throttling reveals nothing about existence.

use std::time::Duration;

use arcana_ports::StoreError;
use arcana_ports::throttle::ThrottleStore;
use chrono::{DateTime, TimeDelta, Utc};

#[derive(Debug, Clone)]
pub struct ThrottlePolicy {
    pub enabled: bool,
    /// Failures are counted over this sliding window.
    pub window: TimeDelta,
    /// Failures per account identifier before the first lockout.
    pub account_threshold: u32,
    /// Failures per client address before the first lockout; higher, because many people can
    /// share one address.
    pub ip_threshold: u32,
    pub base_lockout: TimeDelta,
    pub max_lockout: TimeDelta,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            window: TimeDelta::minutes(15),
            account_threshold: 5,
            ip_threshold: 50,
            base_lockout: TimeDelta::seconds(30),
            max_lockout: TimeDelta::minutes(15),
        }
    }
}

/// One throttled dimension of a login attempt.
pub(crate) struct ThrottleKey {
    key: String,
    threshold: u32,
}

impl ThrottlePolicy {
    /// Key for an account identifier as typed (trimmed, lower-cased: the same folding as
    /// usernames and emails, so `Alice` and `alice` share a counter).
    pub(crate) fn account_key(&self, identifier: &str) -> ThrottleKey {
        ThrottleKey {
            key: format!("login:account:{}", identifier.trim().to_lowercase()),
            threshold: self.account_threshold,
        }
    }

    pub(crate) fn ip_key(&self, ip: &str) -> ThrottleKey {
        ThrottleKey {
            key: format!("login:ip:{ip}"),
            threshold: self.ip_threshold,
        }
    }

    fn lockout_for(&self, failures: u32, threshold: u32) -> Option<TimeDelta> {
        let excess = failures.checked_sub(threshold)?;
        let factor = 1_i32 << excess.min(20);
        Some(
            self.base_lockout
                .checked_mul(factor)
                .unwrap_or(self.max_lockout)
                .min(self.max_lockout),
        )
    }
}

/// How long the caller must wait, if any of `keys` is locked.
pub(crate) async fn retry_after(
    store: &dyn ThrottleStore,
    policy: &ThrottlePolicy,
    keys: &[ThrottleKey],
    now: DateTime<Utc>,
) -> Result<Option<Duration>, StoreError> {
    if !policy.enabled {
        return Ok(None);
    }
    let mut wait = None;
    for key in keys {
        let locked_until = store.get(&key.key, now).await?.and_then(|a| a.locked_until);
        if let Some(until) = locked_until.filter(|until| *until > now) {
            let secs = (until - now).to_std().unwrap_or_default();
            wait = Some(wait.map_or(secs, |w: Duration| w.max(secs)));
        }
    }
    Ok(wait)
}

/// Counts a failure under every key and locks those past their threshold.
pub(crate) async fn record_failure(
    store: &dyn ThrottleStore,
    policy: &ThrottlePolicy,
    keys: &[ThrottleKey],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if !policy.enabled {
        return Ok(());
    }
    for key in keys {
        let attempts = store.record_failure(&key.key, policy.window, now).await?;
        if let Some(lockout) = policy.lockout_for(attempts.failures, key.threshold) {
            store.lock(&key.key, now + lockout).await?;
        }
    }
    Ok(())
}

pub(crate) async fn clear(store: &dyn ThrottleStore, key: &ThrottleKey) -> Result<(), StoreError> {
    store.clear(&key.key).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_starts_at_the_threshold_doubles_and_is_capped() {
        let policy = ThrottlePolicy::default();
        assert_eq!(policy.lockout_for(4, 5), None);
        assert_eq!(policy.lockout_for(5, 5), Some(TimeDelta::seconds(30)));
        assert_eq!(policy.lockout_for(6, 5), Some(TimeDelta::seconds(60)));
        assert_eq!(policy.lockout_for(7, 5), Some(TimeDelta::seconds(120)));
        assert_eq!(policy.lockout_for(40, 5), Some(TimeDelta::minutes(15)));
    }
}
