//! The worker pool: per queue, a fixed number of slots that each claim a job under a lease,
//! renew the lease by heartbeat while the handler runs, and record the outcome.
//!
//! A handler that panics or overruns its timeout fails the attempt; the slot survives. On
//! shutdown the pool stops claiming at once; running handlers get until the deadline, after
//! which they are cancelled and their jobs released to the queue untouched.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use arcana_domain::jobs::{JobRecord, JobState};
use arcana_ports::clock::Clock;
use arcana_ports::jobs::{JobQueue, Lease, QueueError, WorkerInfo};
use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::Instrument as _;

use crate::job::{JobContext, JobError, Registry};
use crate::metrics::JobMetrics;

/// Stored error messages are cut to this many characters.
const MAX_ERROR_LEN: usize = 500;

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Name of this process in lease tokens (diagnostics only).
    pub worker_id: String,
    /// Queues served and the number of jobs run at once on each.
    pub queues: Vec<(String, usize)>,
    /// How long a claimed job stays invisible to other workers without a heartbeat.
    pub lease: Duration,
    /// How often a running job's lease is renewed; well under `lease`.
    pub heartbeat: Duration,
    /// Pause of an idle slot before it asks again.
    pub poll_interval: Duration,
    /// Time running handlers get after shutdown before their jobs are released.
    pub shutdown_deadline: Duration,
}

struct Shared {
    /// Handlers running now, reported with the pool's presence.
    running: AtomicU32,
    queue: Arc<dyn JobQueue>,
    registry: Registry,
    clock: Arc<dyn Clock>,
    metrics: JobMetrics,
    settings: WorkerSettings,
}

pub struct WorkerPool {
    shared: Arc<Shared>,
}

fn delta(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
}

impl WorkerPool {
    pub fn new(
        queue: Arc<dyn JobQueue>,
        registry: Registry,
        clock: Arc<dyn Clock>,
        metrics: JobMetrics,
        settings: WorkerSettings,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                running: AtomicU32::new(0),
                queue,
                registry,
                clock,
                metrics,
                settings,
            }),
        }
    }

    /// Runs until `stop` turns true, then drains within the shutdown deadline.
    pub async fn run(self, stop: watch::Receiver<bool>) {
        let mut slots = JoinSet::new();
        slots.spawn(presence(self.shared.clone(), stop.clone()));
        for (queue, concurrency) in &self.shared.settings.queues {
            for _ in 0..*concurrency {
                slots.spawn(slot(self.shared.clone(), queue.clone(), stop.clone()));
            }
        }
        while slots.join_next().await.is_some() {}
        tracing::info!("worker pool stopped");
    }
}

async fn slot(shared: Arc<Shared>, queue: String, mut stop: watch::Receiver<bool>) {
    let queues = [queue];
    let settings = &shared.settings;
    while !*stop.borrow() {
        let now = shared.clock.now();
        match shared
            .queue
            .claim(&queues, &settings.worker_id, delta(settings.lease), now)
            .await
        {
            Ok(Some(lease)) => {
                let span = run_span(&lease.job);
                run_one(&shared, lease, stop.clone()).instrument(span).await;
            }
            Ok(None) => idle(settings.poll_interval, &mut stop).await,
            Err(err) => {
                tracing::warn!(error = %crate::describe(err), "claiming a job failed");
                idle(settings.poll_interval * 10, &mut stop).await;
            }
        }
    }
}

async fn idle(pause: Duration, stop: &mut watch::Receiver<bool>) {
    tokio::select! {
        () = tokio::time::sleep(pause) => {}
        () = crate::stopped(stop) => {}
    }
}

/// Reports this pool as a live worker every heartbeat, so operators can list workers; a
/// report lapses after one lease without a newer one.
async fn presence(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let settings = &shared.settings;
    let mut info = WorkerInfo {
        id: settings.worker_id.clone(),
        queues: settings.queues.iter().map(|(q, _)| q.clone()).collect(),
        started_at: shared.clock.now(),
        last_seen: shared.clock.now(),
        running: 0,
    };
    while !*stop.borrow() {
        info.last_seen = shared.clock.now();
        info.running = shared.running.load(Ordering::Relaxed);
        if let Err(err) = shared.queue.beat_worker(&info, delta(settings.lease)).await {
            tracing::warn!(error = %crate::describe(err), "reporting worker presence failed");
        }
        idle(settings.heartbeat, &mut stop).await;
    }
}

/// How an attempt ended.
enum Outcome {
    Done,
    Failed(JobError),
    /// Shut down past the deadline, or the lease was lost: someone else may run it now.
    Abandoned,
}

/// One attempt's span: a child of the span that enqueued the job when it carries a trace
/// context, a new trace otherwise (cron, CLI).
fn run_span(job: &JobRecord) -> tracing::Span {
    let span = tracing::info_span!(
        "job_run",
        job = job.spec.name().as_str(),
        queue = job.spec.queue().as_str(),
        job_id = %job.id,
        attempt = job.attempt,
        trace_id = tracing::field::Empty,
    );
    arcana_adapter_otel::continue_trace(&span, job.spec.trace_context(), None);
    span
}

