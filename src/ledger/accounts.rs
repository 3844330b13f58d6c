//! Accounts and the balances created with them; assets' external accounts.

use super::Run;
use super::Tenant;
use rusqlite::Connection;

use super::onboarding::ensure_unique;
use super::{Create, Record, Update, apply_status_and_metadata, new_id, set};
use crate::domain::entities::{
    ACCOUNT_TYPE_EXTERNAL, Account, AccountType, Asset, Balance, DEFAULT_BALANCE_KEY, Ledger,
    NewAccount, Portfolio, STATUS_EXTERNAL, Segment, Stamps, Status, external_alias,
};
use crate::domain::ids::{AccountId, BalanceId};
use crate::domain::metadata::{Metadata, Patch as MetadataPatch};
use crate::domain::scope::Parent;
use crate::domain::time::Timestamp;
use crate::error::{Error, Kind, Result};
use crate::store::onboarding::{self as sql, Unique};
use crate::store::{self, balances};

#[derive(Default)]
pub struct AccountPatch {
    pub name: Option<String>,
    /// `Some(None)` clears the field.
    pub portfolio_id: Option<Option<String>>,
    pub segment_id: Option<Option<String>>,
    pub entity_id: Option<Option<String>>,
    pub blocked: Option<bool>,
    pub status: Option<Status>,
    pub metadata: MetadataPatch,
}

/// Opens the `default` balance of a new account.
fn open_default_balance(conn: &Connection, account: &Account) -> Result<()> {
    let id = BalanceId::new(new_id());
    let balance = Balance::opened(id, account, DEFAULT_BALANCE_KEY, account.stamps.clone());
    balances::save_balance(conn, &balance)
}

/// Creates `@external/<CODE>` and its default balance for a new asset, unless it exists.
pub(crate) fn ensure_external_account(conn: &Connection, asset: &Asset) -> Result<()> {
    let alias = external_alias(&asset.code);
    if sql::account_by_alias(conn, &asset.ledger_id, &alias)?.is_some() {
        return Ok(());
    }
    let account = Account {
        id: new_id(),
        organization_id: asset.organization_id.clone(),
        ledger_id: asset.ledger_id.clone(),
        name: format!("External {}", asset.code),
        alias,
        kind: ACCOUNT_TYPE_EXTERNAL.to_owned(),
        asset_code: asset.code.clone(),
        parent_account_id: None,
        portfolio_id: None,
        segment_id: None,
        entity_id: None,
        blocked: false,
        status: Status {
            code: STATUS_EXTERNAL.to_owned(),
            description: None,
        },
        stamps: asset.stamps.clone(),
        metadata: Metadata::new(),
    };
    sql::save_account(conn, &account)?;
    open_default_balance(conn, &account)
}

fn ensure_member<E: store::Entity>(
    conn: &Connection,
    parent: &Parent,
    id: &Option<String>,
) -> Result<()> {
    match id {
        Some(id) => store::get::<E>(conn, parent, id).map(drop),
        None => Ok(()),
    }
}

/// An account's asset must exist (0034), its type be one of the ledger's account types when it
/// validates them, its parent account hold the same asset, its portfolio and segment exist,
/// and its alias be free; it gets the portfolio's entity id unless it has its own. Creating
/// it also creates its `default` balance.
impl Create for Account {
    type New = NewAccount;

    fn build(conn: &Connection, parent: &Parent, new: NewAccount, stamps: Stamps) -> Result<Self> {
        let (organization_id, ledger_id) = parent.ledger_ids()?;
        if !sql::taken(
            conn,
            Unique::in_ledger("asset", "code", &ledger_id, &new.asset_code),
        )? {
            return Err(Error::new(Kind::AssetCodeNotFound));
        }
        check_account_type(conn, parent, &new.kind)?;
        if let Some(parent_id) = &new.parent_account_id {
            let parent_account = store::get::<Account>(conn, parent, parent_id)
                .map_err(|_| Error::new(Kind::InvalidParentAccountId))?;
            if parent_account.asset_code != new.asset_code {
                return Err(Error::new(Kind::MismatchedAssetCode));
            }
        }
        let mut entity_id = new.entity_id;
        if let Some(portfolio_id) = &new.portfolio_id {
            let portfolio = store::get::<Portfolio>(conn, parent, portfolio_id)?;
            entity_id = entity_id.or(portfolio.entity_id);
        }
        ensure_member::<Segment>(conn, parent, &new.segment_id)?;
        let id = new_id();
        let alias = new.alias.unwrap_or_else(|| id.clone());
        let unique = Unique::in_ledger("account", "alias", &ledger_id, &alias);
        ensure_unique(conn, unique, Kind::AliasUnavailability)?;
        Ok(Account {
            name: new
                .name
                .unwrap_or_else(|| format!("{} {} account", new.asset_code, new.kind)),
            id,
            organization_id,
            ledger_id,
            alias,
            kind: new.kind,
            asset_code: new.asset_code,
            parent_account_id: new.parent_account_id,
            portfolio_id: new.portfolio_id,
            segment_id: new.segment_id,
            entity_id,
            blocked: new.blocked,
            status: new.status,
            stamps,
            metadata: new.metadata,
        })
    }

