//! SQL of the journal (transactions, operations), balance postings, idempotency and asset rates.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{Connection, OptionalExtension, Row, ToSql, params};

use super::balances::{BALANCE, balance_from};
use super::query::{Table, amount, json, list_by_cursor};
use crate::domain::entities::Balance;
use crate::domain::ids::{
    AccountId, BalanceId, LedgerId, OperationId, OrganizationId, TransactionId,
};
use crate::domain::journal::{
    BalanceSnapshot, Direction, JournalStatus, Operation, OperationAmount, OperationRouting,
    OperationType, Transaction, TransactionStatus,
};
use crate::domain::money::canonical;
use crate::domain::query::CursorPage;
use crate::domain::query::ListQuery;
use crate::domain::time::uuid_v7_ceiling;
use crate::error::{Error, Kind, Result};

/// Typed ids and coded enums are stored as their text; reading a typed id takes the text as
/// it is, reading a code that is not one of the enum's is a corrupt row.
macro_rules! text_columns {
    (ids: $($id:ty),*; codes: $($coded:ty),*) => {
        $(text_columns!(@to_sql $id);)*
        $(text_columns!(@to_sql $coded);)*
        $(impl FromSql for $id {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                String::column_result(value).map(<$id>::new)
            }
        })*
        $(impl FromSql for $coded {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                let code = value.as_str()?;
                <$coded>::parse(code).ok_or_else(|| {
                    FromSqlError::Other(format!("unknown {} {code:?}", stringify!($coded)).into())
                })
            }
        })*
    };
    (@to_sql $text:ty) => {
        impl ToSql for $text {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }
    };
}

text_columns!(
    ids: OrganizationId, LedgerId, AccountId, TransactionId, OperationId, BalanceId;
    codes: TransactionStatus, OperationType, Direction
);

// ---- transactions --------------------------------------------------------------------------

/// How long after its `created_at` an operation's id may have been minted, at most, in
/// milliseconds (both are taken by the writer while it applies the operation, microseconds
/// apart; the slack only makes a history lookup scan a little further).
const ID_MINT_SLACK_MS: i64 = 1_000;

pub const TRANSACTION: Table = table!("ledger_transaction" [
    "id", "organization_id", "ledger_id", "parent_transaction_id", "description", "status_code",
    "status_description", "amount", "asset_code", "chart_of_accounts_group_name", "source",
    "destination", "route", "route_id", "postings"
] update [
    "description", "status_code", "status_description"
]);

/// A transaction row: the transaction (without operations) and its stored postings (JSON).
pub struct TransactionRow {
    pub transaction: Transaction,
    pub postings: String,
}

pub fn transaction_from(row: &Row<'_>) -> rusqlite::Result<TransactionRow> {
    Ok(TransactionRow {
        transaction: without_operations(row)?,
        postings: row.get("postings")?,
    })
}

/// The transaction of a row; its operations are rows of their own.
fn without_operations(row: &Row<'_>) -> rusqlite::Result<Transaction> {
    read!(row => Transaction {
        id, parent_transaction_id, description, asset_code, chart_of_accounts_group_name,
        ledger_id, organization_id, route, route_id;
        status: status(row)?,
        amount: amount(row, "amount")?,
        source: json(row, "source")?,
        destination: json(row, "destination")?,
        operations: Vec::new(),
    })
}

/// The status columns of a transaction or operation row.
fn status(row: &Row<'_>) -> rusqlite::Result<JournalStatus> {
    Ok(JournalStatus {
        code: row.get("status_code")?,
        description: row.get("status_description")?,
    })
}

/// Creates or rewrites a transaction row (status, description, metadata change over time).
pub fn save_transaction(conn: &Connection, t: &Transaction, postings: &str) -> Result<()> {
    TRANSACTION.save(
        conn,
        params! {
            t.id, t.organization_id, t.ledger_id, t.parent_transaction_id, t.description,
            t.status.code, t.status.description, canonical(t.amount), t.asset_code,
            t.chart_of_accounts_group_name, serde_json::to_string(&t.source)?,
            serde_json::to_string(&t.destination)?, t.route, t.route_id, postings
        },
        &t.metadata,
        &t.stamps,
    )
}

