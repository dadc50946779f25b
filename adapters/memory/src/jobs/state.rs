//! The in-memory queue's tables and the transitions several operations share.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};

use arcana_domain::ids::JobId;
use arcana_domain::jobs::{JobRecord, JobSpec, JobState, Priority, QueueName};
use arcana_ports::jobs::{Enqueued, Lease, QueueError, RateLimit, Retention};
use chrono::{DateTime, TimeDelta, Utc};

/// Pending order within a queue: highest priority first, then first come.
pub(super) type PendingKey = (Reverse<Priority>, u64, JobId);

pub(super) struct Entry {
    pub(super) record: JobRecord,
    /// Token and expiry of the current delivery, while active.
    pub(super) lease: Option<(String, DateTime<Utc>)>,
    /// Position in the pending order; refreshed each time the job becomes pending.
    pub(super) seq: u64,
    /// When the record may be forgotten (finished jobs only).
    pub(super) expires_at: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub(super) struct State {
    pub(super) jobs: HashMap<JobId, Entry>,
    pub(super) pending: HashMap<QueueName, BTreeSet<PendingKey>>,
    pub(super) unique: HashMap<String, (JobId, DateTime<Utc>)>,
    /// Every queue that ever received a job, so stats list emptied queues too.
    pub(super) queues: BTreeSet<QueueName>,
    /// Jobs started per rate-limited queue in its current window.
    pub(super) started: HashMap<String, (i64, u64)>,
    pub(super) seq: u64,
}

impl State {
    pub(super) fn enqueue(&mut self, spec: JobSpec, now: DateTime<Utc>) -> Enqueued {
        if let Some(unique) = spec.unique()
            && let Some((id, until)) = self.unique.get(&unique.key)
            && *until > now
        {
            return Enqueued {
                id: *id,
                deduplicated: true,
            };
        }
        let id = JobId::generate();
        self.queues.insert(spec.queue().clone());
        if let Some(unique) = spec.unique() {
            self.unique
                .insert(unique.key.clone(), (id, now + unique.window));
        }
        let delayed = spec.run_at().is_some_and(|at| at > now);
        let record = JobRecord {
            id,
            spec,
            state: JobState::Scheduled,
            attempt: 0,
            created_at: now,
            updated_at: now,
            last_error: None,
        };
        self.jobs.insert(
            id,
            Entry {
                record,
                lease: None,
                seq: 0,
                expires_at: None,
            },
        );
        if !delayed {
            self.make_pending(id, now);
        }
        Enqueued {
            id,
            deduplicated: false,
        }
    }

    /// The next job of the first queue with one to give that its rate limit lets start.
    fn next_pending(
        &mut self,
        queues: &[String],
        limits: &HashMap<String, RateLimit>,
        now: DateTime<Utc>,
    ) -> Option<JobId> {
        queues.iter().find_map(|queue| {
            let limit = limits.get(queue);
            if let Some(limit) = limit {
                let window = limit.window(now);
                let (seen, count) = self.started.get(queue).copied().unwrap_or((window, 0));
                if seen == window && count >= limit.limit {
                    return None;
                }
            }
            let first = self.pending.get_mut(queue.as_str())?.pop_first()?;
            if let Some(limit) = limit {
                let window = limit.window(now);
                let entry = self.started.entry(queue.clone()).or_insert((window, 0));
                *entry = if entry.0 == window {
                    (window, entry.1 + 1)
                } else {
                    (window, 1)
                };
            }
            Some(first.2)
        })
    }

    pub(super) fn claim(
        &mut self,
        queues: &[String],
        limits: &HashMap<String, RateLimit>,
        worker: &str,
        now: DateTime<Utc>,
        lease: TimeDelta,
    ) -> Option<Lease> {
        let id = self.next_pending(queues, limits, now)?;
        self.seq += 1;
        let token = format!("{worker}:{}", self.seq);
        let entry = self.jobs.get_mut(&id)?;
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
    }

    pub(super) fn complete(
        &mut self,
        lease: &Lease,
        now: DateTime<Utc>,
        keep: TimeDelta,
    ) -> Result<(), QueueError> {
        let entry = self.leased(lease, now)?;
        entry.record.state = JobState::Completed;
        entry.record.updated_at = now;
        entry.lease = None;
        entry.expires_at = Some(now + keep);
        Ok(())
    }

    pub(super) fn make_pending(&mut self, id: JobId, now: DateTime<Utc>) {
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
            .entry(entry.record.spec.queue().clone())
            .or_default()
            .insert((Reverse(entry.record.spec.priority()), seq, id));
    }

    /// The entry if `lease` is still its current delivery.
    pub(super) fn leased(
        &mut self,
        lease: &Lease,
        now: DateTime<Utc>,
    ) -> Result<&mut Entry, QueueError> {
        let entry = self
            .jobs
            .get_mut(&lease.job.id)
            .ok_or(QueueError::LeaseLost)?;
        match &entry.lease {
            Some((token, expires)) if *token == lease.token && *expires > now => Ok(entry),
            _ => Err(QueueError::LeaseLost),
        }
    }

    pub(super) fn dead_letter(
        &mut self,
        id: JobId,
        error: &str,
        now: DateTime<Utc>,
        retention: &Retention,
    ) {
        if let Some(entry) = self.jobs.get_mut(&id) {
            entry.record.state = JobState::DeadLettered;
            entry.record.last_error = Some(error.to_owned());
            entry.record.updated_at = now;
            entry.lease = None;
            entry.expires_at = Some(now + retention.dead_max_age);
            let queue = entry.record.spec.queue().clone();
            self.trim_dead(queue.as_str(), retention);
        }
    }

    fn trim_dead(&mut self, queue: &str, retention: &Retention) {
        let mut dead: Vec<(DateTime<Utc>, JobId)> = self
            .jobs
            .values()
            .filter(|e| e.record.state == JobState::DeadLettered && e.record.spec.queue() == queue)
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

    pub(super) fn forget_expired(&mut self, now: DateTime<Utc>) {
        self.jobs
            .retain(|_, e| e.expires_at.is_none_or(|expiry| expiry > now));
        self.unique.retain(|_, (_, until)| *until > now);
    }
}