    fn created(&self, conn: &Connection) -> Result<()> {
        open_default_balance(conn, self)
    }
}

/// With the ledger's `validateAccountType` on, the type must be one of its account types.
fn check_account_type(conn: &Connection, parent: &Parent, kind: &str) -> Result<()> {
    let Parent::Ledger {
        organization_id,
        ledger_id,
    } = parent
    else {
        return Ok(());
    };
    let ledger = store::get::<Ledger>(
        conn,
        &Parent::Organization(organization_id.clone()),
        ledger_id.as_str(),
    )?;
    if !ledger.settings.accounting.validate_account_type || kind == ACCOUNT_TYPE_EXTERNAL {
        return Ok(());
    }
    if sql::taken(
        conn,
        Unique::in_ledger(
            <AccountType as store::Entity>::TABLE,
            "key_value",
            ledger_id.as_str(),
            kind,
        ),
    )? {
        Ok(())
    } else {
        Err(Error::new(Kind::InvalidAccountType))
    }
}

/// An external account is not changed (0074); a new portfolio or segment must exist.
impl Update for Account {
    type Patch = AccountPatch;

    fn patch(&mut self, conn: &Connection, parent: &Parent, patch: AccountPatch) -> Result<()> {
        if self.is_external() {
            return Err(Error::new(Kind::ForbiddenExternalAccountManipulation));
        }
        if let Some(portfolio_id) = patch.portfolio_id {
            ensure_member::<Portfolio>(conn, parent, &portfolio_id)?;
            self.portfolio_id = portfolio_id;
        }
        if let Some(segment_id) = patch.segment_id {
            ensure_member::<Segment>(conn, parent, &segment_id)?;
            self.segment_id = segment_id;
        }
        set(&mut self.entity_id, patch.entity_id);
        set(&mut self.name, patch.name);
        set(&mut self.blocked, patch.blocked);
        let (status, metadata) = (&mut self.status, &mut self.metadata);
        apply_status_and_metadata(status, metadata, patch.status, patch.metadata);
        Ok(())
    }
}

/// An external account is not deleted (0074), nor one any of whose balances holds funds
/// (0012); its balances go with it.
impl Record for Account {
    fn deleting(conn: &Connection, parent: &Parent, id: &str, at: &Timestamp) -> Result<()> {
        let account = store::get::<Account>(conn, parent, id)?;
        if account.is_external() {
            return Err(Error::new(Kind::ForbiddenExternalAccountManipulation));
        }
        let held = balances::of_account(conn, &AccountId::new(id.to_owned()))?;
        if held
            .iter()
            .any(|b| !b.available.is_zero() || !b.on_hold.is_zero())
        {
            return Err(Error::new(Kind::AccountBalanceDeletion));
        }
        balances::delete_of_account(conn, id, at)
    }
}

/// Deleting an asset deletes its `@external/<CODE>` account (with that account's balances).
impl Record for Asset {
    fn deleting(conn: &Connection, parent: &Parent, id: &str, at: &Timestamp) -> Result<()> {
        let asset = store::get::<Asset>(conn, parent, id)?;
        let alias = external_alias(&asset.code);
        if let Some(external) = sql::account_by_alias(conn, &asset.ledger_id, &alias)? {
            balances::delete_of_account(conn, &external.id, at)?;
            store::delete::<Account>(conn, parent, &external.id, at)?;
        }
        Ok(())
    }
}

/// The live account with `alias` in the ledger, or 0085.
pub async fn get_by_alias(tenant: &Tenant, parent: Parent, alias: String) -> Result<Account> {
    super::in_ledger(tenant, parent, Run::Read, move |conn, _, ledger_id| {
        sql::account_by_alias(conn, ledger_id.as_str(), &alias)?
            .ok_or_else(|| Error::new(Kind::AccountAliasNotFound))
    })
    .await
}
