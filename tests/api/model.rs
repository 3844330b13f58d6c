//! Model-based test of the transaction engine, in the style of TigerBeetle's auditor.
//!
//! A plain in-memory model of the ledger (balances with available/onHold/version and their
//! sending/receiving flags, transactions with their status, operations and reversals, and the
//! idempotency keys with their stored answers) is driven side by side with the real server
//! over HTTP by random command sequences: multi-leg transfers, inflows, outflows, annotations,
//! pending transactions and their commit/cancel (also twice, also of the wrong transaction),
//! reverts (also twice, also of reversals), blocked balances, replays under a used
//! idempotency key, and requests that must fail. Every reply must be exactly what the model
//! predicts (status, error code, amounts, operations with their balance snapshots); after every
//! command every balance must equal the model's; after every sequence every transaction must
//! read back as the model holds it and the ledger's own audit (`store::chain::audit`) must be
//! clean.
//!
//! Reproducible: the seed is fixed (`MODEL_SEED_DEFAULT`) unless `PROPTEST_RNG_SEED` is set,
//! the case count is `MODEL_CASES_DEFAULT` unless `PROPTEST_CASES` is set, and a failing case
//! is shrunk, printed and saved in `tests/api/model.proptest-regressions`, replayed first next time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::collections::BTreeMap;

use common::{Reply, TestApp, spawn_multi_tenant, token_for};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// Command sequences run when `PROPTEST_CASES` is not set.
const MODEL_CASES_DEFAULT: u32 = 64;
/// RNG seed when `PROPTEST_RNG_SEED` is not set.
const MODEL_SEED_DEFAULT: u64 = 0x5eed_1ed9_e711_7e00;
/// Longest command sequence of one case.
const STEPS_PER_CASE_MAX: usize = 40;
/// Shrinking steps tried on a failing sequence.
const SHRINK_ITERATIONS_MAX: u32 = 300;
/// Page size used to read every balance and transaction of a case's ledger (the API's maximum).
const LIST_LIMIT_MAX: usize = 100;
/// Largest amount of one leg, in cents.
const LEG_CENTS_MAX: i64 = 30_000;
/// Legs per side of a generated transaction.
const LEGS_PER_SIDE_GENERATED_MAX: usize = 3;

/// Failing cases found so far, replayed before new ones (relative to the package root, where
/// `cargo test` runs).
const REGRESSIONS_FILE: &str = "tests/api/model.proptest-regressions";
const EXTERNAL_USD: &str = "@external/USD";
const EXTERNAL_EUR: &str = "@external/EUR";
/// Everyone a leg can name: four USD deposit accounts, the USD external account, an EUR
/// account (0034 in a USD transaction) and an alias that does not exist (0019).
const PARTIES: [&str; 7] = ["@a", "@b", "@c", "@d", EXTERNAL_USD, "@eur", "@nobody"];
const INTERNAL_PARTIES: usize = 4;
const EXTERNAL: usize = 4;
const EUR: usize = 5;
const NOBODY: usize = 6;
/// The party whose default balance may be overdrawn, and by how much at most.
const OVERDRAWN: &str = "@d";
const OVERDRAFT_LIMIT_CENTS: i64 = 40_000;
/// The model's key of an account's internal overdraft balance.
fn overdraft_key(alias: &str) -> String {
    format!("{alias}#overdraft")
}
const MISSING_TRANSACTION_ID: &str = "01900000-0000-7000-8000-000000000000";
/// Outcomes a full run (at least `MODEL_CASES_DEFAULT` cases) must have produced at least
/// once, so that the run is known to reach every rule it claims to check.
const OUTCOMES_REQUIRED: &[&str] = &[
    "/transactions/json 201",
    "/transactions/json pending 201",
    "/transactions/inflow 201",
    "/transactions/outflow 201",
    "/transactions/annotation 201",
    "/transactions/block 201",
    "/transactions/unblock 201",
    "overdraft borrowed",
    "overdraft repaid",
    "commit 201",
    "cancel 201",
    "revert 201",
    "replay 201",
    "0018",
    "0019",
    "0024",
    "0034",
    "0070",
    "0073",
    "0087",
    "0088",
    "0090",
    "0098",
    "0099",
    "0125",
    "0167",
];

/// How often each outcome happened in this run.
static OUTCOMES: std::sync::Mutex<BTreeMap<String, u64>> = std::sync::Mutex::new(BTreeMap::new());

/// Tallies the overdraft moves among `ops`: borrowed (the overdraft balance grew) or repaid.
fn tally_overdrafts(ops: &[Op]) {
    for op in ops.iter().filter(|op| op.kind == "OVERDRAFT") {
        tally(if op.after.0 > op.before.0 {
            "overdraft borrowed"
        } else {
            "overdraft repaid"
        });
    }
}

fn tally(outcome: impl Into<String>) {
    *OUTCOMES
        .lock()
        .expect("tally")
        .entry(outcome.into())
        .or_default() += 1;
}

// ---- commands ------------------------------------------------------------------------------

/// How a leg's value is given.
#[derive(Debug, Clone)]
enum Part {
    Amount(Decimal),
    Share(i64),
    Remaining,
}

/// Which idempotency key a create carries.
#[derive(Debug, Clone)]
enum Key {
    /// A key never used before in this ledger.
    Fresh,
    /// No `X-Idempotency`: the body's fingerprint is the key.
    Fingerprint,
    /// A key sent before (successful or not), chosen by index.
    Reuse(usize),
}

/// Which transaction a commit, cancel or revert names.
#[derive(Debug, Clone)]
enum Pick {
    Known(usize),
    /// A PENDING one if there is any.
    Pending(usize),
    Missing,
}

