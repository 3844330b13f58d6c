//! Write connections of tenants that left the LRU, kept open with their page cache released.
//!
//! Opening a tenant file costs far more than using it: parsing its schema, preparing the
//! write path's statements, rebuilding the WAL index, and later closing all of it again. When
//! an evicted tenant's writer has finished its queue, its connection is parked here instead
//! of closed (page cache released with `PRAGMA shrink_memory`, parsed schema and prepared
//! statements kept), and the next open of that tenant takes it back. A parked connection is
//! not a writer: the registry takes it out only while it holds the tenant's opening lock and
//! the previous instance is closed, so there is still one writer per file.
//!
//! The lot is bounded by count ([`PARKED_TENANTS_MAX`], three file descriptors each) and by
//! SQLite's memory: once all of SQLite's heap is above the cache budget, the longest-parked
//! connections are closed first.

use super::files::Checkpoints;
use std::time::{Duration, Instant};

use lru::LruCache;
use parking_lot::Mutex;
use rusqlite::Connection;

use super::sqlite_memory_bytes;
use crate::domain::tenant::TenantId;

/// Connections parked at most (each keeps the database, its WAL and the WAL index open).
pub const PARKED_TENANTS_MAX: usize = 2_048;

struct Parked {
    conn: Connection,
    since: Instant,
}

pub struct Parking {
    lot: Mutex<LruCache<TenantId, Parked>>,
    /// SQLite memory of all tenants above which parked connections are closed, in bytes.
    budget_bytes: u64,
    /// Whether an idle tenant's WAL is folded into its file ([`checkpoint_idle`]).
    idle_checkpoint: bool,
    /// Who checkpoints the WALs: under Litestream the server never folds one.
    checkpoints: Checkpoints,
}

impl Parking {
    pub fn new(budget_bytes: u64, idle_checkpoint: bool, checkpoints: Checkpoints) -> Self {
        Self {
            lot: Mutex::new(LruCache::unbounded()),
            budget_bytes,
            idle_checkpoint: idle_checkpoint && checkpoints.by_ledgerlite(),
            checkpoints,
        }
    }

    /// Whether SQLite's memory, all tenants together, is above the budget.
    pub fn over_budget(&self) -> bool {
        sqlite_memory_bytes() > self.budget_bytes
    }

    /// Keeps `conn` (the closed write connection of `id`) for the next open of `id`, with its
    /// page cache released; closes the longest-parked connections beyond the bounds.
    pub fn park(&self, id: TenantId, conn: Connection) {
        if !writable(&conn) {
            // Closed instead: the next open finds the file as it is then, like a fresh start.
            return;
        }
        if let Err(error) = conn.execute_batch("PRAGMA shrink_memory") {
            tracing::warn!(%error, "releasing a parked connection's cache failed");
        }
        let replaced = self.lot.lock().push(
            id,
            Parked {
                conn,
                since: Instant::now(),
            },
        );
        drop(replaced);
        self.trim();
    }

    /// Closes parked connections, oldest first, while the lot is over its bounds: one at a
    /// time outside the lock, as the memory a close frees shows only once it is done.
    pub fn trim(&self) {
        loop {
            let victim = {
                let mut lot = self.lot.lock();
                let over =
                    lot.len() > PARKED_TENANTS_MAX || (!lot.is_empty() && self.over_budget());
                if !over {
                    break;
                }
                lot.pop_lru()
            };
            drop(victim);
        }
    }

    /// Takes back the parked connection of `id`. The caller holds the tenant's opening lock.
    pub fn take(&self, id: &TenantId) -> Option<Connection> {
        self.lot.lock().pop(id).map(|parked| parked.conn)
    }

    /// Closes the parked connection of `id`, if any, leaving one self-contained file. The
    /// caller holds the tenant's opening lock.
    pub fn close(&self, id: &TenantId) {
        if let Some(conn) = self.take(id)
            && self.checkpoints.by_ledgerlite()
        {
            fold_wal(&conn);
        }
    }

    /// Closes the parked connection of `id` if it is still parked, checkpointed unless idle
    /// checkpoints are off. The caller holds the tenant's opening lock.
    pub fn close_idle(&self, id: &TenantId) {
        if let Some(conn) = self.take(id)
            && self.idle_checkpoint
        {
            checkpoint_idle(&conn);
        }
    }

    /// Tenants parked for at least `idle`.
    pub fn idle(&self, idle: Duration) -> Vec<TenantId> {
        let lot = self.lot.lock();
        lot.iter()
            .filter(|(_, parked)| parked.since.elapsed() >= idle)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Closes every parked connection, each leaving one self-contained file (on shutdown).
    pub fn close_all(&self) {
        loop {
            let Some((_, parked)) = self.lot.lock().pop_lru() else {
                break;
            };
            if self.checkpoints.by_ledgerlite() {
                fold_wal(&parked.conn);
            }
        }
    }

    /// Connections parked now.
    pub fn len(&self) -> usize {
        self.lot.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether idle tenants are checkpointed ([`checkpoint_idle`]).
    pub fn idle_checkpoint(&self) -> bool {
        self.idle_checkpoint
    }
}

/// Whether `conn` can still write: a connection that cannot (opened read-only, or made
/// `query_only`) is not kept, so reopening the tenant recovers it.
fn writable(conn: &Connection) -> bool {
    let read_only = conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(true);
    let query_only = conn
        .query_row("PRAGMA query_only", [], |row| row.get::<_, bool>(0))
        .unwrap_or(true);
    !read_only && !query_only
}

/// Folds the WAL of a tenant no one is writing into its database file and truncates the WAL,
/// so a cold tenant is one small file. The only place the server checkpoints a tenant besides
/// SQLite's automatic checkpoint; turned off with `LEDGERLITE_IDLE_CHECKPOINT=false` (for a
/// replication tool that must do the checkpoints itself).
pub fn checkpoint_idle(conn: &Connection) {
    fold_wal(conn);
}

/// Folds the WAL into the database file and truncates it (on shutdown, before a tenant's
/// file is replaced, and for an idle tenant). A failure loses nothing: the WAL stays valid.
pub fn fold_wal(conn: &Connection) {
    if let Err(error) = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)") {
        tracing::warn!(%error, "checkpoint failed");
    }
}
