//! A tenant's files on disk (`<data_dir>/tenants/<id>.sqlite` and its companions), named in
//! one place, and the file-level operations on them: liveness, read-only opens, online
//! copies, validation of a copy, atomic replacement.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::{Duration, Instant, SystemTime};

use parking_lot::Mutex;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::schema;
use crate::domain::tenant::TenantId;
use crate::error::{Error, Kind, Result};

/// Folder below the data folder that holds the tenant files.
pub const TENANTS_DIR: &str = "tenants";
/// Suffix of a tenant's database file; a file with another name is never taken for a tenant.
pub const DATABASE_SUFFIX: &str = ".sqlite";
const WAL_SUFFIX: &str = ".sqlite-wal";
const SHM_SUFFIX: &str = ".sqlite-shm";
/// Suffixes of the database and its SQLite companions.
const SQLITE_FILE_SUFFIXES: [&str; 3] = [DATABASE_SUFFIX, WAL_SUFFIX, SHM_SUFFIX];

/// How long freezing a tenant waits for a write transaction in progress to finish (and for
/// Litestream's checkpoints), in milliseconds.
pub const FREEZE_WAIT_MS: u64 = 10_000;
/// Longest new node URL a moved tenant's marker takes, in bytes.
pub const MOVED_URL_BYTES_MAX: usize = 2_048;

/// An operator's state of a tenant, kept as a marker file beside its database (never inside
/// it: the database is what Litestream replicates, and a copy restored elsewhere must come up
/// without the state of the node it left).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// Every request is refused (403 `TENANT_SUSPENDED`).
    Suspended,
    /// Writes are refused (503 `TENANT_READ_ONLY`), reads served: the tenant is being moved.
    ReadOnly,
    /// Every request is refused (421 `TENANT_MOVED`); the marker holds the new node's URL,
    /// if the operator gave one.
    Moved,
}

impl Marker {
    pub const ALL: [Marker; 3] = [Marker::Suspended, Marker::ReadOnly, Marker::Moved];

    fn suffix(self) -> &'static str {
        match self {
            Marker::Suspended => ".suspended",
            Marker::ReadOnly => ".read-only",
            Marker::Moved => ".moved",
        }
    }
}

/// How old a tenants folder's modification time must be before the marker states read in it
/// are kept, in milliseconds. Removing or adding a file (a marker is written to a temporary
/// file and renamed) sets the folder's time from the kernel's coarse clock: a change made
/// later than this after the time seen is sure to give the folder another time.
pub const MARKER_CACHE_SETTLE_MS: u64 = 1_000;
/// Tenants whose marker states are kept per tenants folder; past it the folder's states are
/// forgotten and read again.
pub const MARKER_CACHE_TENANTS_MAX: usize = 100_000;

/// The operator's markers of one tenant, as read from its folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct MarkerState {
    /// The `.moved` marker's text (the new node's URL, possibly empty).
    moved: Option<String>,
    suspended: bool,
    read_only: bool,
}

/// The marker states read in one tenants folder, valid while the folder's modification time
/// is `modified`.
struct FolderMarkers {
    modified: SystemTime,
    tenants: HashMap<TenantId, MarkerState>,
}

/// Marker states of the tenants of every folder this process looked at, so that a request
/// costs one `stat` of the folder instead of one per marker. Any process that writes or
/// removes a marker changes the folder's modification time, which empties the folder's
/// states; this process also drops a tenant's state whenever it changes its files.
static MARKER_CACHE: LazyLock<Mutex<HashMap<PathBuf, FolderMarkers>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

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

/// Who checkpoints the tenant files' write-ahead logs (`LEDGERLITE_REPLICATION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Checkpoints {
    /// ledgerlite: SQLite's automatic checkpoint after commits, and a `TRUNCATE` checkpoint
    /// when the server stops, so a stopped tenant is one self-contained file.
    #[default]
    Ledgerlite,
    /// Litestream replicates the files and must be the only one to checkpoint: a checkpoint it
    /// does not make can move WAL frames into the database file (and restart the WAL) before
    /// Litestream has copied them. ledgerlite then never checkpoints, neither after commits
    /// nor when it stops (the WAL stays beside the file; it is as durable and replayed on
    /// open).
    Litestream,
}

