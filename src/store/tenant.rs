//! One open tenant: its write connection (behind the [`Writer`]) and its pool of read-only
//! connections. Dropping the last `Arc<Tenant>` closes both: the readers at once, the writer
//! on a writer pool thread once its queue is done (so dropping never blocks an async task).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags};
use scheduled_thread_pool::ScheduledThreadPool;

use super::files::TenantFiles;
use super::parking::{Parking, fold_wal};
use super::registry::SyncMode;
use super::schema;
use super::writer::{Writer, WriterPool};
use crate::domain::tenant::TenantId;
use crate::error::{Error, Result};

/// How long a connection waits on a lock held by another connection of the same file.
pub const BUSY_TIMEOUT_MS: u64 = 5_000;
/// Page cache of a tenant's write connection, in KiB (memory grows only as pages are used).
pub const WRITER_CACHE_KIB: i64 = 8 * 1024;
/// SQLite memory, all tenants together, above which page caches are recycled, in bytes.
pub const SQLITE_SOFT_HEAP_LIMIT_BYTES: i64 = 64 * 1024 * 1024;
/// Page size of a new tenant file, in bytes. Every table and index of the schema is a B-tree
/// of at least one page, so an empty tenant is about 53 pages: 212 KiB at 4 KiB. 1 KiB pages
/// would make it 64 KiB but cost a quarter of the single-tenant write rate (deeper B-trees,
/// four times the page reads per lookup; README "Performance"). Files made earlier keep their
/// page size (SQLite cannot change it in WAL mode).
pub const TENANT_PAGE_BYTES: u32 = 4 * 1024;
/// Read connections kept per open tenant.
pub const READ_CONNECTIONS_PER_TENANT_MAX: u32 = 4;
/// How long a reader waits for a free read connection before the request fails with 503.
pub const READ_CHECKOUT_TIMEOUT_MS: u64 = 5_000;
/// Idle read connections are closed after this long.
pub const READ_CONNECTION_IDLE_MS: u64 = 60_000;

pub type ReadConnection = r2d2::PooledConnection<SqliteConnectionManager>;

pub struct Tenant {
    id: TenantId,
    path: PathBuf,
    writer: Writer,
    readers: r2d2::Pool<SqliteConnectionManager>,
    /// Keys of requests in flight (idempotency keys), so a duplicate arriving meanwhile can be
    /// refused instead of waiting.
    claims: Arc<Mutex<HashSet<String>>>,
    /// When a request last asked for the tenant, in milliseconds since [`Shared::epoch`].
    last_used_ms: AtomicU64,
}

/// Whether an instance's write connection is closed; the registry waits on it before opening
/// the same file again, so there is never more than one writer per file.
#[derive(Default)]
pub struct CloseGate {
    closed: Mutex<bool>,
    changed: Condvar,
}

impl CloseGate {
    /// Waits until the instance is closed, at most `timeout`; returns whether it is.
    pub fn wait_closed(&self, timeout: Duration) -> bool {
        let mut closed = self.closed.lock();
        if !*closed {
            self.changed.wait_for(&mut closed, timeout);
        }
        *closed
    }
}

struct Closed(Arc<CloseGate>);

impl Drop for Closed {
    fn drop(&mut self) {
        *self.0.closed.lock() = true;
        self.0.changed.notify_all();
    }
}

/// A claimed key; released when dropped.
pub struct Claim {
    key: String,
    claims: Arc<Mutex<HashSet<String>>>,
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.claims.lock().remove(&self.key);
    }
}

/// What the open tenants of one registry share.
pub struct Shared {
    /// Upkeep threads of every tenant's reader pool.
    pub thread_pool: Arc<ScheduledThreadPool>,
    /// The threads that run every tenant's group commits, and their counters.
    pub writers: WriterPool,
    /// Who checkpoints the write-ahead logs.
    pub checkpoints: super::files::Checkpoints,
    /// Where closed tenants' write connections wait for their next open.
    pub parking: Arc<Parking>,
    /// The origin of [`Tenant::idle_for`].
    pub epoch: Instant,
}

