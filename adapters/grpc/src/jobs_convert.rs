//! Translation between the jobs use cases and `arcana.jobs.v1` messages: records, statistics,
//! schedules, events (as a stream) and the enqueue command.

use std::pin::Pin;

use arcana_domain::jobs::{JobRecord, Priority};
use arcana_domain::{FieldError, ValueError};
use arcana_ports::jobs::{
    Enqueued, JobEvent, JobEventKind, JobEventSubscription, QueueStats, Schedule,
};
use arcana_ports::usecases::jobs::EnqueueJob;
use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::Stream;
use tonic::Status;

use crate::errors;
use crate::proto::jobs::v1 as pb;

pub(crate) fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

pub(crate) fn stats(s: QueueStats) -> pb::QueueStats {
    pb::QueueStats {
        queue: s.queue,
        scheduled: s.scheduled,
        pending: s.pending,
        active: s.active,
        completed: s.completed,
        dead_lettered: s.dead_lettered,
    }
}

pub(crate) fn job(job: JobRecord) -> pb::Job {
    pb::Job {
        id: job.id.to_string(),
        state: job.state.as_str().to_owned(),
        priority: job.spec.priority().as_str().to_owned(),
        payload: String::from_utf8_lossy(job.spec.payload()).into_owned(),
        attempt: job.attempt,
        max_attempts: job.spec.retry().max_attempts,
        run_at: job.spec.run_at().map(time),
        created_at: time(job.created_at),
        updated_at: time(job.updated_at),
        last_error: job.last_error,
        unique_key: job.spec.unique().map(|u| u.key.clone()),
        name: job.spec.name().to_string(),
        queue: job.spec.queue().to_string(),
        tags: job.spec.tags().to_vec(),
        correlation_id: job.spec.correlation_id().map(str::to_owned),
    }
}

pub(crate) fn jobs(list: Vec<JobRecord>) -> pb::SearchJobsResponse {
    pb::SearchJobsResponse {
        items: list.into_iter().map(job).collect(),
    }
}

pub(crate) fn schedule(s: Schedule) -> pb::Schedule {
    pb::Schedule {
        name: s.name,
        cron: s.cron,
        timezone: s.timezone,
        job: s.job.name().to_string(),
        queue: s.job.queue().to_string(),
        paused: s.paused,
        last_fired_at: s.last_fired_at.map(time),
    }
}

pub(crate) fn enqueued(e: Enqueued) -> pb::EnqueueJobResponse {
    pb::EnqueueJobResponse {
        id: e.id.to_string(),
        deduplicated: e.deduplicated,
    }
}

pub(crate) fn event_kind(kind: JobEventKind) -> &'static str {
    match kind {
        JobEventKind::Enqueued => "enqueued",
        JobEventKind::Started => "started",
        JobEventKind::Completed => "completed",
        JobEventKind::Failed => "failed",
        JobEventKind::DeadLettered => "dead_lettered",
        JobEventKind::Cancelled => "cancelled",
        JobEventKind::Replayed => "replayed",
    }
}

pub(crate) fn event(e: JobEvent) -> pb::JobEvent {
    pb::JobEvent {
        id: e.id.to_string(),
        name: e.name,
        queue: e.queue,
        kind: event_kind(e.kind).to_owned(),
        attempt: e.attempt,
        at: time(e.at),
    }
}

pub(crate) type EventStream = Pin<Box<dyn Stream<Item = Result<pb::JobEvent, Status>> + Send>>;

/// The subscription as a stream, keeping only `queue`'s events when one is given.
pub(crate) fn event_stream(
    subscription: Box<dyn JobEventSubscription>,
    queue: Option<String>,
) -> EventStream {
    Box::pin(futures_util::stream::unfold(
        (subscription, queue),
        |(mut subscription, queue)| async move {
            loop {
                let next = subscription.next().await?;
                if queue.as_ref().is_none_or(|q| *q == next.queue) {
                    return Some((Ok(event(next)), (subscription, queue)));
                }
            }
        },
    ))
}

pub(crate) fn invalid(field: &str, code: &'static str, message: &str) -> Status {
    let error: FieldError = ValueError::new(code, message.to_owned()).at(field);
    errors::validation(vec![error])
}

pub(crate) fn enqueue_command(body: pb::EnqueueJobRequest) -> Result<EnqueueJob, Status> {
    let payload = body.payload.unwrap_or_else(|| "{}".to_owned());
    if serde_json::from_str::<serde_json::Value>(&payload).is_err() {
        return Err(invalid("payload", "invalid_json", "must be JSON text"));
    }
    let priority = match body.priority.as_deref() {
        None => Priority::default(),
        Some(raw) => {
            Priority::parse(raw).map_err(|err| errors::validation(vec![err.at("priority")]))?
        }
    };
    Ok(EnqueueJob {
        name: body.name,
        queue: body.queue,
        payload: payload.into_bytes(),
        priority: Some(priority),
        delay_secs: body.delay_secs,
        max_attempts: body.max_attempts,
        unique_key: body.unique_key,
        unique_window_secs: body.unique_window_secs,
        tags: body.tags,
        correlation_id: body.correlation_id,
    })
}
