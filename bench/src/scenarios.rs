//! The scenarios, each measured against its baseline in the same run, alternating A-B-B-A so
//! that drift (CPU frequency, the other process warming up) cancels out.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::http_load::{self, MakeRequest, Sample};
use crate::report::{self, Row};
use crate::servers::{self, Backends, Server, USER_PASSWORD};
use crate::{RunArgs, instructions, proc_stats};

/// HTTP connections kept busy by the load client (as `wrk -c32`).
pub(crate) const HTTP_CONNECTIONS: usize = 32;
const LOGIN_CONNECTIONS: usize = 16;

pub struct Plan {
    pub warm_up: Duration,
    pub measure: Duration,
    /// Starts of the server per backend set, for the median start-up time.
    pub starts: usize,
}

pub async fn run(args: &RunArgs) -> anyhow::Result<()> {
    let plan = Plan {
        warm_up: if args.smoke {
            Duration::from_millis(200)
        } else {
            Duration::from_secs(1)
        },
        measure: args.measure(),
        starts: if args.smoke { 3 } else { 9 },
    };
    let binary = args.arcana()?;
    let bare_http = servers::bare("bare-http").await?;
    let bare_grpc = servers::bare("bare-grpc").await?;
    let mut backends = vec![Backends::Embedded];
    let database = match &args.postgres_url {
        Some(url) => Some(crate::database::Throwaway::create(url).await?),
        None => None,
    };
    if let (Some(database), Some(redis)) = (&database, &args.redis_url) {
        backends.push(Backends::PostgresRedis {
            postgres: database.url.clone(),
            redis: redis.clone(),
            prefix: format!("arcana-bench-{}:", uuid::Uuid::now_v7().simple()),
        });
    }
    let mut rows = Vec::new();
    for backend in &backends {
        match measure_server(&plan, &binary, backend, &bare_http, &bare_grpc).await {
            Ok(measured) => rows.extend(measured),
            Err(err) => {
                if let Some(database) = database {
                    database.drop().await?;
                }
                return Err(err);
            }
        }
    }
    count_instructions(args, &binary, &mut rows).await?;
    if let Some(redis) = &args.redis_url {
        let scratch = scratch_dir()?;
        let jobs = if args.smoke { 2_000 } else { 50_000 };
        let row = crate::scenarios_jobs::measure(&binary, redis, &scratch, jobs).await;
        let _ = std::fs::remove_dir_all(&scratch);
        rows.push(row?);
    }
    if let Some(database) = database {
        // The server holding connections is gone; give it a moment to close them.
        tokio::time::sleep(Duration::from_millis(200)).await;
        database.drop().await?;
    }
    report::write(&args.out, &rows, args.smoke)?;
    if args.smoke {
        let empty: Vec<_> = rows.iter().filter(|row| !row.has_figures()).collect();
        anyhow::ensure!(empty.is_empty(), "scenarios without figures: {empty:?}");
    }
    Ok(())
}

/// One Arcana on `backend`, measured (the embedded one also in the scenarios run once), then
/// stopped and its files and keys removed.
async fn measure_server(
    plan: &Plan,
    binary: &std::path::Path,
    backend: &Backends,
    bare_http: &Server,
    bare_grpc: &Server,
) -> anyhow::Result<Vec<Row>> {
    let scratch = scratch_dir()?;
    let mut arcana = servers::arcana(binary, backend, &scratch).await?;
    arcana.start_to_ready = median_start(plan, binary, backend, arcana.start_to_ready).await?;
    let mut outcome = measure_backend(plan, backend, &arcana, bare_http, bare_grpc).await;
    if matches!(backend, Backends::Embedded)
        && let Ok(rows) = &mut outcome
    {
        match embedded_only(plan, binary, &arcana, &scratch).await {
            Ok(more) => rows.extend(more),
            Err(err) => outcome = Err(err),
        }
    }
    drop(arcana);
    let _ = std::fs::remove_dir_all(&scratch);
    if let Backends::PostgresRedis { redis, prefix, .. } = backend {
        servers::delete_redis_keys(redis, prefix)?;
    }
    outcome
}

/// The median time from spawning to the first 200 on `/health` over `first` and further
/// starts, each on its own new files (a fresh SQLite database; the PostgreSQL one is migrated
/// already): one start alone varies by a factor of three on a VM's disk.
async fn median_start(
    plan: &Plan,
    binary: &std::path::Path,
    backend: &Backends,
    first: Option<Duration>,
) -> anyhow::Result<Option<Duration>> {
    let mut starts: Vec<Duration> = first.into_iter().collect();
    for _ in 1..plan.starts {
        let scratch = scratch_dir()?;
        let server = servers::arcana(binary, backend, &scratch).await?;
        starts.extend(server.start_to_ready);
        drop(server);
        let _ = std::fs::remove_dir_all(&scratch);
    }
    starts.sort_unstable();
    Ok(starts.get(starts.len() / 2).copied())
}

