//! Property tests of the ledger's invariants, run in process against real tenant files.
//!
//! Random sequences of transfers, deposits, withdrawals, pending transactions, commits,
//! cancels, reverts and deliberately invalid requests are applied through the use cases. After
//! every step: per asset, Σ(available + onHold) of the credit-direction balances equals
//! Σ(available − onHold) of the debit-direction ones (`@external/USD`) — money is neither
//! created nor lost —, no internal balance is below zero, a balance owing an overdraft has
//! nothing available and its account's overdraft balance mirrors what is owed, every balance
//! equals the replay of its operations, and a rejected step changed nothing at all. `@d` may
//! be overdrawn up to 200; every account has a `blocked` balance that block and unblock
//! transactions move funds to and from.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::num::NonZeroUsize;

use ledgerlite::domain::entities::{
    Account, Asset, Balance, BalanceSettings, Ledger, NewAccount, NewAsset, NewLedger,
    NewOrganization, Organization, Status,
};
use ledgerlite::domain::ids::{AccountId, TransactionId};
use ledgerlite::domain::journal::Direction;
use ledgerlite::domain::metadata::Metadata;
use ledgerlite::domain::scope::Parent;
use ledgerlite::domain::tenant::TenantId;
use ledgerlite::domain::transaction::{Leg, LegValue};
use ledgerlite::ledger::balances;
use ledgerlite::ledger::transactions::{self, Idempotency, Mode, NewTransaction};
use ledgerlite::ledger::{self, Tenant};
use ledgerlite::store::{Missing, Registry, StoreConfig, SyncMode};
use proptest::prelude::*;
use rust_decimal::Decimal;

const ACCOUNTS: usize = 4;
const ALIASES: [&str; ACCOUNTS] = ["@a", "@b", "@c", "@d"];

#[derive(Debug, Clone)]
enum Step {
    Deposit {
        to: usize,
        cents: i64,
    },
    Withdraw {
        from: usize,
        cents: i64,
    },
    Transfer {
        from: usize,
        to: usize,
        cents: i64,
    },
    Split {
        from: usize,
        to: (usize, usize),
        cents: i64,
        percent: i64,
    },
    Hold {
        from: usize,
        to: usize,
        cents: i64,
    },
    Commit(usize),
    Cancel(usize),
    Revert(usize),
    Unbalanced {
        from: usize,
        to: usize,
        cents: i64,
    },
    UnknownAlias {
        cents: i64,
    },
    /// `default` → `blocked` of one account (BLOCK), or back (UNBLOCK).
    Block {
        account: usize,
        cents: i64,
        unblock: bool,
    },
}

/// What `@d` may owe.
const OVERDRAFT_LIMIT_CENTS: i64 = 20_000;
/// The additional balance block transactions fill.
const BLOCKED_KEY: &str = "blocked";

fn step() -> impl Strategy<Value = Step> {
    let account = 0..ACCOUNTS;
    let cents = 1i64..50_000;
    prop_oneof![
        3 => (account.clone(), cents.clone()).prop_map(|(to, cents)| Step::Deposit { to, cents }),
        1 => (account.clone(), cents.clone()).prop_map(|(from, cents)| Step::Withdraw { from, cents }),
        4 => (account.clone(), account.clone(), cents.clone()).prop_map(|(from, to, cents)| Step::Transfer { from, to, cents }),
        1 => (account.clone(), account.clone(), account.clone(), cents.clone(), 1i64..100)
            .prop_map(|(from, a, b, cents, percent)| Step::Split { from, to: (a, b), cents, percent }),
        2 => (account.clone(), account.clone(), cents.clone()).prop_map(|(from, to, cents)| Step::Hold { from, to, cents }),
        2 => (0usize..8).prop_map(Step::Commit),
        1 => (0usize..8).prop_map(Step::Cancel),
        1 => (0usize..8).prop_map(Step::Revert),
        1 => (account.clone(), account.clone(), cents.clone()).prop_map(|(from, to, cents)| Step::Unbalanced { from, to, cents }),
        1 => cents.clone().prop_map(|cents| Step::UnknownAlias { cents }),
        2 => (account.clone(), cents, any::<bool>())
            .prop_map(|(account, cents, unblock)| Step::Block { account, cents, unblock }),
    ]
}

