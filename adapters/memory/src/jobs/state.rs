//! The in-memory queue's tables and the transitions several operations share.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};

use arcana_domain::ids::JobId;
use arcana_domain::jobs::{JobRecord, JobState, Priority, QueueName};
use arcana_ports::jobs::{Lease, QueueError, Retention};
use chrono::{DateTime, Utc};

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
