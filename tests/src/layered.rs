//! A layered deployment under the test's control: each tier its own process, started here (not
//! through `arcana dev layered`), so that a test can kill, restart and read the logs of each
//! tier on its own.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::{TestApp, collect_logs};

/// The binaries of one build.
#[derive(Debug, Clone, Copy)]
pub struct Binaries {
    pub arcana: &'static str,
    pub controller: &'static str,
    pub service: &'static str,
    pub repository: &'static str,
}

/// The internal transport between the tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Grpc,
    Http,
}

impl Transport {
    pub fn mode(self) -> &'static str {
        match self {
            Self::Grpc => "layered-grpc",
            Self::Http => "layered-http",
        }
    }
}

/// The credentials of the two HTTP links (ignored by gRPC, which authenticates by certificate).
pub const SERVICE_CREDENTIAL: &str = "service-link-credential-for-tests-0123456789";
pub const REPOSITORY_CREDENTIAL: &str = "repository-link-credential-for-tests-012345";

/// A service or repository tier process.
pub struct Tier {
    child: Child,
    logs: Arc<Mutex<String>>,
    /// `https://ADDR` of its internal listener.
    pub url: String,
    /// `http://ADDR` of its operations listener (probes and metrics).
    pub ops_url: String,
}

impl Tier {
    pub fn logs(&self) -> String {
        self.logs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The port its internal listener is bound to, to restart it on the same one.
    pub fn port(&self) -> String {
        self.url.rsplit(':').next().unwrap_or_default().to_owned()
    }
}

/// An `arcana-worker` process, killed when dropped.
pub struct Worker {
    _child: Child,
    logs: Arc<Mutex<String>>,
}

impl Worker {
    pub fn logs(&self) -> String {
        self.logs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// Three tiers on one database, with development certificates in a folder of their own.
pub struct Stack {
    pub bins: Binaries,
    pub transport: Transport,
    pub certs: PathBuf,
    env: Vec<(String, String)>,
    pub repository: Tier,
    pub service: Tier,
    pub controller: TestApp,
}

impl Stack {
    /// Starts repository, service and controller (in that order) with the test defaults of
    /// [`TestApp`] plus `env`; the repository uses `database_url`.
    pub async fn start(
        bins: Binaries,
        transport: Transport,
        database_url: &str,
        env: &[(&str, &str)],
    ) -> Self {
        let certs =
            std::env::temp_dir().join(format!("arcana-certs-{}", uuid::Uuid::now_v7().simple()));
        let written = std::process::Command::new(bins.arcana)
            .args(["tls", "init", "--out"])
            .arg(&certs)
            .output()
            .expect("arcana tls init runs");
        assert!(written.status.success(), "arcana tls init: {written:?}");
        let mut shared: Vec<(String, String)> = crate::base_env();
        let pairs = [
            ("ARCANA_MODE", transport.mode()),
            ("ARCANA_DATABASE__URL", database_url),
            ("ARCANA_TIERS__SERVICE_CREDENTIAL", SERVICE_CREDENTIAL),
            ("ARCANA_TIERS__REPOSITORY_CREDENTIAL", REPOSITORY_CREDENTIAL),
            (
                "ARCANA_TLS__CA_FILE",
                &certs.join("ca.pem").display().to_string(),
            ),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        shared.extend(pairs);
        shared.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let mut stack_env = shared;
        let repository = spawn_tier(bins.repository, "repository", &certs, &stack_env, &[]).await;
        stack_env.push((
            "ARCANA_TIERS__REPOSITORY_URL".into(),
            repository.url.clone(),
        ));
        let service = spawn_tier(bins.service, "service", &certs, &stack_env, &[]).await;
        stack_env.push(("ARCANA_TIERS__SERVICE_URL".into(), service.url.clone()));
        let controller = spawn_controller(bins.controller, &certs, &stack_env).await;
        Self {
            bins,
            transport,
            certs,
            env: stack_env,
            repository,
            service,
            controller,
        }
    }

    /// Kills the repository outright (SIGKILL), as a crash would.
    pub async fn kill_repository(&mut self) {
        let _ = self.repository.child.start_kill();
        let _ = self.repository.child.wait().await;
    }

    /// Starts the repository again on the port it had.
    pub async fn restart_repository(&mut self) {
        let port = self.repository.port();
        self.repository = spawn_tier(
            self.bins.repository,
            "repository",
            &self.certs,
            &self.env,
            &[("ARCANA_SERVER__INTERNAL__PORT", &port)],
        )
        .await;
    }

    /// Kills the service tier outright (SIGKILL), as a crash would.
    pub async fn kill_service(&mut self) {
        let _ = self.service.child.start_kill();
        let _ = self.service.child.wait().await;
    }

    /// Starts the service tier again on the port it had.
    pub async fn start_service(&mut self) {
        let port = self.service.port();
        self.service = spawn_tier(
            self.bins.service,
            "service",
            &self.certs,
            &self.env,
            &[("ARCANA_SERVER__INTERNAL__PORT", &port)],
        )
        .await;
    }

    /// Stops the service tier gracefully (SIGTERM, waiting for it to drain and exit) and starts
    /// it again on the same port.
    pub async fn restart_service(&mut self) {
        let port = self.service.port();
        terminate(&mut self.service.child).await;
        self.service = spawn_tier(
            self.bins.service,
            "service",
            &self.certs,
            &self.env,
            &[("ARCANA_SERVER__INTERNAL__PORT", &port)],
        )
        .await;
    }

    /// Starts `arcana-worker` (the binary at `worker`) beside the service tier: the stack's
    /// configuration, `extra` on top, and the service tier's certificate, with which the
    /// repository tier admits it. Returns once the worker says it runs.
    pub async fn spawn_worker(&self, worker: &str, extra: &[(&str, &str)]) -> Worker {
        let mut command = tier_command(worker, "service", &self.certs, &self.env);
        command.envs(extra.iter().copied());
        let mut child = command.spawn().expect("arcana-worker starts");
        let logs = collect_logs(child.stderr.take().expect("stderr is piped"));
        let mut lines = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
        tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.expect("stdout readable") {
                if line.contains("arcana-worker: running") {
                    return;
                }
            }
            panic!("arcana-worker exited before running");
        })
        .await
        .expect("the worker runs within 30 s");
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Worker {
            _child: child,
            logs,
        }
    }

    /// The PEM of the CA and of `tier`'s certificate and key.
    pub fn pem(&self, tier: &str) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let read = |name: String| std::fs::read(self.certs.join(name)).expect("certificate files");
        (
            read("ca.pem".into()),
            read(format!("{tier}.pem")),
            read(format!("{tier}.key")),
        )
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.certs);
    }
}

