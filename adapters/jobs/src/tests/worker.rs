use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use arcana_domain::jobs::{Backoff, JobName, JobState, RetryPolicy};
use arcana_ports::jobs::JobQueue;
use chrono::TimeDelta;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::{fixtures, in_state, wait_for};
use crate::{
    Job, JobClient, JobContext, JobError, JobMetrics, Maintenance, Registry, Sleep, WorkerPool,
    WorkerSettings,
};

#[derive(Serialize, Deserialize)]
struct Flaky {
    panic: bool,
}

impl Job for Flaky {
    const NAME: JobName = JobName::from_static("flaky");
    type Deps = Arc<AtomicU32>;

    async fn execute(self, runs: &Arc<AtomicU32>, ctx: JobContext) -> Result<(), JobError> {
        runs.fetch_add(1, Ordering::SeqCst);
        assert_eq!(ctx.idempotency_key, ctx.id.to_string());
        assert!(!self.panic, "handler bug");
        Err(JobError::Retry(format!("attempt {} failed", ctx.attempt)))
    }
}

fn settings(deadline: Duration) -> WorkerSettings {
    WorkerSettings {
        worker_id: "test".into(),
        queues: vec![("default".into(), 2)],
        lease: Duration::from_secs(30),
        heartbeat: Duration::from_secs(10),
        poll_interval: Duration::from_millis(5),
        shutdown_deadline: deadline,
    }
}

fn spawn_pool(
    queue: Arc<dyn JobQueue>,
    clock: Arc<dyn arcana_ports::clock::Clock>,
    registry: Registry,
    deadline: Duration,
) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let (stop, stopped) = watch::channel(false);
    let pool = WorkerPool::new(
        queue,
        registry,
        clock,
        JobMetrics::unregistered(),
        settings(deadline),
    );
    (stop, tokio::spawn(pool.run(stopped)))
}

#[tokio::test]
async fn a_failing_job_is_retried_after_the_policy_delays_then_dead_lettered() {
    let (queue, clock) = fixtures();
    let runs = Arc::new(AtomicU32::new(0));
    let registry = Registry::new().register::<Flaky>(runs.clone());
    let (_stop, _pool) = spawn_pool(queue.clone(), clock.clone(), registry, Duration::ZERO);
    let client = JobClient::new(queue.clone(), clock.clone());
    let policy = RetryPolicy {
        max_attempts: 3,
        backoff: Backoff::Exponential,
        base_delay: TimeDelta::seconds(1),
        max_delay: TimeDelta::minutes(1),
        jitter: false,
    };
    let id = client
        .job(&Flaky { panic: false })
        .retry(policy)
        .send()
        .await
        .unwrap()
        .id;
    let sweeper = Maintenance::new(
        queue.clone(),
        clock.clone(),
        JobMetrics::unregistered(),
        Duration::from_secs(1),
    );

    for (attempt, delay) in [(1, TimeDelta::seconds(1)), (2, TimeDelta::seconds(2))] {
        let failed = wait_for(&*queue, id, |r| {
            r.state == JobState::Scheduled && r.attempt == attempt
        })
        .await;
        assert_eq!(
            failed.spec.run_at(),
            Some(arcana_ports::clock::Clock::now(&*clock) + delay),
            "attempt {attempt}"
        );
        assert_eq!(
            failed.last_error.as_deref(),
            Some(format!("attempt {attempt} failed").as_str())
        );
        clock.advance(delay - TimeDelta::milliseconds(1));
        sweeper.sweep().await;
        assert_eq!(
            queue.get(id).await.unwrap().unwrap().state,
            JobState::Scheduled,
            "not before its time"
        );
        clock.advance(TimeDelta::milliseconds(1));
        sweeper.sweep().await;
    }
    let dead = wait_for(&*queue, id, in_state(JobState::DeadLettered)).await;
    assert_eq!((dead.attempt, runs.load(Ordering::SeqCst)), (3, 3));
}

#[tokio::test]
async fn a_panicking_handler_fails_the_attempt_and_the_worker_keeps_going() {
    let (queue, clock) = fixtures();
    let registry = Registry::new()
        .register::<Flaky>(Arc::new(AtomicU32::new(0)))
        .register::<Sleep>(());
    let (_stop, _pool) = spawn_pool(queue.clone(), clock.clone(), registry, Duration::ZERO);
    let client = JobClient::new(queue.clone(), clock.clone());
    let bad = client
        .job(&Flaky { panic: true })
        .max_attempts(1)
        .send()
        .await
        .unwrap()
        .id;
    let dead = wait_for(&*queue, bad, in_state(JobState::DeadLettered)).await;
    assert_eq!(dead.last_error.as_deref(), Some("the handler panicked"));
    let good = client.job(&Sleep { ms: 1 }).send().await.unwrap().id;
    wait_for(&*queue, good, in_state(JobState::Completed)).await;
}

