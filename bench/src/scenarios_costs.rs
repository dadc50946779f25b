//! What the inbound rate limits cost: `/api/v1/auth/me` on a server with every limit on (per
//! address, per user; set far above the load so none refuses, as in every row) alternating with
//! the same build with `rate_limit.enabled = false`, in the same run.

use std::path::Path;

use anyhow::Context as _;

use crate::http_load;
use crate::report::Row;
use crate::scenarios::{Plan, prepare, request};
use crate::scenarios_layered::{Side, alternate};
use crate::servers::{self, Backends};

pub async fn measure(plan: &Plan, binary: &Path, scratch: &Path) -> anyhow::Result<Vec<Row>> {
    let (on_scratch, off_scratch) = (&scratch.join("limits-on"), &scratch.join("limits-off"));
    std::fs::create_dir_all(on_scratch)?;
    std::fs::create_dir_all(off_scratch)?;
    let limited = servers::arcana(binary, &Backends::Embedded, on_scratch).await?;
    let off = [("ARCANA_RATE_LIMIT__ENABLED".to_owned(), "false".to_owned())];
    let unlimited = servers::arcana_with(binary, &Backends::Embedded, off_scratch, &off).await?;
    let on_rest = http_load::address(limited.rest.as_deref().context("REST")?)?;
    let off_rest = http_load::address(unlimited.rest.as_deref().context("REST")?)?;
    let (ours, theirs) = (prepare(on_rest).await?, prepare(off_rest).await?);
    let me = |token: &str| request("/api/v1/auth/me", Some(token.to_owned()));
    let on_side = Side {
        rest: on_rest,
        request: me(&ours.token),
        pid: limited.pid,
        tree: false,
    };
    let off_side = Side {
        rest: off_rest,
        request: me(&theirs.token),
        pid: unlimited.pid,
        tree: false,
    };
    let (mut row, _) = alternate(plan, &on_side, &off_side).await?;
    row.baseline = "limits off";
    "per-address and per-user limits checked on every request".clone_into(&mut row.note);
    Ok(vec![row.named(
        "GET /api/v1/auth/me",
        "rate limits (SQLite)",
        ">= 0.95x",
    )])
}
