//! `JobQueue` within one process: the embedded backend (development, single
//! process) and the fake for tests. One mutex makes every transition atomic.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::Mutex;

use arcana_domain::ids::JobId;
use arcana_domain::jobs::{JobRecord, JobSpec, JobState};
use arcana_ports::jobs::{
    Enqueued, JobFilter, JobQueue, Lease, QueueError, QueueStats, RateLimit, Retention, Turnover,
    WorkerInfo,
};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

mod state;

use state::State;

pub struct InMemoryJobQueue {
    state: Mutex<State>,
    /// Worker presence: the last report and when it lapses.
    workers: Mutex<HashMap<String, (WorkerInfo, DateTime<Utc>)>>,
    retention: Retention,
    limits: HashMap<String, RateLimit>,
}

impl InMemoryJobQueue {
    pub fn new(retention: Retention) -> Self {
        Self {
            state: Mutex::new(State::default()),
            workers: Mutex::new(HashMap::new()),
            retention,
            limits: HashMap::new(),
        }
    }

    /// Limits how many jobs of each named queue start per period.
    #[must_use]
    pub fn with_rate_limits(mut self, limits: HashMap<String, RateLimit>) -> Self {
        self.limits = limits;
        self
    }

    fn with<T>(&self, act: impl FnOnce(&mut State) -> T) -> Result<T, QueueError> {
        let mut state = self.state.lock().map_err(|_| poisoned())?;
        Ok(act(&mut state))
    }
}

fn poisoned() -> QueueError {
    QueueError::Other(anyhow::anyhow!("in-memory job queue poisoned"))
}

fn matches(record: &JobRecord, filter: &JobFilter) -> bool {
    filter
        .queue
        .as_ref()
        .is_none_or(|q| record.spec.queue() == q.as_str())
        && filter.state.is_none_or(|s| s == record.state)
        && filter
            .name
            .as_ref()
            .is_none_or(|n| record.spec.name() == n.as_str())
        && filter
            .tag
            .as_ref()
            .is_none_or(|t| record.spec.tags().contains(t))
}

#[async_trait]
impl JobQueue for InMemoryJobQueue {
    async fn enqueue(&self, spec: JobSpec, now: DateTime<Utc>) -> Result<Enqueued, QueueError> {
        self.with(|state| state.enqueue(spec, now))
    }

