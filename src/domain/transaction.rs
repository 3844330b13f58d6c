//! Transaction rules: resolving legs into postings, the balance effect of each operation type
//! and the funds rule, holds and their settlement, reversal, and the replay the audit runs.
//! Pure: no I/O, no clock. Every amount is computed with checked arithmetic (0097 on
//! overflow), never rounded.

use std::collections::{HashMap, HashSet};

use rust_decimal::Decimal;

use super::entities::{ACCOUNT_TYPE_EXTERNAL, Balance};
use super::journal::{BalanceSnapshot, Direction, Operation, OperationType, TransactionStatus};
use super::metadata::Metadata;
use crate::error::{Error, Kind, Result};

/// Legs accepted on each side of one transaction.
pub const LEGS_PER_SIDE_MAX: usize = 256;

/// How a leg's value is given.
#[derive(Debug, Clone, PartialEq)]
pub enum LegValue {
    Amount(Decimal),
    /// `value × percentage/100 × of/100`.
    Share {
        percentage: Decimal,
        of: Decimal,
    },
    /// Whatever the legs before it on the same side left of the value.
    Remaining,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Leg {
    pub alias: String,
    pub balance_key: String,
    pub value: LegValue,
    pub description: Option<String>,
    pub chart_of_accounts: Option<String>,
    pub metadata: Metadata,
    pub route: Option<String>,
    /// The operation route the leg names (`routeId`).
    pub route_id: Option<String>,
}

impl Leg {
    /// A leg with no description, chart of accounts, metadata or route.
    pub fn new(alias: impl Into<String>, balance_key: impl Into<String>, value: LegValue) -> Self {
        Self {
            alias: alias.into(),
            balance_key: balance_key.into(),
            value,
            description: None,
            chart_of_accounts: None,
            metadata: Metadata::new(),
            route: None,
            route_id: None,
        }
    }
}

/// A leg with its value resolved.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Posting {
    pub alias: String,
    pub balance_key: String,
    pub amount: Decimal,
    pub description: Option<String>,
    pub chart_of_accounts: Option<String>,
    pub metadata: Metadata,
    pub route: Option<String>,
    #[serde(default)]
    pub route_id: Option<String>,
}

impl Posting {
    pub fn from_leg(leg: Leg, amount: Decimal) -> Self {
        Self {
            alias: leg.alias,
            balance_key: leg.balance_key,
            amount,
            description: leg.description,
            chart_of_accounts: leg.chart_of_accounts,
            metadata: leg.metadata,
            route: leg.route,
            route_id: leg.route_id,
        }
    }
}

/// The postings of a balanced transaction: each side adds up to the value.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Postings {
    pub value: Decimal,
    pub sources: Vec<Posting>,
    pub destinations: Vec<Posting>,
}

fn mismatch(message: impl Into<String>) -> Error {
    Error::new(Kind::TransactionValueMismatch).with_message(message)
}

fn overflow() -> Error {
    Error::new(Kind::AmountOverflow)
}

/// Resolves one side's legs in order; returns the postings and what they add up to.
fn resolve_side(value: Decimal, legs: Vec<Leg>) -> Result<(Vec<Posting>, Decimal)> {
    let mut used = Decimal::ZERO;
    let mut postings = Vec::with_capacity(legs.len());
    for leg in legs {
        let amount = match &leg.value {
            LegValue::Amount(amount) => *amount,
            LegValue::Share { percentage, of } => value
                .checked_mul(*percentage)
                .and_then(|v| v.checked_mul(*of))
                .and_then(|v| v.checked_div(Decimal::from(10_000)))
                .ok_or_else(overflow)?,
            LegValue::Remaining => value.checked_sub(used).ok_or_else(overflow)?,
        };
        used = used.checked_add(amount).ok_or_else(overflow)?;
        postings.push(Posting::from_leg(leg, amount));
    }
    Ok((postings, used))
}

/// Every leg of a side moves a positive amount and the side adds up to the value (0073).
fn check_side(value: Decimal, postings: &[Posting], used: Decimal, side: &str) -> Result<()> {
    if let Some(p) = postings.iter().find(|p| p.amount <= Decimal::ZERO) {
        return Err(mismatch(format!(
            "Every {side} leg must move a positive amount; '{}' would move {}.",
            p.alias, p.amount
        )));
    }
    if used != value {
        return Err(mismatch(format!(
            "The {side} legs add up to {used}, not to the transaction value {value}."
        )));
    }
    Ok(())
}

