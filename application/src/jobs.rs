//! Operating the job queue: the `JobsUseCases` driving port. Admin or above for everything;
//! inputs are parsed and bounded here so that REST and gRPC accept exactly the same.

use std::sync::Arc;

use arcana_domain::error::FieldErrors;
use arcana_domain::ids::JobId;
use arcana_domain::jobs::{
    JobName, JobRecord, JobSpec, JobState, QueueName, RetryPolicy, UniqueKey, parse_unique_key,
};
use arcana_domain::{Role, ValueError};
use arcana_ports::clock::Clock;
use arcana_ports::jobs::{
    Enqueued, JobEventFeed, JobEventSubscription, JobFilter, JobQueue, QueueStats, Schedule,
    Scheduler, WorkerInfo,
};
use arcana_ports::usecases::Principal;
use arcana_ports::usecases::jobs::{Dashboard, EnqueueJob, JobSearch, JobsError, JobsUseCases};
use async_trait::async_trait;
use chrono::TimeDelta;

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 500;

pub struct JobsService {
    queue: Arc<dyn JobQueue>,
    scheduler: Arc<dyn Scheduler>,
    clock: Arc<dyn Clock>,
    events: Arc<dyn JobEventFeed>,
}

fn admin(actor: &Principal) -> Result<(), JobsError> {
    if actor.user.role() < Role::Admin {
        return Err(JobsError::Forbidden);
    }
    Ok(())
}

fn job_id(raw: &str) -> Result<JobId, JobsError> {
    // An id that cannot exist names no job: 404, as for any unknown id.
    JobId::parse(raw).map_err(|_| JobsError::NotFound)
}

/// The longest delay and uniqueness window a job may ask for: a year.
pub(crate) const MAX_HORIZON_SECS: u64 = 31_536_000;

fn secs(value: u64) -> TimeDelta {
    TimeDelta::seconds(i64::try_from(value).unwrap_or(i64::MAX / 1000))
}

/// The deduplication key and window of an enqueue, each problem recorded in `errors`.
fn parse_unique(
    errors: &mut FieldErrors,
    key: Option<String>,
    window_secs: Option<u64>,
) -> Option<UniqueKey> {
    match (key, window_secs) {
        (Some(key), window) => errors
            .check("unique_key", parse_unique_key(&key))
            .map(|key| UniqueKey {
                key,
                // Clamped: a window past the horizon was reported with the other bounds.
                window: secs(window.unwrap_or(3600).clamp(1, MAX_HORIZON_SECS)),
            }),
        (None, Some(_)) => {
            errors.push(ValueError::new("unexpected", "needs unique_key").at("unique_window_secs"));
            None
        }
        (None, None) => None,
    }
}

impl JobsService {
    pub fn new(
        queue: Arc<dyn JobQueue>,
        scheduler: Arc<dyn Scheduler>,
        clock: Arc<dyn Clock>,
        events: Arc<dyn JobEventFeed>,
    ) -> Self {
        Self {
            queue,
            scheduler,
            clock,
            events,
        }
    }

    fn parse_enqueue(&self, command: EnqueueJob) -> Result<JobSpec, JobsError> {
        let mut errors = FieldErrors::new();
        let job = errors.check("name", JobName::parse(&command.name));
        let queue = errors.check(
            "queue",
            QueueName::parse(command.queue.as_deref().unwrap_or(QueueName::DEFAULT)),
        );
        let max_attempts = command
            .max_attempts
            .unwrap_or(RetryPolicy::default().max_attempts);
        if !(1..=100).contains(&max_attempts) {
            errors.push(
                ValueError::new("out_of_range", "must be between 1 and 100").at("max_attempts"),
            );
        }
        // Beyond these, the times would overflow (a request could crash its handler); a job a
        // year away is already an operator's mistake.
        for (field, value) in [
            ("delay_secs", command.delay_secs),
            ("unique_window_secs", command.unique_window_secs),
        ] {
            if value.is_some_and(|secs| secs > MAX_HORIZON_SECS) {
                errors.push(
                    ValueError::new("out_of_range", "must be at most 31536000 (a year)").at(field),
                );
            }
        }
        let unique = parse_unique(&mut errors, command.unique_key, command.unique_window_secs);
        errors.finish().map_err(JobsError::Validation)?;
        let (Some(job), Some(queue)) = (job, queue) else {
            return Err(JobsError::Internal(anyhow::anyhow!(
                "validated fields missing"
            )));
        };
        Ok(JobSpec::new(job, command.payload)
            .with_queue(queue)
            .with_priority(command.priority.unwrap_or_default())
            .with_run_at(command.delay_secs.map(|d| self.clock.now() + secs(d)))
            .with_retry(RetryPolicy {
                max_attempts,
                ..RetryPolicy::default()
            })
            .with_unique(unique)
            .with_tags(command.tags)
            .with_correlation_id(command.correlation_id))
    }

    async fn schedule(&self, name: &str) -> Result<Schedule, JobsError> {
        let schedules = self.scheduler.list().await?;
        schedules
            .into_iter()
            .find(|s| s.name == name)
            .ok_or(JobsError::NotFound)
    }
}

fn add(totals: &mut QueueStats, queue: &QueueStats) {
    totals.scheduled += queue.scheduled;
    totals.pending += queue.pending;
    totals.active += queue.active;
    totals.completed += queue.completed;
    totals.dead_lettered += queue.dead_lettered;
}

#[async_trait]
impl JobsUseCases for JobsService {
    #[tracing::instrument(level = "debug", name = "jobs.queues", skip_all)]
    async fn queues(&self, actor: &Principal) -> Result<Vec<QueueStats>, JobsError> {
        admin(actor)?;
        Ok(self.queue.stats().await?)
    }

