//! A key-value cache in front of slower sources of truth.

use std::time::Duration;

use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
#[error("cache unavailable")]
pub struct CacheError(#[source] pub anyhow::Error);

/// Handed out with a miss and given back to [`Cache::fill`]. It lets the cache refuse a value
/// that was read from the source *before* a concurrent write invalidated the key: without it,
/// a slow reader could put a stale value back just after the writer removed it, and that value
/// would be served until its TTL ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FillTicket(pub u64);

/// The outcome of a lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Hit(Vec<u8>),
    /// Not cached: read the source, then [`Cache::fill`] with this ticket.
    Miss(FillTicket),
}

/// A cache is never the source of truth: callers treat every error as a miss and fall back to
/// the store, so a failing cache degrades speed, never correctness.
///
/// Coherence contract, which every adapter must keep (the cache conformance suite checks it):
/// once `invalidate(key)` has returned `Ok`, no lookup of `key` in any process returns a value
/// stored before the invalidation, and a `fill` with a ticket obtained before the invalidation
/// stores nothing.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait Cache: Send + Sync {
    async fn get(&self, key: &str) -> Result<Lookup, CacheError>;

    /// Stores `value` for at most `ttl`, unless `key` was invalidated after `ticket` was handed
    /// out; returns whether it was stored.
    async fn fill(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        ticket: FillTicket,
    ) -> Result<bool, CacheError>;

    /// Removes `key` here and, for shared or tiered caches, in every process's local tier
    /// before returning, so that the next read anywhere goes to the source of truth.
    ///
    /// # Errors
    /// `CacheError` when the shared tier cannot be reached. The adapter then keeps retrying the
    /// invalidation by itself and, until it succeeds, serves no cached value for `key`.
    async fn invalidate(&self, key: &str) -> Result<(), CacheError>;
}
