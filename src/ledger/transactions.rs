//! Posting transactions: create (immediate, pending, annotation), commit, cancel, revert.
//!
//! Every use case runs as one command of the tenant's writer: the balances it reads are the
//! ones it writes, all legs, operations and balance updates land in one savepoint, and a
//! rejected transaction leaves nothing behind, not even a `version` bump.

use super::Run;
use super::Tenant;
use rusqlite::Connection;
use rust_decimal::Decimal;

use super::{ensure_parent, new_id};
use std::collections::HashMap;
use std::collections::hash_map::Entry;

use crate::domain::entities::{Balance, OVERDRAFT_BALANCE_KEY, Stamps};
use crate::domain::ids::{LedgerId, OperationId, OrganizationId, TransactionId};
use crate::domain::journal::{
    BalanceSnapshot, Direction, JournalStatus, Operation, OperationAmount, OperationRouting,
    OperationType, Transaction, TransactionStatus,
};
use crate::domain::metadata::{Metadata, Patch as MetadataPatch};
use crate::domain::query::{CursorPage, ListQuery};
use crate::domain::scope::Parent;
use crate::domain::time::now;
pub use crate::domain::transaction::Mode;
use crate::domain::transaction::{
    Leg, Overdraft, Posting, Postings, SidePlan, check_balances, check_receiving, post, resolve,
    reversal, settlement, snapshot_of,
};
use crate::error::{Error, Kind, Result};
use crate::store::writer::failed_after_writing;
use crate::store::{chain, transactions as sql};

use super::routing;
use crate::domain::routing::Action;

/// Idempotency TTL when the request gives none, in seconds.
pub const IDEMPOTENCY_TTL_DEFAULT_SECONDS: u64 = 300;
/// Longest idempotency TTL accepted, in seconds (30 days).
pub const IDEMPOTENCY_TTL_MAX_SECONDS: u64 = 30 * 24 * 3600;

pub struct NewTransaction {
    pub mode: Mode,
    pub description: Option<String>,
    pub chart_of_accounts_group_name: Option<String>,
    pub route: Option<String>,
    /// The transaction route (`routeId`).
    pub route_id: Option<String>,
    pub metadata: Metadata,
    pub asset: String,
    pub value: Decimal,
    pub from: Vec<Leg>,
    pub to: Vec<Leg>,
}

/// The idempotency key of a create and how long its response is replayed.
pub struct Idempotency {
    pub key: String,
    pub ttl_seconds: u64,
}

/// What a create answers (201).
pub enum Created {
    /// The transaction this call created; serialized by the caller, off the writer thread.
    New(Box<Transaction>),
    /// The body an earlier call with the same idempotency key answered.
    Replayed(String),
}

impl Created {
    pub fn replayed(&self) -> bool {
        matches!(self, Created::Replayed(_))
    }

    /// The body as JSON text.
    pub fn into_json(self) -> Result<String> {
        match self {
            Created::New(transaction) => Ok(serde_json::to_string(&transaction)?),
            Created::Replayed(body) => Ok(body),
        }
    }

