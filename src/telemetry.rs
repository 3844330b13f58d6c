//! Logging: `tracing` to stderr, filtered by `LEDGERLITE_LOG` (default `info`), as text or, with
//! `LEDGERLITE_LOG_FORMAT=json`, one JSON object per line. Every request runs in a `request`
//! span carrying its request id, method, route and tenant; bodies, tokens and amounts are never
//! logged.

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_env("LEDGERLITE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().with_current_span(true).try_init(),
    };
}
