//! The queue decorator that counts enqueues and publishes job events.

use std::sync::Arc;

use arcana_domain::ids::JobId;
use arcana_domain::jobs::{JobRecord, JobSpec, JobState};
use arcana_ports::jobs::{
    Enqueued, JobEvent, JobEventFeed, JobEventKind, JobFilter, JobQueue, Lease, QueueError,
    QueueStats, WorkerInfo,
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

    /// For operations that know only the id: reads the job back to describe it.
    async fn publish_by_id(&self, id: JobId, kind: JobEventKind, at: DateTime<Utc>) {
        if self.events.is_some()
            && let Ok(Some(job)) = self.inner.get(id).await
        {
            self.publish(&job, kind, at);
        }
    }
}

#[async_trait]
impl JobQueue for MeteredJobQueue {
    async fn enqueue(&self, mut spec: JobSpec, now: DateTime<Utc>) -> Result<Enqueued, QueueError> {
        if spec.trace_context().is_none() {
            // Enqueued while a request (or another job) is traced: its runs join that trace.
            spec = spec.with_trace_context(arcana_adapter_otel::outgoing((None, None)).0);
        }
        let (name, queue) = (spec.name().to_string(), spec.queue().to_string());
        let enqueued = self.inner.enqueue(spec, now).await?;
        if !enqueued.deduplicated {
            self.metrics.enqueued.with_label_values(&[&queue]).inc();
            if let Some(events) = &self.events {
                let kind = JobEventKind::Enqueued;
                let (id, attempt, at) = (enqueued.id, 0, now);
                events.publish(JobEvent {
                    id,
                    name,
                    queue,
                    kind,
                    attempt,
                    at,
                });
            }
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
