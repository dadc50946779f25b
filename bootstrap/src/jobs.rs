//! The job queue in this process: its backend, the handlers every process registers, and the
//! runtime tasks (worker pool, promote/reap sweeps, cron) each role runs.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use arcana_adapter_jobs::{
    CronRunner, CronSettings, DynamicJobs, JobClient, Maintenance, Noop, Registry, Sleep,
    WorkerPool, WorkerSettings,
};
use arcana_adapter_memory::{InMemoryJobQueue, InMemoryLeaderLock, InMemoryScheduler, SystemClock};
use arcana_adapter_redis::{RedisJobQueue, RedisLeaderLock, RedisScheduler};
use arcana_domain::jobs::{JobName, QueueName};
use arcana_ports::clock::Clock;
use arcana_ports::jobs::{JobQueue, RateLimit, Retention, Schedule, Scheduler};
use arcana_ports::locks::LeaderLock;
use chrono::TimeDelta;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::background::PurgeSessions;
use crate::config::{JobsBackend, JobsSettings, Settings};
use crate::wiring::App;

/// The configured backend of the queue, the schedules and the cron leader lock.
#[derive(Clone)]
pub(crate) struct JobsBackendParts {
    pub(crate) queue: Arc<dyn JobQueue>,
    pub(crate) scheduler: Arc<dyn Scheduler>,
    pub(crate) lock: Arc<dyn LeaderLock>,
    pub(crate) clock: Arc<dyn Clock>,
}

fn secs(value: u64) -> TimeDelta {
    TimeDelta::seconds(i64::try_from(value).unwrap_or(i64::MAX / 1000))
}

fn retention(jobs: &JobsSettings) -> Retention {
    Retention {
        completed: secs(jobs.retention.completed_secs),
        dead_max_age: secs(jobs.retention.dead_max_age_secs),
        dead_max_len: jobs.retention.dead_max_len,
    }
}

fn rate_limits(jobs: &JobsSettings) -> HashMap<String, RateLimit> {
    jobs.rate_limits
        .iter()
        .map(|(queue, r)| {
            let period =
                TimeDelta::milliseconds(i64::try_from(r.period_ms).unwrap_or(i64::MAX / 2));
            (
                queue.clone(),
                RateLimit {
                    limit: r.limit,
                    period,
                },
            )
        })
        .collect()
}

pub(crate) fn backend(settings: &Settings) -> anyhow::Result<JobsBackendParts> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let retention = retention(&settings.jobs);
    let limits = rate_limits(&settings.jobs);
    Ok(match settings.jobs.backend {
        JobsBackend::Memory => JobsBackendParts {
            queue: Arc::new(InMemoryJobQueue::new(retention).with_rate_limits(limits)),
            scheduler: Arc::new(InMemoryScheduler::new()),
            lock: Arc::new(InMemoryLeaderLock::new()),
            clock,
        },
        JobsBackend::Redis => {
            let redis = crate::state::redis_connection(settings)?
                .context("jobs.backend = redis needs redis.url")?;
            JobsBackendParts {
                queue: Arc::new(
                    RedisJobQueue::new(redis.clone(), retention).with_rate_limits(limits),
                ),
                scheduler: Arc::new(RedisScheduler::new(redis.clone())),
                lock: Arc::new(RedisLeaderLock::new(redis)),
                clock,
            }
        }
    })
}

/// What a process does with the queue besides enqueueing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Roles {
    pub(crate) worker: bool,
    pub(crate) scheduler: bool,
}

/// The running job tasks of this process.
pub(crate) struct JobsRuntime {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
    deadline: Duration,
}

impl JobsRuntime {
    /// Stops claiming and firing, and waits for running jobs (bounded by the deadline, after
    /// which the pool releases them).
    pub(crate) async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        let drained = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(self.deadline + Duration::from_secs(5), drained)
            .await
            .is_err()
        {
            tracing::warn!("job tasks did not stop in time");
        }
    }
}

/// A name for this process in lease tokens and the leader lock.
pub(crate) fn process_name(role: &str) -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    format!("{role}@{host}:{}", std::process::id())
}