/// Resolves both sides, in Midaz's order: the same `alias#key` at the same index of both
/// sides is ambiguous (0090); then each side must add up to `value` (0073); any other
/// repeated `alias#key`, on one side or across both, is 0019.
pub fn resolve(value: Decimal, from: Vec<Leg>, to: Vec<Leg>) -> Result<Postings> {
    if value <= Decimal::ZERO {
        return Err(Error::new(Kind::InvalidTransactionNonPositiveValue));
    }
    let (sources, from_total) = resolve_side(value, from)?;
    let (destinations, to_total) = resolve_side(value, to)?;
    let key = |p: &Posting| (p.alias.clone(), p.balance_key.clone());
    if sources
        .iter()
        .zip(&destinations)
        .any(|(s, d)| key(s) == key(d))
    {
        return Err(Error::new(Kind::TransactionAmbiguous));
    }
    check_side(value, &sources, from_total, "source")?;
    check_side(value, &destinations, to_total, "destination")?;
    let keys: HashSet<_> = sources.iter().chain(&destinations).map(key).collect();
    if keys.len() != sources.len() + destinations.len() {
        return Err(Error::new(Kind::AccountIneligibility)
            .with_message("The same account balance appears more than once in the transaction."));
    }
    Ok(Postings {
        value,
        sources,
        destinations,
    })
}

/// How a new transaction affects balances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Sources debited and destinations credited now.
    Immediate,
    /// Sources' amounts put on hold until commit or cancel.
    Pending,
    /// Recorded with status NOTED, no balance touched.
    Annotation,
    /// Immediate, its operations typed BLOCK (`POST …/transactions/block`).
    Block,
    /// Immediate, its operations typed UNBLOCK (`POST …/transactions/unblock`).
    Unblock,
}

/// What an operation does to a balance, written for a credit-direction balance; on a
/// debit-direction balance DEBIT and CREDIT swap their effect on `available` (Midaz v3.7+).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// `available −= v` (immediate source).
    Debit,
    /// `available += v` (destination).
    Credit,
    /// `available −= v, onHold += v` (source of a pending transaction).
    Hold,
    /// `onHold −= v` (source of a committed pending transaction); recorded as DEBIT.
    SettleHold,
    /// `onHold −= v, available += v` (source of a cancelled pending transaction).
    Release,
}

impl Effect {
    /// The operation `type` it is recorded as.
    pub fn operation_type(self) -> OperationType {
        match self {
            Effect::Debit | Effect::SettleHold => OperationType::Debit,
            Effect::Credit => OperationType::Credit,
            Effect::Hold => OperationType::OnHold,
            Effect::Release => OperationType::Release,
        }
    }

    /// The operation `direction` it is recorded with.
    pub fn direction(self) -> Direction {
        match self {
            Effect::Debit | Effect::SettleHold | Effect::Hold => Direction::Debit,
            Effect::Credit | Effect::Release => Direction::Credit,
        }
    }

    /// Whether it adds to `available` of a credit-direction balance: what a balance owing an
    /// overdraft repays first.
    fn credits(self) -> bool {
        matches!(self, Effect::Credit | Effect::Release)
    }

    /// The balance after this effect of `value` on `before`, a balance of `direction`:
    /// amounts moved, version bumped, the overdraft untouched. Fails on overflow (0097), never
    /// rounds. The one place a balance effect is computed.
    pub fn apply(
        self,
        direction: Direction,
        before: &BalanceSnapshot,
        value: Decimal,
    ) -> Result<BalanceSnapshot> {
        let add = |a: Decimal, b: Decimal| a.checked_add(b).ok_or_else(overflow);
        // What the effect does to `available` of a credit-direction balance, signed (a
        // Decimal's negation is exact: its range is symmetric).
        let (to_available, to_on_hold) = match self {
            Effect::Debit => (-value, Decimal::ZERO),
            Effect::Credit => (value, Decimal::ZERO),
            Effect::Hold => (-value, value),
            Effect::SettleHold => (Decimal::ZERO, -value),
            Effect::Release => (value, -value),
        };
        let to_available = match direction {
            Direction::Credit => to_available,
            Direction::Debit => -to_available,
        };
        Ok(BalanceSnapshot {
            available: add(before.available, to_available)?,
            on_hold: add(before.on_hold, to_on_hold)?,
            version: before.version.checked_add(1).ok_or_else(overflow)?,
            overdraft_used: before.overdraft_used,
        })
    }
}

/// What a posting does to the account's internal `overdraft` balance, which mirrors what
/// the account's balances owe: it borrows (OVERDRAFT, direction debit: the internal balance
/// grows) or repays (OVERDRAFT, direction credit: it shrinks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overdraft {
    Borrow(Decimal),
    Repay(Decimal),
}

impl Overdraft {
    /// The effect on the internal balance and the amount it moves.
    pub fn effect(self) -> (Effect, Decimal) {
        match self {
            Overdraft::Borrow(amount) => (Effect::Debit, amount),
            Overdraft::Repay(amount) => (Effect::Credit, amount),
        }
    }
}

/// A balance after a posting, and what the posting does to the account's overdraft.
#[derive(Debug, Clone, PartialEq)]
pub struct Posted {
    pub after: BalanceSnapshot,
    pub overdraft: Option<Overdraft>,
}

/// How a balance may be moved: its direction, whether it is external (may go negative), and
/// its overdraft rule (`None`: no overdraft; `Some(None)`: unlimited; `Some(Some(l))`: up to
/// `l` owed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    pub direction: Direction,
    pub external: bool,
    pub overdraft: Option<Option<Decimal>>,
}

