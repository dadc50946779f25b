//! Instructions per request, counted on the server by callgrind: unlike throughput and CPU time,
//! the count does not move with a noisy neighbour, so it shows a change of a few percent that a
//! ratio on a shared machine cannot.
//!
//! Each server runs under `valgrind --tool=callgrind` (about fifty times slower, which does not
//! change what it counts). After a warm-up on one keep-alive connection the counters are zeroed,
//! a fixed number of requests is sent on that connection, and the counters are dumped; the same
//! wall time spent idle is counted next and subtracted, so background work (sweepers, pool
//! upkeep, timers) is not charged to the requests.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::Request;
use hyper::client::conn::http1::SendRequest;
use tokio::process::Command;

use crate::http_load;
use crate::scenarios::{Account, prepare};
use crate::servers::{self, Backends, Server};

const WARM_UP: u32 = 200;

/// One scenario's counts: Arcana's and its bare baseline's instructions per request.
#[derive(Debug, Clone, Copy)]
pub struct Counted {
    pub scenario: &'static str,
    pub arcana: f64,
    pub baseline: f64,
}

/// Whether callgrind can run here.
pub fn available() -> bool {
    std::process::Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Counts `GET /health`, `GET /api/v1/auth/me` and `GET /api/v1/users/{id}` on the embedded
/// monolith against the bare axum server (which answers `/me` by verifying the same JWT).
pub async fn measure(binary: &Path, scratch: &Path, requests: u32) -> anyhow::Result<Vec<Counted>> {
    let out = scratch.join("callgrind");
    std::fs::create_dir_all(&out)?;
    let bare_out = out.join("bare.out");
    let bare = spawn_bare(&bare_out).await?;
    let arcana_out = out.join("arcana.out");
    let arcana = spawn_arcana(binary, scratch, &arcana_out).await?;
    let arcana_addr = http_load::address(arcana.rest.as_deref().context("REST address")?)?;
    let bare_addr = http_load::address(bare.rest.as_deref().context("bare address")?)?;
    let Account { token, id, .. } = prepare(arcana_addr).await?;
    let user = format!("/api/v1/users/{id}");
    let mut counted = Vec::new();
    for (scenario, ours, theirs, token) in [
        ("GET /health", "/health", "/health", None),
        (
            "GET /api/v1/auth/me",
            "/api/v1/auth/me",
            "/me",
            Some(&token),
        ),
        ("GET /api/v1/users/{id}", user.as_str(), "/me", Some(&token)),
    ] {
        let token = token.map(String::as_str);
        let arcana_count = per_request(&arcana, arcana_addr, &arcana_out, ours, token, requests)
            .await
            .with_context(|| format!("counting {scenario} on Arcana"))?;
        let bare_count = per_request(&bare, bare_addr, &bare_out, theirs, token, requests)
            .await
            .with_context(|| format!("counting {scenario} on the baseline"))?;
        counted.push(Counted {
            scenario,
            arcana: arcana_count,
            baseline: bare_count,
        });
    }
    Ok(counted)
}

fn callgrind(out: &Path) -> Command {
    let mut command = Command::new("valgrind");
    command.args([
        "--tool=callgrind",
        "--quiet",
        &format!("--callgrind-out-file={}", out.display()),
    ]);
    command
}

async fn spawn_bare(out: &Path) -> anyhow::Result<Server> {
    let mut command = callgrind(out);
    command.arg(std::env::current_exe()?).arg("bare-http");
    servers::spawn(&mut command).await
}

async fn spawn_arcana(binary: &Path, scratch: &Path, out: &Path) -> anyhow::Result<Server> {
    let dir = scratch.join("callgrind-arcana");
    std::fs::create_dir_all(&dir)?;
    let mut command = callgrind(out);
    command
        .arg(binary)
        .arg("serve")
        .env_clear()
        .envs(servers::common_env())
        .envs(Backends::Embedded.env(&dir))
        .current_dir(&dir);
    let server = servers::spawn(&mut command).await?;
    // Under callgrind, start-up (migrations included) takes seconds.
    let addr = http_load::address(server.rest.as_deref().context("REST address")?)?;
    let deadline = Instant::now() + Duration::from_mins(2);
    while !http_load::health_ok(addr).await {
        anyhow::ensure!(Instant::now() < deadline, "not ready under callgrind");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(server)
}

/// Busy minus idle instructions over `requests` requests of `path`.
async fn per_request(
    server: &Server,
    addr: SocketAddr,
    out: &Path,
    path: &str,
    token: Option<&str>,
    requests: u32,
) -> anyhow::Result<f64> {
    let mut connection = http_load::connect(addr).await?;
    drive(&mut connection, path, token, WARM_UP).await?;
    control(server.pid, "--zero").await?;
    let started = Instant::now();
    drive(&mut connection, path, token, requests).await?;
    let busy_time = started.elapsed();
    let busy = dumped(server.pid, out).await?;
    control(server.pid, "--zero").await?;
    tokio::time::sleep(busy_time).await;
    let idle = dumped(server.pid, out).await?;
    #[expect(
        clippy::cast_precision_loss,
        reason = "instruction counts are far below 2^52"
    )]
    let per_request = busy.saturating_sub(idle) as f64 / f64::from(requests);
    Ok(per_request)
}

async fn drive(
    connection: &mut SendRequest<Full<Bytes>>,
    path: &str,
    token: Option<&str>,
    requests: u32,
) -> anyhow::Result<()> {
    for _ in 0..requests {
        let request: Request<Full<Bytes>> = http_load::get(path, token);
        connection.ready().await?;
        let response = connection.send_request(request).await?;
        let status = response.status();
        response.into_body().collect().await?;
        anyhow::ensure!(status.is_success(), "GET {path}: {status}");
    }
    Ok(())
}

async fn control(pid: u32, action: &str) -> anyhow::Result<()> {
    let output = Command::new("callgrind_control")
        .arg(action)
        .arg(pid.to_string())
        .output()
        .await?;
    anyhow::ensure!(
        output.status.success(),
        "callgrind_control {action} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

/// Dumps the counters since the last zero and reads their total from the newest dump file
/// (`<out>.<n>`).
async fn dumped(pid: u32, out: &Path) -> anyhow::Result<u64> {
    control(pid, "--dump").await?;
    let newest = newest_dump(out)?;
    let text = std::fs::read_to_string(&newest)?;
    total(&text).with_context(|| format!("no total in {}", newest.display()))
}

fn newest_dump(out: &Path) -> anyhow::Result<PathBuf> {
    let dir = out.parent().context("a directory")?;
    let stem = out
        .file_name()
        .and_then(|name| name.to_str())
        .context("a file name")?;
    let mut dumps: Vec<(u32, PathBuf)> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let number = name.strip_prefix(stem)?.strip_prefix('.')?.parse().ok()?;
            Some((number, entry.path()))
        })
        .collect();
    dumps.sort();
    dumps.pop().map(|(_, path)| path).context("no dump written")
}

/// The `totals:` (or, in older files, `summary:`) line of a callgrind dump.
fn total(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| {
            line.strip_prefix("totals:")
                .or_else(|| line.strip_prefix("summary:"))
        })
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_total_is_read_from_a_dump() {
        let dump = "version: 1\ncmd: arcana serve\nevents: Ir\nfl=(1) a.rs\nfn=(1) main\n3 5\n\ntotals: 123456\n";
        assert_eq!(super::total(dump), Some(123_456));
        assert_eq!(super::total("summary: 42\n"), Some(42));
        assert_eq!(super::total("events: Ir\n"), None);
    }
}
