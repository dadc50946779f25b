//! Command-line surface of `arcana`.

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "arcana", version, about = "Arcana account service")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply pending database migrations.
    Migrate {
        /// Only list pending migrations; exit status 1 if there are any.
        #[arg(long)]
        check: bool,
    },
    /// Inspect the effective configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Manage accounts from the command line.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the merged configuration as JSON, secrets redacted.
    Show,
    /// Validate the configuration; exit status 2 and every problem listed if it is invalid.
    Check,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a superadmin in the configured database.
    CreateAdmin(CreateAdminArgs),
}

#[derive(Debug, Args)]
pub struct CreateAdminArgs {
    #[arg(long)]
    pub username: String,
    #[arg(long)]
    pub email: String,
    /// Read the password from standard input (first line), so it stays out of shell history
    /// and process listings.
    #[arg(long, required = true)]
    pub password_stdin: bool,
}
