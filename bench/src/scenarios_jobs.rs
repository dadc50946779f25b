//! Jobs throughput: no-op jobs end to end (enqueue → complete) through Redis with the monolith's
//! worker pool, against `redis-benchmark -t set -c 50` run on the same Redis in the same run.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::process::Command;

use crate::http_load;
use crate::report::Row;
use crate::servers::{self, Backends};

const LABEL: &str = "redis queue, in-process workers";

/// Starts a monolith on SQLite with the queue in Redis, enqueues `jobs` no-op jobs with the CLI
/// while its workers run, and times until every one has completed (read from `/metrics`).
pub async fn measure(
    binary: &Path,
    redis_url: &str,
    scratch: &Path,
    jobs: u64,
) -> anyhow::Result<Row> {
    let prefix = format!("arcana-bench-{}:", uuid::Uuid::now_v7().simple());
    let backend = Backends::JobsRedis {
        redis: redis_url.to_owned(),
        prefix: prefix.clone(),
    };
    let outcome = run(binary, &backend, scratch, jobs).await;
    servers::delete_redis_keys(redis_url, &prefix)?;
    let (elapsed, peak_rss) = outcome?;
    let set_rate = redis_benchmark(redis_url).await?;
    Ok(Row::jobs(
        LABEL,
        jobs,
        elapsed.as_secs_f64(),
        set_rate,
        peak_rss,
    ))
}

async fn run(
    binary: &Path,
    backend: &Backends,
    scratch: &Path,
    jobs: u64,
) -> anyhow::Result<(Duration, Option<f64>)> {
    let server = servers::arcana(binary, backend, scratch).await?;
    let rest = http_load::address(server.rest.as_deref().context("REST address")?)?;
    let started = Instant::now();
    let status = Command::new(binary)
        .args(["jobs", "enqueue", "noop", "--count", &jobs.to_string()])
        .env_clear()
        .envs(servers::common_env())
        .envs(backend.env(scratch))
        .current_dir(scratch)
        .stdout(std::process::Stdio::null())
        .status()
        .await?;
    anyhow::ensure!(status.success(), "arcana jobs enqueue failed");
    let deadline = started + Duration::from_mins(5);
    while completed(rest).await < jobs {
        anyhow::ensure!(Instant::now() < deadline, "jobs not completed within 300 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    let peak_rss = crate::proc_stats::rss_mib(server.pid).map(|(_, peak)| peak);
    Ok((elapsed, peak_rss))
}

/// `arcana_jobs_completed_total` summed over its labels.
async fn completed(rest: std::net::SocketAddr) -> u64 {
    let Ok((200, body)) = http_load::send(rest, http_load::get("/metrics", None)).await else {
        return 0;
    };
    let text = String::from_utf8_lossy(&body);
    let total: f64 = text
        .lines()
        .filter(|line| line.starts_with("arcana_jobs_completed_total"))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a non-negative counter of whole jobs"
    )]
    let total = total as u64;
    total
}

/// SET requests per second from `redis-benchmark -t set -c 50` against the same Redis.
async fn redis_benchmark(redis_url: &str) -> anyhow::Result<f64> {
    let authority = redis_url
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap_or("127.0.0.1:6379");
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = authority.split_once(':').unwrap_or((authority, "6379"));
    let output = Command::new("redis-benchmark")
        .args([
            "-h", host, "-p", port, "-t", "set", "-c", "50", "-n", "200000", "-q",
        ])
        .output()
        .await
        .context("running redis-benchmark (Debian package redis-tools)")?;
    let text = String::from_utf8_lossy(&output.stdout);
    // Progress lines ("SET: rps=…", separated by carriage returns) come first; the last
    // "SET: 67750.00 requests per second, …" is the result.
    text.rsplit("SET:")
        .next()
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|rate| rate.parse().ok())
        .context("redis-benchmark printed no SET rate")
}
