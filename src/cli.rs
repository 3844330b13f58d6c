//! The command line: `serve` (the default), `token`, `tenant …` (create, list, suspend,
//! resume, backup, restore, delete, export, import), `verify`. The work itself is in
//! [`crate::admin`], shared with the admin API.

use std::ops::Deref;

use crate::admin;
use crate::admin::MoveStep;
use crate::auth;
use crate::config::{Cli, Command, Config, ReplicationAction, TenantAction};
use crate::domain::tenant::TenantId;
use crate::error::{Error, Kind};
use crate::replication;
use crate::startup::{Application, Exit, Failure};
use crate::store::Registry;
use crate::store::files::Marker;

/// What a failed command prints: one line, for the operator (not a chain of causes).
pub fn one_line(error: &anyhow::Error) -> String {
    let text = match error.downcast_ref::<Error>() {
        _ if error.is::<Failure>() => error.to_string(),
        // An unexpected failure's message says nothing; what went wrong is its cause.
        Some(error) if error.kind == Kind::InternalServer => {
            error.cause.clone().unwrap_or_else(|| error.message.clone())
        }
        Some(error) => error.message.clone(),
        None => format!("{error:#}"),
    };
    format!(
        "error: {}",
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    )
}

/// The exit code of a failed command: its [`Exit`] class, 1 (refused) when it has none.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    error
        .downcast_ref::<Failure>()
        .map_or(Exit::Refused, |failure| failure.exit) as u8
}

/// A tenant id given on the command line, or a one-line refusal saying what ids look like.
fn tenant_id(id: &str) -> Result<TenantId, Failure> {
    TenantId::parse(id).ok_or_else(|| {
        Failure::new(
            Exit::Config,
            format!("invalid tenant id {id:?}: use ^[A-Za-z0-9][A-Za-z0-9_-]{{0,63}}$"),
        )
    })
}

/// The registry of one command. Whatever it opened is closed cleanly when the command ends,
/// however it ends: the write-ahead log folded into the file and truncated, the writer
/// threads done. Otherwise a tenant the command touched would look in use afterwards.
struct Opened(Registry);

impl Opened {
    fn new(config: &Config) -> anyhow::Result<Self> {
        Ok(Self(crate::startup::open_registry(config)?))
    }
}

impl Deref for Opened {
    type Target = Registry;

    fn deref(&self) -> &Registry {
        &self.0
    }
}

impl Drop for Opened {
    fn drop(&mut self) {
        self.0.close_all();
    }
}

/// Runs the command the user asked for.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None | Some(Command::Serve) => serve(cli.config),
        Some(Command::Version) => {
            println!(
                "ledgerlite {} (schema {})",
                env!("CARGO_PKG_VERSION"),
                crate::store::schema::SCHEMA_VERSION
            );
            Ok(())
        }
        Some(Command::Token { tenant, ttl, scope }) => {
            let id = tenant_id(&tenant)?;
            let token = auth::mint(&cli.config, id.as_str(), ttl, scope.as_deref())
                .map_err(|e| Failure::new(Exit::Config, e.to_string()))?;
            println!("{token}");
            Ok(())
        }
        Some(Command::Completions { shell }) => {
            let mut command = <crate::config::Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "ledgerlite", &mut script);
            std::io::Write::write_all(&mut std::io::stdout(), &script)?;
            Ok(())
        }
        Some(Command::Tenant { action }) => tenant(&cli.config, action),
        Some(Command::Replication { action }) => replication(&cli.config, action),
        Some(Command::Verify { tenant, all }) => verify(&cli.config, tenant, all),
    }
}

fn serve(config: Config) -> anyhow::Result<()> {
    crate::telemetry::init(config.log_format);
    let mode = if config.multi_tenant {
        "multi-tenant"
    } else {
        "single-tenant"
    };
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(config)?;
        let (url, data_dir) = (format!("http://{}", app.addr()), app.data_dir().display());
        let (swagger, version) = (
            crate::http::openapi::SWAGGER_PATH,
            env!("CARGO_PKG_VERSION"),
        );
        tracing::info!(
            "ledgerlite {version} ({mode}) listening on {url}, data in {data_dir}; Swagger UI at \
             {url}{swagger}, metrics at {url}/metrics"
        );
        if let Some(warning) = crate::store::slow_sqlite_build() {
            tracing::warn!("{warning}");
        }
        let registry = app.registry();
        app.run_until_stopped().await?;
        registry.close_all();
        tracing::info!("ledgerlite stopped");
        Ok(())
    })
}

