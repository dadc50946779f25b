//! What a feature costs on the hot path: `/api/v1/auth/me` on a server with the feature on
//! alternating with the same build with it off, in the same run.
//!
//! - Rate limits: every limit on (per address, per user; set far above the load so none refuses,
//!   as in every row) against `rate_limit.enabled = false`.
//! - Trace export: every request sampled and exported over OTLP/gRPC to a collector in the
//!   harness against no `observability.otlp_endpoint`.

use std::path::Path;

use anyhow::Context as _;

use crate::collector::SpanCounter;
use crate::http_load;
use crate::report::Row;
use crate::scenarios::{Plan, prepare, request};
use crate::scenarios_layered::{Side, alternate};
use crate::servers::{self, Backends, Server};

pub async fn measure(plan: &Plan, binary: &Path, scratch: &Path) -> anyhow::Result<Vec<Row>> {
    let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    let limits_off = [pair("ARCANA_RATE_LIMIT__ENABLED", "false")];
    let mut limits = switched(plan, binary, &scratch.join("limits"), (&[], &limits_off)).await?;
    limits.baseline = "limits off";
    "per-address and per-user limits checked on every request".clone_into(&mut limits.note);

    let collector = SpanCounter::start().await?;
    let export_on = [
        pair("ARCANA_OBSERVABILITY__OTLP_ENDPOINT", &collector.endpoint()),
        pair("ARCANA_OBSERVABILITY__TRACE_SAMPLE_RATIO", "1.0"),
    ];
    let mut traces = switched(plan, binary, &scratch.join("traces"), (&export_on, &[])).await?;
    traces.baseline = "export off";
    #[expect(clippy::cast_precision_loss, reason = "span counts are far below 2^52")]
    let exported = collector.spans() as f64;
    traces.note = format!(
        "every request sampled; {exported:.0} spans reached the collector (the SDK drops \
         what its queue cannot hold)"
    );
    Ok(vec![
        limits.named("GET /api/v1/auth/me", "rate limits (SQLite)", ">= 0.95x"),
        traces.named("GET /api/v1/auth/me", "trace export (SQLite)", ">= 0.9x"),
    ])
}

/// Settings a server is started with, on top of the harness's.
type Env = [(String, String)];

/// `/me` on a server started with `on` alternating with one started with `off`.
async fn switched(
    plan: &Plan,
    binary: &Path,
    scratch: &Path,
    (on, off): (&Env, &Env),
) -> anyhow::Result<Row> {
    let (on_scratch, off_scratch) = (scratch.join("on"), scratch.join("off"));
    std::fs::create_dir_all(&on_scratch)?;
    std::fs::create_dir_all(&off_scratch)?;
    let with = servers::arcana_with(binary, &Backends::Embedded, &on_scratch, on).await?;
    let without = servers::arcana_with(binary, &Backends::Embedded, &off_scratch, off).await?;
    me_versus(plan, &with, &without).await
}

/// `/me` (a fresh user on each server) on `with` alternating with `without`.
pub(crate) async fn me_versus(plan: &Plan, with: &Server, without: &Server) -> anyhow::Result<Row> {
    let on_rest = http_load::address(with.rest.as_deref().context("REST")?)?;
    let off_rest = http_load::address(without.rest.as_deref().context("REST")?)?;
    let (ours, theirs) = (prepare(on_rest).await?, prepare(off_rest).await?);
    let me = |token: &str| request("/api/v1/auth/me", Some(token.to_owned()));
    let on_side = Side {
        rest: on_rest,
        request: me(&ours.token),
        pid: with.pid,
        tree: false,
    };
    let off_side = Side {
        rest: off_rest,
        request: me(&theirs.token),
        pid: without.pid,
        tree: false,
    };
    let (row, _) = alternate(plan, &on_side, &off_side).await?;
    Ok(row)
}