    async fn enqueue_many(
        &self,
        specs: Vec<JobSpec>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Enqueued>, QueueError> {
        self.with(|state| specs.into_iter().map(|s| state.enqueue(s, now)).collect())
    }

    async fn claim(
        &self,
        queues: &[String],
        worker: &str,
        lease: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<Option<Lease>, QueueError> {
        self.with(|state| state.claim(queues, &self.limits, worker, now, lease))
    }

    async fn claim_many(
        &self,
        queues: &[String],
        worker: &str,
        lease: TimeDelta,
        max: usize,
        now: DateTime<Utc>,
    ) -> Result<Vec<Lease>, QueueError> {
        self.with(|state| {
            std::iter::from_fn(|| state.claim(queues, &self.limits, worker, now, lease))
                .take(max)
                .collect()
        })
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
        let keep = self.retention.completed;
        self.with(|state| {
            let lost = done
                .iter()
                .filter(|held| state.complete(held, now, keep).is_err())
                .map(|held| held.job.id)
                .collect();
            let claimed =
                std::iter::from_fn(|| state.claim(queues, &self.limits, worker, now, lease))
                    .take(max)
                    .collect();
            Turnover { lost, claimed }
        })
    }

    async fn heartbeat(
        &self,
        lease: &Lease,
        extend: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, QueueError> {
        self.with(|state| {
            let entry = state.leased(lease, now)?;
            let expires = now + extend;
            entry.lease = Some((lease.token.clone(), expires));
            Ok(expires)
        })?
    }

    async fn complete(&self, lease: &Lease, now: DateTime<Utc>) -> Result<(), QueueError> {
        let keep = self.retention.completed;
        self.with(|state| state.complete(lease, now, keep))?
    }

    async fn fail(
        &self,
        lease: &Lease,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<JobState, QueueError> {
        self.with(|state| {
            state.leased(lease, now)?;
            let Some(at) = retry_at else {
                state.dead_letter(lease.job.id, error, now, &self.retention);
                return Ok(JobState::DeadLettered);
            };
            let entry = state.leased(lease, now)?;
            entry.record.state = JobState::Scheduled;
            entry.record.spec.reschedule(at);
            entry.record.last_error = Some(error.to_owned());
            entry.record.updated_at = now;
            entry.lease = None;
            Ok(JobState::Scheduled)
        })?
    }

    async fn release(&self, lease: &Lease, now: DateTime<Utc>) -> Result<(), QueueError> {
        self.with(|state| {
            let entry = state.leased(lease, now)?;
            entry.record.attempt = entry.record.attempt.saturating_sub(1);
            state.make_pending(lease.job.id, now);
            Ok(())
        })?
    }

    async fn cancel(&self, id: JobId, now: DateTime<Utc>) -> Result<bool, QueueError> {
        let keep = self.retention.completed;
        self.with(|state| {
            let Some(entry) = state.jobs.get_mut(&id) else {
                return Err(QueueError::NotFound);
            };
            if !matches!(entry.record.state, JobState::Scheduled | JobState::Pending) {
                return Ok(false);
            }
            let key = (Reverse(entry.record.spec.priority()), entry.seq, id);
            if let Some(pending) = state.pending.get_mut(entry.record.spec.queue()) {
                pending.remove(&key);
            }
            entry.record.state = JobState::Cancelled;
            entry.record.updated_at = now;
            entry.expires_at = Some(now + keep);
            Ok(true)
        })?
    }

    async fn replay_dead(&self, id: JobId, now: DateTime<Utc>) -> Result<bool, QueueError> {
        self.with(|state| {
            let Some(entry) = state.jobs.get_mut(&id) else {
                return Err(QueueError::NotFound);
            };
            if entry.record.state != JobState::DeadLettered {
                return Ok(false);
            }
            entry.record.attempt = 0;
            entry.expires_at = None;
            state.make_pending(id, now);
            Ok(true)
        })?
    }

    async fn purge_dead(&self, queue: &str) -> Result<u64, QueueError> {
        self.with(|state| {
            let before = state.jobs.len();
            state.jobs.retain(|_, e| {
                e.record.state != JobState::DeadLettered || e.record.spec.queue() != queue
            });
            (before - state.jobs.len()) as u64
        })
    }

    async fn promote_due(&self, now: DateTime<Utc>) -> Result<u64, QueueError> {
        self.with(|state| {
            state.forget_expired(now);
            let due: Vec<JobId> = state
                .jobs
                .values()
                .filter(|e| e.record.state == JobState::Scheduled)
                .filter(|e| e.record.spec.run_at().is_none_or(|at| at <= now))
                .map(|e| e.record.id)
                .collect();
            for id in &due {
                state.make_pending(*id, now);
            }
            due.len() as u64
        })
    }

    async fn reap_expired(&self, now: DateTime<Utc>) -> Result<u64, QueueError> {
        self.with(|state| {
            let lapsed: Vec<(JobId, bool)> = state
                .jobs
                .values()
                .filter(|e| e.lease.as_ref().is_some_and(|(_, until)| *until <= now))
                .map(|e| {
                    let last = e.record.attempt >= e.record.spec.retry().max_attempts;
                    (e.record.id, last)
                })
                .collect();
            for (id, last) in &lapsed {
                if *last {
                    state.dead_letter(*id, "lease expired", now, &self.retention);
                } else {
                    state.make_pending(*id, now);
                }
            }
            lapsed.len() as u64
        })
    }

    async fn get(&self, id: JobId) -> Result<Option<JobRecord>, QueueError> {
        self.with(|state| state.jobs.get(&id).map(|e| e.record.clone()))
    }

    async fn search(&self, filter: &JobFilter) -> Result<Vec<JobRecord>, QueueError> {
        self.with(|state| {
            state
                .jobs
                .values()
                .filter(|e| matches(&e.record, filter))
                .take(filter.limit)
                .map(|e| e.record.clone())
                .collect()
        })
    }

    async fn stats(&self) -> Result<Vec<QueueStats>, QueueError> {
        self.with(|state| {
            let mut by_queue: HashMap<&str, QueueStats> = state
                .queues
                .iter()
                .map(|queue| {
                    let stats = QueueStats {
                        queue: queue.to_string(),
                        ..QueueStats::default()
                    };
                    (queue.as_str(), stats)
                })
                .collect();
            for entry in state.jobs.values() {
                let Some(stats) = by_queue.get_mut(entry.record.spec.queue().as_str()) else {
                    continue;
                };
                match entry.record.state {
                    JobState::Scheduled => stats.scheduled += 1,
                    JobState::Pending => stats.pending += 1,
                    JobState::Active => stats.active += 1,
                    JobState::Completed => stats.completed += 1,
                    JobState::DeadLettered => stats.dead_lettered += 1,
                    JobState::Cancelled => {}
                }
            }
            let mut stats: Vec<QueueStats> = by_queue.into_values().collect();
            stats.sort_by(|a, b| a.queue.cmp(&b.queue));
            stats
        })
    }

    async fn beat_worker(&self, worker: &WorkerInfo, ttl: TimeDelta) -> Result<(), QueueError> {
        let mut workers = self.workers.lock().map_err(|_| poisoned())?;
        workers.insert(worker.id.clone(), (worker.clone(), worker.last_seen + ttl));
        Ok(())
    }

    async fn workers(&self, now: DateTime<Utc>) -> Result<Vec<WorkerInfo>, QueueError> {
        let mut workers = self.workers.lock().map_err(|_| poisoned())?;
        workers.retain(|_, (_, until)| *until > now);
        let mut live: Vec<WorkerInfo> = workers.values().map(|(w, _)| w.clone()).collect();
        live.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(live)
    }
}
