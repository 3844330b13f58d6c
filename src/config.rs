//! Configuration: every setting is a flag and a `LEDGERLITE_*` environment variable.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};

use crate::startup::{CLIENT_DISCONNECT_TIMEOUT_MS, CLIENT_REQUEST_TIMEOUT_MS, KEEP_ALIVE_MS};
use crate::store::files::Checkpoints;
use crate::store::{StoreConfig, SyncMode};

pub use crate::store::registry::{
    TENANT_CACHE_DEFAULT, TENANT_CACHE_MIB_DEFAULT, TENANT_IDLE_SECS_DEFAULT,
};
/// Smallest accepted `LEDGERLITE_TENANT_MAX_BYTES`, in bytes: room for the schema and some data.
pub const TENANT_MAX_BYTES_MIN: u64 = 1024 * 1024;
/// Lifetime of a token minted by `ledgerlite token` when `--ttl` is not given, in seconds.
pub const TOKEN_TTL_DEFAULT_SECONDS: u64 = 3600;
/// Shortest admin token accepted, in bytes: a guessable credential guards every tenant.
pub const ADMIN_TOKEN_LENGTH_MIN_BYTES: usize = 16;

#[derive(Debug, Parser)]
#[command(
    name = "ledgerlite",
    version,
    about = "Embedded multi-tenant double-entry ledger (Midaz v3.8 API on SQLite)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (the default).
    Serve,
    /// Print the version and the schema version this binary writes.
    Version,
    /// Mint a development token signed with the configured HS256 secret.
    Token {
        /// Tenant id to put in the tenant claim.
        #[arg(long)]
        tenant: String,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = TOKEN_TTL_DEFAULT_SECONDS)]
        ttl: u64,
        /// Space-separated `resource:action` scopes; none gives full access in the tenant.
        #[arg(long)]
        scope: Option<String>,
    },
    /// Manage tenants in the data folder.
    Tenant {
        #[command(subcommand)]
        action: TenantAction,
    },
    /// Audit tenants: the hash chain, every balance against its operations, conservation per
    /// asset. Exits 5 naming the first mismatches if anything is wrong.
    Verify {
        /// The tenant to audit (`default` in single-tenant installs).
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        tenant: Option<String>,
        /// Audit every tenant in the data folder.
        #[arg(long)]
        all: bool,
    },
    /// Replicate the data folder with Litestream.
    Replication {
        #[command(subcommand)]
        action: ReplicationAction,
    },
    /// Print a completion script for a shell, e.g. `ledgerlite completions bash >
    /// /etc/bash_completion.d/ledgerlite`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