impl Checkpoints {
    /// Whether ledgerlite checkpoints the WAL itself.
    pub fn by_ledgerlite(self) -> bool {
        self == Checkpoints::Ledgerlite
    }

    /// Sets up the checkpoints of a tenant's write connection `conn`.
    pub fn configure(self, conn: &Connection) -> rusqlite::Result<()> {
        if !self.by_ledgerlite() {
            conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        }
        Ok(())
    }
}

/// The files of one tenant below `<data_dir>/tenants/`.
#[derive(Debug, Clone)]
pub struct TenantFiles {
    dir: PathBuf,
    id: TenantId,
}

impl TenantFiles {
    /// The files of `id` in the tenants folder `tenants_dir`.
    pub fn new(tenants_dir: &Path, id: TenantId) -> Self {
        Self {
            dir: tenants_dir.to_path_buf(),
            id,
        }
    }

    /// The files of `id` under the data folder `data_dir`.
    pub fn in_data_dir(data_dir: &Path, id: TenantId) -> Self {
        Self::new(&data_dir.join(TENANTS_DIR), id)
    }

    /// The tenant whose database file is named `file_name`, if it is one.
    pub fn id_of(file_name: &str) -> Option<TenantId> {
        file_name
            .strip_suffix(DATABASE_SUFFIX)
            .and_then(TenantId::parse)
    }

