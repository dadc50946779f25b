//! Starting the servers under test: Arcana on a chosen backend set, and the bare baselines.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

use crate::http_load;

pub const JWT_SECRET: &str = "bench-secret-bench-secret-bench-secret-01";
pub const ISSUER: &str = "arcana";
pub const AUDIENCE: &str = "arcana-api";
pub const USER_PASSWORD: &str = "a-long-enough-password";

/// Which storage and shared state Arcana runs on.
#[derive(Debug, Clone)]
pub enum Backends {
    /// The embedded defaults: SQLite in a fresh folder, in-process cache.
    Embedded,
    /// PostgreSQL with Redis: tiered cache, Redis sessions and login counters.
    PostgresRedis {
        postgres: String,
        redis: String,
        /// The run's own key prefix, deleted afterwards.
        prefix: String,
    },
    /// SQLite with the job queue in Redis and the monolith's worker pool serving it.
    JobsRedis { redis: String, prefix: String },
}

impl Backends {
    pub fn label(&self) -> &'static str {
        match self {
            Self::Embedded => "sqlite + memory cache",
            Self::PostgresRedis { .. } => "postgres + redis (tiered)",
            Self::JobsRedis { .. } => "sqlite + redis job queue",
        }
    }

    pub fn env(&self, scratch: &Path) -> Vec<(String, String)> {
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        match self {
            Self::Embedded => vec![pair(
                "ARCANA_DATABASE__URL",
                &format!("sqlite://{}/bench.db", scratch.display()),
            )],
            Self::PostgresRedis {
                postgres,
                redis,
                prefix,
            } => vec![
                pair("ARCANA_DATABASE__URL", postgres),
                pair("ARCANA_DATABASE__MIGRATE_ON_START", "true"),
                pair("ARCANA_REDIS__URL", redis),
                pair("ARCANA_REDIS__KEY_PREFIX", prefix),
                pair("ARCANA_CACHE__BACKEND", "tiered"),
                pair("ARCANA_SESSIONS__BACKEND", "redis"),
                pair("ARCANA_RATE_LIMIT__STORE", "redis"),
            ],
            Self::JobsRedis { redis, prefix } => vec![
                pair(
                    "ARCANA_DATABASE__URL",
                    &format!("sqlite://{}/bench.db", scratch.display()),
                ),
                pair("ARCANA_REDIS__URL", redis),
                pair("ARCANA_REDIS__KEY_PREFIX", prefix),
                pair("ARCANA_JOBS__BACKEND", "redis"),
                // As docs/JOBS.md measures: 32 slots, a short idle poll.
                pair("ARCANA_JOBS__WORKER__QUEUES__DEFAULT", "32"),
                pair("ARCANA_JOBS__WORKER__POLL_INTERVAL_MS", "10"),
            ],
        }
    }
}