/// The configured schedules (their names were checked when the configuration loaded).
fn schedules(settings: &Settings, client: &JobClient) -> anyhow::Result<Vec<Schedule>> {
    let scheduler = &settings.jobs.scheduler;
    let mut list = Vec::new();
    if !scheduler.purge_sessions_cron.is_empty() {
        list.push(Schedule {
            name: "sessions.purge".into(),
            cron: scheduler.purge_sessions_cron.clone(),
            timezone: "UTC".into(),
            job: client.job(&PurgeSessions {}).spec().clone(),
            paused: false,
            last_fired_at: None,
        });
    }
    for custom in &settings.jobs.schedules {
        let job = JobName::parse(&custom.job)?;
        let queue = QueueName::parse(&custom.queue)?;
        list.push(Schedule {
            name: custom.name.clone(),
            cron: custom.cron.clone(),
            timezone: custom.timezone.clone(),
            job: client
                .named(job, custom.payload.clone().into_bytes())
                .queue(queue)
                .spec()
                .clone(),
            paused: false,
            last_fired_at: None,
        });
    }
    Ok(list)
}

/// Registers the handlers (and, with a plugin host, the jobs its plugins declare), records the
/// schedules and starts the tasks of `roles` for `app`.
pub(crate) async fn start(
    settings: &Settings,
    app: &App,
    roles: Roles,
    plugins: Option<Arc<dyn DynamicJobs>>,
) -> anyhow::Result<JobsRuntime> {
    let parts = &app.jobs;
    let client = JobClient::new(parts.queue.clone(), parts.clock.clone());
    for schedule in schedules(settings, &client)? {
        parts
            .scheduler
            .upsert(&schedule)
            .await
            .context("recording the cron schedules")?;
    }
    let (stop, stopped) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let name = process_name(if roles.worker { "worker" } else { "server" });
    if roles.worker {
        let mut registry = Registry::new()
            .register::<Noop>(())
            .register::<Sleep>(())
            .register::<PurgeSessions>((app.sessions.clone(), parts.clock.clone()));
        if let Some(plugins) = plugins {
            registry = registry.with_dynamic(plugins);
        }
        spawn_workers(&mut tasks, settings, app, registry, &name, &stopped);
    }
    if roles.scheduler && settings.jobs.scheduler.enabled {
        let scheduler = &settings.jobs.scheduler;
        let cron = CronSettings {
            holder: name,
            lease: Duration::from_millis(scheduler.lease_ms),
            tick: Duration::from_millis(scheduler.tick_ms),
        };
        let runner = CronRunner::new(
            parts.scheduler.clone(),
            parts.lock.clone(),
            client,
            app.job_metrics.clone(),
            cron,
        );
        tasks.spawn(runner.run(stopped));
    }
    Ok(JobsRuntime {
        stop,
        tasks,
        deadline: Duration::from_secs(settings.jobs.worker.shutdown_deadline_secs),
    })
}

/// The worker pool and the promote/reap sweeps.
fn spawn_workers(
    tasks: &mut JoinSet<()>,
    settings: &Settings,
    app: &App,
    registry: Registry,
    name: &str,
    stopped: &watch::Receiver<bool>,
) {
    let worker = &settings.jobs.worker;
    let ms = Duration::from_millis;
    let pool_settings = WorkerSettings {
        worker_id: name.to_owned(),
        queues: worker.queues.iter().map(|(q, n)| (q.clone(), *n)).collect(),
        lease: ms(worker.lease_ms),
        heartbeat: ms(worker.heartbeat_ms),
        poll_interval: ms(worker.poll_interval_ms),
        shutdown_deadline: Duration::from_secs(worker.shutdown_deadline_secs),
    };
    let (queue, clock, metrics) = (
        app.jobs.queue.clone(),
        app.jobs.clock.clone(),
        app.job_metrics.clone(),
    );
    let pool = WorkerPool::new(
        queue.clone(),
        registry,
        clock.clone(),
        metrics.clone(),
        pool_settings,
    );
    tasks.spawn(pool.run(stopped.clone()));
    let sweeps = Maintenance::new(queue, clock, metrics, ms(worker.sweep_interval_ms));
    tasks.spawn(sweeps.run(stopped.clone()));
}