    /// The body as a JSON value.
    pub fn into_value(self) -> Result<serde_json::Value> {
        match self {
            Created::New(transaction) => Ok(serde_json::to_value(&transaction)?),
            Created::Replayed(body) => Ok(serde_json::from_str(&body)?),
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Creates a transaction, or replays the response stored under its idempotency key.
pub async fn create(
    tenant: &Tenant,
    parent: Parent,
    new: NewTransaction,
    idempotency: Idempotency,
) -> Result<Created> {
    once(tenant, parent, Some(idempotency), move |conn, parent| {
        post_new(conn, parent, new, None)
    })
    .await
}

/// Runs `post` as one write and answers its transaction, at most once per idempotency key:
/// while the key is claimed by another request the answer is 0084, within its TTL the stored
/// response is replayed, and a failure leaves the key unused.
async fn once<F>(
    tenant: &Tenant,
    parent: Parent,
    idempotency: Option<Idempotency>,
    post: F,
) -> Result<Created>
where
    F: FnOnce(&Connection, &Parent) -> Result<Transaction> + Send + 'static,
{
    let (_, ledger_id) = ledger_of(&parent)?;
    let _claim = match &idempotency {
        Some(idempotency) => Some(
            tenant
                .store()
                .claim(format!("{ledger_id}/{}", idempotency.key))
                .ok_or_else(|| Error::new(Kind::IdempotencyKey))?,
        ),
        None => None,
    };
    // Creates and reverts check everything before their first write.
    tenant
        .writer()
        .write_prechecked(move |conn| {
            ensure_parent(conn, &parent)?;
            once_in(conn, &parent, &ledger_id, idempotency.as_ref(), post)
        })
        .await
}

/// The body of [`once`] inside a write: replay the stored response, or post and store it.
fn once_in<F>(
    conn: &Connection,
    parent: &Parent,
    ledger_id: &LedgerId,
    idempotency: Option<&Idempotency>,
    post: F,
) -> Result<Created>
where
    F: FnOnce(&Connection, &Parent) -> Result<Transaction>,
{
    if let Some(idempotency) = idempotency
        && let Some(record) = sql::idempotency_record(conn, ledger_id, &idempotency.key, now_ms())?
    {
        let body = match record.response {
            Some(body) => body,
            None => created_body(conn, ledger_id, &record.transaction_id)?,
        };
        return Ok(Created::Replayed(body));
    }
    let transaction = post(conn, parent)?;
    if let Some(idempotency) = idempotency {
        let ttl_ms =
            i64::try_from(idempotency.ttl_seconds.saturating_mul(1000)).unwrap_or(i64::MAX);
        let now = now_ms();
        sql::save_idempotency_record(
            conn,
            ledger_id,
            &idempotency.key,
            &transaction.id,
            now,
            now.saturating_add(ttl_ms),
        )?;
        // Every create of every test checks that a replay would answer this very body.
        debug_assert_eq!(
            created_body(conn, ledger_id, &transaction.id).ok(),
            serde_json::to_string(&transaction).ok()
        );
    }
    Ok(Created::New(Box::new(transaction)))
}

/// The body the create of `transaction_id` answered, rendered from the journal: the
/// transaction as stored, with the status the create answered. Exact while neither the
/// transaction nor its operations changed, which [`freeze_replay`] sees to.
fn created_body(
    conn: &Connection,
    ledger_id: &LedgerId,
    transaction_id: &TransactionId,
) -> Result<String> {
    let mut transaction = sql::get_transaction(conn, ledger_id, transaction_id)?.transaction;
    transaction.status = JournalStatus::new(transaction.status.code.answered());
    Ok(serde_json::to_string(&transaction)?)
}

/// Call before `transaction_id` or one of its operations changes: if a live idempotency key
/// still renders its create's response from the journal, that response is stored in full
/// first, so replays keep answering the first body.
fn freeze_replay(
    conn: &Connection,
    ledger_id: &LedgerId,
    transaction_id: &TransactionId,
) -> Result<()> {
    if let Some(key) = sql::unfrozen_idempotency_key(conn, transaction_id, now_ms())? {
        let body = created_body(conn, ledger_id, transaction_id)?;
        sql::freeze_idempotent_response(conn, ledger_id, &key, &body)?;
    }
    Ok(())
}

/// Transactions accepted by one batch request.
pub const BATCH_TRANSACTIONS_MAX: usize = 1000;

/// One transaction of a batch, with its idempotency key.
pub struct BatchItem {
    pub new: NewTransaction,
    pub idempotency: Idempotency,
}

/// Creates many transactions in one write. Items that could not be parsed arrive as their
/// error and keep their place. With `atomic`, the first failing item fails the whole batch
/// (its error names the item's `index`) and nothing is written; otherwise each item is
/// answered on its own (a rejected item writes nothing).
pub async fn create_batch(
    tenant: &Tenant,
    parent: Parent,
    items: Vec<Result<BatchItem>>,
    atomic: bool,
) -> Result<Vec<Result<Created>>> {
    let (_, ledger_id) = ledger_of(&parent)?;
    let mut claims = Vec::with_capacity(items.len());
    let items: Vec<Result<BatchItem>> = items
        .into_iter()
        .map(|item| {
            let item = item?;
            let claim = tenant
                .store()
                .claim(format!("{ledger_id}/{}", item.idempotency.key))
                .ok_or_else(|| Error::new(Kind::IdempotencyKey))?;
            claims.push(claim);
            Ok(item)
        })
        .collect();
    if atomic && let Some((index, Err(error))) = items.iter().enumerate().find(|(_, i)| i.is_err())
    {
        return Err(error.clone().at_index(index));
    }
    let command = move |conn: &Connection| {
        ensure_parent(conn, &parent)?;
        let mut outcomes = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            let changes = conn.total_changes();
            let outcome = item.and_then(|item| {
                let post = move |conn: &Connection, parent: &Parent| {
                    post_new(conn, parent, item.new, None)
                };
                once_in(conn, &parent, &ledger_id, Some(&item.idempotency), post)
            });
            match outcome {
                Err(error) if atomic => return Err(error.at_index(index)),
                // A rejected item wrote nothing (each checks before its first write). One that
                // failed after writing, or made SQLite roll back the whole transaction, hit a
                // storage failure: it fails the whole command, and no later item may run
                // outside the group's transaction.
                Err(error) if failed_after_writing(conn, changes) => return Err(error),
                outcome => outcomes.push(outcome),
            }
        }
        Ok(outcomes)
    };
    // An atomic batch fails after its earlier items wrote: it needs its savepoint.
    let outcomes = if atomic {
        tenant.writer().write(command).await
    } else {
        tenant.writer().write_prechecked(command).await
    };
    drop(claims);
    outcomes
}

/// The organization and ledger of a ledger-scoped parent.
fn ledger_of(parent: &Parent) -> Result<(OrganizationId, LedgerId)> {
    let (organization_id, ledger_id) = parent.ledger_ids()?;
    Ok((
        OrganizationId::new(organization_id),
        LedgerId::new(ledger_id),
    ))
}

/// Resolves, checks and applies a new transaction; returns it as the create call answers.
fn post_new(
    conn: &Connection,
    parent: &Parent,
    new: NewTransaction,
    parent_transaction_id: Option<TransactionId>,
) -> Result<Transaction> {
    let (organization_id, ledger_id) = ledger_of(parent)?;
    let postings = resolve(new.value, new.from, new.to)?;
    let at = now();
    let plan = new.mode.plan();
    let sources = load_balances(conn, &ledger_id, &postings.sources)?;
    let destinations = load_balances(conn, &ledger_id, &postings.destinations)?;
    check_balances(&new.asset, &sources, &destinations, new.mode)?;
    let action = match (new.mode, &parent_transaction_id) {
        (_, Some(_)) => Action::Revert,
        (Mode::Pending, None) => Action::Hold,
        (_, None) => Action::Direct,
    };
    let mut transaction = Transaction {
        id: TransactionId::new(new_id()),
        parent_transaction_id,
        description: new.description,
        status: JournalStatus::new(plan.status),
        amount: postings.value,
        asset_code: new.asset,
        chart_of_accounts_group_name: new.chart_of_accounts_group_name,
        source: postings.sources.iter().map(|p| p.alias.clone()).collect(),
        destination: postings
            .destinations
            .iter()
            .map(|p| p.alias.clone())
            .collect(),
        ledger_id,
        organization_id,
        route: new.route,
        route_id: new.route_id,
        stamps: Stamps::new(at.clone()),
        metadata: new.metadata,
        operations: Vec::new(),
    };
    let sides = routing::Sides {
        sources: (&postings.sources, &sources),
        destinations: (&postings.destinations, &destinations),
        sources_directed: action != Action::Hold,
    };
    let route = routing::check(conn, parent, &transaction, action, sides)?;
    // Every effect is computed before the first write: a rejected transaction writes nothing.
    let mut mover = Mover::new(conn, &transaction.ledger_id, &at);
    let mut moves = mover.side(&postings.sources, sources, plan.sources, plan.label)?;
    if let Some(side) = plan.destinations {
        moves.extend(mover.side(&postings.destinations, destinations, side, plan.label)?);
    }
    if let Some(route) = &route {
        routing::check_overdraft_rubrics(route, overdraft_moves(&moves))?;
    }
    sql::save_transaction(conn, &transaction, &serde_json::to_string(&postings)?)?;
    let mut operations = record(conn, &transaction, moves, plan.status, &at)?;
    if let Some(route) = &route {
        routing::book(conn, route, action, &mut operations)?;
    }
    chain::append(conn, &transaction, "create", &operations, &at)?;
    transaction.operations = operations;
    transaction.status = JournalStatus::new(plan.status.answered());
    Ok(transaction)
}

/// The balance of every posting, in order; any missing one is 0019.
fn load_balances(
    conn: &Connection,
    ledger_id: &LedgerId,
    postings: &[Posting],
) -> Result<Vec<Balance>> {
    postings
        .iter()
        .map(|p| {
            sql::balance_by_alias(conn, ledger_id, &p.alias, &p.balance_key)?.ok_or_else(|| {
                Error::new(Kind::AccountIneligibility).with_message(format!(
                    "No balance '{}#{}' exists in this ledger.",
                    p.alias, p.balance_key
                ))
            })
        })
        .collect()
}

/// A posting's effect on a balance, computed before anything is written: the posting's own
/// balance, or the account's internal overdraft balance moving with it.
struct Moved<'a> {
    posting: &'a Posting,
    /// The balance as it is after the effect (unchanged without one).
    balance: Balance,
    affected: bool,
    kind: OperationType,
    direction: Direction,
    amount: Decimal,
    before: BalanceSnapshot,
    after: BalanceSnapshot,
}

/// Computes the moves of one transaction's sides in memory: the balances it reads are
/// passed in, the accounts' internal overdraft balances it moves are loaded on first use
/// and kept, by alias, as its moves leave them.
struct Mover<'c> {
    conn: &'c Connection,
    ledger_id: &'c LedgerId,
    at: &'c str,
    companions: HashMap<String, Balance>,
}