/// The transaction `id` of the ledger with its operations.
pub fn get_transaction(
    conn: &Connection,
    ledger_id: &LedgerId,
    id: &TransactionId,
) -> Result<TransactionRow> {
    let keys = [("ledger_id", ledger_id.as_str())];
    let mut row = super::query::get(
        conn,
        &TRANSACTION.scope(&keys),
        id.as_str(),
        transaction_from,
    )?
    .ok_or_else(|| Error::new(Kind::TransactionIdNotFound).with_entity("Transaction"))?;
    row.transaction.operations = operations_of(conn, id)?;
    Ok(row)
}

/// Whether a reversal of `id` exists.
pub fn has_reversal(conn: &Connection, id: &TransactionId) -> Result<bool> {
    let sql = "SELECT EXISTS(SELECT 1 FROM ledger_transaction WHERE parent_transaction_id = ?)";
    Ok(conn
        .prepare_cached(sql)?
        .query_row([id], |row| row.get(0))?)
}

/// A cursor page of the ledger's transactions, each with its operations.
pub fn list_transactions(
    conn: &Connection,
    ledger_id: &LedgerId,
    query: &ListQuery,
) -> Result<CursorPage<Transaction>> {
    let keys = [("ledger_id", ledger_id.as_str())];
    let page = list_by_cursor(
        conn,
        &TRANSACTION.scope(&keys),
        query,
        transaction_from,
        |r| r.transaction.id.as_str(),
    )?;
    let mut items = Vec::with_capacity(page.items.len());
    for row in page.items {
        let mut transaction = row.transaction;
        transaction.operations = operations_of(conn, &transaction.id)?;
        items.push(transaction);
    }
    Ok(CursorPage {
        items,
        next_cursor: page.next_cursor,
        prev_cursor: page.prev_cursor,
    })
}

pub fn count_transactions(
    conn: &Connection,
    ledger_id: &LedgerId,
    query: &ListQuery,
) -> Result<i64> {
    let keys = [("ledger_id", ledger_id.as_str())];
    super::query::count(conn, &TRANSACTION.scope(&keys), query)
}

// ---- operations ----------------------------------------------------------------------------

pub const OPERATION: Table = table!("operation" [
    "id", "transaction_id", "organization_id", "ledger_id", "description", "type", "direction",
    "asset_code", "chart_of_accounts", "amount", "available_before", "on_hold_before",
    "version_before", "available_after", "on_hold_after", "version_after", "status_code",
    "status_description", "account_id", "account_alias", "balance_key", "balance_id",
    "balance_affected", "route", "route_id", "route_code", "route_description",
    "balance_direction", "overdraft_used_before", "overdraft_used_after"
] update [
    "description", "route_code", "route_description"
]);

stored!(Operation in OPERATION, Kind::OperationIdNotFound, operation_from, save_operation);

pub fn operation_from(row: &Row<'_>) -> rusqlite::Result<Operation> {
    read!(row => Operation {
        id, transaction_id, description, asset_code, chart_of_accounts, account_id,
        account_alias, balance_key, balance_id, organization_id, ledger_id, route,
        balance_affected, direction, balance_direction;
        kind: row.get("type")?,
        amount: OperationAmount {
            value: amount(row, "amount")?,
        },
        balance: snapshot(row, BEFORE)?,
        balance_after: snapshot(row, AFTER)?,
        status: status(row)?,
        routing: OperationRouting {
            route_id: row.get("route_id")?,
            route_code: row.get("route_code")?,
            route_description: row.get("route_description")?,
        },
    })
}

/// The columns of the balance an operation row saw before it: available, on hold, version
/// and overdraft used.
pub(super) const BEFORE: [&str; 4] = [
    "available_before",
    "on_hold_before",
    "version_before",
    "overdraft_used_before",
];
/// The columns of the balance an operation row left after it, in the order of [`BEFORE`].
pub(super) const AFTER: [&str; 4] = [
    "available_after",
    "on_hold_after",
    "version_after",
    "overdraft_used_after",
];

