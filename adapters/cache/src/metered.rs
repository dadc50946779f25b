//! Cache metrics: a decorator counting what every lookup, fill and invalidation came to.

use std::sync::Arc;
use std::time::Duration;

use arcana_ports::cache::{Cache, CacheError, FillTicket, Lookup};
use async_trait::async_trait;
use prometheus::{IntCounterVec, Opts, Registry};

/// Counts by key kind (the key's prefix up to the first `:` — `user`, `session`, `deny` …, a
/// fixed set chosen by the decorators, never a user-supplied value):
/// `arcana_cache_lookups_total{kind, outcome = hit | miss | error}` and
/// `arcana_cache_invalidations_total{kind, outcome = ok | error}`.
pub struct MeteredCache {
    inner: Arc<dyn Cache>,
    lookups: IntCounterVec,
    invalidations: IntCounterVec,
}

impl MeteredCache {
    /// # Errors
    /// When the metrics are already registered in `registry`.
    pub fn new(inner: Arc<dyn Cache>, registry: &Registry) -> prometheus::Result<Self> {
        let lookups = IntCounterVec::new(
            Opts::new(
                "arcana_cache_lookups_total",
                "Cache lookups by key kind and outcome.",
            ),
            &["kind", "outcome"],
        )?;
        let invalidations = IntCounterVec::new(
            Opts::new(
                "arcana_cache_invalidations_total",
                "Cache invalidations by key kind and outcome.",
            ),
            &["kind", "outcome"],
        )?;
        registry.register(Box::new(lookups.clone()))?;
        registry.register(Box::new(invalidations.clone()))?;
        Ok(Self {
            inner,
            lookups,
            invalidations,
        })
    }
}

fn kind(key: &str) -> &str {
    key.split_once(':').map_or(key, |(kind, _)| kind)
}

#[async_trait]
impl Cache for MeteredCache {
    async fn get(&self, key: &str) -> Result<Lookup, CacheError> {
        let outcome = self.inner.get(key).await;
        let label = match &outcome {
            Ok(Lookup::Hit(_)) => "hit",
            Ok(Lookup::Miss(_)) => "miss",
            Err(err) => {
                tracing::debug!(error = %err, "cache lookup failed; reading the source");
                "error"
            }
        };
        self.lookups.with_label_values(&[kind(key), label]).inc();
        outcome
    }

    async fn fill(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        ticket: FillTicket,
    ) -> Result<bool, CacheError> {
        self.inner.fill(key, value, ttl, ticket).await
    }

    async fn invalidate(&self, key: &str) -> Result<(), CacheError> {
        let outcome = self.inner.invalidate(key).await;
        let label = if outcome.is_ok() { "ok" } else { "error" };
        self.invalidations
            .with_label_values(&[kind(key), label])
            .inc();
        outcome
    }
}
