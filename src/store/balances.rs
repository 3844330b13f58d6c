//! SQL of balances.

use rusqlite::{Connection, Row, named_params};

use super::Entity;
use super::query::amount;
use crate::domain::entities::{Balance, Stamps};
use crate::domain::ids::AccountId;
use crate::domain::metadata::Metadata;
use crate::domain::money::canonical;
use crate::error::{Kind, Result};

pub const BALANCE_COLUMNS: &str = "id, organization_id, ledger_id, account_id, alias, key, asset_code, \
    available, on_hold, version, account_type, allow_sending, allow_receiving, created_at, \
    updated_at, deleted_at";

impl Entity for Balance {
    const TABLE: &'static str = "balance";
    const COLUMNS: &'static str = BALANCE_COLUMNS;
    const NOT_FOUND: Kind = Kind::NoBalancesFound;
    const NAME: &'static str = "Balance";

    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        balance_from(row)
    }

    fn save(&self, conn: &Connection) -> Result<()> {
        save_balance(conn, self)
    }
}

pub fn balance_from(row: &Row<'_>) -> rusqlite::Result<Balance> {
    Ok(Balance {
        id: row.get("id")?,
        organization_id: row.get("organization_id")?,
        ledger_id: row.get("ledger_id")?,
        account_id: row.get("account_id")?,
        alias: row.get("alias")?,
        key: row.get("key")?,
        asset_code: row.get("asset_code")?,
        available: amount(row, "available")?,
        on_hold: amount(row, "on_hold")?,
        version: row.get("version")?,
        account_type: row.get("account_type")?,
        allow_sending: row.get("allow_sending")?,
        allow_receiving: row.get("allow_receiving")?,
        overdraft: Default::default(),
        stamps: Stamps {
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
            deleted_at: row.get("deleted_at")?,
        },
        metadata: Metadata::new(),
    })
}

/// Creates or fully rewrites a balance row.
pub fn save_balance(conn: &Connection, b: &Balance) -> Result<()> {
    let sql = format!(
        "INSERT INTO balance ({BALANCE_COLUMNS}) VALUES (:id, :organization_id, :ledger_id, \
         :account_id, :alias, :key, :asset_code, :available, :on_hold, :version, :account_type, \
         :allow_sending, :allow_receiving, :created_at, :updated_at, :deleted_at) \
         ON CONFLICT(id) DO UPDATE SET available = excluded.available, \
         on_hold = excluded.on_hold, version = excluded.version, \
         allow_sending = excluded.allow_sending, allow_receiving = excluded.allow_receiving, \
         updated_at = excluded.updated_at, deleted_at = excluded.deleted_at"
    );
    conn.prepare_cached(&sql)?.execute(named_params! {
        ":id": b.id, ":organization_id": b.organization_id, ":ledger_id": b.ledger_id,
        ":account_id": b.account_id, ":alias": b.alias, ":key": b.key,
        ":asset_code": b.asset_code, ":available": canonical(b.available),
        ":on_hold": canonical(b.on_hold), ":version": b.version, ":account_type": b.account_type,
        ":allow_sending": b.allow_sending, ":allow_receiving": b.allow_receiving,
        ":created_at": b.stamps.created_at, ":updated_at": b.stamps.updated_at,
        ":deleted_at": b.stamps.deleted_at,
    })?;
    Ok(())
}

/// Live balances of an account, oldest first.
pub fn of_account(conn: &Connection, account_id: &AccountId) -> Result<Vec<Balance>> {
    let sql = format!(
        "SELECT {BALANCE_COLUMNS} FROM balance WHERE account_id = ? AND deleted_at IS NULL \
         ORDER BY created_at, id"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map([account_id], balance_from)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Soft-deletes every live balance of an account.
pub fn delete_of_account(conn: &Connection, account_id: &str, now: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE balance SET deleted_at = ?1, updated_at = ?1 WHERE account_id = ?2 AND deleted_at IS NULL",
    )?
    .execute((now, account_id))?;
    Ok(())
}
