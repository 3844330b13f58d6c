//! Replication with Litestream (<https://litestream.io>, v0.5): the Litestream configuration
//! for a data folder, and restoring tenants from a replica. Litestream runs beside ledgerlite
//! as its own process and streams every tenant file's write-ahead log to the replica; the
//! server must then leave every checkpoint to it (`LEDGERLITE_REPLICATION=litestream`, see
//! [`crate::store::files::Checkpoints`]).
//!
//! A restore goes through `litestream restore` into a temporary file next to the tenant's,
//! which is checked (SQLite's full integrity check, the schema, and the audit of `verify`)
//! before it is renamed into place. If the newest position of the replica does not pass, the
//! next older positions are tried, newest first, and the restore says which one it installed.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::domain::tenant::TenantId;
use crate::error::{Error, Kind, Result};
use crate::store::files::{self, TenantFiles, io_error};

/// Environment variable naming the Litestream binary; `litestream` on the `PATH` if unset.
pub const LITESTREAM_ENV: &str = "LEDGERLITE_LITESTREAM";
/// How often Litestream ships new WAL frames to the replica, in milliseconds (Litestream's
/// default, written out so the replication window is visible in the configuration).
pub const SYNC_INTERVAL_MS: u64 = 1_000;
/// Older positions a restore tries when the newest one is not intact, at most.
pub const FALLBACK_POSITIONS_MAX: usize = 16;

/// Where tenants are replicated: a Litestream replica URL (`file:///…`, `sftp://user@host:port/…`,
/// `s3://bucket/…`) under which each tenant is `<id>.sqlite`, and an SSH key for SFTP.
///
/// The URL may end in Litestream's query options, kept as they are after each tenant's path:
/// for an S3-compatible server `s3://bucket/path?endpoint=http://host:port&region=us-east-1`
/// (an `endpoint` makes Litestream address the bucket by path; `forcePathStyle=false` and
/// `skipVerify=true` are the others it reads from a configuration file's URL).
#[derive(Debug, Clone)]
pub struct Replica {
    /// The URL up to its query, without a trailing slash.
    url: String,
    /// The query with its `?`, or empty.
    query: String,
    key_path: Option<PathBuf>,
}

impl Replica {
    /// A replica at `url` (no trailing slash needed), with the SSH key `key_path` for SFTP.
    pub fn new(url: &str, key_path: Option<PathBuf>) -> Result<Self> {
        let scheme = url.split_once("://").map(|(scheme, _)| scheme);
        if !matches!(scheme, Some("file" | "sftp" | "s3")) {
            return Err(Error::new(Kind::BadRequest).with_message(format!(
                "replica {url:?} is not a file://, sftp:// or s3:// URL"
            )));
        }
        let (base, query) = url.find('?').map_or((url, ""), |at| url.split_at(at));
        Ok(Self {
            url: base.trim_end_matches('/').to_owned(),
            query: query.to_owned(),
            key_path,
        })
    }

    /// The replica of one tenant: its path under the replica's, then the replica's query.
    fn tenant_url(&self, id: &TenantId) -> String {
        format!("{}/{id}{}{}", self.url, files::DATABASE_SUFFIX, self.query)
    }

    /// The whole replica URL, query included, as Litestream is given it.
    fn full_url(&self) -> String {
        format!("{}{}", self.url, self.query)
    }

    /// The `replica:` block of a Litestream database entry, indented for it.
    fn yaml(&self, url: &str) -> String {
        let mut block = format!(
            "    replica:\n      url: {}\n      sync-interval: {SYNC_INTERVAL_MS}ms\n",
            yaml_string(url)
        );
        if let Some(key) = &self.key_path {
            block.push_str(&format!(
                "      key-path: {}\n",
                yaml_string(&key.to_string_lossy())
            ));
        }
        block
    }