/// The balance snapshot in `columns` ([`BEFORE`], [`AFTER`], or a balance row's own four
/// columns) of a row.
pub(super) fn snapshot(row: &Row<'_>, columns: [&str; 4]) -> rusqlite::Result<BalanceSnapshot> {
    let [available, on_hold, version, overdraft_used] = columns;
    Ok(BalanceSnapshot {
        available: amount(row, available)?,
        on_hold: amount(row, on_hold)?,
        version: row.get(version)?,
        overdraft_used: amount(row, overdraft_used)?,
    })
}

/// Creates or rewrites an operation (only description, metadata change after creation).
pub fn save_operation(conn: &Connection, o: &Operation) -> Result<()> {
    let (before, after) = (&o.balance, &o.balance_after);
    OPERATION.save(
        conn,
        params! {
            o.id, o.transaction_id, o.organization_id, o.ledger_id, o.description, o.kind,
            o.direction, o.asset_code, o.chart_of_accounts, canonical(o.amount.value),
            canonical(before.available), canonical(before.on_hold), before.version,
            canonical(after.available), canonical(after.on_hold), after.version,
            o.status.code, o.status.description, o.account_id, o.account_alias, o.balance_key,
            o.balance_id, o.balance_affected, o.route, o.routing.route_id, o.routing.route_code,
            o.routing.route_description, o.balance_direction, canonical(before.overdraft_used),
            canonical(after.overdraft_used)
        },
        &o.metadata,
        &o.stamps,
    )
}

