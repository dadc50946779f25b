//! The `arcana-worker` binary: job workers and the cron scheduler, without the HTTP server.

fn main() -> std::process::ExitCode {
    arcana_bootstrap::process::run(arcana_bootstrap::worker::run)
}
