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
//! opened and closed outside the registry lock.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use lru::LruCache;
use parking_lot::Mutex;
use scheduled_thread_pool::ScheduledThreadPool;

use super::files::{Checkpoints, TENANTS_DIR, TenantFiles};
use super::tenant::{CloseGate, Shared, Tenant};
use super::writer::WriterMetrics;
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
    /// Who checkpoints the write-ahead logs.
    pub checkpoints: Checkpoints,
}

/// Open tenants kept in the LRU unless configured otherwise.
pub const TENANT_CACHE_DEFAULT: usize = 256;

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
#[derive(Debug, Default)]
pub struct CacheStats {
    /// Requests that found their tenant open (in the LRU or still held after eviction).
    pub hits: AtomicU64,
    /// Tenant files opened.
    pub opens: AtomicU64,
    /// Tenants pushed out of the LRU.
    pub evictions: AtomicU64,
}

pub struct Registry {
    stats: CacheStats,
    config: StoreConfig,
    state: Mutex<State>,
    shared: Shared,
}

/// What [`Registry::open`] may do when the tenant's file does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Fail,
    Create,
}

impl Registry {
    pub fn new(config: StoreConfig) -> std::io::Result<Self> {
        std::fs::create_dir_all(config.data_dir.join(TENANTS_DIR))?;
        let state = State {
            lru: LruCache::new(config.tenant_cache),
            live: HashMap::new(),
            opening: HashMap::new(),
            gates: HashMap::new(),
        };
        let checkpoints = config.checkpoints;
        Ok(Self {
            stats: CacheStats::default(),
            config,
            state: Mutex::new(state),
            shared: Shared {
                thread_pool: Arc::new(
                    ScheduledThreadPool::builder()
                        .num_threads(POOL_UPKEEP_THREADS)
                        .thread_name_pattern("pool-upkeep-{}")
                        .build(),
                ),
                writer_metrics: Arc::default(),
                checkpoints,
            },
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

    fn suspension_marker(&self, id: &TenantId) -> PathBuf {
        self.files_of(id).suspension_marker()
    }

    pub fn exists(&self, id: &TenantId) -> bool {
        self.file_of(id).is_file()
    }

    pub fn is_suspended(&self, id: &TenantId) -> bool {
        self.suspension_marker(id).exists()
    }

    /// Marks a tenant suspended (`true`) or active; its requests get 403 while suspended.
    pub fn set_suspended(&self, id: &TenantId, suspended: bool) -> Result<()> {
        if !self.exists(id) {
            return Err(Error::new(Kind::TenantNotFound));
        }
        let marker = self.suspension_marker(id);
        let changed = if suspended {
            std::fs::write(&marker, b"")
        } else {
            std::fs::remove_file(&marker).or_else(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Ok(()),
                _ => Err(e),
            })
        };
        changed.map_err(Error::internal)
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
        let key_lock = Arc::clone(self.state.lock().opening.entry(id.clone()).or_default());
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
        let opened = Tenant::open(
            id.clone(),
            path,
            self.config.sync,
            self.config.tenant_max_bytes,
            true,
            &self.shared,
            gate,
        );
        let mut state = self.state.lock();
        state.release_opening(id, &key_lock);
        let tenant = Arc::new(opened?);
        let evicted = state.insert(Arc::clone(&tenant));
        drop(state);
        self.stats.opens.fetch_add(1, Ordering::Relaxed);
        self.count_eviction(&evicted);
        drop(evicted);
        Ok(tenant)
    }

    pub fn stats(&self) -> &CacheStats {
        &self.stats
    }

    /// What the writers of every tenant opened through this registry did.
    pub fn writer_metrics(&self) -> &WriterMetrics {
        &self.shared.writer_metrics
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
        if found.is_some() {
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
        let key_lock = Arc::clone(self.state.lock().opening.entry(id.clone()).or_default());
        let _opening = key_lock.lock();
        let (open, gate) = {
            let mut state = self.state.lock();
            let in_lru = state.lru.pop(id);
            let in_use = state.live.remove(id).and_then(|weak| weak.upgrade());
            let gate = state.gates.get(id).and_then(Weak::upgrade);
            (in_lru.or(in_use), gate)
        };
        if let Some(tenant) = &open {
            // Whoever closes it last leaves one self-contained file behind.
            tenant.writer().checkpoint_when_closed();
        }
        drop(open);
        let closed = gate.is_none_or(|gate| gate.wait_closed(wait));
        let outcome = if closed {
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

    /// Adds a freshly opened tenant; returns the one pushed out of the LRU, to be dropped
    /// by the caller after the lock is released.
    fn insert(&mut self, tenant: Arc<Tenant>) -> Option<Arc<Tenant>> {
        let id = tenant.id().clone();
        self.live.retain(|_, weak| weak.strong_count() > 0);
        self.gates.retain(|_, weak| weak.strong_count() > 0);
        self.live.insert(id.clone(), Arc::downgrade(&tenant));
        self.lru.push(id, tenant).map(|(_, evicted)| evicted)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn registry(dir: &std::path::Path) -> Registry {
        Registry::new(StoreConfig {
            data_dir: dir.to_path_buf(),
            sync: SyncMode::Normal,
            tenant_cache: NonZeroUsize::MIN,
            auto_provision: false,
            tenant_max_bytes: None,
            checkpoints: Checkpoints::Ledgerlite,
        })
        .unwrap()
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
}
