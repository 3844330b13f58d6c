//! Write connections of tenants that left the LRU, kept open with their page cache released.
//!
//! Opening a tenant file costs far more than using it: parsing its schema, preparing the
//! write path's statements, rebuilding the WAL index, and later closing all of it again. When
//! an evicted tenant's writer has finished its queue, its connection is parked here instead
//! of closed (page cache and lookaside released, parsed schema and prepared statements
//! kept), and the next open of that tenant takes it back. A parked connection is not a
//! writer: the registry takes it out only while it holds the tenant's opening lock and the
//! previous instance is closed, so there is still one writer per file.
//!
//! The lot is bounded by count ([`PARKED_TENANTS_MAX`], three file descriptors each) and by
//! SQLite's memory, in two steps. A parked connection's prepared statements are most of what it
//! holds (~135 KB of ~160 KB); its parsed schema and WAL index are what a reopen pays most for.
//! So once all of SQLite's heap is above the cache budget, the longest-parked connections first
//! drop their statements (they are prepared again on their next use) and stay parked, cold,
//! with their schema; only when every parked connection is cold are the longest-parked ones
//! closed. The recently parked (the hot set, under skewed traffic) keep everything.

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

/// The parked connections, each in one of two LRUs.
struct Lot {
    /// Parked with their prepared statements.
    warm: LruCache<TenantId, Parked>,
    /// Parked with their statements dropped (over the memory budget).
    cold: LruCache<TenantId, Parked>,
}

impl Lot {
    fn len(&self) -> usize {
        self.warm.len() + self.cold.len()
    }
}

pub struct Parking {
    lot: Mutex<Lot>,
    /// SQLite memory of all tenants above which parked connections are closed, in bytes.
    budget_bytes: u64,
    /// Whether an idle tenant's WAL is folded into its file ([`close_folded`]).
    idle_checkpoint: bool,
    /// Who checkpoints the WALs: under Litestream the server never folds one.
    checkpoints: Checkpoints,
}

