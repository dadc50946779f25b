//! `Cache` in Redis, shared by every process.
//!
//! Invalidation leaves a short-lived tombstone instead of deleting, and fills are refused over a
//! tombstone (one Lua script), so a reader that loaded a value before a write cannot store it
//! after the write's invalidation — in any process. An invalidation that cannot reach Redis is
//! kept and retried in the background; until it lands, this process serves no cached value for
//! that key.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arcana_ports::cache::{Cache, CacheError, FillTicket, Lookup};
use async_trait::async_trait;
use redis::{AsyncCommands as _, Script};

use crate::connection::{RedisConnection, cause};

/// Longer than any read between a miss and its fill may take (a request times out sooner).
const TOMBSTONE: Duration = Duration::from_secs(10);
/// After a failed command, lookups skip Redis this long instead of each paying the timeout.
const BACK_OFF: Duration = Duration::from_secs(1);
const RETRY_EVERY: Duration = Duration::from_millis(500);

/// Stored values start with this byte; a tombstone is the single byte `t`.
const VALUE_TAG: u8 = b'v';

const FILL: &str = r"
local current = redis.call('GET', KEYS[1])
if current and string.sub(current, 1, 1) == 't' then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1";

const INVALIDATE: &str = r"
redis.call('SET', KEYS[1], 't', 'PX', ARGV[1])
if ARGV[2] ~= '' then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return 1";

pub struct RedisCache {
    shared: Arc<Shared>,
}

struct Shared {
    connection: RedisConnection,
    /// Where invalidations are announced to local tiers (the two-tier cache), if anywhere.
    channel: Option<String>,
    fill: Script,
    invalidate: Script,
    /// Keys whose invalidation has not reached Redis yet.
    pending: Mutex<HashSet<String>>,
    /// Unix milliseconds until which Redis is presumed down.
    down_until: AtomicU64,
}

impl RedisCache {
    /// A cache under `{prefix}cache:`. Must be created inside the tokio runtime (it starts the
    /// task that retries failed invalidations).
    pub fn new(connection: RedisConnection) -> Self {
        Self::with_channel(connection, None)
    }

    pub(crate) fn with_channel(connection: RedisConnection, channel: Option<String>) -> Self {
        let shared = Arc::new(Shared {
            connection,
            channel,
            fill: Script::new(FILL),
            invalidate: Script::new(INVALIDATE),
            pending: Mutex::new(HashSet::new()),
            down_until: AtomicU64::new(0),
        });
        tokio::spawn(retry_invalidations(Arc::downgrade(&shared)));
        Self { shared }
    }

    pub(crate) fn is_pending(&self, key: &str) -> bool {
        self.shared.pending_contains(key)
    }
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

impl Shared {
    fn pending_contains(&self, key: &str) -> bool {
        let pending = self
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        !pending.is_empty() && pending.contains(key)
    }

    fn guard(&self) -> Result<(), CacheError> {
        if now_millis() < self.down_until.load(Ordering::Relaxed) {
            return Err(CacheError(anyhow::anyhow!(
                "redis presumed down; backing off"
            )));
        }
        Ok(())
    }

    fn failed(&self, err: &redis::RedisError, doing: &'static str) -> CacheError {
        let until = now_millis().saturating_add(millis(BACK_OFF));
        self.down_until.store(until, Ordering::Relaxed);
        CacheError(cause(err, doing))
    }

    async fn send_invalidation(&self, key: &str) -> Result<(), CacheError> {
        let mut conn = self.connection.conn();
        self.invalidate
            .key(self.connection.key(&["cache:", key]))
            .arg(millis(TOMBSTONE))
            .arg(self.channel.as_deref().unwrap_or(""))
            .arg(key)
            .invoke_async::<i64>(&mut conn)
            .await
            .map(drop)
            .map_err(|err| self.failed(&err, "invalidating a cache entry"))
    }
}

async fn retry_invalidations(shared: Weak<Shared>) {
    loop {
        tokio::time::sleep(RETRY_EVERY).await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let keys: Vec<String> = {
            let pending = shared
                .pending
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            pending.iter().cloned().collect()
        };
        for key in keys {
            if shared.send_invalidation(&key).await.is_err() {
                break;
            }
            let mut pending = shared
                .pending
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            pending.remove(&key);
        }
    }
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> Result<Lookup, CacheError> {
        let shared = &self.shared;
        if shared.pending_contains(key) {
            return Err(CacheError(anyhow::anyhow!("an invalidation is pending")));
        }
        shared.guard()?;
        let mut conn = shared.connection.conn();
        let stored: Option<Vec<u8>> = conn
            .get(shared.connection.key(&["cache:", key]))
            .await
            .map_err(|err| shared.failed(&err, "reading a cache entry"))?;
        // Redis refuses stale fills by itself (tombstones); the ticket has nothing to carry.
        Ok(match stored {
            Some(mut value) if value.first() == Some(&VALUE_TAG) => {
                value.remove(0);
                Lookup::Hit(value)
            }
            _ => Lookup::Miss(FillTicket(0)),
        })
    }

    async fn fill(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        _ticket: FillTicket,
    ) -> Result<bool, CacheError> {
        let shared = &self.shared;
        shared.guard()?;
        let mut tagged = Vec::with_capacity(value.len() + 1);
        tagged.push(VALUE_TAG);
        tagged.extend_from_slice(value);
        let mut conn = shared.connection.conn();
        let stored: i64 = shared
            .fill
            .key(shared.connection.key(&["cache:", key]))
            .arg(tagged)
            .arg(millis(ttl))
            .invoke_async(&mut conn)
            .await
            .map_err(|err| shared.failed(&err, "filling a cache entry"))?;
        Ok(stored == 1)
    }

    async fn invalidate(&self, key: &str) -> Result<(), CacheError> {
        let shared = &self.shared;
        let outcome = match shared.guard() {
            Ok(()) => shared.send_invalidation(key).await,
            Err(err) => Err(err),
        };
        if outcome.is_err() {
            let mut pending = shared
                .pending
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            pending.insert(key.to_owned());
        }
        outcome
    }
}
