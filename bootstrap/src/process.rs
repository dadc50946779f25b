//! What every binary's `main` does around its own work: load the configuration (exit 2 with
//! every problem listed if it is invalid), start the runtime, run, report the outcome.

use std::process::ExitCode;

use crate::config::{self, Settings};

/// Runs `work` on a multi-threaded runtime with the loaded configuration.
pub fn run<F, Fut>(work: F) -> ExitCode
where
    F: FnOnce(Settings) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
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
    let outcome = runtime.block_on(work(settings));
    // Everything that matters has finished by now; a blocking reader (a supervised tier's
    // standard input) must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.is::<config::ConfigErrors>() => {
            eprintln!("{err}");
            ExitCode::from(2)
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
