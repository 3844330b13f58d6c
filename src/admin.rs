//! Tenant administration, one implementation for the command line and the admin API: list,
//! backup, restore, delete, export and verify. File operations work on `<data_dir>/tenants/`
//! directly, so every id must already be a parsed [`TenantId`]; operations that must not race
//! a running server go through its [`Registry`].

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use base64::Engine;
use rusqlite::backup::{Backup, StepResult};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, ErrorCode, OpenFlags};
use serde_json::{Map, Value};

use crate::domain::tenant::TenantId;
use crate::store::chain::Audit;
use crate::store::{Missing, Registry};

/// Pages copied per backup step; between steps the server may write, in pages.
pub const BACKUP_STEP_PAGES: i32 = 256;
/// Pause between backup steps, so a running server keeps its write lock free, in milliseconds.
pub const BACKUP_STEP_PAUSE_MS: u64 = 5;
/// Longest a backup (or a restore's copy) may take before it gives up, in seconds. A source
/// written faster than it can be copied restarts the copy, so it needs a bound.
pub const BACKUP_TIMEOUT_SECS: u64 = 600;
/// How long the liveness check waits for the tenant's file lock, in milliseconds.
pub const LIVENESS_BUSY_TIMEOUT_MS: u64 = 200;
/// How long a read-only source connection waits for a lock, in milliseconds.
pub const SOURCE_BUSY_TIMEOUT_MS: u64 = 5_000;
/// Lowest `user_version` of a file written by this project (0 is an empty SQLite file).
pub const SCHEMA_VERSION_MIN: i64 = 1;
/// Tables exported, in order, with the `type` each row is tagged with.
pub const EXPORT_TABLES: [(&str, &str); 7] = [
    ("organization", "organization"),
    ("ledger", "ledger"),
    ("asset", "asset"),
    ("account", "account"),
    ("balance", "balance"),
    ("ledger_transaction", "transaction"),
    ("operation", "operation"),
];

/// How long deleting a tenant waits for the requests that hold it open, in milliseconds.
pub const DELETE_CLOSE_WAIT_MS: u64 = 5_000;
/// Folder below the data folder that backups made by the admin API go to.
pub const BACKUPS_DIR: &str = "backups";

/// Why a file operation refused: a tenant that does not exist, or one that is in use. Callers
/// that map errors (the admin API) find it with `anyhow::Error::downcast_ref`.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("tenant {0} not found ({path})", path = .1.display())]
    NotFound(TenantId, PathBuf),
    #[error("tenant {0} {1}; stop the server first")]
    Live(TenantId, String),
}

/// Suffixes of every file that belongs to a tenant.
const TENANT_FILE_SUFFIXES: [&str; 4] = [".sqlite", ".sqlite-wal", ".sqlite-shm", ".suspended"];

/// The files of one tenant below `<data_dir>/tenants/`.
pub struct TenantFiles {
    dir: PathBuf,
    id: TenantId,
}

impl TenantFiles {
    pub fn new(data_dir: &Path, id: TenantId) -> Self {
        Self {
            dir: data_dir.join("tenants"),
            id,
        }
    }

    fn with_suffix(&self, suffix: &str) -> PathBuf {
        self.dir.join(format!("{}{suffix}", self.id))
    }

    pub fn database(&self) -> PathBuf {
        self.with_suffix(".sqlite")
    }

    fn wal(&self) -> PathBuf {
        self.with_suffix(".sqlite-wal")
    }

    fn shm(&self) -> PathBuf {
        self.with_suffix(".sqlite-shm")
    }

    fn exists(&self) -> bool {
        self.database().is_file()
    }

    fn require_exists(&self) -> anyhow::Result<()> {
        if self.exists() {
            Ok(())
        } else {
            Err(Refused::NotFound(self.id.clone(), self.database()).into())
        }
    }

