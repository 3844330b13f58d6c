//! The per-tenant hash chain over the journal, and the audit that recomputes it.

use std::collections::{BTreeMap, HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension};
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::query::{amount, decode_json};
use super::transactions::{AFTER, BEFORE, snapshot as snapshot_at};
use crate::domain::audit::Audit;
use crate::domain::entities::{
    ACCOUNT_TYPE_EXTERNAL, Address, LedgerSettings, OVERDRAFT_BALANCE_KEY,
};
use crate::domain::journal::{
    BalanceSnapshot, Direction, Operation, OperationType, Transaction, TransactionStatus,
};
use crate::domain::metadata::Metadata;
use crate::domain::money;
use crate::domain::transaction::{Postings, Recorded, Replayed, position, redirected, replay};
use crate::error::Result;

/// The `previous` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What the chain commits to of a transaction. Fields are declared in key order: a change is
/// encoded as JSON with sorted keys, the same since the first chain was written.
#[derive(Serialize)]
struct ChainedTransaction {
    amount: String,
    asset: String,
    #[serde(rename = "createdAt")]
    created_at: String,
    id: String,
    parent: Option<String>,
}

/// What the chain commits to of an operation: its identity, amount and balance snapshots
/// (available, on hold, version), in key order. Since schema 0007 also the direction of a
/// debit-direction balance and the overdraft owed before and after, each left out while it
/// has its old value (credit; 0 and 0) so that entries written before encode as they did.
#[derive(Serialize)]
struct ChainedOperation {
    account: String,
    affected: bool,
    after: (String, String, i64),
    amount: String,
    balance: String,
    #[serde(rename = "balanceDirection", skip_serializing_if = "Option::is_none")]
    balance_direction: Option<String>,
    before: (String, String, i64),
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    overdraft: Option<(String, String)>,
    transaction: String,
    #[serde(rename = "type")]
    kind: String,
}

/// One change (`create`, `commit`, `cancel`) of a transaction; a row that cannot be found is
/// encoded as `null`.
#[derive(Serialize)]
struct Change<'a> {
    event: &'a str,
    operations: Vec<Option<ChainedOperation>>,
    transaction: Option<ChainedTransaction>,
}

impl From<&Transaction> for ChainedTransaction {
    fn from(t: &Transaction) -> Self {
        Self {
            amount: money::canonical(t.amount),
            asset: t.asset_code.clone(),
            created_at: t.stamps.created_at.clone(),
            id: t.id.to_string(),
            parent: t.parent_transaction_id.as_ref().map(|p| p.to_string()),
        }
    }
}

fn snapshot(s: &BalanceSnapshot) -> (String, String, i64) {
    (
        money::canonical(s.available),
        money::canonical(s.on_hold),
        s.version,
    )
}

impl From<&Operation> for ChainedOperation {
    fn from(o: &Operation) -> Self {
        Self {
            account: o.account_id.to_string(),
            affected: o.balance_affected,
            after: snapshot(&o.balance_after),
            amount: money::canonical(o.amount.value),
            balance: o.balance_id.to_string(),
            balance_direction: chained_direction(o.balance_direction.as_str()),
            before: snapshot(&o.balance),
            id: o.id.to_string(),
            overdraft: chained_overdraft(
                money::canonical(o.balance.overdraft_used),
                money::canonical(o.balance_after.overdraft_used),
            ),
            transaction: o.transaction_id.to_string(),
            kind: o.kind.as_str().to_owned(),
        }
    }
}

fn chained_direction(direction: &str) -> Option<String> {
    (direction != Direction::Credit.as_str()).then(|| direction.to_owned())
}

fn chained_overdraft(before: String, after: String) -> Option<(String, String)> {
    (before != "0" || after != "0").then_some((before, after))
}

