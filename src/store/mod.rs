//! SQLite only: the tenant registry and its LRU of open tenants, the per-tenant writer with
//! group commit, the reader pools, migrations and all SQL.

/// A [`query::Table`] from one declaration: the table, its own columns in order, and those an
/// upsert on an existing id rewrites. As `entity!` gives every entity its metadata and stamps,
/// every table gets their columns after its own (`metadata`, `created_at`, `updated_at`,
/// `deleted_at`; a table declared `without metadata` stores none), and an upsert always
/// rewrites `metadata` and `updated_at`. The column list and the upsert
/// (`INSERT … VALUES (?, …) ON CONFLICT(id) DO UPDATE SET c = excluded.c, …`) are built at
/// compile time, so every save runs one cached statement.
macro_rules! table {
    ($table:literal [$($column:literal),+ $(,)?] update [$($set:literal),+ $(,)?]) => {
        table!(@build $table, true,
            [$($column,)+ "metadata", "created_at", "updated_at", "deleted_at"]
            update [$($set,)+ "metadata", "updated_at"])
    };
    ($table:literal [$($column:literal),+ $(,)?] update [$($set:literal),+ $(,)?]
        without metadata) => {
        table!(@build $table, false,
            [$($column,)+ "created_at", "updated_at", "deleted_at"]
            update [$($set,)+ "updated_at"])
    };
    (@build $table:literal, $metadata:literal, [$first:literal $(, $column:literal)* $(,)?]
        update [$set:literal $(, $more:literal)* $(,)?]) => {
        $crate::store::query::Table {
            name: $table,
            columns: concat!($first $(, ", ", $column)*),
            upsert: concat!(
                "INSERT INTO ", $table, " (", $first $(, ", ", $column)*, ") VALUES (?",
                $(table!(@mark $column),)* ") ON CONFLICT(id) DO UPDATE SET ",
                $set, " = excluded.", $set $(, ", ", $more, " = excluded.", $more)*
            ),
            metadata: $metadata,
        }
    };
    (@mark $column:literal) => {
        ", ?"
    };
}

/// `Entity` for a type stored in a [`query::Table`]: `NAME` is the type's name. A type that
/// embeds rows of other tables names the function that adds them after `completed by`.
macro_rules! stored {
    ($entity:ident in $table:expr, $not_found:expr, $from:path, $save:path
        $(, completed by $completed:path)?) => {
        impl $crate::store::Entity for $entity {
            const TABLE: &'static str = $table.name;
            const COLUMNS: &'static str = $table.columns;
            const METADATA: bool = $table.metadata;
            const NOT_FOUND: $crate::error::Kind = $not_found;
            const NAME: &'static str = stringify!($entity);

            fn id(&self) -> &str {
                self.id.as_str()
            }

            fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                $from(row)
            }

            fn save(&self, conn: &rusqlite::Connection) -> $crate::error::Result<()> {
                $save(conn, self)
            }

            $(
                fn completed(self, conn: &rusqlite::Connection) -> $crate::error::Result<Self> {
                    $completed(conn, self)
                }
            )?
        }
    };
}

/// Reads a `$entity` from `$row`: each field before the `;` from the column of its name, the
/// rest from their expressions, then the stamps and metadata `table!` adds to every table (a
/// table `without metadata` reads as empty metadata).
macro_rules! read {
    ($row:ident => $entity:ident { $($field:ident),* ; $($other:ident: $value:expr),* $(,)? }) => {
        read!(@stamped $row => $entity { $($field),*; $($other: $value,)*
            metadata: $crate::store::query::metadata_from($row)?, })
    };
    ($row:ident => $entity:ident { $($field:ident),* ; $($other:ident: $value:expr),* $(,)? }
        without metadata) => {
        read!(@stamped $row => $entity { $($field),*; $($other: $value,)*
            metadata: Default::default(), })
    };
    (@stamped $row:ident => $entity:ident { $($field:ident),* ; $($other:ident: $value:expr,)* }) => {
        Ok($entity {
            $($field: $row.get(stringify!($field))?,)*
            $($other: $value,)*
            stamps: $crate::store::query::stamps($row)?,
        })
    };
}

pub mod asset_rates;
pub mod balances;
pub mod chain;
pub mod export;
pub mod files;
pub mod metadata_indexes;
pub mod onboarding;
pub mod parking;
pub mod query;
pub mod registry;
pub mod routing;
pub mod schema;
pub mod tenant;
pub mod transactions;
pub mod writer;

use rusqlite::{Connection, Row};

pub use registry::{Missing, Registry, StoreConfig, SyncMode};
pub use tenant::Tenant;

use crate::domain::scope::Parent;

use crate::domain::query::{CursorPage, ListQuery};
use crate::error::{Error, Kind, Result};
use query::Scope;

