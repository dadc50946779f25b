//! The queue decorator that counts enqueues and publishes job events.

use std::sync::Arc;

use arcana_domain::ids::JobId;
use arcana_domain::jobs::{JobName, JobRecord, JobSpec, JobState, QueueName};
use arcana_ports::jobs::{
    Enqueued, JobEvent, JobEventFeed, JobEventKind, JobFilter, JobQueue, Lease, QueueError,
    QueueStats, Turnover, WorkerInfo,
};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use crate::metrics::JobMetrics;

/// Decorates the queue so that every path (builder, cron, CLI, admin API, workers) is counted
/// in `arcana_jobs_enqueued_total` and published on the job event feed.
pub struct MeteredJobQueue {
    inner: Arc<dyn JobQueue>,
    metrics: JobMetrics,
    events: Option<Arc<dyn JobEventFeed>>,
}

impl MeteredJobQueue {
    pub fn new(inner: Arc<dyn JobQueue>, metrics: JobMetrics) -> Self {
        Self {
            inner,
            metrics,
            events: None,
        }
    }

    #[must_use]
    pub fn with_events(mut self, events: Arc<dyn JobEventFeed>) -> Self {
        self.events = Some(events);
        self
    }

    fn publish(&self, job: &JobRecord, kind: JobEventKind, at: DateTime<Utc>) {
        if let Some(events) = &self.events {
            events.publish(JobEvent {
                id: job.id,
                name: job.spec.name().to_string(),
                queue: job.spec.queue().to_string(),
                kind,
                attempt: job.attempt,
                at,
            });
        }
    }

    /// Counts a job that was stored (not one a unique key folded into an earlier job).
    fn count_enqueued(
        &self,
        name: &JobName,
        queue: &QueueName,
        enqueued: Enqueued,
        at: DateTime<Utc>,
    ) {
        if enqueued.deduplicated {
            return;
        }
        self.metrics
            .enqueued
            .with_label_values(&[queue.as_str()])
            .inc();
        if let Some(events) = &self.events {
            events.publish(JobEvent {
                id: enqueued.id,
                name: name.to_string(),
                queue: queue.to_string(),
                kind: JobEventKind::Enqueued,
                attempt: 0,
                at,
            });
        }
    }

    /// For operations that know only the id: reads the job back to describe it.
    async fn publish_by_id(&self, id: JobId, kind: JobEventKind, at: DateTime<Utc>) {
        if self.events.is_some()
            && let Ok(Some(job)) = self.inner.get(id).await
        {
            self.publish(&job, kind, at);
        }
    }
}

/// A job enqueued while a request (or another job) is traced carries that trace, so its runs
/// join it.
fn traced(spec: JobSpec) -> JobSpec {
    if spec.trace_context().is_some() {
        return spec;
    }
    spec.with_trace_context(arcana_adapter_otel::outgoing((None, None)).0)
}

#[async_trait]
impl JobQueue for MeteredJobQueue {
    async fn enqueue(&self, spec: JobSpec, now: DateTime<Utc>) -> Result<Enqueued, QueueError> {
        let spec = traced(spec);
        let (name, queue) = (spec.name().clone(), spec.queue().clone());
        let enqueued = self.inner.enqueue(spec, now).await?;
        self.count_enqueued(&name, &queue, enqueued, now);
        Ok(enqueued)
    }

