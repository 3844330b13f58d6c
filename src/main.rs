//! `ledgerlite`: serve the ledger (default) or manage tokens and tenants.

fn main() -> anyhow::Result<()> {
    ledgerlite::cli::run(ledgerlite::config::Config::from_env_and_args())
}