/// The canonical encoding of one change as stored: the rows of the transaction and of the
/// operations `operation_ids`, read back. What the audit recomputes.
fn canonical(
    conn: &Connection,
    transaction_id: &str,
    event: &str,
    operation_ids: &[impl AsRef<str>],
) -> Result<String> {
    let transaction = conn
        .prepare_cached(
            "SELECT id, parent_transaction_id, amount, asset_code, created_at FROM ledger_transaction WHERE id = ?",
        )?
        .query_row([transaction_id], |r| {
            Ok(ChainedTransaction {
                id: r.get(0)?,
                parent: r.get(1)?,
                amount: r.get(2)?,
                asset: r.get(3)?,
                created_at: r.get(4)?,
            })
        })
        .optional()?;
    let mut operations = Vec::with_capacity(operation_ids.len());
    let mut statement = conn.prepare_cached(
        "SELECT id, transaction_id, balance_id, account_id, type, amount, available_before, \
         on_hold_before, version_before, available_after, on_hold_after, version_after, \
         balance_affected, balance_direction, overdraft_used_before, overdraft_used_after \
         FROM operation WHERE id = ?",
    )?;
    for id in operation_ids {
        let operation = statement
            .query_row([id.as_ref()], |r| {
                Ok(ChainedOperation {
                    id: r.get(0)?,
                    transaction: r.get(1)?,
                    balance: r.get(2)?,
                    account: r.get(3)?,
                    kind: r.get(4)?,
                    amount: r.get(5)?,
                    before: (r.get(6)?, r.get(7)?, r.get(8)?),
                    after: (r.get(9)?, r.get(10)?, r.get(11)?),
                    affected: r.get(12)?,
                    balance_direction: chained_direction(&r.get::<_, String>(13)?),
                    overdraft: chained_overdraft(r.get(14)?, r.get(15)?),
                })
            })
            .optional()?;
        operations.push(operation);
    }
    let change = Change {
        event,
        operations,
        transaction,
    };
    Ok(serde_json::to_string(&change)?)
}

fn hash(previous: &str, canonical: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(previous.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical.as_bytes());
    format!("{:x}", hasher.finalize())
}

