//! Balances: reads, flag changes, additional keys, deletion and point-in-time history.

use super::Tenant;
use rust_decimal::Decimal;

use super::{ensure_parent, new_id};
use crate::domain::entities::{Account, Balance};
use crate::domain::ids::{AccountId, BalanceId, LedgerId, OrganizationId};
use crate::domain::journal::BalanceSnapshot;
use crate::domain::metadata::Metadata;
use crate::domain::query::CursorPage;
use crate::domain::query::ListQuery;
use crate::domain::scope::Parent;
use crate::domain::time::now;
use crate::error::{Error, Kind, Result};
use crate::store::{self, balances, onboarding, transactions as sql};

/// Balance keys nobody may create: reserved for system-managed balances.
pub const RESERVED_BALANCE_KEYS: &[&str] = &["overdraft"];

fn ledger_keys(parent: &Parent) -> Vec<(&'static str, String)> {
    match parent {
        Parent::Ledger {
            organization_id,
            ledger_id,
        } => {
            vec![
                ("organization_id", organization_id.to_string()),
                ("ledger_id", ledger_id.to_string()),
            ]
        }
        _ => Vec::new(),
    }
}

/// A cursor page of the ledger's balances, or of one account's when `account_id` is given.
pub async fn list(
    tenant: &Tenant,
    parent: Parent,
    account_id: Option<AccountId>,
    query: ListQuery,
) -> Result<CursorPage<Balance>> {
    super::read_in(tenant, parent, move |conn, parent| {
        let mut keys = ledger_keys(parent);
        if let Some(account_id) = account_id {
            store::get::<Account>(conn, parent, account_id.as_str())?;
            keys.push(("account_id", account_id.into_string()));
        }
        let keys: Vec<(&'static str, &str)> = keys.iter().map(|(k, v)| (*k, v.as_str())).collect();
        sql::list_balances(conn, &keys, &query)
    })
    .await
}

/// Balances of the account with `alias` (`@external/<code>` when `external` is set).
pub async fn of_alias(tenant: &Tenant, parent: Parent, alias: String) -> Result<Vec<Balance>> {
    super::read_in(tenant, parent, move |conn, parent| {
        let Parent::Ledger { ledger_id, .. } = parent else {
            return Err(Error::internal("balances outside a ledger"));
        };
        let account = onboarding::account_by_alias(conn, ledger_id.as_str(), &alias)?
            .ok_or_else(|| Error::new(Kind::AccountAliasNotFound))?;
        balances::of_account(conn, &AccountId::new(account.id))
    })
    .await
}

pub struct Flags {
    pub allow_sending: Option<bool>,
    pub allow_receiving: Option<bool>,
}

pub async fn update(
    tenant: &Tenant,
    parent: Parent,
    id: BalanceId,
    flags: Flags,
) -> Result<Balance> {
    super::update(
        tenant,
        parent,
        id.into_string(),
        move |_, b: &mut Balance| {
            if let Some(allow) = flags.allow_sending {
                b.allow_sending = allow;
            }
            if let Some(allow) = flags.allow_receiving {
                b.allow_receiving = allow;
            }
            Ok(())
        },
    )
    .await
}

/// Deletes a balance holding nothing (0093 otherwise).
pub async fn delete(tenant: &Tenant, parent: Parent, id: BalanceId) -> Result<()> {
    tenant
        .writer()
        .write(move |conn| {
            ensure_parent(conn, &parent)?;
            let balance = store::get::<Balance>(conn, &parent, id.as_str())?;
            if !balance.available.is_zero() || !balance.on_hold.is_zero() {
                return Err(Error::new(Kind::BalancesCantBeDeleted));
            }
            store::delete::<Balance>(conn, &parent, id.as_str(), &now())
        })
        .await
}

pub struct NewBalance {
    pub key: String,
    pub allow_sending: bool,
    pub allow_receiving: bool,
}

/// Adds a balance under a new key to an account (not external: 0124; key taken: 0123).
pub async fn create(
    tenant: &Tenant,
    parent: Parent,
    account_id: AccountId,
    new: NewBalance,
) -> Result<Balance> {
    tenant
        .writer()
        .write(move |conn| {
            ensure_parent(conn, &parent)?;
            let account = store::get::<Account>(conn, &parent, account_id.as_str())?;
            if account.is_external() {
                return Err(Error::new(Kind::AdditionalBalanceNotAllowed));
            }
            if RESERVED_BALANCE_KEYS.contains(&new.key.as_str()) {
                return Err(Error::new(Kind::ReservedBalanceKey));
            }
            let ledger_id = LedgerId::new(account.ledger_id.clone());
            if sql::balance_by_alias(conn, &ledger_id, &account.alias, &new.key)?.is_some() {
                return Err(Error::new(Kind::DuplicatedAliasKeyValue));
            }
            let at = now();
            let balance = Balance {
                id: BalanceId::new(new_id()),
                organization_id: OrganizationId::new(account.organization_id.clone()),
                ledger_id,
                account_id,
                alias: account.alias.clone(),
                key: new.key,
                asset_code: account.asset_code.clone(),
                available: Decimal::ZERO,
                on_hold: Decimal::ZERO,
                version: 1,
                account_type: account.kind.clone(),
                allow_sending: new.allow_sending,
                allow_receiving: new.allow_receiving,
                overdraft: Default::default(),
                stamps: crate::domain::entities::Stamps::new(at),
                metadata: Metadata::new(),
            };
            balances::save_balance(conn, &balance)?;
            Ok(balance)
        })
        .await
}

/// A balance as it stood at `at`: after its last operation until then, zero if none yet;
/// 0141 when the balance did not exist yet.
fn at_time(conn: &rusqlite::Connection, mut balance: Balance, at: &str) -> Result<Balance> {
    if balance.stamps.created_at.as_str() > at {
        return Err(Error::new(Kind::NoBalanceDataAtTimestamp));
    }
    let snapshot = sql::snapshot_at(conn, &balance.account_id, &balance.id, at)?
        .unwrap_or(BalanceSnapshot::OPENED);
    balance.available = snapshot.available;
    balance.on_hold = snapshot.on_hold;
    balance.version = snapshot.version;
    Ok(balance)
}

pub async fn history(
    tenant: &Tenant,
    parent: Parent,
    id: BalanceId,
    at: String,
) -> Result<Balance> {
    super::read_in(tenant, parent, move |conn, parent| {
        let balance = store::get::<Balance>(conn, parent, id.as_str())?;
        at_time(conn, balance, &at)
    })
    .await
}

pub async fn account_history(
    tenant: &Tenant,
    parent: Parent,
    account_id: AccountId,
    at: String,
) -> Result<Vec<Balance>> {
    super::read_in(tenant, parent, move |conn, parent| {
        store::get::<Account>(conn, parent, account_id.as_str())?;
        let all = balances::of_account(conn, &account_id)?;
        let existing: Vec<Balance> = all
            .into_iter()
            .filter(|b| b.stamps.created_at.as_str() <= at.as_str())
            .collect();
        if existing.is_empty() {
            return Err(Error::new(Kind::NoBalanceDataAtTimestamp));
        }
        existing
            .into_iter()
            .map(|b| at_time(conn, b, &at))
            .collect()
    })
    .await
}
