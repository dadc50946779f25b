//! `LeaderLock` within one process: leadership among tasks, for single-process deployments
//! and tests.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use arcana_ports::locks::{FencingToken, LeaderLock, LockError};
use async_trait::async_trait;

struct Held {
    holder: String,
    token: FencingToken,
    until: Instant,
}

#[derive(Default)]
struct Locks {
    held: HashMap<String, Held>,
    /// Last token handed out per name; kept after release so tokens keep increasing.
    fences: HashMap<String, u64>,
}

#[derive(Default)]
pub struct InMemoryLeaderLock {
    locks: Mutex<Locks>,
}

impl InMemoryLeaderLock {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, act: impl FnOnce(&mut Locks) -> T) -> Result<T, LockError> {
        let mut locks = self
            .locks
            .lock()
            .map_err(|_| LockError(anyhow::anyhow!("in-memory lock table poisoned")))?;
        Ok(act(&mut locks))
    }
}

/// The live lease on `name` held by `holder` with `token`, if that is who holds it now.
fn lease<'a>(
    locks: &'a mut Locks,
    name: &str,
    holder: &str,
    token: FencingToken,
) -> Option<&'a mut Held> {
    locks
        .held
        .get_mut(name)
        .filter(|held| held.holder == holder && held.token == token && held.until > Instant::now())
}

#[async_trait]
impl LeaderLock for InMemoryLeaderLock {
    async fn acquire(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<FencingToken>, LockError> {
        self.with(|locks| {
            let now = Instant::now();
            if locks.held.get(name).is_some_and(|held| held.until > now) {
                return None;
            }
            let fence = locks.fences.entry(name.to_owned()).or_insert(0);
            *fence += 1;
            let token = FencingToken(*fence);
            let held = Held {
                holder: holder.to_owned(),
                token,
                until: now + ttl,
            };
            locks.held.insert(name.to_owned(), held);
            Some(token)
        })
    }

    async fn renew(
        &self,
        name: &str,
        holder: &str,
        token: FencingToken,
        ttl: Duration,
    ) -> Result<bool, LockError> {
        self.with(|locks| match lease(locks, name, holder, token) {
            Some(held) => {
                held.until = Instant::now() + ttl;
                true
            }
            None => false,
        })
    }

    async fn release(
        &self,
        name: &str,
        holder: &str,
        token: FencingToken,
    ) -> Result<bool, LockError> {
        self.with(|locks| {
            let mine = lease(locks, name, holder, token).is_some();
            if mine {
                locks.held.remove(name);
            }
            mine
        })
    }
}
