//! Balances: reads, flag changes, additional keys, deletion and point-in-time history.

use super::Tenant;

use super::{ensure_parent, new_id, set};
use crate::domain::entities::{Account, Balance, BalanceSettings, OVERDRAFT_BALANCE_KEY, Stamps};
use crate::domain::ids::{AccountId, BalanceId, LedgerId};
use crate::domain::journal::{BalanceSnapshot, Direction};
use crate::domain::scope::Parent;
use crate::domain::time::now;
use crate::error::{Error, Kind, Result};
use crate::store::{self, balances, onboarding, transactions as sql};

/// Balance keys nobody may create: reserved for system-managed balances.
pub const RESERVED_BALANCE_KEYS: &[&str] = &[OVERDRAFT_BALANCE_KEY];

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

/// What `PATCH …/balances/{id}` changes: absent fields are kept; settings are replaced whole.
pub struct Change {
    pub allow_sending: Option<bool>,
    pub allow_receiving: Option<bool>,
    pub settings: Option<BalanceSettings>,
}

/// Changes a balance's flags and settings (Midaz v3.8): an internal balance is never changed
/// (0175); settings are checked (0172) and may not limit the overdraft below what is owed
/// (0173); allowing an overdraft opens the account's overdraft balance if it has none.
pub async fn update(
    tenant: &Tenant,
    parent: Parent,
    id: BalanceId,
    change: Change,
) -> Result<Balance> {
    super::change(
        tenant,
        parent,
        id.into_string(),
        move |conn, _, b: &mut Balance| {
            if b.is_internal() {
                return Err(Error::new(Kind::InternalBalanceUpdated));
            }
            if let Some(settings) = change.settings {
                settings.check()?;
                let limit = settings
                    .overdraft_limit
                    .filter(|_| settings.overdraft_limit_enabled);
                if limit.is_some_and(|limit| limit < b.overdraft_used) {
                    return Err(Error::new(Kind::OverdraftLimitBelowUsage));
                }
                if settings.allow_overdraft {
                    open_overdraft_balance(conn, b)?;
                }
                b.settings = Some(settings);
            }
            set(&mut b.allow_sending, change.allow_sending);
            set(&mut b.allow_receiving, change.allow_receiving);
            Ok(())
        },
    )
    .await
}

/// Opens the internal overdraft balance of `balance`'s account unless it has one.
fn open_overdraft_balance(conn: &rusqlite::Connection, balance: &Balance) -> Result<()> {
    let existing = sql::balance_by_alias(
        conn,
        &balance.ledger_id,
        &balance.alias,
        OVERDRAFT_BALANCE_KEY,
    )?;
    if existing.is_some() {
        return Ok(());
    }
    let account = onboarding::account_by_alias(conn, balance.ledger_id.as_str(), &balance.alias)?
        .ok_or_else(|| {
        Error::internal(format!("the account of {} is missing", balance.alias))
    })?;
    let id = BalanceId::new(new_id());
    balances::save_balance(
        conn,
        &Balance::overdraft_of(id, &account, Stamps::new(now())),
    )
}

/// Deletes a balance holding nothing (0093 otherwise); never an internal one (0169).
pub async fn delete(tenant: &Tenant, parent: Parent, id: BalanceId) -> Result<()> {
    tenant
        .writer()
        .write(move |conn| {
            ensure_parent(conn, &parent)?;
            let balance = store::get::<Balance>(conn, &parent, id.as_str())?;
            if balance.is_internal() {
                return Err(Error::new(Kind::InternalBalanceDeleted));
            }
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
    pub direction: Direction,
    pub settings: Option<BalanceSettings>,
}

/// Adds a balance under a new key to an account, in Midaz's order: key reserved (0170),
/// settings (0172), key taken (0123), external account (0124). Allowing an overdraft opens
/// the account's overdraft balance.
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
            if RESERVED_BALANCE_KEYS.contains(&new.key.as_str()) {
                return Err(Error::new(Kind::ReservedBalanceKey).with_message(format!(
                    "The balance key {} is reserved for system use and cannot be created \
                     through the public API. Please choose a different key and try again.",
                    new.key
                )));
            }
            if let Some(settings) = &new.settings {
                settings.check()?;
            }
            let ledger_id = LedgerId::new(account.ledger_id.clone());
            if sql::balance_by_alias(conn, &ledger_id, &account.alias, &new.key)?.is_some() {
                return Err(Error::new(Kind::DuplicatedAliasKeyValue));
            }
            if account.is_external() {
                return Err(Error::new(Kind::AdditionalBalanceNotAllowed));
            }
            let id = BalanceId::new(new_id());
            let balance = Balance {
                allow_sending: new.allow_sending,
                allow_receiving: new.allow_receiving,
                direction: new.direction,
                settings: new.settings,
                ..Balance::opened(id, &account, &new.key, Stamps::new(now()))
            };
            balances::save_balance(conn, &balance)?;
            if balance.settings.as_ref().is_some_and(|s| s.allow_overdraft) {
                open_overdraft_balance(conn, &balance)?;
            }
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
    balance.overdraft_used = snapshot.overdraft_used;
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

/// The balances of the account of `parent` as they were at `at`.
pub async fn account_history(tenant: &Tenant, parent: Parent, at: String) -> Result<Vec<Balance>> {
    let account_id = parent.account_id()?.clone();
    super::read_in(tenant, parent, move |conn, _| {
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