/// Bytes of heap SQLite holds right now, all tenants' connections together: page caches,
/// parsed schemas, prepared statements and lookaside buffers. Most of the process's memory
/// with many tenants open; `/metrics` shows it so the tenant cache can be sized against it.
pub fn sqlite_memory_bytes() -> u64 {
    // SAFETY: `sqlite3_memory_used` takes no arguments and reads SQLite's global memory
    // statistics under its own mutex; it may be called from any thread at any time.
    let used = unsafe { rusqlite::ffi::sqlite3_memory_used() };
    u64::try_from(used).unwrap_or(0)
}

/// Slot size of a tenant writer's lookaside, in bytes (SQLite's default).
const WRITER_LOOKASIDE_SLOT_BYTES: i32 = 1200;
/// Slots of a tenant writer's lookaside (SQLite's default: 48 KB in all).
const WRITER_LOOKASIDE_SLOTS: i32 = 40;

/// Turns off `conn`'s lookaside, SQLite's per-connection arena for small allocations (48 KB
/// allocated at open by default): small allocations then come from the allocator like every
/// other. Over many tenants it would be most of an idle connection's memory (a parked one
/// keeps its parsed schema in ~26 KB). Readers run without it; a writer is opened without it
/// (its schema is parsed into the heap) and gets it while it writes ([`writer_lookaside`]).
/// Fails with `SQLITE_BUSY` while a running statement holds lookaside memory.
pub fn no_lookaside(conn: &Connection) -> rusqlite::Result<()> {
    set_lookaside(conn, 0, 0)
}

/// Gives `conn` SQLite's default lookaside while it is a tenant's writer: the write path's
/// many small allocations then skip `malloc` (one tenant +7 % in a rotating run, README
/// "Performance").
/// Parking takes it away again ([`no_lookaside`]), so only open tenants pay its 48 KB.
pub fn writer_lookaside(conn: &Connection) -> rusqlite::Result<()> {
    set_lookaside(conn, WRITER_LOOKASIDE_SLOT_BYTES, WRITER_LOOKASIDE_SLOTS)
}

fn set_lookaside(conn: &Connection, slot_bytes: i32, slots: i32) -> rusqlite::Result<()> {
    // SAFETY: `conn.handle()` is this open connection's handle, used on this thread only for
    // the call. A null buffer makes SQLite allocate `slots` slots of `slot_bytes` itself (none
    // for zero) and free its previous buffer; the variadic arguments are the (void*, int, int)
    // the option takes.
    let code = unsafe {
        rusqlite::ffi::sqlite3_db_config(
            conn.handle(),
            rusqlite::ffi::SQLITE_DBCONFIG_LOOKASIDE,
            std::ptr::null_mut::<std::ffi::c_void>(),
            slot_bytes,
            slots,
        )
    };
    if code == rusqlite::ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(code),
            Some("configuring the lookaside".to_owned()),
        ))
    }
}

/// The flags that `.cargo/config.toml` gives the bundled SQLite. Cargo applies that file only
/// to builds started inside this folder, and libsqlite3-sys reads its compile flags from this
/// environment variable alone, so `cargo install --git`, or a project embedding ledgerlite,
/// gets SQLite's default build unless the variable is set.
pub const SQLITE_FLAGS: &str = "-USQLITE_ENABLE_MEMORY_MANAGEMENT -DSQLITE_DEFAULT_PCACHE_INITSZ=0";

/// A warning with the fix when the linked SQLite was built with
/// `SQLITE_ENABLE_MEMORY_MANAGEMENT`: every connection's page cache then shares one global
/// LRU behind one mutex, which serializes page fetches across tenants (a third slower over
/// many tenants, README "Performance"). The setting is compiled in; no run-time switch undoes
/// it.
pub fn slow_sqlite_build() -> Option<String> {
    // SAFETY: sqlite3_compileoption_used only reads a static table; the argument is a
    // NUL-terminated string that outlives the call.
    let used =
        unsafe { rusqlite::ffi::sqlite3_compileoption_used(c"ENABLE_MEMORY_MANAGEMENT".as_ptr()) };
    (used == 1).then(|| {
        format!(
            "this binary's SQLite was built with SQLITE_ENABLE_MEMORY_MANAGEMENT (one page-cache \
             lock shared by all tenants, about a third slower over many tenants); rebuild with \
             LIBSQLITE3_FLAGS=\"{SQLITE_FLAGS}\" in the environment of cargo build or cargo \
             install (README, Install)"
        )
    })
}

/// A stored entity: its table, how a row reads, how it is saved (created or updated).
pub trait Entity: Sized + Send + 'static {
    const TABLE: &'static str;
    const COLUMNS: &'static str;
    /// Whether its rows have metadata (balances answer `metadata: {}` and have none).
    const METADATA: bool;
    /// The error for an id that does not exist under its parent.
    const NOT_FOUND: Kind;
    /// The entity name used in error bodies (`entityType`).
    const NAME: &'static str;

    fn id(&self) -> &str;
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self>;
    fn save(&self, conn: &Connection) -> Result<()>;

    /// The entity read from its row with what it embeds from other tables (a transaction
    /// route's operation routes); most embed nothing.
    fn completed(self, _conn: &Connection) -> Result<Self> {
        Ok(self)
    }
}

