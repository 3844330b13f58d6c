//! Tenant administration, one implementation for the command line and the admin API: list,
//! backup, restore, delete, export, import and verify. The file work is in
//! [`crate::store::files`] and [`crate::store::export`]; ids must already be parsed
//! [`TenantId`]s; operations that must not race a running server go through its
//! [`Registry`].

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::domain::audit::Audit;
use crate::domain::query::{Cursor, CursorPage};
use crate::domain::tenant::TenantId;
use crate::error::{Error, Kind, Result};
use crate::store::export;
use crate::store::files::{self, Marker, TenantFiles, io_error};
use crate::store::registry::PageFrom;
use crate::store::{Missing, Registry};

/// How long deleting or replacing a tenant waits for the requests that hold it open, in
/// milliseconds.
pub const DELETE_CLOSE_WAIT_MS: u64 = 5_000;
/// Folder below the data folder that backups made by the admin API go to.
pub const BACKUPS_DIR: &str = "backups";

/// `tenant backup`: a consistent copy of a (possibly live) tenant into `to`.
pub fn backup(data_dir: &Path, id: TenantId, to: &Path, force: bool) -> Result<()> {
    let files = TenantFiles::in_data_dir(data_dir, id);
    files.require_exists()?;
    if to.exists() && !force {
        return Err(Error::new(Kind::BadRequest).with_message(format!(
            "{} exists; pass --force to overwrite it",
            to.display()
        )));
    }
    let source = files::open_read_only(&files.database())?;
    files::copy_then_rename(&source, to)
}

/// `tenant restore`: replaces (or creates) a tenant from a backup file, atomically.
pub fn restore(data_dir: &Path, id: TenantId, from: &Path, force: bool) -> Result<()> {
    if !from.is_file() {
        return Err(
            Error::new(Kind::BadRequest).with_message(format!("{} not found", from.display()))
        );
    }
    let source = files::open_read_only(from)?;
    files::validate_database(&source, from)?;
    let files = TenantFiles::in_data_dir(data_dir, id);
    files.refuse_if_exists(force)?;
    files.refuse_if_live()?;
    std::fs::create_dir_all(files.dir()).map_err(|e| io_error("creating", files.dir(), e))?;
    // Takes the old file's `-wal` and `-shm` away before the new one is renamed in.
    files::copy_then_rename(&source, &files.database())
}

/// `tenant delete`: removes every file of a tenant that is not in use (a moved tenant keeps
/// its `.moved` marker); returns the files removed.
pub fn delete(data_dir: &Path, id: TenantId) -> Result<Vec<PathBuf>> {
    delete_files(data_dir, id, false)
}

/// [`delete`]; `closed_here`: a server replicated by Litestream closed the tenant for it (see
/// [`TenantFiles::refuse_if_live_to_delete`]).
fn delete_files(data_dir: &Path, id: TenantId, closed_here: bool) -> Result<Vec<PathBuf>> {
    let files = TenantFiles::in_data_dir(data_dir, id);
    files.require_exists()?;
    files.refuse_if_live_to_delete(closed_here)?;
    files.remove_all()
}

/// `tenant export`: every row of the tenant as JSON lines (see [`crate::store::export`]);
/// returns the rows written.
pub fn export(data_dir: &Path, id: TenantId, out: &mut dyn Write) -> Result<u64> {
    let files = TenantFiles::in_data_dir(data_dir, id);
    files.require_exists()?;
    let conn = files::open_read_only(&files.database())?;
    export::export(&conn, out)
}

/// `tenant import`: creates (or with `force` replaces) a tenant from an export. The rows go
/// into a temp file in one transaction, which is checked (integrity, foreign keys, the audit
/// of `verify`) and only then renamed into place; a refused import leaves nothing behind.
/// Refused while the tenant looks in use. Returns the rows imported.
pub fn import(data_dir: &Path, id: TenantId, input: impl BufRead, force: bool) -> Result<u64> {
    let files = TenantFiles::in_data_dir(data_dir, id);
    files.refuse_if_exists(force)?;
    files.refuse_if_live()?;
    std::fs::create_dir_all(files.dir()).map_err(|e| io_error("creating", files.dir(), e))?;
    let mut rows = 0;
    files::build_then_rename(&files.database(), |conn| {
        rows = export::import(conn, input)?.rows;
        Ok(())
    })?;
    Ok(rows)
}

