//! The layered modes against the monolith, in the same run: the same reads through the
//! controller of a layered-gRPC and of a layered-HTTP deployment (three processes on this
//! machine, started by `arcana dev layered`), alternating with the monolith (A-B-B-A). Server CPU
//! per request is summed over the three tiers; the note derives what one internal hop costs
//! (both ends together) from the difference with the monolith.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context as _;

use crate::http_load::{self, MakeRequest, Sample};
use crate::proc_stats;
use crate::report::Row;
use crate::scenarios::{HTTP_CONNECTIONS, Plan, prepare, request};
use crate::servers::{self, Backends, Server};

/// One side of the comparison: where it listens, what to ask, and whose CPU it spends.
pub(crate) struct Side {
    pub(crate) rest: SocketAddr,
    pub(crate) request: MakeRequest,
    pub(crate) pid: u32,
    /// The monolith is one process; a layered deployment is its tiers (children of `pid`).
    pub(crate) tree: bool,
}

impl Side {
    fn cpu(&self) -> f64 {
        let seconds = if self.tree {
            proc_stats::tree_cpu_seconds(self.pid)
        } else {
            proc_stats::cpu_seconds(self.pid)
        };
        seconds.unwrap_or_default()
    }
}

/// `(scenario, hops to the service tier with warm caches, target)`.
const READS: [(&str, u32, &str); 3] = [
    ("GET /health", 0, "info"),
    ("GET /api/v1/auth/me", 1, ">= 0.45x monolith (gRPC)"),
    ("GET /api/v1/users/{id}", 2, "info"),
];

pub async fn measure(
    plan: &Plan,
    binary: &Path,
    monolith: &Server,
    scratch: &Path,
) -> anyhow::Result<Vec<Row>> {
    let mono_rest = http_load::address(monolith.rest.as_deref().context("monolith REST")?)?;
    let mono_account = prepare(mono_rest).await?;
    let mut rows = Vec::new();
    for (transport, label) in [
        ("grpc", "layered-grpc (SQLite)"),
        ("http", "layered-http (SQLite)"),
    ] {
        let dir = scratch.join(transport);
        std::fs::create_dir_all(&dir)?;
        let layered = servers::layered(binary, transport, &Backends::Embedded, &dir).await?;
        let rest = http_load::address(layered.rest.as_deref().context("controller REST")?)?;
        let account = prepare(rest).await?;
        for (name, hops, target) in READS {
            let ours = Side {
                rest,
                request: request(&read_path(name, &account.id), Some(account.token.clone())),
                pid: layered.pid,
                tree: true,
            };
            let theirs = Side {
                rest: mono_rest,
                request: request(
                    &read_path(name, &mono_account.id),
                    Some(mono_account.token.clone()),
                ),
                pid: monolith.pid,
                tree: false,
            };
            let (mut row, mono_cpu) = alternate(plan, &ours, &theirs).await?;
            row.baseline = "monolith";
            row.note = hop_note(row.cpu_us_per_request, mono_cpu, hops);
            rows.push(row.named(name, label, target));
        }
        drop(layered);
    }
    compare_transports(&mut rows);
    Ok(rows)
}

fn read_path(name: &str, id: &str) -> String {
    match name {
        "GET /health" => "/health".to_owned(),
        "GET /api/v1/auth/me" => "/api/v1/auth/me".to_owned(),
        _ => format!("/api/v1/users/{id}"),
    }
}

/// Notes layered-HTTP's `/me` throughput as a ratio to layered-gRPC's (its own target).
fn compare_transports(rows: &mut [Row]) {
    let me = |rows: &[Row], label: &str| {
        rows.iter()
            .position(|row| row.scenario == "GET /api/v1/auth/me" && row.backends == label)
    };
    let (Some(grpc), Some(http)) = (
        me(rows, "layered-grpc (SQLite)"),
        me(rows, "layered-http (SQLite)"),
    ) else {
        return;
    };
    if let (Some(http_rps), Some(grpc_rps)) = (rows[http].arcana_rps, rows[grpc].arcana_rps) {
        let _ = write!(
            rows[http].note,
            "; {:.2}x layered-gRPC (target >= 0.85x)",
            http_rps / grpc_rps
        );
    }
}

/// Ours, theirs, theirs, ours; returns the row and the other side's CPU per request.
pub(crate) async fn alternate(
    plan: &Plan,
    ours: &Side,
    theirs: &Side,
) -> anyhow::Result<(Row, Option<f64>)> {
    let mut layered = Sample::default();
    let mut monolith = Sample::default();
    let (mut layered_cpu, mut monolith_cpu) = (0.0, 0.0);
    for round in 0..4 {
        let side = if round == 0 || round == 3 {
            ours
        } else {
            theirs
        };
        let before = side.cpu();
        let sample = http_load::run(
            side.rest,
            side.request.clone(),
            HTTP_CONNECTIONS,
            plan.warm_up,
            plan.measure,
        )
        .await?;
        let spent = side.cpu() - before;
        if round == 0 || round == 3 {
            layered_cpu += spent;
            layered.merge(sample);
        } else {
            monolith_cpu += spent;
            monolith.merge(sample);
        }
    }
    let row = Row::versus(
        layered,
        &monolith,
        (layered_cpu, Some(monolith_cpu)),
        ours.pid,
    );
    let mono_per_request = row.baseline_cpu_us_per_request;
    Ok((row, mono_per_request))
}

fn hop_note(layered: Option<f64>, monolith: Option<f64>, hops: u32) -> String {
    match (layered, monolith) {
        (Some(layered), Some(monolith)) if hops > 0 => format!(
            "CPU {layered:.1} µs/req over 3 tiers vs {monolith:.1} monolith: {:.1} µs per hop (target <= 45)",
            (layered - monolith) / f64::from(hops)
        ),
        (Some(layered), Some(monolith)) => {
            format!(
                "CPU {layered:.1} µs/req vs {monolith:.1} monolith; answered by the controller alone"
            )
        }
        _ => String::new(),
    }
}