    /// The tenants in a `file://` replica (each a folder named `<id>.sqlite`), sorted. Other
    /// kinds cannot be listed through Litestream 0.5: its replica client reads the files of
    /// one database's path only (`ltx`, `restore`), and no command lists the databases under
    /// a replica URL; their tenants are named with `--ids` ([`read_ids`]).
    pub fn tenants(&self) -> Result<Vec<TenantId>> {
        let Some(dir) = self.url.strip_prefix("file://") else {
            return Err(Error::new(Kind::BadRequest).with_message(
                "--all lists the tenants of a file:// replica only (Litestream cannot list the \
                 databases of an sftp:// or s3:// replica); name them with --ids FILE, one \
                 tenant id per line, as `ledgerlite tenant list` prints them",
            ));
        };
        let entries = std::fs::read_dir(dir).map_err(|e| io_error("listing", Path::new(dir), e))?;
        let mut ids = Vec::new();
        for entry in entries {
            let name = entry.map_err(|e| io_error("listing", Path::new(dir), e))?;
            if let Some(id) = TenantFiles::id_of(&name.file_name().to_string_lossy()) {
                ids.push(id);
            }
        }
        ids.sort();
        Ok(ids)
    }
}

/// The tenants named in the file `path` for `tenant restore --all --ids`: the first word of
/// each line (so `ledgerlite tenant list`'s output serves), blank lines and lines starting
/// with `#` skipped; sorted, each once. A word that is not a tenant id refuses the file,
/// naming its line.
pub fn read_ids(path: &Path) -> Result<Vec<TenantId>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::new(Kind::BadRequest).with_message(format!("reading {}: {e}", path.display()))
    })?;
    let mut ids = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let Some(word) = line.split_whitespace().next() else {
            continue;
        };
        if word.starts_with('#') {
            continue;
        }
        let id = TenantId::parse(word).ok_or_else(|| {
            Error::new(Kind::BadRequest).with_message(format!(
                "{} line {}: {word:?} is not a tenant id",
                path.display(),
                number + 1
            ))
        })?;
        ids.push(id);
    }
    if ids.is_empty() {
        return Err(Error::new(Kind::BadRequest)
            .with_message(format!("{} names no tenant", path.display())));
    }
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// A YAML double-quoted scalar.
fn yaml_string(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

/// An absolute form of `path` (Litestream resolves paths against its own working folder).
fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(|e| io_error("resolving", path, e))
}

/// The Litestream configuration that replicates every tenant of `data_dir` to `replica`:
/// the tenants folder is watched, so tenants created later are replicated without a restart.
pub fn config(data_dir: &Path, replica: &Replica) -> Result<String> {
    let tenants = absolute(&data_dir.join(files::TENANTS_DIR))?;
    Ok(format!(
        "# Litestream configuration written by `ledgerlite replication config`.\n\
         # Run ledgerlite with LEDGERLITE_REPLICATION=litestream beside it: Litestream then makes\n\
         # every checkpoint of the tenant files, so that none moves a frame it has not copied.\n\
         dbs:\n  - dir: {}\n    pattern: \"*{}\"\n    watch: true\n{}",
        yaml_string(&tenants.to_string_lossy()),
        files::DATABASE_SUFFIX,
        replica.yaml(&replica.full_url())
    ))
}

/// What Litestream 0.5's S3 client answers whenever `AWS_CA_BUNDLE` is set: it gives the AWS
/// SDK a plain HTTP client, to which the SDK cannot add the bundle's certificates.
const CA_BUNDLE_REFUSAL: &str = "unable to add custom RootCAs";

/// The Litestream binary to run.
fn litestream() -> Command {
    Command::new(std::env::var_os(LITESTREAM_ENV).unwrap_or_else(|| "litestream".into()))
}

