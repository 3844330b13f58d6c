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

    /// A file written before 0007 (an inflow of 100: `@external/USD` at -100, credit
    /// direction) comes out with the external balance at 100, debit-direction, its operations
    /// still as written, and the audit clean: every balance replays, the asset is conserved.
    #[test]
    fn external_balances_written_before_0007_turn_debit_direction() -> crate::error::Result<()> {
        let schema_before_direction = 6;
        let mut conn = Connection::open_in_memory()?;
        for sql in &MIGRATIONS[..schema_before_direction] {
            conn.execute_batch(sql)?;
        }
        conn.execute_batch(&format!("PRAGMA user_version = {schema_before_direction}"))?;
        let at = "2026-01-01T00:00:00.000000Z";
        conn.execute_batch(&format!(
            "INSERT INTO organization (id, legal_name, legal_document, status_code, created_at, updated_at) \
               VALUES ('o', 'O', '1', 'ACTIVE', '{at}', '{at}');
             INSERT INTO ledger (id, organization_id, name, status_code, created_at, updated_at) \
               VALUES ('l', 'o', 'L', 'ACTIVE', '{at}', '{at}');
             INSERT INTO account (id, organization_id, ledger_id, name, alias, type, asset_code, status_code, created_at, updated_at) VALUES
               ('ax', 'o', 'l', 'X', '@external/USD', 'external', 'USD', 'external', '{at}', '{at}'),
               ('aa', 'o', 'l', 'A', '@a', 'deposit', 'USD', 'ACTIVE', '{at}', '{at}');
             INSERT INTO balance (id, organization_id, ledger_id, account_id, alias, key, asset_code, available, version, account_type, created_at, updated_at) VALUES
               ('bx', 'o', 'l', 'ax', '@external/USD', 'default', 'USD', '-100', 2, 'external', '{at}', '{at}'),
               ('ba', 'o', 'l', 'aa', '@a', 'default', 'USD', '100', 2, 'deposit', '{at}', '{at}');
             INSERT INTO ledger_transaction (id, organization_id, ledger_id, status_code, amount, asset_code, source, destination, postings, created_at, updated_at) \
               VALUES ('t', 'o', 'l', 'APPROVED', '100', 'USD', '[\"@external/USD\"]', '[\"@a\"]', '{{\"value\":\"100\",\"sources\":[],\"destinations\":[]}}', '{at}', '{at}');
             INSERT INTO operation (id, transaction_id, organization_id, ledger_id, type, direction, asset_code, amount, available_before, on_hold_before, version_before, available_after, on_hold_after, version_after, status_code, account_id, account_alias, balance_key, balance_id, balance_affected, created_at, updated_at) VALUES
               ('op1', 't', 'o', 'l', 'DEBIT', 'debit', 'USD', '100', '0', '0', 1, '-100', '0', 2, 'APPROVED', 'ax', '@external/USD', 'default', 'bx', 1, '{at}', '{at}'),
               ('op2', 't', 'o', 'l', 'CREDIT', 'credit', 'USD', '100', '0', '0', 1, '100', '0', 2, 'APPROVED', 'aa', '@a', 'default', 'ba', 1, '{at}', '{at}');"
        ))?;
        migrate(&mut conn)?;
        let balances: Vec<(String, String, String)> = conn
            .prepare("SELECT id, available, direction FROM balance ORDER BY id")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let expected = [("ba", "100", "credit"), ("bx", "100", "debit")]
            .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()));
        assert_eq!(balances, expected);
        let kept: String = conn.query_row(
            "SELECT available_after FROM operation WHERE id = 'op1'",
            [],
            |r| r.get(0),
        )?;
        assert_eq!(kept, "-100", "history stays as written");
        // The chain entry the previous version wrote for it: the encoding of rows with their
        // defaults (credit, no overdraft) is the one it used (see chain's fixed-encoding test).
        let ledger = crate::domain::ids::LedgerId::new("l");
        let id = crate::domain::ids::TransactionId::new("t");
        let transaction =
            super::super::transactions::get_transaction(&conn, &ledger, &id)?.transaction;
        super::super::chain::append(&conn, &transaction, "create", &transaction.operations, at)?;
        let audit = super::super::chain::audit(&conn)?;
        assert!(audit.ok(), "{:?}", audit.problems);
        // Any other change of direction is a finding.
        conn.execute(
            "UPDATE balance SET direction = 'debit', available = '-100' WHERE id = 'ba'",
            [],
        )?;
        let audit = super::super::chain::audit(&conn)?;
        assert!(!audit.ok());
        Ok(())
    }
}
