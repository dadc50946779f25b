//! `RateLimiter` in Redis: one GCRA bucket per class and subject, shared by every process, so
//! that replicas enforce one limit between them instead of one each.
//!
//! A round trip to Redis per request and limit is most of what a cached read costs (two per
//! authenticated request: per address, then per user). So a process may take a few units of a
//! bucket at once (a lease) and spend them locally: the units are taken from the shared bucket
//! when leased, so the processes together never let through more than the bucket holds. What a
//! lease changes is when: a process holds at most `lease − 1` unspent units per bucket, for at
//! most [`LEASE_LIFETIME`], and drops them unspent after that. A client may thus get up to
//! `lease − 1` requests more than the burst through one process at a moment (units leased a
//! little earlier, plus a bucket refilled meanwhile), or be refused up to `lease − 1` requests
//! early per other process holding units of its bucket. Small buckets are never leased (see
//! [`RedisRateLimiter::lease`]), nor is the sign-in class.
//!
//! Two things keep concurrent requests from turning one round trip per lease back into one per
//! request. Only one request per bucket and process fetches a lease at a time; the others wait
//! for it and spend what it brought (without that, every request in flight when a lease runs out
//! would take a lease of its own and all but one would be thrown away, spending the client's
//! quota many times faster than it is used). And a refusal is remembered: the bucket holds no
//! unit before the wait it named (its arrival time only moves forward, whoever takes from it),
//! so until then, for at most [`LEASE_LIFETIME`], the process refuses locally with the rest of
//! that wait; that is exact, and a client hammering past its limit costs no round trips.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use arcana_ports::StoreError;
use arcana_ports::ratelimit::{LimitClass, Quota, RateLimiter, Subject, Verdict};
use async_trait::async_trait;
use redis::Script;

use crate::connection::{RedisConnection, cause};

/// GCRA: the bucket holds its theoretical arrival time (TAT) in microseconds of the Redis
/// server's clock, the one clock every process shares. A request is let through when
/// TAT + interval − burst × interval is not in the future; then TAT advances by one interval.
/// Taking `want` units at once takes as many as are there (at most `want`) and advances TAT by
/// that many intervals. Answers `{taken, left in the bucket}`, or `{0, µs until one is}`.
/// Numbers are formatted with `%.0f`: Lua would print large ones in exponent form.
const GCRA: &str = r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]))
if (not tat) or tat < now then tat = now end
local available = math.floor((now - tat) / interval) + burst
if available < 1 then
  return {0, string.format('%.0f', tat + interval - burst * interval - now)}
end
local taken = math.min(want, available)
local next_tat = tat + taken * interval
local ttl = math.ceil((next_tat - now) / 1000)
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', ttl)
return {taken, string.format('%.0f', available - taken)}";

/// How long leased units stay spendable: long enough to serve a busy client for a while from
/// one round trip, short enough that units taken earlier cannot pile onto a refilled bucket.
pub const LEASE_LIFETIME: Duration = Duration::from_millis(250);

/// A bucket is leased from only when it holds at least this many leases' worth, so that what a
/// lease bends stays a small part of the quota (at most 1/16 of the burst).
const LEASES_PER_BURST: u32 = 16;

/// Past this many buckets held, expired leases are swept before a new one is kept.
const SWEEP_ABOVE: usize = 4096;

/// What this process knows of one shared bucket.
struct Lease {
    /// Units taken from the bucket and not spent yet, spendable until `until`.
    unspent: u32,
    /// What the bucket held after the lease was taken: reported as `remaining`, plus `unspent`.
    bucket_left: u32,
    until: Instant,
    /// The bucket refused, and holds no unit before this instant (kept at most until `until`).
    refused_until: Option<Instant>,
    /// Held by the one request fetching a lease for this bucket.
    fetching: Arc<tokio::sync::Mutex<()>>,
}

impl Lease {
    fn new(now: Instant) -> Self {
        Self {
            unspent: 0,
            bucket_left: 0,
            until: now,
            refused_until: None,
            fetching: Arc::default(),
        }
    }
}

#[derive(Default)]
struct Leases {
    held: HashMap<(LimitClass, Subject), Lease>,
    last_sweep: Option<Instant>,
}

impl Leases {
    /// The bucket's entry, made room for: past [`SWEEP_ABOVE`] entries the expired ones go.
    fn entry(&mut self, class: LimitClass, subject: &Subject, now: Instant) -> &mut Lease {
        if self.held.len() >= SWEEP_ABOVE
            && self
                .last_sweep
                .is_none_or(|at| now.duration_since(at) >= LEASE_LIFETIME)
        {
            self.held.retain(|_, lease| lease.until > now);
            self.last_sweep = Some(now);
        }
        self.held
            .entry((class, *subject))
            .or_insert_with(|| Lease::new(now))
    }
}

/// What the process can answer without Redis.
enum Local {
    Decided(Verdict),
    /// Nothing held: a round trip is needed, taken by whoever holds the lock.
    Fetch(Option<Arc<tokio::sync::Mutex<()>>>),
}

pub struct RedisRateLimiter {
    connection: RedisConnection,
    script: Script,
    per_ip: Quota,
    per_user: Quota,
    auth: Quota,
    max_lease: u32,
    leases: Mutex<Leases>,
}

