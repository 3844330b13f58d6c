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
}

/// What an operation does to a balance.
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

    /// The balance after this effect of `value` on `before`: amounts moved, version bumped.
    /// Fails on overflow (0097), never rounds. The one place a balance effect is computed.
    pub fn apply(self, before: &BalanceSnapshot, value: Decimal) -> Result<BalanceSnapshot> {
        let add = |a: Decimal, b: Decimal| a.checked_add(b).ok_or_else(overflow);
        let sub = |a: Decimal, b: Decimal| a.checked_sub(b).ok_or_else(overflow);
        let (available, on_hold) = match self {
            Effect::Debit => (sub(before.available, value)?, before.on_hold),
            Effect::Credit => (add(before.available, value)?, before.on_hold),
            Effect::Hold => (sub(before.available, value)?, add(before.on_hold, value)?),
            Effect::SettleHold => (before.available, sub(before.on_hold, value)?),
            Effect::Release => (add(before.available, value)?, sub(before.on_hold, value)?),
        };
        Ok(BalanceSnapshot {
            available,
            on_hold,
            version: before.version.checked_add(1).ok_or_else(overflow)?,
        })
    }
}

impl OperationType {
    /// The effects an operation of this type may record: a DEBIT is an immediate debit or a
    /// settled hold.
    pub fn effects(self) -> &'static [Effect] {
        match self {
            OperationType::Debit => &[Effect::Debit, Effect::SettleHold],
            OperationType::Credit => &[Effect::Credit],
            OperationType::OnHold => &[Effect::Hold],
            OperationType::Release => &[Effect::Release],
        }
    }
}

/// How one side of a transaction posts: the effect on its balances, or none (each leg is
/// then recorded, unmoved, as `recorded`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SidePlan {
    pub effect: Option<Effect>,
    pub recorded: Effect,
}

/// How a transaction posts: the status it is stored with and what each side does (a side
/// without a plan records no operation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub status: TransactionStatus,
    pub sources: SidePlan,
    pub destinations: Option<SidePlan>,
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
    pub fn plan(self) -> Plan {
        match self {
            Mode::Immediate => Plan {
                status: TransactionStatus::Approved,
                sources: moves(Effect::Debit),
                destinations: Some(moves(Effect::Credit)),
            },
            Mode::Pending => Plan {
                status: TransactionStatus::Pending,
                sources: moves(Effect::Hold),
                destinations: None,
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
        }
    } else {
        Plan {
            status: TransactionStatus::Canceled,
            sources: moves(Effect::Release),
            destinations: None,
        }
    }
}

