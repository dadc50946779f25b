//! The results: one row per scenario and backend set, written as Markdown, JSON and an SVG chart
//! of Arcana's ratio to its baseline.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::http_load::{Sample, quantile_ms};
use crate::proc_stats;

#[derive(Debug, Serialize)]
pub struct Row {
    pub scenario: &'static str,
    pub backends: &'static str,
    pub arcana_rps: Option<f64>,
    /// What the ratio is taken against.
    pub baseline: &'static str,
    pub baseline_rps: Option<f64>,
    pub ratio: Option<f64>,
    pub target: &'static str,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub errors: u64,
    /// Server CPU (user + system) per successful request.
    pub cpu_us_per_request: Option<f64>,
    /// The same for the baseline server, where the harness runs it.
    pub baseline_cpu_us_per_request: Option<f64>,
    pub peak_rss_mib: Option<f64>,
    /// User-space instructions per request on the server (callgrind), Arcana's and the
    /// baseline's; they do not move with a noisy neighbour.
    pub instructions: Option<f64>,
    pub baseline_instructions: Option<f64>,
    pub note: String,
}

impl Row {
    fn empty() -> Self {
        Self {
            scenario: "",
            backends: "",
            arcana_rps: None,
            baseline: "",
            baseline_rps: None,
            ratio: None,
            target: "",
            p50_ms: None,
            p99_ms: None,
            errors: 0,
            cpu_us_per_request: None,
            baseline_cpu_us_per_request: None,
            peak_rss_mib: None,
            instructions: None,
            baseline_instructions: None,
            note: String::new(),
        }
    }

    /// `cpu_seconds`: Arcana's and, where measured, the baseline's, over their own samples.
    pub fn versus(
        mut arcana: Sample,
        baseline: &Sample,
        (cpu_seconds, baseline_cpu_seconds): (f64, Option<f64>),
        pid: u32,
    ) -> Self {
        let (ours, theirs) = (arcana.rate(), baseline.rate());
        #[expect(
            clippy::cast_precision_loss,
            reason = "request counts are far below 2^52"
        )]
        let per_request = |seconds: f64, ok: u64| (ok > 0).then(|| seconds * 1e6 / ok as f64);
        Self {
            arcana_rps: Some(ours),
            baseline: "bare",
            baseline_rps: Some(theirs),
            ratio: (theirs > 0.0).then(|| ours / theirs),
            p50_ms: Some(quantile_ms(&mut arcana.latencies_us, 0.5)),
            p99_ms: Some(quantile_ms(&mut arcana.latencies_us, 0.99)),
            errors: arcana.errors + baseline.errors,
            cpu_us_per_request: per_request(cpu_seconds, arcana.ok),
            baseline_cpu_us_per_request: baseline_cpu_seconds
                .and_then(|seconds| per_request(seconds, baseline.ok)),
            peak_rss_mib: proc_stats::rss_mib(pid).map(|(_, peak)| peak),
            ..Self::empty()
        }
    }

    pub fn named(
        mut self,
        scenario: &'static str,
        backends: &'static str,
        target: &'static str,
    ) -> Self {
        self.scenario = scenario;
        self.backends = backends;
        self.target = target;
        self
    }

    pub fn idle(
        backends: &'static str,
        rss_mib: Option<f64>,
        anon_mib: Option<f64>,
        ready: Option<Duration>,
    ) -> Self {
        Self {
            scenario: "idle: RSS, start to first /health 200",
            backends,
            target: "<= 16 MiB, <= 25 ms",
            peak_rss_mib: rss_mib,
            note: match (rss_mib, ready) {
                (Some(rss), Some(ready)) => format!(
                    "idle RSS {rss:.1} MiB, of which anonymous {}; ready in {:.1} ms (median of the starts)",
                    anon_mib.map_or_else(|| "–".to_owned(), |anon| format!("{anon:.1} MiB")),
                    ready.as_secs_f64() * 1000.0
                ),
                _ => String::new(),
            },
            ..Self::empty()
        }
    }

    pub fn login(
        backends: &'static str,
        mut sample: Sample,
        limit: f64,
        one_login: f64,
        health_p99_ms: f64,
        cpu_seconds: f64,
        pid: u32,
    ) -> Self {
        let rate = sample.rate();
        #[expect(
            clippy::cast_precision_loss,
            reason = "request counts are far below 2^52"
        )]
        let cpu = (sample.ok > 0).then(|| cpu_seconds * 1e6 / sample.ok as f64);
        Self {
            scenario: "POST /api/v1/auth/login",
            backends,
            arcana_rps: Some(rate),
            baseline: "Argon2 limit",
            baseline_rps: Some(limit),
            ratio: (limit > 0.0).then(|| rate / limit),
            target: ">= 0.9x; /health p99 < 10 ms; peak RSS < 100 MiB",
            p50_ms: Some(quantile_ms(&mut sample.latencies_us, 0.5)),
            p99_ms: Some(quantile_ms(&mut sample.latencies_us, 0.99)),
            errors: sample.errors,
            cpu_us_per_request: cpu,
            baseline_cpu_us_per_request: None,
            peak_rss_mib: proc_stats::rss_mib(pid).map(|(_, peak)| peak),
            instructions: None,
            baseline_instructions: None,
            note: format!(
                "one login {:.1} ms; /health p99 during logins {health_p99_ms:.2} ms",
                one_login * 1000.0
            ),
        }
    }

    /// Jobs completed per second against `redis-benchmark`'s SET rate on the same server.
    pub fn jobs(
        backends: &'static str,
        jobs: u64,
        seconds: f64,
        set_rate: f64,
        peak_rss_mib: Option<f64>,
    ) -> Self {
        #[expect(clippy::cast_precision_loss, reason = "job counts are far below 2^52")]
        let rate = jobs as f64 / seconds;
        Self {
            scenario: "jobs: no-op, enqueue → complete",
            backends,
            arcana_rps: Some(rate),
            baseline: "redis-benchmark SET -c 50",
            baseline_rps: Some(set_rate),
            ratio: (set_rate > 0.0).then(|| rate / set_rate),
            target: ">= 0.35x",
            peak_rss_mib,
            note: format!("{jobs} no-op jobs enqueued by `arcana jobs enqueue` while workers ran"),
            ..Self::empty()
        }
    }

    /// Whether the scenario produced what it should (what the smoke run checks).
    pub fn has_figures(&self) -> bool {
        match self.arcana_rps {
            Some(rate) => rate > 0.0 && self.ratio.is_some(),
            None => self.peak_rss_mib.is_some() && !self.note.is_empty(),
        }
    }
}