impl RedisRateLimiter {
    /// Exact: one round trip per check. See [`RedisRateLimiter::with_lease`].
    pub fn new(connection: RedisConnection, per_ip: Quota, per_user: Quota, auth: Quota) -> Self {
        Self {
            connection,
            script: Script::new(GCRA),
            per_ip,
            per_user,
            auth,
            max_lease: 1,
            leases: Mutex::new(Leases::default()),
        }
    }

    /// Takes up to `max_lease` units per round trip (1: exact, one round trip per check).
    #[must_use]
    pub fn with_lease(mut self, max_lease: u32) -> Self {
        self.max_lease = max_lease.max(1);
        self
    }

    /// How many units of `class`'s buckets one round trip takes: 1 for sign-ins (credential
    /// stuffing gets no slack) and for buckets smaller than 16 leases.
    pub fn lease(&self, class: LimitClass) -> u32 {
        if class == LimitClass::Auth {
            return 1;
        }
        let burst = self.quota(class).burst;
        (burst / LEASES_PER_BURST).clamp(1, self.max_lease)
    }

    fn key(&self, class: LimitClass, subject: &Subject) -> String {
        let subject = match subject {
            Subject::Address(address) => format!("ip:{address}"),
            Subject::User(user) => format!("user:{user}"),
        };
        self.connection
            .key(&["ratelimit:", class.as_str(), ":", &subject])
    }

    fn leases(&self) -> MutexGuard<'_, Leases> {
        // The map holds plain numbers: a panic elsewhere cannot leave it half-updated.
        self.leases.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Spends a leased unit or repeats a standing refusal; otherwise says who fetches: with
    /// leases, one request per bucket at a time (the lock to take).
    fn local(&self, class: LimitClass, subject: &Subject, lease: u32) -> Local {
        let now = Instant::now();
        let mut leases = self.leases();
        let Some(held) = leases.held.get_mut(&(class, *subject)) else {
            if lease == 1 {
                return Local::Fetch(None);
            }
            return Local::Fetch(Some(leases.entry(class, subject, now).fetching.clone()));
        };
        if held.until > now {
            if let Some(until) = held.refused_until
                && until > now
            {
                return Local::Decided(Verdict::Limited {
                    retry_after: until - now,
                });
            }
            if held.unspent > 0 {
                held.unspent -= 1;
                return Local::Decided(Verdict::Allowed {
                    remaining: held.bucket_left.saturating_add(held.unspent),
                });
            }
        }
        Local::Fetch((lease > 1).then(|| held.fetching.clone()))
    }

    /// Keeps `unspent` units taken from a bucket that then held `bucket_left`, up to one lease's
    /// worth (units left from an earlier lease included).
    fn keep(&self, class: LimitClass, subject: &Subject, unspent: u32, bucket_left: u32) {
        let now = Instant::now();
        let cap = self.lease(class) - 1;
        let mut leases = self.leases();
        let lease = leases.entry(class, subject, now);
        let still = if lease.until > now { lease.unspent } else { 0 };
        lease.unspent = still.saturating_add(unspent).min(cap);
        lease.bucket_left = bucket_left;
        lease.until = now + LEASE_LIFETIME;
        lease.refused_until = None;
    }

    /// Remembers that the bucket has no unit before `until`.
    fn refused(&self, class: LimitClass, subject: &Subject, until: Instant) {
        let now = Instant::now();
        let mut leases = self.leases();
        let lease = leases.entry(class, subject, now);
        lease.unspent = 0;
        lease.until = until.min(now + LEASE_LIFETIME);
        lease.refused_until = Some(until);
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
        let lease = self.lease(class);
        let _fetching = match self.local(class, subject, lease) {
            Local::Decided(verdict) => return Ok(verdict),
            Local::Fetch(None) => None,
            Local::Fetch(Some(lock)) => {
                let turn = lock.lock_owned().await;
                // Whoever fetched before this request may have brought enough for it too.
                if let Local::Decided(verdict) = self.local(class, subject, lease) {
                    return Ok(verdict);
                }
                Some(turn)
            }
        };
        let quota = self.quota(class);
        let interval_micros = 1_000_000 / u64::from(quota.per_second.max(1));
        let mut conn = self.connection.conn();
        // The bucket's clock ran the script after this: a wait counted from here ends no later
        // than the bucket's, so a refusal repeated locally never outlasts it.
        let sent = Instant::now();
        let (taken, value): (u32, u64) = self
            .script
            .key(self.key(class, subject))
            .arg(interval_micros.max(1))
            .arg(quota.burst.max(1))
            .arg(lease)
            .invoke_async(&mut conn)
            .await
            .map_err(|err| StoreError::Unavailable(cause(&err, "checking a rate limit")))?;
        if taken == 0 {
            let retry_after = Duration::from_micros(value);
            self.refused(class, subject, sent + retry_after);
            return Ok(Verdict::Limited { retry_after });
        }
        let bucket_left = u32::try_from(value).unwrap_or(u32::MAX);
        let unspent = taken - 1;
        if unspent > 0 {
            self.keep(class, subject, unspent, bucket_left);
        }
        Ok(Verdict::Allowed {
            remaining: bucket_left.saturating_add(unspent),
        })
    }
}
