//! The job metrics on the process's Prometheus registry, labelled by queue (and by job name
//! for durations: names come from the registry, so the label set is bounded).

use std::sync::Arc;

use arcana_domain::ids::JobId;
use arcana_domain::jobs::{JobRecord, JobSpec, JobState};
use arcana_ports::jobs::{Enqueued, JobFilter, JobQueue, Lease, QueueError, QueueStats};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use prometheus::{
    HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

#[derive(Clone)]
pub struct JobMetrics {
    pub(crate) enqueued: IntCounterVec,
    pub(crate) completed: IntCounterVec,
    pub(crate) failed: IntCounterVec,
    pub(crate) dead_lettered: IntCounterVec,
    pub(crate) pending: IntGaugeVec,
    pub(crate) active: IntGaugeVec,
    pub(crate) duration: HistogramVec,
    pub(crate) workers_active: IntGauge,
    pub(crate) is_leader: IntGauge,
}

fn counter(name: &str, help: &str) -> prometheus::Result<IntCounterVec> {
    IntCounterVec::new(Opts::new(name, help), &["queue"])
}

impl JobMetrics {
    /// Creates and registers every job metric.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let metrics = Self {
            enqueued: counter(
                "arcana_jobs_enqueued_total",
                "Jobs enqueued (duplicates excluded)",
            )?,
            completed: counter("arcana_jobs_completed_total", "Jobs completed")?,
            failed: counter("arcana_jobs_failed_total", "Failed attempts")?,
            dead_lettered: counter("arcana_jobs_dead_lettered_total", "Jobs dead-lettered")?,
            pending: IntGaugeVec::new(
                Opts::new("arcana_jobs_pending", "Jobs waiting for a worker"),
                &["queue"],
            )?,
            active: IntGaugeVec::new(
                Opts::new("arcana_jobs_active", "Jobs held under a lease"),
                &["queue"],
            )?,
            duration: HistogramVec::new(
                HistogramOpts::new(
                    "arcana_job_duration_seconds",
                    "Time handlers ran, by outcome",
                )
                .buckets(vec![0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10.0, 60.0]),
                &["queue", "job", "outcome"],
            )?,
            workers_active: IntGauge::new(
                "arcana_workers_active",
                "Handlers running in this process",
            )?,
            is_leader: IntGauge::new(
                "arcana_scheduler_is_leader",
                "1 while this process fires cron schedules",
            )?,
        };
        registry.register(Box::new(metrics.enqueued.clone()))?;
        registry.register(Box::new(metrics.completed.clone()))?;
        registry.register(Box::new(metrics.failed.clone()))?;
        registry.register(Box::new(metrics.dead_lettered.clone()))?;
        registry.register(Box::new(metrics.pending.clone()))?;
        registry.register(Box::new(metrics.active.clone()))?;
        registry.register(Box::new(metrics.duration.clone()))?;
        registry.register(Box::new(metrics.workers_active.clone()))?;
        registry.register(Box::new(metrics.is_leader.clone()))?;
        Ok(metrics)
    }

    /// Metrics on a registry of their own: processes and tests that export none.
    pub fn unregistered() -> Self {
        Self::register(&Registry::new())
            .unwrap_or_else(|_| unreachable!("a fresh registry has no duplicate"))
    }
}

/// Counts enqueues on any path (builder, cron, CLI, admin API) by decorating the queue itself.
pub struct MeteredJobQueue {
    inner: Arc<dyn JobQueue>,
    metrics: JobMetrics,
}

impl MeteredJobQueue {
    pub fn new(inner: Arc<dyn JobQueue>, metrics: JobMetrics) -> Self {
        Self { inner, metrics }
    }
}

#[async_trait]
impl JobQueue for MeteredJobQueue {
    async fn enqueue(&self, spec: JobSpec, now: DateTime<Utc>) -> Result<Enqueued, QueueError> {
        let queue = spec.queue.clone();
        let enqueued = self.inner.enqueue(spec, now).await?;
        if !enqueued.deduplicated {
            self.metrics.enqueued.with_label_values(&[&queue]).inc();
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
        self.inner.claim(queues, worker, lease, now).await
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
        self.inner.complete(lease, now).await
    }

    async fn fail(
        &self,
        lease: &Lease,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<JobState, QueueError> {
        self.inner.fail(lease, error, retry_at, now).await
    }

    async fn release(&self, lease: &Lease, now: DateTime<Utc>) -> Result<(), QueueError> {
        self.inner.release(lease, now).await
    }

    async fn cancel(&self, id: JobId, now: DateTime<Utc>) -> Result<bool, QueueError> {
        self.inner.cancel(id, now).await
    }

    async fn replay_dead(&self, id: JobId, now: DateTime<Utc>) -> Result<bool, QueueError> {
        self.inner.replay_dead(id, now).await
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
}