impl Parking {
    pub fn new(budget_bytes: u64, idle_checkpoint: bool, checkpoints: Checkpoints) -> Self {
        Self {
            lot: Mutex::new(Lot {
                warm: LruCache::unbounded(),
                cold: LruCache::unbounded(),
            }),
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
        // No statement runs on a parked connection, so its lookaside is free to release.
        if let Err(error) = super::no_lookaside(&conn) {
            tracing::warn!(%error, "releasing a parked connection's lookaside failed");
        }
        let replaced = self.lot.lock().warm.push(
            id,
            Parked {
                conn,
                since: Instant::now(),
            },
        );
        drop(replaced);
        self.trim();
    }

    /// Brings the lot back within its bounds, one connection at a time outside the lock (the
    /// memory a step frees shows only once it is done): beyond [`PARKED_TENANTS_MAX`] the
    /// longest-parked connection is closed; over the memory budget the longest-parked warm one
    /// drops its statements, or, with none warm left, the longest-parked cold one is closed.
    pub fn trim(&self) {
        self.trim_while(|| self.over_budget());
    }

    /// [`Parking::trim`] with `over_budget` telling whether SQLite's memory is over the budget.
    fn trim_while(&self, mut over_budget: impl FnMut() -> bool) {
        loop {
            let step = {
                let mut lot = self.lot.lock();
                if lot.len() > PARKED_TENANTS_MAX {
                    Trim::Close(lot.cold.pop_lru().or_else(|| lot.warm.pop_lru()))
                } else if lot.len() == 0 || !over_budget() {
                    break;
                } else if let Some((id, parked)) = lot.warm.pop_lru() {
                    Trim::Cool(id, parked)
                } else {
                    Trim::Close(lot.cold.pop_lru())
                }
            };
            match step {
                Trim::Close(victim) => drop(victim),
                Trim::Cool(id, parked) => {
                    parked.conn.flush_prepared_statement_cache();
                    // Cooled while unlocked: pushed as the newest cold one, which it is.
                    drop(self.lot.lock().cold.push(id, parked));
                }
            }
        }
    }

    /// Takes back the parked connection of `id`. The caller holds the tenant's opening lock.
    pub fn take(&self, id: &TenantId) -> Option<Connection> {
        let mut lot = self.lot.lock();
        let parked = lot.warm.pop(id).or_else(|| lot.cold.pop(id));
        parked.map(|parked| parked.conn)
    }

    /// Closes the parked connection of `id`, if any, leaving one self-contained file. The
    /// caller holds the tenant's opening lock.
    pub fn close(&self, id: &TenantId) {
        if let Some(conn) = self.take(id)
            && self.checkpoints.by_ledgerlite()
        {
            close_folded(conn);
        }
    }

    /// Closes the parked connection of `id` if it is still parked, checkpointed unless idle
    /// checkpoints are off. The caller holds the tenant's opening lock.
    pub fn close_idle(&self, id: &TenantId) {
        if let Some(conn) = self.take(id)
            && self.idle_checkpoint
        {
            close_folded(conn);
        }
    }

    /// Tenants parked for at least `idle`.
    pub fn idle(&self, idle: Duration) -> Vec<TenantId> {
        let lot = self.lot.lock();
        lot.warm
            .iter()
            .chain(lot.cold.iter())
            .filter(|(_, parked)| parked.since.elapsed() >= idle)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Closes every parked connection, each leaving one self-contained file (on shutdown).
    pub fn close_all(&self) {
        loop {
            let popped = {
                let mut lot = self.lot.lock();
                lot.cold.pop_lru().or_else(|| lot.warm.pop_lru())
            };
            let Some((_, parked)) = popped else {
                break;
            };
            if self.checkpoints.by_ledgerlite() {
                close_folded(parked.conn);
            }
        }
    }

    /// Connections parked now, warm (with their statements) and cold.
    pub fn counts(&self) -> (usize, usize) {
        let lot = self.lot.lock();
        (lot.warm.len(), lot.cold.len())
    }

    /// Connections parked now.
    pub fn len(&self) -> usize {
        self.lot.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether idle tenants are checkpointed ([`close_folded`]).
    pub fn idle_checkpoint(&self) -> bool {
        self.idle_checkpoint
    }
}

/// One step of [`Parking::trim`].
enum Trim {
    /// Close this connection (if any).
    Close(Option<(TenantId, Parked)>),
    /// Drop the statements of this warm connection and park it cold.
    Cool(TenantId, Parked),
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

/// Folds the WAL into the database file and truncates it (for a new file). A failure loses
/// nothing: the WAL stays valid.
pub fn fold_wal(conn: &Connection) {
    if let Err(error) = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)") {
        tracing::warn!(%error, "checkpoint failed");
    }
}

/// Folds the WAL into the database file and closes `conn` (on shutdown, before a tenant's file
/// is replaced, and for an idle tenant, unless `LEDGERLITE_IDLE_CHECKPOINT=false` leaves the
/// checkpoints to a replication tool). As the file's last connection, SQLite then removes the
/// empty WAL and its shared-memory index, so a cold tenant is one small file. A failure loses
/// nothing: the WAL stays valid and is folded by the next open.
pub fn close_folded(conn: Connection) {
    fold_wal(&conn);
    if let Err(error) = super::tenant::checkpoint_on_close(&conn, true) {
        tracing::warn!(%error, "enabling the checkpoint on close failed");
    }
    drop(conn);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parked(lot: &Parking, name: &str, dir: &std::path::Path) {
        let conn = Connection::open(dir.join(format!("{name}.sqlite"))).unwrap();
        conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
        conn.prepare_cached("SELECT x FROM t").unwrap();
        lot.park(TenantId::parse(name).unwrap(), conn);
    }

    /// `sqlite3_db_status(conn, op)`: the current value and the highest since the last reset
    /// (then reset to the current one when `reset`).
    fn db_status(conn: &Connection, op: i32, reset: bool) -> (i32, i32) {
        let (mut used, mut highest) = (0, 0);
        // SAFETY: an open connection's handle and two out-parameters that outlive the call.
        unsafe {
            rusqlite::ffi::sqlite3_db_status(
                conn.handle(),
                op,
                &mut used,
                &mut highest,
                i32::from(reset),
            )
        };
        (used, highest)
    }

    fn cached_statements(conn: &Connection) -> i32 {
        db_status(conn, rusqlite::ffi::SQLITE_DBSTATUS_STMT_USED, false).0
    }

    /// The most lookaside memory a fresh query on `conn` holds at once, in bytes.
    fn lookaside_high_water(conn: &Connection) -> i32 {
        let op = rusqlite::ffi::SQLITE_DBSTATUS_LOOKASIDE_USED;
        db_status(conn, op, true);
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM t WHERE x > ?1 OR x < ?2",
                [0, 2],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1);
        db_status(conn, op, false).1
    }

    #[test]
    fn a_parked_connection_releases_its_lookaside_and_a_writer_gets_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let lot = Parking::new(u64::MAX, true, Checkpoints::default());
        let conn = Connection::open(dir.path().join("a.sqlite")).unwrap();
        conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
        assert!(lookaside_high_water(&conn) > 0, "SQLite's default has one");
        let a = TenantId::parse("a").unwrap();
        lot.park(a.clone(), conn);
        let conn = lot.take(&a).unwrap();
        assert_eq!(lookaside_high_water(&conn), 0, "parked without it");
        super::super::writer_lookaside(&conn).unwrap();
        assert!(lookaside_high_water(&conn) > 0, "a writer has it again");
    }

    #[test]
    fn over_the_budget_parked_connections_drop_their_statements_before_any_closes() {
        let dir = tempfile::tempdir().unwrap();
        let lot = Parking::new(u64::MAX, true, Checkpoints::default());
        for name in ["a", "b", "c"] {
            parked(&lot, name, dir.path());
        }
        assert_eq!(lot.counts(), (3, 0), "within the budget all stay warm");
        // Over the budget for two steps: the two longest parked go cold, none closes.
        let mut steps = 2;
        lot.trim_while(|| {
            steps -= 1;
            steps >= 0
        });
        assert_eq!(lot.counts(), (1, 2));
        let a = TenantId::parse("a").unwrap();
        let c = TenantId::parse("c").unwrap();
        let cold = lot.take(&a).unwrap();
        assert_eq!(
            cached_statements(&cold),
            0,
            "a cold one holds no statements"
        );
        let warm = lot.take(&c).unwrap();
        assert!(
            cached_statements(&warm) > 0,
            "the newest kept its statements"
        );
        // A cold connection still works: its statements are prepared again.
        let x: i64 = cold.query_row("SELECT x FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(x, 1);
        lot.park(a.clone(), cold);
        lot.park(c.clone(), warm);
        // Over the budget one step at a time: the warm ones go cold first, then they close.
        let mut seen = vec![lot.counts()];
        while !lot.is_empty() {
            let mut once = true;
            lot.trim_while(|| std::mem::take(&mut once));
            seen.push(lot.counts());
        }
        assert_eq!(seen, [(2, 1), (1, 2), (0, 3), (0, 2), (0, 1), (0, 0)]);
    }
}
