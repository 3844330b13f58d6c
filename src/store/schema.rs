//! Migrations: numbered SQL files in `schema/`, embedded in the binary and applied on open.
//! The file's schema version is SQLite's `user_version`.

use rusqlite::{Connection, TransactionBehavior};

/// Every migration, in order; the position + 1 is the schema version it produces.
const MIGRATIONS: &[&str] = &[
    include_str!("../../schema/0001_onboarding.sql"),
    include_str!("../../schema/0002_transactions.sql"),
    include_str!("../../schema/0003_idempotency_rowid.sql"),
    include_str!("../../schema/0004_chain.sql"),
    include_str!("../../schema/0005_drop_operation_balance_index.sql"),
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the file up to [`SCHEMA_VERSION`] in one immediate transaction, so that two
/// processes opening the same new file cannot both apply a migration.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if current >= SCHEMA_VERSION {
        return Ok(());
    }
    let db_tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current: i64 = db_tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        db_tx.execute_batch(sql)?;
        db_tx.execute_batch(&format!("PRAGMA user_version = {}", index + 1))?;
    }
    db_tx.commit()
}
