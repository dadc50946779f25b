//! The `arcana` binary: the monolith server and the operator's command line.

use std::process::ExitCode;

use arcana_bootstrap::cli::{Cli, Command, ConfigCommand, JobsCommand, UserCommand};
use arcana_bootstrap::{admin, config, jobs_cli, migrate, serve};
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match config::load() {
        Ok(settings) => settings,
        Err(errors) => {
            eprintln!("{errors}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => runtime.block_on(serve::run(settings)),
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
        } => runtime.block_on(admin::create_admin(settings, args)),
        Command::Migrate { check } => runtime.block_on(migrate::run(&settings, check)),
        Command::Jobs {
            command: JobsCommand::Enqueue(args),
        } => runtime.block_on(jobs_cli::enqueue(&settings, args)),
        Command::Jobs {
            command: JobsCommand::Stats,
        } => runtime.block_on(jobs_cli::stats(&settings)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
