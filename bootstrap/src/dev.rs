//! `arcana dev layered`: the three tiers of a layered deployment on this machine, with
//! development certificates in a temporary folder and internal listeners on free ports. It
//! prints every listener's address, and stops the tiers in order (controller, service,
//! repository) on Ctrl-C or SIGTERM, or as soon as one of them exits.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context as _, bail};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use crate::cli::Transport;
use crate::config::Tier;
use crate::shutdown::Shutdown;

/// One started tier, with the internal URL it announced (none for the controller).
struct Running {
    tier: Tier,
    child: Child,
    /// The tier's standard input: it stops by itself when this closes, which happens even if
    /// this process is killed outright, so no tier outlives its supervisor.
    lifeline: Option<tokio::process::ChildStdin>,
}

pub async fn layered(transport: Transport) -> anyhow::Result<()> {
    let mode = match transport {
        Transport::Grpc => "layered-grpc",
        Transport::Http => "layered-http",
    };
    let shutdown = Shutdown::listen();
    let certs = std::env::temp_dir().join(format!("arcana-dev-{}", std::process::id()));
    crate::tls::init(&certs)?;
    // Fresh link credentials for this run (used by the HTTP transport; gRPC authenticates by
    // certificate). Handed to the tiers in their environment, never printed.
    let credentials = if transport == Transport::Http {
        vec![
            ("ARCANA_TIERS__SERVICE_CREDENTIAL", random_secret()?),
            ("ARCANA_TIERS__REPOSITORY_CREDENTIAL", random_secret()?),
        ]
    } else {
        Vec::new()
    };
    let mut running = Vec::new();
    let outcome = start_all((mode, &credentials), &certs, &mut running).await;
    // Every tier has read its certificate and key by now: nothing secret stays on disk.
    let _ = std::fs::remove_dir_all(&certs);
    if outcome.is_ok() {
        let exited = async {
            let (_, index, _) = futures_util::future::select_all(
                running.iter_mut().map(|r| Box::pin(r.child.wait())),
            )
            .await;
            index
        };
        tokio::select! {
            () = shutdown.requested() => {}
            index = exited => eprintln!("arcana: the {} tier exited; stopping the others", running[index].tier.as_str()),
        }
    }
    stop_all(&mut running).await;
    let _ = std::fs::remove_dir_all(&certs);
    outcome
}

/// A random link credential: 32 bytes, hex.
fn random_secret() -> anyhow::Result<String> {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes).map_err(|err| anyhow::anyhow!("generating a credential: {err}"))?;
    Ok(bytes
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        }))
}

/// Starts the tiers from the inside out, each told where the next one listens.
async fn start_all(
    (mode, credentials): (&str, &[(&'static str, String)]),
    certs: &Path,
    running: &mut Vec<Running>,
) -> anyhow::Result<()> {
    let with = |extra: Option<(&'static str, String)>| {
        let mut env = credentials.to_vec();
        env.extend(extra);
        env
    };
    let repository = start(Tier::Repository, mode, certs, &with(None)).await?;
    running.push(repository.0);
    let repository_url = repository
        .1
        .context("the repository tier announced no address")?;
    let service_env = with(Some(("ARCANA_TIERS__REPOSITORY_URL", repository_url)));
    let service = start(Tier::Service, mode, certs, &service_env).await?;
    running.push(service.0);
    let service_url = service.1.context("the service tier announced no address")?;
    let controller_env = with(Some(("ARCANA_TIERS__SERVICE_URL", service_url)));
    let controller = start(Tier::Controller, mode, certs, &controller_env).await?;
    running.push(controller.0);
    Ok(())
}

/// Starts one tier binary (a sibling of this executable) and waits for the line announcing its
/// last listener; every line it prints is passed on.
async fn start(
    tier: Tier,
    mode: &str,
    certs: &Path,
    extra: &[(&str, String)],
) -> anyhow::Result<(Running, Option<String>)> {
    let name = tier.as_str();
    let binary = sibling(&format!("arcana-{name}"))?;
    let mut command = Command::new(&binary);
    command
        .env("ARCANA_MODE", mode)
        .env("ARCANA_SERVER__INTERNAL__PORT", "0")
        .env("ARCANA_TLS__CA_FILE", certs.join("ca.pem"))
        .env("ARCANA_TLS__CERT_FILE", certs.join(format!("{name}.pem")))
        .env("ARCANA_TLS__KEY_FILE", certs.join(format!("{name}.key")))
        .env(crate::shutdown::STOP_ON_STDIN_EOF, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true);
    for (key, value) in extra {
        command.env(key, value);
    }
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let lifeline = child.stdin.take();
    let (lines, mut announced) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut reader = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            println!("{line}");
            let _ = lines.send(line);
        }
    });
    let ready = match tier {
        Tier::Controller => "REST listening on ",
        Tier::Service | Tier::Repository => "internal listening on ",
    };
    while let Some(line) = announced.recv().await {
        if let Some((_, url)) = line.split_once(ready) {
            let url = (tier != Tier::Controller).then(|| url.trim().to_owned());
            return Ok((
                Running {
                    tier,
                    child,
                    lifeline,
                },
                url,
            ));
        }
    }
    let status = child.wait().await?;
    bail!("arcana-{name} exited before it was ready ({status})")
}

fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe().context("locating this executable")?;
    let path = me.with_file_name(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !path.exists() {
        bail!(
            "{} not found next to {} (build it: cargo build -p arcana-bootstrap)",
            path.display(),
            me.display()
        );
    }
    Ok(path)
}

/// Stops the tiers from the outside in, so that no tier loses its next one while it drains.
async fn stop_all(running: &mut [Running]) {
    for tier in running.iter_mut().rev() {
        // Closing its input is itself a stop request, and leaves nothing for it to wait on.
        tier.lifeline = None;
        terminate(&tier.child);
        if tier.child.wait().await.is_err() {
            let _ = tier.child.start_kill();
        }
    }
}

#[cfg(unix)]
fn terminate(child: &Child) {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    if let Some(pid) = child.id().and_then(|id| i32::try_from(id).ok()) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
    }
}

#[cfg(not(unix))]
fn terminate(_child: &Child) {}
