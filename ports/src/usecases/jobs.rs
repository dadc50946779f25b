//! Operating the job queue: the admin API of REST and gRPC. Every operation needs the admin
//! role, checked behind this trait.

use crate::jobs::{Enqueued, JobEventSubscription, QueueStats, Schedule, WorkerInfo};
use arcana_domain::FieldError;
use arcana_domain::jobs::{JobRecord, JobState, Priority};
use async_trait::async_trait;

use super::auth::Principal;

#[derive(Debug, thiserror::Error)]
pub enum JobsError {
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    /// Below the admin role.
    #[error("not allowed")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// The job is not in a state the operation applies to (cancelling a running job,
    /// retrying one that is not dead-lettered); carries the state it is in.
    #[error("the job is {0}")]
    WrongState(JobState),
    #[error("a dependency is unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// Raw search input; the service parses and bounds it.
#[derive(Debug, Default)]
pub struct JobSearch {
    pub queue: Option<String>,
    /// A state's API name ([`JobState::parse`]).
    pub state: Option<String>,
    pub name: Option<String>,
    pub tag: Option<String>,
    /// Default 50, at most 500.
    pub limit: Option<u32>,
}

/// An operator's enqueue: a registered job name and its JSON payload bytes.
#[derive(Debug)]
pub struct EnqueueJob {
    pub name: String,
    pub queue: Option<String>,
    pub payload: Vec<u8>,
    pub priority: Option<Priority>,
    /// Seconds from now.
    pub delay_secs: Option<u64>,
    pub max_attempts: Option<u32>,
    pub unique_key: Option<String>,
    pub unique_window_secs: Option<u64>,
    pub tags: Vec<String>,
    pub correlation_id: Option<String>,
}

/// Totals over every queue.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Dashboard {
    pub queues: Vec<QueueStats>,
    pub totals: QueueStats,
    pub schedules: usize,
    pub paused_schedules: usize,
}

/// Job administration: admin or above for every method.
///
/// Every method may also fail with `Forbidden` (below admin), `Unavailable` (the queue's store
/// cannot be reached: 503, retry later) and `Internal` (500); the lists below name the answers
/// particular to each. The reads are safe to retry; no write is retried by the resilience
/// guard.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait JobsUseCases: Send + Sync {
    /// # Errors
    /// Only the common ones.
    async fn queues(&self, actor: &Principal) -> Result<Vec<QueueStats>, JobsError>;

    /// # Errors
    /// `NotFound` for a queue that never received a job.
    async fn queue(&self, actor: &Principal, name: &str) -> Result<QueueStats, JobsError>;

    /// # Errors
    /// Only the common ones.
    async fn dashboard(&self, actor: &Principal) -> Result<Dashboard, JobsError>;

    /// # Errors
    /// `Validation` (a limit out of range, an unknown state).
    async fn search(
        &self,
        actor: &Principal,
        search: JobSearch,
    ) -> Result<Vec<JobRecord>, JobsError>;

    /// # Errors
    /// `NotFound` (also for an id that is not a job id).
    async fn get(&self, actor: &Principal, id: &str) -> Result<JobRecord, JobsError>;

    /// # Errors
    /// `Validation` (name, queue, priority, attempts, timeout or payload refused, every field
    /// at once). Not safe to retry without a uniqueness key: a repeat enqueues twice.
    async fn enqueue(&self, actor: &Principal, command: EnqueueJob) -> Result<Enqueued, JobsError>;

    /// Scheduled or pending jobs only.
    ///
    /// # Errors
    /// `NotFound`, `WrongState` (the job's current state).
    async fn cancel(&self, actor: &Principal, id: &str) -> Result<(), JobsError>;

    /// Dead-lettered jobs only: back to pending, payload intact, attempts reset.
    ///
    /// # Errors
    /// `NotFound`, `WrongState` (the job's current state).
    async fn retry(&self, actor: &Principal, id: &str) -> Result<(), JobsError>;

    /// Deletes the dead letters of `queue`; returns how many.
    ///
    /// # Errors
    /// Only the common ones. Not retried by the resilience guard (its count would read 0).
    async fn purge_dead(&self, actor: &Principal, queue: &str) -> Result<u64, JobsError>;

    /// # Errors
    /// Only the common ones.
    async fn schedules(&self, actor: &Principal) -> Result<Vec<Schedule>, JobsError>;

    /// # Errors
    /// `NotFound` for a schedule that is not configured.
    async fn set_schedule_paused(
        &self,
        actor: &Principal,
        name: &str,
        paused: bool,
    ) -> Result<(), JobsError>;

    /// Enqueues the schedule's job now, outside its cron times.
    ///
    /// # Errors
    /// `NotFound` for a schedule that is not configured.
    async fn trigger_schedule(&self, actor: &Principal, name: &str) -> Result<Enqueued, JobsError>;

    /// Worker processes that reported themselves within their lease.
    ///
    /// # Errors
    /// Only the common ones.
    async fn workers(&self, actor: &Principal) -> Result<Vec<WorkerInfo>, JobsError>;

    /// The live feed of job events seen by this process (its API and its workers).
    ///
    /// # Errors
    /// Only the common ones.
    async fn watch(&self, actor: &Principal) -> Result<Box<dyn JobEventSubscription>, JobsError>;
}