pub enum TenantAction {
    /// Create a tenant's file.
    Create { id: String },
    /// List tenants in id order, one per line, with `suspended`, `read-only` or `moved [URL]`
    /// after those in such a state: all of them (read a chunk at a time), or one page with
    /// `--limit`/`--cursor`, the next page's cursor then printed on stderr.
    List {
        /// Print one page of at most this many tenants.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        limit: Option<u64>,
        /// Print the page at this cursor (a `next cursor` or `prev cursor` printed before,
        /// or the API's `next_cursor`/`prev_cursor`).
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Refuse every request of a tenant with 403 until it is resumed.
    Suspend { id: String },
    /// Serve a suspended tenant again.
    Resume { id: String },
    /// Freeze a tenant before moving it: writes get 503 TENANT_READ_ONLY, reads are served;
    /// returns once no write can still commit (safe beside a running server).
    Freeze { id: String },
    /// Take writes again on a frozen tenant.
    Unfreeze { id: String },
    /// Mark a tenant moved to another node: every request gets 421 TENANT_MOVED (and the new
    /// node's URL). Freezes it too.
    Move {
        id: String,
        /// The new node's URL (http:// or https://), told to clients.
        #[arg(long)]
        to: Option<String>,
    },
    /// Serve a moved tenant here again (it stays frozen until `unfreeze`).
    Unmove { id: String },
    /// Copy a tenant's file consistently with SQLite's online backup API; safe while the
    /// server runs.
    Backup {
        id: String,
        /// Backup file to write.
        #[arg(long)]
        to: PathBuf,
        /// Overwrite the backup file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Create or replace a tenant from a backup file or a Litestream replica; refused while
    /// the tenant is in use.
    Restore {
        /// The tenant; every tenant of the replica with `--all`.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<String>,
        /// Backup file to read (written by `tenant backup`).
        #[arg(
            long,
            required_unless_present = "from_replica",
            conflicts_with = "from_replica"
        )]
        from: Option<PathBuf>,
        /// Litestream replica URL (file://, sftp:// or s3://) the tenant is restored from,
        /// through `litestream restore`; the file is checked like `verify` before it is installed.
        #[arg(long)]
        from_replica: Option<String>,
        /// With `--from-replica`: the tenant as it was at this RFC 3339 time.
        #[arg(long, requires = "from_replica")]
        at: Option<String>,
        /// With `--from-replica`: restore every tenant of the replica (a file:// replica is
        /// listed; for sftp:// and s3:// name them with `--ids`).
        #[arg(long, requires = "from_replica")]
        all: bool,
        /// With `--all`: the tenants to restore, one id per line (the first word of each
        /// line, as `tenant list` prints them; blank lines and `#` comments skipped).
        #[arg(long)]
        ids: Option<PathBuf>,
        /// With an sftp:// replica: the SSH private key.
        #[arg(long, requires = "from_replica")]
        sftp_key: Option<PathBuf>,
        /// Replace an existing tenant.
        #[arg(long)]
        force: bool,
    },
    /// Remove every file of a tenant; refused while the tenant is in use.
    Delete {
        id: String,
        /// Confirm the deletion.
        #[arg(long)]
        yes: bool,
    },
    /// Write every row of a tenant (every table of its schema) as JSON lines.
    Export {
        id: String,
        /// Output file; standard output when absent.
        #[arg(long)]
        to: Option<PathBuf>,
    },
    /// Create or replace a tenant from an export; checked like `verify` before it is put in
    /// place, refused while the tenant is in use.
    Import {
        id: String,
        /// Export to read (written by `tenant export`).
        #[arg(long)]
        from: PathBuf,
        /// Replace an existing tenant.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReplicationAction {
    /// Show a tenant's local position (its write-ahead log, and the Litestream transaction
    /// that holds it) and its replicated position; `in sync` once they match. Move a frozen
    /// tenant only then.
    Status {
        id: String,
        /// Replica URL; `LEDGERLITE_REPLICA` when absent.
        #[arg(long)]
        replica: Option<String>,
        /// With an sftp:// replica: the SSH private key.
        #[arg(long)]
        sftp_key: Option<PathBuf>,
    },
    /// Print (or write) the Litestream configuration that replicates every tenant of the data
    /// folder to a replica, tenants created later included.
    Config {
        /// Replica URL: file:///path, sftp://user@host:port/path or s3://bucket/path.
        #[arg(long)]
        replica: String,
        /// With an sftp:// replica: the SSH private key Litestream logs in with.
        #[arg(long)]
        sftp_key: Option<PathBuf>,
        /// File to write (e.g. /etc/litestream.yml); standard output when absent.
        #[arg(long)]
        to: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Listen address.
    #[arg(
        long,
        env = "LEDGERLITE_ADDR",
        default_value = "127.0.0.1:3002",
        global = true
    )]
    pub addr: String,
    /// Data folder; tenant files live in `tenants/` below it.
    #[arg(
        long,
        env = "LEDGERLITE_DATA_DIR",
        default_value = "./data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Take the tenant from the JWT claim; a verified token is required.
    #[arg(long, env = "LEDGERLITE_MULTI_TENANT", global = true, action = ArgAction::Set,
          num_args = 0..=1, default_value_t = false, default_missing_value = "true",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub multi_tenant: bool,
    /// Require a verified JWT also in single-tenant mode.
    #[arg(long, env = "LEDGERLITE_AUTH", global = true, action = ArgAction::Set,
          num_args = 0..=1, default_value_t = false, default_missing_value = "true",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub auth: bool,
    /// HS256 secret.
    #[arg(
        long,
        env = "LEDGERLITE_JWT_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub jwt_secret: Option<String>,
    /// Path to a PEM public key (RS256, ES256 or EdDSA).
    #[arg(long, env = "LEDGERLITE_JWT_PUBLIC_KEY", global = true)]
    pub jwt_public_key: Option<PathBuf>,
    /// The one signature algorithm accepted: HS256, RS256, ES256 or EdDSA.
    #[arg(
        long,
        env = "LEDGERLITE_JWT_ALGORITHM",
        default_value = "HS256",
        global = true
    )]
    pub jwt_algorithm: String,
    /// Required `iss` claim, when set.
    #[arg(long, env = "LEDGERLITE_JWT_ISSUER", global = true)]
    pub jwt_issuer: Option<String>,
    /// Required `aud` claim, when set.
    #[arg(long, env = "LEDGERLITE_JWT_AUDIENCE", global = true)]
    pub jwt_audience: Option<String>,
    /// Claim that names the tenant.
    #[arg(
        long,
        env = "LEDGERLITE_TENANT_CLAIM",
        default_value = "tenantId",
        global = true
    )]
    pub tenant_claim: String,
    /// Create a tenant's file on its first request instead of answering 404.
    #[arg(long, env = "LEDGERLITE_AUTO_PROVISION", global = true, action = ArgAction::Set,
          num_args = 0..=1, default_value_t = false, default_missing_value = "true",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub auto_provision: bool,
    /// Open tenants kept in the LRU.
    #[arg(long, env = "LEDGERLITE_TENANT_CACHE", default_value_t = NonZeroUsize::new(TENANT_CACHE_DEFAULT).unwrap_or(NonZeroUsize::MIN), global = true)]
    pub tenant_cache: NonZeroUsize,
    /// SQLite memory of all tenants together, in MiB, above which closed tenants' parked
    /// connections are closed and fewer tenants stay open.
    #[arg(long, env = "LEDGERLITE_TENANT_CACHE_MIB", default_value_t = TENANT_CACHE_MIB_DEFAULT, global = true)]
    pub tenant_cache_mib: u64,
    /// Seconds without a request after which a tenant is closed and (see
    /// `LEDGERLITE_IDLE_CHECKPOINT`) checkpointed; 0 keeps idle tenants open.
    #[arg(long, env = "LEDGERLITE_TENANT_IDLE_SECS", default_value_t = TENANT_IDLE_SECS_DEFAULT, global = true)]
    pub tenant_idle_secs: u64,
    /// Checkpoint an idle tenant's WAL into its file and truncate the WAL (off when a
    /// replication tool must run the checkpoints itself).
    #[arg(long, env = "LEDGERLITE_IDLE_CHECKPOINT", global = true, action = ArgAction::Set,
          num_args = 0..=1, default_value_t = true, default_missing_value = "true",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub idle_checkpoint: bool,
    /// Log lines as `text` or `json` (the filter is `LEDGERLITE_LOG`).
    #[arg(
        long,
        env = "LEDGERLITE_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true,
        ignore_case = true
    )]
    pub log_format: crate::telemetry::LogFormat,
    /// SQLite `synchronous`: `full` survives power loss, `normal` only a process crash.
    #[arg(
        long,
        env = "LEDGERLITE_SYNC",
        value_enum,
        default_value = "full",
        global = true,
        ignore_case = true
    )]
    pub sync: SyncMode,
    /// Largest size of one tenant's database in bytes (at least 1 MiB); writes that would
    /// grow it further get 503 STORAGE_UNAVAILABLE, reads keep working. Unset: the disk is the
    /// limit.
    #[arg(long, env = "LEDGERLITE_TENANT_MAX_BYTES", global = true,
          value_parser = clap::value_parser!(u64).range(TENANT_MAX_BYTES_MIN..))]
    pub tenant_max_bytes: Option<u64>,
    /// `litestream` when Litestream replicates the data folder: ledgerlite then leaves every
    /// checkpoint to Litestream, so that no WAL frame is checkpointed before it is replicated.
    #[arg(
        long,
        env = "LEDGERLITE_REPLICATION",
        value_enum,
        default_value = "none",
        global = true,
        ignore_case = true
    )]
    pub replication: Checkpoints,
    /// The Litestream replica of the data folder (as given to `replication config`), for the
    /// replicated positions the admin API and `replication status` report.
    #[arg(long = "replica-url", env = "LEDGERLITE_REPLICA", global = true)]
    pub replica: Option<String>,
    /// With an sftp:// `LEDGERLITE_REPLICA`: the SSH private key.
    #[arg(long, env = "LEDGERLITE_REPLICA_SFTP_KEY", global = true)]
    pub replica_sftp_key: Option<PathBuf>,
    /// How long a client may take to send a request's head (line and headers), in
    /// milliseconds; a slower one gets 408 and is disconnected.
    #[arg(long, env = "LEDGERLITE_CLIENT_REQUEST_TIMEOUT_MS", default_value_t = CLIENT_REQUEST_TIMEOUT_MS, global = true)]
    pub client_request_timeout_ms: u64,
    /// How long a closing connection may take to shut down, in milliseconds.
    #[arg(long, env = "LEDGERLITE_CLIENT_DISCONNECT_TIMEOUT_MS", default_value_t = CLIENT_DISCONNECT_TIMEOUT_MS, global = true)]
    pub client_disconnect_timeout_ms: u64,
    /// How long an idle keep-alive connection stays open, in milliseconds (0 disables
    /// keep-alive).
    #[arg(long, env = "LEDGERLITE_KEEP_ALIVE_MS", default_value_t = KEEP_ALIVE_MS, global = true)]
    pub keep_alive_ms: u64,
    /// Bearer token of the admin API under `/admin/v1`; the API is absent (404) when unset.
    #[arg(
        long,
        env = "LEDGERLITE_ADMIN_TOKEN",
        global = true,
        hide_env_values = true,
        value_parser = parse_admin_token
    )]
    pub admin_token: Option<String>,
}