    #[tracing::instrument(level = "debug", name = "jobs.queue", skip_all)]
    async fn queue(&self, actor: &Principal, name: &str) -> Result<QueueStats, JobsError> {
        let queues = self.queues(actor).await?;
        queues
            .into_iter()
            .find(|q| q.queue == name)
            .ok_or(JobsError::NotFound)
    }

    #[tracing::instrument(level = "debug", name = "jobs.dashboard", skip_all)]
    async fn dashboard(&self, actor: &Principal) -> Result<Dashboard, JobsError> {
        let queues = self.queues(actor).await?;
        let schedules = self.scheduler.list().await?;
        let mut totals = QueueStats {
            queue: "*".into(),
            ..QueueStats::default()
        };
        for queue in &queues {
            add(&mut totals, queue);
        }
        Ok(Dashboard {
            queues,
            totals,
            schedules: schedules.len(),
            paused_schedules: schedules.iter().filter(|s| s.paused).count(),
        })
    }

    #[tracing::instrument(level = "debug", name = "jobs.search", skip_all)]
    async fn search(
        &self,
        actor: &Principal,
        search: JobSearch,
    ) -> Result<Vec<JobRecord>, JobsError> {
        admin(actor)?;
        let mut errors = FieldErrors::new();
        let limit = search.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            errors.push(ValueError::new("out_of_range", "must be between 1 and 500").at("limit"));
        }
        let state = search
            .state
            .as_deref()
            .and_then(|raw| errors.check("state", JobState::parse(raw)));
        errors.finish().map_err(JobsError::Validation)?;
        let filter = JobFilter {
            queue: search.queue,
            state,
            name: search.name,
            tag: search.tag,
            limit: limit as usize,
        };
        Ok(self.queue.search(&filter).await?)
    }

    #[tracing::instrument(level = "debug", name = "jobs.get", skip_all)]
    async fn get(&self, actor: &Principal, id: &str) -> Result<JobRecord, JobsError> {
        admin(actor)?;
        self.queue
            .get(job_id(id)?)
            .await?
            .ok_or(JobsError::NotFound)
    }

    #[tracing::instrument(level = "debug", name = "jobs.enqueue", skip_all)]
    async fn enqueue(&self, actor: &Principal, command: EnqueueJob) -> Result<Enqueued, JobsError> {
        admin(actor)?;
        let spec = self.parse_enqueue(command)?;
        Ok(self.queue.enqueue(spec, self.clock.now()).await?)
    }

    #[tracing::instrument(level = "debug", name = "jobs.cancel", skip_all)]
    async fn cancel(&self, actor: &Principal, id: &str) -> Result<(), JobsError> {
        let job = self.get(actor, id).await?;
        if self.queue.cancel(job.id, self.clock.now()).await? {
            return Ok(());
        }
        let now = self.queue.get(job.id).await?.map_or(job.state, |j| j.state);
        Err(JobsError::WrongState(now))
    }

    #[tracing::instrument(level = "debug", name = "jobs.retry", skip_all)]
    async fn retry(&self, actor: &Principal, id: &str) -> Result<(), JobsError> {
        let job = self.get(actor, id).await?;
        if self.queue.replay_dead(job.id, self.clock.now()).await? {
            return Ok(());
        }
        let now = self.queue.get(job.id).await?.map_or(job.state, |j| j.state);
        Err(JobsError::WrongState(now))
    }

    #[tracing::instrument(level = "debug", name = "jobs.purge_dead", skip_all)]
    async fn purge_dead(&self, actor: &Principal, queue: &str) -> Result<u64, JobsError> {
        admin(actor)?;
        Ok(self.queue.purge_dead(queue).await?)
    }

    #[tracing::instrument(level = "debug", name = "jobs.schedules", skip_all)]
    async fn schedules(&self, actor: &Principal) -> Result<Vec<Schedule>, JobsError> {
        admin(actor)?;
        Ok(self.scheduler.list().await?)
    }

    #[tracing::instrument(level = "debug", name = "jobs.set_schedule_paused", skip_all)]
    async fn set_schedule_paused(
        &self,
        actor: &Principal,
        name: &str,
        paused: bool,
    ) -> Result<(), JobsError> {
        admin(actor)?;
        if self.scheduler.set_paused(name, paused).await? {
            Ok(())
        } else {
            Err(JobsError::NotFound)
        }
    }

    #[tracing::instrument(level = "debug", name = "jobs.trigger_schedule", skip_all)]
    async fn trigger_schedule(&self, actor: &Principal, name: &str) -> Result<Enqueued, JobsError> {
        admin(actor)?;
        let schedule = self.schedule(name).await?;
        let spec = schedule
            .job
            .with_unique(None)
            .with_run_at(None)
            .with_correlation_id(Some(format!("manual:{name}")));
        Ok(self.queue.enqueue(spec, self.clock.now()).await?)
    }

    #[tracing::instrument(level = "debug", name = "jobs.workers", skip_all)]
    async fn workers(&self, actor: &Principal) -> Result<Vec<WorkerInfo>, JobsError> {
        admin(actor)?;
        Ok(self.queue.workers(self.clock.now()).await?)
    }

    #[tracing::instrument(level = "debug", name = "jobs.watch", skip_all)]
    async fn watch(&self, actor: &Principal) -> Result<Box<dyn JobEventSubscription>, JobsError> {
        admin(actor)?;
        Ok(self.events.subscribe())
    }
}