fn tenant(config: &Config, action: TenantAction) -> anyhow::Result<()> {
    // Ids are checked before the registry creates the data folder: a refused command leaves
    // the disk untouched.
    match action {
        TenantAction::Create { id } => {
            let id = tenant_id(&id)?;
            let created = Opened::new(config)?.create(&id)?;
            println!("{} {id}", if created { "created" } else { "exists" });
        }
        TenantAction::List { limit, cursor } => list_tenants(config, limit, cursor)?,
        TenantAction::Suspend { id } => {
            let id = tenant_id(&id)?;
            Opened::new(config)?.set_suspended(&id, true)?;
            println!("suspended {id}");
        }
        TenantAction::Resume { id } => {
            let id = tenant_id(&id)?;
            Opened::new(config)?.set_suspended(&id, false)?;
            println!("resumed {id}");
        }
        TenantAction::Freeze { id } => move_step(config, &id, MoveStep::Freeze, "froze")?,
        TenantAction::Unfreeze { id } => move_step(config, &id, MoveStep::Unfreeze, "unfroze")?,
        TenantAction::Move { id, to } => move_step(config, &id, MoveStep::Move { to }, "moved")?,
        TenantAction::Unmove { id } => move_step(config, &id, MoveStep::Unmove, "unmoved")?,
        TenantAction::Backup { id, to, force } => {
            let id = tenant_id(&id)?;
            admin::backup(&config.data_dir, id.clone(), &to, force)?;
            println!("backed up {id} to {}", to.display());
        }
        TenantAction::Restore {
            id,
            from: Some(from),
            force,
            ..
        } => {
            let id = tenant_id(id.as_deref().unwrap_or_default())?;
            admin::restore(&config.data_dir, id.clone(), &from, force)?;
            println!("restored {id} from {}", from.display());
        }
        TenantAction::Restore {
            id,
            from: None,
            from_replica,
            at,
            all,
            ids,
            sftp_key,
            force,
        } => {
            let url = from_replica.unwrap_or_default();
            let replica = replication::Replica::new(&url, sftp_key)?;
            if ids.is_some() && !all {
                anyhow::bail!("--ids names the tenants of --all; pass --all instead of an ID");
            }
            let ids = match (id, ids) {
                (Some(id), _) if !all => vec![tenant_id(&id)?],
                (_, Some(file)) => replication::read_ids(&file)?,
                (_, None) => replica.tenants()?,
            };
            restore_from_replica(config, &replica, ids, at.as_deref(), force)?;
        }
        TenantAction::Delete { id, yes } => delete(config, tenant_id(&id)?, yes)?,
        TenantAction::Export { id, to } => export(config, tenant_id(&id)?, to)?,
        TenantAction::Import { id, from, force } => import(config, tenant_id(&id)?, &from, force)?,
    }
    Ok(())
}

/// `tenant delete`: refused without `--yes`; names each file it removes.
fn delete(config: &Config, id: TenantId, yes: bool) -> anyhow::Result<()> {
    if !yes {
        return Err(Error::new(Kind::DeletionNotConfirmed)
            .with_message(format!(
                "deleting tenant {id} removes all its data; pass --yes to confirm"
            ))
            .into());
    }
    let registry = Opened::new(config)?;
    for path in admin::delete_tenant(&registry, id.clone())? {
        eprintln!("removed {}", path.display());
    }
    let moved = registry.files_of(&id).marker(Marker::Moved);
    if moved.exists() {
        eprintln!(
            "kept {}: requests for {id} are still answered 421 TENANT_MOVED; `tenant unmove \
             {id}` removes it",
            moved.display()
        );
    }
    println!("deleted {id}");
    Ok(())
}