    pub fn id(&self) -> &TenantId {
        &self.id
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn with_suffix(&self, suffix: &str) -> PathBuf {
        self.dir.join(format!("{}{suffix}", self.id))
    }

    pub fn database(&self) -> PathBuf {
        self.with_suffix(DATABASE_SUFFIX)
    }

    pub fn wal(&self) -> PathBuf {
        self.with_suffix(WAL_SUFFIX)
    }

    pub fn shm(&self) -> PathBuf {
        self.with_suffix(SHM_SUFFIX)
    }

    /// The file whose presence puts the tenant in the state `marker`.
    pub fn marker(&self, marker: Marker) -> PathBuf {
        self.with_suffix(marker.suffix())
    }

    pub fn has(&self, marker: Marker) -> bool {
        self.marker(marker).exists()
    }

    /// The text of the marker file (a moved tenant's new URL), `None` without the marker.
    pub fn marker_text(&self, marker: Marker) -> Option<String> {
        std::fs::read_to_string(self.marker(marker)).ok()
    }

    /// Puts the tenant in the state `marker` (`Some(text)`, written into the marker file and
    /// synced) or out of it (`None`). `TenantNotFound` without a database file, unless a marker
    /// there is taken away (a deleted moved tenant keeps its `.moved`, see
    /// [`TenantFiles::remove_all`]).
    pub fn set_marker(&self, marker: Marker, text: Option<&str>) -> Result<()> {
        if text.is_some() || !self.has(marker) {
            self.require_exists()?;
        }
        let path = self.marker(marker);
        self.forget_markers();
        match text {
            Some(text) => {
                let temp = temp_sibling(&path)?;
                std::fs::write(&temp, text.as_bytes())
                    .and_then(|()| File::open(&temp).and_then(|file| file.sync_all()))
                    .and_then(|()| std::fs::rename(&temp, &path))
                    .map_err(|e| {
                        let _ = std::fs::remove_file(&temp);
                        io_error("writing", &path, e)
                    })?;
            }
            None => {
                remove_if_exists(&path)?;
            }
        }
        sync_parent(&path);
        self.forget_markers();
        Ok(())
    }

    /// Refuses a request by the operator's markers: moved (421 `TENANT_MOVED`, every request),
    /// suspended (403), frozen (503 `TENANT_READ_ONLY`, requests that may write; the writer
    /// refuses a write that gets past this check while the freeze lands).
    pub fn refuse_request(&self, writes: bool) -> Result<()> {
        let markers = self.markers();
        if let Some(url) = markers.moved {
            return Err(moved(self.id(), &url));
        }
        if markers.suspended {
            return Err(Error::new(Kind::TenantSuspended));
        }
        if writes && markers.read_only {
            return Err(Error::new(Kind::TenantReadOnly));
        }
        Ok(())
    }

    /// Whether the tenant may take writes now: `TenantMoved` (with the new node's URL) once
    /// it is marked moved, `TenantReadOnly` while it is frozen. Checked by the writer inside
    /// each group's write transaction, after its lock is taken (see [`TenantFiles::freeze`]).
    pub fn refuse_writes(&self) -> Result<()> {
        let markers = self.markers();
        if let Some(url) = markers.moved {
            return Err(moved(self.id(), &url));
        }
        if markers.read_only {
            return Err(Error::new(Kind::TenantReadOnly));
        }
        Ok(())
    }

    /// The tenant's markers now: kept in [`MARKER_CACHE`] while the tenants folder's
    /// modification time stays what it was (and was at least [`MARKER_CACHE_SETTLE_MS`] old
    /// when they were read), else read from the files. The folder is looked at before the
    /// markers: a marker written after that look gives the folder a newer time.
    fn markers(&self) -> MarkerState {
        let modified = std::fs::metadata(&self.dir)
            .and_then(|meta| meta.modified())
            .ok();
        let settled = modified.filter(|modified| {
            SystemTime::now()
                .duration_since(*modified)
                .is_ok_and(|age| age >= Duration::from_millis(MARKER_CACHE_SETTLE_MS))
        });
        let Some(modified) = settled else {
            return self.read_markers();
        };
        {
            let cache = MARKER_CACHE.lock();
            let kept = cache
                .get(&self.dir)
                .filter(|folder| folder.modified == modified)
                .and_then(|folder| folder.tenants.get(&self.id));
            if let Some(state) = kept {
                return state.clone();
            }
        }
        let state = self.read_markers();
        let mut cache = MARKER_CACHE.lock();
        let folder = cache
            .entry(self.dir.clone())
            .or_insert_with(|| FolderMarkers {
                modified,
                tenants: HashMap::new(),
            });
        if folder.modified != modified || folder.tenants.len() >= MARKER_CACHE_TENANTS_MAX {
            folder.modified = modified;
            folder.tenants.clear();
        }
        folder.tenants.insert(self.id.clone(), state.clone());
        state
    }

    /// The tenant's markers, read from the files.
    fn read_markers(&self) -> MarkerState {
        MarkerState {
            moved: self.marker_text(Marker::Moved),
            suspended: self.has(Marker::Suspended),
            read_only: self.has(Marker::ReadOnly),
        }
    }

    /// Drops the tenant's kept markers (its files are changing).
    fn forget_markers(&self) {
        if let Some(folder) = MARKER_CACHE.lock().get_mut(&self.dir) {
            folder.tenants.remove(&self.id);
        }
    }

    /// Freezes the tenant (writes refused from now on) and returns once no write can still
    /// commit: the marker is written first, then the file's write lock is taken and let go.
    /// A group commit holding the lock finishes first (its writes were committed before the
    /// freeze returns); every later one takes the lock after the marker exists, sees it and is
    /// refused. Works against a server of this process or another one.
    pub fn freeze(&self) -> Result<()> {
        self.set_marker(Marker::ReadOnly, Some(""))?;
        self.wait_for_writers()
    }

    /// Takes the write lock of the tenant's file once (waiting at most [`FREEZE_WAIT_MS`]),
    /// without checkpointing the WAL on close (Litestream may own the checkpoints).
    pub fn wait_for_writers(&self) -> Result<()> {
        let conn = Connection::open_with_flags(
            self.database(),
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
            true,
        )?;
        conn.busy_timeout(Duration::from_millis(FREEZE_WAIT_MS))?;
        match conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK;") {
            Ok(()) => Ok(()),
            Err(e) if is_busy(&e) => Err(self.live(format!(
                "kept its write lock for {FREEZE_WAIT_MS} ms; the freeze stays, retry it"
            ))),
            Err(e) => Err(e.into()),
        }
    }

    pub fn exists(&self) -> bool {
        self.database().is_file()
    }

    /// `TenantNotFound` unless the tenant's database file exists.
    pub fn require_exists(&self) -> Result<()> {
        if self.exists() {
            Ok(())
        } else {
            Err(Error::new(Kind::TenantNotFound)
                .with_message(format!("tenant {} not found", self.id)))
        }
    }

    /// `TenantExists` if the tenant's database file exists and `force` was not given.
    pub fn refuse_if_exists(&self, force: bool) -> Result<()> {
        if self.exists() && !force {
            return Err(Error::new(Kind::TenantExists).with_message(format!(
                "tenant {} exists; pass --force to replace it",
                self.id
            )));
        }
        Ok(())
    }