/// Operations of a transaction in creation order.
pub fn operations_of(conn: &Connection, transaction_id: &TransactionId) -> Result<Vec<Operation>> {
    let sql = format!(
        "SELECT {} FROM operation WHERE transaction_id = ? ORDER BY id",
        OPERATION.columns
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map([transaction_id], operation_from)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The operation `id` of the ledger, optionally required to belong to an account or transaction.
pub fn get_operation(
    conn: &Connection,
    keys: &[(&'static str, &str)],
    id: &OperationId,
) -> Result<Operation> {
    super::query::get(conn, &OPERATION.scope(keys), id.as_str(), operation_from)?
        .ok_or_else(|| Error::new(Kind::OperationIdNotFound).with_entity("Operation"))
}

/// The state of a balance after the last operation at or before `at`, if any.
///
/// Walks the account's operations backwards from the UUIDv7 id ceiling of `at`: an operation's
/// id is minted just after its `created_at`, in the order the writer applies operations, so
/// the first match is the last one applied by then.
pub fn snapshot_at(
    conn: &Connection,
    account_id: &AccountId,
    balance_id: &BalanceId,
    at: &str,
) -> Result<Option<BalanceSnapshot>> {
    let sql = "SELECT available_after, on_hold_after, version_after, overdraft_used_after \
               FROM operation INDEXED BY operation_account \
               WHERE account_id = ?1 AND id < ?2 AND balance_id = ?3 AND balance_affected = 1 \
               AND created_at <= ?4 ORDER BY id DESC LIMIT 1";
    let ceiling = uuid_v7_ceiling(at, ID_MINT_SLACK_MS);
    Ok(conn
        .prepare_cached(sql)?
        .query_row((account_id, ceiling, balance_id, at), |row| {
            snapshot(row, AFTER)
        })
        .optional()?)
}

// ---- balances as postings see them ----------------------------------------------------------

/// The live balance `alias#key` of the ledger.
pub fn balance_by_alias(
    conn: &Connection,
    ledger_id: &LedgerId,
    alias: &str,
    key: &str,
) -> Result<Option<Balance>> {
    let sql = format!(
        "SELECT {} FROM balance WHERE ledger_id = ? AND alias = ? AND key = ? AND deleted_at IS NULL",
        BALANCE.columns
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row((ledger_id, alias, key), balance_from)
        .optional()?)
}

/// Writes new amounts, overdraft and version of a balance.
pub fn update_balance_amounts(conn: &Connection, b: &Balance) -> Result<()> {
    let changed = conn
        .prepare_cached("UPDATE balance SET available = ?, on_hold = ?, overdraft_used = ?, version = ?, updated_at = ? WHERE id = ?")?
        .execute((canonical(b.available), canonical(b.on_hold), canonical(b.overdraft_used), b.version, &b.stamps.updated_at, &b.id))?;
    if changed == 1 {
        Ok(())
    } else {
        Err(Error::internal(format!("balance {} vanished", b.id)))
    }
}

// ---- idempotency ---------------------------------------------------------------------------

/// What a live idempotency key answers: the transaction its request created, and that
/// request's response in full once the transaction changed since (`None` while it is as
/// created, when the response is rendered from the journal).
pub struct IdempotencyRecord {
    pub transaction_id: TransactionId,
    pub response: Option<String>,
}

/// The record of `key` in the ledger, unless it expired.
pub fn idempotency_record(
    conn: &Connection,
    ledger_id: &LedgerId,
    key: &str,
    now_ms: i64,
) -> Result<Option<IdempotencyRecord>> {
    let sql = "SELECT transaction_id, response FROM idempotency_record \
               WHERE ledger_id = ? AND key = ? AND expires_at_ms > ?";
    Ok(conn
        .prepare_cached(sql)?
        .query_row((ledger_id, key, now_ms), |row| {
            Ok(IdempotencyRecord {
                transaction_id: row.get(0)?,
                response: row.get(1)?,
            })
        })
        .optional()?)
}

/// Expired records deleted by each save, so the table holds about the live keys only.
pub const IDEMPOTENCY_EXPIRED_REAPED_PER_SAVE: i64 = 2;

/// Records that `key` created `transaction_id` (replacing an expired record), marks the
/// transaction with its key, and reaps a few expired records.
pub fn save_idempotency_record(
    conn: &Connection,
    ledger_id: &LedgerId,
    key: &str,
    transaction_id: &TransactionId,
    now_ms: i64,
    expires_at_ms: i64,
) -> Result<()> {
    // The limit is part of the text: a bound LIMIT makes SQLite re-prepare the statement on
    // every run.
    conn.prepare_cached(&format!(
        "DELETE FROM idempotency_record WHERE (ledger_id, key) IN (SELECT ledger_id, key \
         FROM idempotency_record WHERE expires_at_ms <= ? ORDER BY expires_at_ms \
         LIMIT {IDEMPOTENCY_EXPIRED_REAPED_PER_SAVE})"
    ))?
    .execute([now_ms])?;
    conn.prepare_cached(
        "INSERT INTO idempotency_record (ledger_id, key, transaction_id, response, expires_at_ms) \
         VALUES (?, ?, ?, NULL, ?) ON CONFLICT(ledger_id, key) DO UPDATE SET \
         transaction_id = excluded.transaction_id, response = NULL, \
         expires_at_ms = excluded.expires_at_ms",
    )?
    .execute((ledger_id, key, transaction_id, expires_at_ms))?;
    conn.prepare_cached("UPDATE ledger_transaction SET idempotency_key = ? WHERE id = ?")?
        .execute((key, transaction_id))?;
    Ok(())
}

/// The live key whose replay still renders `transaction_id` from the journal, if any.
pub fn unfrozen_idempotency_key(
    conn: &Connection,
    transaction_id: &TransactionId,
    now_ms: i64,
) -> Result<Option<String>> {
    let sql = "SELECT r.key FROM ledger_transaction t JOIN idempotency_record r \
               ON r.ledger_id = t.ledger_id AND r.key = t.idempotency_key \
               WHERE t.id = ?1 AND r.transaction_id = ?1 AND r.response IS NULL \
               AND r.expires_at_ms > ?2";
    Ok(conn
        .prepare_cached(sql)?
        .query_row((transaction_id, now_ms), |row| row.get(0))
        .optional()?)
}

/// Stores the response `key` answers from now on.
pub fn freeze_idempotent_response(
    conn: &Connection,
    ledger_id: &LedgerId,
    key: &str,
    response: &str,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE idempotency_record SET response = ? WHERE ledger_id = ? AND key = ?",
    )?
    .execute((response, ledger_id, key))?;
    Ok(())
}