/// An admin token of at least [`ADMIN_TOKEN_LENGTH_MIN_BYTES`] bytes, without surrounding space.
fn parse_admin_token(raw: &str) -> Result<String, String> {
    if raw.trim() != raw {
        return Err("the admin token must not start or end with whitespace".to_owned());
    }
    if raw.len() < ADMIN_TOKEN_LENGTH_MIN_BYTES {
        return Err(format!(
            "the admin token must be at least {ADMIN_TOKEN_LENGTH_MIN_BYTES} bytes long"
        ));
    }
    Ok(raw.to_owned())
}

/// A clap error in one line: clap's first line, the environment variable of the flag it
/// names (where the value may have come from), and where to read more.
fn usage_line(error: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue};
    let rendered = error.render().to_string();
    let mut first = rendered
        .lines()
        .next()
        .unwrap_or("error: invalid arguments")
        .to_owned();
    let flag = match error.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(flag)) => flag.split_whitespace().next().unwrap_or(""),
        _ => "",
    };
    let command = <Cli as clap::CommandFactory>::command();
    let arg = command.get_arguments().find(|arg| {
        arg.get_long()
            .is_some_and(|long| flag == format!("--{long}"))
    });
    // A secret is never echoed, not even a rejected one.
    if let (Some(arg), Some(ContextValue::String(value))) =
        (arg, error.get(ContextKind::InvalidValue))
        && arg.is_hide_env_values_set()
    {
        first = first.replace(&format!("'{value}'"), "(hidden)");
    }
    let env = arg
        .and_then(|arg| arg.get_env())
        .map(|env| format!(" ({})", env.to_string_lossy()))
        .unwrap_or_default();
    format!("{first}{env}; see ledgerlite --help")
}