    /// Refuses (`TenantInUse`) when the tenant looks in use: a non-empty write-ahead log (a
    /// server has it open, or one stopped without checkpointing), or a lock another
    /// connection holds.
    pub fn refuse_if_live(&self) -> Result<()> {
        let wal_len = std::fs::metadata(self.wal()).map_or(0, |m| m.len());
        if wal_len > 0 {
            return Err(self.live(format!(
                "looks live: {}{WAL_SUFFIX} is not empty ({wal_len} bytes)",
                self.id
            )));
        }
        self.refuse_if_locked()
    }

    /// [`TenantFiles::refuse_if_live`] before the tenant is deleted. A moved tenant's
    /// write-ahead log is no sign of use: no server writes it any more, and with Litestream
    /// (which holds a read transaction on the file) its log is never emptied, so only a lock
    /// held by another connection refuses its deletion. Its data lives on at the new node.
    /// `closed_here`: the server replicated by Litestream has just closed the tenant itself
    /// and nobody may open it until the files are gone; its log is then no sign of use
    /// either (Litestream never empties it).
    pub fn refuse_if_live_to_delete(&self, closed_here: bool) -> Result<()> {
        if closed_here || self.has(Marker::Moved) {
            self.refuse_if_locked()
        } else {
            self.refuse_if_live()
        }
    }

    /// Refuses (`TenantInUse`) when another connection holds a lock on the file.
    fn refuse_if_locked(&self) -> Result<()> {
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
            Err(e) if is_busy(&e) => Err(self.live("is locked by another process".to_owned())),
            // A damaged file is nobody's lock: the caller decides what to do with it.
            Err(_) => Ok(()),
        }
    }

    fn live(&self, why: String) -> Error {
        Error::new(Kind::TenantInUse)
            .with_message(format!("tenant {} {why}; stop the server first", self.id))
    }

    /// Removes every file of the tenant but its `.moved` marker; returns the files removed.
    /// A moved tenant's marker stays, so that its requests go on being answered 421
    /// `TENANT_MOVED` with the new node's URL once its local copy is gone; `unmove` removes it.
    ///
    /// The database file goes first; its write-ahead log and shared memory only once no
    /// other process holds a lock on them any more (at most [`RELEASE_WAIT_MS`]). Litestream,
    /// watching the folder, lets go of a removed database with a last sync that reads its
    /// log: Litestream 0.5.17 fails that sync when the log is already gone, and then keeps the
    /// path as replicated, so a file later restored there would never be replicated.
    pub fn remove_all(&self) -> Result<Vec<PathBuf>> {
        let mut removed = Vec::new();
        let markers = Marker::ALL
            .into_iter()
            .filter(|marker| *marker != Marker::Moved)
            .map(Marker::suffix);
        for suffix in SQLITE_FILE_SUFFIXES.into_iter().chain(markers) {
            let path = self.with_suffix(suffix);
            if suffix == WAL_SUFFIX {
                wait_until_released(&self.shm());
            }
            if remove_if_exists(&path)? {
                removed.push(path);
            }
        }
        sync_parent(&self.database());
        self.forget_markers();
        Ok(removed)
    }

    /// Removes the write-ahead log and shared memory of a file about to be replaced (checked
    /// empty by [`TenantFiles::refuse_if_live`]): they must not be read with the new one.
    /// Called just before the new file is renamed into place, never after: once it is there,
    /// Litestream (watching the folder) or a server may open it and start a log of its own.
    pub fn remove_leftovers(&self) -> Result<()> {
        remove_companions(&self.database())
    }
}

/// `TenantMoved`, with the new node's URL (empty: the operator gave none).
pub fn moved(id: &TenantId, url: &str) -> Error {
    let url = url.trim();
    if url.is_empty() {
        return Error::new(Kind::TenantMoved)
            .with_message(format!("Tenant {id} was moved to another node."));
    }
    Error::new(Kind::TenantMoved)
        .with_message(format!("Tenant {id} was moved to {url}."))
        .with_location(url)
}