#[derive(Debug, Clone)]
enum Cmd {
    /// `/json`; with `skew` the value is a cent more than the sources add up to.
    Json {
        from: Vec<(usize, Decimal)>,
        to: Vec<(usize, Part)>,
        skew: bool,
        pending: bool,
        numbers: bool,
        key: Key,
    },
    Inflow {
        value: Decimal,
        to: Vec<(usize, Part)>,
        key: Key,
    },
    Outflow {
        from: Vec<(usize, Decimal)>,
        pending: bool,
        key: Key,
    },
    Annotation {
        from: Vec<(usize, Decimal)>,
        to: Vec<(usize, Part)>,
    },
    /// `/block`, or `/unblock` when `unblock`.
    Block {
        from: Vec<(usize, Decimal)>,
        to: Vec<(usize, Part)>,
        unblock: bool,
    },
    Commit(Pick),
    Cancel(Pick),
    Revert {
        pick: Pick,
        key: Option<Key>,
    },
    /// PATCH of an internal account's default balance flags.
    Flags {
        who: usize,
        sending: Option<bool>,
        receiving: Option<bool>,
    },
    /// Sends the request of an earlier successful create again under its key, with its body
    /// or with another one: either way the first answer comes back.
    Replay {
        which: usize,
        other_body: bool,
    },
    /// A value of zero or below: 0125 before any idempotency lookup.
    NonPositive {
        negative: bool,
        key: Key,
    },
}

/// A party that breaks a rule when swapped into a leg: a repeat, @external/USD, an EUR
/// account or an unknown alias.
fn intruder() -> impl Strategy<Value = usize> {
    prop_oneof![
        2 => 0..INTERNAL_PARTIES,
        1 => Just(EXTERNAL),
        1 => Just(EUR),
        1 => Just(NOBODY),
    ]
}

/// The parties of `from` source and `to` destination legs: distinct, drawn from `pool`, and
/// now and then one of them swapped for an [`intruder`].
fn parties(
    pool: Vec<usize>,
    from: usize,
    to: usize,
) -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    debug_assert!(from + to <= pool.len());
    (
        Just(pool).prop_shuffle(),
        prop::option::weighted(0.15, (any::<bool>(), any::<usize>(), intruder())),
    )
        .prop_map(move |(order, swap)| {
            let mut sources = order[..from].to_vec();
            let mut destinations = order[from..from + to].to_vec();
            if let Some((source_side, at, who)) = swap {
                let side = if source_side || destinations.is_empty() {
                    &mut sources
                } else {
                    &mut destinations
                };
                if !side.is_empty() {
                    let len = side.len();
                    side[at % len] = who;
                }
            }
            (sources, destinations)
        })
}

fn amount() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        9 => (1..=LEG_CENTS_MAX).prop_map(|cents| Decimal::new(cents, 2)),
        1 => (1..=LEG_CENTS_MAX * 10).prop_map(|mills| Decimal::new(mills, 3)),
    ]
}

/// A deposit: up to ten legs' worth, so that transfers succeed about as often as they fail.
fn deposit() -> impl Strategy<Value = Decimal> {
    (1..=LEG_CENTS_MAX * 10).prop_map(|cents| Decimal::new(cents, 2))
}

/// The values of `n` destination legs: shares or amounts, the last one usually `remaining`.
fn parts(n: usize) -> impl Strategy<Value = Vec<Part>> {
    let part = prop_oneof![
        3 => (1i64..=60).prop_map(Part::Share),
        1 => amount().prop_map(Part::Amount),
    ];
    let last = prop_oneof![
        8 => Just(Part::Remaining),
        1 => amount().prop_map(Part::Amount),
        1 => (1i64..=100).prop_map(Part::Share),
    ];
    (prop::collection::vec(part, n - 1), last).prop_map(|(mut parts, last)| {
        parts.push(last);
        parts
    })
}

/// Source legs with amounts and destination legs with parts, over distinct parties of `pool`.
#[allow(clippy::type_complexity)]
fn transfer_legs(
    pool: Vec<usize>,
    with_sources: bool,
    with_destinations: bool,
) -> impl Strategy<Value = (Vec<(usize, Decimal)>, Vec<(usize, Part)>)> {
    let from = if with_sources { 1..=2usize } else { 0..=0 };
    let to = if with_destinations {
        1..=LEGS_PER_SIDE_GENERATED_MAX
    } else {
        0..=0
    };
    (from, to).prop_flat_map(move |(from, to)| {
        (
            parties(pool.clone(), from, to),
            prop::collection::vec(amount(), from),
            if to == 0 {
                Just(Vec::new()).boxed()
            } else {
                parts(to).boxed()
            },
        )
            .prop_map(|((sources, destinations), amounts, parts)| {
                (
                    sources.into_iter().zip(amounts).collect(),
                    destinations.into_iter().zip(parts).collect(),
                )
            })
    })
}

fn everyone() -> Vec<usize> {
    vec![0, 1, 2, 3, EXTERNAL]
}

fn internal() -> Vec<usize> {
    (0..INTERNAL_PARTIES).collect()
}

fn key() -> impl Strategy<Value = Key> {
    prop_oneof![
        6 => Just(Key::Fresh),
        2 => Just(Key::Fingerprint),
        2 => any::<usize>().prop_map(Key::Reuse),
    ]
}

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        12 => any::<usize>().prop_map(Pick::Pending),
        12 => any::<usize>().prop_map(Pick::Known),
        1 => Just(Pick::Missing),
    ]
}

fn command() -> impl Strategy<Value = Cmd> {
    prop_oneof![
        8 => (transfer_legs(everyone(), true, true), prop::bool::weighted(0.1), prop::bool::weighted(0.45), any::<bool>(), key())
            .prop_map(|((from, to), skew, pending, numbers, key)| Cmd::Json { from, to, skew, pending, numbers, key }),
        5 => (deposit(), transfer_legs(internal(), false, true), key())
            .prop_map(|(value, (_, to), key)| Cmd::Inflow { value, to, key }),
        2 => (transfer_legs(internal(), true, false), prop::bool::weighted(0.3), key())
            .prop_map(|((from, _), pending, key)| Cmd::Outflow { from, pending, key }),
        1 => transfer_legs(everyone(), true, true).prop_map(|(from, to)| Cmd::Annotation { from, to }),
        2 => (transfer_legs(everyone(), true, true), any::<bool>())
            .prop_map(|((from, to), unblock)| Cmd::Block { from, to, unblock }),
        3 => pick().prop_map(Cmd::Commit),
        2 => pick().prop_map(Cmd::Cancel),
        3 => (pick(), prop::option::weighted(0.3, key())).prop_map(|(pick, key)| Cmd::Revert { pick, key }),
        1 => (0..INTERNAL_PARTIES, prop::option::of(prop::bool::weighted(0.7)), prop::option::of(prop::bool::weighted(0.7)))
            .prop_map(|(who, sending, receiving)| Cmd::Flags { who, sending, receiving }),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(which, other_body)| Cmd::Replay { which, other_body }),
        1 => (any::<bool>(), key()).prop_map(|(negative, key)| Cmd::NonPositive { negative, key }),
    ]
}