/// Midaz's balance rules, in its order: asset (0034), sending/receiving flags (0024), external
/// source of a pending transaction (0098).
pub fn check_balances(
    asset: &str,
    sources: &[Balance],
    destinations: &[Balance],
    mode: Mode,
) -> Result<()> {
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

/// `effect` of `value` on `balance`, under the funds rule: an internal balance may not go
/// below zero (0018); an external (`@external/...`) one may.
pub fn post(balance: &Balance, effect: Effect, value: Decimal) -> Result<BalanceSnapshot> {
    let after = effect.apply(&snapshot_of(balance), value)?;
    if after.available.is_sign_negative() && balance.account_type != ACCOUNT_TYPE_EXTERNAL {
        return Err(Error::new(Kind::InsufficientFunds).with_message(format!(
            "Insufficient funds in '{}#{}'.",
            balance.alias, balance.key
        )));
    }
    Ok(after)
}

/// The amounts and version of a balance.
pub fn snapshot_of(balance: &Balance) -> BalanceSnapshot {
    BalanceSnapshot {
        available: balance.available,
        on_hold: balance.on_hold,
        version: balance.version,
    }
}

/// Σ of both amounts: what the balance owns, conserved by every transaction; `None` on
/// overflow.
pub fn total(balance: &BalanceSnapshot) -> Option<Decimal> {
    balance.available.checked_add(balance.on_hold)
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

/// Replays an operation of `kind` and `value` recorded as moving a balance from `before`
/// to `after`.
pub fn replay(
    kind: OperationType,
    value: Decimal,
    before: &BalanceSnapshot,
    after: &BalanceSnapshot,
) -> Replayed {
    let mut overflowed = false;
    for effect in kind.effects() {
        match effect.apply(before, value) {
            Ok(expected) if expected == *after => return Replayed::Consistent,
            Ok(_) => {}
            Err(_) => overflowed = true,
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
/// credits become sources and their debits destinations, amount for amount per balance
/// (holds settled by a commit count as debits), ordered by alias and key. No movement: 0089.
pub fn reversal(operations: &[Operation]) -> Result<(Vec<Leg>, Vec<Leg>)> {
    let mut moved: HashMap<(String, String, ReversalSide), Decimal> = HashMap::new();
    for op in operations.iter().filter(|op| op.balance_affected) {
        let side = match op.kind {
            OperationType::Credit => ReversalSide::From,
            OperationType::Debit => ReversalSide::To,
            OperationType::OnHold | OperationType::Release => continue,
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
        }
    }

    #[test]
    fn effects_move_amounts_exactly() -> Result<()> {
        let start = snapshot("10.5", "0", 1);
        let held = Effect::Hold.apply(&start, dec("0.25"))?;
        assert_eq!(held, snapshot("10.25", "0.25", 2));
        assert_eq!(
            Effect::Release.apply(&held, dec("0.25"))?,
            snapshot("10.5", "0", 3)
        );
        assert_eq!(
            Effect::SettleHold.apply(&held, dec("0.25"))?,
            snapshot("10.25", "0", 3)
        );
        assert_eq!(
            Effect::Debit.apply(&start, dec("11"))?,
            snapshot("-0.5", "0", 2)
        );
        assert_eq!(
            Effect::Credit
                .apply(&start, Decimal::MAX)
                .map_err(|e| e.kind),
            Err(Kind::AmountOverflow)
        );
        Ok(())
    }

    #[test]
    fn replay_accepts_each_recorded_effect_and_names_the_rest() {
        let before = snapshot("100", "20", 4);
        let replayed = |kind, value: &str, after| replay(kind, dec(value), &before, &after);
        use OperationType::{Credit, Debit, OnHold, Release};
        use Replayed::{Consistent, Inconsistent};
        for (kind, value, after, expected) in [
            (Debit, "20", ("80", "20", 5), Consistent),
            (Debit, "20", ("100", "0", 5), Consistent), // a settled hold is recorded as DEBIT
            (OnHold, "5", ("95", "25", 5), Consistent),
            (Release, "5", ("105", "15", 5), Consistent),
            (Credit, "5", ("105", "20", 4), Inconsistent), // the version must move
            (Credit, "5", ("106", "20", 5), Inconsistent),
        ] {
            let (available, on_hold, version) = after;
            let after = snapshot(available, on_hold, version);
            assert_eq!(replayed(kind, value, after), expected, "{kind:?} {value}");
        }
    }

    #[test]
    fn replay_of_an_overflowing_operation_is_a_finding_not_a_panic() {
        let full = BalanceSnapshot {
            available: Decimal::MAX,
            on_hold: Decimal::ZERO,
            version: 2,
        };
        let after = snapshot("1", "0", 3);
        assert_eq!(
            replay(OperationType::Credit, dec("1"), &full, &after),
            Replayed::Overflow
        );
        let held = BalanceSnapshot {
            available: Decimal::MIN,
            on_hold: Decimal::MAX,
            version: 2,
        };
        assert_eq!(
            replay(OperationType::OnHold, dec("1"), &held, &after),
            Replayed::Overflow
        );
        let last = BalanceSnapshot {
            version: i64::MAX,
            ..snapshot("1", "0", 0)
        };
        assert_eq!(
            replay(OperationType::Credit, dec("1"), &last, &after),
            Replayed::Overflow
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
            overdraft: Default::default(),
            stamps: crate::domain::entities::Stamps::new(String::new()),
            metadata: Metadata::new(),
        };
        assert_eq!(
            post(&balance, Effect::Debit, dec("6")).map_err(|e| e.kind),
            Err(Kind::InsufficientFunds)
        );
        assert_eq!(
            post(&balance, Effect::Hold, dec("5")).ok(),
            Some(snapshot("0", "5", 2))
        );
        balance.account_type = ACCOUNT_TYPE_EXTERNAL.to_owned();
        assert_eq!(
            post(&balance, Effect::Debit, dec("6")).ok(),
            Some(snapshot("-1", "0", 2))
        );
    }

    fn operation(alias: &str, kind: OperationType, value: &str, affected: bool) -> Operation {
        use crate::domain::journal::{JournalStatus, OperationAmount};
        let effect = kind.effects()[0];
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
