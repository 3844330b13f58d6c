//! `/admin/v1`: the operator's API, mirroring the `tenant` and `verify` commands (the work is
//! in [`crate::admin`], shared with them).
//!
//! Guarded by its own credential, `LEDGERLITE_ADMIN_TOKEN`, sent as `Authorization: Bearer`.
//! Without that setting the routes do not exist (every path answers the usual 404). A tenant's
//! JWT is never an admin credential, and the admin token is never a tenant credential (it is
//! not a JWT the verifier accepts).

use std::sync::Arc;

use std::future::{Ready, ready};
use std::io::Write;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::domain::query::Cursor;
use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::Payload;
use actix_web::web::{self, Bytes};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::Envelope;
use super::extract::{Body, QueryPairs, bearer};
use super::reply;
use super::routes::{Access, Route};
use crate::admin::{self, MoveStep, TenantAudit, TenantStatus};
use crate::domain::tenant::TenantId;
use crate::error::{Error, Kind, Result};

/// Prefix of every admin route.
pub const ADMIN_SCOPE: &str = "/admin/v1";
/// Bytes of an export sent per chunk of the streamed response.
pub const EXPORT_CHUNK_BYTES: usize = 64 * 1024;
/// Chunks of an export buffered ahead of a slow client, so memory stays bounded.
pub const EXPORT_CHUNKS_BUFFERED_MAX: usize = 4;
/// Largest export an import over the admin API accepts, in bytes (it is held in memory while
/// it is imported; `ledgerlite tenant import` reads a file of any size).
pub const IMPORT_BODY_BYTES_MAX: usize = 256 * 1024 * 1024;

pub(super) fn routes() -> Vec<Route> {
    vec![
        Route::new::<__path_verify_all>(Access::Admin, |r| r.to(verify_all)),
        Route::new::<__path_list>(Access::Admin, |r| r.to(list)),
        Route::new::<__path_create>(Access::Admin, |r| r.to(create)),
        Route::new::<__path_delete>(Access::Admin, |r| r.to(delete)),
        Route::new::<__path_suspend>(Access::Admin, |r| r.to(|call| set_suspended(call, true))),
        Route::new::<__path_resume>(Access::Admin, |r| r.to(|call| set_suspended(call, false))),
        Route::new::<__path_freeze>(Access::Admin, |r| {
            r.to(|call| move_step(call, MoveStep::Freeze))
        }),
        Route::new::<__path_unfreeze>(Access::Admin, |r| {
            r.to(|call| move_step(call, MoveStep::Unfreeze))
        }),
        Route::new::<__path_mark_moved>(Access::Admin, |r| r.to(mark_moved)),
        Route::new::<__path_unmove>(Access::Admin, |r| {
            r.to(|call| move_step(call, MoveStep::Unmove))
        }),
        Route::new::<__path_replication>(Access::Admin, |r| r.to(replication)),
        Route::new::<__path_backup>(Access::Admin, |r| r.to(backup)),
        Route::new::<__path_export>(Access::Admin, |r| r.to(export)),
        Route::new::<__path_import>(Access::Admin, |r| r.to(import)),
        Route::new::<__path_verify>(Access::Admin, |r| r.to(verify)),
    ]
}

/// Paths and methods the admin API does not have: 404 once the caller proved to be the admin,
/// so the API's shape is not revealed to anyone else.
pub(super) async fn unknown(_: Admin, req: HttpRequest) -> HttpResponse {
    super::not_found(req).await
}

/// Proof that the request carries the admin token. Compared as SHA-256 digests with a loop
/// that looks at every byte, so the time taken says nothing about the token.
pub struct Admin;

impl FromRequest for Admin {
    type Error = Error;
    type Future = Ready<Result<Self>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(admit(req))
    }
}

fn admit(req: &HttpRequest) -> Result<Admin> {
    let expected = req
        .app_data::<web::Data<AppState>>()
        .and_then(|state| state.config.admin_token.clone())
        .ok_or_else(|| Error::internal("admin route without an admin token"))?;
    let given = bearer(req).ok_or_else(|| Error::new(Kind::MissingAdminToken))?;
    if digests_equal(given.as_bytes(), expected.as_bytes()) {
        Ok(Admin)
    } else {
        Err(Error::new(Kind::InvalidAdminToken))
    }
}