/// [`import`] for a running server: the tenant is closed in `registry` (waiting for its
/// requests, at most [`DELETE_CLOSE_WAIT_MS`]) while it is replaced.
pub fn import_tenant(
    registry: &Registry,
    id: TenantId,
    input: impl BufRead,
    force: bool,
) -> Result<u64> {
    let data_dir = registry.config().data_dir.clone();
    let wait = Duration::from_millis(DELETE_CLOSE_WAIT_MS);
    registry.while_closed(&id, wait, || import(&data_dir, id.clone(), input, force))?
}

/// A tenant as `tenant list` and `GET /admin/v1/tenants` show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct TenantStatus {
    #[schema(example = "acme")]
    pub id: String,
    /// `active`, `suspended`, `read-only` or `moved`.
    #[schema(schema_with = tenant_states)]
    pub status: &'static str,
    /// A moved tenant's new node, when the operator gave one.
    #[serde(rename = "movedTo", skip_serializing_if = "Option::is_none")]
    #[schema(example = "https://node-b.example")]
    pub moved_to: Option<String>,
}

/// The schema of [`TenantStatus::status`].
fn tenant_states() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["active", "suspended", "read-only", "moved"]))
        .description(Some(
            "`suspended`: its `/v1` requests are refused (403 TENANT_SUSPENDED); `read-only`: \
             frozen for a move, its writes are refused (503 TENANT_READ_ONLY), reads served; \
             `moved`: every request is refused (421 TENANT_MOVED).",
        ))
        .build()
}

impl TenantStatus {
    pub fn of(registry: &Registry, id: &TenantId) -> Self {
        let files = registry.files_of(id);
        let moved_to = files.marker_text(Marker::Moved);
        let status = if moved_to.is_some() {
            "moved"
        } else if files.has(Marker::Suspended) {
            "suspended"
        } else if files.has(Marker::ReadOnly) {
            "read-only"
        } else {
            "active"
        };
        Self {
            id: id.to_string(),
            status,
            moved_to: moved_to.filter(|url| !url.is_empty()),
        }
    }
}

/// Tenants per page of `GET /admin/v1/tenants` when `limit` is absent (as every `/v1` list).
pub const TENANT_PAGE_LIMIT_DEFAULT: usize = crate::domain::query::PAGE_LIMIT_DEFAULT as usize;
/// Largest `limit` of `GET /admin/v1/tenants` (as every `/v1` list).
pub const TENANT_PAGE_LIMIT_MAX: usize = crate::domain::query::PAGE_LIMIT_MAX as usize;
/// Tenants read per pass over the tenants folder while `tenant list` prints them all.
pub const TENANT_LIST_CHUNK_TENANTS: usize = 10_000;

/// A cursor of the tenant list (Midaz's cursor, base64 of `{"id", "direction"}`, with a
/// tenant id for `id`), or `None` if `raw` is not one.
pub fn tenant_cursor(raw: &str) -> Option<Cursor> {
    Cursor::decode_any(raw).filter(|cursor| TenantId::parse(&cursor.id).is_some())
}

/// A page of at most `limit` tenants in id order, from the start or from `cursor`. Reads the
/// tenants folder's names and looks at the files of the page's tenants only.
pub fn list_tenant_page(
    registry: &Registry,
    limit: usize,
    cursor: Option<&Cursor>,
) -> Result<CursorPage<TenantStatus>> {
    let id = |cursor: &Cursor| TenantId::parse(&cursor.id).ok_or(Kind::InvalidQueryParameter);
    let from = match cursor {
        None => PageFrom::Start,
        Some(c) if c.next => PageFrom::After(id(c)?),
        Some(c) => PageFrom::Before(id(c)?),
    };
    let (ids, more) = registry.list_page(&from, limit)?;
    let page = CursorPage::around(ids, cursor.map(|c| c.next), more, ToString::to_string);
    Ok(page.map(|id| TenantStatus::of(registry, &id)))
}