/// What every Arcana process of the harness is started with (besides its backends).
pub fn common_env() -> Vec<(String, String)> {
    let mut env = vec![("PATH".to_owned(), std::env::var("PATH").unwrap_or_default())];
    env.extend(
        [
            ("ARCANA_CONFIG_DIR", "/nonexistent/arcana-bench-config"),
            ("ARCANA_SERVER__REST__PORT", "0"),
            ("ARCANA_SERVER__GRPC__PORT", "0"),
            ("ARCANA_SECURITY__JWT_SECRET", JWT_SECRET),
            ("ARCANA_OBSERVABILITY__LOG_LEVEL", "warn"),
            // The load generator is one client address sending far past any per-client limit:
            // the limits stay on (their cost is measured) but so high that none refuses.
            ("ARCANA_RATE_LIMIT__PER_IP__PER_SECOND", "100000000"),
            ("ARCANA_RATE_LIMIT__PER_IP__BURST", "100000000"),
            ("ARCANA_RATE_LIMIT__PER_USER__PER_SECOND", "100000000"),
            ("ARCANA_RATE_LIMIT__PER_USER__BURST", "100000000"),
            ("ARCANA_RATE_LIMIT__AUTH__PER_SECOND", "100000000"),
            ("ARCANA_RATE_LIMIT__AUTH__BURST", "100000000"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    env
}

/// Deletes every Redis key under `prefix` (SCAN, not KEYS: the server is shared).
pub fn delete_redis_keys(url: &str, prefix: &str) -> anyhow::Result<()> {
    let mut conn = redis::Client::open(url)?.get_connection()?;
    let keys: Vec<String> = redis::Commands::scan_match(&mut conn, format!("{prefix}*"))?
        .filter_map(Result::ok)
        .collect();
    for chunk in keys.chunks(500) {
        redis::cmd("DEL").arg(chunk).query::<()>(&mut conn)?;
    }
    Ok(())
}

/// A running server process; killed when dropped.
pub struct Server {
    /// Held so that the process lives exactly as long as this value (killed on drop).
    _child: Child,
    pub pid: u32,
    pub rest: Option<String>,
    pub grpc: Option<String>,
    /// From spawning the process to its first 200 on `/health`.
    pub start_to_ready: Option<Duration>,
}

/// Starts Arcana with the harness's settings on `backends`, and waits until it answers.
pub async fn arcana(binary: &Path, backends: &Backends, scratch: &Path) -> anyhow::Result<Server> {
    arcana_with(binary, backends, scratch, &[]).await
}

/// [`arcana`] with `extra` settings on top.
pub async fn arcana_with(
    binary: &Path,
    backends: &Backends,
    scratch: &Path,
    extra: &[(String, String)],
) -> anyhow::Result<Server> {
    let mut command = Command::new(binary);
    command
        .arg("serve")
        .env_clear()
        .envs(common_env())
        .envs(backends.env(scratch))
        .envs(extra.iter().cloned())
        .current_dir(scratch);
    let started = Instant::now();
    let mut server = spawn(&mut command)
        .await
        .with_context(|| format!("starting {}", binary.display()))?;
    let rest = server
        .rest
        .clone()
        .context("Arcana printed no REST address")?;
    let addr = http_load::address(&rest)?;
    let deadline = started + Duration::from_secs(30);
    while !http_load::health_ok(addr).await {
        anyhow::ensure!(Instant::now() < deadline, "Arcana not ready within 30 s");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    server.start_to_ready = Some(started.elapsed());
    Ok(server)
}

/// Starts a layered deployment of `binary` (`arcana dev layered --transport …`) on `backends`,
/// and waits until its controller answers. `pid` is the supervising process: its children are
/// the tiers.
pub async fn layered(
    binary: &Path,
    transport: &str,
    backends: &Backends,
    scratch: &Path,
) -> anyhow::Result<Server> {
    let mut command = Command::new(binary);
    command
        .args(["dev", "layered", "--transport", transport])
        .env_clear()
        .envs(common_env())
        .envs(backends.env(scratch))
        .current_dir(scratch);
    let server = spawn(&mut command)
        .await
        .with_context(|| format!("starting a {transport} layered deployment"))?;
    let rest = server.rest.clone().context("no controller REST address")?;
    let addr = http_load::address(&rest)?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !http_load::health_ok(addr).await {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the controller is not ready within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(server)
}

/// Starts this program as a bare baseline (`bare-http` or `bare-grpc`).
pub async fn bare(kind: &str) -> anyhow::Result<Server> {
    let myself = std::env::current_exe()?;
    spawn(Command::new(myself).arg(kind)).await
}

/// Spawns `command` and reads the addresses it prints (gRPC first when it serves both).
pub(crate) async fn spawn(command: &mut Command) -> anyhow::Result<Server> {
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let mut child = command.spawn()?;
    let pid = child.id().context("a process id")?;
    let mut lines = BufReader::new(child.stdout.take().context("piped stdout")?).lines();
    let (mut rest, mut grpc) = (None, None);
    while let Some(line) = lines.next_line().await? {
        // A layered deployment announces its controller's public listeners.
        let line = line.replacen("arcana: controller ", "arcana: ", 1);
        if let Some(url) = line.strip_prefix("arcana: gRPC listening on ") {
            grpc = Some(url.to_owned());
        }
        if let Some(url) = line.strip_prefix("arcana: REST listening on ") {
            rest = Some(url.to_owned());
        }
        // Arcana prints gRPC before REST; a bare server prints one line.
        if rest.is_some() || (grpc.is_some() && !is_arcana(command)) {
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return Ok(Server {
                _child: child,
                pid,
                rest,
                grpc,
                start_to_ready: None,
            });
        }
    }
    anyhow::bail!("the server exited before listening")
}

/// Arcana run directly or under a tool such as valgrind: an argument is its command.
fn is_arcana(command: &Command) -> bool {
    command
        .as_std()
        .get_args()
        .any(|arg| arg == "serve" || arg == "dev")
}