impl Rules {
    pub fn of(balance: &Balance) -> Self {
        Self {
            direction: balance.direction,
            external: balance.account_type == ACCOUNT_TYPE_EXTERNAL,
            overdraft: balance.overdraft_limit(),
        }
    }
}

/// `effect` of `value` on a balance at `before` under `rules` (Midaz v3.7's order):
/// 1. the effect on the amounts ([`Effect::apply`]);
/// 2. a credit to a credit-direction balance that owes an overdraft repays it first
///    (`overdraftUsed` falls, `available` gains only the rest);
/// 3. an internal balance may not end below zero: 0018, unless it is credit-direction with
///    overdraft allowed, when `available` floors at 0 and the shortfall is borrowed (0167 past
///    the limit). External balances may go negative.
pub fn post_under(
    rules: Rules,
    before: &BalanceSnapshot,
    effect: Effect,
    value: Decimal,
) -> Result<Posted> {
    let mut after = effect.apply(rules.direction, before, value)?;
    let mut overdraft = None;
    let owes = after.overdraft_used > Decimal::ZERO;
    if effect.credits() && rules.direction == Direction::Credit && !rules.external && owes {
        let repaid = value.min(after.overdraft_used);
        after.available = after.available.checked_sub(repaid).ok_or_else(overflow)?;
        after.overdraft_used -= repaid;
        overdraft = Some(Overdraft::Repay(repaid));
    }
    if after.available.is_sign_negative() && !after.available.is_zero() && !rules.external {
        let Some(limit) = rules.overdraft else {
            return Err(Error::new(Kind::InsufficientFunds));
        };
        let shortfall = -after.available;
        let owed = after
            .overdraft_used
            .checked_add(shortfall)
            .ok_or_else(overflow)?;
        if limit.is_some_and(|limit| owed > limit) {
            return Err(Error::new(Kind::OverdraftLimitExceeded));
        }
        after.available = Decimal::ZERO;
        after.overdraft_used = owed;
        overdraft = Some(Overdraft::Borrow(shortfall));
    }
    Ok(Posted { after, overdraft })
}

/// How one side of a transaction posts: the effect on its balances, or none (each leg is
/// then recorded, unmoved, as `recorded`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SidePlan {
    pub effect: Option<Effect>,
    pub recorded: Effect,
}

/// How a transaction posts: the status it is stored with, what each side does (a side
/// without a plan records no operation) and the type its operations are labelled with
/// instead of their effect's (BLOCK, UNBLOCK).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub status: TransactionStatus,
    pub sources: SidePlan,
    pub destinations: Option<SidePlan>,
    pub label: Option<OperationType>,
}

const fn moves(effect: Effect) -> SidePlan {
    SidePlan {
        effect: Some(effect),
        recorded: effect,
    }
}

impl Mode {
    /// Immediate: sources debited, destinations credited. Pending: sources' amounts put on
    /// hold, destinations untouched until commit. Annotation: every leg recorded, none moved.
    /// Block and unblock: immediate, labelled.
    pub fn plan(self) -> Plan {
        let immediate = |label| Plan {
            status: TransactionStatus::Approved,
            sources: moves(Effect::Debit),
            destinations: Some(moves(Effect::Credit)),
            label,
        };
        match self {
            Mode::Immediate => immediate(None),
            Mode::Block => immediate(Some(OperationType::Block)),
            Mode::Unblock => immediate(Some(OperationType::Unblock)),
            Mode::Pending => Plan {
                status: TransactionStatus::Pending,
                sources: moves(Effect::Hold),
                destinations: None,
                label: None,
            },
            Mode::Annotation => Plan {
                status: TransactionStatus::Noted,
                sources: SidePlan {
                    effect: None,
                    recorded: Effect::Debit,
                },
                destinations: Some(SidePlan {
                    effect: None,
                    recorded: Effect::Credit,
                }),
                label: None,
            },
        }
    }
}

/// How a pending transaction settles: a commit debits the sources' holds and credits the
/// destinations; a cancel releases the holds.
pub fn settlement(commit: bool) -> Plan {
    if commit {
        Plan {
            status: TransactionStatus::Approved,
            sources: moves(Effect::SettleHold),
            destinations: Some(moves(Effect::Credit)),
            label: None,
        }
    } else {
        Plan {
            status: TransactionStatus::Canceled,
            sources: moves(Effect::Release),
            destinations: None,
            label: None,
        }
    }
}

