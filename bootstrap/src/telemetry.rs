//! Logging: human-readable in development, one JSON object per line in production. Logs go to
//! standard error; standard output carries only the lines scripts read (listening addresses).

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, Settings};

pub fn init(settings: &Settings) {
    let filter = EnvFilter::try_new(&settings.observability.log_level)
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // `try_init` fails only if a subscriber is already set (a second call in one process), in
    // which case the first one keeps working.
    let _ = match settings.observability.format_for(settings.environment) {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}