/// Instruction counts beside the embedded rows, when valgrind is installed.
async fn count_instructions(
    args: &RunArgs,
    binary: &std::path::Path,
    rows: &mut [Row],
) -> anyhow::Result<()> {
    if !instructions::available() {
        eprintln!("valgrind not found: no instruction counts (apt-get install valgrind)");
        return Ok(());
    }
    let scratch = scratch_dir()?;
    let requests = if args.smoke { 200 } else { 2_000 };
    let counted = instructions::measure(binary, &scratch, requests).await;
    let _ = std::fs::remove_dir_all(&scratch);
    attach(rows, &counted?);
    Ok(())
}

/// Puts each count beside the embedded monolith's throughput row of the same scenario.
fn attach(rows: &mut [Row], counted: &[instructions::Counted]) {
    let embedded = Backends::Embedded.label();
    for count in counted {
        if let Some(row) = rows
            .iter_mut()
            .find(|row| row.scenario == count.scenario && row.backends == embedded)
        {
            row.instructions = Some(count.arcana);
            row.baseline_instructions = Some(count.baseline);
        }
    }
}

/// A fresh directory for one server's files.
fn scratch_dir() -> anyhow::Result<std::path::PathBuf> {
    let scratch =
        std::env::temp_dir().join(format!("arcana-bench-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&scratch)?;
    Ok(scratch)
}

/// The scenarios measured once, against the embedded monolith: the layered modes, plugins,
/// the costs of individual features, and the open breaker.
async fn embedded_only(
    plan: &Plan,
    binary: &std::path::Path,
    arcana: &Server,
    scratch: &std::path::Path,
) -> anyhow::Result<Vec<Row>> {
    let mut rows = crate::scenarios_layered::measure(plan, binary, arcana, scratch).await?;
    rows.extend(crate::scenarios_plugins::measure(plan, binary, scratch).await?);
    rows.extend(crate::scenarios_costs::measure(plan, binary, scratch).await?);
    rows.push(crate::scenarios_resilience::measure(plan, binary, scratch).await?);
    Ok(rows)
}

/// Everything measured on one backend set.
async fn measure_backend(
    plan: &Plan,
    backend: &Backends,
    arcana: &Server,
    bare_http: &Server,
    bare_grpc: &Server,
) -> anyhow::Result<Vec<Row>> {
    let label = backend.label();
    let mut rows = vec![idle_row(label, arcana).await];
    let rest = http_load::address(arcana.rest.as_deref().context("REST address")?)?;
    let bare = http_load::address(bare_http.rest.as_deref().context("bare address")?)?;
    let account = prepare(rest).await?;
    let token = account.token.clone();
    let user_path = format!("/api/v1/users/{}", account.id);
    let http = [
        (
            "GET /health",
            "/health",
            "/health",
            ">= 0.9x bare axum; instr <= 2x",
            None,
        ),
        (
            "GET /api/v1/auth/me",
            "/api/v1/auth/me",
            "/me",
            ">= 0.8x; instr <= 1.3x",
            Some(token.clone()),
        ),
        (
            "GET /api/v1/users/{id}",
            user_path.as_str(),
            "/me",
            ">= 0.75x",
            Some(token.clone()),
        ),
    ];
    for (name, path, bare_path, target, token) in http {
        let ours = request(path, token.clone());
        let theirs = request(bare_path, token);
        let row = versus_http(
            plan,
            (rest, ours, arcana.pid),
            (bare, theirs, bare_http.pid),
        )
        .await?;
        rows.push(row.named(name, label, target));
    }
    rows.extend(crate::scenarios_grpc::measure(plan, label, arcana, bare_grpc, &token).await?);
    rows.push(login(plan, label, rest, arcana.pid, &account).await?);
    Ok(rows)
}

pub(crate) fn request(path: &str, token: Option<String>) -> MakeRequest {
    let path = path.to_owned();
    Arc::new(move || http_load::get(&path, token.as_deref()))
}

async fn idle_row(label: &'static str, arcana: &Server) -> Row {
    // Let start-up allocations settle before reading the idle footprint.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = proc_stats::rss_mib(arcana.pid).map(|(now, _)| now);
    let anon = proc_stats::anon_mib(arcana.pid);
    Row::idle(label, idle, anon, arcana.start_to_ready)
}

pub struct Account {
    pub username: String,
    pub token: String,
    pub id: String,
}

/// A fresh user (unique name, so a shared database can be reused) and its access token.
pub(crate) async fn prepare(rest: SocketAddr) -> anyhow::Result<Account> {
    let username = format!("bench{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    let body = json!({"username": username, "email": format!("{username}@example.com"), "password": USER_PASSWORD});
    let (status, bytes) =
        http_load::send(rest, http_load::post_json("/api/v1/auth/register", &body)).await?;
    anyhow::ensure!(status == 201, "registering the benchmark user: {status}");
    let body: Value = serde_json::from_slice(&bytes)?;
    let text = |v: &Value| v.as_str().map(str::to_owned).context("a string field");
    Ok(Account {
        token: text(&body["access_token"])?,
        id: text(&body["user"]["id"])?,
        username,
    })
}

/// One alternating measurement: Arcana, baseline, baseline, Arcana.
async fn versus_http(
    plan: &Plan,
    (ours, ours_request, pid): (SocketAddr, MakeRequest, u32),
    (theirs, theirs_request, bare_pid): (SocketAddr, MakeRequest, u32),
) -> anyhow::Result<Row> {
    let mut arcana = Sample::default();
    let mut baseline = Sample::default();
    let (mut cpu, mut baseline_cpu) = (0.0, 0.0);
    for round in 0..4 {
        if round == 0 || round == 3 {
            let before = proc_stats::cpu_seconds(pid).unwrap_or_default();
            let sample = http_load::run(
                ours,
                ours_request.clone(),
                HTTP_CONNECTIONS,
                plan.warm_up,
                plan.measure,
            )
            .await?;
            cpu += proc_stats::cpu_seconds(pid).unwrap_or_default() - before;
            arcana.merge(sample);
        } else {
            let before = proc_stats::cpu_seconds(bare_pid).unwrap_or_default();
            let sample = http_load::run(
                theirs,
                theirs_request.clone(),
                HTTP_CONNECTIONS,
                plan.warm_up,
                plan.measure,
            )
            .await?;
            baseline_cpu += proc_stats::cpu_seconds(bare_pid).unwrap_or_default() - before;
            baseline.merge(sample);
        }
    }
    Ok(Row::versus(
        arcana,
        &baseline,
        (cpu, Some(baseline_cpu)),
        pid,
    ))
}

/// Logins saturate the Argon2 pool while `/health` is probed every 10 ms on its own
/// connection; the baseline is the Argon2 limit, cores ÷ one login's time.
async fn login(
    plan: &Plan,
    label: &'static str,
    rest: SocketAddr,
    pid: u32,
    account: &Account,
) -> anyhow::Result<Row> {
    let body = json!({"username_or_email": account.username, "password": USER_PASSWORD});
    let make: MakeRequest = {
        let body = body.clone();
        Arc::new(move || http_load::post_json("/api/v1/auth/login", &body))
    };
    let mut single = Vec::new();
    for _ in 0..6 {
        let started = std::time::Instant::now();
        let (status, _) =
            http_load::send(rest, http_load::post_json("/api/v1/auth/login", &body)).await?;
        anyhow::ensure!(status == 200, "benchmark login refused: {status}");
        single.push(started.elapsed().as_secs_f64());
    }
    single.sort_by(f64::total_cmp);
    let one_login = single[single.len() / 2];
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    #[expect(clippy::cast_precision_loss, reason = "a core count")]
    let limit = cores as f64 / one_login;

    let probe = tokio::spawn(probe_health(rest, plan.warm_up + plan.measure));
    let before = proc_stats::cpu_seconds(pid).unwrap_or_default();
    let sample = http_load::run(rest, make, LOGIN_CONNECTIONS, plan.warm_up, plan.measure).await?;
    let cpu = proc_stats::cpu_seconds(pid).unwrap_or_default() - before;
    let mut health = probe.await??;
    let health_p99 = http_load::quantile_ms(&mut health, 0.99);
    Ok(Row::login(
        label, sample, limit, one_login, health_p99, cpu, pid,
    ))
}

async fn probe_health(rest: SocketAddr, length: Duration) -> anyhow::Result<Vec<u32>> {
    let until = std::time::Instant::now() + length;
    let mut latencies = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    while std::time::Instant::now() < until {
        tick.tick().await;
        let sent = std::time::Instant::now();
        if http_load::health_ok(rest).await {
            let micros = sent.elapsed().as_micros();
            latencies.push(u32::try_from(micros).unwrap_or(u32::MAX));
        }
    }
    Ok(latencies)
}
