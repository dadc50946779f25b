//! `JobQueue` and `Scheduler` within one process: the embedded backend (development, single
//! process) and the fake for tests. One mutex makes every transition atomic.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use arcana_domain::ids::JobId;
use arcana_domain::jobs::{JobRecord, JobSpec, JobState, Priority};
use arcana_ports::jobs::{
    Enqueued, JobFilter, JobQueue, Lease, QueueError, QueueStats, RateLimit, Retention, Schedule,
    Scheduler,
};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

/// Pending order within a queue: highest priority first, then first come.
type PendingKey = (Reverse<Priority>, u64, JobId);

struct Entry {
    record: JobRecord,
    /// Token and expiry of the current delivery, while active.
    lease: Option<(String, DateTime<Utc>)>,
    /// Position in the pending order; refreshed each time the job becomes pending.
    seq: u64,
    /// When the record may be forgotten (finished jobs only).
    expires_at: Option<DateTime<Utc>>,
}

#[derive(Default)]
struct State {
    jobs: HashMap<JobId, Entry>,
    pending: HashMap<String, BTreeSet<PendingKey>>,
    unique: HashMap<String, (JobId, DateTime<Utc>)>,
    /// Every queue that ever received a job, so stats list emptied queues too.
    queues: BTreeSet<String>,
    /// Jobs started per rate-limited queue in its current window.
    started: HashMap<String, (i64, u64)>,
    seq: u64,
}

impl State {
    fn make_pending(&mut self, id: JobId, now: DateTime<Utc>) {
        self.seq += 1;
        let seq = self.seq;
        let Some(entry) = self.jobs.get_mut(&id) else {
            return;
        };
        entry.record.state = JobState::Pending;
        entry.record.updated_at = now;
        entry.lease = None;
        entry.seq = seq;
        self.pending
            .entry(entry.record.spec.queue.clone())
            .or_default()
            .insert((Reverse(entry.record.spec.priority), seq, id));
    }

    /// The entry if `lease` is still its current delivery.
    fn leased(&mut self, lease: &Lease, now: DateTime<Utc>) -> Result<&mut Entry, QueueError> {
        let entry = self
            .jobs
            .get_mut(&lease.job.id)
            .ok_or(QueueError::LeaseLost)?;
        match &entry.lease {
            Some((token, expires)) if *token == lease.token && *expires > now => Ok(entry),
            _ => Err(QueueError::LeaseLost),
        }
    }

    fn dead_letter(&mut self, id: JobId, error: &str, now: DateTime<Utc>, retention: &Retention) {
        if let Some(entry) = self.jobs.get_mut(&id) {
            entry.record.state = JobState::DeadLettered;
            entry.record.last_error = Some(error.to_owned());
            entry.record.updated_at = now;
            entry.lease = None;
            entry.expires_at = Some(now + retention.dead_max_age);
            let queue = entry.record.spec.queue.clone();
            self.trim_dead(&queue, retention);
        }
    }

    fn trim_dead(&mut self, queue: &str, retention: &Retention) {
        let mut dead: Vec<(DateTime<Utc>, JobId)> = self
            .jobs
            .values()
            .filter(|e| e.record.state == JobState::DeadLettered && e.record.spec.queue == queue)
            .map(|e| (e.record.updated_at, e.record.id))
            .collect();
        let keep = usize::try_from(retention.dead_max_len).unwrap_or(usize::MAX);
        if dead.len() > keep {
            dead.sort();
            for (_, id) in &dead[..dead.len() - keep] {
                self.jobs.remove(id);
            }
        }
    }

    fn forget_expired(&mut self, now: DateTime<Utc>) {
        self.jobs
            .retain(|_, e| e.expires_at.is_none_or(|expiry| expiry > now));
        self.unique.retain(|_, (_, until)| *until > now);
    }
}

pub struct InMemoryJobQueue {
    state: Mutex<State>,
    retention: Retention,
    limits: HashMap<String, RateLimit>,
}

impl InMemoryJobQueue {
    pub fn new(retention: Retention) -> Self {
        Self {
            state: Mutex::new(State::default()),
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
        let mut state = self
            .state
            .lock()
            .map_err(|_| QueueError::Other(anyhow::anyhow!("in-memory job queue poisoned")))?;
        Ok(act(&mut state))
    }
}

fn matches(record: &JobRecord, filter: &JobFilter) -> bool {
    filter
        .queue
        .as_ref()
        .is_none_or(|q| *q == record.spec.queue)
        && filter.state.is_none_or(|s| s == record.state)
        && filter.name.as_ref().is_none_or(|n| *n == record.spec.name)
        && filter
            .tag
            .as_ref()
            .is_none_or(|t| record.spec.tags.contains(t))
}

#[async_trait]
impl JobQueue for InMemoryJobQueue {
    async fn enqueue(&self, spec: JobSpec, now: DateTime<Utc>) -> Result<Enqueued, QueueError> {
        self.with(|state| {
            if let Some(unique) = &spec.unique
                && let Some((id, until)) = state.unique.get(&unique.key)
                && *until > now
            {
                return Enqueued {
                    id: *id,
                    deduplicated: true,
                };
            }
            let id = JobId::generate();
            state.queues.insert(spec.queue.clone());
            if let Some(unique) = &spec.unique {
                state
                    .unique
                    .insert(unique.key.clone(), (id, now + unique.window));
            }
            let delayed = spec.run_at.is_some_and(|at| at > now);
            let record = JobRecord {
                id,
                spec,
                state: JobState::Scheduled,
                attempt: 0,
                created_at: now,
                updated_at: now,
                last_error: None,
            };
            state.jobs.insert(
                id,
                Entry {
                    record,
                    lease: None,
                    seq: 0,
                    expires_at: None,
                },
            );
            if !delayed {
                state.make_pending(id, now);
            }
            Enqueued {
                id,
                deduplicated: false,
            }
        })
    }