/// Whether `a` and `b` are equal, in time independent of where they differ (their SHA-256
/// digests are compared with an XOR fold over all 32 bytes).
fn digests_equal(a: &[u8], b: &[u8]) -> bool {
    let (a, b) = (Sha256::digest(a), Sha256::digest(b));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |diff, (x, y)| diff | (x ^ y))
        == 0
}

/// The tenant id of the path, or 400 `INVALID_TENANT`.
/// An admin call on one tenant: the admin token checked, then `{tenant}` parsed (400
/// `INVALID_TENANT` when it is not a tenant id).
struct TenantCall {
    id: TenantId,
    state: web::Data<AppState>,
}

impl FromRequest for TenantCall {
    type Error = Error;
    type Future = Ready<Result<Self>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(admit(req).and_then(|Admin| {
            let id = req
                .match_info()
                .get("tenant")
                .and_then(TenantId::parse)
                .ok_or_else(|| Error::new(Kind::InvalidTenantId))?;
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or_else(|| Error::internal("no app state"))?;
            Ok(TenantCall { id, state })
        }))
    }
}

/// Runs blocking file or database work off the async executor.
async fn blocking<T, F>(work: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    web::block(work)
        .await
        .map_err(|_| Error::internal("admin work panicked"))?
}

/// Whether the query sets `name=true`.
fn flag(query: &QueryPairs, name: &str) -> bool {
    query
        .pairs
        .iter()
        .any(|(key, value)| key == name && value == "true")
}

/// The `{tenant}` of a tenant's route, as documented (parsed by [`TenantCall`]).
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct TenantPath {
    /// A tenant id; 400 `INVALID_TENANT` when it does not match the pattern.
    #[param(pattern = "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", example = "acme")]
    tenant: String,
}

/// `GET /admin/v1/tenants`: one page, as the `/v1` cursor lists.
#[derive(Serialize, ToSchema)]
struct TenantList {
    /// The page's tenants, sorted by id.
    items: Vec<TenantStatus>,
    /// The page size asked for.
    #[schema(example = 10)]
    limit: usize,
    /// The next page's `cursor`; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
    /// The previous page's `cursor`; absent on the first page.
    #[serde(skip_serializing_if = "Option::is_none")]
    prev_cursor: Option<String>,
}

/// The query of `GET /admin/v1/tenants`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct TenantListQuery {
    /// Tenants per page; 400 `0082` when not a positive number, `0080` above 100.
    #[param(minimum = 1, maximum = 100, default = 10)]
    limit: Option<u32>,
    /// `next_cursor` or `prev_cursor` of a previous page (base64 of `{"id", "direction"}`);
    /// 400 `0082` when it is not one.
    cursor: Option<String>,
}

/// The `limit` and `cursor` of a tenant list query; other parameters are ignored.
fn tenant_list_query(query: &QueryPairs) -> Result<(usize, Option<Cursor>)> {
    let invalid = |param: &str| {
        Error::new(Kind::InvalidQueryParameter).with_message(format!(
            "The query parameter '{param}' has an invalid value."
        ))
    };
    let (mut limit, mut cursor) = (admin::TENANT_PAGE_LIMIT_DEFAULT, None);
    for (key, value) in &query.pairs {
        match key.as_str() {
            "limit" => {
                limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|l| *l > 0)
                    .ok_or_else(|| invalid("limit"))?;
                if limit > admin::TENANT_PAGE_LIMIT_MAX {
                    return Err(
                        Error::new(Kind::PaginationLimitExceeded).with_message(format!(
                            "The limit must not exceed {}.",
                            admin::TENANT_PAGE_LIMIT_MAX
                        )),
                    );
                }
            }
            "cursor" if !value.is_empty() => {
                cursor = Some(admin::tenant_cursor(value).ok_or_else(|| invalid("cursor"))?);
            }
            _ => {}
        }
    }
    Ok((limit, cursor))
}

/// List tenants, a page at a time in id order (`limit`, `cursor` as the `/v1` lists).
#[utoipa::path(get, path = "/admin/v1/tenants", tag = "Admin", operation_id = "admin_list_tenants",
    params(TenantListQuery),
    responses((status = 200, body = TenantList),
        (status = 400, description = "A bad `limit` or `cursor`.", body = Envelope)))]
