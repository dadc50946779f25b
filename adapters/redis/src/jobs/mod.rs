//! `JobQueue` in Redis: ids in the scheduling structures, each job's record in its own hash,
//! and one Lua script per transition ([`scripts`]); enqueues, completions and claims go in
//! batches ([`batch`]).
//!
//! Layout, under `{prefix}jobs:`:
//! - `job:{id}` — the record (hash). Live jobs never expire; completed and cancelled ones
//!   expire after the completed retention, dead letters after the dead-letter age.
//! - `pending:{queue}` — ids by priority, then arrival (ZSET, score `(3 - rank)·10¹³ + seq`).
//! - `scheduled:{queue}` — delayed and retrying ids by run-at time (ZSET, µs).
//! - `active:{queue}` — leased ids by lease expiry (ZSET, µs), what the reaper sweeps.
//! - `dead:{queue}` — dead letters by when they died (ZSET), trimmed by age and length.
//! - `done:{queue}` — completed ids by completion time, trimmed to the retention (ZSET).
//! - `unique:{key}` — the id holding a unique key, expiring with its window (string).
//! - `rate:{queue}:{window}` — jobs started in a rate-limited queue's current window (string,
//!   expiring with the window).
//! - `workers`, `worker:{id}` — live worker processes (ZSET by lapse time; hash, expiring).
//! - `queues` — every queue name (set); `seq` — arrival and lease-token counter.

mod batch;
mod codec;
mod read;
mod scheduler;
mod scripts;

use std::collections::HashMap;

use arcana_domain::ids::JobId;
use arcana_domain::jobs::{JobRecord, JobSpec, JobState};
use arcana_ports::jobs::{
    Enqueued, JobFilter, JobQueue, Lease, QueueError, QueueStats, RateLimit, Retention, Turnover,
    WorkerInfo,
};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use redis::Script;

pub use scheduler::RedisScheduler;

use crate::connection::{RedisConnection, cause};
use codec::{micros, millis};
use scripts::Scripts;

/// Jobs moved per queue by one promote or reap script, so none blocks the server for long.
const BATCH: usize = 500;

pub struct RedisJobQueue {
    connection: RedisConnection,
    prefix: String,
    retention: Retention,
    limits: HashMap<String, RateLimit>,
    scripts: Scripts,
}

fn unavailable(err: &redis::RedisError, doing: &'static str) -> QueueError {
    QueueError::Unavailable(cause(err, doing))
}

impl RedisJobQueue {
    pub fn new(connection: RedisConnection, retention: Retention) -> Self {
        let prefix = connection.key(&["jobs:"]);
        Self {
            connection,
            prefix,
            retention,
            limits: HashMap::new(),
            scripts: Scripts::compile(),
        }
    }

    /// Limits how many jobs of each named queue start per period, counted in Redis so that
    /// the limit holds across every worker process.
    #[must_use]
    pub fn with_rate_limits(mut self, limits: HashMap<String, RateLimit>) -> Self {
        self.limits = limits;
        self
    }

    /// Per queue: name, limit (0: none), current window, period in ms (the counter's TTL).
    fn claim_args(&self, queues: &[String], now: DateTime<Utc>) -> Vec<String> {
        let mut args = Vec::with_capacity(queues.len() * 4);
        for queue in queues {
            args.push(queue.clone());
            match self.limits.get(queue) {
                Some(limit) => {
                    args.push(limit.limit.to_string());
                    args.push(limit.window(now).to_string());
                    args.push(millis(limit.period));
                }
                None => args.extend(["0".to_owned(), "0".to_owned(), "1".to_owned()]),
            }
        }
        args
    }

    fn key(&self, rest: &str) -> String {
        format!("{}{rest}", self.prefix)
    }

    /// Dead-letter arguments: record TTL, index cutoff, index length.
    fn dead_args(&self, now: DateTime<Utc>) -> [String; 3] {
        [
            millis(self.retention.dead_max_age),
            micros(now - self.retention.dead_max_age),
            self.retention.dead_max_len.to_string(),
        ]
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        script: &Script,
        args: &[&[u8]],
        doing: &'static str,
    ) -> Result<T, QueueError> {
        let mut invocation = script.prepare_invoke();
        invocation.arg(self.prefix.as_str());
        for arg in args {
            invocation.arg(*arg);
        }
        invocation
            .invoke_async(&mut self.connection.conn())
            .await
            .map_err(|err| unavailable(&err, doing))
    }

    async fn leased(
        &self,
        script: &Script,
        lease: &Lease,
        now: DateTime<Utc>,
        extra: &[&[u8]],
        doing: &'static str,
    ) -> Result<i64, QueueError> {
        let id = lease.job.id.to_string();
        let now = micros(now);
        let mut args: Vec<&[u8]> = vec![id.as_bytes(), lease.token.as_bytes(), now.as_bytes()];
        args.extend_from_slice(extra);
        match self.run::<i64>(script, &args, doing).await? {
            0 => Err(QueueError::LeaseLost),
            outcome => Ok(outcome),
        }
    }
}

#[async_trait]
impl JobQueue for RedisJobQueue {
    async fn enqueue(&self, spec: JobSpec, now: DateTime<Utc>) -> Result<Enqueued, QueueError> {
        let mut enqueued = self.enqueue_batch(std::slice::from_ref(&spec), now).await?;
        enqueued
            .pop()
            .ok_or_else(|| QueueError::Other(anyhow::anyhow!("an enqueue without an outcome")))
    }

