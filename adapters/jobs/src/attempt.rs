//! One attempt of a job: its handler run under the job's timeout, its lease renewed by
//! heartbeat meanwhile, and its outcome recorded. A handler that panics or overruns fails the
//! attempt; shutdown past the deadline or a lost lease abandons it (the job is released).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use arcana_domain::jobs::{JobRecord, JobState};
use arcana_ports::jobs::{Lease, QueueError};
use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tracing::Instrument as _;

use crate::job::{JobContext, JobError};
use crate::worker::{Shared, delta};

/// Stored error messages are cut to this many characters.
const MAX_ERROR_LEN: usize = 500;

/// How an attempt ended.
enum Outcome {
    Done,
    Failed(JobError),
    /// Shut down past the deadline, or the lease was lost: someone else may run it now.
    Abandoned,
}

/// One attempt's span: a child of the span that enqueued the job when it carries a trace
/// context, a new trace otherwise (cron, CLI).
pub(crate) fn run_span(job: &JobRecord) -> tracing::Span {
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

/// Runs one attempt and records its outcome, except a success: that lease is returned, to be
/// acknowledged with the next claim.
pub(crate) async fn run_one(
    shared: Arc<Shared>,
    lease: Lease,
    mut stop: watch::Receiver<bool>,
) -> Option<Lease> {
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
                () = heartbeat(&shared, &lease) => Outcome::Abandoned,
                () = deadline => Outcome::Abandoned,
            };
            let _ = cancel.send(true);
            task.abort();
            outcome
        }
    };
    shared.metrics.workers_active.dec();
    shared.running.fetch_sub(1, Ordering::Relaxed);
    record(&shared, lease, outcome, started.elapsed()).await
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

async fn record(shared: &Shared, lease: Lease, outcome: Outcome, took: Duration) -> Option<Lease> {
    let job = &lease.job;
    let queue = job.spec.queue().as_str();
    let now = shared.clock.now();
    let name = job.spec.name().as_str();
    let result = match outcome {
        Outcome::Done => {
            shared
                .metrics
                .duration
                .with_label_values(&[queue, name, "completed"])
                .observe(took.as_secs_f64());
            shared.metrics.completed.with_label_values(&[queue]).inc();
            return Some(lease);
        }
        Outcome::Failed(err) => {
            shared
                .metrics
                .duration
                .with_label_values(&[queue, name, "failed"])
                .observe(took.as_secs_f64());
            shared.metrics.failed.with_label_values(&[queue]).inc();
            record_failure(shared, &lease, &err, now).await
        }
        Outcome::Abandoned => shared.queue.release(&lease, now).await,
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
    None
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
