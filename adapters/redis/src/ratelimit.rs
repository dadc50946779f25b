//! `RateLimiter` in Redis: one GCRA bucket per class and subject, shared by every process, so
//! that replicas enforce one limit between them instead of one each.

use std::time::Duration;

use arcana_ports::StoreError;
use arcana_ports::ratelimit::{LimitClass, Quota, RateLimiter, Subject, Verdict};
use async_trait::async_trait;
use redis::Script;

use crate::connection::{RedisConnection, cause};

/// GCRA: the bucket holds its theoretical arrival time (TAT) in microseconds of the Redis
/// server's clock, the one clock every process shares. A request is let through when
/// TAT + interval − burst × interval is not in the future; then TAT advances by one interval.
/// Numbers are formatted with `%.0f`: Lua would print large ones in exponent form.
const GCRA: &str = r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if (not tat) or tat < now then tat = now end
local next_tat = tat + interval
local allow_at = next_tat - burst * interval
if allow_at > now then
  return {0, string.format('%.0f', allow_at - now)}
end
local ttl = math.ceil((next_tat - now) / 1000)
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', ttl)
return {1, string.format('%.0f', math.floor((now - allow_at) / interval))}";

pub struct RedisRateLimiter {
    connection: RedisConnection,
    script: Script,
    per_ip: Quota,
    per_user: Quota,
    auth: Quota,
}

impl RedisRateLimiter {
    pub fn new(connection: RedisConnection, per_ip: Quota, per_user: Quota, auth: Quota) -> Self {
        Self {
            connection,
            script: Script::new(GCRA),
            per_ip,
            per_user,
            auth,
        }
    }

    fn key(&self, class: LimitClass, subject: &Subject) -> String {
        let subject = match subject {
            Subject::Address(address) => format!("ip:{address}"),
            Subject::User(user) => format!("user:{user}"),
        };
        self.connection
            .key(&["ratelimit:", class.as_str(), ":", &subject])
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    fn quota(&self, class: LimitClass) -> Quota {
        match class {
            LimitClass::PerIp => self.per_ip,
            LimitClass::PerUser => self.per_user,
            LimitClass::Auth => self.auth,
        }
    }

    async fn check(&self, class: LimitClass, subject: &Subject) -> Result<Verdict, StoreError> {
        let quota = self.quota(class);
        let interval_micros = 1_000_000 / u64::from(quota.per_second.max(1));
        let mut conn = self.connection.conn();
        let (allowed, value): (u8, u64) = self
            .script
            .key(self.key(class, subject))
            .arg(interval_micros.max(1))
            .arg(quota.burst.max(1))
            .invoke_async(&mut conn)
            .await
            .map_err(|err| StoreError::Unavailable(cause(&err, "checking a rate limit")))?;
        Ok(if allowed == 1 {
            Verdict::Allowed {
                remaining: u32::try_from(value).unwrap_or(u32::MAX),
            }
        } else {
            Verdict::Limited {
                retry_after: Duration::from_micros(value),
            }
        })
    }
}