#[tokio::test]
async fn a_handler_past_its_timeout_fails_the_attempt() {
    let (queue, clock) = fixtures();
    let (_stop, _pool) = spawn_pool(
        queue.clone(),
        clock.clone(),
        Registry::new().register::<Sleep>(()),
        Duration::ZERO,
    );
    let client = JobClient::new(queue.clone(), clock.clone());
    let id = client
        .job(&Sleep { ms: 60_000 })
        .timeout(TimeDelta::milliseconds(20))
        .max_attempts(1)
        .send()
        .await
        .unwrap()
        .id;
    let dead = wait_for(&*queue, id, in_state(JobState::DeadLettered)).await;
    assert_eq!(dead.last_error.as_deref(), Some("timed out"));
}

#[tokio::test]
async fn unknown_jobs_and_malformed_payloads_are_dead_lettered_without_retries() {
    let (queue, clock) = fixtures();
    let (_stop, _pool) = spawn_pool(
        queue.clone(),
        clock.clone(),
        Registry::new().register::<Sleep>(()),
        Duration::ZERO,
    );
    let client = JobClient::new(queue.clone(), clock.clone());
    let unknown = client
        .named(JobName::from_static("nobody-handles-this"), b"{}".to_vec())
        .send()
        .await
        .unwrap()
        .id;
    let malformed = client
        .named(
            JobName::from_static("sleep"),
            b"{\"ms\":\"secret-ish\"}".to_vec(),
        )
        .send()
        .await
        .unwrap()
        .id;
    let unknown = wait_for(&*queue, unknown, in_state(JobState::DeadLettered)).await;
    assert_eq!(
        (unknown.attempt, unknown.last_error.as_deref()),
        (1, Some("no handler for job nobody-handles-this"))
    );
    let malformed = wait_for(&*queue, malformed, in_state(JobState::DeadLettered)).await;
    let error = malformed.last_error.unwrap();
    assert!(
        error.contains("wrong shape") && !error.contains("secret-ish"),
        "{error}"
    );
}

#[tokio::test]
async fn shutdown_finishes_short_jobs_and_releases_those_past_the_deadline() {
    let (queue, clock) = fixtures();
    let (stop, pool) = spawn_pool(
        queue.clone(),
        clock.clone(),
        Registry::new().register::<Sleep>(()),
        Duration::from_millis(200),
    );
    let client = JobClient::new(queue.clone(), clock.clone());
    let short = client.job(&Sleep { ms: 50 }).send().await.unwrap().id;
    let long = client.job(&Sleep { ms: 60_000 }).send().await.unwrap().id;
    wait_for(&*queue, long, in_state(JobState::Active)).await;
    wait_for(&*queue, short, |r| r.state != JobState::Pending).await;
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), pool)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        queue.get(short).await.unwrap().unwrap().state,
        JobState::Completed
    );
    let released = queue.get(long).await.unwrap().unwrap();
    assert_eq!(
        (released.state, released.attempt),
        (JobState::Pending, 0),
        "given back untouched"
    );
}

#[derive(Serialize, Deserialize)]
struct Counted;

impl Job for Counted {
    const NAME: JobName = JobName::from_static("counted");
    type Deps = Arc<AtomicU32>;

    async fn execute(self, runs: &Arc<AtomicU32>, _ctx: JobContext) -> Result<(), JobError> {
        runs.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test]
async fn a_busy_pool_runs_each_job_once_and_acknowledges_every_success() {
    let (queue, clock) = fixtures();
    let runs = Arc::new(AtomicU32::new(0));
    let client = JobClient::new(queue.clone(), clock.clone());
    let specs = (0..40)
        .map(|_| client.job(&Counted).build().unwrap())
        .collect();
    let ids: Vec<_> = client
        .enqueue_many(specs)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    let (stop, pool) = spawn_pool(
        queue.clone(),
        clock.clone(),
        Registry::new().register::<Counted>(runs.clone()),
        Duration::from_secs(1),
    );
    for id in &ids {
        let done = wait_for(&*queue, *id, in_state(JobState::Completed)).await;
        assert_eq!(done.attempt, 1, "delivered once");
    }
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), pool)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 40);
    let stats = queue.stats().await.unwrap();
    assert_eq!((stats[0].completed, stats[0].active), (40, 0));
}

#[test]
fn a_queues_slots_are_split_between_its_dispatchers_without_loss() {
    use crate::worker::lanes;
    assert_eq!(lanes(32), [16, 16]);
    assert_eq!(lanes(5), [3, 2]);
    // One slot cannot be split: one dispatcher, never an empty one.
    assert_eq!(lanes(1), [1]);
    for slots in 0..64 {
        assert_eq!(lanes(slots).iter().sum::<usize>(), slots);
    }
}
