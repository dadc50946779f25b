//! A key-value cache in front of slower sources of truth.

use std::time::Duration;

use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
#[error("cache unavailable")]
pub struct CacheError(#[source] pub anyhow::Error);

/// A cache is never the source of truth: callers treat every error as a miss and fall back to
/// the store, so a failing cache degrades speed, never correctness.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait Cache: Send + Sync {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError>;

    /// Stores `value` for at most `ttl`.
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError>;

    /// Removes `key` here and, for shared or tiered caches, in every process's local tier
    /// before returning, so that the next read anywhere goes to the source of truth.
    async fn invalidate(&self, key: &str) -> Result<(), CacheError>;
}