fn millis_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl Tenant {
    /// Starts the tenant on `parked` (its write connection from the [`Parking`]) or else
    /// opens (and if `create`, creates) the tenant file and brings its schema up to date; then
    /// starts its writer. Blocking: call it off the async executor.
    pub fn open(
        id: TenantId,
        path: PathBuf,
        parked: Option<Connection>,
        settings: &OpenSettings,
        shared: &Shared,
        gate: Arc<CloseGate>,
    ) -> Result<Self> {
        let conn = match parked {
            Some(conn) => {
                conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
                conn
            }
            None => open_writer(&path, settings, shared)?,
        };
        if let Err(error) = super::writer_lookaside(&conn) {
            tracing::warn!(%error, "giving a writer its lookaside failed; it runs without");
        }
        let parking = Arc::clone(&shared.parking);
        let parked_id = id.clone();
        let files = TenantFiles::new(path.parent().unwrap_or(Path::new(".")), id.clone());
        // The writer parks the write connection (unless it was checkpointed and closed), then
        // signals the gate: the next open finds it parked.
        let closed = Closed(gate);
        let on_closed = move |conn| {
            if let Some(conn) = conn {
                parking.park(parked_id, conn);
            }
            drop(closed);
        };
        let writer = Writer::start(&shared.writers, conn, on_closed, move || {
            files.refuse_writes()
        });
        let readers = reader_pool(&path, Arc::clone(&shared.thread_pool))?;
        Ok(Self {
            id,
            path,
            writer,
            readers,
            claims: Arc::default(),
            last_used_ms: AtomicU64::new(millis_since(shared.epoch)),
        })
    }

    /// Records that a request asked for the tenant (`epoch` is [`Shared::epoch`]).
    pub fn touch(&self, epoch: Instant) {
        self.last_used_ms
            .store(millis_since(epoch), Ordering::Relaxed);
    }

    /// How long no request asked for the tenant.
    pub fn idle_for(&self, epoch: Instant) -> Duration {
        let last = self.last_used_ms.load(Ordering::Relaxed);
        Duration::from_millis(millis_since(epoch).saturating_sub(last))
    }

    pub fn id(&self) -> &TenantId {
        &self.id
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn writer(&self) -> &Writer {
        &self.writer
    }

    /// Claims `key` until the returned guard is dropped; `None` if it is already claimed.
    pub fn claim(&self, key: String) -> Option<Claim> {
        let fresh = self.claims.lock().insert(key.clone());
        fresh.then(|| Claim {
            key,
            claims: Arc::clone(&self.claims),
        })
    }

    /// Runs `query` on a read connection on a blocking thread.
    pub async fn read<T, F>(self: &Arc<Self>, query: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let tenant = Arc::clone(self);
        tokio::task::spawn_blocking(move || tenant.read_blocking(query))
            .await
            .map_err(|_| Error::internal("a read panicked"))?
    }

    /// Runs `query` on a read connection of this thread.
    pub fn read_blocking<T, F>(&self, query: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T>,
    {
        let conn: ReadConnection = self.readers.get().map_err(|error| {
            Error::new(crate::error::Kind::ServiceUnavailable).with_message(error.to_string())
        })?;
        query(&conn)
    }
}

/// How a tenant's file is opened.
#[derive(Debug, Clone, Copy)]
pub struct OpenSettings {
    pub sync: SyncMode,
    pub max_bytes: Option<u64>,
    /// Whether a missing file is created.
    pub create: bool,
}

/// A new write connection to `path`, configured, its schema brought up to date. A file just
/// created is checkpointed at once (its migrations would otherwise stay in a WAL several times
/// its size until the tenant's first idle checkpoint).
fn open_writer(path: &Path, settings: &OpenSettings, shared: &Shared) -> Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if settings.create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let mut conn = Connection::open_with_flags(path, flags)?;
    super::no_lookaside(&conn)?;
    refuse_read_only(&conn)?;
    schema::refuse_newer(&conn)?;
    // Takes effect on a new, empty file only (before `journal_mode` writes its first page).
    conn.pragma_update(None, "page_size", TENANT_PAGE_BYTES)?;
    configure_writer(&conn, settings.sync)?;
    shared.checkpoints.configure(&conn)?;
    if let Some(max_bytes) = settings.max_bytes {
        limit_file_size(&conn, max_bytes)?;
    }
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let created = version == 0;
    schema::migrate(&mut conn)?;
    if created {
        // The migrations leave pages of dropped tables and indexes free: a new file sheds them.
        conn.execute_batch("VACUUM")?;
        if shared.parking.idle_checkpoint() {
            fold_wal(&conn);
        }
    }
    Ok(conn)
}

/// Closing a tenant (an LRU eviction) must be cheap: no connection checkpoints on close; the
/// writer does it on shutdown only ([`Writer::checkpoint_when_closed`]).
fn no_checkpoint_on_close(conn: &Connection) -> rusqlite::Result<()> {
    checkpoint_on_close(conn, false)
}

/// Whether closing `conn` checkpoints the WAL and, as the file's last connection, removes the
/// WAL and its index.
pub(super) fn checkpoint_on_close(conn: &Connection, on: bool) -> rusqlite::Result<()> {
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        !on,
    )
    .map(drop)
}

