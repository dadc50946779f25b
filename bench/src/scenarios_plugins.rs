//! Plugins, against the same build without them in the same run: `/api/v1/auth/me` through a
//! no-op before+after interceptor (`header-stamp`) alternating with a plain monolith; how far
//! past its budget a looping plugin (`looper`) runs and what `/health` sees meanwhile; how long
//! a changed file takes to serve.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::http_load::{self, Sample, quantile_ms};
use crate::proc_stats;
use crate::report::Row;
use crate::scenarios::{HTTP_CONNECTIONS, Plan, request};
use crate::servers::{self, Backends};

const LOOP_BUDGET_MS: u64 = 100;
const ADMIN: (&str, &str) = ("benchroot", "bench-root-password-1");

pub async fn measure(plan: &Plan, binary: &Path, scratch: &Path) -> anyhow::Result<Vec<Row>> {
    let modules = crate::plugin_modules::build()?;
    // Two fresh servers, each on its own database: the same build with and without plugins.
    let (scratch, plain_scratch) = (&scratch.join("plugins"), &scratch.join("plain"));
    std::fs::create_dir_all(plain_scratch)?;
    let without = servers::arcana(binary, &Backends::Embedded, plain_scratch).await?;
    let dir = scratch.join("plugins.d");
    std::fs::create_dir_all(&dir)?;
    for (krate, name) in [("header_stamp", "header-stamp"), ("looper", "looper")] {
        std::fs::copy(
            modules.join(format!("{krate}.wasm")),
            dir.join(format!("{name}.wasm")),
        )?;
    }
    let budget = LOOP_BUDGET_MS.to_string();
    let env: Vec<(String, String)> = [
        ("ARCANA_PLUGINS__ENABLED", "true"),
        (
            "ARCANA_PLUGINS__DIRECTORY",
            dir.to_str().context("utf-8 path")?,
        ),
        // The harness measures calls, not signatures (which are checked once per load).
        ("ARCANA_PLUGINS__ALLOW_UNSIGNED", "true"),
        ("ARCANA_PLUGINS__ROUTE_BUDGET_MS", budget.as_str()),
        ("ARCANA_PLUGINS__FAILURE_BUDGET__MAX_FAILURES", "1000000"),
        ("ARCANA_BOOTSTRAP_ADMIN__USERNAME", ADMIN.0),
        ("ARCANA_BOOTSTRAP_ADMIN__EMAIL", "benchroot@example.com"),
        ("ARCANA_BOOTSTRAP_ADMIN__PASSWORD", ADMIN.1),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec();
    let server = servers::arcana_with(binary, &Backends::Embedded, scratch, &env).await?;
    let rest = http_load::address(server.rest.as_deref().context("REST")?)?;
    let mut interceptor = crate::scenarios_costs::me_versus(plan, &server, &without).await?;
    interceptor.baseline = "no plugins";
    "one no-op interceptor, before and after".clone_into(&mut interceptor.note);
    let mut rows = vec![interceptor.named("GET /api/v1/auth/me", "plugins (SQLite)", ">= 0.85x")];
    rows.push(looping(plan, rest, server.pid).await?);
    rows.push(reload(rest, &dir, &modules, server.pid).await?);
    Ok(rows)
}

/// `/health` under load while two clients keep a looping plugin busy, and how long each loop
/// ran past its budget (the client's view, so an upper bound).
async fn looping(plan: &Plan, rest: SocketAddr, pid: u32) -> anyhow::Result<Row> {
    let health = request("/health", None);
    let quiet = http_load::run(
        rest,
        health.clone(),
        HTTP_CONNECTIONS,
        plan.warm_up,
        plan.measure,
    )
    .await?;
    let spinners: Vec<_> = (0..2)
        .map(|_| tokio::spawn(spin(rest, plan.warm_up + plan.measure)))
        .collect();
    let busy = http_load::run(rest, health, HTTP_CONNECTIONS, plan.warm_up, plan.measure).await?;
    let mut overruns = Vec::new();
    for spinner in spinners {
        overruns.extend(spinner.await??);
    }
    overruns.sort_by(f64::total_cmp);
    let (mut quiet, mut busy) = (quiet, busy);
    let note = format!(
        "loop stopped {:.1} ms (median) / {:.1} ms (max) past its {LOOP_BUDGET_MS} ms budget over {} calls; \
         /health p99 {:.2} ms quiet vs {:.2} ms with 2 loops running",
        overruns
            .get(overruns.len() / 2)
            .copied()
            .unwrap_or_default(),
        overruns.last().copied().unwrap_or_default(),
        overruns.len(),
        quantile_ms(&mut quiet.latencies_us, 0.99),
        quantile_ms(&mut busy.latencies_us, 0.99),
    );
    Ok(info_row(
        "GET /health while plugins loop",
        busy,
        &quiet,
        pid,
        note,
    ))
}

async fn spin(rest: SocketAddr, for_how_long: Duration) -> anyhow::Result<Vec<f64>> {
    let until = Instant::now() + for_how_long;
    let mut overruns = Vec::new();
    while Instant::now() < until {
        let started = Instant::now();
        let (status, _) =
            http_load::send(rest, http_load::get("/api/v1/ext/looper/spin", None)).await?;
        anyhow::ensure!(status == 502, "a looping route answers 502, got {status}");
        overruns.push(
            started.elapsed().as_secs_f64() * 1000.0 - f64::from(u32::try_from(LOOP_BUDGET_MS)?),
        );
    }
    Ok(overruns)
}

/// From renaming a new module into place to the host serving it (its sha256 in the admin list).
async fn reload(rest: SocketAddr, dir: &Path, modules: &Path, pid: u32) -> anyhow::Result<Row> {
    let login = json!({"username_or_email": ADMIN.0, "password": ADMIN.1});
    let (_, body) =
        http_load::send(rest, http_load::post_json("/api/v1/auth/login", &login)).await?;
    let token = serde_json::from_slice::<Value>(&body)?["access_token"]
        .as_str()
        .context("an admin token")?
        .to_owned();
    let original = std::fs::read(modules.join("header_stamp.wasm"))?;
    let mut times = Vec::new();
    for n in 0..5u8 {
        // The same plugin with one more custom section: new bytes, new version.
        let mut module = original.clone();
        module.extend_from_slice(&[0, 3, 2, b'v', n]);
        let sha = sha256_hex(&module);
        let staging = dir.join(".header-stamp.wasm.new");
        std::fs::write(&staging, &module)?;
        let started = Instant::now();
        std::fs::rename(&staging, dir.join("header-stamp.wasm"))?;
        loop {
            let (_, body) =
                http_load::send(rest, http_load::get("/api/v1/plugins", Some(&token))).await?;
            let list: Value = serde_json::from_slice(&body)?;
            let serving = list["items"].as_array().is_some_and(|items| {
                items
                    .iter()
                    .any(|p| p["name"] == "header-stamp" && p["sha256"] == sha.as_str())
            });
            if serving {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(10),
                "reload not seen within 10 s"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let note = format!(
        "file change to new version serving: {:.0} ms median, {:.0} ms max over {} reloads (100 ms debounce included; target <= 500 ms)",
        times[times.len() / 2],
        times[times.len() - 1],
        times.len()
    );
    Ok(Row {
        peak_rss_mib: proc_stats::rss_mib(pid).map(|(_, peak)| peak),
        note,
        ..Row::idle("plugins (SQLite)", None, None, None)
    }
    .named("plugin hot reload", "plugins (SQLite)", "<= 500 ms"))
}

fn info_row(scenario: &'static str, busy: Sample, quiet: &Sample, pid: u32, note: String) -> Row {
    let mut row = Row::versus(busy, quiet, (0.0, None), pid).named(
        scenario,
        "plugins (SQLite)",
        "loop <= budget + 2 ms",
    );
    row.baseline = "no loop";
    row.cpu_us_per_request = None;
    row.note = note;
    row
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    use std::fmt::Write as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .fold(String::new(), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}
