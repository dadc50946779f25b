//! `arcana-bench`: starts Arcana and bare baselines on loopback, drives each with the same load
//! in the same run, alternating, and reports throughput, latency, server CPU per request and
//! memory, with the ratio of each scenario to its baseline (SPEC §15).
//!
//! The baselines are this same program re-run as `arcana-bench bare-http` / `bare-grpc`, so that
//! every server has a process, a runtime and a `/proc` entry of its own, like Arcana.

mod bare;
mod collector;
mod database;
mod grpc_load;
mod http_load;
mod instructions;
mod plugin_modules;
mod proc_stats;
mod report;
mod scenarios;
mod scenarios_costs;
mod scenarios_grpc;
mod scenarios_jobs;
mod scenarios_layered;
mod scenarios_plugins;
mod scenarios_resilience;
mod servers;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "arcana-bench",
    about = "Arcana against bare baselines, in one run"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the scenarios and writes the report.
    Run(RunArgs),
    /// A bare axum server: `/health` and a handler that only verifies the JWT.
    BareHttp,
    /// A bare tonic server answering `ValidateToken` with a constant, plus the stock health
    /// service.
    BareGrpc,
    /// Only the load: drives one running server with the harness's HTTP client and prints the
    /// rate and latency, for profiling a row (e.g. under `perf record -p PID`).
    Load(LoadArgs),
}

#[derive(clap::Args)]
pub struct LoadArgs {
    /// The server, `http://127.0.0.1:PORT`.
    #[arg(long)]
    url: String,
    /// The path to GET.
    #[arg(long, default_value = "/health")]
    path: String,
    /// Sent as `Authorization: Bearer TOKEN`.
    #[arg(long)]
    token: Option<String>,
    #[arg(long, default_value_t = 50)]
    connections: usize,
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

async fn load(args: LoadArgs) -> anyhow::Result<()> {
    let addr = http_load::address(&args.url)?;
    let (path, token) = (args.path.clone(), args.token.clone());
    let make: http_load::MakeRequest =
        std::sync::Arc::new(move || http_load::get(&path, token.as_deref()));
    let mut sample = http_load::run(
        addr,
        make,
        args.connections,
        Duration::from_secs(1),
        Duration::from_secs(args.seconds),
    )
    .await?;
    println!(
        "{} {}: {:.0} req/s, {} errors, p50 {:.2} ms, p99 {:.2} ms",
        args.url,
        args.path,
        sample.rate(),
        sample.errors,
        http_load::quantile_ms(&mut sample.latencies_us, 0.5),
        http_load::quantile_ms(&mut sample.latencies_us, 0.99),
    );
    Ok(())
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// The `arcana` binary to measure. Unset: the harness builds it in release mode
    /// (`cargo build --release -p arcana-bootstrap --bins`) and measures that; the tier binaries
    /// next to it serve the layered rows.
    #[arg(long)]
    arcana: Option<PathBuf>,
    /// A few seconds per scenario: proves every scenario produces figures (CI), measures little.
    #[arg(long)]
    smoke: bool,
    /// Seconds of measurement per scenario and server.
    #[arg(long, default_value_t = 8)]
    seconds: u64,
    /// Also run on PostgreSQL: a throwaway database is created on this server (the URL's user
    /// must be allowed to) and dropped afterwards …
    #[arg(long, requires = "redis_url")]
    postgres_url: Option<String>,
    /// … with Redis (tiered cache, Redis sessions and login counters under a fresh key prefix).
    #[arg(long, requires = "postgres_url")]
    redis_url: Option<String>,
    /// Where `bench.md`, `bench.json` and `bench.svg` go.
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
}

impl RunArgs {
    /// The binary to measure, building it first when none was named.
    fn arcana(&self) -> anyhow::Result<PathBuf> {
        if let Some(path) = &self.arcana {
            return absolute(path);
        }
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = std::process::Command::new(cargo)
            // Every binary of the bootstrap crate: the layered rows start the tier binaries.
            .args(["build", "--release", "-p", "arcana-bootstrap", "--bins"])
            .status()?;
        anyhow::ensure!(status.success(), "building arcana failed");
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| PathBuf::from("target"), PathBuf::from);
        Ok(target.join("release").join("arcana"))
    }

    fn measure(&self) -> Duration {
        if self.smoke {
            Duration::from_secs(1)
        } else {
            Duration::from_secs(self.seconds)
        }
    }
}

/// `path` made absolute from this working directory: the servers are started from others.
fn absolute(path: &std::path::Path) -> anyhow::Result<PathBuf> {
    path.canonicalize()
        .with_context(|| format!("--arcana {}: no such binary", path.display()))
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Run(args) => runtime.block_on(scenarios::run(&args)),
        Command::BareHttp => runtime.block_on(bare::serve_http()),
        Command::BareGrpc => runtime.block_on(bare::serve_grpc()),
        Command::Load(args) => runtime.block_on(load(args)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_relative_path_is_made_absolute_from_the_working_directory() {
        // Tests run in the package's folder, which holds Cargo.toml.
        let resolved = super::absolute(std::path::Path::new("./Cargo.toml")).unwrap();
        assert!(resolved.is_absolute(), "{}", resolved.display());
        assert!(
            resolved.ends_with("bench/Cargo.toml"),
            "{}",
            resolved.display()
        );
        assert!(super::absolute(std::path::Path::new("./no-such-file")).is_err());
    }
}