/// SQLite opens a file it may not write read-only without a word, and such a connection stays
/// read-only after the file becomes writable. A writer must be able to write: refuse the open
/// (503, not cached), so the next request opens the file again.
fn refuse_read_only(conn: &Connection) -> Result<()> {
    if conn.is_readonly(rusqlite::MAIN_DB)? {
        let mut error = Error::new(crate::error::Kind::StorageUnavailable);
        error.cause = Some("the tenant file could only be opened read-only".to_owned());
        return Err(error);
    }
    Ok(())
}

/// Caps the tenant's database at `max_bytes` (rounded down to whole pages; never below its
/// current size): a write that needs a page beyond it fails with `SQLITE_FULL`, which the
/// caller sees as 503 `STORAGE_UNAVAILABLE`, exactly like a full disk. The cap counts the
/// database's pages wherever they are (file or WAL); the WAL file itself comes on top, bounded
/// by the automatic checkpoint.
fn limit_file_size(conn: &Connection, max_bytes: u64) -> rusqlite::Result<()> {
    let page_bytes: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    let page_bytes = u64::try_from(page_bytes).unwrap_or(1).max(1);
    let pages = i64::try_from(max_bytes / page_bytes).unwrap_or(i64::MAX);
    let applied: i64 = conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| {
        r.get(0)
    })?;
    if applied > pages {
        tracing::warn!(
            pages,
            applied,
            "tenant file is already larger than LEDGERLITE_TENANT_MAX_BYTES; it may not grow"
        );
    }
    Ok(())
}

fn configure_writer(conn: &Connection, sync: SyncMode) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_millis(BUSY_TIMEOUT_MS))?;
    // Process-wide: page caches of all tenants together shrink towards this budget.
    conn.pragma_update(None, "soft_heap_limit", SQLITE_SOFT_HEAP_LIMIT_BYTES)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", sync.pragma())?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Every command runs in a savepoint, and SQLite keeps a savepoint's undo pages in a
    // statement journal; in a temp file that costs a pwrite (and later a pread) per page a
    // command first touches. In memory it costs a memcpy.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    no_checkpoint_on_close(conn)?;
    // Pages a group commit touches stay cached instead of being read back.
    conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

fn reader_pool(
    path: &Path,
    thread_pool: Arc<ScheduledThreadPool>,
) -> Result<r2d2::Pool<SqliteConnectionManager>> {
    let manager = SqliteConnectionManager::file(path)
        .with_flags(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .with_init(|conn| {
            super::no_lookaside(conn)?;
            conn.busy_timeout(Duration::from_millis(BUSY_TIMEOUT_MS))?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            no_checkpoint_on_close(conn)?;
            conn.set_prepared_statement_cache_capacity(64);
            Ok(())
        });
    r2d2::Pool::builder()
        .max_size(READ_CONNECTIONS_PER_TENANT_MAX)
        .min_idle(Some(0))
        .connection_timeout(Duration::from_millis(READ_CHECKOUT_TIMEOUT_MS))
        .idle_timeout(Some(Duration::from_millis(READ_CONNECTION_IDLE_MS)))
        .test_on_check_out(false)
        .thread_pool(thread_pool)
        .build(manager)
        .map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    /// `.cargo/config.toml` builds the bundled SQLite without `SQLITE_ENABLE_MEMORY_MANAGEMENT`
    /// (one page-cache mutex shared by every tenant's writer) and without the bulk page-cache
    /// allocation per connection; losing that setting costs a third of the multi-tenant
    /// throughput without failing anything else.
    #[test]
    fn sqlite_is_built_with_a_page_cache_per_connection() {
        let conn = rusqlite::Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
        let mut statement = conn
            .prepare("PRAGMA compile_options")
            .unwrap_or_else(|e| panic!("{e}"));
        let options: Vec<String> = statement
            .query_map([], |row| row.get(0))
            .and_then(|rows| rows.collect())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "{options:?}"
        );
        assert!(
            options.iter().any(|o| o == "DEFAULT_PCACHE_INITSZ=0"),
            "{options:?}"
        );
    }
}