/// Midaz's balance rules, in its order: an internal balance named by a leg (0168), asset
/// (0034), sending/receiving flags (0024), external source of a pending transaction (0098).
pub fn check_balances(
    asset: &str,
    sources: &[Balance],
    destinations: &[Balance],
    mode: Mode,
) -> Result<()> {
    if let Some(b) = sources.iter().chain(destinations).find(|b| b.is_internal()) {
        return Err(
            Error::new(Kind::InternalBalanceTargeted).with_message(format!(
                "'{}#{}' is an internal balance, moved only by the ledger itself.",
                b.alias, b.key
            )),
        );
    }
    for balance in sources.iter().chain(destinations) {
        if balance.asset_code != asset {
            return Err(Error::new(Kind::AssetCodeNotFound).with_message(format!(
                "The balance of '{}' holds {}, not {asset}.",
                balance.alias, balance.asset_code
            )));
        }
    }
    if mode == Mode::Annotation {
        return Ok(());
    }
    if let Some(b) = sources.iter().find(|b| !b.allow_sending) {
        return Err(Error::new(Kind::AccountStatusTransactionRestriction)
            .with_message(format!("'{}' may not send.", b.alias)));
    }
    check_receiving(destinations)?;
    if mode == Mode::Pending
        && sources
            .iter()
            .any(|b| b.account_type == ACCOUNT_TYPE_EXTERNAL)
    {
        return Err(Error::new(Kind::OnHoldExternalAccount));
    }
    Ok(())
}

/// Every destination may receive (0024): checked on create and again on commit.
pub fn check_receiving(destinations: &[Balance]) -> Result<()> {
    match destinations.iter().find(|b| !b.allow_receiving) {
        Some(b) => Err(Error::new(Kind::AccountStatusTransactionRestriction)
            .with_message(format!("'{}' may not receive.", b.alias))),
        None => Ok(()),
    }
}

/// `effect` of `value` on `balance` under its own rules ([`post_under`]), the refusal naming
/// the balance.
pub fn post(balance: &Balance, effect: Effect, value: Decimal) -> Result<Posted> {
    post_under(Rules::of(balance), &snapshot_of(balance), effect, value).map_err(|e| {
        if e.kind == Kind::InsufficientFunds {
            e.with_message(format!(
                "Insufficient funds in '{}#{}'.",
                balance.alias, balance.key
            ))
        } else {
            e
        }
    })
}

/// The amounts, version and overdraft of a balance.
pub fn snapshot_of(balance: &Balance) -> BalanceSnapshot {
    BalanceSnapshot {
        available: balance.available,
        on_hold: balance.on_hold,
        version: balance.version,
        overdraft_used: balance.overdraft_used,
    }
}

/// What a balance of `direction` holds, signed so that every transaction conserves the sum
/// over an asset's balances: `available + onHold` for a credit-direction balance,
/// `−(available − onHold)` for a debit-direction one. `None` on overflow.
pub fn position(direction: Direction, balance: &BalanceSnapshot) -> Option<Decimal> {
    match direction {
        Direction::Credit => balance.available.checked_add(balance.on_hold),
        Direction::Debit => balance.on_hold.checked_sub(balance.available),
    }
}

/// The one change of direction a balance may have had: migration 0007 turned the external
/// balances of older files from credit to debit direction, negating `available` (nothing
/// was on hold). `None` for any other change.
pub fn redirected(
    state: &BalanceSnapshot,
    from: Direction,
    to: Direction,
    external: bool,
) -> Option<BalanceSnapshot> {
    let allowed = from == Direction::Credit
        && to == Direction::Debit
        && external
        && state.on_hold.is_zero()
        && state.overdraft_used.is_zero();
    allowed.then(|| BalanceSnapshot {
        available: -state.available,
        ..state.clone()
    })
}

/// What replaying one stored operation on its balance finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replayed {
    /// `after` is `before` moved by the operation's type and amount.
    Consistent,
    /// It is not.
    Inconsistent,
    /// Moving `before` by the amount overflows: no ledger could have written it.
    Overflow,
}

/// The effects an operation of `kind` and `direction` may record: a DEBIT is an immediate
/// debit or a settled hold; OVERDRAFT, BLOCK and UNBLOCK move by their direction.
pub fn effects_of(kind: OperationType, direction: Direction) -> &'static [Effect] {
    match (kind, direction) {
        (OperationType::Debit, _) => &[Effect::Debit, Effect::SettleHold],
        (OperationType::Credit, _) => &[Effect::Credit],
        (OperationType::OnHold, _) => &[Effect::Hold],
        (OperationType::Release, _) => &[Effect::Release],
        (_, Direction::Debit) => &[Effect::Debit],
        (_, Direction::Credit) => &[Effect::Credit],
    }
}

/// One stored operation as the audit replays it.
#[derive(Debug, Clone, Copy)]
pub struct Recorded<'a> {
    pub kind: OperationType,
    pub direction: Direction,
    pub balance_direction: Direction,
    /// Whether the balance is external (may go negative, never owes an overdraft).
    pub external: bool,
    pub value: Decimal,
    pub before: &'a BalanceSnapshot,
    pub after: &'a BalanceSnapshot,
}