/// Runs Litestream with `args`; its standard output, or an error with what it printed.
fn run_litestream(args: &[&str]) -> Result<String> {
    let output = litestream().args(args).output().map_err(|e| {
        Error::new(Kind::BadRequest).with_message(format!(
            "cannot run Litestream ({LITESTREAM_ENV} or `litestream` on the PATH): {e}"
        ))
    })?;
    if !output.status.success() {
        let said = String::from_utf8_lossy(&output.stderr);
        let said = said.lines().rev().find(|line| !line.trim().is_empty());
        let hint = if said.is_some_and(|said| said.contains(CA_BUNDLE_REFUSAL)) {
            " (Litestream's S3 client cannot run with AWS_CA_BUNDLE set: unset it for Litestream \
             and ledgerlite)"
        } else {
            ""
        };
        return Err(Error::new(Kind::BadRequest).with_message(format!(
            "litestream {} failed: {}{hint}",
            args.first().copied().unwrap_or_default(),
            said.unwrap_or("no message")
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A Litestream configuration naming one tenant file and its replica, for `restore` and `ltx`
/// (a URL alone cannot carry an SFTP key). Removed when dropped.
struct OneTenantConfig {
    path: PathBuf,
    database: String,
}

impl OneTenantConfig {
    fn write(files: &TenantFiles, replica: &Replica) -> Result<Self> {
        let database = absolute(&files.database())?.to_string_lossy().into_owned();
        let path = files.dir().join(format!(
            "{}.litestream-{}.yml",
            files.id(),
            std::process::id()
        ));
        let text = format!(
            "dbs:\n  - path: {}\n{}",
            yaml_string(&database),
            replica.yaml(&replica.tenant_url(files.id()))
        );
        std::fs::write(&path, text).map_err(|e| io_error("writing", &path, e))?;
        Ok(Self { path, database })
    }

    fn config_arg(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }
}

impl Drop for OneTenantConfig {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// One LTX file of a replica, as `litestream ltx -json` lists it.
#[derive(Debug, serde::Deserialize)]
struct LtxFile {
    max_txid: String,
    timestamp: String,
}

/// Which position of the replica a restore installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub id: TenantId,
    /// `None`: the newest position (or the newest at `--at`); otherwise the Litestream
    /// transaction id of the older position installed because the newer ones were not intact.
    pub fell_back_to: Option<String>,
    /// Why the newer positions were refused (empty when none was).
    pub refused: Vec<String>,
    /// Transactions in the installed file.
    pub chain_entries: u64,
}

/// `tenant restore ID --from-replica URL [--at TIMESTAMP]`: restores one tenant from the
/// replica into a temporary file, checks it, and installs it (refused while the tenant is in
/// use, or exists without `force`).
pub fn restore(
    data_dir: &Path,
    replica: &Replica,
    id: TenantId,
    at: Option<&str>,
    force: bool,
) -> Result<Restored> {
    if let Some(at) = at {
        time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).map_err(
            |_| {
                Error::new(Kind::BadRequest).with_message(format!(
                    "--at {at:?} is not an RFC 3339 time such as 2026-12-04T10:00:00Z"
                ))
            },
        )?;
    }
    let files = TenantFiles::in_data_dir(data_dir, id.clone());
    files.refuse_if_exists(force)?;
    files.refuse_if_live()?;
    std::fs::create_dir_all(files.dir()).map_err(|e| io_error("creating", files.dir(), e))?;
    let config = OneTenantConfig::write(&files, replica)?;
    let temp = files::temp_sibling(&files.database())?;
    let mut refused = Vec::new();
    let mut position: Option<String> = None;
    let chain_entries = loop {
        match restore_checked(&config, &temp, at, position.as_deref()) {
            Ok(chain_entries) => break chain_entries,
            Err(error) => {
                let at_position = position.as_deref().unwrap_or("the newest position");
                refused.push(format!("{at_position}: {}", error.message));
                if refused.len() > FALLBACK_POSITIONS_MAX {
                    return Err(no_intact_position(&id, &refused));
                }
                let older = older_position(&config, at, position.as_deref())?;
                match older {
                    Some(txid) => position = Some(txid),
                    None => return Err(no_intact_position(&id, &refused)),
                }
            }
        }
    };
    files.refuse_if_live()?;
    // Before the rename, not after: once the file is in place Litestream (watching the
    // folder) may open it and start a log of its own, which must not be taken away.
    files.remove_leftovers()?;
    std::fs::rename(&temp, files.database())
        .map_err(|e| io_error("renaming over", &files.database(), e))?;
    Ok(Restored {
        id,
        fell_back_to: position,
        refused,
        chain_entries,
    })
}

fn no_intact_position(id: &TenantId, refused: &[String]) -> Error {
    Error::new(Kind::BadRequest).with_message(format!(
        "no intact position of tenant {id} in the replica: {}",
        refused.join("; ")
    ))
}

/// Restores the replica into `temp` (at transaction `txid`, or at `at`, or the newest) and
/// checks it; returns its chain entries. `temp` is removed again if the check fails.
fn restore_checked(
    config: &OneTenantConfig,
    temp: &Path,
    at: Option<&str>,
    txid: Option<&str>,
) -> Result<u64> {
    remove_restore_files(temp);
    let temp_arg = temp.to_string_lossy().into_owned();
    let config_arg = config.config_arg();
    let mut args = vec!["restore", "-config", &config_arg, "-o", &temp_arg];
    match (txid, at) {
        (Some(txid), _) => args.extend(["-txid", txid]),
        (None, Some(at)) => args.extend(["-timestamp", at]),
        (None, None) => {}
    }
    args.push(&config.database);
    let checked = run_litestream(&args).and_then(|_| check_restored(temp));
    if checked.is_err() {
        remove_restore_files(temp);
    }
    checked
}

/// A restored file and whatever SQLite or Litestream left beside it.
fn remove_restore_files(temp: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = temp.as_os_str().to_os_string();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}

/// The checks of a restored file: SQLite's full integrity check, a ledgerlite schema this
/// binary serves, and the audit of `verify`. Returns its chain entries.
fn check_restored(path: &Path) -> Result<u64> {
    let conn = rusqlite::Connection::open(path)
        .map_err(|e| Error::internal(format!("opening {}: {e}", path.display())))?;
    // A single self-contained file, like a backup: no `-wal` beside it once it is installed.
    conn.pragma_update(None, "journal_mode", "DELETE")
        .map_err(|e| Error::new(Kind::BadRequest).with_message(format!("is damaged: {e}")))?;
    let integrity: String = conn
        .query_row("PRAGMA integrity_check(1)", [], |row| row.get(0))
        .map_err(|e| Error::new(Kind::BadRequest).with_message(format!("is damaged: {e}")))?;
    if integrity != "ok" {
        return Err(Error::new(Kind::BadRequest).with_message(format!("is damaged: {integrity}")));
    }
    files::validate_database(&conn, path)?;
    let audit = crate::store::chain::audit(&conn)?;
    if let Some(problem) = audit.problems.first() {
        return Err(Error::new(Kind::BadRequest).with_message(format!(
            "fails verification ({} problem(s)): {problem}",
            audit.problems.len()
        )));
    }
    Ok(audit.chain_entries)
}

/// The newest position of the replica older than `below` (the newest of all when `None`),
/// no later than `at`: the end transaction of an LTX file, as Litestream lists them.
/// The replica's LTX files of the one tenant of `config`, at every level, as `litestream ltx
/// -json` lists them.
fn replica_ltx_files(config: &OneTenantConfig) -> Result<Vec<LtxFile>> {
    let config_arg = config.config_arg();
    let listed = run_litestream(&[
        "ltx",
        "-config",
        &config_arg,
        "-level",
        "all",
        "-json",
        &config.database,
    ])?;
    // Some replica clients log to standard output before the JSON array.
    let json = listed
        .find("\n[")
        .map_or(listed.as_str(), |at| &listed[at + 1..]);
    serde_json::from_str(json)
        .map_err(|e| Error::internal(format!("reading `litestream ltx -json`: {e}")))
}

fn older_position(
    config: &OneTenantConfig,
    at: Option<&str>,
    below: Option<&str>,
) -> Result<Option<String>> {
    let ltx = replica_ltx_files(config)?;
    let at = at.and_then(parse_time);
    let txid = |hex: &str| u64::from_str_radix(hex, 16).ok();
    let mut positions: Vec<u64> = ltx
        .iter()
        .filter(|file| at.is_none_or(|at| parse_time(&file.timestamp).is_some_and(|t| t <= at)))
        .filter_map(|file| txid(&file.max_txid))
        .collect();
    positions.sort_unstable();
    positions.dedup();
    // Without `below`, the newest position was the restore that failed: start one older.
    let newest_tried = match below {
        Some(below) => txid(below),
        None => positions.last().copied(),
    };
    Ok(positions
        .into_iter()
        .rev()
        .find(|&position| newest_tried.is_none_or(|tried| position < tried))
        .map(|position| format!("{position:016x}")))
}

fn parse_time(text: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// Bytes of a SQLite write-ahead log's header.
const WAL_HEADER_BYTES: u64 = 32;
/// Bytes of the header of each WAL frame (the page follows).
const WAL_FRAME_HEADER_BYTES: u64 = 24;
/// Bytes of an LTX file's header (Litestream's transaction files, `superfly/ltx`).
const LTX_HEADER_BYTES: usize = 100;
/// Suffix of the folder Litestream keeps beside a database it replicates (`.<file>` + it).
const LITESTREAM_META_SUFFIX: &str = "-litestream";

/// Where a tenant's writes are: in its write-ahead log, in Litestream's local transaction
/// files, and in the replica. `inSync` once the replica holds everything committed: a frozen
/// tenant in sync can be restored on another node without losing a write.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Positions {
    #[schema(example = "acme")]
    pub id: String,
    /// Writes are refused (frozen or moved): the local position is final.
    pub frozen: bool,
    /// End of the last commit in the write-ahead log, in bytes (0: the log holds nothing not
    /// in the database file).
    pub wal_bytes: u64,
    /// Litestream's newest local transaction (`litestream status`'s local txid), 16 hex digits.
    #[schema(example = "000000000000002a")]
    pub litestream_txid: Option<String>,
    /// That transaction ends where the log's last commit ends: Litestream has read every
    /// commit.
    pub litestream_has_wal: bool,
    /// The local position, as a Litestream transaction id: `litestreamTxid` once Litestream
    /// has read every commit, else `null` (the newest commits are not in a transaction yet).
    #[schema(example = "000000000000002a")]
    pub local_txid: Option<String>,
    /// The newest transaction in the replica (`null`: none, or no replica configured).
    #[schema(example = "000000000000002a")]
    pub replicated_txid: Option<String>,
    /// Transactions the replica is behind the local position.
    pub behind_txids: Option<u64>,
    /// The replica holds the local position.
    pub in_sync: bool,
}

/// The positions of tenant `id` (see [`Positions`]); `replica` `None` reports no replicated
/// position. A `file://` replica is read directly; any other goes through `litestream ltx`.
pub fn positions(data_dir: &Path, replica: Option<&Replica>, id: TenantId) -> Result<Positions> {
    let files = TenantFiles::in_data_dir(data_dir, id);
    files.require_exists()?;
    let wal = wal_end(&files.wal())?;
    let newest = newest_local_ltx(&files)?;
    let litestream_has_wal = match (&newest, wal) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(header), Some((salts, end))) => {
            header.wal_salts == salts && header.wal_offset + header.wal_size == end
        }
    };
    let litestream_txid = newest.as_ref().map(|header| header.max_txid);
    let local_txid = litestream_txid.filter(|_| litestream_has_wal);
    let replicated_txid = match replica {
        Some(replica) => replica.newest_txid(&files)?,
        None => None,
    };
    let behind_txids = local_txid.map(|local| local.saturating_sub(replicated_txid.unwrap_or(0)));
    let frozen = files.refuse_writes().is_err();
    Ok(Positions {
        id: files.id().to_string(),
        frozen,
        wal_bytes: wal.map_or(0, |(_, end)| end),
        litestream_txid: litestream_txid.map(txid_hex),
        litestream_has_wal,
        local_txid: local_txid.map(txid_hex),
        replicated_txid: replicated_txid.map(txid_hex),
        behind_txids,
        in_sync: local_txid.is_some() && local_txid == replicated_txid,
    })
}

fn txid_hex(txid: u64) -> String {
    format!("{txid:016x}")
}

/// The salts of the write-ahead log at `path` and the end of its last commit frame, in bytes;
/// `None` when it holds no commit (missing, empty or only a header). Frames are followed while
/// their salts match the header's (a frame of an older generation of the log does not); the
/// frames' checksums are not recomputed.
fn wal_end(path: &Path) -> Result<Option<([u8; 8], u64)>> {
    use std::os::unix::fs::FileExt;
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error("opening", path, e)),
    };
    let len = file
        .metadata()
        .map_err(|e| io_error("reading", path, e))?
        .len();
    let mut header = [0u8; WAL_HEADER_BYTES as usize];
    if len < WAL_HEADER_BYTES || file.read_exact_at(&mut header, 0).is_err() {
        return Ok(None);
    }
    let page_bytes = u64::from(u32::from_be_bytes([
        header[8], header[9], header[10], header[11],
    ]));
    let mut salts = [0u8; 8];
    salts.copy_from_slice(&header[16..24]);
    let frame_bytes = WAL_FRAME_HEADER_BYTES + page_bytes;
    let (mut offset, mut end) = (WAL_HEADER_BYTES, None);
    let mut frame = [0u8; WAL_FRAME_HEADER_BYTES as usize];
    while page_bytes > 0 && offset + frame_bytes <= len {
        if file.read_exact_at(&mut frame, offset).is_err() || frame[8..16] != salts {
            break;
        }
        offset += frame_bytes;
        if frame[4..8] != [0; 4] {
            end = Some(offset);
        }
    }
    Ok(end.map(|end| (salts, end)))
}

