//! ledgerlite as a Rust library, with no HTTP: a tenant file in a temporary folder, an
//! organization, a ledger, a USD asset, two accounts, 100 USD in from outside, 30 USD moved
//! from one account to the other, balances printed and checked, the audit run.
//!
//! ```sh
//! cargo run --example embed            # exits 1 if a balance or the audit is wrong
//! ```

use anyhow::{Context, ensure};
use ledgerlite::Engine;
use ledgerlite::domain::entities::{
    Account, Address, Asset, DEFAULT_BALANCE_KEY, Ledger, LedgerSettings, NewAccount, NewAsset,
    NewLedger, NewOrganization, Organization, Status, external_alias,
};
use ledgerlite::domain::metadata::Metadata;
use ledgerlite::domain::scope::Parent;
use ledgerlite::domain::transaction::{Leg, LegValue};
use ledgerlite::ledger::transactions::{
    self, IDEMPOTENCY_TTL_DEFAULT_SECONDS, Idempotency, Mode, NewTransaction,
};
use ledgerlite::ledger::{self, Tenant};
use ledgerlite::ledger::{audit, balances};
use rust_decimal::Decimal;

/// Money brought in from outside, in USD.
const INFLOW_USD: i64 = 100;
/// Money moved from Alice to Bob, in USD.
const TRANSFER_USD: i64 = 30;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let engine = Engine::open(dir.path())?;
    let tenant = engine.tenant("acme")?;

    let organization = ledger::create::<Organization>(
        &tenant,
        Parent::Root,
        NewOrganization {
            legal_name: "Acme Ltd".to_owned(),
            legal_document: "123456789".to_owned(),
            doing_business_as: None,
            parent_organization_id: None,
            address: Address::default(),
            status: Status::active(),
            metadata: Metadata::new(),
        },
    )
    .await?;
    let ledger = ledger::create::<Ledger>(
        &tenant,
        Parent::Organization(organization.id.clone().into()),
        NewLedger {
            name: "Main".to_owned(),
            settings: LedgerSettings::default(),
            status: Status::active(),
            metadata: Metadata::new(),
        },
    )
    .await?;
    let parent = Parent::Ledger {
        organization_id: organization.id.into(),
        ledger_id: ledger.id.into(),
    };
    ledger::create::<Asset>(
        &tenant,
        parent.clone(),
        NewAsset {
            name: "US Dollar".to_owned(),
            kind: "currency".to_owned(),
            code: "USD".to_owned(),
            status: Status::active(),
            metadata: Metadata::new(),
        },
    )
    .await?;
    for alias in ["@alice", "@bob"] {
        ledger::create::<Account>(&tenant, parent.clone(), deposit_account(alias)).await?;
    }

    let inflow = Decimal::from(INFLOW_USD);
    post(&tenant, &parent, &external_alias("USD"), "@alice", inflow).await?;
    let transfer = Decimal::from(TRANSFER_USD);
    post(&tenant, &parent, "@alice", "@bob", transfer).await?;

    let alice = available(&tenant, &parent, "@alice").await?;
    let bob = available(&tenant, &parent, "@bob").await?;
    let external = available(&tenant, &parent, &external_alias("USD")).await?;
    println!("@alice        {alice} USD");
    println!("@bob          {bob} USD");
    println!("@external/USD {external} USD");
    ensure!(
        alice == inflow - transfer,
        "@alice has {alice}, expected 70"
    );
    ensure!(bob == transfer, "@bob has {bob}, expected 30");
    // @external/USD is debit-direction: it shows what came in from outside.
    ensure!(alice + bob == external, "money is not conserved");

    let report = audit::verify(&tenant).await?;
    ensure!(report.ok(), "audit failed: {:?}", report.problems);
    println!(
        "audit ok: {} chain entries, {} operations",
        report.chain_entries, report.operations
    );
    Ok(())
}

fn deposit_account(alias: &str) -> NewAccount {
    NewAccount {
        name: Some(alias.trim_start_matches('@').to_owned()),
        alias: Some(alias.to_owned()),
        kind: "deposit".to_owned(),
        asset_code: "USD".to_owned(),
        parent_account_id: None,
        portfolio_id: None,
        segment_id: None,
        entity_id: None,
        blocked: false,
        status: Status::active(),
        metadata: Metadata::new(),
    }
}

fn leg(alias: &str, value: Decimal) -> Leg {
    Leg::new(alias, DEFAULT_BALANCE_KEY, LegValue::Amount(value))
}

/// Moves `value` USD from `from` to `to` in one balanced transaction.
async fn post(
    tenant: &Tenant,
    parent: &Parent,
    from: &str,
    to: &str,
    value: Decimal,
) -> anyhow::Result<()> {
    let new = NewTransaction {
        mode: Mode::Immediate,
        description: Some(format!("{from} to {to}")),
        chart_of_accounts_group_name: None,
        route: None,
        route_id: None,
        metadata: Metadata::new(),
        asset: "USD".to_owned(),
        value,
        from: vec![leg(from, value)],
        to: vec![leg(to, value)],
    };
    // The key makes a retry safe: the same key within its TTL replays the first answer.
    let idempotency = Idempotency {
        key: ledgerlite::ledger::new_id(),
        ttl_seconds: IDEMPOTENCY_TTL_DEFAULT_SECONDS,
    };
    transactions::create(tenant, parent.clone(), new, idempotency).await?;
    Ok(())
}

/// The available amount of the default balance of the account `alias`.
async fn available(tenant: &Tenant, parent: &Parent, alias: &str) -> anyhow::Result<Decimal> {
    let found = balances::of_alias(tenant, parent.clone(), alias.to_owned()).await?;
    let balance = found
        .iter()
        .find(|b| b.key == DEFAULT_BALANCE_KEY)
        .with_context(|| format!("{alias} has no default balance"))?;
    Ok(balance.available)
}