    async fn enqueue_many(
        &self,
        specs: Vec<JobSpec>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Enqueued>, QueueError> {
        let specs: Vec<JobSpec> = specs.into_iter().map(traced).collect();
        let described: Vec<(JobName, QueueName)> = specs
            .iter()
            .map(|s| (s.name().clone(), s.queue().clone()))
            .collect();
        let enqueued = self.inner.enqueue_many(specs, now).await?;
        for ((name, queue), outcome) in described.iter().zip(&enqueued) {
            self.count_enqueued(name, queue, *outcome, now);
        }
        Ok(enqueued)
    }

    async fn claim(
        &self,
        queues: &[String],
        worker: &str,
        lease: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<Option<Lease>, QueueError> {
        let lease = self.inner.claim(queues, worker, lease, now).await?;
        if let Some(lease) = &lease {
            self.publish(&lease.job, JobEventKind::Started, now);
        }
        Ok(lease)
    }

    async fn claim_many(
        &self,
        queues: &[String],
        worker: &str,
        lease: TimeDelta,
        max: usize,
        now: DateTime<Utc>,
    ) -> Result<Vec<Lease>, QueueError> {
        let claimed = self
            .inner
            .claim_many(queues, worker, lease, max, now)
            .await?;
        for held in &claimed {
            self.publish(&held.job, JobEventKind::Started, now);
        }
        Ok(claimed)
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
        let turnover = self
            .inner
            .complete_and_claim(done, queues, worker, lease, max, now)
            .await?;
        if self.events.is_some() {
            for held in done.iter().filter(|d| !turnover.lost.contains(&d.job.id)) {
                self.publish(&held.job, JobEventKind::Completed, now);
            }
            for held in &turnover.claimed {
                self.publish(&held.job, JobEventKind::Started, now);
            }
        }
        Ok(turnover)
    }

    async fn heartbeat(
        &self,
        lease: &Lease,
        extend: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, QueueError> {
        self.inner.heartbeat(lease, extend, now).await
    }

    async fn complete(&self, lease: &Lease, now: DateTime<Utc>) -> Result<(), QueueError> {
        self.inner.complete(lease, now).await?;
        self.publish(&lease.job, JobEventKind::Completed, now);
        Ok(())
    }

    async fn fail(
        &self,
        lease: &Lease,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<JobState, QueueError> {
        let state = self.inner.fail(lease, error, retry_at, now).await?;
        let kind = if state == JobState::DeadLettered {
            JobEventKind::DeadLettered
        } else {
            JobEventKind::Failed
        };
        self.publish(&lease.job, kind, now);
        Ok(state)
    }

    async fn release(&self, lease: &Lease, now: DateTime<Utc>) -> Result<(), QueueError> {
        self.inner.release(lease, now).await
    }

    async fn cancel(&self, id: JobId, now: DateTime<Utc>) -> Result<bool, QueueError> {
        let cancelled = self.inner.cancel(id, now).await?;
        if cancelled {
            self.publish_by_id(id, JobEventKind::Cancelled, now).await;
        }
        Ok(cancelled)
    }

    async fn replay_dead(&self, id: JobId, now: DateTime<Utc>) -> Result<bool, QueueError> {
        let replayed = self.inner.replay_dead(id, now).await?;
        if replayed {
            self.publish_by_id(id, JobEventKind::Replayed, now).await;
        }
        Ok(replayed)
    }

    async fn purge_dead(&self, queue: &str) -> Result<u64, QueueError> {
        self.inner.purge_dead(queue).await
    }

    async fn promote_due(&self, now: DateTime<Utc>) -> Result<u64, QueueError> {
        self.inner.promote_due(now).await
    }

    async fn reap_expired(&self, now: DateTime<Utc>) -> Result<u64, QueueError> {
        self.inner.reap_expired(now).await
    }

    async fn get(&self, id: JobId) -> Result<Option<JobRecord>, QueueError> {
        self.inner.get(id).await
    }

    async fn search(&self, filter: &JobFilter) -> Result<Vec<JobRecord>, QueueError> {
        self.inner.search(filter).await
    }

    async fn stats(&self) -> Result<Vec<QueueStats>, QueueError> {
        self.inner.stats().await
    }

    async fn beat_worker(&self, worker: &WorkerInfo, ttl: TimeDelta) -> Result<(), QueueError> {
        self.inner.beat_worker(worker, ttl).await
    }

    async fn workers(&self, now: DateTime<Utc>) -> Result<Vec<WorkerInfo>, QueueError> {
        self.inner.workers(now).await
    }
}
