//! Jobs: records, specs, queue statistics, schedules, workers and events of the job admin API.
//! Names, queues, priorities and states are read back through their domain parsers, so a
//! message a tier could not have produced never becomes a value.

use anyhow::anyhow;
use arcana_domain::ids::JobId;
use arcana_domain::jobs::{
    Backoff, JobName, JobRecord, JobSpec, JobState, Priority, QueueName, RetryPolicy, UniqueKey,
};
use arcana_ports::jobs::{Enqueued, JobEvent, JobEventKind, QueueStats, Schedule, WorkerInfo};
use arcana_ports::usecases::jobs::Dashboard;
use chrono::TimeDelta;

use super::{Invalid, micros, optional_time, parsed, time};
use crate::wire;

fn millis(delta: TimeDelta) -> u64 {
    u64::try_from(delta.num_milliseconds()).unwrap_or(0)
}

fn delta(field: &str, ms: u64) -> Result<TimeDelta, Invalid> {
    i64::try_from(ms)
        .ok()
        .and_then(TimeDelta::try_milliseconds)
        .ok_or_else(|| anyhow!("{field} is out of range"))
}

fn count(value: usize) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}

fn backoff_name(backoff: Backoff) -> &'static str {
    match backoff {
        Backoff::Fixed => "fixed",
        Backoff::Linear => "linear",
        Backoff::Exponential => "exponential",
    }
}

fn backoff(raw: &str) -> Result<Backoff, Invalid> {
    match raw {
        "fixed" => Ok(Backoff::Fixed),
        "linear" => Ok(Backoff::Linear),
        "exponential" => Ok(Backoff::Exponential),
        other => Err(anyhow!("field backoff: unknown backoff {other:?}")),
    }
}

pub(crate) fn job_id(field: &str, raw: &str) -> Result<JobId, Invalid> {
    parsed(field, JobId::parse(raw))
}

pub(crate) fn job_name(field: &str, raw: &str) -> Result<String, Invalid> {
    parsed(field, JobName::parse(raw)).map(JobName::into_string)
}

pub(crate) fn queue_name(field: &str, raw: &str) -> Result<String, Invalid> {
    parsed(field, QueueName::parse(raw)).map(QueueName::into_string)
}

pub(crate) fn job_spec_message(spec: &JobSpec) -> wire::JobSpec {
    let retry = spec.retry();
    wire::JobSpec {
        name: spec.name().to_string(),
        queue: spec.queue().to_string(),
        payload: spec.payload().to_vec(),
        priority: spec.priority().as_str().to_owned(),
        run_at_us: spec.run_at().map(micros),
        retry: Some(wire::RetryPolicy {
            max_attempts: retry.max_attempts,
            backoff: backoff_name(retry.backoff).to_owned(),
            base_delay_ms: millis(retry.base_delay),
            max_delay_ms: millis(retry.max_delay),
            jitter: retry.jitter,
        }),
        timeout_ms: millis(spec.timeout()),
        unique: spec.unique().map(|unique| wire::UniqueKey {
            key: unique.key.clone(),
            window_ms: millis(unique.window),
        }),
        tags: spec.tags().to_vec(),
        correlation_id: spec.correlation_id().map(str::to_owned),
    }
}

pub(crate) fn job_spec(message: Option<wire::JobSpec>) -> Result<JobSpec, Invalid> {
    let message = message.ok_or_else(|| anyhow!("a job without its spec"))?;
    let retry = message
        .retry
        .ok_or_else(|| anyhow!("a job without its retry policy"))?;
    let unique = message
        .unique
        .map(|unique| -> Result<UniqueKey, Invalid> {
            Ok(UniqueKey {
                key: unique.key,
                window: delta("window_ms", unique.window_ms)?,
            })
        })
        .transpose()?;
    let name = parsed("name", JobName::parse(&message.name))?;
    // The trace context is not on the wire: the service tier enqueues, and sets it there.
    Ok(JobSpec::new(name, message.payload)
        .with_queue(parsed("queue", QueueName::parse(&message.queue))?)
        .with_priority(parsed("priority", Priority::parse(&message.priority))?)
        .with_run_at(optional_time("run_at_us", message.run_at_us)?)
        .with_retry(RetryPolicy {
            max_attempts: retry.max_attempts,
            backoff: backoff(&retry.backoff)?,
            base_delay: delta("base_delay_ms", retry.base_delay_ms)?,
            max_delay: delta("max_delay_ms", retry.max_delay_ms)?,
            jitter: retry.jitter,
        })
        .with_timeout(delta("timeout_ms", message.timeout_ms)?)
        .with_unique(unique)
        .with_tags(message.tags)
        .with_correlation_id(message.correlation_id))
}

pub(crate) fn job_record_message(job: &JobRecord) -> wire::JobRecord {
    wire::JobRecord {
        id: job.id.to_string(),
        spec: Some(job_spec_message(&job.spec)),
        state: job.state.as_str().to_owned(),
        attempt: job.attempt,
        created_at_us: micros(job.created_at),
        updated_at_us: micros(job.updated_at),
        last_error: job.last_error.clone(),
    }
}

pub(crate) fn job_record(message: wire::JobRecord) -> Result<JobRecord, Invalid> {
    Ok(JobRecord {
        id: job_id("id", &message.id)?,
        spec: job_spec(message.spec)?,
        state: parsed("state", JobState::parse(&message.state))?,
        attempt: message.attempt,
        created_at: time("created_at_us", message.created_at_us)?,
        updated_at: time("updated_at_us", message.updated_at_us)?,
        last_error: message.last_error,
    })
}

