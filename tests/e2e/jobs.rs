//! The job queue with real processes on a real Redis: `arcana-worker` processes killed with
//! SIGKILL mid-job lose nothing, two scheduler processes fire each cron time once (also when
//! the leader is killed), and retention keeps Redis bounded. Jobs are enqueued through the
//! `arcana jobs enqueue` CLI and read back through the Redis adapter.

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::Duration;

use arcana_adapter_redis::{RedisConnection, RedisJobQueue, RedisSettings};
use arcana_domain::jobs::JobState;
use arcana_ports::jobs::{JobFilter, JobQueue, QueueStats, Retention};
use arcana_tests::redis::TestRedis;
use chrono::{DateTime, Utc};
use tokio::process::{Child, Command};

const ARCANA: &str = env!("CARGO_BIN_EXE_arcana");
const WORKER: &str = env!("CARGO_BIN_EXE_arcana-worker");

/// Configuration shared by every process of one test: its own Redis namespace, short leases so
/// that redelivery after a kill is quick, no built-in purge schedule.
fn env(redis: &TestRedis, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("ARCANA_CONFIG_DIR", "/nonexistent/arcana-test-config"),
        ("ARCANA_DATABASE__URL", "memory:"),
        (
            "ARCANA_SECURITY__JWT_SECRET",
            "test-secret-test-secret-test-secret-0123",
        ),
        ("ARCANA_OBSERVABILITY__LOG_LEVEL", "warn"),
        ("ARCANA_REDIS__URL", redis.url.as_str()),
        ("ARCANA_REDIS__KEY_PREFIX", redis.prefix.as_str()),
        ("ARCANA_JOBS__BACKEND", "redis"),
        ("ARCANA_JOBS__WORKER__LEASE_MS", "1000"),
        ("ARCANA_JOBS__WORKER__HEARTBEAT_MS", "250"),
        ("ARCANA_JOBS__WORKER__POLL_INTERVAL_MS", "20"),
        ("ARCANA_JOBS__WORKER__SWEEP_INTERVAL_MS", "100"),
        ("ARCANA_JOBS__WORKER__SHUTDOWN_DEADLINE_SECS", "1"),
        ("ARCANA_JOBS__SCHEDULER__PURGE_SESSIONS_CRON", ""),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    env.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    env
}

fn spawn_worker(env: &[(String, String)]) -> Child {
    Command::new(WORKER)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("arcana-worker starts")
}

/// SIGKILL: no shutdown code runs, leases are simply abandoned.
async fn kill(mut worker: Child) {
    worker.start_kill().expect("SIGKILL delivered");
    worker.wait().await.expect("the killed worker is reaped");
}