/// Calls `each` with every tenant in id order, reading the tenants folder
/// [`TENANT_LIST_CHUNK_TENANTS`] at a time, so memory stays bounded however many there are.
pub fn for_each_tenant(
    registry: &Registry,
    mut each: impl FnMut(TenantStatus) -> Result<()>,
) -> Result<()> {
    let mut from = PageFrom::Start;
    loop {
        let (ids, more) = registry.list_page(&from, TENANT_LIST_CHUNK_TENANTS)?;
        for id in &ids {
            each(TenantStatus::of(registry, id))?;
        }
        match ids.last() {
            Some(last) if more => from = PageFrom::After(last.clone()),
            _ => return Ok(()),
        }
    }
}

/// How an operator moves a tenant between nodes (`tenant freeze | unfreeze | move | unmove`
/// and the admin API's routes of the same names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveStep {
    /// Writes refused from now on; returns once no write can still commit.
    Freeze,
    /// Writes taken again.
    Unfreeze,
    /// Every request refused with `TENANT_MOVED`, naming the new node's URL if given. Also
    /// freezes the tenant (so an un-move leaves it read-only).
    Move { to: Option<String> },
    /// Requests served again (still frozen: unfreeze once sure).
    Unmove,
}

/// Applies `step` to tenant `id`; its status afterwards. Works beside a running server (the
/// state is in marker files beside the tenant's file, which every request and the writer of
/// every group commit look at).
pub fn move_step(registry: &Registry, id: &TenantId, step: MoveStep) -> Result<TenantStatus> {
    let files = registry.files_of(id);
    match step {
        MoveStep::Freeze => files.freeze()?,
        MoveStep::Unfreeze => files.set_marker(Marker::ReadOnly, None)?,
        MoveStep::Move { to } => {
            if let Some(to) = &to {
                files::check_moved_url(to)?;
            }
            files.freeze()?;
            files.set_marker(Marker::Moved, Some(to.as_deref().unwrap_or("")))?;
        }
        MoveStep::Unmove => files.set_marker(Marker::Moved, None)?,
    }
    Ok(TenantStatus::of(registry, id))
}

/// Deletes a tenant: closes it in `registry` (waiting for its requests, at most
/// [`DELETE_CLOSE_WAIT_MS`]) and removes its files while no request can open it again. A
/// tenant another process holds open is refused (`TenantInUse`). Under Litestream the
/// server leaves the write-ahead log when it closes the tenant (Litestream alone
/// checkpoints), so the log does not refuse the deletion; Litestream, watching the folder,
/// stops following the removed file.
pub fn delete_tenant(registry: &Registry, id: TenantId) -> Result<Vec<PathBuf>> {
    let data_dir = registry.config().data_dir.clone();
    let wait = Duration::from_millis(DELETE_CLOSE_WAIT_MS);
    let closed_here = !registry.config().checkpoints.by_ledgerlite();
    registry.while_closed(&id, wait, || {
        delete_files(&data_dir, id.clone(), closed_here)
    })?
}

/// Backs a (possibly live) tenant up into a new file under `<data_dir>/backups/`, named
/// `<id>.<UTC time>.<random>.sqlite`; returns the file name. The caller never chooses a path.
pub fn backup_to_folder(data_dir: &Path, id: TenantId) -> Result<String> {
    let folder = data_dir.join(BACKUPS_DIR);
    std::fs::create_dir_all(&folder).map_err(|e| io_error("creating", &folder, e))?;
    let stamp = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .map_err(|e| Error::internal(format!("formatting the backup time: {e}")))?;
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
pub fn verify_tenants(registry: &Registry, ids: &[TenantId]) -> Result<Vec<TenantAudit>> {
    ids.iter().map(|id| verify_tenant(registry, id)).collect()
}

/// Audits one tenant.
pub fn verify_tenant(registry: &Registry, id: &TenantId) -> Result<TenantAudit> {
    let tenant = registry.open(id, Missing::Fail).map_err(|error| {
        if error.kind == Kind::TenantNotFound {
            error.with_message(format!("tenant {id} not found"))
        } else {
            error
        }
    })?;
    let audit = crate::ledger::audit::verify_blocking(&tenant.into())?;
    Ok(TenantAudit {
        id: id.to_string(),
        ok: audit.ok(),
        audit,
    })
}