pub(crate) fn queue_stats_message(stats: &QueueStats) -> wire::QueueStats {
    wire::QueueStats {
        queue: stats.queue.clone(),
        scheduled: stats.scheduled,
        pending: stats.pending,
        active: stats.active,
        completed: stats.completed,
        dead_lettered: stats.dead_lettered,
    }
}

/// The statistics of a queue, or of all of them (the dashboard's totals are named `*`).
pub(crate) fn queue_stats(message: wire::QueueStats) -> QueueStats {
    QueueStats {
        queue: message.queue,
        scheduled: message.scheduled,
        pending: message.pending,
        active: message.active,
        completed: message.completed,
        dead_lettered: message.dead_lettered,
    }
}

pub(crate) fn dashboard_message(dashboard: &Dashboard) -> wire::JobsDashboard {
    wire::JobsDashboard {
        queues: dashboard.queues.iter().map(queue_stats_message).collect(),
        totals: Some(queue_stats_message(&dashboard.totals)),
        schedules: count(dashboard.schedules),
        paused_schedules: count(dashboard.paused_schedules),
    }
}

pub(crate) fn dashboard(message: wire::JobsDashboard) -> Result<Dashboard, Invalid> {
    let size = |field: &str, value: u64| {
        usize::try_from(value).map_err(|_| anyhow!("{field} is out of range"))
    };
    Ok(Dashboard {
        queues: message.queues.into_iter().map(queue_stats).collect(),
        totals: queue_stats(message.totals.unwrap_or_default()),
        schedules: size("schedules", message.schedules)?,
        paused_schedules: size("paused_schedules", message.paused_schedules)?,
    })
}

pub(crate) fn enqueued_message(enqueued: Enqueued) -> wire::Enqueued {
    wire::Enqueued {
        id: enqueued.id.to_string(),
        deduplicated: enqueued.deduplicated,
    }
}

pub(crate) fn enqueued(message: &wire::Enqueued) -> Result<Enqueued, Invalid> {
    Ok(Enqueued {
        id: job_id("id", &message.id)?,
        deduplicated: message.deduplicated,
    })
}

pub(crate) fn schedule_message(schedule: &Schedule) -> wire::Schedule {
    wire::Schedule {
        name: schedule.name.clone(),
        cron: schedule.cron.clone(),
        timezone: schedule.timezone.clone(),
        job: Some(job_spec_message(&schedule.job)),
        paused: schedule.paused,
        last_fired_at_us: schedule.last_fired_at.map(micros),
    }
}

pub(crate) fn schedule(message: wire::Schedule) -> Result<Schedule, Invalid> {
    Ok(Schedule {
        name: message.name,
        cron: message.cron,
        timezone: message.timezone,
        job: job_spec(message.job)?,
        paused: message.paused,
        last_fired_at: optional_time("last_fired_at_us", message.last_fired_at_us)?,
    })
}

pub(crate) fn worker_message(worker: &WorkerInfo) -> wire::WorkerInfo {
    wire::WorkerInfo {
        id: worker.id.clone(),
        queues: worker.queues.clone(),
        started_at_us: micros(worker.started_at),
        last_seen_us: micros(worker.last_seen),
        running: worker.running,
    }
}

pub(crate) fn worker(message: wire::WorkerInfo) -> Result<WorkerInfo, Invalid> {
    Ok(WorkerInfo {
        id: message.id,
        queues: message.queues,
        started_at: time("started_at_us", message.started_at_us)?,
        last_seen: time("last_seen_us", message.last_seen_us)?,
        running: message.running,
    })
}

fn event_kind_message(kind: JobEventKind) -> wire::JobEventKind {
    match kind {
        JobEventKind::Enqueued => wire::JobEventKind::Enqueued,
        JobEventKind::Started => wire::JobEventKind::Started,
        JobEventKind::Completed => wire::JobEventKind::Completed,
        JobEventKind::Failed => wire::JobEventKind::Failed,
        JobEventKind::DeadLettered => wire::JobEventKind::DeadLettered,
        JobEventKind::Cancelled => wire::JobEventKind::Cancelled,
        JobEventKind::Replayed => wire::JobEventKind::Replayed,
    }
}

fn event_kind(kind: wire::JobEventKind) -> Result<JobEventKind, Invalid> {
    Ok(match kind {
        wire::JobEventKind::Enqueued => JobEventKind::Enqueued,
        wire::JobEventKind::Started => JobEventKind::Started,
        wire::JobEventKind::Completed => JobEventKind::Completed,
        wire::JobEventKind::Failed => JobEventKind::Failed,
        wire::JobEventKind::DeadLettered => JobEventKind::DeadLettered,
        wire::JobEventKind::Cancelled => JobEventKind::Cancelled,
        wire::JobEventKind::Replayed => JobEventKind::Replayed,
        wire::JobEventKind::Unspecified => return Err(anyhow!("field kind: unspecified")),
    })
}

pub(crate) fn job_event_message(event: &JobEvent) -> wire::JobEvent {
    wire::JobEvent {
        id: event.id.to_string(),
        name: event.name.clone(),
        queue: event.queue.clone(),
        kind: event_kind_message(event.kind).into(),
        attempt: event.attempt,
        at_us: micros(event.at),
    }
}

pub(crate) fn job_event(message: &wire::JobEvent) -> Result<JobEvent, Invalid> {
    let kind = wire::JobEventKind::try_from(message.kind)
        .map_err(|_| anyhow!("field kind: unknown event kind {}", message.kind))?;
    Ok(JobEvent {
        id: job_id("id", &message.id)?,
        name: job_name("name", &message.name)?,
        queue: queue_name("queue", &message.queue)?,
        kind: event_kind(kind)?,
        attempt: message.attempt,
        at: time("at_us", message.at_us)?,
    })
}

#[cfg(test)]
#[path = "jobs_tests.rs"]
mod tests;
