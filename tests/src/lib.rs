//! Test support for the workspace-level suites: start a real Arcana binary on free ports with
//! its own configuration, and talk to it over HTTP or gRPC ([`api::Api`] speaks either).
//!
//! Each [`TestApp`] is its own process with its own in-memory state, so tests never share data
//! and can run in parallel. The process is killed when the value is dropped.

pub mod api;
pub mod chaos;
pub mod databases;
pub mod fixtures;
mod http;
pub mod layered;
pub mod otel;
pub mod plugins;
pub mod redis;

pub use http::{Tokens, problem};

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Client;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Credentials of the superadmin every test app is seeded with.
pub const ROOT_USERNAME: &str = "root";
pub const ROOT_PASSWORD: &str = "root-password-for-tests";

/// Where a test server keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    Memory,
    Sqlite,
    Postgres,
    Mysql,
}

/// A reqwest client builder usable in this workspace: reqwest is compiled with
/// `rustls-no-provider` (for the internal HTTP transport, which names its provider per
/// connection), so a client needs a process-wide default provider even for plain HTTP.
pub fn http_client() -> reqwest::ClientBuilder {
    // Err only when a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
}

/// How the server under test is deployed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deployment {
    /// `arcana serve`.
    Monolith,
    /// `arcana dev layered --transport grpc`: controller, service and repository processes over
    /// internal gRPC with mutual TLS; the test talks to the controller.
    LayeredGrpc,
    /// `arcana dev layered --transport http`: the same tiers over internal HTTP/JSON with TLS
    /// and a service credential per link.
    LayeredHttp,
}

/// What a scenario runs against: a storage backend (the repository tier's, when layered) in a
/// deployment mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub storage: Storage,
    pub deployment: Deployment,
}

impl Target {
    pub fn layered_grpc(storage: Storage) -> Self {
        Self {
            storage,
            deployment: Deployment::LayeredGrpc,
        }
    }

    pub fn layered_http(storage: Storage) -> Self {
        Self {
            storage,
            deployment: Deployment::LayeredHttp,
        }
    }
}

impl From<Storage> for Target {
    fn from(storage: Storage) -> Self {
        Self {
            storage,
            deployment: Deployment::Monolith,
        }
    }
}

impl Deployment {
    fn args(self) -> &'static [&'static str] {
        match self {
            Self::Monolith => &["serve"],
            Self::LayeredGrpc => &["dev", "layered", "--transport", "grpc"],
            Self::LayeredHttp => &["dev", "layered", "--transport", "http"],
        }
    }
}