    /// Refuses when the tenant looks in use: a non-empty write-ahead log (a server has it
    /// open, or one stopped without checkpointing), or a lock another connection holds.
    fn refuse_if_live(&self) -> anyhow::Result<()> {
        let wal_len = std::fs::metadata(self.wal()).map_or(0, |m| m.len());
        if wal_len > 0 {
            let why = format!(
                "looks live: {} is not empty ({wal_len} bytes)",
                self.wal().display()
            );
            return Err(Refused::Live(self.id.clone(), why).into());
        }
        if !self.exists() {
            return Ok(());
        }
        let conn = Connection::open_with_flags(
            self.database(),
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_millis(LIVENESS_BUSY_TIMEOUT_MS))?;
        match conn.execute_batch("BEGIN EXCLUSIVE; ROLLBACK;") {
            Ok(()) => Ok(()),
            Err(e) if is_busy(&e) => Err(Refused::Live(
                self.id.clone(),
                "is locked by another process".to_owned(),
            )
            .into()),
            // A damaged file is nobody's lock: the caller decides what to do with it.
            Err(_) => Ok(()),
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// A read-only connection to a file that must already exist.
fn open_read_only(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("opening {}", path.display()))?;
    conn.busy_timeout(Duration::from_millis(SOURCE_BUSY_TIMEOUT_MS))?;
    Ok(conn)
}

/// Copies `source` into `dest` with the online backup API, a few pages at a time, so a
/// running server is never blocked for long. The result is a consistent snapshot.
fn copy_online(source: &Connection, dest: &mut Connection) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(BACKUP_TIMEOUT_SECS);
    {
        let backup = Backup::new(source, dest)?;
        loop {
            match backup.step(BACKUP_STEP_PAGES)? {
                StepResult::Done => break,
                StepResult::More | StepResult::Busy | StepResult::Locked => {}
                // `StepResult` is non-exhaustive; anything new is treated as "try again".
                _ => {}
            }
            if Instant::now() > deadline {
                bail!("backup did not finish within {BACKUP_TIMEOUT_SECS} s");
            }
            std::thread::sleep(Duration::from_millis(BACKUP_STEP_PAUSE_MS));
        }
    }
    // A single self-contained file: no `-wal` travels with the copy.
    dest.pragma_update(None, "journal_mode", "DELETE")?;
    Ok(())
}

/// A temporary sibling of `target` that [`TenantFiles`] and the registry never take for a
/// tenant (its name does not end in `.sqlite`).
fn temp_sibling(target: &Path) -> anyhow::Result<PathBuf> {
    let name = target
        .file_name()
        .ok_or_else(|| anyhow!("{} has no file name", target.display()))?;
    let mut temp = name.to_os_string();
    temp.push(format!(".tmp-{}", std::process::id()));
    Ok(target.with_file_name(temp))
}

/// Copies `source` to a temp file next to `target`, syncs it and renames it over `target`.
/// On any error the temp file is removed and `target` is untouched.
fn copy_then_rename(source: &Connection, target: &Path) -> anyhow::Result<()> {
    let temp = temp_sibling(target)?;
    let result = (|| -> anyhow::Result<()> {
        remove_if_exists(&temp)?;
        let mut dest =
            Connection::open(&temp).with_context(|| format!("creating {}", temp.display()))?;
        copy_online(source, &mut dest)?;
        dest.close().map_err(|(_, e)| e)?;
        File::open(&temp)?.sync_all()?;
        std::fs::rename(&temp, target)
            .with_context(|| format!("renaming {} to {}", temp.display(), target.display()))?;
        sync_parent(target);
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
        let _ = std::fs::remove_file(with_suffix(&temp, "-journal"));
    }
    result
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// Makes a rename durable; best effort, as not every platform can open a directory.
fn sync_parent(path: &Path) {
    if let Some(parent) = path.parent()
        && let Ok(dir) = File::open(parent)
    {
        let _ = dir.sync_all();
    }
}

fn remove_if_exists(path: &Path) -> anyhow::Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).with_context(|| format!("removing {}", path.display())),
    }
}

/// `tenant backup`: a consistent copy of a (possibly live) tenant into `to`.
pub fn backup(data_dir: &Path, id: TenantId, to: &Path, force: bool) -> anyhow::Result<()> {
    let files = TenantFiles::new(data_dir, id);
    files.require_exists()?;
    if to.exists() && !force {
        bail!("{} exists; pass --force to overwrite it", to.display());
    }
    let source = open_read_only(&files.database())?;
    copy_then_rename(&source, to)
}

/// Checks that `path` is a SQLite file written by this project.
fn validate_backup(conn: &Connection, path: &Path) -> anyhow::Result<()> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .with_context(|| format!("{} is not a SQLite database", path.display()))?;
    if version < SCHEMA_VERSION_MIN {
        bail!(
            "{} is not a ledgerlite database (schema version {version})",
            path.display()
        );
    }
    let has_transactions: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'ledger_transaction')",
        [],
        |row| row.get(0),
    )?;
    if !has_transactions {
        bail!(
            "{} is not a ledgerlite database (no ledger_transaction table)",
            path.display()
        );
    }
    let check: String = conn.query_row("PRAGMA quick_check", [], |row| row.get(0))?;
    if check != "ok" {
        bail!("{} is damaged: {check}", path.display());
    }
    Ok(())
}

/// `tenant restore`: replaces (or creates) a tenant from a backup file, atomically.
pub fn restore(data_dir: &Path, id: TenantId, from: &Path, force: bool) -> anyhow::Result<()> {
    if !from.is_file() {
        bail!("{} not found", from.display());
    }
    let source = open_read_only(from)?;
    validate_backup(&source, from)?;
    let files = TenantFiles::new(data_dir, id);
    if files.exists() && !force {
        bail!("tenant {} exists; pass --force to overwrite it", files.id);
    }
    files.refuse_if_live()?;
    std::fs::create_dir_all(&files.dir)?;
    copy_then_rename(&source, &files.database())?;
    // Leftovers of the replaced file (checked empty above) must not be read with the new one.
    remove_if_exists(&files.wal())?;
    remove_if_exists(&files.shm())?;
    Ok(())
}

