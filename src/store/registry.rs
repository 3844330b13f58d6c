//! The tenant registry: which tenants exist on disk, and an LRU of the open ones.
//!
//! A tenant moves through these states:
//!
//! | state      | in `lru` | in `live` | file open | how it gets there |
//! |------------|----------|-----------|-----------|-------------------|
//! | closed     | no       | no / dead | no        | never opened, or last user gone after eviction |
//! | opening    | no       | no        | being     | first request; `opening` holds its lock |
//! | open       | yes      | yes       | yes       | opened, or promoted back from `live` |
//! | evicted    | no       | yes       | yes       | pushed out of the LRU while requests still hold it |
//!
//! An evicted tenant keeps serving the requests that hold it and is promoted back if asked for
//! again, so there is never more than one open instance (one writer) per file. Files are
//! opened and closed outside the registry lock. Once closed, its write connection waits in the
//! [`Parking`] for the next open (unless it was checkpointed and closed: on shutdown, before
//! its file is replaced, or after it sat idle for the configured time).
//!
//! The LRU holds at most `tenant_cache` tenants, and one fewer than before each time a tenant
//! is opened while SQLite's memory is over `tenant_cache_bytes`.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use lru::LruCache;
use parking_lot::Mutex;
use scheduled_thread_pool::{JobHandle, ScheduledThreadPool};

use super::files::{Checkpoints, Marker, TENANTS_DIR, TenantFiles};
use super::parking::Parking;
use super::tenant::{CloseGate, OpenSettings, Shared, Tenant};
use super::writer::{Histogram, WriterMetrics, WriterPool};
use crate::domain::tenant::TenantId;
use crate::error::{Error, Kind, Result};

/// How long opening a tenant waits for its previous instance to finish closing.
pub const CLOSE_WAIT_MS: u64 = 30_000;

/// Threads shared by every reader pool for connection upkeep.
pub const POOL_UPKEEP_THREADS: usize = 2;

/// SQLite `synchronous` setting of every tenant file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// fsync on every commit: survives power loss.
    Full,
    /// fsync at checkpoints only: survives a process crash, not power loss.
    Normal,
}

impl SyncMode {
    pub fn pragma(self) -> &'static str {
        match self {
            SyncMode::Full => "FULL",
            SyncMode::Normal => "NORMAL",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    pub data_dir: PathBuf,
    pub sync: SyncMode,
    pub tenant_cache: NonZeroUsize,
    pub auto_provision: bool,
    /// Largest size of one tenant's database, in bytes; `None` for no cap but the disk's.
    pub tenant_max_bytes: Option<u64>,
    /// SQLite memory, all tenants together, above which parked connections are closed and the
    /// LRU shrinks, in bytes.
    pub tenant_cache_bytes: u64,
    /// How long a tenant may go without requests before it is closed (and checkpointed, if
    /// `idle_checkpoint`), in seconds; 0 never.
    pub tenant_idle_secs: u64,
    /// Whether an idle tenant's WAL is checkpointed into its file and truncated.
    pub idle_checkpoint: bool,
    /// Who checkpoints the write-ahead logs (never the server under Litestream).
    pub checkpoints: Checkpoints,
}

/// Open tenants kept in the LRU unless configured otherwise.
pub const TENANT_CACHE_DEFAULT: usize = 256;
/// Memory budget of the tenant cache unless configured otherwise, in MiB.
pub const TENANT_CACHE_MIB_DEFAULT: u64 = 128;
/// Seconds without a request after which a tenant is closed, unless configured otherwise.
pub const TENANT_IDLE_SECS_DEFAULT: u64 = 60;
/// How often idle tenants are looked for, in milliseconds.
pub const IDLE_SWEEP_INTERVAL_MS: u64 = 1_000;
/// Upper bounds of the tenant open latency histogram, in microseconds.
pub const OPEN_LATENCY_BUCKETS_MICROSECONDS: [u64; 9] =
    [100, 250, 500, 1_000, 2_000, 5_000, 10_000, 50_000, 250_000];

impl StoreConfig {
    /// Tenants in `<data_dir>/tenants/` with every other setting at its default (the command
    /// line's defaults: `synchronous=FULL`, [`TENANT_CACHE_DEFAULT`] open tenants, no
    /// provisioning on first request, no size cap).
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            sync: SyncMode::Full,
            tenant_cache: NonZeroUsize::new(TENANT_CACHE_DEFAULT).unwrap_or(NonZeroUsize::MIN),
            auto_provision: false,
            tenant_max_bytes: None,
            tenant_cache_bytes: TENANT_CACHE_MIB_DEFAULT * 1024 * 1024,
            tenant_idle_secs: TENANT_IDLE_SECS_DEFAULT,
            idle_checkpoint: true,
            checkpoints: Checkpoints::Ledgerlite,
        }
    }
}

struct State {
    lru: LruCache<TenantId, Arc<Tenant>>,
    live: HashMap<TenantId, Weak<Tenant>>,
    opening: HashMap<TenantId, Arc<Mutex<()>>>,
    /// The close gate of every instance that may not be closed yet.
    gates: HashMap<TenantId, Weak<CloseGate>>,
}