/// `tenant import`: rebuilds the tenant from an export file.
fn import(
    config: &Config,
    id: TenantId,
    from: &std::path::Path,
    force: bool,
) -> anyhow::Result<()> {
    let file = std::fs::File::open(from).map_err(|e| {
        let why = crate::startup::reason(&e);
        anyhow::anyhow!("cannot read the export {} (--from): {why}", from.display())
    })?;
    let input = std::io::BufReader::new(file);
    let rows = admin::import(&config.data_dir, id.clone(), input, force)?;
    println!("imported {id} from {} ({rows} rows)", from.display());
    Ok(())
}

/// `tenant freeze | unfreeze | move | unmove`: prints `<done> <id> (<status>)`.
fn move_step(config: &Config, id: &str, step: MoveStep, done: &str) -> anyhow::Result<()> {
    let id = tenant_id(id)?;
    let status = admin::move_step(&*Opened::new(config)?, &id, step)?;
    let to = status
        .moved_to
        .map(|to| format!(" to {to}"))
        .unwrap_or_default();
    println!("{done} {id}{to} ({})", status.status);
    Ok(())
}

/// `tenant restore --from-replica`: restores `ids` one after the other, saying for each which
/// position was installed; fails at the first tenant without an intact position.
fn restore_from_replica(
    config: &Config,
    replica: &replication::Replica,
    ids: Vec<TenantId>,
    at: Option<&str>,
    force: bool,
) -> anyhow::Result<()> {
    for id in ids {
        let restored = replication::restore(&config.data_dir, replica, id, at, force)?;
        for refused in &restored.refused {
            eprintln!("{}: refused {refused}", restored.id);
        }
        let position = match &restored.fell_back_to {
            None => "the newest position".to_owned(),
            Some(txid) => format!("the older intact position {txid}"),
        };
        println!(
            "restored {} from the replica at {position} ({} chain entries)",
            restored.id, restored.chain_entries
        );
    }
    Ok(())
}