    async fn claim(
        &self,
        queues: &[String],
        worker: &str,
        lease: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<Option<Lease>, QueueError> {
        self.with(|state| {
            let (id, queue) = queues.iter().find_map(|queue| {
                let limit = self.limits.get(queue);
                if let Some(limit) = limit {
                    let window = limit.window(now);
                    let (seen, count) = state.started.get(queue).copied().unwrap_or((window, 0));
                    if seen == window && count >= limit.limit {
                        return None;
                    }
                }
                let first = state.pending.get_mut(queue)?.pop_first()?;
                if let Some(limit) = limit {
                    let window = limit.window(now);
                    let entry = state.started.entry(queue.clone()).or_insert((window, 0));
                    *entry = if entry.0 == window {
                        (window, entry.1 + 1)
                    } else {
                        (window, 1)
                    };
                }
                Some((first.2, queue))
            })?;
            state.seq += 1;
            let token = format!("{worker}:{}", state.seq);
            let entry = state.jobs.get_mut(&id)?;
            debug_assert_eq!(&entry.record.spec.queue, queue);
            entry.record.state = JobState::Active;
            entry.record.attempt += 1;
            entry.record.updated_at = now;
            let expires_at = now + lease;
            entry.lease = Some((token.clone(), expires_at));
            Some(Lease {
                job: entry.record.clone(),
                token,
                expires_at,
            })
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
        self.with(|state| {
            let entry = state.leased(lease, now)?;
            entry.record.state = JobState::Completed;
            entry.record.updated_at = now;
            entry.lease = None;
            entry.expires_at = Some(now + keep);
            Ok(())
        })?
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
            entry.record.spec.run_at = Some(at);
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
            let key = (Reverse(entry.record.spec.priority), entry.seq, id);
            if let Some(pending) = state.pending.get_mut(&entry.record.spec.queue) {
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
                e.record.state != JobState::DeadLettered || e.record.spec.queue != queue
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
                .filter(|e| e.record.spec.run_at.is_none_or(|at| at <= now))
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
                    let last = e.record.attempt >= e.record.spec.retry.max_attempts;
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
                        queue: queue.clone(),
                        ..QueueStats::default()
                    };
                    (queue.as_str(), stats)
                })
                .collect();
            for entry in state.jobs.values() {
                let Some(stats) = by_queue.get_mut(entry.record.spec.queue.as_str()) else {
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
}

/// Cron schedules of one process.
#[derive(Default)]
pub struct InMemoryScheduler {
    schedules: Mutex<HashMap<String, Schedule>>,
}

impl InMemoryScheduler {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(
        &self,
        act: impl FnOnce(&mut HashMap<String, Schedule>) -> T,
    ) -> Result<T, QueueError> {
        let mut schedules = self
            .schedules
            .lock()
            .map_err(|_| QueueError::Other(anyhow::anyhow!("in-memory schedules poisoned")))?;
        Ok(act(&mut schedules))
    }
}

#[async_trait]
impl Scheduler for InMemoryScheduler {
    async fn upsert(&self, schedule: &Schedule) -> Result<(), QueueError> {
        self.with(|all| {
            let mut next = schedule.clone();
            if let Some(old) = all.get(&schedule.name) {
                next.paused = old.paused;
                next.last_fired_at = old.last_fired_at;
            }
            all.insert(next.name.clone(), next);
        })
    }

    async fn list(&self) -> Result<Vec<Schedule>, QueueError> {
        self.with(|all| {
            let mut list: Vec<Schedule> = all.values().cloned().collect();
            list.sort_by(|a, b| a.name.cmp(&b.name));
            list
        })
    }

    async fn set_paused(&self, name: &str, paused: bool) -> Result<bool, QueueError> {
        self.with(|all| all.get_mut(name).map(|s| s.paused = paused).is_some())
    }

    async fn mark_fired(&self, name: &str, at: DateTime<Utc>) -> Result<(), QueueError> {
        self.with(|all| {
            if let Some(schedule) = all.get_mut(name) {
                schedule.last_fired_at = Some(at.max(schedule.last_fired_at.unwrap_or(at)));
            }
        })
    }
}
