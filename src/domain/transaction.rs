//! Transaction rules: resolving legs into postings, and the balance arithmetic of each
//! operation type. Pure: no I/O, no clock.

use std::collections::HashSet;

use rust_decimal::Decimal;

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
    /// The operation `type` on the wire.
    pub fn operation_type(self) -> &'static str {
        match self {
            Effect::Debit | Effect::SettleHold => "DEBIT",
            Effect::Credit => "CREDIT",
            Effect::Hold => "ON_HOLD",
            Effect::Release => "RELEASE",
        }
    }

    /// The operation `direction` on the wire.
    pub fn direction(self) -> &'static str {
        match self {
            Effect::Debit | Effect::SettleHold | Effect::Hold => "debit",
            Effect::Credit | Effect::Release => "credit",
        }
    }
}

/// The two amounts of a balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Amounts {
    pub available: Decimal,
    pub on_hold: Decimal,
}

impl Amounts {
    /// The amounts after `effect` of `value`; fails on overflow, never rounds.
    pub fn apply(self, effect: Effect, value: Decimal) -> Result<Amounts> {
        let add = |a: Decimal, b: Decimal| a.checked_add(b).ok_or_else(overflow);
        let sub = |a: Decimal, b: Decimal| a.checked_sub(b).ok_or_else(overflow);
        Ok(match effect {
            Effect::Debit => Amounts {
                available: sub(self.available, value)?,
                ..self
            },
            Effect::Credit => Amounts {
                available: add(self.available, value)?,
                ..self
            },
            Effect::Hold => Amounts {
                available: sub(self.available, value)?,
                on_hold: add(self.on_hold, value)?,
            },
            Effect::SettleHold => Amounts {
                on_hold: sub(self.on_hold, value)?,
                ..self
            },
            Effect::Release => Amounts {
                available: add(self.available, value)?,
                on_hold: sub(self.on_hold, value)?,
            },
        })
    }

    /// Σ of both amounts: what the balance owns, conserved by every transaction.
    pub fn total(self) -> Option<Decimal> {
        self.available.checked_add(self.on_hold)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap_or_default()
    }

    fn leg(alias: &str, value: LegValue) -> Leg {
        Leg {
            alias: alias.to_owned(),
            balance_key: "default".to_owned(),
            value,
            description: None,
            chart_of_accounts: None,
            metadata: Metadata::new(),
            route: None,
        }
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

    #[test]
    fn effects_move_amounts_exactly() -> Result<()> {
        let start = Amounts {
            available: dec("10.5"),
            on_hold: dec("0"),
        };
        let held = start.apply(Effect::Hold, dec("0.25"))?;
        assert_eq!(
            held,
            Amounts {
                available: dec("10.25"),
                on_hold: dec("0.25")
            }
        );
        assert_eq!(held.apply(Effect::Release, dec("0.25"))?, start);
        assert_eq!(
            held.apply(Effect::SettleHold, dec("0.25"))?,
            Amounts {
                available: dec("10.25"),
                on_hold: dec("0")
            }
        );
        assert_eq!(
            start.apply(Effect::Debit, dec("11"))?.available,
            dec("-0.5")
        );
        assert_eq!(
            start
                .apply(Effect::Credit, Decimal::MAX)
                .map_err(|e| e.kind),
            Err(Kind::AmountOverflow)
        );
        Ok(())
    }
}