/// Counters of the tenant cache since the registry started.
pub struct CacheStats {
    /// Requests that found their tenant open (in the LRU or still held after eviction).
    pub hits: AtomicU64,
    /// Tenants opened (from a parked connection or from their file).
    pub opens: AtomicU64,
    /// Of those, opened from a parked connection.
    pub unparked: AtomicU64,
    /// Tenants pushed out of the LRU (by count, memory or idleness).
    pub evictions: AtomicU64,
    /// How long opening a tenant that was not open took, in microseconds.
    pub open_latency: Histogram<9>,
}

impl Default for CacheStats {
    fn default() -> Self {
        Self {
            hits: AtomicU64::new(0),
            opens: AtomicU64::new(0),
            unparked: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
            open_latency: Histogram::new(OPEN_LATENCY_BUCKETS_MICROSECONDS),
        }
    }
}

pub struct Registry {
    stats: Arc<CacheStats>,
    config: StoreConfig,
    state: Arc<Mutex<State>>,
    shared: Shared,
    /// The periodic look for idle tenants; cancelled when the registry is dropped.
    idle_sweep: Option<JobHandle>,
}

impl Drop for Registry {
    fn drop(&mut self) {
        if let Some(job) = &self.idle_sweep {
            job.cancel();
        }
    }
}

/// Where a page of [`Registry::list_page`] starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageFrom {
    /// The first ids.
    Start,
    /// The ids after this one.
    After(TenantId),
    /// The ids before this one.
    Before(TenantId),
}

/// What [`Registry::open`] may do when the tenant's file does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Fail,
    Create,
}

impl Registry {
    /// A registry whose tenants' writes run on [`WriterPool::default_threads`] threads.
    pub fn new(config: StoreConfig) -> std::io::Result<Self> {
        Self::with_writer_threads(config, WriterPool::default_threads())
    }

    /// A registry whose tenants' writes run on `writer_threads` threads, however many tenants
    /// are open.
    pub fn with_writer_threads(
        config: StoreConfig,
        writer_threads: usize,
    ) -> std::io::Result<Self> {
        std::fs::create_dir_all(config.data_dir.join(TENANTS_DIR))?;
        let state = State {
            lru: LruCache::new(config.tenant_cache),
            live: HashMap::new(),
            opening: HashMap::new(),
            gates: HashMap::new(),
        };
        let shared = Shared {
            thread_pool: Arc::new(
                ScheduledThreadPool::builder()
                    .num_threads(POOL_UPKEEP_THREADS)
                    .thread_name_pattern("pool-upkeep-{}")
                    .build(),
            ),
            writers: WriterPool::new(writer_threads, Arc::default())?,
            checkpoints: config.checkpoints,
            parking: Arc::new(Parking::new(
                config.tenant_cache_bytes,
                config.idle_checkpoint,
                config.checkpoints,
            )),
            epoch: Instant::now(),
        };
        let state = Arc::new(Mutex::new(state));
        let stats = Arc::new(CacheStats::default());
        let idle_sweep = (config.tenant_idle_secs > 0).then(|| {
            let sweep = IdleSweep {
                state: Arc::downgrade(&state),
                parking: Arc::downgrade(&shared.parking),
                stats: Arc::downgrade(&stats),
                epoch: shared.epoch,
                idle: Duration::from_secs(config.tenant_idle_secs),
            };
            let every = Duration::from_millis(IDLE_SWEEP_INTERVAL_MS);
            shared
                .thread_pool
                .execute_at_fixed_rate(every, every, move || sweep.run())
        });
        Ok(Self {
            stats,
            config,
            state,
            shared,
            idle_sweep,
        })
    }

    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    pub fn tenants_dir(&self) -> PathBuf {
        self.config.data_dir.join(TENANTS_DIR)
    }

    /// The files of tenant `id`.
    pub fn files_of(&self, id: &TenantId) -> TenantFiles {
        TenantFiles::in_data_dir(&self.config.data_dir, id.clone())
    }

    pub fn file_of(&self, id: &TenantId) -> PathBuf {
        self.files_of(id).database()
    }

    pub fn exists(&self, id: &TenantId) -> bool {
        self.file_of(id).is_file()
    }

    pub fn is_suspended(&self, id: &TenantId) -> bool {
        self.files_of(id).has(Marker::Suspended)
    }

    /// Marks a tenant suspended (`true`) or active; its requests get 403 while suspended.
    pub fn set_suspended(&self, id: &TenantId, suspended: bool) -> Result<()> {
        self.files_of(id)
            .set_marker(Marker::Suspended, suspended.then_some(""))
    }

