//! SQL of balances.

use rusqlite::{Connection, Row, params};

use super::query::{Table, amount, json};
use crate::domain::entities::{Balance, BalanceSettings};
use crate::domain::ids::AccountId;
use crate::domain::money::canonical;
use crate::error::{Kind, Result};

pub const BALANCE: Table = table!("balance" [
    "id", "organization_id", "ledger_id", "account_id", "alias", "key", "asset_code",
    "available", "on_hold", "version", "account_type", "allow_sending", "allow_receiving",
    "direction", "overdraft_used", "settings"
] update [
    "available", "on_hold", "version", "allow_sending", "allow_receiving", "overdraft_used",
    "settings", "deleted_at"
] without metadata);

stored!(Balance in BALANCE, Kind::NoBalancesFound, balance_from, save_balance);

pub fn balance_from(row: &Row<'_>) -> rusqlite::Result<Balance> {
    read!(row => Balance {
        id, organization_id, ledger_id, account_id, alias, key, asset_code, version,
        account_type, allow_sending, allow_receiving, direction;
        available: amount(row, "available")?,
        on_hold: amount(row, "on_hold")?,
        overdraft_used: amount(row, "overdraft_used")?,
        settings: json(row, "settings")?,
    } without metadata)
}

/// Creates or fully rewrites a balance row.
pub fn save_balance(conn: &Connection, b: &Balance) -> Result<()> {
    BALANCE.save(
        conn,
        params! {
            b.id, b.organization_id, b.ledger_id, b.account_id, b.alias, b.key,
            b.asset_code, canonical(b.available), canonical(b.on_hold), b.version,
            b.account_type, b.allow_sending, b.allow_receiving, b.direction,
            canonical(b.overdraft_used), settings_to(&b.settings)?
        },
        &b.metadata,
        &b.stamps,
    )
}

/// The settings column: Midaz's JSON object, or NULL.
fn settings_to(settings: &Option<BalanceSettings>) -> Result<Option<String>> {
    Ok(settings.as_ref().map(serde_json::to_string).transpose()?)
}

/// Live balances of an account, oldest first.
pub fn of_account(conn: &Connection, account_id: &AccountId) -> Result<Vec<Balance>> {
    let sql = format!(
        "SELECT {} FROM balance WHERE account_id = ? AND deleted_at IS NULL \
         ORDER BY created_at, id",
        BALANCE.columns
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