/// Replays a recorded operation: `after` must be `before` moved by one of the effects its
/// type may record, under the rules it was posted under (an external balance may go
/// negative; any other may have borrowed, which only an overdraft-enabled one can).
pub fn replay(op: Recorded<'_>) -> Replayed {
    let rules = Rules {
        direction: op.balance_direction,
        external: op.external,
        overdraft: (!op.external).then_some(None),
    };
    let mut overflowed = false;
    for effect in effects_of(op.kind, op.direction) {
        match post_under(rules, op.before, *effect, op.value) {
            Ok(posted) if posted.after == *op.after => return Replayed::Consistent,
            Err(e) if e.kind == Kind::AmountOverflow => overflowed = true,
            _ => {}
        }
    }
    if overflowed {
        Replayed::Overflow
    } else {
        Replayed::Inconsistent
    }
}

/// Which side of the reversal a leg goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum ReversalSide {
    From,
    To,
}

/// The legs `(from, to)` of the transaction that undoes the balance-moving `operations`: their
/// credits become sources and their debits destinations (BLOCK and UNBLOCK by direction), amount for amount per balance
/// (holds settled by a commit count as debits), ordered by alias and key. No movement: 0089.
pub fn reversal(operations: &[Operation]) -> Result<(Vec<Leg>, Vec<Leg>)> {
    let mut moved: HashMap<(String, String, ReversalSide), Decimal> = HashMap::new();
    for op in operations.iter().filter(|op| op.balance_affected) {
        // The account's internal overdraft balance moves with the balance that borrowed or
        // repaid: reversing that balance's legs reverses it too.
        let side = match (op.kind, op.direction) {
            (OperationType::Credit, _) => ReversalSide::From,
            (OperationType::Debit, _) => ReversalSide::To,
            (OperationType::Block | OperationType::Unblock, Direction::Credit) => {
                ReversalSide::From
            }
            (OperationType::Block | OperationType::Unblock, Direction::Debit) => ReversalSide::To,
            (OperationType::OnHold | OperationType::Release | OperationType::Overdraft, _) => {
                continue;
            }
        };
        let entry = moved
            .entry((op.account_alias.clone(), op.balance_key.clone(), side))
            .or_default();
        *entry = entry.checked_add(op.amount.value).ok_or_else(overflow)?;
    }
    if moved.is_empty() {
        return Err(Error::new(Kind::TransactionCantRevert));
    }
    let mut ordered: Vec<_> = moved.into_iter().collect();
    ordered.sort_by(|a, b| a.0.cmp(&b.0));
    let (mut from, mut to) = (Vec::new(), Vec::new());
    for ((alias, balance_key, side), amount) in ordered {
        let leg = Leg::new(alias, balance_key, LegValue::Amount(amount));
        match side {
            ReversalSide::From => from.push(leg),
            ReversalSide::To => to.push(leg),
        }
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{
        AccountId, BalanceId, LedgerId, OperationId, OrganizationId, TransactionId,
    };

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap_or_default()
    }

    fn leg(alias: &str, value: LegValue) -> Leg {
        Leg::new(alias, "default", value)
    }

    fn kind(result: Result<Postings>) -> Option<Kind> {
        result.err().map(|e| e.kind)
    }

    #[test]
    fn shares_and_remaining_resolve_in_order() -> Result<()> {
        let postings = resolve(
            dec("100"),
            vec![leg("@a", LegValue::Amount(dec("100")))],
            vec![
                leg(
                    "@b",
                    LegValue::Share {
                        percentage: dec("60"),
                        of: dec("100"),
                    },
                ),
                leg(
                    "@c",
                    LegValue::Share {
                        percentage: dec("50"),
                        of: dec("10"),
                    },
                ),
                leg("@d", LegValue::Remaining),
            ],
        )?;
        let amounts: Vec<_> = postings.destinations.iter().map(|p| p.amount).collect();
        assert_eq!(amounts, vec![dec("60"), dec("5"), dec("35")]);
        Ok(())
    }

    #[test]
    fn rejects_unbalanced_ambiguous_and_duplicate_legs() {
        let a = |v: &str| leg("@a", LegValue::Amount(v.parse().unwrap_or_default()));
        let b = |v: &str| leg("@b", LegValue::Amount(v.parse().unwrap_or_default()));
        assert_eq!(
            kind(resolve(dec("10"), vec![a("9")], vec![b("10")])),
            Some(Kind::TransactionValueMismatch)
        );
        assert_eq!(
            kind(resolve(
                dec("10"),
                vec![a("10")],
                vec![leg("@a", LegValue::Remaining)]
            )),
            Some(Kind::TransactionAmbiguous)
        );
        assert_eq!(
            kind(resolve(dec("10"), vec![a("5"), a("5")], vec![b("10")])),
            Some(Kind::AccountIneligibility)
        );
        assert_eq!(
            kind(resolve(dec("0"), vec![a("0")], vec![b("0")])),
            Some(Kind::InvalidTransactionNonPositiveValue)
        );
        let over = resolve(
            dec("10"),
            vec![a("15"), leg("@c", LegValue::Remaining)],
            vec![b("10")],
        );
        assert_eq!(kind(over), Some(Kind::TransactionValueMismatch));
        // Ambiguity is found before the totals; a repeat at another index is 0019.
        assert_eq!(
            kind(resolve(dec("10"), vec![a("10")], vec![a("9")])),
            Some(Kind::TransactionAmbiguous)
        );
        let crossed = resolve(
            dec("10"),
            vec![a("5"), b("5")],
            vec![leg("@c", LegValue::Amount(dec("5"))), a("5")],
        );
        assert_eq!(kind(crossed), Some(Kind::AccountIneligibility));
    }

    fn snapshot(available: &str, on_hold: &str, version: i64) -> BalanceSnapshot {
        BalanceSnapshot {
            available: dec(available),
            on_hold: dec(on_hold),
            version,
            overdraft_used: Decimal::ZERO,
        }
    }

    fn owing(available: &str, version: i64, owed: &str) -> BalanceSnapshot {
        BalanceSnapshot {
            overdraft_used: dec(owed),
            ..snapshot(available, "0", version)
        }
    }

    const CREDIT: Direction = Direction::Credit;
    const DEBIT: Direction = Direction::Debit;

    #[test]
    fn effects_move_amounts_exactly_in_either_direction() -> Result<()> {
        use Effect::{Credit, Debit, Hold, Release, SettleHold};
        let on_credit = [
            (Hold, ("10.5", "0", 1), "0.25", ("10.25", "0.25")),
            (Release, ("10.25", "0.25", 2), "0.25", ("10.5", "0")),
            (SettleHold, ("10.25", "0.25", 2), "0.25", ("10.25", "0")),
            (Debit, ("10.5", "0", 1), "11", ("-0.5", "0")),
        ];
        // Holds always add to onHold; on a debit-direction balance a hold raises available.
        let on_debit = [
            (Debit, ("100", "0", 1), "30", ("130", "0")),
            (Credit, ("100", "0", 1), "30", ("70", "0")),
            (Hold, ("100", "0", 1), "5", ("105", "5")),
            (Release, ("105", "5", 2), "5", ("100", "0")),
            (SettleHold, ("105", "5", 2), "5", ("105", "0")),
        ];
        for (direction, cases) in [(CREDIT, &on_credit[..]), (DEBIT, &on_debit[..])] {
            for &(effect, (available, on_hold, version), amount, after) in cases {
                let before = snapshot(available, on_hold, version);
                let (available, on_hold) = after;
                assert_eq!(
                    effect.apply(direction, &before, dec(amount))?,
                    snapshot(available, on_hold, version + 1),
                    "{effect:?} of {amount} on {direction:?} {before:?}"
                );
            }
        }
        assert_eq!(
            Credit
                .apply(CREDIT, &snapshot("10.5", "0", 1), Decimal::MAX)
                .map_err(|e| e.kind),
            Err(Kind::AmountOverflow)
        );
        // The position a hold and its settlement leave is conserved either way.
        assert_eq!(position(DEBIT, &snapshot("105", "5", 2)), Some(dec("-100")));
        assert_eq!(position(DEBIT, &snapshot("100", "0", 1)), Some(dec("-100")));
        Ok(())
    }

    fn rules(direction: Direction, external: bool, overdraft: Option<Option<&str>>) -> Rules {
        Rules {
            direction,
            external,
            overdraft: overdraft.map(|limit| limit.map(dec)),
        }
    }

    #[test]
    fn an_overdraft_floors_available_borrows_and_repays_first() -> Result<()> {
        let allowed = rules(CREDIT, false, Some(Some("100")));
        let debit = post_under(allowed, &snapshot("100", "0", 1), Effect::Debit, dec("150"))?;
        assert_eq!(debit.after, owing("0", 2, "50"));
        assert_eq!(debit.overdraft, Some(Overdraft::Borrow(dec("50"))));
        // Borrowing up to the limit is allowed; past it is 0167.
        let more = post_under(allowed, &debit.after, Effect::Debit, dec("50"))?;
        assert_eq!(more.after, owing("0", 3, "100"));
        assert_eq!(
            post_under(allowed, &more.after, Effect::Debit, dec("0.01")).map_err(|e| e.kind),
            Err(Kind::OverdraftLimitExceeded)
        );
        // A credit repays what is owed first, the rest is available.
        let credit = post_under(allowed, &more.after, Effect::Credit, dec("130"))?;
        assert_eq!(credit.after, owing("30", 4, "0"));
        assert_eq!(credit.overdraft, Some(Overdraft::Repay(dec("100"))));
        let partial = post_under(allowed, &more.after, Effect::Credit, dec("40"))?;
        assert_eq!(partial.after, owing("0", 4, "60"));
        // A pending hold borrows too; its release repays.
        let held = post_under(allowed, &snapshot("10", "0", 1), Effect::Hold, dec("25"))?;
        assert_eq!(
            held.after,
            BalanceSnapshot {
                on_hold: dec("25"),
                ..owing("0", 2, "15")
            }
        );
        let released = post_under(allowed, &held.after, Effect::Release, dec("25"))?;
        assert_eq!(released.after, snapshot("10", "0", 3));
        assert_eq!(released.overdraft, Some(Overdraft::Repay(dec("15"))));
        Ok(())
    }

    #[test]
    fn only_credit_balances_allowed_to_may_be_overdrawn() {
        let start = snapshot("5", "0", 1);
        for refused in [rules(CREDIT, false, None), rules(DEBIT, false, None)] {
            let lowering = if refused.direction == CREDIT {
                Effect::Debit
            } else {
                Effect::Credit
            };
            assert_eq!(
                post_under(refused, &start, lowering, dec("6")).map_err(|e| e.kind),
                Err(Kind::InsufficientFunds)
            );
        }
        let external = post_under(rules(DEBIT, true, None), &start, Effect::Credit, dec("6"));
        assert_eq!(external.map(|p| p.after).ok(), Some(snapshot("-1", "0", 2)));
    }

    #[test]
    fn replay_accepts_each_recorded_effect_and_names_the_rest() {
        let before = snapshot("100", "20", 4);
        use OperationType::{Block, Credit, Debit, OnHold, Overdraft, Release};
        use Replayed::{Consistent, Inconsistent};
        for (kind, direction, value, after, expected) in [
            (Debit, DEBIT, "20", ("80", "20", 5), Consistent),
            (Debit, DEBIT, "20", ("100", "0", 5), Consistent), // a settled hold is recorded as DEBIT
            (OnHold, DEBIT, "5", ("95", "25", 5), Consistent),
            (Release, CREDIT, "5", ("105", "15", 5), Consistent),
            (Block, DEBIT, "5", ("95", "20", 5), Consistent),
            (Block, CREDIT, "5", ("105", "20", 5), Consistent),
            (Overdraft, CREDIT, "5", ("95", "20", 5), Inconsistent), // only on debit balances
            (Credit, CREDIT, "5", ("105", "20", 4), Inconsistent),   // the version must move
            (Credit, CREDIT, "5", ("106", "20", 5), Inconsistent),
        ] {
            let (available, on_hold, version) = after;
            let after = snapshot(available, on_hold, version);
            let op = recorded(kind, direction, value, &before, &after);
            assert_eq!(replay(op), expected, "{kind:?} {value}");
        }
        // An overdrawn debit and the repaying credit replay as recorded.
        let (start, overdrawn) = (snapshot("10", "0", 1), owing("0", 2, "5"));
        let op = |kind, direction, before, after| recorded(kind, direction, "15", before, after);
        assert_eq!(replay(op(Debit, DEBIT, &start, &overdrawn)), Consistent);
        let repaid = snapshot("10", "0", 3);
        assert_eq!(replay(op(Credit, CREDIT, &overdrawn, &repaid)), Consistent);
        let unrepaid = owing("15", 3, "5");
        assert_eq!(
            replay(op(Credit, CREDIT, &overdrawn, &unrepaid)),
            Inconsistent
        );
    }

    /// An operation recorded on an internal credit-direction balance.
    fn recorded<'a>(
        kind: OperationType,
        direction: Direction,
        value: &str,
        before: &'a BalanceSnapshot,
        after: &'a BalanceSnapshot,
    ) -> Recorded<'a> {
        Recorded {
            kind,
            direction,
            balance_direction: CREDIT,
            external: false,
            value: dec(value),
            before,
            after,
        }
    }

    /// Replays an operation of `kind` in the direction its first effect posts.
    fn replay_plain(
        kind: OperationType,
        value: &str,
        before: &BalanceSnapshot,
        after: &BalanceSnapshot,
    ) -> Replayed {
        let direction = effects_of(kind, CREDIT)[0].direction();
        replay(recorded(kind, direction, value, before, after))
    }

    #[test]
    fn replay_of_an_overflowing_operation_is_a_finding_not_a_panic() {
        let full = BalanceSnapshot {
            available: Decimal::MAX,
            ..snapshot("0", "0", 2)
        };
        let after = snapshot("1", "0", 3);
        assert_eq!(
            replay_plain(OperationType::Credit, "1", &full, &after),
            Replayed::Overflow
        );
        let held = BalanceSnapshot {
            available: Decimal::MIN,
            on_hold: Decimal::MAX,
            ..snapshot("0", "0", 2)
        };
        assert_eq!(
            replay_plain(OperationType::OnHold, "1", &held, &after),
            Replayed::Overflow
        );
        let last = BalanceSnapshot {
            version: i64::MAX,
            ..snapshot("1", "0", 0)
        };
        assert_eq!(
            replay_plain(OperationType::Credit, "1", &last, &after),
            Replayed::Overflow
        );
    }

    #[test]
    fn only_the_migrated_change_of_direction_is_accepted() {
        let state = snapshot("-100", "0", 7);
        assert_eq!(
            redirected(&state, CREDIT, DEBIT, true),
            Some(snapshot("100", "0", 7))
        );
        assert_eq!(redirected(&state, CREDIT, DEBIT, false), None);
        assert_eq!(redirected(&state, DEBIT, CREDIT, true), None);
        assert_eq!(
            redirected(&snapshot("-1", "1", 7), CREDIT, DEBIT, true),
            None
        );
    }

    #[test]
    fn the_funds_rule_spares_external_balances_only() {
        let mut balance = Balance {
            id: BalanceId::new("b-1"),
            organization_id: OrganizationId::new("o-1"),
            ledger_id: LedgerId::new("l-1"),
            account_id: AccountId::new("a-1"),
            alias: "@a".to_owned(),
            key: "default".to_owned(),
            asset_code: "USD".to_owned(),
            available: dec("5"),
            on_hold: dec("0"),
            version: 1,
            account_type: "deposit".to_owned(),
            allow_sending: true,
            allow_receiving: true,
            direction: Direction::Credit,
            overdraft_used: Decimal::ZERO,
            settings: None,
            stamps: crate::domain::entities::Stamps::new(String::new()),
            metadata: Metadata::new(),
        };
        assert_eq!(
            post(&balance, Effect::Debit, dec("6")).map_err(|e| e.kind),
            Err(Kind::InsufficientFunds)
        );
        assert_eq!(
            post(&balance, Effect::Hold, dec("5")).map(|p| p.after).ok(),
            Some(snapshot("0", "5", 2))
        );
        // Overdraft allowed: a credit-direction balance floors at 0 and owes the rest; a
        // debit-direction one may not be overdrawn whatever its settings.
        balance.settings = Some(crate::domain::entities::BalanceSettings {
            balance_scope: None,
            allow_overdraft: true,
            overdraft_limit_enabled: false,
            overdraft_limit: None,
        });
        assert_eq!(
            post(&balance, Effect::Debit, dec("6"))
                .map(|p| p.after)
                .ok(),
            Some(owing("0", 2, "1"))
        );
        balance.direction = Direction::Debit;
        assert_eq!(
            post(&balance, Effect::Credit, dec("6")).map_err(|e| e.kind),
            Err(Kind::InsufficientFunds)
        );
        balance.account_type = ACCOUNT_TYPE_EXTERNAL.to_owned();
        assert_eq!(
            post(&balance, Effect::Credit, dec("6"))
                .map(|p| p.after)
                .ok(),
            Some(snapshot("-1", "0", 2))
        );
    }

    fn operation(alias: &str, kind: OperationType, value: &str, affected: bool) -> Operation {
        use crate::domain::journal::{JournalStatus, OperationAmount};
        let effect = effects_of(kind, Direction::Credit)[0];
        Operation {
            id: OperationId::new(format!("op-{alias}")),
            transaction_id: TransactionId::new("t-1"),
            description: None,
            kind,
            asset_code: "USD".to_owned(),
            chart_of_accounts: None,
            amount: OperationAmount { value: dec(value) },
            balance: BalanceSnapshot::OPENED,
            balance_after: BalanceSnapshot::OPENED,
            status: JournalStatus::new(TransactionStatus::Approved),
            account_id: AccountId::new(format!("a-{alias}")),
            account_alias: alias.to_owned(),
            balance_key: "default".to_owned(),
            balance_id: BalanceId::new(format!("b-{alias}")),
            organization_id: OrganizationId::new("o-1"),
            ledger_id: LedgerId::new("l-1"),
            route: None,
            balance_affected: affected,
            direction: effect.direction(),
            balance_direction: Direction::Credit,
            routing: Default::default(),
            stamps: crate::domain::entities::Stamps::new(String::new()),
            metadata: Metadata::new(),
        }
    }

    #[test]
    fn reversal_mirrors_what_moved_and_refuses_what_did_not() -> Result<()> {
        let moved = [
            operation("@z", OperationType::OnHold, "5", true),
            operation("@z", OperationType::Debit, "5", true),
            operation("@b", OperationType::Credit, "2", true),
            operation("@a", OperationType::Credit, "3", true),
        ];
        let (from, to) = reversal(&moved)?;
        let legs = |legs: &[Leg]| -> Vec<(String, LegValue)> {
            legs.iter()
                .map(|l| (l.alias.clone(), l.value.clone()))
                .collect()
        };
        assert_eq!(
            legs(&from),
            vec![
                ("@a".to_owned(), LegValue::Amount(dec("3"))),
                ("@b".to_owned(), LegValue::Amount(dec("2")))
            ]
        );
        assert_eq!(
            legs(&to),
            vec![("@z".to_owned(), LegValue::Amount(dec("5")))]
        );
        let noted = [
            operation("@a", OperationType::Debit, "1", false),
            operation("@b", OperationType::Credit, "1", false),
        ];
        assert_eq!(
            reversal(&noted).map_err(|e| e.kind).err(),
            Some(Kind::TransactionCantRevert)
        );
        let huge = [
            operation(
                "@a",
                OperationType::Credit,
                "79228162514264337593543950335",
                true,
            ),
            operation("@a", OperationType::Credit, "1", true),
        ];
        assert_eq!(
            reversal(&huge).map_err(|e| e.kind).err(),
            Some(Kind::AmountOverflow)
        );
        Ok(())
    }
}
