//! `ThrottleStore` in Redis: login-failure counters shared by every process, so a client cannot
//! multiply its attempts by spreading them over replicas.

use std::time::{SystemTime, UNIX_EPOCH};

use arcana_ports::StoreError;
use arcana_ports::throttle::{Attempts, ThrottleStore};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use redis::Script;

use crate::connection::{RedisConnection, cause};

/// Times are the caller's microseconds, kept as the strings they arrived as: Lua numbers are
/// doubles and Redis would print large ones in exponent form, losing digits.
const RECORD_FAILURE: &str = r"
local now = tonumber(ARGV[1])
local v = redis.call('HMGET', KEYS[1], 'failures', 'started', 'window', 'locked_until')
local failures = tonumber(v[1]) or 0
local started = v[2]
if (not started) or now >= tonumber(started) + (tonumber(v[3]) or 0) then
  failures = 0
  started = ARGV[1]
end
failures = failures + 1
redis.call('HSET', KEYS[1], 'failures', failures, 'started', started, 'window', ARGV[2])
local ends = tonumber(started) + tonumber(ARGV[2])
local locked = tonumber(v[4])
if locked and locked > ends then ends = locked end
local ttl = math.floor((ends - now) / 1000) + 1000
if ttl < 1000 then ttl = 1000 end
redis.call('PEXPIRE', KEYS[1], ttl)
return {failures, started, v[4] or ''}";

const LOCK: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'failures', 0, 'started', ARGV[1], 'window', 0)
end
redis.call('HSET', KEYS[1], 'locked_until', ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1";

pub struct RedisThrottleStore {
    connection: RedisConnection,
    record_failure: Script,
    lock: Script,
}

impl RedisThrottleStore {
    pub fn new(connection: RedisConnection) -> Self {
        Self {
            connection,
            record_failure: Script::new(RECORD_FAILURE),
            lock: Script::new(LOCK),
        }
    }

    fn key(&self, key: &str) -> String {
        self.connection.key(&["throttle:", key])
    }
}

fn time(micros: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| StoreError::Other(anyhow::anyhow!("a stored time out of range")))
}

fn parse_micros(raw: &str) -> Result<i64, StoreError> {
    raw.parse()
        .map_err(|_| StoreError::Other(anyhow::anyhow!("a malformed stored time")))
}

fn unavailable(err: &redis::RedisError, doing: &'static str) -> StoreError {
    StoreError::Unavailable(cause(err, doing))
}

#[async_trait]
impl ThrottleStore for RedisThrottleStore {
    async fn get(&self, key: &str, now: DateTime<Utc>) -> Result<Option<Attempts>, StoreError> {
        let mut conn = self.connection.conn();
        let (failures, started, window, locked): (
            Option<u32>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
        ) = redis::cmd("HMGET")
            .arg(self.key(key))
            .arg(&["failures", "started", "window", "locked_until"])
            .query_async(&mut conn)
            .await
            .map_err(|err| unavailable(&err, "reading login throttling"))?;
        let Some(started) = started else {
            return Ok(None);
        };
        let now_micros = now.timestamp_micros();
        let window_over = now_micros >= started + window.unwrap_or(0);
        let lock_over = locked.is_none_or(|until| now_micros >= until);
        if window_over && lock_over {
            return Ok(None);
        }
        Ok(Some(Attempts {
            failures: failures.unwrap_or(0),
            window_started: time(started)?,
            locked_until: locked.map(time).transpose()?,
        }))
    }

    async fn record_failure(
        &self,
        key: &str,
        window: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<Attempts, StoreError> {
        let window = window.num_microseconds().unwrap_or(i64::MAX / 2);
        let mut conn = self.connection.conn();
        let (failures, started, locked): (u32, String, String) = self
            .record_failure
            .key(self.key(key))
            .arg(now.timestamp_micros())
            .arg(window)
            .invoke_async(&mut conn)
            .await
            .map_err(|err| unavailable(&err, "counting a failed login"))?;
        Ok(Attempts {
            failures,
            window_started: time(parse_micros(&started)?)?,
            locked_until: if locked.is_empty() {
                None
            } else {
                Some(time(parse_micros(&locked)?)?)
            },
        })
    }

    async fn lock(&self, key: &str, until: DateTime<Utc>) -> Result<(), StoreError> {
        let wall_now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let ttl_ms = (until.timestamp_millis() - wall_now).max(0) + 1000;
        let mut conn = self.connection.conn();
        self.lock
            .key(self.key(key))
            .arg(until.timestamp_micros())
            .arg(ttl_ms)
            .invoke_async::<i64>(&mut conn)
            .await
            .map(drop)
            .map_err(|err| unavailable(&err, "locking out an identifier"))
    }

    async fn clear(&self, key: &str) -> Result<(), StoreError> {
        let mut conn = self.connection.conn();
        redis::cmd("DEL")
            .arg(self.key(key))
            .query_async::<()>(&mut conn)
            .await
            .map_err(|err| unavailable(&err, "clearing login throttling"))
    }
}