/// What a position comparison needs of an LTX file's header.
struct LtxHeader {
    max_txid: u64,
    wal_offset: u64,
    wal_size: u64,
    wal_salts: [u8; 8],
}

/// The minimum and maximum transaction of an LTX file named `<min>-<max>.ltx` (hex).
fn ltx_range(name: &str) -> Option<(u64, u64)> {
    let (min, max) = name.strip_suffix(".ltx")?.split_once('-')?;
    Some((
        u64::from_str_radix(min, 16).ok()?,
        u64::from_str_radix(max, 16).ok()?,
    ))
}

/// The LTX file names in `dir` (missing: none).
fn ltx_names(dir: &Path) -> Result<Vec<String>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => Ok(entries
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| ltx_range(name).is_some())
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(io_error("listing", dir, e)),
    }
}

/// The header of Litestream's newest local LTX file of the tenant (level 0 of its folder
/// `.<id>.sqlite-litestream` beside the database), if any.
fn newest_local_ltx(files: &TenantFiles) -> Result<Option<LtxHeader>> {
    let dir = files
        .dir()
        .join(format!(
            ".{}{}{LITESTREAM_META_SUFFIX}",
            files.id(),
            files::DATABASE_SUFFIX
        ))
        .join("ltx")
        .join("0");
    let newest = ltx_names(&dir)?
        .into_iter()
        .filter_map(|name| ltx_range(&name).map(|(_, max)| (max, name)))
        .max();
    let Some((max_txid, name)) = newest else {
        return Ok(None);
    };
    let path = dir.join(name);
    let mut header = [0u8; LTX_HEADER_BYTES];
    let read = std::fs::File::open(&path)
        .and_then(|mut file| std::io::Read::read_exact(&mut file, &mut header));
    match read {
        Ok(()) => {}
        // Litestream removes old files as it compacts: the newest one may just have gone.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error("reading", &path, e)),
    }
    let u64_at = |at: usize| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&header[at..at + 8]);
        u64::from_be_bytes(bytes)
    };
    let mut wal_salts = [0u8; 8];
    wal_salts.copy_from_slice(&header[64..72]);
    Ok(Some(LtxHeader {
        max_txid,
        wal_offset: u64_at(48),
        wal_size: u64_at(56),
        wal_salts,
    }))
}