struct World {
    _dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
    tenant: Tenant,
    parent: Parent,
    file: std::path::PathBuf,
    pending: Vec<TransactionId>,
    approved: Vec<TransactionId>,
    key: u64,
}

fn amount(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

fn leg(alias: &str, value: LegValue) -> Leg {
    Leg::new(alias, "default", value)
}

fn transfer(mode: Mode, value: Decimal, from: Vec<Leg>, to: Vec<Leg>) -> NewTransaction {
    NewTransaction {
        mode,
        description: None,
        chart_of_accounts_group_name: None,
        route: None,
        route_id: None,
        metadata: Metadata::new(),
        asset: "USD".to_owned(),
        value,
        from,
        to,
    }
}

impl World {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::new(StoreConfig {
            data_dir: dir.path().to_owned(),
            sync: SyncMode::Normal,
            tenant_cache: NonZeroUsize::new(2).unwrap(),
            ..StoreConfig::with_data_dir(dir.path())
        })
        .unwrap();
        let id = TenantId::parse("prop").unwrap();
        let tenant = Tenant::from(registry.open(&id, Missing::Create).unwrap());
        let file = registry.file_of(&id);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let parent = runtime.block_on(async {
            let org = ledger::create::<Organization>(
                &tenant,
                Parent::Root,
                NewOrganization {
                    legal_name: "Prop".into(),
                    legal_document: "1".into(),
                    doing_business_as: None,
                    parent_organization_id: None,
                    address: Default::default(),
                    status: Status::active(),
                    metadata: Metadata::new(),
                },
            )
            .await
            .unwrap();
            let ledger = ledger::create::<Ledger>(
                &tenant,
                Parent::Organization(org.id.clone().into()),
                NewLedger {
                    name: "L".into(),
                    settings: Default::default(),
                    status: Status::active(),
                    metadata: Metadata::new(),
                },
            )
            .await
            .unwrap();
            let parent = Parent::Ledger {
                organization_id: org.id.into(),
                ledger_id: ledger.id.into(),
            };
            let asset = NewAsset {
                name: "Dollar".into(),
                kind: "currency".into(),
                code: "USD".into(),
                status: Status::active(),
                metadata: Metadata::new(),
            };
            ledger::create::<Asset>(&tenant, parent.clone(), asset)
                .await
                .unwrap();
            for alias in ALIASES {
                let new = NewAccount {
                    name: None,
                    alias: Some(alias.to_owned()),
                    kind: "deposit".into(),
                    asset_code: "USD".into(),
                    parent_account_id: None,
                    portfolio_id: None,
                    segment_id: None,
                    entity_id: None,
                    blocked: false,
                    status: Status::active(),
                    metadata: Metadata::new(),
                };
                let account = ledger::create::<Account>(&tenant, parent.clone(), new)
                    .await
                    .unwrap();
                let account_id = AccountId::new(account.id);
                let blocked = balances::NewBalance {
                    key: BLOCKED_KEY.to_owned(),
                    allow_sending: true,
                    allow_receiving: true,
                    direction: Direction::Credit,
                    settings: None,
                };
                balances::create(&tenant, parent.clone(), account_id.clone(), blocked)
                    .await
                    .unwrap();
                if alias == "@d" {
                    let all = ledger::list_by_cursor::<Balance>(
                        &tenant,
                        parent.account(account_id).unwrap(),
                        Default::default(),
                    )
                    .await
                    .unwrap();
                    let default = all.items.into_iter().find(|b| b.key == "default").unwrap();
                    let settings = BalanceSettings {
                        balance_scope: None,
                        allow_overdraft: true,
                        overdraft_limit_enabled: true,
                        overdraft_limit: Some(amount(OVERDRAFT_LIMIT_CENTS)),
                    };
                    let change = balances::Change {
                        allow_sending: None,
                        allow_receiving: None,
                        settings: Some(settings),
                    };
                    balances::update(&tenant, parent.clone(), default.id, change)
                        .await
                        .unwrap();
                }
            }
            parent
        });
        Self {
            _dir: dir,
            runtime,
            tenant,
            parent,
            file,
            pending: Vec::new(),
            approved: Vec::new(),
            key: 0,
        }
    }

    fn create(
        &mut self,
        new: NewTransaction,
    ) -> Result<serde_json::Value, ledgerlite::error::Error> {
        self.key += 1;
        let idempotency = Idempotency {
            key: format!("k{}", self.key),
            ttl_seconds: 300,
        };
        let created = self.runtime.block_on(transactions::create(
            &self.tenant,
            self.parent.clone(),
            new,
            idempotency,
        ))?;
        Ok(created.into_value().unwrap())
    }

    /// Applies a step; returns whether it was accepted.
    fn apply(&mut self, step: &Step) -> Result<(), ledgerlite::error::Error> {
        let external = "@external/USD";
        match step.clone() {
            Step::Deposit { to, cents } => {
                let v = amount(cents);
                let tx = self.create(transfer(
                    Mode::Immediate,
                    v,
                    vec![leg(external, LegValue::Amount(v))],
                    vec![leg(ALIASES[to], LegValue::Amount(v))],
                ))?;
                self.approved
                    .push(TransactionId::new(tx["id"].as_str().unwrap()));
            }
            Step::Withdraw { from, cents } => {
                let v = amount(cents);
                let tx = self.create(transfer(
                    Mode::Immediate,
                    v,
                    vec![leg(ALIASES[from], LegValue::Amount(v))],
                    vec![leg(external, LegValue::Amount(v))],
                ))?;
                self.approved
                    .push(TransactionId::new(tx["id"].as_str().unwrap()));
            }
            Step::Transfer { from, to, cents } => {
                let v = amount(cents);
                let tx = self.create(transfer(
                    Mode::Immediate,
                    v,
                    vec![leg(ALIASES[from], LegValue::Amount(v))],
                    vec![leg(ALIASES[to], LegValue::Remaining)],
                ))?;
                self.approved
                    .push(TransactionId::new(tx["id"].as_str().unwrap()));
            }
            Step::Split {
                from,
                to: (a, b),
                cents,
                percent,
            } => {
                let v = amount(cents);
                let share = LegValue::Share {
                    percentage: Decimal::from(percent),
                    of: Decimal::ONE_HUNDRED,
                };
                let tx = self.create(transfer(
                    Mode::Immediate,
                    v,
                    vec![leg(ALIASES[from], LegValue::Amount(v))],
                    vec![leg(ALIASES[a], share), leg(ALIASES[b], LegValue::Remaining)],
                ))?;
                self.approved
                    .push(TransactionId::new(tx["id"].as_str().unwrap()));
            }
            Step::Hold { from, to, cents } => {
                let v = amount(cents);
                let tx = self.create(transfer(
                    Mode::Pending,
                    v,
                    vec![leg(ALIASES[from], LegValue::Amount(v))],
                    vec![leg(ALIASES[to], LegValue::Amount(v))],
                ))?;
                self.pending
                    .push(TransactionId::new(tx["id"].as_str().unwrap()));
            }
            Step::Commit(k) | Step::Cancel(k) => {
                let commit = matches!(step, Step::Commit(_));
                let Some(id) = self.pending.get(k % self.pending.len().max(1)).cloned() else {
                    return Ok(());
                };
                self.runtime.block_on(transactions::settle(
                    &self.tenant,
                    self.parent.clone(),
                    id.clone(),
                    commit,
                ))?;
                if commit {
                    self.approved.push(id);
                }
            }
            Step::Revert(k) => {
                let Some(id) = self.approved.get(k % self.approved.len().max(1)).cloned() else {
                    return Ok(());
                };
                let tx = self.runtime.block_on(transactions::revert(
                    &self.tenant,
                    self.parent.clone(),
                    id,
                ))?;
                self.approved.push(tx.id);
            }
            Step::Unbalanced { from, to, cents } => {
                let v = amount(cents);
                let short = amount(cents - 1).max(Decimal::new(1, 3));
                self.create(transfer(
                    Mode::Immediate,
                    v,
                    vec![leg(ALIASES[from], LegValue::Amount(short))],
                    vec![leg(ALIASES[to], LegValue::Amount(v))],
                ))?;
            }
            Step::Block {
                account,
                cents,
                unblock,
            } => {
                let v = amount(cents);
                let (mode, from, to) = if unblock {
                    (Mode::Unblock, BLOCKED_KEY, "default")
                } else {
                    (Mode::Block, "default", BLOCKED_KEY)
                };
                let tx = self.create(transfer(
                    mode,
                    v,
                    vec![Leg::new(ALIASES[account], from, LegValue::Amount(v))],
                    vec![Leg::new(ALIASES[account], to, LegValue::Amount(v))],
                ))?;
                self.approved
                    .push(TransactionId::new(tx["id"].as_str().unwrap()));
            }
            Step::UnknownAlias { cents } => {
                let v = amount(cents);
                self.create(transfer(
                    Mode::Immediate,
                    v,
                    vec![leg(external, LegValue::Amount(v))],
                    vec![leg("@nobody", LegValue::Amount(v))],
                ))?;
            }
        }
        Ok(())
    }

    /// Every row of balances, transactions, operations and idempotency keys, as text.
    fn state(&self) -> BTreeMap<String, String> {
        let conn = rusqlite::Connection::open_with_flags(
            &self.file,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let mut state = BTreeMap::new();
        for (table, columns) in [
            (
                "balance",
                "available, on_hold, version, overdraft_used, settings, deleted_at",
            ),
            ("ledger_transaction", "status_code, amount, idempotency_key"),
            (
                "operation",
                "type, amount, available_after, on_hold_after, version_after",
            ),
            (
                "idempotency_record",
                "transaction_id, response, expires_at_ms",
            ),
        ] {
            let id = if table == "idempotency_record" {
                "ledger_id || '/' || key"
            } else {
                "CAST(id AS TEXT)"
            };
            let sql = format!("SELECT {id}, json_array({columns}) FROM {table}");
            let mut statement = conn.prepare(&sql).unwrap();
            let rows = statement
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .unwrap();
            for row in rows {
                let (id, values) = row.unwrap();
                state.insert(format!("{table}/{id}"), values);
            }
        }
        state
    }

    fn check_invariants(&self) {
        let conn = rusqlite::Connection::open_with_flags(
            &self.file,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let mut balances = conn
            .prepare(
                "SELECT id, asset_code, available, on_hold, version, account_type, direction, \
                 overdraft_used, account_id, key FROM balance WHERE deleted_at IS NULL",
            )
            .unwrap();
        let rows: Vec<BalanceRow> = balances
            .query_map([], |r| {
                Ok(BalanceRow {
                    id: r.get(0)?,
                    asset: r.get(1)?,
                    available: d(&r.get::<_, String>(2)?),
                    on_hold: d(&r.get::<_, String>(3)?),
                    version: r.get(4)?,
                    external: r.get::<_, String>(5)? == "external",
                    debit_direction: r.get::<_, String>(6)? == "debit",
                    overdraft_used: d(&r.get::<_, String>(7)?),
                    account: r.get(8)?,
                    key: r.get(9)?,
                })
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let mut per_asset: BTreeMap<String, Decimal> = BTreeMap::new();
        // Per account: what its balances owe, what its overdraft balance holds.
        let mut owed: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
        for b in rows {
            let id = &b.id;
            *per_asset.entry(b.asset.clone()).or_default() += if b.debit_direction {
                b.on_hold - b.available
            } else {
                b.available + b.on_hold
            };
            assert!(
                b.on_hold >= Decimal::ZERO,
                "balance {id} has negative onHold {}",
                b.on_hold
            );
            if !b.external {
                assert!(
                    b.available >= Decimal::ZERO,
                    "internal balance {id} is below zero: {}",
                    b.available
                );
            }
            assert!(
                b.overdraft_used.is_zero() || b.available.is_zero(),
                "balance {id} owes {} yet has {} available",
                b.overdraft_used,
                b.available
            );
            assert!(
                b.overdraft_used <= amount(OVERDRAFT_LIMIT_CENTS),
                "balance {id} owes past its limit: {}",
                b.overdraft_used
            );
            let entry = owed.entry(b.account.clone()).or_default();
            if b.key == "overdraft" {
                entry.1 += b.available;
            } else {
                entry.0 += b.overdraft_used;
            }
            let (replayed, replayed_version) = replay(&conn, id);
            assert_eq!(
                replayed,
                (b.available, b.on_hold, b.overdraft_used),
                "balance {id} differs from the replay of its operations"
            );
            assert_eq!(
                replayed_version, b.version,
                "balance {id} version differs from its operation count"
            );
        }
        for (asset, total) in per_asset {
            assert_eq!(total, Decimal::ZERO, "asset {asset} is not conserved");
        }
        for (account, (used, mirrored)) in owed {
            assert_eq!(
                used, mirrored,
                "account {account}: owed vs its overdraft balance"
            );
        }
        let audit = ledgerlite::store::chain::audit(&conn).unwrap();
        assert!(audit.ok(), "the audit disagrees: {:?}", audit.problems);
    }
}

struct BalanceRow {
    id: String,
    asset: String,
    available: Decimal,
    on_hold: Decimal,
    version: i64,
    external: bool,
    debit_direction: bool,
    overdraft_used: Decimal,
    account: String,
    key: String,
}

fn d(s: &str) -> Decimal {
    s.parse::<Decimal>().unwrap()
}

/// A balance as an operation saw it: available, on hold, overdraft used, version.
type Seen = (Decimal, Decimal, Decimal, i64);

/// Replays a balance's operations from zero, checking each one's before-snapshot and that its
/// after-snapshot is exactly its type applied to its amount: on a credit-direction balance a
/// CREDIT adds `v` to what it holds net of its overdraft (`available − overdraftUsed`), a DEBIT
/// takes it; a debit-direction balance the other way round; holds move `v` between that and
/// onHold; OVERDRAFT, BLOCK and UNBLOCK move like DEBIT or CREDIT by their direction.
fn replay(conn: &rusqlite::Connection, balance_id: &str) -> ((Decimal, Decimal, Decimal), i64) {
    let mut statement = conn
        .prepare(
            "SELECT type, direction, balance_direction, amount, available_before, on_hold_before, \
             overdraft_used_before, version_before, available_after, on_hold_after, \
             overdraft_used_after, version_after FROM operation \
             WHERE balance_id = ? AND balance_affected = 1 ORDER BY rowid",
        )
        .unwrap();
    type Row = (String, String, String, String, Seen, Seen);
    let seen = |r: &rusqlite::Row<'_>, at: usize| -> rusqlite::Result<Seen> {
        Ok((
            d(&r.get::<_, String>(at)?),
            d(&r.get::<_, String>(at + 1)?),
            d(&r.get::<_, String>(at + 2)?),
            r.get(at + 3)?,
        ))
    };
    let ops: Vec<Row> = statement
        .query_map([balance_id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                seen(r, 4)?,
                seen(r, 8)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut state: Seen = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, 1);
    for (kind, direction, balance_direction, amount, before, after) in ops {
        assert_eq!(before, state, "operation before-snapshot of {balance_id}");
        let v = d(&amount);
        let sign = if balance_direction == "debit" {
            -Decimal::ONE
        } else {
            Decimal::ONE
        };
        let net = |s: &Seen| s.0 - s.2;
        let (dn, dh) = (net(&after) - net(&before), after.1 - before.1);
        let credit = (sign * v, Decimal::ZERO);
        let debit = (-sign * v, Decimal::ZERO);
        let consistent = match (kind.as_str(), direction.as_str()) {
            ("CREDIT", _) => (dn, dh) == credit,
            ("DEBIT", _) => (dn, dh) == debit || (dn, dh) == (Decimal::ZERO, -v),
            ("ON_HOLD", _) => (dn, dh) == (-sign * v, v),
            ("RELEASE", _) => (dn, dh) == (sign * v, -v),
            ("OVERDRAFT" | "BLOCK" | "UNBLOCK", "credit") => (dn, dh) == credit,
            ("OVERDRAFT" | "BLOCK" | "UNBLOCK", "debit") => (dn, dh) == debit,
            _ => false,
        };
        assert!(
            consistent,
            "{kind} {direction} of {v} moved {balance_id} net by {dn} and onHold by {dh}"
        );
        assert_eq!(
            after.3,
            before.3 + 1,
            "version must grow by one per operation"
        );
        state = after;
    }
    ((state.0, state.1, state.2), state.3)
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(24)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn money_is_conserved_and_rejections_change_nothing(steps in prop::collection::vec(step(), 1..40)) {
        let mut world = World::new();
        for step in &steps {
            let before = world.state();
            match world.apply(step) {
                Ok(()) => {}
                Err(error) => {
                    prop_assert!(error.spec().status < 500, "{step:?} failed with {error:?}");
                    prop_assert_eq!(&world.state(), &before, "rejected {:?} ({}) changed the tenant", step, error.spec().code);
                }
            }
            world.check_invariants();
        }
    }
}
