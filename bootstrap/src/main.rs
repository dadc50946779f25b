//! The `arcana` binary: the monolith server and the operator's command line.

use std::process::ExitCode;

use arcana_bootstrap::cli::{
    Cli, Command, ConfigCommand, DevCommand, JobsCommand, TlsCommand, UserCommand,
};
use arcana_bootstrap::config::Settings;
use arcana_bootstrap::{
    admin, config, dev, jobs_cli, migrate, plugin_cli, process, serve, tiers, tls, worker,
};
use clap::Parser;

fn main() -> ExitCode {
    if let Some(code) = run_as_tier() {
        return code;
    }
    let command = Cli::parse().command.unwrap_or(Command::Serve);
    if let Some(code) = run_without_configuration(&command) {
        return code;
    }
    process::run(|settings| run(command, settings))
}

/// The commands that need no configuration, so that they work before there is any: writing
/// certificates, signing and checking plugins.
fn run_without_configuration(command: &Command) -> Option<ExitCode> {
    let outcome = match command {
        Command::Tls {
            command: TlsCommand::Init { out },
        } => tls::init(out),
        Command::Plugin { command } => plugin_cli::run(command),
        _ => return None,
    };
    Some(match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    })
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        // The whole server's state machine: on the heap, not in this future.
        Command::Serve => Box::pin(serve::run(settings)).await,
        Command::Config {
            command: ConfigCommand::Show,
        } => config::show(&settings),
        Command::Config {
            command: ConfigCommand::Check,
        } => {
            println!("configuration is valid");
            Ok(())
        }
        Command::User {
            command: UserCommand::CreateAdmin(args),
        } => admin::create_admin(settings, args).await,
        Command::Migrate { check } => migrate::run(&settings, check).await,
        Command::Jobs {
            command: JobsCommand::Enqueue(args),
        } => jobs_cli::enqueue(&settings, args).await,
        Command::Jobs {
            command: JobsCommand::Stats,
        } => jobs_cli::stats(&settings).await,
        Command::Dev {
            command: DevCommand::Layered { transport },
        } => dev::layered(transport).await,
        Command::Tls { .. } | Command::Plugin { .. } => Ok(()),
    }
}

/// One binary under several names: the container image ships `arcana` once, with
/// `arcana-controller`, `arcana-service`, `arcana-repository` and `arcana-worker` as links to
/// it (one release link instead of five, a fifth of the image). Invoked under a tier's name, it
/// is that tier's binary, exactly as the separate `[[bin]]` targets are.
fn run_as_tier() -> Option<ExitCode> {
    let argv0 = std::env::args_os().next()?;
    let name = std::path::Path::new(&argv0).file_name()?.to_str()?;
    let code = match name {
        "arcana-controller" => process::run(tiers::controller::run),
        "arcana-service" => process::run(tiers::service::run),
        "arcana-repository" => process::run(tiers::repository::run),
        "arcana-worker" => process::run(worker::run),
        _ => return None,
    };
    Some(code)
}