impl Replica {
    /// The newest transaction of the tenant in the replica, over every compaction level.
    fn newest_txid(&self, files: &TenantFiles) -> Result<Option<u64>> {
        if let Some(dir) = self.url.strip_prefix("file://") {
            let ltx = Path::new(dir)
                .join(format!("{}{}", files.id(), files::DATABASE_SUFFIX))
                .join("ltx");
            let levels = match std::fs::read_dir(&ltx) {
                Ok(levels) => levels,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(io_error("listing", &ltx, e)),
            };
            let mut newest = None;
            for level in levels.filter_map(|level| level.ok()) {
                for name in ltx_names(&level.path())? {
                    newest = newest.max(ltx_range(&name).map(|(_, max)| max));
                }
            }
            return Ok(newest);
        }
        let config = OneTenantConfig::write(files, self)?;
        let ltx = replica_ltx_files(&config)?;
        Ok(ltx
            .iter()
            .filter_map(|file| u64::from_str_radix(&file.max_txid, 16).ok())
            .max())
    }
}

/// How far the replica is behind, over every tenant, for `/metrics`: computed from file times
/// only (no subprocess, no read of a log), so a scrape stays cheap.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Lag {
    /// Tenants whose last commit is newer than the newest transaction of their replica.
    pub tenants_behind: u64,
    /// The largest such difference, in seconds (0 when none is behind).
    pub seconds: f64,
}

