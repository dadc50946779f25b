//! `SessionStore` in Redis.
//!
//! Layout (all under the key prefix):
//! - `session:{id}`: a hash with the session document (`data`), its current refresh digest
//!   (`hash`), its user (`user`) and, once revoked, `revoked_at`; the scripts compare and set
//!   the small fields without parsing the document.
//! - `user-sessions:{user}`: the user's session ids, scored by last use (listing, revoke-all).
//! - `sessions:dead-at`: every session id, scored by when it stops being live (expiry, idle
//!   expiry or revocation), which is what `purge_expired` sweeps.
//! - `deny:{token id}`: the instant a denied access token expires anyway, with `deny:by-expiry`
//!   indexing them for the sweep (and a Redis TTL as a backstop should sweeps stop).
//!
//! Times are microseconds since the epoch, compared with the caller's `now`, never the server's
//! clock, so the store behaves exactly like the SQL ones.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use arcana_adapter_cache::records::{decode_session, encode_session};
use arcana_domain::session::{Session, TokenHash};
use arcana_domain::{SessionId, UserId};
use arcana_ports::StoreError;
use arcana_ports::sessions::SessionStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redis::{AsyncCommands as _, Script};

use crate::connection::{RedisConnection, cause};

const ROTATE: &str = r"
if redis.call('HGET', KEYS[1], 'hash') ~= ARGV[1] then return 0 end
if redis.call('HEXISTS', KEYS[1], 'revoked_at') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'hash', ARGV[2], 'data', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[6])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[6])
return 1";

const REVOKE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'revoked_at', ARGV[1]) == 0 then return 0 end
local dead = redis.call('ZSCORE', KEYS[2], ARGV[2])
if (not dead) or tonumber(dead) > tonumber(ARGV[1]) then redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2]) end
return 1";

const REVOKE_ALL: &str = r"
local revoked = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if id ~= ARGV[2] then
    local key = ARGV[1] .. id
    if redis.call('EXISTS', key) == 1 and redis.call('HSETNX', key, 'revoked_at', ARGV[3]) == 1 then
      local dead = redis.call('ZSCORE', KEYS[2], id)
      if (not dead) or tonumber(dead) > tonumber(ARGV[3]) then redis.call('ZADD', KEYS[2], ARGV[3], id) end
      revoked[#revoked + 1] = id
    end
  end
end
return revoked";

/// Sweeps at most `ARGV[5]` sessions and as many denials per call, so no single script blocks
/// the server for long; the caller loops.
const PURGE: &str = r"
local count = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[5])) do
  local key = ARGV[2] .. id
  local user = redis.call('HGET', key, 'user')
  if user then redis.call('ZREM', ARGV[3] .. user, id) end
  redis.call('DEL', key)
  redis.call('ZREM', KEYS[1], id)
  count = count + 1
end
for _, jti in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ARGV[5])) do
  redis.call('DEL', ARGV[4] .. jti)
  redis.call('ZREM', KEYS[2], jti)
  count = count + 1
end
return count";

const PURGE_BATCH: u64 = 500;
/// A denial's Redis TTL outlives its token by this much; the sweep normally removes it first.
const DENIAL_BACKSTOP_MS: i64 = 3_600_000;

pub struct RedisSessionStore {
    connection: RedisConnection,
    rotate: Script,
    revoke: Script,
    revoke_all: Script,
    purge: Script,
}

fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// When the session stops being live: the score in `sessions:dead-at`.
fn dead_at(session: &Session) -> i64 {
    micros(session.dead_at())
}

fn unavailable(err: &redis::RedisError, doing: &'static str) -> StoreError {
    StoreError::Unavailable(cause(err, doing))
}

impl RedisSessionStore {
    pub fn new(connection: RedisConnection) -> Self {
        Self {
            connection,
            rotate: Script::new(ROTATE),
            revoke: Script::new(REVOKE),
            revoke_all: Script::new(REVOKE_ALL),
            purge: Script::new(PURGE),
        }
    }

    fn session_key(&self, id: &str) -> String {
        self.connection.key(&["session:", id])
    }

    fn user_key(&self, user: UserId) -> String {
        self.connection.key(&["user-sessions:", &user.to_string()])
    }

    fn dead_at_key(&self) -> String {
        self.connection.key(&["sessions:dead-at"])
    }

    fn denials_key(&self) -> String {
        self.connection.key(&["denials:by-expiry"])
    }

    async fn load(&self, id: &str) -> Result<Option<Session>, StoreError> {
        let mut conn = self.connection.conn();
        let (data, revoked_at): (Option<Vec<u8>>, Option<i64>) = redis::cmd("HMGET")
            .arg(self.session_key(id))
            .arg("data")
            .arg("revoked_at")
            .query_async(&mut conn)
            .await
            .map_err(|err| unavailable(&err, "reading a session"))?;
        let Some(data) = data else {
            return Ok(None);
        };
        let mut session = decode_session(&data).map_err(StoreError::Other)?;
        if let Some(at) = revoked_at {
            session.revoke(
                DateTime::from_timestamp_micros(at)
                    .context("a stored revocation time out of range")
                    .map_err(StoreError::Other)?,
            );
        }
        Ok(Some(session))
    }
}