async fn list(_: Admin, state: web::Data<AppState>, query: QueryPairs) -> Result<HttpResponse> {
    let (limit, cursor) = tenant_list_query(&query)?;
    let registry = Arc::clone(state.engine.registry());
    let page = blocking(move || admin::list_tenant_page(&registry, limit, cursor.as_ref())).await?;
    reply::ok(&TenantList {
        items: page.items,
        limit,
        next_cursor: page.next_cursor,
        prev_cursor: page.prev_cursor,
    })
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
struct CreateTenant {
    /// The new tenant's id.
    #[schema(value_type = String, required = true,
        pattern = "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", example = "acme")]
    id: Option<String>,
}

/// Create a tenant: 201 with the tenant when created, 200 when it already existed (as
/// `tenant create`).
#[utoipa::path(post, path = "/admin/v1/tenants", tag = "Admin", operation_id = "admin_create_tenant",
    request_body = CreateTenant,
    responses(
        (status = 201, body = TenantStatus, description = "Created"),
        (status = 200, body = TenantStatus, description = "It already existed"),
        (status = 400, body = Envelope, description = "An invalid id (`INVALID_TENANT`), no id \
            (0009), an unknown field (0053) or a malformed body (0094)."),
    ))]
async fn create(_: Admin, state: web::Data<AppState>, body: Body) -> Result<HttpResponse> {
    let request: CreateTenant = body.parse()?;
    let raw = request.id.ok_or_else(|| {
        Error::new(Kind::MissingFieldsInRequest)
            .with_fields([("id".to_owned(), "id is required".to_owned())].into())
    })?;
    let id = TenantId::parse(&raw).ok_or_else(|| Error::new(Kind::InvalidTenantId))?;
    let registry = Arc::clone(state.engine.registry());
    let (created, tenant) = blocking(move || {
        let created = registry.create(&id)?;
        Ok((created, TenantStatus::of(&registry, &id)))
    })
    .await?;
    if created {
        reply::created(&tenant)
    } else {
        reply::ok(&tenant)
    }
}

/// Suspend a tenant: its `/v1` requests are refused with 403 `TENANT_SUSPENDED`.
#[utoipa::path(post, path = "/admin/v1/tenants/{tenant}/suspend", tag = "Admin", operation_id = "admin_suspend_tenant",
    params(TenantPath), responses((status = 200, body = TenantStatus)))]
#[allow(dead_code)]
fn suspend() {}

/// Resume a suspended tenant.
#[utoipa::path(post, path = "/admin/v1/tenants/{tenant}/resume", tag = "Admin", operation_id = "admin_resume_tenant",
    params(TenantPath), responses((status = 200, body = TenantStatus)))]
#[allow(dead_code)]
fn resume() {}

/// Suspends or resumes a tenant (the `suspend` and `resume` routes).
async fn set_suspended(call: TenantCall, suspended: bool) -> Result<HttpResponse> {
    let TenantCall { id, state } = call;
    let registry = Arc::clone(state.engine.registry());
    let tenant = blocking(move || {
        registry.set_suspended(&id, suspended)?;
        Ok(TenantStatus::of(&registry, &id))
    })
    .await?;
    reply::ok(&tenant)
}

/// Freeze a tenant before moving it to another node: its writes are refused with 503
/// `TENANT_READ_ONLY` and a `Retry-After` header, its reads served. Answers once no write can
/// still commit, so the tenant's local position is final (`GET …/replication`).
#[utoipa::path(post, path = "/admin/v1/tenants/{tenant}/freeze", tag = "Admin", operation_id = "admin_freeze_tenant",
    params(TenantPath), responses(
        (status = 200, body = TenantStatus),
        (status = 404, body = Envelope, description = "No such tenant (`TENANT_NOT_FOUND`)."),
        (status = 409, body = Envelope, description = "A write transaction kept the tenant's \
            lock too long (`TENANT_IN_USE`); the tenant stays frozen, retry."),
    ))]
#[allow(dead_code)]
fn freeze() {}

/// Take writes again on a frozen tenant.
#[utoipa::path(post, path = "/admin/v1/tenants/{tenant}/unfreeze", tag = "Admin", operation_id = "admin_unfreeze_tenant",
    params(TenantPath), responses((status = 200, body = TenantStatus)))]
