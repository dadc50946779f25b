//! Two-tier `Cache`: moka in each process (L1) in front of Redis (L2).
//!
//! Every invalidation is published on a Redis channel and every process drops the key from its
//! L1 when the message arrives. Pub/sub delivers at most once, so L1 is trusted only while this
//! process's subscription is known to be alive: when it breaks, L1 is bypassed and cleared, and
//! it is cleared again once the subscription is back (anything filled meanwhile may have missed
//! an invalidation). The subscription is pinged, so a silently dead connection is noticed too.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use arcana_adapter_cache::MokaCache;
use arcana_ports::cache::{Cache, CacheError, FillTicket, Lookup};
use async_trait::async_trait;
use futures_util::StreamExt as _;

use crate::cache::RedisCache;
use crate::connection::{RedisConnection, cause};

const PING_EVERY: Duration = Duration::from_secs(2);
const RESUBSCRIBE_AFTER: Duration = Duration::from_millis(500);

pub struct TieredCache {
    local: Arc<MokaCache>,
    shared: RedisCache,
    /// Cap on an L1 entry's life, whatever the caller's TTL: a bound on staleness should an
    /// invalidation message ever be lost without the subscription noticing.
    local_ttl: Duration,
    /// Set while the invalidation subscription is alive (and L1 therefore coherent).
    coherent: Arc<AtomicBool>,
}

impl TieredCache {
    /// Must be created inside the tokio runtime: it starts the subscriber task, which lives as
    /// long as the cache.
    pub fn new(connection: &RedisConnection, max_local_entries: u64, local_ttl: Duration) -> Self {
        let channel = connection.key(&["cache:invalidations"]);
        let local = Arc::new(MokaCache::new(max_local_entries));
        let coherent = Arc::new(AtomicBool::new(false));
        tokio::spawn(subscribe(
            connection.clone(),
            channel.clone(),
            Arc::downgrade(&local),
            coherent.clone(),
        ));
        Self {
            local,
            shared: RedisCache::with_channel(connection.clone(), Some(channel)),
            local_ttl,
            coherent,
        }
    }

    fn coherent(&self) -> bool {
        self.coherent.load(Ordering::SeqCst)
    }

    /// Whether the in-process tier is in use: only while the invalidation feed is alive.
    pub fn local_tier_active(&self) -> bool {
        self.coherent()
    }
}

#[async_trait]
impl Cache for TieredCache {
    async fn get(&self, key: &str) -> Result<Lookup, CacheError> {
        if self.shared.is_pending(key) {
            return Err(CacheError(anyhow::anyhow!("an invalidation is pending")));
        }
        let ticket = self.local.ticket();
        if self.coherent()
            && let Some(value) = self.local.peek(key)
        {
            return Ok(Lookup::Hit(value));
        }
        match self.shared.get(key).await? {
            Lookup::Hit(value) => {
                if self.coherent() {
                    self.local.fill_local(key, &value, self.local_ttl, ticket);
                }
                Ok(Lookup::Hit(value))
            }
            Lookup::Miss(_) => Ok(Lookup::Miss(ticket)),
        }
    }

    async fn fill(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        ticket: FillTicket,
    ) -> Result<bool, CacheError> {
        if !self.shared.fill(key, value, ttl, ticket).await? {
            return Ok(false);
        }
        if self.coherent() {
            self.local
                .fill_local(key, value, ttl.min(self.local_ttl), ticket);
        }
        Ok(true)
    }

    async fn invalidate(&self, key: &str) -> Result<(), CacheError> {
        self.local.invalidate_local(key);
        self.shared.invalidate(key).await
    }
}

/// Keeps one subscription to the invalidation channel alive for as long as the cache lives,
/// applying every message to L1.
async fn subscribe(
    connection: RedisConnection,
    channel: String,
    local: std::sync::Weak<MokaCache>,
    coherent: Arc<AtomicBool>,
) {
    loop {
        if local.strong_count() == 0 {
            return;
        }
        match listen(&connection, &channel, &local, &coherent).await {
            Ok(()) => return,
            Err(err) => {
                tracing::warn!(error = %err, "cache invalidation feed lost; local cache bypassed until it is back");
            }
        }
        coherent.store(false, Ordering::SeqCst);
        if let Some(local) = local.upgrade() {
            local.clear();
        }
        tokio::time::sleep(RESUBSCRIBE_AFTER).await;
    }
}

/// Returns `Ok` when the cache is gone, `Err` when the subscription broke.
async fn listen(
    connection: &RedisConnection,
    channel: &str,
    local: &std::sync::Weak<MokaCache>,
    coherent: &AtomicBool,
) -> anyhow::Result<()> {
    let pubsub = tokio::time::timeout(PING_EVERY, connection.client.get_async_pubsub())
        .await
        .map_err(|_| anyhow::anyhow!("connecting the invalidation feed timed out"))?
        .map_err(|err| cause(&err, "connecting the invalidation feed"))?;
    let (mut sink, mut stream) = pubsub.split();
    sink.subscribe(channel)
        .await
        .map_err(|err| cause(&err, "subscribing to cache invalidations"))?;
    // Entries filled while the feed was down may have missed invalidations.
    match local.upgrade() {
        Some(local) => local.clear(),
        None => return Ok(()),
    }
    coherent.store(true, Ordering::SeqCst);
    let mut ping = tokio::time::interval(PING_EVERY);
    loop {
        tokio::select! {
            message = stream.next() => {
                let Some(message) = message else {
                    anyhow::bail!("the invalidation feed closed");
                };
                let Some(local) = local.upgrade() else { return Ok(()) };
                match std::str::from_utf8(message.get_payload_bytes()) {
                    Ok(key) => local.invalidate_local(key),
                    // Not a key this code published: forget everything rather than guess.
                    Err(_) => local.clear(),
                }
            }
            _ = ping.tick() => {
                tokio::time::timeout(PING_EVERY, sink.ping::<redis::Value>())
                    .await
                    .map_err(|_| anyhow::anyhow!("the invalidation feed stopped answering"))?
                    .map_err(|err| cause(&err, "pinging the invalidation feed"))?;
                if local.strong_count() == 0 {
                    return Ok(());
                }
            }
        }
    }
}