impl<'c> Mover<'c> {
    fn new(conn: &'c Connection, ledger_id: &'c LedgerId, at: &'c str) -> Self {
        Self {
            conn,
            ledger_id,
            at,
            companions: HashMap::new(),
        }
    }

    /// Applies the plan of one side to each posting's balance, under the domain's rules
    /// (0018, 0097, 0167); a balance that borrows or repays an overdraft moves its account's
    /// overdraft balance too, right after it. Writes nothing.
    fn side<'a>(
        &mut self,
        postings: &'a [Posting],
        balances: Vec<Balance>,
        plan: SidePlan,
        label: Option<OperationType>,
    ) -> Result<Vec<Moved<'a>>> {
        let mut moves = Vec::with_capacity(postings.len());
        for (posting, mut balance) in postings.iter().zip(balances) {
            let before = snapshot_of(&balance);
            let mut overdraft = None;
            let after = match plan.effect {
                Some(effect) => {
                    let posted = post(&balance, effect, posting.amount)?;
                    set_snapshot(&mut balance, &posted.after, self.at);
                    overdraft = posted.overdraft;
                    posted.after
                }
                None => before.clone(),
            };
            let alias = balance.alias.clone();
            moves.push(Moved {
                posting,
                balance,
                affected: plan.effect.is_some(),
                kind: label.unwrap_or(plan.recorded.operation_type()),
                direction: plan.recorded.direction(),
                amount: posting.amount,
                before,
                after,
            });
            if let Some(overdraft) = overdraft {
                moves.push(self.overdraft(posting, alias, overdraft)?);
            }
        }
        Ok(moves)
    }

    /// The move of the account's overdraft balance that mirrors `overdraft`.
    fn overdraft<'a>(
        &mut self,
        posting: &'a Posting,
        alias: String,
        overdraft: Overdraft,
    ) -> Result<Moved<'a>> {
        let companion = match self.companions.entry(alias) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => {
                let alias = entry.key();
                let found =
                    sql::balance_by_alias(self.conn, self.ledger_id, alias, OVERDRAFT_BALANCE_KEY)?;
                let found = found.ok_or_else(|| {
                    Error::internal(format!("the overdraft balance of {alias} is missing"))
                })?;
                entry.insert(found)
            }
        };
        let (effect, amount) = overdraft.effect();
        let before = snapshot_of(companion);
        let after = post(companion, effect, amount)?.after;
        set_snapshot(companion, &after, self.at);
        Ok(Moved {
            posting,
            balance: companion.clone(),
            affected: true,
            kind: OperationType::Overdraft,
            direction: effect.direction(),
            amount,
            before,
            after,
        })
    }
}