#[allow(dead_code)]
fn unfreeze() {}

/// Serve a moved tenant here again (an operator's mistake); it stays frozen until unfrozen.
#[utoipa::path(post, path = "/admin/v1/tenants/{tenant}/unmove", tag = "Admin", operation_id = "admin_unmove_tenant",
    params(TenantPath), responses((status = 200, body = TenantStatus)))]
#[allow(dead_code)]
fn unmove() {}

/// Applies one step of a move (the `freeze`, `unfreeze`, `move` and `unmove` routes).
async fn move_step(call: TenantCall, step: MoveStep) -> Result<HttpResponse> {
    let TenantCall { id, state } = call;
    let registry = Arc::clone(state.engine.registry());
    let tenant = blocking(move || admin::move_step(&registry, &id, step)).await?;
    reply::ok(&tenant)
}

/// A tenant's local and replicated positions (as `ledgerlite replication status`): poll it
/// after a freeze until `inSync`, then restore the tenant on the new node. The replica is
/// `LEDGERLITE_REPLICA`; without it `replicatedTxid` is `null`. A `file://` replica is read
/// directly, any other through `litestream ltx`.
#[utoipa::path(get, path = "/admin/v1/tenants/{tenant}/replication", tag = "Admin",
    operation_id = "admin_tenant_replication", params(TenantPath), responses(
        (status = 200, body = crate::replication::Positions),
        (status = 404, body = Envelope, description = "No such tenant (`TENANT_NOT_FOUND`)."),
    ))]
async fn replication(call: TenantCall) -> Result<HttpResponse> {
    let TenantCall { id, state } = call;
    let data_dir = state.config.data_dir.clone();
    let (url, key) = (
        state.config.replica.clone(),
        state.config.replica_sftp_key.clone(),
    );
    let positions = blocking(move || {
        let replica = url
            .map(|url| crate::replication::Replica::new(&url, key))
            .transpose()?;
        crate::replication::positions(&data_dir, replica.as_ref(), id)
    })
    .await?;
    reply::ok(&positions)
}

/// The query of `POST …/tenants/{tenant}/move`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct MoveQuery {
    /// The new node's URL (`http://` or `https://`), sent to clients in the body and the
    /// `Location` header of 421 `TENANT_MOVED`.
    #[param(example = "https://node-b.example")]
    to: Option<String>,
}

/// Mark a tenant moved to another node (after it was restored there): every `/v1` request
/// for it is answered 421 `TENANT_MOVED`, with the new node's URL when given. Freezes it
/// too, so an un-move leaves it read-only.
#[utoipa::path(post, path = "/admin/v1/tenants/{tenant}/move", tag = "Admin", operation_id = "admin_move_tenant",
    params(TenantPath, MoveQuery), responses(
        (status = 200, body = TenantStatus),
        (status = 400, body = Envelope, description = "`to` is not an http:// or https:// URL (0047)."),
        (status = 404, body = Envelope, description = "No such tenant (`TENANT_NOT_FOUND`)."),
    ))]
async fn mark_moved(call: TenantCall, query: QueryPairs) -> Result<HttpResponse> {
    let to = query
        .pairs
        .iter()
        .find(|(key, _)| key == "to")
        .map(|(_, value)| value.clone());
    move_step(call, MoveStep::Move { to }).await
}

/// The query of `DELETE …/tenants/{tenant}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct DeleteQuery {
    /// Must be `true`: deleting a tenant removes all its data (400 `CONFIRMATION_REQUIRED`
    /// otherwise).
    yes: bool,
}

/// Delete a tenant: close it (waiting for its requests), then remove its files; like
/// `tenant delete --yes`, refused without `yes=true`. A moved tenant keeps its `.moved`
/// marker, so its requests still get 421 `TENANT_MOVED` with the new node (`unmove` removes
/// it); its write-ahead log does not make it look in use.
#[utoipa::path(delete, path = "/admin/v1/tenants/{tenant}", tag = "Admin",
    operation_id = "admin_delete_tenant", params(TenantPath, DeleteQuery),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, body = Envelope, description = "An invalid tenant id (`INVALID_TENANT`) \
            or no `yes=true` (`CONFIRMATION_REQUIRED`)."),
        (status = 409, body = Envelope, description = "Requests still hold the tenant or \
            another process has it open (`TENANT_IN_USE`)."),
    ))]