/// `replication config`: the Litestream configuration, to stdout or a new file;
/// `replication status`: a tenant's positions.
fn replication(config: &Config, action: ReplicationAction) -> anyhow::Result<()> {
    let (replica, sftp_key, to) = match action {
        ReplicationAction::Config {
            replica,
            sftp_key,
            to,
        } => (replica, sftp_key, to),
        ReplicationAction::Status {
            id,
            replica,
            sftp_key,
        } => return replication_status(config, &id, replica, sftp_key),
    };
    let text = replication::config(
        &config.data_dir,
        &replication::Replica::new(&replica, sftp_key)?,
    )?;
    match to {
        Some(path) => {
            std::fs::write(&path, text).map_err(|e| {
                let why = crate::startup::reason(&e);
                anyhow::anyhow!("cannot write {} (--to): {why}", path.display())
            })?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(())
}

/// `replication status ID`: one line per position, then `in sync` or `not in sync`.
fn replication_status(
    config: &Config,
    id: &str,
    replica: Option<String>,
    sftp_key: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    let id = tenant_id(id)?;
    let replica = config_replica(
        replica.or_else(|| config.replica.clone()),
        sftp_key.or_else(|| config.replica_sftp_key.clone()),
    )?;
    let positions = replication::positions(&config.data_dir, replica.as_ref(), id)?;
    let shown = |txid: &Option<String>| txid.clone().unwrap_or_else(|| "-".to_owned());
    println!("tenant {}", positions.id);
    println!(
        "writes {}",
        if positions.frozen {
            "refused (frozen)"
        } else {
            "taken"
        }
    );
    println!("wal bytes {}", positions.wal_bytes);
    println!(
        "litestream txid {}{}",
        shown(&positions.litestream_txid),
        if positions.litestream_has_wal {
            ""
        } else {
            " (not every commit read yet)"
        }
    );
    println!("local txid {}", shown(&positions.local_txid));
    println!("replicated txid {}", shown(&positions.replicated_txid));
    println!(
        "{}",
        if positions.in_sync {
            "in sync"
        } else {
            "not in sync"
        }
    );
    Ok(())
}

/// The replica named by a flag or `LEDGERLITE_REPLICA`, if any.
pub fn config_replica(
    url: Option<String>,
    sftp_key: Option<std::path::PathBuf>,
) -> crate::error::Result<Option<replication::Replica>> {
    url.map(|url| replication::Replica::new(&url, sftp_key))
        .transpose()
}

/// `tenant export`: to a new file (removed again if the export fails) or to stdout.
fn export(config: &Config, id: TenantId, to: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    match to {
        Some(path) => {
            let file = std::fs::File::create_new(&path).map_err(|e| {
                let why = crate::startup::reason(&e);
                anyhow::anyhow!("cannot create {} (--to): {why}", path.display())
            })?;
            let written = (|| -> anyhow::Result<u64> {
                let mut out = std::io::BufWriter::new(file);
                let rows = admin::export(&config.data_dir, id, &mut out)?;
                out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
                Ok(rows)
            })();
            match written {
                Ok(rows) => eprintln!("exported {rows} rows to {}", path.display()),
                Err(e) => {
                    // No half-written export is left behind.
                    let _ = std::fs::remove_file(&path);
                    return Err(e);
                }
            }
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            admin::export(&config.data_dir, id, &mut out)?;
        }
    }
    Ok(())
}

/// `tenant list`: every tenant, streamed, or one page with `--limit`/`--cursor` (default
/// [`admin::TENANT_PAGE_LIMIT_DEFAULT`] with a cursor alone), the cursors around it on stderr.
fn list_tenants(config: &Config, limit: Option<u64>, cursor: Option<String>) -> anyhow::Result<()> {
    use std::io::Write;
    let line = |tenant: &admin::TenantStatus| {
        let status = match (tenant.status, &tenant.moved_to) {
            ("active", _) => String::new(),
            ("moved", Some(to)) => format!(" moved {to}"),
            (status, _) => format!(" {status}"),
        };
        format!("{}{status}", tenant.id)
    };
    let cursor = cursor
        .map(|raw| {
            admin::tenant_cursor(&raw)
                .ok_or_else(|| anyhow::anyhow!("--cursor {raw:?} is not a tenant list cursor"))
        })
        .transpose()?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if limit.is_none() && cursor.is_none() {
        admin::for_each_tenant(&*Opened::new(config)?, |tenant| {
            writeln!(out, "{}", line(&tenant)).map_err(Error::internal)
        })?;
        out.flush()?;
        return Ok(());
    }
    let limit = limit.map_or(admin::TENANT_PAGE_LIMIT_DEFAULT, |l| {
        usize::try_from(l).unwrap_or(usize::MAX)
    });
    let page = admin::list_tenant_page(&*Opened::new(config)?, limit, cursor.as_ref())?;
    for tenant in &page.items {
        writeln!(out, "{}", line(tenant))?;
    }
    out.flush()?;
    if let Some(next) = &page.next_cursor {
        eprintln!("next cursor {next}");
    }
    if let Some(prev) = &page.prev_cursor {
        eprintln!("prev cursor {prev}");
    }
    Ok(())
}

/// Audits one tenant or all of them, one at a time, printing each one's line as soon as it is
/// audited (with many tenants, progress shows and nothing accumulates); fails if any has
/// problems.
fn verify(config: &Config, tenant: Option<String>, all: bool) -> anyhow::Result<()> {
    let ids = match (tenant, all) {
        (Some(id), false) => {
            vec![tenant_id(&id)?]
        }
        _ => Opened::new(config)?.list()?,
    };
    let registry = Opened::new(config)?;
    let mut failed = 0;
    for id in &ids {
        let tenant = admin::verify_tenant(&registry, id)?;
        let (id, audit) = (tenant.id, tenant.audit);
        if tenant.ok {
            println!(
                "{id}: ok ({} chain entries, {} operations, {} balances)",
                audit.chain_entries, audit.operations, audit.balances
            );
        } else {
            failed += 1;
            println!("{id}: {} problem(s)", audit.problems.len());
            for problem in &audit.problems {
                println!("  {problem}");
            }
        }
    }
    if failed > 0 {
        let message = format!("{failed} tenant(s) failed verification");
        return Err(Failure::new(Exit::Verification, message).into());
    }
    Ok(())
}
