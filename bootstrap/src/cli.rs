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
    /// Operate the job queue of the configured backend.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Internal TLS material of the layered modes.
    Tls {
        #[command(subcommand)]
        command: TlsCommand,
    },
    /// Try a deployment mode locally.
    Dev {
        #[command(subcommand)]
        command: DevCommand,
    },
    /// Sign and verify WebAssembly plugins.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Write a new signing key pair: `DIR/plugin.key` (secret, mode 0600) and `DIR/plugin.pub`
    /// (the one line that goes into `plugins.trusted_keys`).
    Keygen {
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Sign a module: writes `FILE.wasm.sig` beside it.
    Sign {
        file: std::path::PathBuf,
        /// The secret key file written by `keygen`.
        #[arg(long)]
        key: std::path::PathBuf,
    },
    /// Check `FILE.wasm.sig` against the module and a public key; exit status 0 only if valid.
    Verify {
        file: std::path::PathBuf,
        /// A `.pub` file written by `keygen`.
        #[arg(long)]
        key: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum TlsCommand {
    /// Write a development CA (`ca.pem`) and a certificate and key per tier
    /// (`controller.pem`/`.key`, `service.pem`/`.key`, `repository.pem`/`.key`).
    /// Development only: production brings certificates from its own CA.
    Init {
        /// Folder to write into (created if missing; existing files are not overwritten).
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum DevCommand {
    /// Start the controller, service and repository tiers on free ports with development
    /// certificates, print their addresses, and stop all three on Ctrl-C or SIGTERM.
    Layered {
        /// Transport between the tiers.
        #[arg(long, value_enum, default_value = "grpc")]
        transport: Transport,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Transport {
    Grpc,
    Http,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Enqueue jobs by name, e.g. `arcana jobs enqueue noop --count 1000` (smoke tests and
    /// benchmarks: the built-in `noop` and `sleep` jobs need no code).
    Enqueue(EnqueueArgs),
    /// Print every queue's counts.
    Stats,
}

#[derive(Debug, Args)]
pub struct EnqueueArgs {
    /// The job name, e.g. `noop`, `sleep`.
    pub(crate) name: String,
    /// The JSON payload, e.g. `{"ms": 100}` for `sleep`.
    #[arg(long, default_value = "{}")]
    pub(crate) payload: String,
    /// How many identical jobs to enqueue.
    #[arg(long, default_value_t = 1)]
    pub(crate) count: u64,
    /// low | normal | high | critical.
    #[arg(long, default_value = "normal")]
    pub(crate) priority: String,
    /// Run no earlier than this from now: `500ms`, `10s`, `5m`, `1h` (plain numbers are seconds).
    #[arg(long)]
    pub(crate) delay: Option<String>,
    #[arg(long, default_value = "default")]
    pub(crate) queue: String,
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
    pub(crate) username: String,
    #[arg(long)]
    pub(crate) email: String,
    /// Read the password from standard input (first line), so it stays out of shell history
    /// and process listings.
    #[arg(long, required = true)]
    pub(crate) password_stdin: bool,
}