/// The key columns of the rows under `parent`.
fn keys(parent: &Parent) -> Vec<(&'static str, &str)> {
    match parent {
        Parent::Root => vec![],
        Parent::Organization(org) => vec![("organization_id", org.as_str())],
        Parent::Ledger {
            organization_id,
            ledger_id,
        } => vec![
            ("organization_id", organization_id.as_str()),
            ("ledger_id", ledger_id.as_str()),
        ],
        Parent::Account {
            organization_id,
            ledger_id,
            account_id,
        } => vec![
            ("organization_id", organization_id.as_str()),
            ("ledger_id", ledger_id.as_str()),
            ("account_id", account_id.as_str()),
        ],
    }
}

fn scope<'a, E: Entity>(keys: &'a [(&'static str, &'a str)]) -> Scope<'a> {
    Scope::new(E::TABLE, E::COLUMNS, keys)
}

/// The live entity `id` under `parent`, or `E::NOT_FOUND`.
pub fn get<E: Entity>(conn: &Connection, parent: &Parent, id: &str) -> Result<E> {
    let keys = keys(parent);
    query::get(conn, &scope::<E>(&keys), id, E::from_row)?
        .ok_or_else(|| Error::new(E::NOT_FOUND).with_entity(E::NAME))?
        .completed(conn)
}

/// Fails with `E::NOT_FOUND` unless the live entity `id` exists under `parent` (reads no
/// columns: writes check their parents with it).
pub fn ensure_exists<E: Entity>(conn: &Connection, parent: &Parent, id: &str) -> Result<()> {
    let keys = keys(parent);
    let scope = Scope::new(E::TABLE, "1", &keys);
    query::get(conn, &scope, id, |_| Ok(()))?
        .ok_or_else(|| Error::new(E::NOT_FOUND).with_entity(E::NAME))
}

pub fn list<E: Entity>(conn: &Connection, parent: &Parent, list: &ListQuery) -> Result<Vec<E>> {
    let keys = keys(parent);
    let items = query::list(conn, &scope::<E>(&keys), list, E::from_row)?;
    items.into_iter().map(|e| e.completed(conn)).collect()
}

pub fn count<E: Entity>(conn: &Connection, parent: &Parent, list: &ListQuery) -> Result<i64> {
    let keys = keys(parent);
    query::count(conn, &scope::<E>(&keys), list)
}

/// Soft-deletes the live entity `id` under `parent`, or fails with `E::NOT_FOUND`.
pub fn delete<E: Entity>(conn: &Connection, parent: &Parent, id: &str, now: &str) -> Result<()> {
    let keys = keys(parent);
    if query::soft_delete(conn, &scope::<E>(&keys), id, now)? {
        Ok(())
    } else {
        Err(Error::new(E::NOT_FOUND).with_entity(E::NAME))
    }
}

/// A cursor page of live entities under `parent`.
pub fn list_by_cursor<E: Entity>(
    conn: &Connection,
    parent: &Parent,
    list: &ListQuery,
) -> Result<CursorPage<E>> {
    if list.metadata.is_some() && !E::METADATA {
        // No column to filter on: a metadata filter matches none of the entities.
        return Ok(CursorPage {
            items: Vec::new(),
            next_cursor: None,
            prev_cursor: None,
        });
    }
    let keys = keys(parent);
    let page = query::list_by_cursor(conn, &scope::<E>(&keys), list, E::from_row, E::id)?;
    let items = page
        .items
        .into_iter()
        .map(|e| e.completed(conn))
        .collect::<Result<_>>()?;
    Ok(CursorPage { items, ..page })
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_build_links_the_fast_sqlite() {
        assert_eq!(super::slow_sqlite_build(), None);
    }

    #[test]
    fn a_table_gets_the_metadata_and_stamp_columns_after_its_own() {
        let table = table!("t" ["id", "name"] update ["name"]);
        assert_eq!(
            table.columns,
            "id, name, metadata, created_at, updated_at, deleted_at"
        );
        assert_eq!(
            table.upsert,
            "INSERT INTO t (id, name, metadata, created_at, updated_at, deleted_at) VALUES \
             (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, \
             metadata = excluded.metadata, updated_at = excluded.updated_at"
        );
        assert!(table.metadata);
        let bare = table!("b" ["id", "n"] update ["n", "deleted_at"] without metadata);
        assert_eq!(bare.columns, "id, n, created_at, updated_at, deleted_at");
        assert_eq!(
            bare.upsert,
            "INSERT INTO b (id, n, created_at, updated_at, deleted_at) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT(id) DO UPDATE SET n = excluded.n, deleted_at = excluded.deleted_at, \
             updated_at = excluded.updated_at"
        );
        assert!(!bare.metadata);
    }
}
