//! The per-tenant hash chain over the journal, and the audit that recomputes it.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, OptionalExtension};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::query::amount;
use crate::error::Result;

/// The `previous` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Problems an audit lists before it stops looking.
pub const AUDIT_PROBLEMS_MAX: usize = 20;

/// The canonical encoding of one change: the transaction's identity and amount and every
/// operation of the change with its balance snapshots, as JSON with sorted keys, read from the
/// stored rows so that writing and auditing encode the same thing.
fn canonical(
    conn: &Connection,
    transaction_id: &str,
    event: &str,
    operation_ids: &[String],
) -> Result<String> {
    let transaction = conn
        .prepare_cached(
            "SELECT id, parent_transaction_id, amount, asset_code, created_at FROM ledger_transaction WHERE id = ?",
        )?
        .query_row([transaction_id], |r| {
            Ok(json!({
                "id": r.get::<_, String>(0)?,
                "parent": r.get::<_, Option<String>>(1)?,
                "amount": r.get::<_, String>(2)?,
                "asset": r.get::<_, String>(3)?,
                "createdAt": r.get::<_, String>(4)?,
            }))
        })
        .optional()?
        .unwrap_or(Value::Null);
    let mut operations = Vec::with_capacity(operation_ids.len());
    let mut statement = conn.prepare_cached(
        "SELECT id, transaction_id, balance_id, account_id, type, amount, available_before, \
         on_hold_before, version_before, available_after, on_hold_after, version_after, \
         balance_affected FROM operation WHERE id = ?",
    )?;
    for id in operation_ids {
        let operation = statement
            .query_row([id], |r| {
                Ok(json!({
                    "id": r.get::<_, String>(0)?, "transaction": r.get::<_, String>(1)?,
                    "balance": r.get::<_, String>(2)?, "account": r.get::<_, String>(3)?,
                    "type": r.get::<_, String>(4)?, "amount": r.get::<_, String>(5)?,
                    "before": [r.get::<_, String>(6)?, r.get::<_, String>(7)?, r.get::<_, i64>(8)?],
                    "after": [r.get::<_, String>(9)?, r.get::<_, String>(10)?, r.get::<_, i64>(11)?],
                    "affected": r.get::<_, bool>(12)?,
                }))
            })
            .optional()?
            .unwrap_or(Value::Null);
        operations.push(operation);
    }
    Ok(json!({"event": event, "transaction": transaction, "operations": operations}).to_string())
}

fn hash(previous: &str, canonical: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(previous.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical.as_bytes());
    format!("{:x}", hasher.finalize())
}

/// Appends the entry of a change (`create`, `commit`, `cancel`) of `transaction_id` whose
/// operations are `operation_ids`; call it in the same write, after the rows are saved.
pub fn append(
    conn: &Connection,
    transaction_id: &str,
    event: &str,
    operation_ids: &[String],
    at: &str,
) -> Result<()> {
    let previous: String = conn
        .prepare_cached("SELECT hash FROM chain ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| r.get(0))
        .optional()?
        .unwrap_or_else(|| GENESIS_HASH.to_owned());
    let entry_hash = hash(
        &previous,
        &canonical(conn, transaction_id, event, operation_ids)?,
    );
    conn.prepare_cached(
        "INSERT INTO chain (transaction_id, event, operations, previous, hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    )?
    .execute((transaction_id, event, serde_json::to_string(operation_ids)?, &previous, &entry_hash, at))?;
    Ok(())
}

/// What an audit of one tenant found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Audit {
    pub chain_entries: u64,
    pub operations: u64,
    pub balances: u64,
    /// The first problems found, most precise first, at most [`AUDIT_PROBLEMS_MAX`].
    pub problems: Vec<String>,
}

impl Audit {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, text: String) {
        if self.problems.len() < AUDIT_PROBLEMS_MAX {
            self.problems.push(text);
        }
    }
}

/// Recomputes the chain, every balance from its operations, and conservation per asset.
pub fn audit(conn: &Connection) -> Result<Audit> {
    let mut audit = Audit::default();
    audit_chain(conn, &mut audit)?;
    audit_balances(conn, &mut audit)?;
    Ok(audit)
}