async fn delete(call: TenantCall, query: QueryPairs) -> Result<HttpResponse> {
    let TenantCall { id, state } = call;
    if !flag(&query, "yes") {
        return Err(Error::new(Kind::DeletionNotConfirmed));
    }
    let registry = Arc::clone(state.engine.registry());
    blocking(move || admin::delete_tenant(&registry, id)).await?;
    reply::no_content()
}

/// `POST …/tenants/{tenant}/backup`.
#[derive(Serialize, ToSchema)]
struct BackupReply {
    /// The tenant id.
    #[schema(example = "acme")]
    id: String,
    /// The backup's file name.
    #[schema(example = "acme.20260101T120000Z.0a1b2c3d.sqlite")]
    backup: String,
    /// The backup's path, relative to the data folder.
    #[schema(example = "backups/acme.20260101T120000Z.0a1b2c3d.sqlite")]
    path: String,
}

/// Back a tenant up online into a new file under `<data_dir>/backups/`; answers its file
/// name, never a caller-chosen path.
#[utoipa::path(post, path = "/admin/v1/tenants/{tenant}/backup", tag = "Admin",
    operation_id = "admin_backup_tenant", params(TenantPath),
    responses(
        (status = 201, body = BackupReply, description = "Created"),
    ))]
async fn backup(call: TenantCall) -> Result<HttpResponse> {
    let TenantCall { id, state } = call;
    let data_dir = state.config.data_dir.clone();
    let tenant = id.to_string();
    let name = blocking(move || admin::backup_to_folder(&data_dir, id)).await?;
    reply::created(&BackupReply {
        id: tenant,
        path: format!("{}/{name}", admin::BACKUPS_DIR),
        backup: name,
    })
}

/// Export a tenant: its rows as JSON lines (as `tenant export`), streamed as they are read
/// from one snapshot.
#[utoipa::path(get, path = "/admin/v1/tenants/{tenant}/export", tag = "Admin",
    operation_id = "admin_export_tenant", params(TenantPath),
    responses(
        (status = 200, body = String, content_type = "application/x-ndjson",
            description = "One JSON object per line: a row, with `type` naming its table."),
    ))]
async fn export(call: TenantCall) -> Result<HttpResponse> {
    let TenantCall { id, state } = call;
    let data_dir = state.config.data_dir.clone();
    let files = state.engine.registry().files_of(&id);
    blocking(move || files.require_exists()).await?;
    let (sender, receiver) = mpsc::channel(EXPORT_CHUNKS_BUFFERED_MAX);
    // Detached: it ends when the export is written or the client goes away.
    drop(actix_web::rt::task::spawn_blocking(move || {
        let mut out = ChunkWriter {
            chunk: Vec::with_capacity(EXPORT_CHUNK_BYTES),
            sender,
        };
        if let Err(error) = admin::export(&data_dir, id, &mut out) {
            tracing::error!(message = %error.message, cause = ?error.cause, "export failed");
            // The status is sent already: cutting the stream short is all that is left.
            let _ = out
                .sender
                .blocking_send(Err(std::io::Error::other("export failed")));
        }
    }));
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .body(ExportBody(receiver)))
}

/// The query of `POST …/tenants/{tenant}/import`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct ImportQuery {
    /// `true` replaces an existing tenant (409 `TENANT_EXISTS` otherwise).
    force: Option<bool>,
}

/// `POST …/tenants/{tenant}/import`.
#[derive(Serialize, ToSchema)]
struct ImportReply {
    /// The tenant id.
    #[schema(example = "acme")]
    id: String,
    /// Rows imported.
    rows: u64,
}

/// Import a tenant from an export (the JSON lines `GET …/export` answers), as `tenant
/// import`: written into a new file in one transaction, checked like `verify` checks a
/// tenant, then put in place; a refused import changes nothing.
#[utoipa::path(post, path = "/admin/v1/tenants/{tenant}/import", tag = "Admin",
    operation_id = "admin_import_tenant", params(TenantPath, ImportQuery),
    request_body(content = String, content_type = "application/x-ndjson",
        description = "An export: one JSON object per line."),
    responses(
        (status = 201, body = ImportReply, description = "Imported"),
        (status = 400, body = Envelope, description = "An invalid tenant id (`INVALID_TENANT`) \
            or an export that cannot be imported (`INVALID_IMPORT`, the message names the line)."),
        (status = 409, body = Envelope, description = "The tenant exists and `force=true` was \
            not given (`TENANT_EXISTS`), or it is in use (`TENANT_IN_USE`)."),
        (status = 413, body = Envelope, description = "The export is larger than the admin API \
            takes (0143); import it with `ledgerlite tenant import`."),
    ))]
