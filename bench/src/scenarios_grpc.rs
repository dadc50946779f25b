//! gRPC scenarios: `Health/Check` and `ValidateToken` against a bare tonic server.

use anyhow::Context as _;

use crate::grpc_load::{self, Rpc};
use crate::http_load::Sample;
use crate::proc_stats;
use crate::report::Row;
use crate::scenarios::Plan;
use crate::servers::Server;

pub async fn measure(
    plan: &Plan,
    label: &'static str,
    arcana: &Server,
    bare: &Server,
    token: &str,
) -> anyhow::Result<Vec<Row>> {
    let ours = grpc_load::connect(arcana.grpc.as_deref().context("Arcana's gRPC address")?).await?;
    let theirs = grpc_load::connect(bare.grpc.as_deref().context("bare gRPC address")?).await?;
    let mut rows = Vec::new();
    for (name, rpc) in [
        ("gRPC Health/Check", Rpc::HealthCheck),
        ("gRPC ValidateToken", Rpc::ValidateToken),
    ] {
        let mut arcana_sample = Sample::default();
        let mut baseline = Sample::default();
        let (mut cpu, mut baseline_cpu) = (0.0, 0.0);
        for round in 0..4 {
            if round == 0 || round == 3 {
                let before = proc_stats::cpu_seconds(arcana.pid).unwrap_or_default();
                let sample = grpc_load::run(&ours, rpc, token, plan.warm_up, plan.measure).await;
                cpu += proc_stats::cpu_seconds(arcana.pid).unwrap_or_default() - before;
                arcana_sample.merge(sample);
            } else {
                let before = proc_stats::cpu_seconds(bare.pid).unwrap_or_default();
                let sample = grpc_load::run(&theirs, rpc, token, plan.warm_up, plan.measure).await;
                baseline_cpu += proc_stats::cpu_seconds(bare.pid).unwrap_or_default() - before;
                baseline.merge(sample);
            }
        }
        let row = Row::versus(
            arcana_sample,
            &baseline,
            (cpu, Some(baseline_cpu)),
            arcana.pid,
        );
        let target = match rpc {
            Rpc::HealthCheck => ">= 0.9x bare tonic",
            Rpc::ValidateToken => ">= 0.95x bare tonic",
        };
        rows.push(row.named(name, label, target));
    }
    Ok(rows)
}
