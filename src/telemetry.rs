//! Logging: `tracing` to stderr, filtered by `LEDGERLITE_LOG` (default `info`, with the HTTP
//! framework's own start and stop lines at debug), as text or, with
//! `LEDGERLITE_LOG_FORMAT=json`, one JSON object per line. Text is coloured only on a terminal
//! and never when `NO_COLOR` is set. Every request runs in a `request` span carrying its
//! request id, method, route and tenant; bodies, tokens and amounts are never logged.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// The filter when `LEDGERLITE_LOG` is unset: ledgerlite's lines at info; actix's worker and
/// signal chatter (info in actix) only when asked for with `LEDGERLITE_LOG=debug`.
pub const LOG_FILTER_DEFAULT: &str = "info,actix_server=warn";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Whether text logs may carry colour escapes: only onto a terminal, and not when `NO_COLOR`
/// is set to anything non-empty (<https://no-color.org>).
fn colour() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stderr().is_terminal()
}

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_env("LEDGERLITE_LOG")
        .unwrap_or_else(|_| EnvFilter::new(LOG_FILTER_DEFAULT));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(colour()).try_init(),
        LogFormat::Json => builder.json().with_current_span(true).try_init(),
    };
}