fn cell(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{v:.decimals$}"))
}

/// `23.4 (14.1)`: Arcana's CPU µs per request and the baseline's, where measured.
fn cpu(row: &Row) -> String {
    match row.baseline_cpu_us_per_request {
        Some(theirs) => format!("{} ({theirs:.1})", cell(row.cpu_us_per_request, 1)),
        None => cell(row.cpu_us_per_request, 1),
    }
}

/// `158.2k (74.6k, 2.12x)`: thousands of instructions, the baseline's, and their ratio.
fn instructions(row: &Row) -> String {
    match (row.instructions, row.baseline_instructions) {
        (Some(ours), Some(theirs)) if theirs > 0.0 => format!(
            "{:.1}k ({:.1}k, {:.2}x)",
            ours / 1e3,
            theirs / 1e3,
            ours / theirs
        ),
        (Some(ours), _) => format!("{:.1}k", ours / 1e3),
        _ => "–".to_owned(),
    }
}

pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| scenario | backends | Arcana req/s | baseline | baseline req/s | ratio | target | p50 ms | p99 ms | CPU µs/req (baseline) | instr/req (baseline) | peak RSS MiB | notes |\n|---|---|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---|\n",
    );
    for row in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row.scenario,
            row.backends,
            cell(row.arcana_rps, 0),
            row.baseline,
            cell(row.baseline_rps, 0),
            cell(row.ratio, 2),
            row.target,
            cell(row.p50_ms, 2),
            cell(row.p99_ms, 2),
            cpu(row),
            instructions(row),
            cell(row.peak_rss_mib, 1),
            row.note,
        );
    }
    out
}

/// Horizontal bars of each ratio, with the SPEC target marked; written by hand so the harness
/// needs no plotting or font stack.
pub fn svg(rows: &[Row]) -> String {
    let bars: Vec<&Row> = rows.iter().filter(|row| row.ratio.is_some()).collect();
    let (label_w, bar_w, row_h) = (330.0, 420.0, 26.0);
    #[expect(clippy::cast_precision_loss, reason = "a handful of rows")]
    let height = 40.0 + row_h * bars.len() as f64;
    let scale = |ratio: f64| bar_w * ratio.min(1.5) / 1.5;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n",
        label_w + bar_w + 60.0
    );
    let _ = writeln!(
        out,
        "<text x=\"{label_w}\" y=\"16\">Arcana ÷ baseline (same run); grey line = 1.0×</text>"
    );
    let one = label_w + scale(1.0);
    let _ = writeln!(
        out,
        "<line x1=\"{one}\" y1=\"22\" x2=\"{one}\" y2=\"{height}\" stroke=\"#999\"/>"
    );
    for (index, row) in bars.iter().enumerate() {
        #[expect(clippy::cast_precision_loss, reason = "a handful of rows")]
        let y = 26.0 + row_h * index as f64;
        let ratio = row.ratio.unwrap_or_default();
        let _ = writeln!(
            out,
            "<text x=\"4\" y=\"{}\">{} ({})</text>\n<rect x=\"{label_w}\" y=\"{y}\" width=\"{:.1}\" height=\"{}\" fill=\"#4a7bd0\"/>\n<text x=\"{:.1}\" y=\"{}\">{ratio:.2}×</text>",
            y + 15.0,
            escape(row.scenario),
            escape(row.backends),
            scale(ratio),
            row_h - 8.0,
            label_w + scale(ratio) + 4.0,
            y + 15.0,
        );
    }
    out.push_str("</svg>\n");
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub fn write(dir: &Path, rows: &[Row], smoke: bool) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let table = markdown(rows);
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let header = format!(
        "Arcana benchmark{} — {cores} cores, loopback; each ratio measured in this run, \
         alternating Arcana and its baseline.\n\n",
        if smoke {
            " (smoke run: figures prove the harness works, not the server)"
        } else {
            ""
        }
    );
    std::fs::write(dir.join("bench.md"), format!("{header}{table}"))?;
    std::fs::write(dir.join("bench.json"), serde_json::to_string_pretty(rows)?)?;
    std::fs::write(dir.join("bench.svg"), svg(rows))?;
    println!("{header}{table}");
    println!("written: {}/bench.{{md,json,svg}}", dir.display());
    Ok(())
}
