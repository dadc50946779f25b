//! The durable job queue and the store of cron schedules.
//!
//! Delivery is at-least-once: a claimed job is held under a lease that the worker renews; if the
//! worker dies the lease lapses and [`JobQueue::reap_expired`] hands the job out again. Every
//! state transition below is one atomic step in the backend, so no crash point leaves a job in
//! two places or in none.

use arcana_domain::ids::JobId;
use arcana_domain::jobs::{JobRecord, JobSpec, JobState};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The lease is no longer held by the caller (it expired and the job was handed out again).
    #[error("lease lost")]
    LeaseLost,
    #[error("job not found")]
    NotFound,
    #[error("queue backend unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error("queue failure")]
    Other(#[source] anyhow::Error),
}

/// Proof that a worker holds a job; every completion or failure must present it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub job: JobRecord,
    /// Distinguishes this delivery from earlier ones of the same job.
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enqueued {
    pub id: JobId,
    /// `true` when a job with the same unique key existed inside its window and was returned
    /// instead of creating a new one.
    pub deduplicated: bool,
}

/// What one [`JobQueue::complete_and_claim`] step did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Turnover {
    /// Jobs whose completion was refused because the lease was no longer held (what
    /// [`JobQueue::complete`] reports as `LeaseLost`): their current delivery's outcome counts.
    pub lost: Vec<JobId>,
    /// The jobs taken next, in the order successive claims would have taken them.
    pub claimed: Vec<Lease>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    pub queue: Option<String>,
    pub state: Option<JobState>,
    pub name: Option<String>,
    pub tag: Option<String>,
    pub limit: usize,
}

/// How long finished jobs are kept, so that storage stays bounded under sustained load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Completed and cancelled records are deleted this long after they finish.
    pub completed: TimeDelta,
    /// Dead letters older than this are deleted …
    pub dead_max_age: TimeDelta,
    /// … and a queue keeps at most this many (the oldest go first).
    pub dead_max_len: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            completed: TimeDelta::hours(1),
            dead_max_age: TimeDelta::days(7),
            dead_max_len: 10_000,
        }
    }
}

/// At most `limit` jobs of one queue start per `period`, across every worker of the cluster
/// (fixed windows aligned on multiples of `period`). Jobs over the limit stay pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: u64,
    pub period: TimeDelta,
}

impl RateLimit {
    /// The window `now` falls in.
    pub fn window(&self, now: DateTime<Utc>) -> i64 {
        now.timestamp_millis() / self.period.num_milliseconds().max(1)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueStats {
    pub queue: String,
    pub scheduled: u64,
    pub pending: u64,
    pub active: u64,
    /// Completed records still retained.
    pub completed: u64,
    pub dead_lettered: u64,
}

/// A worker process as it last reported itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerInfo {
    /// `role@host:pid`.
    pub id: String,
    pub queues: Vec<String>,
    pub started_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Jobs it was running at `last_seen`.
    pub running: u32,
}

#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Stores the job (scheduled if `run_at` is in the future, else pending).
    async fn enqueue(&self, spec: JobSpec, now: DateTime<Utc>) -> Result<Enqueued, QueueError>;

