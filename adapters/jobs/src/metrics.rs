//! The job metrics on the process's Prometheus registry, labelled by queue (and by job name
//! for durations: names come from the registry, so the label set is bounded).

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