/// The route and direction of each move of an overdraft balance among `moves`.
fn overdraft_moves<'m>(moves: &'m [Moved<'_>]) -> Vec<(Option<&'m str>, bool)> {
    moves
        .iter()
        .filter(|m| m.kind == OperationType::Overdraft)
        .map(|m| {
            (
                m.posting.route_id.as_deref(),
                m.direction == Direction::Debit,
            )
        })
        .collect()
}

fn set_snapshot(balance: &mut Balance, snapshot: &BalanceSnapshot, at: &str) {
    balance.available = snapshot.available;
    balance.on_hold = snapshot.on_hold;
    balance.version = snapshot.version;
    balance.overdraft_used = snapshot.overdraft_used;
    balance.stamps.updated_at = at.to_owned();
}

/// Saves every computed move of `transaction`, in order: see [`record_move`].
fn record(
    conn: &Connection,
    transaction: &Transaction,
    moves: Vec<Moved<'_>>,
    operation_status: TransactionStatus,
    at: &str,
) -> Result<Vec<Operation>> {
    moves
        .into_iter()
        .map(|moved| record_move(conn, transaction, moved, operation_status, at))
        .collect()
}

/// Saves the moved balance (if it moved) and the operation of its posting, and returns the
/// operation.
fn record_move(
    conn: &Connection,
    transaction: &Transaction,
    moved: Moved<'_>,
    operation_status: TransactionStatus,
    at: &str,
) -> Result<Operation> {
    let Moved {
        posting,
        balance,
        affected,
        kind,
        direction,
        amount,
        before,
        after,
    } = moved;
    if affected {
        sql::update_balance_amounts(conn, &balance)?;
    }
    let operation = Operation {
        id: OperationId::new(new_id()),
        transaction_id: transaction.id.clone(),
        description: posting
            .description
            .clone()
            .or_else(|| transaction.description.clone()),
        kind,
        asset_code: balance.asset_code.clone(),
        chart_of_accounts: posting.chart_of_accounts.clone(),
        amount: OperationAmount { value: amount },
        balance: if affected {
            before
        } else {
            zero_snapshot(&balance)
        },
        balance_after: if affected {
            after
        } else {
            zero_snapshot(&balance)
        },
        status: JournalStatus::new(operation_status),
        account_id: balance.account_id.clone(),
        account_alias: balance.alias.clone(),
        balance_key: balance.key.clone(),
        balance_id: balance.id.clone(),
        organization_id: transaction.organization_id.clone(),
        ledger_id: transaction.ledger_id.clone(),
        route: posting.route.clone(),
        balance_affected: affected,
        direction,
        balance_direction: balance.direction,
        routing: OperationRouting {
            route_id: posting.route_id.clone(),
            ..OperationRouting::default()
        },
        stamps: Stamps::new(at.to_owned()),
        metadata: posting.metadata.clone(),
    };
    sql::save_operation(conn, &operation)?;
    Ok(operation)
}

