//! `ledgerlite`: serve the ledger (default) or manage tokens and tenants.

use std::process::ExitCode;

fn main() -> ExitCode {
    match ledgerlite::cli::run(ledgerlite::config::Config::from_env_and_args()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{}", ledgerlite::cli::one_line(&error));
            ExitCode::from(ledgerlite::cli::exit_code(&error))
        }
    }
}