/// `tenant delete`: removes every file of a tenant that is not in use; returns the files
/// removed.
pub fn delete(data_dir: &Path, id: TenantId) -> anyhow::Result<Vec<PathBuf>> {
    let files = TenantFiles::new(data_dir, id);
    files.require_exists()?;
    files.refuse_if_live()?;
    let mut removed = Vec::new();
    for suffix in TENANT_FILE_SUFFIXES {
        let path = files.with_suffix(suffix);
        if remove_if_exists(&path)? {
            removed.push(path);
        }
    }
    sync_parent(&files.database());
    Ok(removed)
}

/// `tenant export`: every row of the ledger tables as JSON lines,
/// `{"type": …, "data": {column: value}}`, table by table, in rowid order.
pub fn export(data_dir: &Path, id: TenantId, out: &mut dyn Write) -> anyhow::Result<u64> {
    let files = TenantFiles::new(data_dir, id);
    files.require_exists()?;
    let conn = open_read_only(&files.database())?;
    // One read transaction: every table comes from the same snapshot.
    conn.execute_batch("BEGIN")?;
    let mut rows_written = 0;
    for (table, kind) in EXPORT_TABLES {
        let mut stmt = conn.prepare(&format!("SELECT * FROM {table} ORDER BY rowid"))?;
        let names: Vec<String> = stmt.column_names().into_iter().map(String::from).collect();
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let mut data = Map::new();
            for (index, name) in names.iter().enumerate() {
                data.insert(name.clone(), to_json(row.get_ref(index)?)?);
            }
            let line = serde_json::json!({"type": kind, "data": data});
            serde_json::to_writer(&mut *out, &line)?;
            out.write_all(b"\n")?;
            rows_written += 1;
        }
    }
    conn.execute_batch("COMMIT")?;
    out.flush()?;
    Ok(rows_written)
}

fn to_json(value: ValueRef<'_>) -> anyhow::Result<Value> {
    Ok(match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
    })
}

/// A tenant as `tenant list` and `GET /admin/v1/tenants` show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct TenantStatus {
    #[schema(example = "acme")]
    pub id: String,
    /// `active` or `suspended`.
    #[schema(schema_with = tenant_states)]
    pub status: &'static str,
}

/// The schema of [`TenantStatus::status`].
fn tenant_states() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["active", "suspended"]))
        .description(Some(
            "`suspended`: its `/v1` requests are refused (403 TENANT_SUSPENDED).",
        ))
        .build()
}

impl TenantStatus {
    pub fn of(registry: &Registry, id: &TenantId) -> Self {
        Self {
            id: id.to_string(),
            status: if registry.is_suspended(id) {
                "suspended"
            } else {
                "active"
            },
        }
    }
}

/// Every tenant with a file, sorted, with its status.
pub fn list_tenants(registry: &Registry) -> crate::error::Result<Vec<TenantStatus>> {
    Ok(registry
        .list()?
        .iter()
        .map(|id| TenantStatus::of(registry, id))
        .collect())
}

/// Deletes a tenant: closes it in `registry` (waiting for its requests, at most
/// [`DELETE_CLOSE_WAIT_MS`]) and removes its files while no request can open it again. A
/// tenant another process holds open is refused ([`Refused::Live`]).
pub fn delete_tenant(registry: &Registry, id: TenantId) -> anyhow::Result<Vec<PathBuf>> {
    let data_dir = registry.config().data_dir.clone();
    let wait = Duration::from_millis(DELETE_CLOSE_WAIT_MS);
    registry.while_closed(&id, wait, || delete(&data_dir, id.clone()))?
}

/// Backs a (possibly live) tenant up into a new file under `<data_dir>/backups/`, named
/// `<id>.<UTC time>.<random>.sqlite`; returns the file name. The caller never chooses a path.
pub fn backup_to_folder(data_dir: &Path, id: TenantId) -> anyhow::Result<String> {
    let folder = data_dir.join(BACKUPS_DIR);
    std::fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
    let stamp = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .context("formatting the backup time")?;
    let random = uuid::Uuid::now_v7().simple().to_string();
    let suffix = random.get(random.len().saturating_sub(8)..).unwrap_or("");
    let name = format!("{id}.{stamp}.{suffix}.sqlite");
    backup(data_dir, id, &folder.join(&name), false)?;
    Ok(name)
}

/// The audit of one tenant, as `verify` and the admin API report it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TenantAudit {
    #[schema(example = "acme")]
    pub id: String,
    /// No problem found.
    pub ok: bool,
    #[serde(flatten)]
    pub audit: Audit,
}

/// Audits each tenant of `ids` on a read connection of its open instance (writes go on).
/// Blocking.
pub fn verify_tenants(
    registry: &Registry,
    ids: &[TenantId],
) -> crate::error::Result<Vec<TenantAudit>> {
    ids.iter()
        .map(|id| {
            let tenant = registry.open(id, Missing::Fail)?;
            let audit = crate::ledger::audit::verify_blocking(&tenant)?;
            Ok(TenantAudit {
                id: id.to_string(),
                ok: audit.ok(),
                audit,
            })
        })
        .collect()
}
