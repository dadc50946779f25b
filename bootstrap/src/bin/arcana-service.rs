//! The `arcana-service` binary: the service tier of a layered deployment (docs/DEPLOYMENT.md).

fn main() -> std::process::ExitCode {
    arcana_bootstrap::process::run(arcana_bootstrap::tiers::service::run)
}