fn zero_snapshot(balance: &Balance) -> BalanceSnapshot {
    BalanceSnapshot {
        version: balance.version,
        ..BalanceSnapshot::OPENED
    }
}

/// Only a PENDING transaction is committed or cancelled (0099).
fn ensure_pending(transaction: &Transaction) -> Result<()> {
    if transaction.status.code == TransactionStatus::Pending {
        return Ok(());
    }
    Err(
        Error::new(Kind::CommitTransactionNotPending).with_message(format!(
            "The transaction is {}, not PENDING.",
            transaction.status.code
        )),
    )
}

/// Settles a pending transaction: commit (sources' holds debited, destinations credited) or
/// cancel (holds released). Only from PENDING (0099); the writer runs one at a time, so of
/// two racing calls exactly one wins.
pub async fn settle(
    tenant: &Tenant,
    parent: Parent,
    id: TransactionId,
    commit: bool,
) -> Result<Transaction> {
    super::in_ledger(
        tenant,
        parent,
        Run::Write,
        move |conn, parent, ledger_id| {
            let row = sql::get_transaction(conn, ledger_id, &id)?;
            let mut transaction = row.transaction;
            ensure_pending(&transaction)?;
            let postings: Postings = serde_json::from_str(&row.postings)?;
            let plan = settlement(commit);
            let at = now();
            // Every effect is computed before the first write.
            let sources = load_balances(conn, ledger_id, &postings.sources)?;
            // A cancel never touches the destinations (nor checks their routes).
            let destinations = match plan.destinations {
                Some(_) => load_balances(conn, ledger_id, &postings.destinations)?,
                None => Vec::new(),
            };
            let action = if commit {
                Action::Commit
            } else {
                Action::Cancel
            };
            let sides = routing::Sides {
                sources: (&postings.sources, &sources),
                destinations: (&postings.destinations, &destinations),
                sources_directed: false,
            };
            let route = routing::check(conn, parent, &transaction, action, sides)?;
            let mut mover = Mover::new(conn, ledger_id, &at);
            let mut moves = mover.side(&postings.sources, sources, plan.sources, plan.label)?;
            if let Some(side) = plan.destinations {
                check_receiving(&destinations)?;
                moves.extend(mover.side(&postings.destinations, destinations, side, plan.label)?);
            }
            if let Some(route) = &route {
                routing::check_overdraft_rubrics(route, overdraft_moves(&moves))?;
            }
            freeze_replay(conn, ledger_id, &transaction.id)?;
            let settled_from = transaction.operations.len();
            let mut settled = record(conn, &transaction, moves, plan.status, &at)?;
            if let Some(route) = &route {
                routing::book(conn, route, action, &mut settled)?;
            }
            transaction.operations.extend(settled);
            transaction.status = JournalStatus::new(plan.status);
            chain::append(
                conn,
                &transaction,
                if commit { "commit" } else { "cancel" },
                &transaction.operations[settled_from..],
                &at,
            )?;
            transaction.stamps.updated_at = at;
            sql::save_transaction(conn, &transaction, &row.postings)?;
            Ok(transaction)
        },
    )
    .await
}

