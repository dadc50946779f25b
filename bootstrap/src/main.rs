//! The `arcana` binary: the monolith server and the operator's command line.

use std::process::ExitCode;

use arcana_bootstrap::cli::{
    Cli, Command, ConfigCommand, DevCommand, JobsCommand, TlsCommand, UserCommand,
};
use arcana_bootstrap::{admin, config, dev, jobs_cli, migrate, plugin_cli, process, serve, tls};
use clap::Parser;

fn main() -> ExitCode {
    let command = Cli::parse().command.unwrap_or(Command::Serve);
    // Writing certificates needs no configuration, so it works before there is any.
    if let Command::Tls {
        command: TlsCommand::Init { out },
    } = &command
    {
        return match tls::init(out) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: {err:#}");
                ExitCode::FAILURE
            }
        };
    }
    if let Command::Plugin { command } = &command {
        return match plugin_cli::run(command) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: {err:#}");
                ExitCode::FAILURE
            }
        };
    }
    process::run(|settings| async move {
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
    })
}