async fn import(
    call: TenantCall,
    query: QueryPairs,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let TenantCall { id, state } = call;
    let force = flag(&query, "force");
    let body = match payload.to_bytes_limited(IMPORT_BODY_BYTES_MAX).await {
        Ok(Ok(body)) => body,
        Ok(Err(error)) => {
            return Err(Error::new(Kind::InvalidRequestBody).with_message(error.to_string()));
        }
        Err(_) => return Err(Error::new(Kind::PayloadTooLarge)),
    };
    let registry = Arc::clone(state.engine.registry());
    let tenant = id.to_string();
    let rows = blocking(move || admin::import_tenant(&registry, id, &body[..], force)).await?;
    reply::created(&ImportReply { id: tenant, rows })
}

/// Collects the export into chunks of [`EXPORT_CHUNK_BYTES`] and hands them to the response.
struct ChunkWriter {
    chunk: Vec<u8>,
    sender: mpsc::Sender<std::io::Result<Bytes>>,
}

impl ChunkWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.chunk,
            Vec::with_capacity(EXPORT_CHUNK_BYTES),
        ));
        self.sender
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.chunk.extend_from_slice(bytes);
        if self.chunk.len() >= EXPORT_CHUNK_BYTES {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// The response body of an export: the chunks, as they come.
struct ExportBody(mpsc::Receiver<std::io::Result<Bytes>>);

impl MessageBody for ExportBody {
    type Error = std::io::Error;

    fn size(&self) -> BodySize {
        BodySize::Stream
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::io::Result<Bytes>>> {
        self.0.poll_recv(cx)
    }
}

/// Verify a tenant (as `ledgerlite verify`): its hash chain, every balance against its
/// operations and conservation per asset; `ok` false with the first problems.
#[utoipa::path(post, path = "/admin/v1/tenants/{tenant}/verify", tag = "Admin",
    operation_id = "admin_verify_tenant", params(TenantPath),
    responses(
        (status = 200, body = TenantAudit),
    ))]
async fn verify(call: TenantCall) -> Result<HttpResponse> {
    let TenantCall { id, state } = call;
    let registry = Arc::clone(state.engine.registry());
    let mut audits = blocking(move || admin::verify_tenants(&registry, &[id])).await?;
    let audit = audits
        .pop()
        .ok_or_else(|| Error::internal("no audit for one tenant"))?;
    reply::ok(&audit)
}

/// `POST /admin/v1/verify`.
#[derive(Serialize, ToSchema)]
struct VerifyReport {
    /// Every tenant is.
    ok: bool,
    /// Each tenant's report, sorted by id.
    tenants: Vec<TenantAudit>,
}

/// Verify every tenant; `ok` when all are.
#[utoipa::path(post, path = "/admin/v1/verify", tag = "Admin", operation_id = "admin_verify_all",
    responses((status = 200, body = VerifyReport)))]
async fn verify_all(_: Admin, state: web::Data<AppState>) -> Result<HttpResponse> {
    let registry = Arc::clone(state.engine.registry());
    let audits = blocking(move || {
        let ids = registry.list()?;
        admin::verify_tenants(&registry, &ids)
    })
    .await?;
    let ok = audits.iter().all(|audit| audit.ok);
    reply::ok(&VerifyReport {
        ok,
        tenants: audits,
    })
}

#[cfg(test)]
mod tests {
    use super::digests_equal;

    #[test]
    fn digests_equal_only_for_equal_tokens() {
        assert!(digests_equal(
            b"admin-token-0123456789",
            b"admin-token-0123456789"
        ));
        assert!(!digests_equal(
            b"admin-token-0123456789",
            b"admin-token-012345678"
        ));
        assert!(!digests_equal(
            b"admin-token-0123456789",
            b"Admin-token-0123456789"
        ));
        assert!(!digests_equal(b"", b"x"));
    }
}