/// Reverts an APPROVED transaction with a new one moving the same amounts back.
pub async fn revert(tenant: &Tenant, parent: Parent, id: TransactionId) -> Result<Transaction> {
    tenant
        .writer()
        .write(move |conn| {
            ensure_parent(conn, &parent)?;
            post_reversal(conn, &parent, &id)
        })
        .await
}

/// [`revert`] as the API answers it: like a create, a revert sent with an idempotency key is
/// answered once and then replayed.
pub async fn revert_once(
    tenant: &Tenant,
    parent: Parent,
    id: TransactionId,
    idempotency: Option<Idempotency>,
) -> Result<Created> {
    once(tenant, parent, idempotency, move |conn, parent| {
        post_reversal(conn, parent, &id)
    })
    .await
}

fn post_reversal(conn: &Connection, parent: &Parent, id: &TransactionId) -> Result<Transaction> {
    let (_, ledger_id) = ledger_of(parent)?;
    let original = sql::get_transaction(conn, &ledger_id, id)?.transaction;
    if original.parent_transaction_id.is_some() {
        return Err(Error::new(Kind::TransactionIsRevert));
    }
    if sql::has_reversal(conn, id)? {
        return Err(Error::new(Kind::TransactionHasParent));
    }
    if original.status.code != TransactionStatus::Approved {
        return Err(
            Error::new(Kind::CommitTransactionNotPending).with_message(format!(
                "Only APPROVED transactions can be reverted; this one is {}.",
                original.status.code
            )),
        );
    }
    let (mut from, mut to) = reversal(&original.operations)?;
    routing::check_revertible(conn, parent, &original.operations)?;
    for leg in from.iter_mut().chain(to.iter_mut()) {
        if let Some(op) = original.operations.iter().find(|op| {
            op.account_alias == leg.alias
                && op.balance_key == leg.balance_key
                && op.balance_affected
        }) {
            leg.route.clone_from(&op.route);
            leg.route_id.clone_from(&op.routing.route_id);
        }
    }
    let new = NewTransaction {
        mode: Mode::Immediate,
        description: Some(format!("Revert of transaction {}", original.id)),
        chart_of_accounts_group_name: original.chart_of_accounts_group_name.clone(),
        route: original.route.clone(),
        route_id: original.route_id.clone(),
        metadata: Metadata::new(),
        asset: original.asset_code.clone(),
        value: original.amount,
        from,
        to,
    };
    post_new(conn, parent, new, Some(original.id))
}