/// Checks the new node's URL of `tenant move --to`: an `http://` or `https://` URL of at most
/// [`MOVED_URL_BYTES_MAX`] bytes, printable ASCII (it becomes a header value).
pub fn check_moved_url(url: &str) -> Result<()> {
    let fine = (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() <= MOVED_URL_BYTES_MAX
        && url.bytes().all(|b| b.is_ascii_graphic());
    if fine {
        Ok(())
    } else {
        Err(Error::new(Kind::BadRequest).with_message(format!(
            "the new node's URL must be an http:// or https:// URL of printable characters, \
             at most {MOVED_URL_BYTES_MAX} bytes"
        )))
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// An unexpected file-system failure, naming what was being done.
pub fn io_error(doing: &str, path: &Path, error: std::io::Error) -> Error {
    Error::internal(format!("{doing} {}: {error}", path.display()))
}

/// A read-only connection to a file that must already exist.
pub fn open_read_only(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| Error::internal(format!("opening {}: {e}", path.display())))?;
    conn.busy_timeout(Duration::from_millis(SOURCE_BUSY_TIMEOUT_MS))?;
    Ok(conn)
}

/// Copies `source` into `dest` with the online backup API, a few pages at a time, so a
/// running server is never blocked for long. The result is a consistent snapshot.
fn copy_online(source: &Connection, dest: &mut Connection) -> Result<()> {
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
                return Err(Error::internal(format!(
                    "backup did not finish within {BACKUP_TIMEOUT_SECS} s"
                )));
            }
            std::thread::sleep(Duration::from_millis(BACKUP_STEP_PAUSE_MS));
        }
    }
    // A single self-contained file: no `-wal` travels with the copy.
    dest.pragma_update(None, "journal_mode", "DELETE")?;
    Ok(())
}

/// A temporary sibling of `target` that [`TenantFiles`] and the registry never take for a
/// tenant (its name does not end in [`DATABASE_SUFFIX`]).
pub fn temp_sibling(target: &Path) -> Result<PathBuf> {
    let name = target
        .file_name()
        .ok_or_else(|| Error::internal(format!("{} has no file name", target.display())))?;
    let mut temp = name.to_os_string();
    temp.push(format!(".tmp-{}", std::process::id()));
    Ok(target.with_file_name(temp))
}

/// Builds a new SQLite file with `build` in a temp file next to `target`, syncs it, removes
/// the `-wal` and `-shm` beside `target` and renames it over `target`. On any error the temp file is removed and `target` is
/// untouched.
pub fn build_then_rename(
    target: &Path,
    build: impl FnOnce(&mut Connection) -> Result<()>,
) -> Result<()> {
    let temp = temp_sibling(target)?;
    let result = (|| -> Result<()> {
        remove_if_exists(&temp)?;
        let mut dest = Connection::open(&temp)
            .map_err(|e| Error::internal(format!("creating {}: {e}", temp.display())))?;
        build(&mut dest)?;
        dest.close().map_err(|(_, e)| e)?;
        File::open(&temp)
            .and_then(|file| file.sync_all())
            .map_err(|e| io_error("syncing", &temp, e))?;
        // The new file is self-contained: a log beside the old one must not be read with it.
        remove_companions(target)?;
        std::fs::rename(&temp, target).map_err(|e| io_error("renaming over", target, e))?;
        sync_parent(target);
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
        let _ = std::fs::remove_file(with_suffix(&temp, "-journal"));
    }
    result
}

/// Copies `source` (possibly live) to `target` through a temp file; see [`build_then_rename`].
pub fn copy_then_rename(source: &Connection, target: &Path) -> Result<()> {
    build_then_rename(target, |dest| copy_online(source, dest))
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

/// How long deleting a tenant waits for other processes (Litestream) to let go of its
/// write-ahead log once its database file is removed, in milliseconds.
pub const RELEASE_WAIT_MS: u64 = 5_000;
/// Pause between two looks at the locks while waiting for them to go, in milliseconds.
const RELEASE_POLL_MS: u64 = 10;
/// The kernel's table of file locks (Linux).
const PROC_LOCKS: &str = "/proc/locks";

/// Waits (at most [`RELEASE_WAIT_MS`]) until no other process holds a lock on the file
/// `shm` (a SQLite connection holds one on its database's shared memory while it is open).
/// Looks at [`PROC_LOCKS`]; where it cannot be read (not Linux), or `shm` is missing, it
/// does not wait.
fn wait_until_released(shm: &Path) {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(shm) else {
        return;
    };
    let dev = meta.dev();
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    let file = format!("{major:02x}:{minor:02x}:{}", meta.ino());
    let ours = std::process::id().to_string();
    let deadline = Instant::now() + Duration::from_millis(RELEASE_WAIT_MS);
    while let Ok(locks) = std::fs::read_to_string(PROC_LOCKS) {
        let held_by_another = locks.lines().any(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields
                .iter()
                .position(|field| *field == file)
                .is_some_and(|at| at > 0 && fields.get(at - 1) != Some(&ours.as_str()))
        });
        if !held_by_another {
            return;
        }
        if Instant::now() > deadline {
            tracing::warn!(
                file = %shm.display(),
                "another process still holds the removed tenant's log after {RELEASE_WAIT_MS} ms"
            );
            return;
        }
        std::thread::sleep(Duration::from_millis(RELEASE_POLL_MS));
    }
}

/// Removes the write-ahead log and shared memory beside the SQLite file `database`.
fn remove_companions(database: &Path) -> Result<()> {
    remove_if_exists(&with_suffix(database, "-wal"))?;
    remove_if_exists(&with_suffix(database, "-shm"))?;
    Ok(())
}

fn remove_if_exists(path: &Path) -> Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_error("removing", path, e)),
    }
}