/// Appends the entry of a change (`create`, `commit`, `cancel`) of `transaction` whose
/// operations are `operations`; call it in the same write, after their rows are saved. The
/// entry is encoded from the values just written, which the rows hold as canonical text.
pub fn append(
    conn: &Connection,
    transaction: &Transaction,
    event: &str,
    operations: &[Operation],
    at: &str,
) -> Result<()> {
    let previous: String = conn
        .prepare_cached("SELECT hash FROM chain ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| r.get(0))
        .optional()?
        .unwrap_or_else(|| GENESIS_HASH.to_owned());
    let change = Change {
        event,
        operations: operations.iter().map(|o| Some(o.into())).collect(),
        transaction: Some(transaction.into()),
    };
    let encoded = serde_json::to_string(&change)?;
    let operation_ids: Vec<&str> = operations.iter().map(|o| o.id.as_str()).collect();
    // Every write of every test checks that the audit will encode the rows the same way.
    debug_assert_eq!(
        canonical(conn, transaction.id.as_str(), event, &operation_ids).ok(),
        Some(encoded.clone())
    );
    conn.prepare_cached(
        "INSERT INTO chain (transaction_id, event, operations, previous, hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    )?
    .execute((
        transaction.id.as_str(),
        event,
        serde_json::to_string(&operation_ids)?,
        &previous,
        hash(&previous, &encoded),
        at,
    ))?;
    Ok(())
}

/// Recomputes the chain, every balance from its operations, and conservation per asset.
pub fn audit(conn: &Connection) -> Result<Audit> {
    let mut audit = Audit::default();
    audit_chain(conn, &mut audit)?;
    audit_balances(conn, &mut audit)?;
    audit_decoded_columns(conn, &mut audit)?;
    Ok(audit)
}

/// Why stored JSON text does not decode as `T`, if it does not: with the decoder reads use.
fn undecodable<T: serde::de::DeserializeOwned>(text: &str) -> Option<String> {
    decode_json::<T>(text).err().map(|error| error.to_string())
}

/// Why a stored code is not one of `C`'s, if it is not.
fn uncoded<C>(text: &str, parse: fn(&str) -> Option<C>) -> Option<String> {
    match parse(text) {
        Some(_) => None,
        None => Some(format!("unknown code {text:?}")),
    }
}

/// Checks that stored text decodes as the type its reads decode it as.
type ColumnCheck = fn(&str) -> Option<String>;

/// Every column whose text reads decode (JSON, or a code of an enum), with its check.
const DECODED_COLUMNS: &[(&str, &str, ColumnCheck)] = &[
    ("organization", "address", undecodable::<Address>),
    ("organization", "metadata", undecodable::<Metadata>),
    ("ledger", "settings", undecodable::<LedgerSettings>),
    ("ledger", "metadata", undecodable::<Metadata>),
    ("asset", "metadata", undecodable::<Metadata>),
    ("portfolio", "metadata", undecodable::<Metadata>),
    ("segment", "metadata", undecodable::<Metadata>),
    ("account_type", "metadata", undecodable::<Metadata>),
    ("account", "metadata", undecodable::<Metadata>),
    ("ledger_transaction", "source", undecodable::<Vec<String>>),
    (
        "ledger_transaction",
        "destination",
        undecodable::<Vec<String>>,
    ),
    ("ledger_transaction", "postings", undecodable::<Postings>),
    ("ledger_transaction", "metadata", undecodable::<Metadata>),
    ("operation", "metadata", undecodable::<Metadata>),
    ("asset_rate", "metadata", undecodable::<Metadata>),
    ("ledger_transaction", "status_code", |t| {
        uncoded(t, TransactionStatus::parse)
    }),
    ("operation", "status_code", |t| {
        uncoded(t, TransactionStatus::parse)
    }),
    ("operation", "type", |t| uncoded(t, OperationType::parse)),
    ("operation", "direction", |t| uncoded(t, Direction::parse)),
];

/// Names every row whose decoded column a read would fail on (reads never default it away).
fn audit_decoded_columns(conn: &Connection, audit: &mut Audit) -> Result<()> {
    for (table, column, check) in DECODED_COLUMNS {
        let mut statement = conn.prepare(&format!(
            "SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL ORDER BY rowid"
        ))?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let (id, text): (String, String) = (row.get(0)?, row.get(1)?);
            if let Some(error) = check(&text) {
                audit.problem(format!(
                    "{table} {id}: column {column} does not decode ({error})"
                ));
            }
        }
    }
    Ok(())
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
        let operation_ids: Vec<String> = match decode_json(&row.get::<_, String>(3)?) {
            Ok(ids) => ids,
            Err(error) => {
                audit.problem(format!(
                    "chain entry {seq}: its list of operations is not valid JSON ({error})"
                ));
                Vec::new()
            }
        };
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

fn audit_balances(conn: &Connection, audit: &mut Audit) -> Result<()> {
    let external = external_balances(conn)?;
    let replayed = replay_operations(conn, audit, &external)?;
    audit_stored_balances(conn, audit, &external, replayed)
}

/// A balance as the replay of its operations leaves it: its state and the direction the
/// last operation saw it with.
#[derive(Clone)]
struct Replaying {
    state: BalanceSnapshot,
    direction: Direction,
}

impl Replaying {
    /// A balance no operation has moved yet.
    fn opened(direction: Direction) -> Self {
        Self {
            state: BalanceSnapshot::OPENED,
            direction,
        }
    }
}

/// The ids of the external balances: the only ones whose direction may have changed.
fn external_balances(conn: &Connection) -> Result<HashSet<String>> {
    let mut statement = conn.prepare("SELECT id FROM balance WHERE account_type = ?")?;
    let ids = statement.query_map([ACCOUNT_TYPE_EXTERNAL], |r| r.get(0))?;
    Ok(ids.collect::<rusqlite::Result<_>>()?)
}

/// `state` seen in `direction`: itself, or turned as migration 0007 turned external balances.
fn seen_in(replaying: &Replaying, direction: Direction, external: bool) -> Option<BalanceSnapshot> {
    if replaying.direction == direction {
        Some(replaying.state.clone())
    } else {
        redirected(&replaying.state, replaying.direction, direction, external)
    }
}

/// One pass over every operation in the order they were written, replaying each balance with
/// the domain's effect table; returns the state each balance's operations leave it in.
fn replay_operations(
    conn: &Connection,
    audit: &mut Audit,
    external: &HashSet<String>,
) -> Result<HashMap<String, Replaying>> {
    let mut replayed: HashMap<String, Replaying> = HashMap::new();
    let mut operations = conn.prepare(
        "SELECT id, balance_id, type, direction, balance_direction, amount, available_before, \
         on_hold_before, version_before, overdraft_used_before, available_after, on_hold_after, \
         version_after, overdraft_used_after FROM operation WHERE balance_affected = 1 \
         ORDER BY rowid",
    )?;
    let mut ops = operations.query([])?;
    while let Some(op) = ops.next()? {
        let (op_id, id, kind): (String, String, String) = (op.get(0)?, op.get(1)?, op.get(2)?);
        let direction = Direction::parse(&op.get::<_, String>(3)?);
        let balance_direction = Direction::parse(&op.get::<_, String>(4)?);
        let value = amount(op, "amount")?;
        let before = snapshot_at(op, BEFORE)?;
        let after = snapshot_at(op, AFTER)?;
        let replaying = replayed
            .entry(id.clone())
            .or_insert_with(|| Replaying::opened(balance_direction.unwrap_or(Direction::Credit)));
        let expected =
            balance_direction.and_then(|d| seen_in(replaying, d, external.contains(&id)));
        if expected.as_ref() != Some(&before) {
            audit.problem(format!(
                "balance {id}: operation {op_id} starts from {}, the operations before it end at {}",
                shown(&before),
                shown(&replaying.state)
            ));
        }
        let outcome = match (OperationType::parse(&kind), direction, balance_direction) {
            (Some(kind), Some(direction), Some(balance_direction)) => replay(Recorded {
                kind,
                direction,
                balance_direction,
                external: external.contains(&id),
                value,
                before: &before,
                after: &after,
            }),
            _ => Replayed::Inconsistent,
        };
        let moved = format!("balance {id}: operation {op_id} ({kind} {value})");
        match outcome {
            Replayed::Consistent => {}
            Replayed::Inconsistent => {
                audit.problem(format!("{moved} does not move it by its amount"))
            }
            Replayed::Overflow => {
                audit.problem(format!("{moved} overflows the balance it starts from"));
            }
        }
        replaying.state = after;
        replaying.direction = balance_direction.unwrap_or(replaying.direction);
    }
    Ok(replayed)
}

/// Each stored balance against the state its operations leave it in; each account's internal
/// overdraft balance against what its balances owe; and conservation: for each asset, the
/// credit-direction balances hold what the debit-direction ones gave (see [`position`]).
fn audit_stored_balances(
    conn: &Connection,
    audit: &mut Audit,
    external: &HashSet<String>,
    mut replayed: HashMap<String, Replaying>,
) -> Result<()> {
    let mut totals: BTreeMap<String, Option<Decimal>> = BTreeMap::new();
    // Per account: Σ overdraft used of its balances, and its overdraft balance's available.
    let mut owed: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
    let mut balances = conn.prepare(
        "SELECT id, account_id, asset_code, key, direction, available, on_hold, version, \
         overdraft_used FROM balance ORDER BY rowid",
    )?;
    let mut rows = balances.query([])?;
    while let Some(row) = rows.next()? {
        audit.balances += 1;
        let (id, account, asset, key): (String, String, String, String) =
            (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
        let Some(direction) = Direction::parse(&row.get::<_, String>(4)?) else {
            audit.problem(format!("balance {id}: unknown direction"));
            continue;
        };
        let stored = snapshot_at(row, ["available", "on_hold", "version", "overdraft_used"])?;
        let replaying = replayed
            .remove(&id)
            .unwrap_or_else(|| Replaying::opened(direction));
        let state = seen_in(&replaying, direction, external.contains(&id));
        if state.as_ref() != Some(&stored) {
            audit.problem(format!(
                "balance {id}: stored {}, its operations give {}",
                shown(&stored),
                shown(&replaying.state)
            ));
        }
        let entry = owed.entry(account).or_default();
        if key == OVERDRAFT_BALANCE_KEY {
            entry.1 = stored.available;
        } else {
            entry.0 = entry
                .0
                .checked_add(stored.overdraft_used)
                .unwrap_or(Decimal::MAX);
        }
        let sum = totals.entry(asset).or_insert(Some(Decimal::ZERO));
        *sum = sum.and_then(|sum| position(direction, &stored).and_then(|t| sum.checked_add(t)));
    }
    for id in replayed.keys() {
        audit.problem(format!(
            "operations move balance {id}, which does not exist"
        ));
    }
    report_owed_and_totals(audit, owed, totals);
    Ok(())
}

/// The findings of [`audit_stored_balances`]' sums: each account's overdraft balance against
/// what its balances owe (`owed`: used, mirrored), and each asset's signed total (`None` when
/// it overflowed) against zero.
fn report_owed_and_totals(
    audit: &mut Audit,
    owed: BTreeMap<String, (Decimal, Decimal)>,
    totals: BTreeMap<String, Option<Decimal>>,
) {
    for (account, (used, mirrored)) in owed {
        if used != mirrored {
            audit.problem(format!(
                "account {account}: its balances owe {used} of overdraft, its overdraft balance holds {mirrored}"
            ));
        }
    }
    for (asset, total) in totals {
        match total {
            Some(total) if total.is_zero() => {}
            Some(total) => audit.problem(format!(
                "asset {asset} is not conserved: its credit-direction balances less its \
                 debit-direction ones come to {total}, not 0"
            )),
            None => audit.problem(format!(
                "asset {asset} is not conserved: its balances add up to more than an amount can hold"
            )),
        }
    }
}

/// A balance state as the audit's findings show it.
fn shown(s: &BalanceSnapshot) -> String {
    format!(
        "available {} onHold {} version {} overdraftUsed {}",
        s.available, s.on_hold, s.version, s.overdraft_used
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chains already on disk were hashed over this exact text: the encoding may not change.
    #[test]
    fn the_canonical_encoding_of_a_change_is_fixed() -> Result<()> {
        let mut conn = Connection::open_in_memory()?;
        super::super::schema::migrate(&mut conn)?;
        conn.execute_batch(
            "PRAGMA foreign_keys = OFF; \
             INSERT INTO ledger_transaction (id, organization_id, ledger_id, parent_transaction_id, \
             status_code, amount, asset_code, source, destination, postings, created_at, updated_at) \
             VALUES ('t-1', 'o-1', 'l-1', 't-0', 'APPROVED', '12.5', 'USD', '[]', '[]', '{}', \
             '2026-01-02T03:04:05.000006Z', '2026-01-02T03:04:05.000006Z'); \
             INSERT INTO operation (id, transaction_id, organization_id, ledger_id, type, direction, \
             asset_code, amount, available_before, on_hold_before, version_before, available_after, \
             on_hold_after, version_after, status_code, account_id, account_alias, balance_key, \
             balance_id, balance_affected, created_at, updated_at) VALUES \
             ('op-1', 't-1', 'o-1', 'l-1', 'DEBIT', 'debit', 'USD', '12.5', '100', '0', 2, '87.5', \
             '0', 3, 'APPROVED', 'a-1', '@a', 'default', 'b-1', 1, 'x', 'x'), \
             ('op-2', 't-1', 'o-1', 'l-1', 'CREDIT', 'credit', 'USD', '12.5', '0', '0', 1, '12.5', \
             '0', 2, 'APPROVED', 'a-2', '@b', 'default', 'b-2', 0, 'x', 'x');",
        )?;
        let ids = ["op-1".to_owned(), "op-2".to_owned()];
        let expected = r#"{"event":"create","operations":[{"account":"a-1","affected":true,"after":["87.5","0",3],"amount":"12.5","balance":"b-1","before":["100","0",2],"id":"op-1","transaction":"t-1","type":"DEBIT"},{"account":"a-2","affected":false,"after":["12.5","0",2],"amount":"12.5","balance":"b-2","before":["0","0",1],"id":"op-2","transaction":"t-1","type":"CREDIT"}],"transaction":{"amount":"12.5","asset":"USD","createdAt":"2026-01-02T03:04:05.000006Z","id":"t-1","parent":"t-0"}}"#;
        assert_eq!(canonical(&conn, "t-1", "create", &ids)?, expected);
        Ok(())
    }
}