    /// Stores each spec as [`JobQueue::enqueue`] would, in order, and returns the outcomes in
    /// the same order; a unique key repeated inside the batch is deduplicated as across calls.
    /// Backends make the batch one round trip (bulk producers such as `arcana jobs enqueue`).
    ///
    /// # Errors
    /// `Unavailable` when the backend cannot be reached. Not safe to retry blindly: after an
    /// error any prefix of the batch may be stored (the Redis and memory adapters store all or
    /// none unless the connection drops mid-answer); jobs carrying a unique key are the ones a
    /// retry cannot duplicate.
    async fn enqueue_many(
        &self,
        specs: Vec<JobSpec>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Enqueued>, QueueError> {
        let mut enqueued = Vec::with_capacity(specs.len());
        for spec in specs {
            enqueued.push(self.enqueue(spec, now).await?);
        }
        Ok(enqueued)
    }

    /// Takes the highest-priority, oldest pending job of the first non-empty queue in `queues`
    /// under a lease of `lease` length, counting one more attempt. A queue whose [`RateLimit`]
    /// (given to the adapter at construction) is spent for the current window is skipped.
    async fn claim(
        &self,
        queues: &[String],
        worker: &str,
        lease: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<Option<Lease>, QueueError>;

    /// Takes up to `max` jobs, each as one more [`JobQueue::claim`] would (priority, then
    /// arrival, queue by queue in the order of `queues`; a rate limit counts every job), each
    /// under its own lease. Fewer, or none, when the queues run dry. A lease is renewed only by
    /// heartbeats, so callers claim no more than they start at once.
    ///
    /// # Errors
    /// `Unavailable` when the backend cannot be reached. Safe to retry: jobs claimed by a call
    /// whose answer was lost stay invisible until their leases lapse, then are delivered again.
    async fn claim_many(
        &self,
        queues: &[String],
        worker: &str,
        lease: TimeDelta,
        max: usize,
        now: DateTime<Utc>,
    ) -> Result<Vec<Lease>, QueueError> {
        let mut claimed = Vec::new();
        while claimed.len() < max {
            match self.claim(queues, worker, lease, now).await? {
                Some(held) => claimed.push(held),
                None => break,
            }
        }
        Ok(claimed)
    }

    /// Completes every lease of `done` as [`JobQueue::complete`] would, then claims as
    /// [`JobQueue::claim_many`] would, as one step: a worker acknowledges what it finished and
    /// takes its next jobs in one round trip. A lease no longer held is not completed (its job
    /// is listed in [`Turnover::lost`]) and does not stop the others.
    ///
    /// # Errors
    /// `Unavailable` when the backend cannot be reached; any part of the step may have
    /// happened. A completion that did not is no loss: the job stays active until its lease
    /// lapses and then runs again (at-least-once). Retrying is safe, but a completion applied by
    /// the failed call comes back from the retry in `lost`.
    async fn complete_and_claim(
        &self,
        done: &[Lease],
        queues: &[String],
        worker: &str,
        lease: TimeDelta,
        max: usize,
        now: DateTime<Utc>,
    ) -> Result<Turnover, QueueError> {
        let mut lost = Vec::new();
        for held in done {
            match self.complete(held, now).await {
                Ok(()) => {}
                Err(QueueError::LeaseLost) => lost.push(held.job.id),
                Err(err) => return Err(err),
            }
        }
        let claimed = self.claim_many(queues, worker, lease, max, now).await?;
        Ok(Turnover { lost, claimed })
    }

    /// Extends a held lease; `LeaseLost` if it is no longer held.
    async fn heartbeat(
        &self,
        lease: &Lease,
        extend: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, QueueError>;

    /// Marks the job completed and releases the lease.
    async fn complete(&self, lease: &Lease, now: DateTime<Utc>) -> Result<(), QueueError>;

    /// Records a failed attempt: rescheduled at `retry_at`, or dead-lettered when `None`.
    async fn fail(
        &self,
        lease: &Lease,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<JobState, QueueError>;

    /// Gives a held job back to its queue untouched (graceful shutdown).
    async fn release(&self, lease: &Lease, now: DateTime<Utc>) -> Result<(), QueueError>;

    /// Cancels a scheduled or pending job; `false` if it is in any other state.
    async fn cancel(&self, id: JobId, now: DateTime<Utc>) -> Result<bool, QueueError>;

    /// Moves a dead-lettered job back to pending with its payload intact and attempts reset.
    async fn replay_dead(&self, id: JobId, now: DateTime<Utc>) -> Result<bool, QueueError>;

    /// Deletes the dead letters of `queue`; returns how many.
    async fn purge_dead(&self, queue: &str) -> Result<u64, QueueError>;

    /// Moves scheduled jobs whose time has come to pending; returns how many.
    async fn promote_due(&self, now: DateTime<Utc>) -> Result<u64, QueueError>;

    /// Returns jobs whose lease lapsed to pending (or dead-letters them when that was their last
    /// attempt, so a job that kills its workers cannot circulate for ever); returns how many.
    async fn reap_expired(&self, now: DateTime<Utc>) -> Result<u64, QueueError>;

    async fn get(&self, id: JobId) -> Result<Option<JobRecord>, QueueError>;

    /// Jobs matching every set field of `filter`, at most `filter.limit`, in no promised order.
    async fn search(&self, filter: &JobFilter) -> Result<Vec<JobRecord>, QueueError>;

    /// One entry per queue that ever received a job, sorted by name.
    async fn stats(&self) -> Result<Vec<QueueStats>, QueueError>;

    /// Records that `worker` is alive as of `worker.last_seen`, for `ttl`.
    async fn beat_worker(&self, worker: &WorkerInfo, ttl: TimeDelta) -> Result<(), QueueError>;

    /// Workers whose last beat has not expired at `now`, sorted by id.
    async fn workers(&self, now: DateTime<Utc>) -> Result<Vec<WorkerInfo>, QueueError>;
}

/// A recurring job: a cron expression (with seconds) in a time zone, and the job it enqueues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub name: String,
    pub cron: String,
    /// IANA name, e.g. `Europe/Paris`.
    pub timezone: String,
    pub job: JobSpec,
    pub paused: bool,
    pub last_fired_at: Option<DateTime<Utc>>,
}

#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait Scheduler: Send + Sync {
    /// Creates or replaces the definition of `schedule.name`, keeping its paused flag and last
    /// fire time when it already exists (definitions come from code at every start-up).
    async fn upsert(&self, schedule: &Schedule) -> Result<(), QueueError>;

    async fn list(&self) -> Result<Vec<Schedule>, QueueError>;

    /// `false` when no schedule has that name.
    async fn set_paused(&self, name: &str, paused: bool) -> Result<bool, QueueError>;

    /// Records that `name` fired at `at`. Firing itself is an enqueue with a unique key made of
    /// the schedule name and fire time, so a fire time is enqueued at most once even across a
    /// leader failover.
    async fn mark_fired(&self, name: &str, at: DateTime<Utc>) -> Result<(), QueueError>;
}

/// What happened to a job, for the live feed of the admin API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobEventKind {
    Enqueued,
    /// A worker claimed it (one more attempt).
    Started,
    Completed,
    /// An attempt failed and the job will be retried.
    Failed,
    DeadLettered,
    Cancelled,
    /// A dead letter went back to its queue.
    Replayed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobEvent {
    pub id: JobId,
    pub name: String,
    pub queue: String,
    pub kind: JobEventKind,
    pub attempt: u32,
    pub at: DateTime<Utc>,
}

/// One subscriber's view of the feed.
#[async_trait]
pub trait JobEventSubscription: Send {
    /// The next event; `None` once the feed is closed. A subscriber that falls behind skips
    /// the events it missed rather than slowing the queue down.
    async fn next(&mut self) -> Option<JobEvent>;
}

/// A best-effort broadcast of job events: publishing never blocks nor fails.
pub trait JobEventFeed: Send + Sync {
    fn publish(&self, event: JobEvent);

    fn subscribe(&self) -> Box<dyn JobEventSubscription>;
}