async fn run_one(shared: &Shared, lease: Lease, mut stop: watch::Receiver<bool>) {
    let job = &lease.job;
    let (cancel, cancelled) = watch::channel(false);
    let ctx = JobContext {
        id: job.id,
        idempotency_key: job.id.to_string(),
        attempt: job.attempt,
        max_attempts: job.spec.retry().max_attempts,
        correlation_id: job.spec.correlation_id().map(str::to_owned),
        cancelled,
    };
    let started = std::time::Instant::now();
    shared.metrics.workers_active.inc();
    shared.running.fetch_add(1, Ordering::Relaxed);
    let outcome = match shared.registry.get(job.spec.name().as_str()) {
        None => Outcome::Failed(JobError::Fatal(format!(
            "no handler for job {}",
            job.spec.name()
        ))),
        Some(handler) => {
            // In the attempt's span, so that what the handler calls joins the job's trace.
            let mut task = tokio::spawn(handler.run(job.spec.payload(), ctx).in_current_span());
            let timeout = job.spec.timeout().to_std().unwrap_or(Duration::MAX);
            let deadline = async {
                crate::stopped(&mut stop).await;
                tokio::time::sleep(shared.settings.shutdown_deadline).await;
            };
            let outcome = tokio::select! {
                joined = tokio::time::timeout(timeout, &mut task) => match joined {
                    Ok(Ok(Ok(()))) => Outcome::Done,
                    Ok(Ok(Err(err))) => Outcome::Failed(err),
                    Ok(Err(join)) if join.is_panic() => Outcome::Failed(JobError::Retry("the handler panicked".into())),
                    Ok(Err(_)) => Outcome::Abandoned,
                    Err(_) => Outcome::Failed(JobError::Retry("timed out".into())),
                },
                () = heartbeat(shared, &lease) => Outcome::Abandoned,
                () = deadline => Outcome::Abandoned,
            };
            let _ = cancel.send(true);
            task.abort();
            outcome
        }
    };
    shared.metrics.workers_active.dec();
    shared.running.fetch_sub(1, Ordering::Relaxed);
    record(shared, &lease, outcome, started.elapsed()).await;
}

/// Renews the lease until it is lost (then returns, abandoning the attempt).
async fn heartbeat(shared: &Shared, lease: &Lease) {
    let settings = &shared.settings;
    loop {
        tokio::time::sleep(settings.heartbeat).await;
        match shared
            .queue
            .heartbeat(lease, delta(settings.lease), shared.clock.now())
            .await
        {
            Ok(_) => {}
            Err(QueueError::LeaseLost) => {
                tracing::warn!(job = %lease.job.id, "lease lost; abandoning the attempt");
                return;
            }
            // A blip: the lease has slack for a few missed beats; if it lapses, the next beat
            // says so.
            Err(err) => {
                tracing::warn!(error = %crate::describe(err), "heartbeat failed");
            }
        }
    }
}

async fn record(shared: &Shared, lease: &Lease, outcome: Outcome, took: Duration) {
    let job = &lease.job;
    let queue = job.spec.queue().as_str();
    let now = shared.clock.now();
    let label = |outcome: &str| [queue, job.spec.name().as_str(), outcome].map(str::to_owned);
    let result = match outcome {
        Outcome::Done => {
            shared
                .metrics
                .duration
                .with_label_values(&label("completed"))
                .observe(took.as_secs_f64());
            shared.metrics.completed.with_label_values(&[queue]).inc();
            shared.queue.complete(lease, now).await
        }
        Outcome::Failed(err) => {
            shared
                .metrics
                .duration
                .with_label_values(&label("failed"))
                .observe(took.as_secs_f64());
            shared.metrics.failed.with_label_values(&[queue]).inc();
            record_failure(shared, lease, &err, now).await
        }
        Outcome::Abandoned => shared.queue.release(lease, now).await,
    };
    match result {
        Ok(()) => {}
        // Another worker has the job now; its outcome is the one that counts.
        Err(QueueError::LeaseLost) => {
            tracing::warn!(job = %job.id, "lease lost before the outcome was recorded");
        }
        Err(err) => {
            tracing::warn!(job = %job.id, error = %crate::describe(err), "recording a job outcome failed; the lease will lapse and the job run again");
        }
    }
}

/// A failed attempt: retried later (with backoff) while attempts remain and the error is not
/// fatal, dead-lettered otherwise.
async fn record_failure(
    shared: &Shared,
    lease: &Lease,
    err: &JobError,
    now: DateTime<Utc>,
) -> Result<(), QueueError> {
    let job = &lease.job;
    let retry_at = match err {
        JobError::Fatal(_) => None,
        JobError::Retry(_) => job
            .spec
            .retry()
            .delay_after(job.attempt, unit_sample())
            .map(|d| now + d),
    };
    let message: String = err.to_string().chars().take(MAX_ERROR_LEN).collect();
    tracing::info!(job = %job.id, name = %job.spec.name(), attempt = job.attempt, error = %message, "job attempt failed");
    match shared.queue.fail(lease, &message, retry_at, now).await {
        Ok(JobState::DeadLettered) => {
            shared
                .metrics
                .dead_lettered
                .with_label_values(&[job.spec.queue().as_str()])
                .inc();
            Ok(())
        }
        other => other.map(drop),
    }
}

/// A uniform sample in `[0, 1)` for retry jitter.
fn unit_sample() -> f64 {
    let bits = getrandom::u64().unwrap_or(0) >> 11;
    #[expect(
        clippy::cast_precision_loss,
        reason = "53 random bits fit a double exactly"
    )]
    let sample = bits as f64 / (1_u64 << 53) as f64;
    sample
}