async fn cli_enqueue(env: &[(String, String)], args: &[&str]) {
    let out = Command::new(ARCANA)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .args(["jobs", "enqueue"])
        .args(args)
        .output()
        .await
        .expect("arcana runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn queue(redis: &TestRedis) -> RedisJobQueue {
    let connection = RedisConnection::connect_lazy(&RedisSettings {
        url: redis.url.clone(),
        key_prefix: redis.prefix.clone(),
        timeout: Duration::from_secs(2),
    })
    .expect("a Redis URL");
    RedisJobQueue::new(connection, Retention::default())
}

async fn stats_of(queue: &RedisJobQueue, name: &str) -> QueueStats {
    let stats = queue.stats().await.unwrap();
    stats
        .into_iter()
        .find(|s| s.queue == name)
        .unwrap_or_default()
}

/// Polls `check` until it holds, failing with `what` after `bound`.
async fn within<F, Fut>(bound: Duration, what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = tokio::time::Instant::now();
    while !check().await {
        assert!(start.elapsed() < bound, "{what}: not within {bound:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_of_workers_killed_mid_flight_are_redelivered_and_none_is_lost() {
    let Some(redis) = TestRedis::create() else {
        return;
    };
    let env = env(&redis, &[("ARCANA_JOBS__WORKER__QUEUES", "{default=8}")]);
    let total: u64 = 3000;
    cli_enqueue(
        &env,
        &[
            "sleep",
            "--payload",
            r#"{"ms":2}"#,
            "--count",
            &total.to_string(),
        ],
    )
    .await;
    let queue = queue(&redis);
    let mut workers = vec![spawn_worker(&env), spawn_worker(&env)];
    let mut redelivered = 0;
    for round in 0..4 {
        // Kill only while jobs are really in flight, so that each kill abandons leases.
        within(Duration::from_secs(20), "jobs in flight", || async {
            stats_of(&queue, "default").await.active > 0
        })
        .await;
        let stats = stats_of(&queue, "default").await;
        if stats.pending == 0 {
            break;
        }
        kill(workers.remove(round % workers.len())).await;
        redelivered += 1;
        workers.push(spawn_worker(&env));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(redelivered > 0, "at least one worker was killed mid-flight");
    within(Duration::from_mins(1), "every job completed", || async {
        let s = stats_of(&queue, "default").await;
        (
            s.completed,
            s.pending,
            s.active,
            s.scheduled,
            s.dead_lettered,
        ) == (total, 0, 0, 0, 0)
    })
    .await;
    let retried = queue
        .search(&JobFilter {
            state: Some(JobState::Completed),
            limit: 10_000,
            ..JobFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|job| job.attempt > 1)
        .count();
    assert!(
        retried > 0,
        "some jobs were delivered again after their worker died"
    );
    for worker in workers {
        kill(worker).await;
    }
}

/// The fire times of schedule `tick` found among the queue's jobs, and how many jobs there were.
async fn fire_times(queue: &RedisJobQueue) -> (BTreeSet<DateTime<Utc>>, usize) {
    let jobs = queue
        .search(&JobFilter {
            queue: Some("cron".into()),
            limit: 10_000,
            ..JobFilter::default()
        })
        .await
        .unwrap();
    let times: BTreeSet<DateTime<Utc>> = jobs
        .iter()
        .map(|job| {
            let id = job
                .spec
                .correlation_id()
                .expect("a cron job's correlation id");
            let at = id
                .strip_prefix("cron:tick:")
                .expect("named after its schedule");
            DateTime::parse_from_rfc3339(at)
                .unwrap()
                .with_timezone(&Utc)
        })
        .collect();
    (times, jobs.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_schedulers_fire_each_time_once_and_a_killed_leader_hands_over_without_gaps() {
    let Some(redis) = TestRedis::create() else {
        return;
    };
    let env = env(
        &redis,
        &[
            (
                "ARCANA_JOBS__SCHEDULES",
                r#"[{name="tick",cron="* * * * * *",job="noop",queue="cron"}]"#,
            ),
            ("ARCANA_JOBS__WORKER__QUEUES", "{cron=2}"),
            ("ARCANA_JOBS__SCHEDULER__LEASE_MS", "1500"),
            ("ARCANA_JOBS__SCHEDULER__TICK_MS", "200"),
        ],
    );
    let queue = queue(&redis);
    let first = spawn_worker(&env);
    // The first process leads: wait for its first fires before the second joins.
    within(
        Duration::from_secs(20),
        "the first process fires",
        || async { fire_times(&queue).await.1 >= 2 },
    )
    .await;
    let second = spawn_worker(&env);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before_kill = fire_times(&queue).await.0.len();
    kill(first).await;
    // The lease (1.5 s) lapses, the second process takes over and catches up the gap.
    within(Duration::from_secs(20), "the survivor fires", || async {
        fire_times(&queue).await.0.len() >= before_kill + 4
    })
    .await;
    kill(second).await;

    let (times, jobs) = fire_times(&queue).await;
    assert_eq!(jobs, times.len(), "no fire time was enqueued twice");
    let first_time = *times.first().unwrap();
    let last_time = *times.last().unwrap();
    let expected = usize::try_from((last_time - first_time).num_seconds()).unwrap() + 1;
    assert_eq!(
        times.len(),
        expected,
        "no fire time between the first and the last was missed"
    );
}

async fn count_keys(redis: &TestRedis, pattern: &str) -> usize {
    let client = redis::Client::open(redis.url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut keys: Vec<String> = Vec::new();
    let mut cursor = 0_u64;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{}{pattern}", redis.prefix))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await
            .unwrap();
        keys.extend(batch);
        if next == 0 {
            return keys.len();
        }
        cursor = next;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completed_jobs_expire_so_redis_stays_bounded_under_sustained_load() {
    let Some(redis) = TestRedis::create() else {
        return;
    };
    let env = env(
        &redis,
        &[
            ("ARCANA_JOBS__RETENTION__COMPLETED_SECS", "1"),
            ("ARCANA_JOBS__WORKER__QUEUES", "{default=8}"),
        ],
    );
    let queue = queue(&redis);
    let worker = spawn_worker(&env);
    let wave: u64 = 1000;
    for _ in 0..3 {
        cli_enqueue(&env, &["noop", "--count", &wave.to_string()]).await;
        within(Duration::from_secs(30), "the wave completes", || async {
            let s = stats_of(&queue, "default").await;
            s.pending + s.active == 0
        })
        .await;
        // Earlier waves are gone by now: what Redis holds is one wave at most, not the total.
        within(Duration::from_secs(10), "earlier waves expire", || async {
            count_keys(&redis, "jobs:job:*").await <= usize::try_from(wave).unwrap()
        })
        .await;
    }
    within(
        Duration::from_secs(10),
        "finished records expire",
        || async { count_keys(&redis, "jobs:job:*").await == 0 },
    )
    .await;
    kill(worker).await;
}
