//! `LeaderLock` in Redis: `SET NX PX` under a per-name fencing counter, renewal and release by
//! compare-and-act scripts.

use std::time::Duration;

use arcana_ports::locks::{FencingToken, LeaderLock, LockError};
use async_trait::async_trait;
use redis::Script;

use crate::connection::{RedisConnection, cause};

/// The counter never expires, so tokens keep increasing across holders and lock expiries.
const ACQUIRE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. token, 'PX', ARGV[2])
return token";

const RENEW: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1";

const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1";

pub struct RedisLeaderLock {
    connection: RedisConnection,
    acquire: Script,
    renew: Script,
    release: Script,
}

impl RedisLeaderLock {
    pub fn new(connection: RedisConnection) -> Self {
        Self {
            connection,
            acquire: Script::new(ACQUIRE),
            renew: Script::new(RENEW),
            release: Script::new(RELEASE),
        }
    }

    fn lock_key(&self, name: &str) -> String {
        self.connection.key(&["lock:", name])
    }
}

fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// What the lock key holds for `holder` with `token`; a holder that lost the lock and took it
/// again has a new token, so its old token cannot act.
fn owner(holder: &str, token: FencingToken) -> String {
    format!("{holder}|{}", token.0)
}

#[async_trait]
impl LeaderLock for RedisLeaderLock {
    async fn acquire(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<FencingToken>, LockError> {
        let mut conn = self.connection.conn();
        let token: u64 = self
            .acquire
            .key(self.lock_key(name))
            .key(self.connection.key(&["lock-fence:", name]))
            .arg(holder)
            .arg(millis(ttl))
            .invoke_async(&mut conn)
            .await
            .map_err(|err| LockError(cause(&err, "acquiring a lock")))?;
        Ok((token > 0).then_some(FencingToken(token)))
    }

    async fn renew(
        &self,
        name: &str,
        holder: &str,
        token: FencingToken,
        ttl: Duration,
    ) -> Result<bool, LockError> {
        let mut conn = self.connection.conn();
        let renewed: i64 = self
            .renew
            .key(self.lock_key(name))
            .arg(owner(holder, token))
            .arg(millis(ttl))
            .invoke_async(&mut conn)
            .await
            .map_err(|err| LockError(cause(&err, "renewing a lock")))?;
        Ok(renewed == 1)
    }

    async fn release(
        &self,
        name: &str,
        holder: &str,
        token: FencingToken,
    ) -> Result<bool, LockError> {
        let mut conn = self.connection.conn();
        let released: i64 = self
            .release
            .key(self.lock_key(name))
            .arg(owner(holder, token))
            .invoke_async(&mut conn)
            .await
            .map_err(|err| LockError(cause(&err, "releasing a lock")))?;
        Ok(released == 1)
    }
}