    /// Ids of every tenant with a file, sorted.
    pub fn list(&self) -> Result<Vec<TenantId>> {
        let mut ids = Vec::new();
        for entry in std::fs::read_dir(self.tenants_dir()).map_err(Error::internal)? {
            let name = entry.map_err(Error::internal)?.file_name();
            let name = name.to_string_lossy();
            if let Some(id) = TenantFiles::id_of(&name) {
                ids.push(id);
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// One page of tenant ids with a file, in id order: at most `limit` ids strictly after
    /// `from`'s id (or, reading [`PageFrom::Before`], the last `limit` ids before it, still in
    /// ascending order), and whether more ids lie past the page in the direction read. Reads
    /// only the folder's names (nothing is opened or stat'ed) and holds at most `limit + 1`
    /// ids, however many tenants there are.
    pub fn list_page(&self, from: &PageFrom, limit: usize) -> Result<(Vec<TenantId>, bool)> {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        let keep = limit.saturating_add(1);
        // Forwards the heap's top is the largest id kept, backwards the smallest (`Reverse`):
        // the one to drop when a closer id turns up.
        let mut forwards: BinaryHeap<TenantId> = BinaryHeap::new();
        let mut backwards: BinaryHeap<Reverse<TenantId>> = BinaryHeap::new();
        for entry in std::fs::read_dir(self.tenants_dir()).map_err(Error::internal)? {
            let name = entry.map_err(Error::internal)?.file_name();
            let Some(id) = TenantFiles::id_of(&name.to_string_lossy()) else {
                continue;
            };
            match from {
                PageFrom::Start => forwards.push(id),
                PageFrom::After(after) if id > *after => forwards.push(id),
                PageFrom::Before(before) if id < *before => backwards.push(Reverse(id)),
                _ => continue,
            }
            if forwards.len() > keep {
                forwards.pop();
            }
            if backwards.len() > keep {
                backwards.pop();
            }
        }
        let mut ids = if let PageFrom::Before(_) = from {
            // Ascending order of `Reverse` is descending order of ids: nearest first.
            backwards
                .into_sorted_vec()
                .into_iter()
                .map(|Reverse(id)| id)
                .collect()
        } else {
            forwards.into_sorted_vec()
        };
        let more = ids.len() > limit;
        ids.truncate(limit);
        if let PageFrom::Before(_) = from {
            ids.reverse();
        }
        Ok((ids, more))
    }

    /// Creates the tenant's file if it does not exist; returns whether it was created.
    pub fn create(&self, id: &TenantId) -> Result<bool> {
        let existed = self.exists(id);
        self.open(id, Missing::Create)?;
        Ok(!existed)
    }

    /// The open tenant `id`, opening its file if needed. Blocking (file I/O).
    pub fn open(&self, id: &TenantId, missing: Missing) -> Result<Arc<Tenant>> {
        if let Some(tenant) = self.find(id) {
            return Ok(tenant);
        }
        let key_lock = State::opening_lock(&self.state, id);
        let _opening = key_lock.lock();
        if let Some(tenant) = self.find(id) {
            self.state.lock().release_opening(id, &key_lock);
            return Ok(tenant);
        }
        let path = self.file_of(id);
        if missing == Missing::Fail && !path.is_file() {
            self.state.lock().release_opening(id, &key_lock);
            return Err(Error::new(Kind::TenantNotFound));
        }
        // An earlier instance may still be closing (its last user just let go): wait for it,
        // so that two writers never share the file.
        let previous = self.state.lock().gates.get(id).and_then(Weak::upgrade);
        if let Some(previous) = previous
            && !previous.wait_closed(Duration::from_millis(CLOSE_WAIT_MS))
        {
            self.state.lock().release_opening(id, &key_lock);
            return Err(Error::new(Kind::ServiceUnavailable)
                .with_message("The tenant is still closing; retry."));
        }
        let gate = Arc::new(CloseGate::default());
        self.state
            .lock()
            .gates
            .insert(id.clone(), Arc::downgrade(&gate));
        let started = Instant::now();
        let parked = self.shared.parking.take(id);
        let unparked = parked.is_some();
        let settings = OpenSettings {
            sync: self.config.sync,
            max_bytes: self.config.tenant_max_bytes,
            create: true,
        };
        let opened = Tenant::open(id.clone(), path, parked, &settings, &self.shared, gate);
        let over_budget = self.shared.parking.over_budget();
        let mut state = self.state.lock();
        state.release_opening(id, &key_lock);
        let tenant = Arc::new(opened?);
        let evicted = state.insert(Arc::clone(&tenant), over_budget);
        drop(state);
        self.stats
            .open_latency
            .observe(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
        self.stats.opens.fetch_add(1, Ordering::Relaxed);
        if unparked {
            self.stats.unparked.fetch_add(1, Ordering::Relaxed);
        }
        self.stats
            .evictions
            .fetch_add(evicted.len() as u64, Ordering::Relaxed);
        drop(evicted);
        if over_budget {
            self.shared.parking.trim();
        }
        Ok(tenant)
    }

    pub fn stats(&self) -> &CacheStats {
        &self.stats
    }

    /// What the writers of every tenant opened through this registry did.
    pub fn writer_metrics(&self) -> &WriterMetrics {
        self.shared.writers.metrics()
    }

    /// Write connections of closed tenants kept for their next open.
    pub fn parked_count(&self) -> usize {
        self.shared.parking.len()
    }

    /// Of those, the ones kept warm (with their prepared statements) and cold (without).
    pub fn parked_counts(&self) -> (usize, usize) {
        self.shared.parking.counts()
    }

    fn count_eviction(&self, evicted: &Option<Arc<Tenant>>) {
        if evicted.is_some() {
            self.stats.evictions.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The tenant if it is open or still in use after eviction, without opening it (never
    /// blocks on file I/O); an instance pushed out of the LRU by the promotion is closed here,
    /// after the lock is released.
    pub fn find(&self, id: &TenantId) -> Option<Arc<Tenant>> {
        let mut state = self.state.lock();
        let (found, evicted) = state.find(id);
        drop(state);
        if let Some(tenant) = &found {
            tenant.touch(self.shared.epoch);
            self.stats.hits.fetch_add(1, Ordering::Relaxed);
        }
        self.count_eviction(&evicted);
        drop(evicted);
        found
    }

    /// Closes every open tenant that no request holds any more and waits until their writers
    /// have finished their queues, checkpointed the WAL and closed their files. Used on
    /// shutdown.
    pub fn close_all(&self) {
        let (open, gates): (Vec<Arc<Tenant>>, Vec<Arc<CloseGate>>) = {
            let mut state = self.state.lock();
            state.live.clear();
            let mut open = Vec::new();
            while let Some((_, tenant)) = state.lru.pop_lru() {
                if self.config.checkpoints.by_ledgerlite() {
                    tenant.writer().checkpoint_when_closed();
                }
                open.push(tenant);
            }
            let gates = state.gates.values().filter_map(Weak::upgrade).collect();
            (open, gates)
        };
        drop(open);
        for gate in gates {
            if !gate.wait_closed(Duration::from_millis(CLOSE_WAIT_MS)) {
                tracing::warn!("a tenant writer did not close in time");
            }
        }
        self.shared.parking.close_all();
    }

    /// Closes the tenant `id` and runs `work` while no request can open it again (the file
    /// can then be removed or replaced). Requests already holding the tenant are waited for, at
    /// most `wait`; if they do not finish, nothing runs and the answer is `TenantInUse`.
    /// Requests arriving meanwhile wait to open the tenant until `work` is done. Blocking.
    pub fn while_closed<T>(
        &self,
        id: &TenantId,
        wait: Duration,
        work: impl FnOnce() -> T,
    ) -> Result<T> {
        let key_lock = State::opening_lock(&self.state, id);
        let _opening = key_lock.lock();
        let (open, gate) = {
            let mut state = self.state.lock();
            let in_lru = state.lru.pop(id);
            let in_use = state.live.remove(id).and_then(|weak| weak.upgrade());
            let gate = state.gates.get(id).and_then(Weak::upgrade);
            (in_lru.or(in_use), gate)
        };
        if let Some(tenant) = &open
            && self.config.checkpoints.by_ledgerlite()
        {
            // Whoever closes it last leaves one self-contained file behind. Under Litestream
            // the WAL stays: only Litestream checkpoints (its read transaction would hold this
            // checkpoint up past `wait` anyway), and whatever replaces or removes the file
            // takes the WAL with it.
            tenant.writer().checkpoint_when_closed();
        }
        drop(open);
        let closed = gate.is_none_or(|gate| gate.wait_closed(wait));
        let outcome = if closed {
            self.shared.parking.close(id);
            Ok(work())
        } else {
            Err(Error::new(Kind::TenantInUse))
        };
        self.state.lock().release_opening(id, &key_lock);
        outcome
    }

    /// Number of tenants in the LRU.
    pub fn open_count(&self) -> usize {
        self.state.lock().lru.len()
    }
}

impl State {
    /// Drops the `opening` entry of `id` unless another caller still waits on `key_lock`:
    /// every caller that may open the file must queue on the same lock, or a waiter that
    /// finds the tenant closed again would open it alongside a newcomer with a fresh lock.
    /// Clones of the lock are only taken under the registry lock, so the count is exact here.
    fn release_opening(&mut self, id: &TenantId, key_lock: &Arc<Mutex<()>>) {
        let ours = self
            .opening
            .get(id)
            .is_some_and(|entry| Arc::ptr_eq(entry, key_lock));
        // One reference in the map, one held by the caller.
        if ours && Arc::strong_count(key_lock) <= 2 {
            self.opening.remove(id);
        }
    }

    /// An open or evicted-but-still-used tenant, promoted to most recently used, and the
    /// tenant that promotion pushed out of the LRU.
    fn find(&mut self, id: &TenantId) -> (Option<Arc<Tenant>>, Option<Arc<Tenant>>) {
        if let Some(tenant) = self.lru.get(id) {
            return (Some(Arc::clone(tenant)), None);
        }
        let Some(tenant) = self.live.get(id).and_then(Weak::upgrade) else {
            return (None, None);
        };
        let evicted = self
            .lru
            .push(id.clone(), Arc::clone(&tenant))
            .map(|(_, t)| t);
        (Some(tenant), evicted)
    }

    /// Adds a freshly opened tenant; returns the ones pushed out of the LRU (one more when
    /// SQLite's memory is `over_budget`), to be dropped by the caller after the lock is
    /// released.
    fn insert(&mut self, tenant: Arc<Tenant>, over_budget: bool) -> Vec<Arc<Tenant>> {
        let id = tenant.id().clone();
        self.live.retain(|_, weak| weak.strong_count() > 0);
        self.gates.retain(|_, weak| weak.strong_count() > 0);
        self.live.insert(id.clone(), Arc::downgrade(&tenant));
        let mut evicted: Vec<_> = self
            .lru
            .push(id, tenant)
            .map(|(_, t)| t)
            .into_iter()
            .collect();
        if over_budget && self.lru.len() > 1 {
            evicted.extend(self.lru.pop_lru().map(|(_, t)| t));
        }
        evicted
    }

    /// Takes the opening lock of `id` (see [`Registry::open`]).
    fn opening_lock(state: &Mutex<State>, id: &TenantId) -> Arc<Mutex<()>> {
        Arc::clone(state.lock().opening.entry(id.clone()).or_default())
    }
}

/// The periodic look for idle tenants: what it needs of the registry, held weakly so the job
/// does nothing once the registry is gone.
struct IdleSweep {
    state: Weak<Mutex<State>>,
    parking: Weak<Parking>,
    stats: Weak<CacheStats>,
    epoch: Instant,
    idle: Duration,
}

impl IdleSweep {
    /// Closes the tenants no request asked for during `idle`: those in the LRU leave it (their
    /// writers checkpoint and close once the requests holding them are done), parked ones are
    /// checkpointed and closed under their opening lock. Idle checkpoints off, both are
    /// closed without a checkpoint (the LRU ones parked first).
    fn run(&self) {
        let (Some(state), Some(parking), Some(stats)) = (
            self.state.upgrade(),
            self.parking.upgrade(),
            self.stats.upgrade(),
        ) else {
            return;
        };
        let mut idle_open = Vec::new();
        {
            let mut locked = state.lock();
            while let Some((_, tenant)) = locked.lru.peek_lru() {
                if tenant.idle_for(self.epoch) < self.idle {
                    break;
                }
                idle_open.extend(locked.lru.pop_lru().map(|(_, t)| t));
            }
        }
        for tenant in &idle_open {
            if parking.idle_checkpoint() {
                tenant.writer().checkpoint_when_closed();
            }
        }
        stats
            .evictions
            .fetch_add(idle_open.len() as u64, Ordering::Relaxed);
        drop(idle_open);
        for id in parking.idle(self.idle) {
            let key_lock = State::opening_lock(&state, &id);
            let opening = key_lock.lock();
            parking.close_idle(&id);
            drop(opening);
            state.lock().release_opening(&id, &key_lock);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use std::sync::atomic::AtomicBool;

    fn registry(dir: &std::path::Path) -> Registry {
        registry_with(dir, |_| {})
    }

    fn registry_with(dir: &std::path::Path, tune: impl FnOnce(&mut StoreConfig)) -> Registry {
        let mut config = StoreConfig {
            sync: SyncMode::Normal,
            tenant_cache: NonZeroUsize::MIN,
            ..StoreConfig::with_data_dir(dir)
        };
        tune(&mut config);
        Registry::new(config).unwrap()
    }

    fn tenant(name: &str) -> TenantId {
        TenantId::parse(name).unwrap()
    }

    /// Appends `value` to a table of the tenant's own (created on first use).
    fn append(registry: &Registry, id: &TenantId, value: i64) -> Result<()> {
        let tenant = registry.open(id, Missing::Create)?;
        tenant.writer().write_blocking(move |conn| {
            conn.execute_batch("CREATE TABLE IF NOT EXISTS probe (v INTEGER NOT NULL)")?;
            conn.execute("INSERT INTO probe VALUES (?)", [value])?;
            Ok(())
        })
    }

    /// The values appended to the tenant, read from its file by a connection of its own.
    fn appended(registry: &Registry, id: &TenantId) -> Vec<i64> {
        let conn = rusqlite::Connection::open(registry.file_of(id)).unwrap();
        conn.prepare("SELECT v FROM probe ORDER BY v")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .unwrap()
    }

    /// Waits (at most 10 s) until `done` holds.
    fn eventually(what: &str, done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn wal_bytes(registry: &Registry, id: &TenantId) -> u64 {
        std::fs::metadata(registry.files_of(id).wal()).map_or(0, |m| m.len())
    }

    #[test]
    fn an_evicted_tenant_is_parked_and_reopened_from_its_connection() {
        let dir = tempfile::tempdir().unwrap();
        let registry = registry(dir.path());
        let (a, b) = (tenant("a"), tenant("b"));
        append(&registry, &a, 1).unwrap();
        // Opening b pushes a out of the one-slot LRU; its writer parks the connection.
        append(&registry, &b, 2).unwrap();
        eventually("a parked", || registry.parked_count() == 1);
        append(&registry, &a, 3).unwrap();
        let stats = registry.stats();
        assert_eq!(stats.opens.load(Ordering::Relaxed), 3);
        assert_eq!(stats.unparked.load(Ordering::Relaxed), 1);
        assert_eq!(stats.open_latency.snapshot().1, 3);
        assert_eq!(appended(&registry, &a), vec![1, 3]);
        assert_eq!(appended(&registry, &b), vec![2]);
    }

    #[test]
    fn replacing_a_parked_tenants_file_closes_its_connection_first() {
        let dir = tempfile::tempdir().unwrap();
        let registry = registry(dir.path());
        let (a, b) = (tenant("a"), tenant("b"));
        append(&registry, &a, 1).unwrap();
        append(&registry, &b, 2).unwrap();
        eventually("a parked", || registry.parked_count() == 1);
        let files = registry.files_of(&a);
        registry
            .while_closed(&a, Duration::from_secs(1), || files.remove_all())
            .unwrap()
            .unwrap();
        assert_eq!(registry.parked_count(), 0);
        // A new file of the same name: nothing of the old one comes back through a parked
        // connection.
        append(&registry, &a, 7).unwrap();
        assert_eq!(appended(&registry, &a), vec![7]);
        assert_eq!(registry.stats().unparked.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn over_its_memory_budget_the_cache_parks_nothing_and_shrinks() {
        let dir = tempfile::tempdir().unwrap();
        let roomy = registry_with(dir.path(), |c| {
            c.tenant_cache = NonZeroUsize::new(3).unwrap();
            c.tenant_cache_bytes = u64::MAX;
        });
        let ids: Vec<TenantId> = (0..6).map(|i| tenant(&format!("t{i}"))).collect();
        for (i, id) in (0..).zip(&ids) {
            append(&roomy, id, i).unwrap();
        }
        assert_eq!(roomy.open_count(), 3);
        eventually("three parked", || roomy.parked_count() == 3);
        drop(roomy);

        let dir = tempfile::tempdir().unwrap();
        let tight = registry_with(dir.path(), |c| {
            c.tenant_cache = NonZeroUsize::new(3).unwrap();
            c.tenant_cache_bytes = 0;
        });
        for (i, id) in (0..).zip(&ids) {
            append(&tight, id, i).unwrap();
            assert_eq!(
                tight.open_count(),
                1,
                "one tenant stays open over the budget"
            );
        }
        // Writers park their connections once closed; over the budget, parking closes them.
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(tight.parked_count(), 0);
        for (i, id) in (0..).zip(&ids) {
            assert_eq!(appended(&tight, id), vec![i]);
        }
    }

    #[test]
    fn an_idle_tenant_is_checkpointed_closed_and_reopens_with_its_data() {
        let dir = tempfile::tempdir().unwrap();
        let registry = registry_with(dir.path(), |c| {
            c.tenant_cache = NonZeroUsize::new(4).unwrap();
            c.tenant_idle_secs = 1;
        });
        let (open, parked) = (tenant("open"), tenant("parked"));
        append(&registry, &open, 1).unwrap();
        append(&registry, &parked, 2).unwrap();
        assert!(wal_bytes(&registry, &open) > 0);
        // One stays in the LRU, the other is evicted and parked: the idle sweep must deal
        // with both.
        let evicted = registry.state.lock().lru.pop(&parked).unwrap();
        drop(evicted);
        eventually("parked", || registry.parked_count() == 1);
        eventually("both checkpointed and closed", || {
            registry.open_count() == 0
                && registry.parked_count() == 0
                && wal_bytes(&registry, &open) == 0
                && wal_bytes(&registry, &parked) == 0
        });
        assert_eq!(appended(&registry, &open), vec![1]);
        append(&registry, &parked, 3).unwrap();
        assert_eq!(appended(&registry, &parked), vec![2, 3]);
    }

    #[test]
    fn without_idle_checkpoints_an_idle_tenant_closes_and_keeps_its_wal() {
        let dir = tempfile::tempdir().unwrap();
        let registry = registry_with(dir.path(), |c| {
            c.tenant_idle_secs = 1;
            c.idle_checkpoint = false;
        });
        let id = tenant("quiet");
        append(&registry, &id, 1).unwrap();
        let wal = wal_bytes(&registry, &id);
        assert!(wal > 0);
        eventually("closed", || {
            registry.open_count() == 0 && registry.parked_count() == 0
        });
        assert_eq!(wal_bytes(&registry, &id), wal);
        assert_eq!(appended(&registry, &id), vec![1]);
    }

    #[test]
    fn a_new_empty_tenant_is_small_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let registry = registry(dir.path());
        let id = tenant("fresh");
        assert!(registry.create(&id).unwrap());
        let files = registry.files_of(&id);
        assert_eq!(
            wal_bytes(&registry, &id),
            0,
            "the migrations are checkpointed"
        );
        registry.close_all();
        assert!(!files.wal().exists(), "a closed tenant leaves no WAL");
        assert!(!files.shm().exists(), "nor a WAL index");
        let database = std::fs::metadata(files.database()).unwrap().len();
        // One page for each B-tree (tables and indexes) and the pages the schema's text
        // fills, nothing free.
        let conn = rusqlite::Connection::open(files.database()).unwrap();
        let (trees, text, free, page): (i64, i64, i64, i64) = conn
            .query_row(
                "SELECT (SELECT count(*) FROM sqlite_schema WHERE rootpage > 0), \
                 (SELECT sum(length(sql)) FROM sqlite_schema), \
                 (SELECT freelist_count FROM pragma_freelist_count), \
                 (SELECT page_size FROM pragma_page_size)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(free, 0, "a new file keeps no free pages");
        assert_eq!(page, i64::from(crate::store::tenant::TENANT_PAGE_BYTES));
        // Page 1, the schema's text (rows a little larger than their SQL), the B-trees.
        let pages = u64::try_from(1 + text * 5 / 4 / page + 1 + trees).unwrap();
        let bound = pages * u64::try_from(page).unwrap();
        assert!(database <= bound, "{database} bytes for {trees} B-trees");
    }

    #[test]
    fn a_tenant_evicted_during_its_group_commit_is_served_by_the_same_instance() {
        let dir = tempfile::tempdir().unwrap();
        let registry = registry(dir.path());
        let (a, b) = (tenant("a"), tenant("b"));
        append(&registry, &a, 0).unwrap();
        let first = registry.open(&a, Missing::Fail).unwrap();
        let (started, wait_started) = std::sync::mpsc::channel();
        let slow = {
            let tenant = Arc::clone(&first);
            std::thread::spawn(move || {
                tenant.writer().write_blocking(move |conn| {
                    let _ = started.send(());
                    std::thread::sleep(Duration::from_millis(300));
                    conn.execute("INSERT INTO probe VALUES (1)", [])?;
                    Ok(())
                })
            })
        };
        wait_started.recv().unwrap();
        drop(first);
        // b takes a's slot while a's commit runs; a asked for again is the same instance.
        append(&registry, &b, 2).unwrap();
        let again = registry.open(&a, Missing::Fail).unwrap();
        append(&registry, &a, 3).unwrap();
        slow.join().unwrap().unwrap();
        assert_eq!(registry.stats().opens.load(Ordering::Relaxed), 2);
        drop(again);
        assert_eq!(appended(&registry, &a), vec![0, 1, 3]);
    }

    /// Writers on a one-slot cache over four tenants: tenants are evicted, parked and
    /// reopened between (and during) group commits; every acknowledged write is on disk
    /// exactly once.
    #[test]
    fn churning_tenants_under_concurrent_writes_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let registry = Arc::new(registry(dir.path()));
        let ids: Vec<TenantId> = (0..4).map(|i| tenant(&format!("c{i}"))).collect();
        for id in &ids {
            append(&registry, id, -1).unwrap();
        }
        let writers: Vec<_> = (0..8_i64)
            .map(|thread| {
                let registry = Arc::clone(&registry);
                let ids = ids.clone();
                std::thread::spawn(move || {
                    for round in 0..40_i64 {
                        let value = thread * 1_000 + round;
                        let id = &ids[usize::try_from(value % 4).unwrap()];
                        append(&registry, id, value).unwrap();
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        let stats = registry.stats();
        assert!(
            stats.unparked.load(Ordering::Relaxed) > 0,
            "parked connections reused"
        );
        let mut all: Vec<i64> = ids.iter().flat_map(|id| appended(&registry, id)).collect();
        all.sort_unstable();
        let mut expected: Vec<i64> = (0..8_i64)
            .flat_map(|thread| (0..40).map(move |round| thread * 1_000 + round))
            .chain(std::iter::repeat_n(-1, 4))
            .collect();
        expected.sort_unstable();
        assert_eq!(all, expected);
    }

    /// Two writer threads for 24 tenants on a 3-slot cache, 12 clients writing at once while
    /// another keeps closing tenants (checkpointed, as before a file is replaced): tenants are
    /// evicted, parked, closed and reopened while their queues hold work and their group
    /// commits run. Every acknowledged write is on disk exactly once, and shutdown drains.
    #[test]
    fn few_writer_threads_serve_many_churning_tenants_and_lose_nothing() {
        const TENANTS: i64 = 24;
        const CLIENTS: i64 = 12;
        const ROUNDS: i64 = 60;
        let dir = tempfile::tempdir().unwrap();
        let config = StoreConfig {
            sync: SyncMode::Normal,
            tenant_cache: NonZeroUsize::new(3).unwrap(),
            ..StoreConfig::with_data_dir(dir.path())
        };
        let registry = Arc::new(Registry::with_writer_threads(config, 2).unwrap());
        let ids: Vec<TenantId> = (0..TENANTS).map(|i| tenant(&format!("p{i}"))).collect();
        let done = Arc::new(AtomicBool::new(false));
        let closer = {
            let (registry, ids, done) = (Arc::clone(&registry), ids.clone(), Arc::clone(&done));
            std::thread::spawn(move || {
                let mut closed = 0_u64;
                for id in ids.iter().cycle() {
                    if done.load(Ordering::SeqCst) {
                        break;
                    }
                    let wait = Duration::from_millis(20);
                    closed += u64::from(registry.while_closed(id, wait, || ()).is_ok());
                }
                closed
            })
        };
        let clients: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let (registry, ids) = (Arc::clone(&registry), ids.clone());
                std::thread::spawn(move || {
                    (0..ROUNDS)
                        .map(|round| {
                            let value = client * 1_000 + round;
                            let id = &ids[usize::try_from(value * 7 % TENANTS).unwrap()];
                            append(&registry, id, value).map(|()| value)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut acked: Vec<i64> = Vec::new();
        for client in clients {
            for outcome in client.join().unwrap() {
                acked.push(outcome.unwrap());
            }
        }
        done.store(true, Ordering::SeqCst);
        let closed = closer.join().unwrap();
        registry.close_all();
        assert_eq!(registry.open_count(), 0);
        assert!(closed > 0, "tenants were closed during the load");
        let stats = registry.stats();
        assert!(stats.evictions.load(Ordering::Relaxed) > 0);
        assert!(stats.unparked.load(Ordering::Relaxed) > 0);
        // Shut down: every WAL was folded into its file.
        for id in &ids {
            assert_eq!(wal_bytes(&registry, id), 0, "{id}");
        }
        let mut on_disk: Vec<i64> = ids.iter().flat_map(|id| appended(&registry, id)).collect();
        on_disk.sort_unstable();
        acked.sort_unstable();
        assert_eq!(acked.len(), usize::try_from(CLIENTS * ROUNDS).unwrap());
        assert_eq!(
            on_disk, acked,
            "every acknowledged write once, nothing else"
        );
    }

    #[test]
    fn while_closed_waits_for_holders_and_refuses_when_they_stay() {
        let dir = tempfile::tempdir().unwrap();
        let registry = registry(dir.path());
        let id = TenantId::parse("acme").unwrap();
        registry.create(&id).unwrap();
        let held = registry.open(&id, Missing::Fail).unwrap();

        let mut ran = false;
        let refused = registry.while_closed(&id, Duration::from_millis(50), || ran = true);
        assert_eq!(refused.map_err(|e| e.kind), Err(Kind::TenantInUse));
        assert!(!ran, "nothing runs while a holder keeps the tenant open");

        drop(held);
        let file = registry.file_of(&id);
        let removed = registry
            .while_closed(&id, Duration::from_millis(50), || {
                std::fs::remove_file(&file).is_ok()
            })
            .unwrap();
        assert!(removed);
        assert_eq!(
            registry.open(&id, Missing::Fail).err().map(|e| e.kind),
            Some(Kind::TenantNotFound)
        );
        assert_eq!(registry.open_count(), 0);
    }

    #[test]
    fn list_page_reads_pages_of_ids_either_way_from_file_names_alone() {
        let dir = tempfile::tempdir().unwrap();
        let registry = registry(dir.path());
        let tenants = registry.tenants_dir();
        // Empty files: a page never opens or reads them.
        for id in ["e", "a", "j", "c", "b", "g", "d", "i", "f", "h"] {
            std::fs::write(tenants.join(format!("{id}.sqlite")), b"").unwrap();
        }
        for other in ["a.sqlite-wal", "k.suspended", "bad.name.sqlite", "notes"] {
            std::fs::write(tenants.join(other), b"").unwrap();
        }
        let id = |raw: &str| TenantId::parse(raw).unwrap();
        let page = |from: PageFrom, limit: usize| {
            let (ids, more) = registry.list_page(&from, limit).unwrap();
            let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
            (ids.join(","), more)
        };
        assert_eq!(page(PageFrom::Start, 3), ("a,b,c".to_owned(), true));
        assert_eq!(
            page(PageFrom::After(id("c")), 3),
            ("d,e,f".to_owned(), true)
        );
        assert_eq!(
            page(PageFrom::After(id("g")), 3),
            ("h,i,j".to_owned(), false)
        );
        assert_eq!(page(PageFrom::After(id("h")), 3), ("i,j".to_owned(), false));
        assert_eq!(page(PageFrom::After(id("j")), 3), (String::new(), false));
        assert_eq!(page(PageFrom::Before(id("g")), 2), ("e,f".to_owned(), true));
        assert_eq!(
            page(PageFrom::Before(id("c")), 2),
            ("a,b".to_owned(), false)
        );
        assert_eq!(page(PageFrom::Before(id("b")), 5), ("a".to_owned(), false));
        assert_eq!(
            page(PageFrom::Start, 100),
            ("a,b,c,d,e,f,g,h,i,j".to_owned(), false)
        );
        // An id between two files pages from where it would sort.
        assert_eq!(page(PageFrom::After(id("cc")), 2), ("d,e".to_owned(), true));
    }
}