async fn terminate(child: &mut Child) {
    let pid = child.id().expect("running").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(sent.success(), "SIGTERM delivered");
    tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("the tier exits within 20 s of SIGTERM")
        .expect("exit status");
}

fn tier_command(
    binary: &str,
    tier: &str,
    certs: &std::path::Path,
    env: &[(String, String)],
) -> Command {
    let mut command = Command::new(binary);
    command
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("ARCANA_SERVER__INTERNAL__PORT", "0")
        .env("ARCANA_SERVER__OPS__PORT", "0")
        .env("ARCANA_TLS__CERT_FILE", certs.join(format!("{tier}.pem")))
        .env("ARCANA_TLS__KEY_FILE", certs.join(format!("{tier}.key")))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

async fn spawn_tier(
    binary: &str,
    tier: &str,
    certs: &std::path::Path,
    env: &[(String, String)],
    extra: &[(&str, &str)],
) -> Tier {
    let mut command = tier_command(binary, tier, certs, env);
    command.envs(extra.iter().copied());
    let mut child = command.spawn().expect("the tier binary starts");
    let logs = collect_logs(child.stderr.take().expect("stderr is piped"));
    let mut lines = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
    let (url, ops_url) = tokio::time::timeout(Duration::from_secs(30), async {
        let (mut url, mut ops_url) = (None, None);
        while let Some(line) = lines.next_line().await.expect("stdout readable") {
            if let Some((_, found)) = line.split_once("internal listening on ") {
                url = Some(found.trim().to_owned());
            } else if let Some((_, found)) = line.split_once("operations listening on ") {
                ops_url = Some(found.trim().to_owned());
            }
            if let (Some(url), Some(ops_url)) = (&url, &ops_url) {
                return (url.clone(), ops_url.clone());
            }
        }
        panic!("arcana-{tier} exited before listening");
    })
    .await
    .expect("the tier listens within 30 s");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Tier {
        child,
        logs,
        url,
        ops_url,
    }
}

async fn spawn_controller(
    binary: &str,
    certs: &std::path::Path,
    env: &[(String, String)],
) -> TestApp {
    let command = tier_command(binary, "controller", certs, env);
    TestApp::from_command(command).await
}