/// Whatever must outlive the server: a throwaway database or file, removed when dropped.
enum StorageGuard {
    Database(#[expect(dead_code, reason = "held for its Drop")] databases::TestDatabase),
    File(#[expect(dead_code, reason = "held for its Drop")] TempFile),
}

/// A SQLite file (and its WAL companions) removed when the test ends.
pub struct TempFile(pub std::path::PathBuf);

impl TempFile {
    pub fn new(prefix: &str) -> Self {
        Self(std::env::temp_dir().join(format!("{prefix}-{}.db", uuid::Uuid::now_v7().simple())))
    }

    pub fn sqlite_url(&self) -> String {
        format!("sqlite://{}", self.0.display())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

pub struct TestApp {
    pub base_url: String,
    /// `http://ADDR` of the gRPC listener; `None` when gRPC is disabled.
    pub grpc_url: Option<String>,
    pub client: Client,
    /// Every line the process printed up to its REST address (a layered deployment announces
    /// each tier's listeners there).
    pub announced: Vec<String>,
    child: Child,
    storage: Option<StorageGuard>,
    /// Everything the server logged so far (standard error).
    logs: Arc<Mutex<String>>,
}

/// Settings that keep tests fast and deterministic: cheap Argon2 (the parameters are exercised
/// by the security adapter's own tests), a port chosen by the OS, an isolated config directory.
pub(crate) fn base_env() -> Vec<(String, String)> {
    [
        ("ARCANA_CONFIG_DIR", "/nonexistent/arcana-test-config"),
        ("ARCANA_SERVER__REST__PORT", "0"),
        ("ARCANA_SERVER__GRPC__PORT", "0"),
        ("ARCANA_SECURITY__ARGON2__MEMORY_KIB", "64"),
        ("ARCANA_SECURITY__ARGON2__ITERATIONS", "1"),
        (
            "ARCANA_SECURITY__JWT_SECRET",
            "test-secret-test-secret-test-secret-0123",
        ),
        ("ARCANA_BOOTSTRAP_ADMIN__USERNAME", ROOT_USERNAME),
        ("ARCANA_BOOTSTRAP_ADMIN__EMAIL", "root@example.com"),
        ("ARCANA_BOOTSTRAP_ADMIN__PASSWORD", ROOT_PASSWORD),
        ("ARCANA_OBSERVABILITY__LOG_LEVEL", "warn"),
        ("ARCANA_DATABASE__URL", "memory:"),
        // Every test client is 127.0.0.1 and some scenarios sign in dozens of times: the
        // limits stay on, far above what a scenario sends (the rate-limit suite sets its own).
        ("ARCANA_RATE_LIMIT__PER_IP__PER_SECOND", "100000"),
        ("ARCANA_RATE_LIMIT__PER_IP__BURST", "100000"),
        ("ARCANA_RATE_LIMIT__PER_USER__PER_SECOND", "100000"),
        ("ARCANA_RATE_LIMIT__PER_USER__BURST", "100000"),
        ("ARCANA_RATE_LIMIT__AUTH__PER_SECOND", "100000"),
        ("ARCANA_RATE_LIMIT__AUTH__BURST", "100000"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

impl TestApp {
    /// Starts `binary` with the test defaults overridden by `env`, and waits (bounded) until it
    /// prints its address.
    pub async fn spawn(binary: &str, env: &[(&str, &str)]) -> Self {
        Self::launch(binary, Deployment::Monolith, env, None).await
    }

    /// Starts `binary` deployed as `deployment`, with the test defaults overridden by `env`.
    pub async fn deploy(binary: &str, deployment: Deployment, env: &[(&str, &str)]) -> Self {
        Self::launch(binary, deployment, env, None).await
    }

    /// Starts `binary` in `dir` on the embedded default storage (no `ARCANA_DATABASE__URL`),
    /// as `cargo run` would.
    pub async fn spawn_in(binary: &str, dir: &std::path::Path, env: &[(&str, &str)]) -> Self {
        Self::launch(binary, Deployment::Monolith, env, Some(dir)).await
    }

    async fn launch(
        binary: &str,
        deployment: Deployment,
        env: &[(&str, &str)],
        dir: Option<&std::path::Path>,
    ) -> Self {
        let mut command = Command::new(binary);
        command.args(deployment.args()).env_clear().envs(base_env());
        if let Some(dir) = dir {
            command.current_dir(dir).env_remove("ARCANA_DATABASE__URL");
        }
        command.envs(env.iter().map(|(k, v)| (*k, *v)));
        command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null())
            .kill_on_drop(true);
        Self::from_command(command).await
    }

    /// Runs `command` (stdout and stderr piped) and waits (bounded) until it announces its
    /// public listeners.
    pub(crate) async fn from_command(mut command: Command) -> Self {
        let mut child = command.spawn().expect("the arcana binary starts");
        let logs = collect_logs(child.stderr.take().expect("stderr is piped"));
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        // The gRPC line, when gRPC is enabled, comes before the REST one.
        let mut announced = Vec::new();
        let (address, grpc_url) = tokio::time::timeout(Duration::from_secs(30), async {
            let mut grpc_url = None;
            while let Some(line) = lines.next_line().await.expect("stdout readable") {
                announced.push(line.clone());
                // A layered deployment announces the controller's public listeners.
                let line = line.replacen("arcana: controller ", "arcana: ", 1);
                if let Some(url) = line.strip_prefix("arcana: gRPC listening on ") {
                    grpc_url = Some(url.to_owned());
                }
                if let Some(url) = line.strip_prefix("arcana: REST listening on ") {
                    return (url.to_owned(), grpc_url);
                }
            }
            panic!("arcana exited before listening");
        })
        .await
        .expect("arcana listens within 30 s");
        // Keep draining stdout so that the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let client = http_client()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        Self {
            base_url: address,
            grpc_url,
            client,
            announced,
            child,
            logs,
            storage: None,
        }
    }

    /// Starts `binary` on a fresh store of `storage`; `None` (after printing why) when that
    /// backend's service is not configured.
    pub async fn on(binary: &str, target: impl Into<Target>, env: &[(&str, &str)]) -> Option<Self> {
        let Target {
            storage,
            deployment,
        } = target.into();
        let (url, guard) = match storage {
            Storage::Memory => ("memory:".to_owned(), None),
            Storage::Sqlite => {
                let file = TempFile::new("arcana-e2e");
                (file.sqlite_url(), Some(StorageGuard::File(file)))
            }
            Storage::Postgres | Storage::Mysql => {
                let service = if storage == Storage::Postgres {
                    databases::Service::Postgres
                } else {
                    databases::Service::Mysql
                };
                let db = databases::TestDatabase::create(service).await?;
                (db.url.clone(), Some(StorageGuard::Database(db)))
            }
        };
        let mut all: Vec<(&str, &str)> = vec![("ARCANA_DATABASE__URL", url.as_str())];
        all.extend_from_slice(env);
        let mut app = Self::deploy(binary, deployment, &all).await;
        app.storage = guard;
        Some(app)
    }

    /// What the server has logged so far.
    pub fn logs(&self) -> String {
        self.logs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Sends SIGTERM and waits (bounded) for the process to exit; returns its exit code.
    pub async fn terminate(mut self) -> Option<i32> {
        let pid = self.child.id().expect("the server is running").to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGTERM delivered");
        let status = tokio::time::timeout(Duration::from_secs(15), self.child.wait())
            .await
            .expect("the server exits within 15 s of SIGTERM")
            .expect("exit status");
        status.code()
    }

    /// A connected channel to the gRPC listener (which must be enabled).
    pub async fn grpc_channel(&self) -> tonic::transport::Channel {
        let url = self.grpc_url.clone().expect("gRPC is enabled");
        tonic::transport::Endpoint::from_shared(url)
            .expect("a valid gRPC URL")
            .timeout(Duration::from_secs(30))
            .connect()
            .await
            .expect("the gRPC listener accepts connections")
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

/// Drains the server's standard error into a buffer (so it never blocks on a full pipe), echoing
/// it when `ARCANA_TEST_SERVER_LOGS` is set.
pub(crate) fn collect_logs(stderr: tokio::process::ChildStderr) -> Arc<Mutex<String>> {
    let logs = Arc::new(Mutex::new(String::new()));
    let sink = logs.clone();
    let echo = std::env::var_os("ARCANA_TEST_SERVER_LOGS").is_some();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if echo {
                eprintln!("[arcana] {line}");
            }
            let mut logs = sink
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            logs.push_str(&line);
            logs.push('\n');
        }
    });
    logs
}