/// Refuses a file that is not a whole tenant database of a schema this binary can serve.
fn invalid(path: &Path, why: impl std::fmt::Display) -> Error {
    Error::new(Kind::BadRequest).with_message(format!("{} {why}", path.display()))
}

/// Checks that `conn` (the file `path`) is an undamaged SQLite file written by this project,
/// of a schema this binary can serve.
pub fn validate_database(conn: &Connection, path: &Path) -> Result<()> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(|_| invalid(path, "is not a SQLite database"))?;
    if version < schema::SCHEMA_VERSION_MIN {
        return Err(invalid(
            path,
            format!("is not a ledgerlite database (schema version {version})"),
        ));
    }
    schema::refuse_newer(conn)?;
    let has_transactions: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'ledger_transaction')",
        [],
        |row| row.get(0),
    )?;
    if !has_transactions {
        return Err(invalid(
            path,
            "is not a ledgerlite database (no ledger_transaction table)",
        ));
    }
    let check: String = conn.query_row("PRAGMA quick_check", [], |row| row.get(0))?;
    if check != "ok" {
        return Err(invalid(path, format!("is damaged: {check}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Sets the folder's modification time `secs` seconds into the past.
    fn age_folder(dir: &Path, secs: u64) {
        File::open(dir)
            .unwrap()
            .set_modified(SystemTime::now() - Duration::from_secs(secs))
            .unwrap();
    }

    /// A marker another process writes (any change of the folder) is seen by the next
    /// request; as long as the folder's time stays, the markers read before are used.
    #[test]
    fn kept_markers_last_while_the_folder_is_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let files = TenantFiles::new(dir.path(), TenantId::parse("acme").unwrap());
        std::fs::write(files.database(), b"").unwrap();
        age_folder(dir.path(), 10);
        assert!(files.refuse_request(true).is_ok());

        // Written behind the cache with the folder's time put back: the kept state is used,
        // which is what spares the per-marker look on every request.
        let kept = std::fs::metadata(dir.path()).unwrap().modified().unwrap();
        std::fs::write(files.marker(Marker::ReadOnly), b"").unwrap();
        File::open(dir.path()).unwrap().set_modified(kept).unwrap();
        assert!(files.refuse_request(true).is_ok());

        // Another process moves it: the folder's time changes and the marker is read.
        std::fs::write(files.marker(Marker::Moved), b"http://node-b").unwrap();
        let error = files.refuse_request(false).unwrap_err();
        assert_eq!(error.kind, Kind::TenantMoved);
        assert_eq!(files.refuse_writes().unwrap_err().kind, Kind::TenantMoved);

        // This process's own changes drop the kept state even with the folder's time put back.
        age_folder(dir.path(), 10);
        assert_eq!(
            files.refuse_request(false).unwrap_err().kind,
            Kind::TenantMoved
        );
        let kept = std::fs::metadata(dir.path()).unwrap().modified().unwrap();
        files.set_marker(Marker::Moved, None).unwrap();
        File::open(dir.path()).unwrap().set_modified(kept).unwrap();
        assert_eq!(
            files.refuse_request(true).unwrap_err().kind,
            Kind::TenantReadOnly
        );
        assert!(files.refuse_request(false).is_ok());
    }
}
