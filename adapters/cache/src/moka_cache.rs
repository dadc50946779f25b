//! `Cache` in process memory (moka), bounded by entry count, with per-entry TTLs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arcana_ports::cache::{Cache, CacheError, FillTicket, Lookup};
use async_trait::async_trait;
use moka::Expiry;

/// How long an invalidation is remembered to refuse fills from reads that started before it.
/// Far longer than any read may take (requests time out sooner), short enough to stay small.
const INVALIDATION_MEMORY: Duration = Duration::from_mins(1);

#[derive(Clone)]
struct Entry {
    value: Arc<[u8]>,
    ttl: Duration,
}

struct OwnTtl;

impl Expiry<String, Entry> for OwnTtl {
    fn expire_after_create(&self, _key: &String, entry: &Entry, _now: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }
}

/// A process-local cache. Alone it is coherent only within one process (`cache.backend =
/// "memory"` is for single-process deployments); as the first tier of the Redis two-tier cache
/// it is kept coherent across processes by invalidation messages.
///
/// Fills race with invalidations through a generation counter: every miss hands out the
/// current generation as its ticket, every invalidation takes a new generation and remembers
/// it for the key, and a fill whose ticket predates the key's last invalidation is dropped.
pub struct MokaCache {
    entries: moka::sync::Cache<String, Entry>,
    /// Generation of each recent invalidation, by key.
    invalidated: moka::sync::Cache<String, u64>,
    generation: AtomicU64,
    /// Generation of the last [`MokaCache::clear`]: older tickets fill nothing, for any key.
    cleared: AtomicU64,
    /// Makes "check the key's invalidation, then insert" atomic with respect to "record the
    /// invalidation, then remove". Held only around in-memory map operations, never an await.
    fill_guard: Mutex<()>,
}

impl MokaCache {
    pub fn new(max_entries: u64) -> Self {
        Self {
            entries: moka::sync::Cache::builder()
                .max_capacity(max_entries)
                .expire_after(OwnTtl)
                .build(),
            invalidated: moka::sync::Cache::builder()
                .max_capacity(max_entries)
                .time_to_live(INVALIDATION_MEMORY)
                .build(),
            generation: AtomicU64::new(0),
            cleared: AtomicU64::new(0),
            fill_guard: Mutex::new(()),
        }
    }

    /// Forgets every entry and refuses every fill that started before: what a tier does when it
    /// may have missed invalidations (its invalidation feed was interrupted).
    pub fn clear(&self) {
        let _guard = self
            .fill_guard
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        self.cleared.store(generation, Ordering::SeqCst);
        self.entries.invalidate_all();
    }

    /// The current value, without handing out a ticket (for a tier above this one).
    pub fn peek(&self, key: &str) -> Option<Vec<u8>> {
        self.entries.get(key).map(|entry| entry.value.to_vec())
    }

    pub fn ticket(&self) -> FillTicket {
        FillTicket(self.generation.load(Ordering::SeqCst))
    }

    /// Stores unless invalidated since `ticket`; infallible, unlike the port's `fill`.
    pub fn fill_local(&self, key: &str, value: &[u8], ttl: Duration, ticket: FillTicket) -> bool {
        let _guard = self
            .fill_guard
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.cleared.load(Ordering::SeqCst) > ticket.0
            || self.invalidated.get(key).is_some_and(|at| at > ticket.0)
        {
            return false;
        }
        let entry = Entry {
            value: value.into(),
            ttl,
        };
        self.entries.insert(key.to_owned(), entry);
        true
    }

    pub fn invalidate_local(&self, key: &str) {
        let _guard = self
            .fill_guard
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        self.invalidated.insert(key.to_owned(), generation);
        self.entries.invalidate(key);
    }
}

#[async_trait]
impl Cache for MokaCache {
    async fn get(&self, key: &str) -> Result<Lookup, CacheError> {
        // The ticket is taken before the lookup, so an invalidation racing with this miss
        // counts as later than the ticket.
        let ticket = self.ticket();
        Ok(match self.peek(key) {
            Some(value) => Lookup::Hit(value),
            None => Lookup::Miss(ticket),
        })
    }

    async fn fill(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        ticket: FillTicket,
    ) -> Result<bool, CacheError> {
        Ok(self.fill_local(key, value, ttl, ticket))
    }

    async fn invalidate(&self, key: &str) -> Result<(), CacheError> {
        self.invalidate_local(key);
        Ok(())
    }
}