    async fn enqueue_many(
        &self,
        specs: Vec<JobSpec>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Enqueued>, QueueError> {
        self.enqueue_batch(&specs, now).await
    }

    async fn claim(
        &self,
        queues: &[String],
        worker: &str,
        lease: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<Option<Lease>, QueueError> {
        let turnover = self.turnover(&[], queues, worker, lease, 1, now).await?;
        Ok(turnover.claimed.into_iter().next())
    }

    async fn claim_many(
        &self,
        queues: &[String],
        worker: &str,
        lease: TimeDelta,
        max: usize,
        now: DateTime<Utc>,
    ) -> Result<Vec<Lease>, QueueError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let turnover = self.turnover(&[], queues, worker, lease, max, now).await?;
        Ok(turnover.claimed)
    }

    async fn complete_and_claim(
        &self,
        done: &[Lease],
        queues: &[String],
        worker: &str,
        lease: TimeDelta,
        max: usize,
        now: DateTime<Utc>,
    ) -> Result<Turnover, QueueError> {
        if done.is_empty() && max == 0 {
            return Ok(Turnover::default());
        }
        self.turnover(done, queues, worker, lease, max, now).await
    }

    async fn heartbeat(
        &self,
        lease: &Lease,
        extend: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, QueueError> {
        let until = now + extend;
        let until_us = micros(until);
        self.leased(
            &self.scripts.heartbeat,
            lease,
            now,
            &[until_us.as_bytes()],
            "renewing a lease",
        )
        .await?;
        Ok(until)
    }

    async fn complete(&self, lease: &Lease, now: DateTime<Utc>) -> Result<(), QueueError> {
        let keep = millis(self.retention.completed);
        let cutoff = micros(now - self.retention.completed);
        let extra: [&[u8]; 2] = [keep.as_bytes(), cutoff.as_bytes()];
        self.leased(
            &self.scripts.complete,
            lease,
            now,
            &extra,
            "completing a job",
        )
        .await
        .map(drop)
    }

    async fn fail(
        &self,
        lease: &Lease,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<JobState, QueueError> {
        let retry = retry_at.map(micros).unwrap_or_default();
        let [ttl, cutoff, len] = self.dead_args(now);
        let extra: [&[u8]; 5] = [
            error.as_bytes(),
            retry.as_bytes(),
            ttl.as_bytes(),
            cutoff.as_bytes(),
            len.as_bytes(),
        ];
        let outcome = self
            .leased(&self.scripts.fail, lease, now, &extra, "failing a job")
            .await?;
        Ok(if outcome == 2 {
            JobState::DeadLettered
        } else {
            JobState::Scheduled
        })
    }

    async fn release(&self, lease: &Lease, now: DateTime<Utc>) -> Result<(), QueueError> {
        self.leased(&self.scripts.release, lease, now, &[], "releasing a job")
            .await
            .map(drop)
    }

    async fn cancel(&self, id: JobId, now: DateTime<Utc>) -> Result<bool, QueueError> {
        let (id, now, keep) = (
            id.to_string(),
            micros(now),
            millis(self.retention.completed),
        );
        let args: [&[u8]; 3] = [id.as_bytes(), now.as_bytes(), keep.as_bytes()];
        match self
            .run::<i64>(&self.scripts.cancel, &args, "cancelling a job")
            .await?
        {
            -1 => Err(QueueError::NotFound),
            outcome => Ok(outcome == 1),
        }
    }

    async fn replay_dead(&self, id: JobId, now: DateTime<Utc>) -> Result<bool, QueueError> {
        let (id, now) = (id.to_string(), micros(now));
        let args: [&[u8]; 2] = [id.as_bytes(), now.as_bytes()];
        match self
            .run::<i64>(&self.scripts.replay, &args, "replaying a dead letter")
            .await?
        {
            -1 => Err(QueueError::NotFound),
            outcome => Ok(outcome == 1),
        }
    }

    async fn purge_dead(&self, queue: &str) -> Result<u64, QueueError> {
        self.run(
            &self.scripts.purge_dead,
            &[queue.as_bytes()],
            "purging dead letters",
        )
        .await
    }

    async fn promote_due(&self, now: DateTime<Utc>) -> Result<u64, QueueError> {
        let (now, batch) = (micros(now), BATCH.to_string());
        let mut total = 0;
        loop {
            let args: [&[u8]; 2] = [now.as_bytes(), batch.as_bytes()];
            let moved: u64 = self
                .run(&self.scripts.promote, &args, "promoting due jobs")
                .await?;
            total += moved;
            if moved < BATCH as u64 {
                return Ok(total);
            }
        }
    }

    async fn reap_expired(&self, now: DateTime<Utc>) -> Result<u64, QueueError> {
        let [ttl, cutoff, len] = self.dead_args(now);
        let (now, batch) = (micros(now), BATCH.to_string());
        let mut total = 0;
        loop {
            let args: [&[u8]; 5] = [
                now.as_bytes(),
                batch.as_bytes(),
                ttl.as_bytes(),
                cutoff.as_bytes(),
                len.as_bytes(),
            ];
            let moved: u64 = self
                .run(&self.scripts.reap, &args, "reaping lapsed leases")
                .await?;
            total += moved;
            if moved < BATCH as u64 {
                return Ok(total);
            }
        }
    }

    async fn get(&self, id: JobId) -> Result<Option<JobRecord>, QueueError> {
        Ok(self.records(&[id.to_string()]).await?.pop())
    }

    async fn search(&self, filter: &JobFilter) -> Result<Vec<JobRecord>, QueueError> {
        self.search_indexes(filter).await
    }

    async fn stats(&self) -> Result<Vec<QueueStats>, QueueError> {
        self.count_indexes().await
    }

    async fn beat_worker(&self, worker: &WorkerInfo, ttl: TimeDelta) -> Result<(), QueueError> {
        self.record_worker(worker, ttl).await
    }

    async fn workers(&self, now: DateTime<Utc>) -> Result<Vec<WorkerInfo>, QueueError> {
        self.live_workers(now).await
    }
}