// ---- the model -----------------------------------------------------------------------------

/// available, onHold, version, overdraftUsed.
type Snapshot = (Decimal, Decimal, i64, Decimal);

#[derive(Debug, Clone)]
struct Balance {
    asset: &'static str,
    external: bool,
    /// Debit-direction: every external balance, and an account's overdraft balance.
    debit: bool,
    available: Decimal,
    on_hold: Decimal,
    version: i64,
    overdraft_used: Decimal,
    /// What it may owe, when it may be overdrawn.
    overdraft_limit: Option<Decimal>,
    allow_sending: bool,
    allow_receiving: bool,
}

impl Balance {
    fn new(asset: &'static str, external: bool) -> Self {
        Self {
            asset,
            external,
            debit: external,
            available: Decimal::ZERO,
            on_hold: Decimal::ZERO,
            version: 1,
            overdraft_used: Decimal::ZERO,
            overdraft_limit: None,
            allow_sending: true,
            allow_receiving: true,
        }
    }

    fn snapshot(&self) -> Snapshot {
        (
            self.available,
            self.on_hold,
            self.version,
            self.overdraft_used,
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Op {
    alias: String,
    kind: &'static str,
    amount: Decimal,
    before: Snapshot,
    after: Snapshot,
    affected: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Immediate,
    Pending,
    Annotation,
    /// Immediate, its operations typed `BLOCK` or `UNBLOCK`.
    Labelled(&'static str),
}

#[derive(Debug, Clone)]
struct Tx {
    id: String,
    /// The status a read answers (a new immediate transaction is answered CREATED).
    status: &'static str,
    amount: Decimal,
    sources: Vec<(String, Decimal)>,
    destinations: Vec<(String, Decimal)>,
    ops: Vec<Op>,
    parent: Option<String>,
    reverted: bool,
}

/// The idempotency key a request is stored under.
#[derive(Debug, Clone, PartialEq)]
enum KeyName {
    Header(String),
    /// No header: the parsed body is the key.
    Body(Value),
}

/// A successful create sent with a header key, for [`Cmd::Replay`].
#[derive(Debug, Clone)]
struct Sent {
    path: String,
    body: Value,
    key: String,
}

/// An expected rejection: HTTP status and Midaz code.
type Rejection = (u16, &'static str);

#[derive(Debug, Clone)]
struct Model {
    balances: BTreeMap<String, Balance>,
    txs: Vec<Tx>,
    /// Answers stored under idempotency keys, in the order they were stored.
    answers: Vec<(KeyName, Value)>,
    /// Every header key sent so far, successful or not.
    keys_sent: Vec<String>,
    sent: Vec<Sent>,
    next_key: u64,
}

fn reject<T>(status: u16, code: &'static str) -> Result<T, Rejection> {
    Err((status, code))
}

impl Model {
    fn new() -> Self {
        let mut balances = BTreeMap::new();
        for alias in &PARTIES[..INTERNAL_PARTIES] {
            balances.insert((*alias).to_owned(), Balance::new("USD", false));
        }
        balances.insert(EXTERNAL_USD.to_owned(), Balance::new("USD", true));
        balances.insert("@eur".to_owned(), Balance::new("EUR", false));
        if let Some(overdrawn) = balances.get_mut(OVERDRAWN) {
            overdrawn.overdraft_limit = Some(Decimal::new(OVERDRAFT_LIMIT_CENTS, 2));
        }
        let companion = Balance {
            debit: true,
            ..Balance::new("USD", false)
        };
        balances.insert(overdraft_key(OVERDRAWN), companion);
        balances.insert(EXTERNAL_EUR.to_owned(), Balance::new("EUR", true));
        Self {
            balances,
            txs: Vec::new(),
            answers: Vec::new(),
            keys_sent: Vec::new(),
            sent: Vec::new(),
            next_key: 0,
        }
    }

    fn answer(&self, key: &KeyName) -> Option<&Value> {
        self.answers.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Resolves legs in order: an amount is itself, a share `value × p / 100`, `remaining`
    /// what the legs before it left.
    fn resolve_side(value: Decimal, legs: &[(String, Part)]) -> Vec<(String, Decimal)> {
        let mut used = Decimal::ZERO;
        legs.iter()
            .map(|(alias, part)| {
                let amount = match part {
                    Part::Amount(a) => *a,
                    Part::Share(p) => value * Decimal::from(*p) / Decimal::ONE_HUNDRED,
                    Part::Remaining => value - used,
                };
                used += amount;
                (alias.clone(), amount)
            })
            .collect()
    }

    /// The contract's create rules, in its order, then the balance arithmetic. On success the
    /// balances are changed and the new transaction (without id) is returned.
    fn transact(
        &mut self,
        mode: Mode,
        value: Decimal,
        from: &[(String, Part)],
        to: &[(String, Part)],
    ) -> Result<Tx, Rejection> {
        let sources = Self::resolve_side(value, from);
        let destinations = Self::resolve_side(value, to);
        // The same balance at the same index of both sides: ambiguous.
        if sources.iter().zip(&destinations).any(|(s, d)| s.0 == d.0) {
            return reject(400, "0090");
        }
        for side in [&sources, &destinations] {
            let total: Decimal = side.iter().map(|(_, a)| *a).sum();
            if side.iter().any(|(_, a)| *a <= Decimal::ZERO) || total != value {
                return reject(400, "0073");
            }
        }
        let mut seen: Vec<&String> = sources.iter().chain(&destinations).map(|l| &l.0).collect();
        seen.sort();
        seen.dedup();
        if seen.len() != sources.len() + destinations.len() {
            return reject(422, "0019");
        }
        if sources
            .iter()
            .chain(&destinations)
            .any(|(alias, _)| !self.balances.contains_key(alias))
        {
            return reject(422, "0019");
        }
        let balance = |alias: &String| &self.balances[alias];
        if sources
            .iter()
            .chain(&destinations)
            .any(|(alias, _)| balance(alias).asset != "USD")
        {
            return reject(404, "0034");
        }
        if mode != Mode::Annotation {
            if sources.iter().any(|(a, _)| !balance(a).allow_sending)
                || destinations
                    .iter()
                    .any(|(a, _)| !balance(a).allow_receiving)
            {
                return reject(400, "0024");
            }
            if mode == Mode::Pending && sources.iter().any(|(a, _)| balance(a).external) {
                return reject(422, "0098");
            }
        }
        let mut ops = Vec::new();
        for (alias, amount) in &sources {
            let v = *amount;
            match mode {
                Mode::Immediate => {
                    self.move_funds(&mut ops, alias, "DEBIT", -v, Decimal::ZERO, v)?
                }
                Mode::Pending => self.move_funds(&mut ops, alias, "ON_HOLD", -v, v, v)?,
                Mode::Annotation => ops.push(self.note(alias, "DEBIT", v)),
                Mode::Labelled(kind) => {
                    self.move_funds(&mut ops, alias, kind, -v, Decimal::ZERO, v)?
                }
            }
        }
        for (alias, amount) in &destinations {
            let v = *amount;
            match mode {
                Mode::Immediate => {
                    self.move_funds(&mut ops, alias, "CREDIT", v, Decimal::ZERO, v)?
                }
                Mode::Pending => {}
                Mode::Annotation => ops.push(self.note(alias, "CREDIT", v)),
                Mode::Labelled(kind) => {
                    self.move_funds(&mut ops, alias, kind, v, Decimal::ZERO, v)?
                }
            }
        }
        Ok(Tx {
            id: String::new(),
            status: match mode {
                Mode::Immediate | Mode::Labelled(_) => "APPROVED",
                Mode::Pending => "PENDING",
                Mode::Annotation => "NOTED",
            },
            amount: value,
            sources,
            destinations,
            ops,
            parent: None,
            reverted: false,
        })
    }

    /// Moves a balance by the given deltas, written for a credit-direction balance, and
    /// records its operation in `ops`. A debit-direction balance (external, overdraft) moves
    /// `available` the other way. A credit to a balance that owes repays first; an internal
    /// balance may not go below zero (0018) unless it may be overdrawn, when it floors at zero
    /// and owes the rest (0167 past its limit). What is borrowed or repaid moves the account's
    /// overdraft balance with an OVERDRAFT operation.
    fn move_funds(
        &mut self,
        ops: &mut Vec<Op>,
        alias: &str,
        kind: &'static str,
        available: Decimal,
        on_hold: Decimal,
        amount: Decimal,
    ) -> Result<(), Rejection> {
        let balance = self.balances.get_mut(alias).expect("resolved balance");
        let before = balance.snapshot();
        balance.available += if balance.debit { -available } else { available };
        balance.on_hold += on_hold;
        balance.version += 1;
        // Borrowed (> 0) or repaid (< 0) through the account's overdraft balance.
        let mut borrowed = Decimal::ZERO;
        if !balance.debit && available > Decimal::ZERO && balance.overdraft_used > Decimal::ZERO {
            let repaid = available.min(balance.overdraft_used);
            balance.available -= repaid;
            balance.overdraft_used -= repaid;
            borrowed = -repaid;
        }
        if balance.available < Decimal::ZERO && !balance.external {
            let Some(limit) = balance.overdraft_limit else {
                return reject(422, "0018");
            };
            let owed = balance.overdraft_used - balance.available;
            if owed > limit {
                return reject(422, "0167");
            }
            borrowed = -balance.available;
            balance.overdraft_used = owed;
            balance.available = Decimal::ZERO;
        }
        ops.push(Op {
            alias: alias.to_owned(),
            kind,
            amount,
            before,
            after: balance.snapshot(),
            affected: true,
        });
        if !borrowed.is_zero() {
            let companion = self
                .balances
                .get_mut(&overdraft_key(alias))
                .expect("overdraft balance");
            let before = companion.snapshot();
            companion.available += borrowed;
            companion.version += 1;
            ops.push(Op {
                alias: alias.to_owned(),
                kind: "OVERDRAFT",
                amount: borrowed.abs(),
                before,
                after: companion.snapshot(),
                affected: true,
            });
        }
        Ok(())
    }

    /// An annotation's operation: recorded with zero amounts and the current version.
    fn note(&self, alias: &str, kind: &'static str, amount: Decimal) -> Op {
        let version = self.balances[alias].version;
        let zero = (Decimal::ZERO, Decimal::ZERO, version, Decimal::ZERO);
        Op {
            alias: alias.to_owned(),
            kind,
            amount,
            before: zero,
            after: zero,
            affected: false,
        }
    }

    fn find(&self, pick: &Pick) -> Option<usize> {
        let pending: Vec<usize> = (0..self.txs.len())
            .filter(|i| self.txs[*i].status == "PENDING")
            .collect();
        match pick {
            Pick::Pending(k) if !pending.is_empty() => Some(pending[k % pending.len()]),
            Pick::Known(k) | Pick::Pending(k) if !self.txs.is_empty() => Some(k % self.txs.len()),
            _ => None,
        }
    }

    /// Commit or cancel of a PENDING transaction (0099 otherwise).
    fn settle(&mut self, index: Option<usize>, commit: bool) -> Result<usize, Rejection> {
        let Some(index) = index else {
            return reject(404, "0070");
        };
        let tx = self.txs[index].clone();
        if tx.status != "PENDING" {
            return reject(422, "0099");
        }
        if commit
            && tx
                .destinations
                .iter()
                .any(|(a, _)| !self.balances[a].allow_receiving)
        {
            return reject(400, "0024");
        }
        let mut ops = Vec::new();
        for (alias, amount) in &tx.sources {
            let v = *amount;
            if commit {
                self.move_funds(&mut ops, alias, "DEBIT", Decimal::ZERO, -v, v)?;
            } else {
                self.move_funds(&mut ops, alias, "RELEASE", v, -v, v)?;
            }
        }
        if commit {
            for (alias, amount) in &tx.destinations {
                self.move_funds(&mut ops, alias, "CREDIT", *amount, Decimal::ZERO, *amount)?;
            }
        }
        let tx = &mut self.txs[index];
        tx.status = if commit { "APPROVED" } else { "CANCELED" };
        tx.ops.extend(ops);
        Ok(index)
    }

    /// A new transaction moving an APPROVED one's amounts back: its credits become sources,
    /// its debits destinations (legs in alias order).
    fn revert(&mut self, index: Option<usize>) -> Result<Tx, Rejection> {
        let Some(index) = index else {
            return reject(404, "0070");
        };
        let original = self.txs[index].clone();
        if original.parent.is_some() {
            return reject(400, "0088");
        }
        if original.reverted {
            return reject(400, "0087");
        }
        if original.status != "APPROVED" {
            return reject(422, "0099");
        }
        let legs = |legs: &[(String, Decimal)]| {
            let mut legs: Vec<(String, Part)> = legs
                .iter()
                .map(|(alias, amount)| (alias.clone(), Part::Amount(*amount)))
                .collect();
            legs.sort_by(|a, b| a.0.cmp(&b.0));
            legs
        };
        let from = legs(&original.destinations);
        let to = legs(&original.sources);
        let mut tx = self.transact(Mode::Immediate, original.amount, &from, &to)?;
        tx.parent = Some(original.id.clone());
        self.txs[index].reverted = true;
        Ok(tx)
    }

    fn fresh_key(&mut self) -> String {
        self.next_key += 1;
        format!("model-key-{}", self.next_key)
    }

    /// The header key of `key` (`None` for a fingerprint), remembering it as sent.
    fn header_key(&mut self, key: &Key) -> Option<String> {
        let name = match key {
            Key::Fingerprint => return None,
            Key::Reuse(k) if !self.keys_sent.is_empty() => {
                self.keys_sent[k % self.keys_sent.len()].clone()
            }
            Key::Fresh | Key::Reuse(_) => self.fresh_key(),
        };
        if !self.keys_sent.contains(&name) {
            self.keys_sent.push(name.clone());
        }
        Some(name)
    }
}

// ---- request bodies ------------------------------------------------------------------------

fn amount_json(value: Decimal, number: bool) -> Value {
    if number {
        serde_json::from_str(&value.to_string()).expect("a decimal is a JSON number")
    } else {
        json!(value.to_string())
    }
}

fn leg_json(alias: &str, part: &Part, numbers: bool) -> Value {
    match part {
        Part::Amount(a) => {
            json!({"accountAlias": alias, "amount": {"asset": "USD", "value": amount_json(*a, numbers)}})
        }
        Part::Share(p) => json!({"accountAlias": alias, "share": {"percentage": p}}),
        Part::Remaining => json!({"accountAlias": alias, "remaining": "remaining"}),
    }
}

fn legs_json(legs: &[(String, Part)], numbers: bool) -> Value {
    Value::Array(legs.iter().map(|(a, p)| leg_json(a, p, numbers)).collect())
}

fn named<T: Clone>(legs: &[(usize, T)]) -> Vec<(String, T)> {
    legs.iter()
        .map(|(who, x)| (PARTIES[*who].to_owned(), x.clone()))
        .collect()
}

fn as_parts(legs: &[(usize, Decimal)]) -> Vec<(String, Part)> {
    legs.iter()
        .map(|(who, a)| (PARTIES[*who].to_owned(), Part::Amount(*a)))
        .collect()
}

// ---- the server side -----------------------------------------------------------------------

/// One command sequence, in a tenant of its own: the audit of one case's tenant file never
/// sees another case's ledger, so a failure found while shrinking belongs to the sequence
/// being shrunk.
struct Case {
    app: TestApp,
    tenant: String,
    ledger: String,
    balance_ids: BTreeMap<String, String>,
    model: Model,
}

fn dec(value: &Value) -> Decimal {
    value
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a decimal string: {value}"))
}

fn snapshot(value: &Value) -> Snapshot {
    (
        dec(&value["available"]),
        dec(&value["onHold"]),
        value["version"].as_i64().expect("version"),
        dec(&value["overdraftUsed"]),
    )
}

/// The model's key of a balance: its alias, or `alias#key` for another key than `default`.
fn model_key(balance: &Value) -> String {
    let alias = balance["alias"].as_str().expect("alias");
    match balance["key"].as_str().expect("key") {
        "default" => alias.to_owned(),
        key => format!("{alias}#{key}"),
    }
}

/// The operations of a transaction body, sorted, in the model's terms.
fn server_ops(tx: &Value) -> Vec<Op> {
    let mut ops: Vec<Op> = tx["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .map(|op| Op {
            alias: op["accountAlias"].as_str().expect("alias").to_owned(),
            kind: match op["type"].as_str().expect("type") {
                "DEBIT" => "DEBIT",
                "CREDIT" => "CREDIT",
                "ON_HOLD" => "ON_HOLD",
                "RELEASE" => "RELEASE",
                "BLOCK" => "BLOCK",
                "UNBLOCK" => "UNBLOCK",
                "OVERDRAFT" => "OVERDRAFT",
                other => panic!("unexpected operation type {other}"),
            },
            amount: dec(&op["amount"]["value"]),
            before: snapshot(&op["balance"]),
            after: snapshot(&op["balanceAfter"]),
            affected: op["balanceAffected"].as_bool().expect("balanceAffected"),
        })
        .collect();
    ops.sort_by(|a, b| (&a.alias, a.kind).cmp(&(&b.alias, b.kind)));
    ops
}

fn sorted_ops(ops: &[Op]) -> Vec<Op> {
    let mut ops = ops.to_vec();
    ops.sort_by(|a, b| (&a.alias, a.kind).cmp(&(&b.alias, b.kind)));
    ops
}

/// A transaction body must be the model's transaction, answered with `status`.
fn check_tx(body: &Value, tx: &Tx, status: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(body["id"].as_str(), Some(tx.id.as_str()), "{}", body);
    prop_assert_eq!(body["status"]["code"].as_str(), Some(status), "{}", body);
    prop_assert_eq!(dec(&body["amount"]), tx.amount, "{}", body);
    prop_assert_eq!(body["assetCode"].as_str(), Some("USD"), "{}", body);
    prop_assert_eq!(
        body["parentTransactionId"].as_str(),
        tx.parent.as_deref(),
        "{}",
        body
    );
    let aliases =
        |legs: &[(String, Decimal)]| -> Vec<Value> { legs.iter().map(|(a, _)| json!(a)).collect() };
    prop_assert_eq!(
        &body["source"],
        &Value::Array(aliases(&tx.sources)),
        "{}",
        body
    );
    prop_assert_eq!(
        &body["destination"],
        &Value::Array(aliases(&tx.destinations)),
        "{}",
        body
    );
    prop_assert_eq!(
        server_ops(body),
        sorted_ops(&tx.ops),
        "operations of {}",
        body
    );
    Ok(())
}

fn check_rejection(
    reply: &Reply,
    (status, code): Rejection,
    what: &str,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(reply.status.as_u16(), status, "{}: {}", what, reply.body);
    prop_assert_eq!(reply.code(), code, "{}: {}", what, reply.body);
    prop_assert!(
        reply.body["title"].is_string() && reply.body["message"].is_string(),
        "{}: {}",
        what,
        reply.body
    );
    tally(code);
    Ok(())
}

impl Case {
    async fn new(server: &TestApp) -> Self {
        static TENANTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let tenant = format!(
            "model-{}",
            TENANTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let app = server.with_token(token_for(&tenant, json!({})));
        let ledger = app.ledger().await;
        app.asset(&ledger, "USD").await;
        app.asset(&ledger, "EUR").await;
        for alias in &PARTIES[..INTERNAL_PARTIES] {
            app.account(&ledger, alias, "USD").await;
        }
        app.account(&ledger, "@eur", "EUR").await;
        let mut case = Self {
            app,
            tenant,
            ledger,
            balance_ids: BTreeMap::new(),
            model: Model::new(),
        };
        let overdrawn = case
            .balances()
            .await
            .into_iter()
            .find(|b| b["alias"] == OVERDRAWN);
        let id = overdrawn.expect("overdrawn party")["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let limit = Decimal::new(OVERDRAFT_LIMIT_CENTS, 2).to_string();
        let settings = json!({"settings": {"allowOverdraft": true, "overdraftLimitEnabled": true,
            "overdraftLimit": limit}});
        let reply = case
            .send(
                Method::PATCH,
                &format!("/balances/{id}"),
                Some(&settings),
                None,
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        for balance in case.balances().await {
            let alias = model_key(&balance);
            case.balance_ids
                .insert(alias, balance["id"].as_str().expect("id").to_owned());
        }
        assert_eq!(case.balance_ids.len(), case.model.balances.len());
        case
    }

    async fn send(
        &self,
        method: Method,
        rest: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Reply {
        let url = format!("{}{}{rest}", self.app.base, self.ledger);
        let mut request = self.app.client.request(method, url);
        if let Some(token) = &self.app.token {
            request = request.bearer_auth(token);
        }
        if let Some(key) = key {
            request = request.header("X-Idempotency", key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        Reply::from(request.send().await.expect("request")).await
    }

    async fn balances(&self) -> Vec<Value> {
        let reply = self
            .send(
                Method::GET,
                &format!("/balances?limit={LIST_LIMIT_MAX}"),
                None,
                None,
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body["items"].as_array().expect("items").clone()
    }

    /// Every balance of the ledger reads back as the model holds it.
    async fn check_balances(&self) -> Result<(), TestCaseError> {
        let balances = self.balances().await;
        prop_assert_eq!(balances.len(), self.model.balances.len());
        for balance in balances {
            let alias = &model_key(&balance);
            let model = &self.model.balances[alias];
            prop_assert_eq!(snapshot(&balance), model.snapshot(), "balance {}", alias);
            prop_assert_eq!(
                (
                    balance["allowSending"].as_bool(),
                    balance["allowReceiving"].as_bool()
                ),
                (Some(model.allow_sending), Some(model.allow_receiving)),
                "flags of {}",
                alias
            );
        }
        Ok(())
    }

    /// Sends a create and checks the reply against the model's prediction for it; `predict`
    /// runs on a copy of the model that is kept only if the server accepted.
    async fn create(
        &mut self,
        path: &str,
        body: Value,
        key: Option<String>,
        predict: impl FnOnce(&mut Model) -> Result<Tx, Rejection>,
    ) -> Result<(), TestCaseError> {
        let key_name = match &key {
            Some(k) => KeyName::Header(k.clone()),
            None => KeyName::Body(body.clone()),
        };
        let reply = self
            .send(Method::POST, path, Some(&body), key.as_deref())
            .await;
        if let Some(stored) = self.model.answer(&key_name) {
            prop_assert_eq!(
                reply.status.as_u16(),
                201,
                "replay of {}: {}",
                path,
                reply.body
            );
            prop_assert_eq!(
                reply.header("X-Idempotency-Replayed"),
                Some("true".to_owned())
            );
            prop_assert_eq!(&reply.body, stored, "a replay answers the first body");
            tally("replay 201");
            return Ok(());
        }
        let mut next = self.model.clone();
        match predict(&mut next) {
            Err(rejection) => check_rejection(&reply, rejection, path),
            Ok(mut tx) => {
                prop_assert_eq!(reply.status.as_u16(), 201, "{}: {}", path, reply.body);
                prop_assert_eq!(
                    reply.header("X-Idempotency-Replayed"),
                    Some("false".to_owned())
                );
                tx.id = reply.body["id"].as_str().expect("id").to_owned();
                let answered = if tx.status == "APPROVED" {
                    "CREATED"
                } else {
                    tx.status
                };
                check_tx(&reply.body, &tx, answered)?;
                tally_overdrafts(&tx.ops);
                tally(if path.ends_with("/revert") {
                    "revert 201".to_owned()
                } else if tx.status == "PENDING" {
                    format!("{path} pending 201")
                } else {
                    format!("{path} 201")
                });
                next.txs.push(tx);
                next.answers.push((key_name, reply.body.clone()));
                if let Some(key) = key {
                    next.sent.push(Sent {
                        path: path.to_owned(),
                        body,
                        key,
                    });
                }
                self.model = next;
                Ok(())
            }
        }
    }

    fn tx_path(&self, pick: &Pick, action: &str) -> (Option<usize>, String) {
        let index = self.model.find(pick);
        let id = index.map_or(MISSING_TRANSACTION_ID, |i| self.model.txs[i].id.as_str());
        (index, format!("/transactions/{id}/{action}"))
    }

    async fn apply(&mut self, cmd: &Cmd) -> Result<(), TestCaseError> {
        match cmd {
            Cmd::Json {
                from,
                to,
                skew,
                pending,
                numbers,
                key,
            } => {
                let (from, to) = (as_parts(from), named(to));
                let sum: Decimal = from
                    .iter()
                    .map(|(_, p)| match p {
                        Part::Amount(a) => *a,
                        _ => Decimal::ZERO,
                    })
                    .sum();
                let value = if *skew { sum + Decimal::new(1, 2) } else { sum };
                let body = json!({"pending": pending, "send": {"asset": "USD", "value": amount_json(value, *numbers),
                    "source": {"from": legs_json(&from, *numbers)}, "distribute": {"to": legs_json(&to, *numbers)}}});
                let key = self.model.header_key(key);
                let mode = if *pending {
                    Mode::Pending
                } else {
                    Mode::Immediate
                };
                self.create("/transactions/json", body, key, |m| {
                    m.transact(mode, value, &from, &to)
                })
                .await
            }
            Cmd::Inflow { value, to, key } => {
                let to = named(to);
                let body = json!({"send": {"asset": "USD", "value": value.to_string(),
                    "distribute": {"to": legs_json(&to, false)}}});
                let from = [(EXTERNAL_USD.to_owned(), Part::Amount(*value))];
                let key = self.model.header_key(key);
                self.create("/transactions/inflow", body, key, |m| {
                    m.transact(Mode::Immediate, *value, &from, &to)
                })
                .await
            }
            Cmd::Outflow { from, pending, key } => {
                let from = as_parts(from);
                let value: Decimal = from
                    .iter()
                    .map(|(_, p)| {
                        if let Part::Amount(a) = p {
                            *a
                        } else {
                            Decimal::ZERO
                        }
                    })
                    .sum();
                let body = json!({"pending": pending, "send": {"asset": "USD", "value": value.to_string(),
                    "source": {"from": legs_json(&from, false)}}});
                let to = [(EXTERNAL_USD.to_owned(), Part::Amount(value))];
                let mode = if *pending {
                    Mode::Pending
                } else {
                    Mode::Immediate
                };
                let key = self.model.header_key(key);
                self.create("/transactions/outflow", body, key, |m| {
                    m.transact(mode, value, &from, &to)
                })
                .await
            }
            Cmd::Block { from, to, unblock } => {
                let (from, to) = (as_parts(from), named(to));
                let value: Decimal = from
                    .iter()
                    .map(|(_, p)| {
                        if let Part::Amount(a) = p {
                            *a
                        } else {
                            Decimal::ZERO
                        }
                    })
                    .sum();
                // `pending` is ignored by both endpoints.
                let body = json!({"pending": true, "send": {"asset": "USD", "value": value.to_string(),
                    "source": {"from": legs_json(&from, false)}, "distribute": {"to": legs_json(&to, false)}}});
                let (path, kind) = if *unblock {
                    ("/transactions/unblock", "UNBLOCK")
                } else {
                    ("/transactions/block", "BLOCK")
                };
                let key = self.model.header_key(&Key::Fresh);
                self.create(path, body, key, |m| {
                    m.transact(Mode::Labelled(kind), value, &from, &to)
                })
                .await
            }
            Cmd::Annotation { from, to } => {
                let (from, to) = (as_parts(from), named(to));
                let value: Decimal = from
                    .iter()
                    .map(|(_, p)| {
                        if let Part::Amount(a) = p {
                            *a
                        } else {
                            Decimal::ZERO
                        }
                    })
                    .sum();
                let body = json!({"send": {"asset": "USD", "value": value.to_string(),
                    "source": {"from": legs_json(&from, false)}, "distribute": {"to": legs_json(&to, false)}}});
                // Always a fresh key: an annotation's body may equal a `/json` body, and the
                // fingerprint does not say which endpoint it came from.
                let key = self.model.header_key(&Key::Fresh);
                self.create("/transactions/annotation", body, key, |m| {
                    m.transact(Mode::Annotation, value, &from, &to)
                })
                .await
            }
            Cmd::Commit(pick) | Cmd::Cancel(pick) => {
                let commit = matches!(cmd, Cmd::Commit(_));
                let (index, path) = self.tx_path(pick, if commit { "commit" } else { "cancel" });
                let reply = self.send(Method::POST, &path, None, None).await;
                let mut next = self.model.clone();
                match next.settle(index, commit) {
                    Err(rejection) => check_rejection(&reply, rejection, &path),
                    Ok(index) => {
                        prop_assert_eq!(reply.status.as_u16(), 201, "{}: {}", path, reply.body);
                        let tx = &next.txs[index];
                        check_tx(&reply.body, tx, tx.status)?;
                        tally_overdrafts(&tx.ops);
                        tally(if commit { "commit 201" } else { "cancel 201" });
                        self.model = next;
                        Ok(())
                    }
                }
            }
            Cmd::Revert { pick, key } => {
                let (index, path) = self.tx_path(pick, "revert");
                let key = key.as_ref().and_then(|k| self.model.header_key(k));
                match key {
                    Some(key) => {
                        self.create(&path, json!({}), Some(key), |m| m.revert(index))
                            .await
                    }
                    None => {
                        let reply = self.send(Method::POST, &path, None, None).await;
                        let mut next = self.model.clone();
                        match next.revert(index) {
                            Err(rejection) => check_rejection(&reply, rejection, &path),
                            Ok(mut tx) => {
                                prop_assert_eq!(
                                    reply.status.as_u16(),
                                    201,
                                    "{}: {}",
                                    path,
                                    reply.body
                                );
                                prop_assert_eq!(
                                    reply.header("X-Idempotency-Replayed"),
                                    Some("false".to_owned())
                                );
                                tx.id = reply.body["id"].as_str().expect("id").to_owned();
                                check_tx(&reply.body, &tx, "CREATED")?;
                                tally("revert 201");
                                next.txs.push(tx);
                                self.model = next;
                                Ok(())
                            }
                        }
                    }
                }
            }
            Cmd::Flags {
                who,
                sending,
                receiving,
            } => {
                let alias = PARTIES[*who];
                let path = format!("/balances/{}", self.balance_ids[alias]);
                let mut body = json!({});
                if let Some(s) = sending {
                    body["allowSending"] = json!(s);
                }
                if let Some(r) = receiving {
                    body["allowReceiving"] = json!(r);
                }
                let reply = self.send(Method::PATCH, &path, Some(&body), None).await;
                prop_assert_eq!(reply.status.as_u16(), 200, "{}: {}", path, reply.body);
                let balance = self.model.balances.get_mut(alias).expect("balance");
                balance.allow_sending = sending.unwrap_or(balance.allow_sending);
                balance.allow_receiving = receiving.unwrap_or(balance.allow_receiving);
                prop_assert_eq!(snapshot(&reply.body), balance.snapshot());
                prop_assert_eq!(
                    reply.body["allowSending"].as_bool(),
                    Some(balance.allow_sending)
                );
                prop_assert_eq!(
                    reply.body["allowReceiving"].as_bool(),
                    Some(balance.allow_receiving)
                );
                Ok(())
            }
            Cmd::Replay { which, other_body } => {
                if self.model.sent.is_empty() {
                    return Ok(());
                }
                let sent = self.model.sent[which % self.model.sent.len()].clone();
                let (path, body) = if *other_body {
                    // Another, valid body: the key alone decides.
                    let body = json!({"send": {"asset": "USD", "value": "0.01",
                        "distribute": {"to": [leg_json("@a", &Part::Remaining, false)]}}});
                    ("/transactions/inflow".to_owned(), body)
                } else {
                    (sent.path.clone(), sent.body.clone())
                };
                self.create(&path, body, Some(sent.key), |_| {
                    unreachable!("a stored key replays")
                })
                .await
            }
            Cmd::NonPositive { negative, key } => {
                let value = if *negative { "-5" } else { "0" };
                let body = json!({"send": {"asset": "USD", "value": value,
                    "source": {"from": [leg_json("@a", &Part::Remaining, false)]},
                    "distribute": {"to": [leg_json("@b", &Part::Remaining, false)]}}});
                let key = self.model.header_key(key);
                let reply = self
                    .send(
                        Method::POST,
                        "/transactions/json",
                        Some(&body),
                        key.as_deref(),
                    )
                    .await;
                // Body rules come before the idempotency lookup: even a stored key is 0125.
                check_rejection(&reply, (422, "0125"), "non-positive value")
            }
        }
    }

    /// Every transaction of the ledger reads back as the model holds it, and no other exists.
    async fn check_transactions(&self) -> Result<(), TestCaseError> {
        prop_assert!(self.model.txs.len() <= LIST_LIMIT_MAX);
        let reply = self
            .send(
                Method::GET,
                &format!("/transactions?limit={LIST_LIMIT_MAX}"),
                None,
                None,
            )
            .await;
        prop_assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
        let mut listed: Vec<&str> = reply.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|t| t["id"].as_str().expect("id"))
            .collect();
        let mut known: Vec<&str> = self.model.txs.iter().map(|t| t.id.as_str()).collect();
        listed.sort_unstable();
        known.sort_unstable();
        prop_assert_eq!(listed, known, "the ledger's transactions");
        for tx in &self.model.txs {
            let reply = self
                .send(Method::GET, &format!("/transactions/{}", tx.id), None, None)
                .await;
            prop_assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
            check_tx(&reply.body, tx, tx.status)?;
        }
        Ok(())
    }

    fn audit(&self) -> Result<(), TestCaseError> {
        let conn = rusqlite::Connection::open_with_flags(
            self.app
                .data_dir
                .join(format!("tenants/{}.sqlite", self.tenant)),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("tenant file");
        let audit = ledgerlite::store::chain::audit(&conn).expect("audit runs");
        prop_assert!(audit.ok(), "the audit disagrees: {:?}", audit.problems);
        prop_assert!(audit.balances > 0);
        Ok(())
    }
}

async fn run(app: &TestApp, cmds: &[Cmd]) -> Result<(), TestCaseError> {
    let mut case = Case::new(app).await;
    for (step, cmd) in cmds.iter().enumerate() {
        case.apply(cmd)
            .await
            .map_err(|e| TestCaseError::fail(format!("step {step} {cmd:?}: {e}")))?;
        case.check_balances()
            .await
            .map_err(|e| TestCaseError::fail(format!("after step {step} {cmd:?}: {e}")))?;
    }
    case.check_transactions().await?;
    case.audit()
}

/// The runner's configuration: fixed seed and case count unless the environment says
/// otherwise, regressions saved next to this file.
fn config() -> Config {
    common::seeded_config(
        MODEL_CASES_DEFAULT,
        MODEL_SEED_DEFAULT,
        SHRINK_ITERATIONS_MAX,
        REGRESSIONS_FILE,
    )
}

#[test]
fn the_server_behaves_like_the_model() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let app = runtime.block_on(spawn_multi_tenant(|config| {
        config.auto_provision = true;
        config.sync = ledgerlite::store::SyncMode::Normal;
    }));
    let config = config();
    eprintln!("model: {} cases, seed {:?}", config.cases, config.rng_seed);
    let config_cases = config.cases;
    let mut runner = TestRunner::new(config);
    let commands = prop::collection::vec(command(), 1..=STEPS_PER_CASE_MAX);
    let result = runner.run(&commands, |cmds| runtime.block_on(run(&app, &cmds)));
    if let Err(error) = result {
        panic!("{error}");
    }
    let outcomes = OUTCOMES.lock().expect("tally").clone();
    eprintln!("model outcomes: {outcomes:?}");
    if config_cases >= MODEL_CASES_DEFAULT {
        let missing: Vec<&&str> = OUTCOMES_REQUIRED
            .iter()
            .filter(|o| !outcomes.contains_key(**o))
            .collect();
        assert!(missing.is_empty(), "the run never produced {missing:?}");
    }
}