/// Description and metadata changes of a transaction or operation.
pub struct Annotations {
    pub description: Option<String>,
    pub metadata: MetadataPatch,
}

impl Annotations {
    /// Applies the changes to a description and its metadata.
    fn apply(self, description: &mut Option<String>, metadata: &mut Metadata) {
        super::set(description, self.description.map(Some));
        *metadata = self.metadata.apply(std::mem::take(metadata));
    }
}

pub async fn update(
    tenant: &Tenant,
    parent: Parent,
    id: TransactionId,
    change: Annotations,
) -> Result<Transaction> {
    super::in_ledger(tenant, parent, Run::Write, move |conn, _, ledger_id| {
        let row = sql::get_transaction(conn, ledger_id, &id)?;
        freeze_replay(conn, ledger_id, &id)?;
        let mut transaction = row.transaction;
        change.apply(&mut transaction.description, &mut transaction.metadata);
        transaction.stamps.updated_at = now();
        sql::save_transaction(conn, &transaction, &row.postings)?;
        Ok(transaction)
    })
    .await
}

pub async fn update_operation(
    tenant: &Tenant,
    parent: Parent,
    transaction_id: TransactionId,
    id: OperationId,
    change: Annotations,
) -> Result<Operation> {
    super::in_ledger(tenant, parent, Run::Write, move |conn, _, ledger_id| {
        let keys = [
            ("ledger_id", ledger_id.as_str()),
            ("transaction_id", transaction_id.as_str()),
        ];
        sql::get_transaction(conn, ledger_id, &transaction_id)?;
        let mut operation = sql::get_operation(conn, &keys, &id)?;
        freeze_replay(conn, ledger_id, &transaction_id)?;
        change.apply(&mut operation.description, &mut operation.metadata);
        operation.stamps.updated_at = now();
        sql::save_operation(conn, &operation)?;
        Ok(operation)
    })
    .await
}

pub async fn get(tenant: &Tenant, parent: Parent, id: TransactionId) -> Result<Transaction> {
    super::in_ledger(tenant, parent, Run::Read, move |conn, _, ledger_id| {
        Ok(sql::get_transaction(conn, ledger_id, &id)?.transaction)
    })
    .await
}

pub async fn list(
    tenant: &Tenant,
    parent: Parent,
    query: ListQuery,
) -> Result<CursorPage<Transaction>> {
    super::in_ledger(tenant, parent, Run::Read, move |conn, _, ledger_id| {
        sql::list_transactions(conn, ledger_id, &query)
    })
    .await
}

pub async fn count(tenant: &Tenant, parent: Parent, query: ListQuery) -> Result<i64> {
    super::in_ledger(tenant, parent, Run::Read, move |conn, _, ledger_id| {
        sql::count_transactions(conn, ledger_id, &query)
    })
    .await
}

/// One operation of the account of `parent`. The account itself is not looked up: an unknown
/// account has no operation to find (0068).
pub async fn operation_of_account(
    tenant: &Tenant,
    parent: Parent,
    id: OperationId,
) -> Result<Operation> {
    let ledger = parent.ledger()?;
    super::read_in(tenant, ledger, move |conn, _| {
        crate::store::get::<Operation>(conn, &parent, id.as_str())
    })
    .await
}