impl Config {
    /// The command line and environment, parsed. `--help` and `--version` print and exit 0; a
    /// bad flag or variable prints one line naming it and exits 2.
    pub fn from_env_and_args() -> Cli {
        Cli::try_parse().unwrap_or_else(|error| {
            use clap::error::ErrorKind;
            if matches!(
                error.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                error.exit()
            }
            eprintln!("{}", usage_line(&error));
            std::process::exit(i32::from(crate::startup::Exit::Config as u8))
        })
    }

    /// Defaults for tests and embedding: everything as documented, data in `data_dir`.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        let mut config = Cli::parse_from(["ledgerlite"]).config;
        config.data_dir = data_dir.into();
        config
    }

    pub fn store(&self) -> StoreConfig {
        StoreConfig {
            data_dir: self.data_dir.clone(),
            sync: self.sync,
            tenant_cache: self.tenant_cache,
            auto_provision: self.auto_provision,
            tenant_max_bytes: self.tenant_max_bytes,
            checkpoints: self.replication,
            tenant_cache_bytes: self.tenant_cache_mib.saturating_mul(1024 * 1024),
            tenant_idle_secs: self.tenant_idle_secs,
            idle_checkpoint: self.idle_checkpoint,
        }
    }

    /// Whether requests must carry a verified JWT.
    pub fn token_required(&self) -> bool {
        self.multi_tenant || self.auth
    }
}