/// [`Lag`] of tenants `ids`: a tenant is behind when its write-ahead log was written after
/// the newest LTX file of its replica (a `file://` replica) or, for other replicas, of
/// Litestream's local copy beside it (which it uploads every sync interval).
pub fn lag(data_dir: &Path, replica: Option<&Replica>, ids: &[TenantId]) -> Lag {
    let mut lag = Lag::default();
    for id in ids {
        let files = TenantFiles::in_data_dir(data_dir, id.clone());
        let Some(written) = std::fs::metadata(files.wal())
            .ok()
            .filter(|wal| wal.len() > WAL_HEADER_BYTES)
            .and_then(|wal| wal.modified().ok())
        else {
            continue;
        };
        let ltx_dir = match replica.and_then(|replica| replica.url.strip_prefix("file://")) {
            Some(dir) => Path::new(dir)
                .join(format!("{id}{}", files::DATABASE_SUFFIX))
                .join("ltx")
                .join("0"),
            None => files
                .dir()
                .join(format!(
                    ".{id}{}{LITESTREAM_META_SUFFIX}",
                    files::DATABASE_SUFFIX
                ))
                .join("ltx")
                .join("0"),
        };
        let newest = ltx_names(&ltx_dir)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|name| ltx_range(&name).map(|(_, max)| (max, name)))
            .max()
            .and_then(|(_, name)| std::fs::metadata(ltx_dir.join(name)).ok())
            .and_then(|meta| meta.modified().ok());
        let behind = match newest {
            Some(shipped) => written.duration_since(shipped).ok(),
            None => std::time::SystemTime::now().duration_since(written).ok(),
        };
        if let Some(behind) = behind.filter(|behind| !behind.is_zero()) {
            lag.tenants_behind += 1;
            lag.seconds = lag.seconds.max(behind.as_secs_f64());
        }
    }
    lag
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const S3_COMPATIBLE: &str = "s3://ledgers/node-a/?endpoint=http://127.0.0.1:9000&region=eu-1";

    #[test]
    fn an_s3_compatible_replica_keeps_its_query_after_each_tenants_path() {
        let replica = Replica::new(S3_COMPATIBLE, None).unwrap();
        let id = TenantId::parse("acme").unwrap();
        assert_eq!(
            replica.tenant_url(&id),
            "s3://ledgers/node-a/acme.sqlite?endpoint=http://127.0.0.1:9000&region=eu-1"
        );
        assert_eq!(
            replica.full_url(),
            "s3://ledgers/node-a?endpoint=http://127.0.0.1:9000&region=eu-1"
        );
        let plain = Replica::new("sftp://backup@host:22/srv/ledgers/", None).unwrap();
        assert_eq!(
            plain.tenant_url(&id),
            "sftp://backup@host:22/srv/ledgers/acme.sqlite"
        );
    }

    #[test]
    fn the_config_of_one_tenant_names_its_replica_with_the_query() {
        let dir = tempfile::tempdir().unwrap();
        let replica = Replica::new(S3_COMPATIBLE, None).unwrap();
        let files = TenantFiles::in_data_dir(dir.path(), TenantId::parse("acme").unwrap());
        std::fs::create_dir_all(files.dir()).unwrap();
        let config = OneTenantConfig::write(&files, &replica).unwrap();
        let text = std::fs::read_to_string(&config.path).unwrap();
        assert_eq!(
            text,
            format!(
                "dbs:\n  - path: {}\n    replica:\n      url: \
                 \"s3://ledgers/node-a/acme.sqlite?endpoint=http://127.0.0.1:9000&region=eu-1\"\n      \
                 sync-interval: 1000ms\n",
                yaml_string(&config.database)
            )
        );
        let path = config.path.clone();
        drop(config);
        assert!(!path.exists());
    }
}