fn audit_chain(conn: &Connection, audit: &mut Audit) -> Result<()> {
    let mut statement = conn.prepare(
        "SELECT seq, transaction_id, event, operations, previous, hash FROM chain ORDER BY seq",
    )?;
    let mut rows = statement.query([])?;
    let mut expected_previous = GENESIS_HASH.to_owned();
    let mut chained = std::collections::HashSet::new();
    while let Some(row) = rows.next()? {
        audit.chain_entries += 1;
        let (seq, transaction_id, event): (i64, String, String) =
            (row.get(0)?, row.get(1)?, row.get(2)?);
        let operation_ids: Vec<String> =
            serde_json::from_str(&row.get::<_, String>(3)?).unwrap_or_default();
        let (previous, stored): (String, String) = (row.get(4)?, row.get(5)?);
        if previous != expected_previous {
            audit.problem(format!(
                "chain entry {seq}: its previous hash does not match entry {}",
                seq - 1
            ));
        }
        let recomputed = hash(
            &previous,
            &canonical(conn, &transaction_id, &event, &operation_ids)?,
        );
        if recomputed != stored {
            audit.problem(format!(
                "chain entry {seq} ({event} of transaction {transaction_id}): the transaction or one of its \
                 operations {operation_ids:?} no longer matches what was committed"
            ));
        }
        chained.extend(operation_ids);
        expected_previous = stored;
    }
    if audit.chain_entries > 0 {
        let mut statement = conn.prepare("SELECT id FROM operation ORDER BY rowid")?;
        let ids = statement.query_map([], |r| r.get::<_, String>(0))?;
        for id in ids {
            let id = id?;
            audit.operations += 1;
            if !chained.contains(&id) {
                audit.problem(format!(
                    "operation {id} is not in the chain: it was not written by the ledger"
                ));
            }
        }
    }
    Ok(())
}

/// Available, on hold and version of a balance.
type BalanceState = (Decimal, Decimal, i64);
/// What a balance holds before its first operation.
const BALANCE_OPENED: BalanceState = (Decimal::ZERO, Decimal::ZERO, 1);

fn audit_balances(conn: &Connection, audit: &mut Audit) -> Result<()> {
    // One pass over every operation in the order they were written, replaying each balance.
    let mut replayed: HashMap<String, BalanceState> = HashMap::new();
    let mut operations = conn.prepare(
        "SELECT id, balance_id, type, amount, available_before, on_hold_before, version_before, \
         available_after, on_hold_after, version_after FROM operation WHERE balance_affected = 1 \
         ORDER BY rowid",
    )?;
    let mut ops = operations.query([])?;
    while let Some(op) = ops.next()? {
        let (op_id, id, kind): (String, String, String) = (op.get(0)?, op.get(1)?, op.get(2)?);
        let value = amount(op, "amount")?;
        let before = (
            amount(op, "available_before")?,
            amount(op, "on_hold_before")?,
            op.get::<_, i64>(6)?,
        );
        let after = (
            amount(op, "available_after")?,
            amount(op, "on_hold_after")?,
            op.get::<_, i64>(9)?,
        );
        let state = replayed.entry(id.clone()).or_insert(BALANCE_OPENED);
        if before != *state {
            audit.problem(format!("balance {id}: operation {op_id} starts from {before:?}, the operations before it end at {state:?}"));
        }
        let delta = (after.0 - before.0, after.1 - before.1);
        let consistent = match kind.as_str() {
            "CREDIT" => delta == (value, Decimal::ZERO),
            "DEBIT" => delta == (-value, Decimal::ZERO) || delta == (Decimal::ZERO, -value),
            "ON_HOLD" => delta == (-value, value),
            "RELEASE" => delta == (value, -value),
            _ => false,
        };
        if !consistent || after.2 != before.2 + 1 {
            audit.problem(format!(
                "balance {id}: operation {op_id} ({kind} {value}) does not move it by its amount"
            ));
        }
        *state = after;
    }
    let mut totals: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut balances = conn.prepare(
        "SELECT id, asset_code, available, on_hold, version FROM balance ORDER BY rowid",
    )?;
    let mut rows = balances.query([])?;
    while let Some(row) = rows.next()? {
        audit.balances += 1;
        let (id, asset): (String, String) = (row.get(0)?, row.get(1)?);
        let stored = (
            amount(row, "available")?,
            amount(row, "on_hold")?,
            row.get::<_, i64>(4)?,
        );
        let state = replayed.remove(&id).unwrap_or(BALANCE_OPENED);
        if state != stored {
            audit.problem(format!(
                "balance {id}: stored available {} onHold {} version {}, its operations give {} / {} / {}",
                stored.0, stored.1, stored.2, state.0, state.1, state.2
            ));
        }
        let total = totals.entry(asset).or_default();
        *total = total
            .checked_add(stored.0)
            .and_then(|t| t.checked_add(stored.1))
            .unwrap_or(Decimal::MAX);
    }
    for id in replayed.keys() {
        audit.problem(format!(
            "operations move balance {id}, which does not exist"
        ));
    }
    for (asset, total) in totals {
        if !total.is_zero() {
            audit.problem(format!(
                "asset {asset} is not conserved: its balances add up to {total}, not 0"
            ));
        }
    }
    Ok(())
}