#[async_trait]
impl SessionStore for RedisSessionStore {
    async fn create(&self, session: &Session) -> Result<(), StoreError> {
        let id = session.id().to_string();
        let mut conn = self.connection.conn();
        let mut pipe = redis::pipe();
        pipe.atomic()
            .hset_multiple(
                self.session_key(&id),
                &[
                    ("data", encode_session(session)),
                    ("hash", session.refresh_hash().as_str().as_bytes().to_vec()),
                    ("user", session.user_id().to_string().into_bytes()),
                ],
            )
            .ignore()
            .zadd(
                self.user_key(session.user_id()),
                &id,
                micros(session.last_used_at()),
            )
            .ignore()
            .zadd(self.dead_at_key(), &id, dead_at(session))
            .ignore();
        if let Some(at) = session.revoked_at() {
            pipe.hset(self.session_key(&id), "revoked_at", micros(at))
                .ignore();
        }
        pipe.query_async::<()>(&mut conn)
            .await
            .map_err(|err| unavailable(&err, "creating a session"))
    }

    async fn find(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        self.load(&id.to_string()).await
    }

    async fn rotate(&self, expected: &TokenHash, next: &Session) -> Result<bool, StoreError> {
        let id = next.id().to_string();
        let mut conn = self.connection.conn();
        let rotated: i64 = self
            .rotate
            .key(self.session_key(&id))
            .key(self.user_key(next.user_id()))
            .key(self.dead_at_key())
            .arg(expected.as_str())
            .arg(next.refresh_hash().as_str())
            .arg(encode_session(next))
            .arg(micros(next.last_used_at()))
            .arg(dead_at(next))
            .arg(&id)
            .invoke_async(&mut conn)
            .await
            .map_err(|err| unavailable(&err, "rotating a session"))?;
        Ok(rotated == 1)
    }

    async fn revoke(&self, id: SessionId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let id = id.to_string();
        let mut conn = self.connection.conn();
        let revoked: i64 = self
            .revoke
            .key(self.session_key(&id))
            .key(self.dead_at_key())
            .arg(micros(now))
            .arg(&id)
            .invoke_async(&mut conn)
            .await
            .map_err(|err| unavailable(&err, "revoking a session"))?;
        Ok(revoked == 1)
    }

    async fn revoke_all_for_user(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionId>, StoreError> {
        let mut conn = self.connection.conn();
        let revoked: Vec<String> = self
            .revoke_all
            .key(self.user_key(user))
            .key(self.dead_at_key())
            .arg(self.session_key(""))
            .arg(keep.map(|id| id.to_string()).unwrap_or_default())
            .arg(micros(now))
            .invoke_async(&mut conn)
            .await
            .map_err(|err| unavailable(&err, "revoking a user's sessions"))?;
        revoked
            .iter()
            .map(|raw| SessionId::parse(raw).map_err(|err| StoreError::Other(err.into())))
            .collect()
    }

    async fn list_live_for_user(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Session>, StoreError> {
        let mut conn = self.connection.conn();
        let ids: Vec<String> = conn
            .zrevrange(self.user_key(user), 0, -1)
            .await
            .map_err(|err| unavailable(&err, "listing a user's sessions"))?;
        let mut live = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(session) = self.load(&id).await?
                && session.is_live(now)
            {
                live.push(session);
            }
        }
        live.sort_by_key(|s| std::cmp::Reverse(s.last_used_at()));
        Ok(live)
    }

    async fn deny_access_token(
        &self,
        token_id: &str,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let wall_now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let backstop = (until.timestamp_millis() + DENIAL_BACKSTOP_MS).max(wall_now + 1000);
        let mut conn = self.connection.conn();
        redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(self.connection.key(&["deny:", token_id]))
            .arg(micros(until))
            .arg("PXAT")
            .arg(backstop)
            .ignore()
            .zadd(self.denials_key(), token_id, micros(until))
            .ignore()
            .query_async::<()>(&mut conn)
            .await
            .map_err(|err| unavailable(&err, "denying an access token"))
    }

    async fn is_access_token_denied(
        &self,
        token_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.connection.conn();
        let until: Option<i64> = conn
            .get(self.connection.key(&["deny:", token_id]))
            .await
            .map_err(|err| unavailable(&err, "checking the deny list"))?;
        Ok(until.is_some_and(|until| micros(now) < until))
    }

    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut purged = 0;
        loop {
            let mut conn = self.connection.conn();
            let count: u64 = self
                .purge
                .key(self.dead_at_key())
                .key(self.denials_key())
                .arg(micros(now))
                .arg(self.session_key(""))
                .arg(self.connection.key(&["user-sessions:"]))
                .arg(self.connection.key(&["deny:"]))
                .arg(PURGE_BATCH)
                .invoke_async(&mut conn)
                .await
                .map_err(|err| unavailable(&err, "purging expired sessions"))?;
            purged += count;
            if count < PURGE_BATCH {
                return Ok(purged);
            }
        }
    }
}
