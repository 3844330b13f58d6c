//! Migrations: numbered SQL files in `schema/`, embedded in the binary and applied on open.
//! The file's schema version is SQLite's `user_version`.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Error, Kind, Result};

/// Every migration, in order; the position + 1 is the schema version it produces.
const MIGRATIONS: &[&str] = &[
    include_str!("../../schema/0001_onboarding.sql"),
    include_str!("../../schema/0002_transactions.sql"),
    include_str!("../../schema/0003_idempotency_rowid.sql"),
    include_str!("../../schema/0004_chain.sql"),
    include_str!("../../schema/0005_drop_operation_balance_index.sql"),
    include_str!("../../schema/0006_idempotency_by_reference.sql"),
    include_str!("../../schema/0007_balance_direction.sql"),
    include_str!("../../schema/0008_routing.sql"),
    include_str!("../../schema/0009_metadata_indexes.sql"),
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Lowest `user_version` of a file written by this project (0 is an empty SQLite file).
pub const SCHEMA_VERSION_MIN: i64 = 1;

/// Refuses (`ServiceUnavailable`) a file whose schema is newer than this binary's: a newer
/// binary wrote it, and this one would misread or damage it.
pub fn refuse_newer(conn: &Connection) -> Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version > SCHEMA_VERSION {
        let why = format!(
            "the tenant file has schema version {version}, newer than this binary's \
             {SCHEMA_VERSION}; upgrade ledgerlite to open it"
        );
        let mut error = Error::new(Kind::ServiceUnavailable).with_message(why.clone());
        error.cause = Some(why);
        return Err(error);
    }
    Ok(())
}

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

#[cfg(test)]
mod tests {
    use super::*;

    /// A response stored whole before 0006 is replayed whole after it, and its record points
    /// at the transaction named in the body.
    #[test]
    fn responses_stored_whole_survive_the_move_to_records() -> rusqlite::Result<()> {
        let schema_before_records = 5;
        let mut conn = Connection::open_in_memory()?;
        for sql in &MIGRATIONS[..schema_before_records] {
            conn.execute_batch(sql)?;
        }
        conn.execute_batch(&format!("PRAGMA user_version = {schema_before_records}"))?;
        let body = r#"{"id":"t-1","amount":"1"}"#;
        conn.execute(
            "INSERT INTO idempotency_response (ledger_id, key, response, expires_at_ms) \
             VALUES ('l-1', 'k-1', ?, 99)",
            [body],
        )?;
        migrate(&mut conn)?;
        let record: (String, String, String, Option<String>, i64) = conn.query_row(
            "SELECT ledger_id, key, transaction_id, response, expires_at_ms FROM idempotency_record",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )?;
        let expected = (
            "l-1".into(),
            "k-1".into(),
            "t-1".into(),
            Some(body.into()),
            99,
        );
        assert_eq!(record, expected);
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        assert_eq!(version, SCHEMA_VERSION);
        Ok(())
    }
}
