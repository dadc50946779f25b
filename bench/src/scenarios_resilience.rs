//! What an open circuit breaker is worth: a layered-gRPC deployment whose service tier stops
//! answering (SIGSTOP: its connections stay open, its calls hang, as a wedged process or a
//! black-holed network would). The controller's breaker opens after its first calls time out;
//! from then on `/api/v1/auth/me` must fail at once with 503 instead of waiting out the timeout.
//! Reported: those 503s' rate and latency, against the same deployment's healthy `/me`, and how
//! long after the tier resumes the breaker lets traffic through again (no restart).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::http_load::{self, MakeRequest};
use crate::proc_stats;
use crate::report::Row;
use crate::scenarios::{HTTP_CONNECTIONS, Plan, prepare, request};
use crate::servers::{self, Backends};

/// Calls sent into the frozen tier to open the breaker: more than `breaker_failures` (5).
const OPENING_CALLS: usize = 8;
/// Bound on each wait of the scenario (the breaker opening, the tier coming back).
const PATIENCE: Duration = Duration::from_secs(90);

pub async fn measure(plan: &Plan, binary: &Path, scratch: &Path) -> anyhow::Result<Row> {
    let dir = scratch.join("breaker");
    std::fs::create_dir_all(&dir)?;
    let layered = servers::layered(binary, "grpc", &Backends::Embedded, &dir).await?;
    let rest = http_load::address(layered.rest.as_deref().context("controller REST")?)?;
    let account = prepare(rest).await?;
    let me = request("/api/v1/auth/me", Some(account.token));
    let healthy = http_load::run(
        rest,
        me.clone(),
        HTTP_CONNECTIONS,
        plan.warm_up,
        plan.measure,
    )
    .await?;

    let service = proc_stats::child_named(layered.pid, "arcana-service")
        .context("the service tier's process")?;
    signal(service, "STOP")?;
    let frozen = Frozen(service);
    let opened_in = open_the_breaker(rest, &me).await?;
    let cpu_before = proc_stats::tree_cpu_seconds(layered.pid).unwrap_or_default();
    let refused = http_load::run_expecting(
        rest,
        me.clone(),
        HTTP_CONNECTIONS,
        (plan.warm_up, plan.measure),
        |status| status == 503,
    )
    .await?;
    let cpu = proc_stats::tree_cpu_seconds(layered.pid).unwrap_or_default() - cpu_before;
    drop(frozen);
    let recovered_in = recovery(rest, &me).await?;

    let mut row = Row::versus(refused, &healthy, (cpu, None), layered.pid);
    row.baseline = "healthy /me";
    row.note = format!(
        "service tier frozen (SIGSTOP): the controller's breaker opened {:.1} s after the \
         first hung call; answers 503 + Retry-After while open; traffic passed again {:.1} s \
         after the tier resumed, no restart",
        opened_in.as_secs_f64(),
        recovered_in.as_secs_f64()
    );
    Ok(row.named(
        "GET /api/v1/auth/me, breaker open",
        "layered-grpc (SQLite)",
        "p99 <= 5 ms",
    ))
}

/// Resumes the frozen tier however the scenario ends, so that it can be killed and reaped.
struct Frozen(u32);

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = signal(self.0, "CONT");
    }
}

fn signal(pid: u32, name: &str) -> anyhow::Result<()> {
    let status = std::process::Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .context("running kill")?;
    anyhow::ensure!(status.success(), "kill -{name} {pid} failed");
    Ok(())
}

/// Sends a few calls into the frozen tier (each waits out the controller's call timeout) and
/// waits until the breaker reports itself open; returns how long that took.
async fn open_the_breaker(
    rest: std::net::SocketAddr,
    me: &MakeRequest,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..OPENING_CALLS {
        let me = me.clone();
        calls.spawn(async move { http_load::send(rest, me()).await });
    }
    while started.elapsed() < PATIENCE {
        if breaker_open(rest).await {
            calls.abort_all();
            return Ok(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the controller's breaker did not open within {PATIENCE:?}")
}

async fn breaker_open(rest: std::net::SocketAddr) -> bool {
    let Ok((200, body)) = http_load::send(rest, http_load::get("/metrics", None)).await else {
        return false;
    };
    String::from_utf8_lossy(&body)
        .lines()
        .any(|line| line == "arcana_circuit_breaker_state{dependency=\"service\"} 1")
}

/// How long after the tier resumed `/me` answers 200 again.
async fn recovery(rest: std::net::SocketAddr, me: &MakeRequest) -> anyhow::Result<Duration> {
    let resumed = Instant::now();
    while resumed.elapsed() < PATIENCE {
        if matches!(http_load::send(rest, me()).await, Ok((200, _))) {
            return Ok(resumed.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the deployment did not recover within {PATIENCE:?} of the tier resuming")
}
