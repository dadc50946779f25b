//! Job queue shapes of `/api/v1/jobs/*`.

use arcana_domain::jobs::{JobRecord, Priority};
use arcana_ports::jobs::{Enqueued, QueueStats, Schedule, WorkerInfo};
use arcana_ports::usecases::jobs::{Dashboard, EnqueueJob, JobSearch};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::timestamp;

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = QueueStats)]
pub(crate) struct QueueStatsDto {
    queue: String,
    scheduled: u64,
    pending: u64,
    active: u64,
    /// Completed jobs still retained.
    completed: u64,
    dead_lettered: u64,
}

impl From<QueueStats> for QueueStatsDto {
    fn from(s: QueueStats) -> Self {
        Self {
            queue: s.queue,
            scheduled: s.scheduled,
            pending: s.pending,
            active: s.active,
            completed: s.completed,
            dead_lettered: s.dead_lettered,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = QueueList)]
pub(crate) struct QueueListDto {
    items: Vec<QueueStatsDto>,
}

impl From<Vec<QueueStats>> for QueueListDto {
    fn from(list: Vec<QueueStats>) -> Self {
        Self {
            items: list.into_iter().map(QueueStatsDto::from).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = JobsDashboard)]
pub(crate) struct DashboardDto {
    totals: QueueStatsDto,
    queues: Vec<QueueStatsDto>,
    schedules: usize,
    paused_schedules: usize,
}

impl From<Dashboard> for DashboardDto {
    fn from(d: Dashboard) -> Self {
        Self {
            totals: d.totals.into(),
            queues: d.queues.into_iter().map(QueueStatsDto::from).collect(),
            schedules: d.schedules,
            paused_schedules: d.paused_schedules,
        }
    }
}

/// The payload as JSON when it is JSON (every job the runtime enqueues), else `null`.
fn payload(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or(Value::Null)
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Job)]
pub(crate) struct JobDto {
    #[schema(format = Uuid)]
    id: String,
    name: String,
    queue: String,
    /// `scheduled`, `pending`, `active`, `completed`, `dead` or `cancelled`.
    state: &'static str,
    priority: &'static str,
    /// Any JSON value (`null` when the stored payload is not JSON).
    #[schema(value_type = serde_json::Value)]
    payload: Value,
    /// Attempts started so far.
    attempt: u32,
    max_attempts: u32,
    #[schema(format = DateTime)]
    run_at: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    last_error: Option<String>,
    tags: Vec<String>,
    correlation_id: Option<String>,
    unique_key: Option<String>,
}

impl From<JobRecord> for JobDto {
    fn from(job: JobRecord) -> Self {
        Self {
            id: job.id.to_string(),
            state: job.state.as_str(),
            priority: job.spec.priority().as_str(),
            payload: payload(job.spec.payload()),
            attempt: job.attempt,
            max_attempts: job.spec.retry().max_attempts,
            run_at: job.spec.run_at().map(timestamp),
            created_at: timestamp(job.created_at),
            updated_at: timestamp(job.updated_at),
            last_error: job.last_error,
            unique_key: job.spec.unique().map(|u| u.key.clone()),
            name: job.spec.name().to_string(),
            queue: job.spec.queue().to_string(),
            tags: job.spec.tags().to_vec(),
            correlation_id: job.spec.correlation_id().map(str::to_owned),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = JobList)]
pub(crate) struct JobListDto {
    items: Vec<JobDto>,
}

impl From<Vec<JobRecord>> for JobListDto {
    fn from(list: Vec<JobRecord>) -> Self {
        Self {
            items: list.into_iter().map(JobDto::from).collect(),
        }
    }
}

/// Filters of `GET /api/v1/jobs`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct JobSearchQuery {
    queue: Option<String>,
    #[param(schema_with = super::params::job_state)]
    state: Option<String>,
    name: Option<String>,
    tag: Option<String>,
    /// At most this many (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

impl From<JobSearchQuery> for JobSearch {
    fn from(q: JobSearchQuery) -> Self {
        Self {
            queue: q.queue,
            state: q.state,
            name: q.name,
            tag: q.tag,
            limit: q.limit,
        }
    }
}

/// Which queue's dead letters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeadLetterQuery {
    /// Every queue when absent (listing only; purging needs one).
    pub(crate) queue: Option<String>,
    /// At most this many (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub(crate) limit: Option<u32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = EnqueueJobRequest)]
#[serde(deny_unknown_fields)]
pub(crate) struct EnqueueRequest {
    /// A registered job name, e.g. `noop` or `sleep`.
    #[schema(pattern = r"^[A-Za-z0-9._:-]{1,64}$")]
    name: String,
    #[schema(pattern = r"^[A-Za-z0-9._:-]{1,64}$")]
    queue: Option<String>,
    /// Any JSON value, handed to the job's handler; `{}` when absent.
    #[schema(value_type = serde_json::Value)]
    #[serde(default)]
    payload: Option<Value>,
    /// `low`, `normal` (default), `high` or `critical`.
    priority: Option<PriorityDto>,
    #[schema(maximum = 31_536_000)]
    delay_secs: Option<u64>,
    #[schema(minimum = 1, maximum = 100)]
    max_attempts: Option<u32>,
    /// 1 to 64 letters, digits, `.`, `_`, `:` or `-`.
    #[schema(pattern = r"^[A-Za-z0-9._:-]{1,64}$")]
    unique_key: Option<String>,
    #[schema(maximum = 31_536_000)]
    unique_window_secs: Option<u64>,
    #[serde(default)]
    tags: Vec<String>,
    correlation_id: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum PriorityDto {
    Low,
    Normal,
    High,
    Critical,
}

impl From<EnqueueRequest> for EnqueueJob {
    fn from(r: EnqueueRequest) -> Self {
        let payload = r
            .payload
            .unwrap_or_else(|| Value::Object(serde_json::Map::new()));
        Self {
            name: r.name,
            queue: r.queue,
            payload: payload.to_string().into_bytes(),
            priority: r.priority.map(|p| match p {
                PriorityDto::Low => Priority::Low,
                PriorityDto::Normal => Priority::Normal,
                PriorityDto::High => Priority::High,
                PriorityDto::Critical => Priority::Critical,
            }),
            delay_secs: r.delay_secs,
            max_attempts: r.max_attempts,
            unique_key: r.unique_key,
            unique_window_secs: r.unique_window_secs,
            tags: r.tags,
            correlation_id: r.correlation_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = EnqueuedJob)]
pub(crate) struct EnqueuedDto {
    #[schema(format = Uuid)]
    id: String,
    /// `true` when a job with the same unique key existed and was returned instead.
    deduplicated: bool,
}

impl From<Enqueued> for EnqueuedDto {
    fn from(e: Enqueued) -> Self {
        Self {
            id: e.id.to_string(),
            deduplicated: e.deduplicated,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Purged)]
pub(crate) struct PurgedDto {
    pub(crate) purged: u64,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Schedule)]
pub(crate) struct ScheduleDto {
    name: String,
    /// Six fields, seconds first.
    cron: String,
    timezone: String,
    job: String,
    queue: String,
    paused: bool,
    #[schema(format = DateTime)]
    last_fired_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Worker)]
pub(crate) struct WorkerDto {
    /// `role@host:pid`.
    id: String,
    queues: Vec<String>,
    #[schema(format = DateTime)]
    started_at: String,
    #[schema(format = DateTime)]
    last_seen: String,
    /// Jobs it was running when last seen.
    running: u32,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WorkerList)]
pub(crate) struct WorkerListDto {
    items: Vec<WorkerDto>,
}

impl From<Vec<WorkerInfo>> for WorkerListDto {
    fn from(list: Vec<WorkerInfo>) -> Self {
        Self {
            items: list
                .into_iter()
                .map(|w| WorkerDto {
                    id: w.id,
                    queues: w.queues,
                    started_at: timestamp(w.started_at),
                    last_seen: timestamp(w.last_seen),
                    running: w.running,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ScheduleList)]
pub(crate) struct ScheduleListDto {
    items: Vec<ScheduleDto>,
}

impl From<Vec<Schedule>> for ScheduleListDto {
    fn from(list: Vec<Schedule>) -> Self {
        Self {
            items: list
                .into_iter()
                .map(|s| ScheduleDto {
                    name: s.name,
                    cron: s.cron,
                    timezone: s.timezone,
                    job: s.job.name().to_string(),
                    queue: s.job.queue().to_string(),
                    paused: s.paused,
                    last_fired_at: s.last_fired_at.map(timestamp),
                })
                .collect(),
        }
    }
}