/// `--sync` / `LEDGERLITE_SYNC`: `full` or `normal` (the store knows nothing of the command
/// line).
impl clap::ValueEnum for SyncMode {
    fn value_variants<'a>() -> &'a [Self] {
        &[SyncMode::Full, SyncMode::Normal]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(match self {
            SyncMode::Full => clap::builder::PossibleValue::new("full")
                .help("fsync on every commit: survives power loss"),
            SyncMode::Normal => clap::builder::PossibleValue::new("normal")
                .help("fsync at checkpoints only: survives a process crash, not power loss"),
        })
    }
}

/// `--replication` / `LEDGERLITE_REPLICATION`: `none` or `litestream`.
impl clap::ValueEnum for Checkpoints {
    fn value_variants<'a>() -> &'a [Self] {
        &[Checkpoints::Ledgerlite, Checkpoints::Litestream]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(match self {
            Checkpoints::Ledgerlite => clap::builder::PossibleValue::new("none")
                .help("no replication: ledgerlite checkpoints its write-ahead logs"),
            Checkpoints::Litestream => clap::builder::PossibleValue::new("litestream")
                .help("Litestream replicates the data folder and makes every checkpoint"),
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{Cli, Config, StoreConfig};

    #[test]
    fn the_engines_defaults_are_the_command_lines() {
        let dir = std::path::Path::new("/data");
        assert_eq!(
            Config::with_data_dir(dir).store(),
            StoreConfig::with_data_dir(dir)
        );
    }

    #[test]
    fn the_admin_token_is_optional_but_never_short_or_padded() {
        let parse = |args: &[&str]| Cli::try_parse_from([&["ledgerlite"], args].concat());
        assert!(parse(&[]).is_ok_and(|cli| cli.config.admin_token.is_none()));
        assert!(
            parse(&["--admin-token", "0123456789abcdef"]).is_ok_and(|cli| cli
                .config
                .admin_token
                .as_deref()
                == Some("0123456789abcdef"))
        );
        assert!(parse(&["--admin-token", "short"]).is_err());
        assert!(parse(&["--admin-token", " 0123456789abcdef"]).is_err());
    }
}
