//! Cluster-wide leadership, for work that must run in exactly one process (cron firing).

use std::time::Duration;

use async_trait::async_trait;

/// Increases with every successful acquisition of a lock, so that a resource can refuse writes
/// from a holder that lost the lock without knowing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FencingToken(pub u64);

#[derive(Debug, thiserror::Error)]
#[error("lock backend unavailable")]
pub struct LockError(#[source] pub anyhow::Error);

#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait LeaderLock: Send + Sync {
    /// Takes `name` for `holder` for `ttl` if nobody holds it; the token is strictly greater
    /// than any token handed out before for `name`.
    async fn acquire(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<FencingToken>, LockError>;

    /// Extends the lease; `false` when `holder` no longer holds it with `token` (it expired and
    /// someone else took it) — the caller must stop acting as leader at once.
    async fn renew(
        &self,
        name: &str,
        holder: &str,
        token: FencingToken,
        ttl: Duration,
    ) -> Result<bool, LockError>;

    /// Gives the lock up; a stale holder cannot release a lock someone else now holds.
    async fn release(
        &self,
        name: &str,
        holder: &str,
        token: FencingToken,
    ) -> Result<bool, LockError>;
}
