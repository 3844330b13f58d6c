//! The rules of creating and changing organizations, ledgers, assets, portfolios, segments and
//! account types, as the generic [`super::create`] and [`super::update`] use cases run them.

use rusqlite::Connection;

use super::{
    Create, Tenant, Update, apply_status_and_metadata, ensure_free, new_id, new_keys, set,
};
use crate::domain::entities::{
    AccountType, Address, Asset, Ledger, LedgerSettings, NewAccountType, NewAsset, NewLedger,
    NewOrganization, NewPortfolio, NewSegment, Organization, Portfolio, Segment, Stamped, Stamps,
    Status,
};
use crate::domain::metadata::{Metadata, Patch as MetadataPatch};
use crate::domain::scope::Parent;
use crate::error::{Error, Kind, Result};
use crate::store;
use crate::store::onboarding::{self as sql, Unique};

#[derive(Default)]
pub struct OrganizationPatch {
    pub legal_name: Option<String>,
    pub doing_business_as: Option<String>,
    /// `Some(None)` clears the parent.
    pub parent_organization_id: Option<Option<String>>,
    pub address: Option<Address>,
    pub status: Option<Status>,
    pub metadata: MetadataPatch,
}

fn ensure_parent_organization(conn: &Connection, parent: &Option<String>) -> Result<()> {
    match parent {
        Some(id) => store::get::<Organization>(conn, &Parent::Root, id)
            .map(drop)
            .map_err(|_| Error::new(Kind::ParentOrganizationIdNotFound)),
        None => Ok(()),
    }
}

impl Create for Organization {
    type New = NewOrganization;

    fn build(conn: &Connection, _: &Parent, new: NewOrganization, stamps: Stamps) -> Result<Self> {
        ensure_parent_organization(conn, &new.parent_organization_id)?;
        Ok(Organization::created((new_id(),), new, stamps))
    }
}

impl Update for Organization {
    type Patch = OrganizationPatch;

    fn patch(&mut self, conn: &Connection, _: &Parent, patch: OrganizationPatch) -> Result<()> {
        if let Some(parent) = patch.parent_organization_id {
            if parent.as_deref() == Some(self.id.as_str()) {
                return Err(Error::new(Kind::ParentIdSameId));
            }
            ensure_parent_organization(conn, &parent)?;
            self.parent_organization_id = parent;
        }
        set(&mut self.legal_name, patch.legal_name);
        set(
            &mut self.doing_business_as,
            patch.doing_business_as.map(Some),
        );
        set(&mut self.address, patch.address);
        let (status, metadata) = (&mut self.status, &mut self.metadata);
        apply_status_and_metadata(status, metadata, patch.status, patch.metadata);
        Ok(())
    }
}

/// Name, status and metadata: the patch of ledgers, assets and segments, and part of a
/// portfolio's.
#[derive(Default)]
pub struct NamedPatch {
    pub name: Option<String>,
    pub status: Option<Status>,
    pub metadata: MetadataPatch,
}

/// The ledger name `name` in the organization.
fn ledger_name<'a>(organization_id: &'a str, name: &'a str) -> Unique<'a> {
    Unique::new("ledger", ("organization_id", organization_id), "name", name)
}

impl Create for Ledger {
    type New = NewLedger;

    fn build(conn: &Connection, parent: &Parent, new: NewLedger, stamps: Stamps) -> Result<Self> {
        let organization_id = parent.organization_id()?.to_string();
        let name = ledger_name(&organization_id, &new.name);
        ensure_unique(conn, name, Kind::LedgerNameConflict)?;
        Ok(Ledger::created((new_id(), organization_id), new, stamps))
    }
}

/// Replaces the ledger's settings with `settings` (already merged and checked by the caller).
pub async fn update_ledger_settings(
    tenant: &Tenant,
    parent: Parent,
    id: String,
    change: impl FnOnce(LedgerSettings) -> Result<LedgerSettings> + Send + 'static,
) -> Result<Ledger> {
    super::change(tenant, parent, id, move |_, _, l: &mut Ledger| {
        l.settings = change(l.settings)?;
        Ok(())
    })
    .await
}

/// Fails with `conflict` when a live row already holds the value `unique` names.
pub(super) fn ensure_unique(conn: &Connection, unique: Unique<'_>, conflict: Kind) -> Result<()> {
    ensure_free(sql::taken(conn, unique)?, conflict)
}

/// The keys of a new record of the ledger of `parent` whose `column` of `table` is `value`,
/// unless a live record of the ledger already has that value (`taken`).
fn free_keys(
    conn: &Connection,
    parent: &Parent,
    (table, column, value): (&'static str, &'static str, &str),
    taken: Kind,
) -> Result<(String, String, String)> {
    let keys = new_keys(parent)?;
    ensure_unique(
        conn,
        Unique::in_ledger(table, column, &keys.2, value),
        taken,
    )?;
    Ok(keys)
}

/// An entity whose name is unique where it lives, changed with a [`NamedPatch`]: ledgers (in
/// their organization), assets and segments (in their ledger).
pub trait Named: super::Record + Stamped {
    /// The refusal of a name another live entity has.
    const NAME_TAKEN: Kind;

    /// The name `name` where the entity lives, but for the entity itself.
    fn name_elsewhere<'a>(&'a self, name: &'a str) -> Unique<'a>;

    /// Its name, status and metadata, to patch.
    fn named_mut(&mut self) -> (&mut String, &mut Status, &mut Metadata);
}

impl Named for Ledger {
    const NAME_TAKEN: Kind = Kind::LedgerNameConflict;

    fn name_elsewhere<'a>(&'a self, name: &'a str) -> Unique<'a> {
        ledger_name(&self.organization_id, name).except(&self.id)
    }

    fn named_mut(&mut self) -> (&mut String, &mut Status, &mut Metadata) {
        (&mut self.name, &mut self.status, &mut self.metadata)
    }
}

/// Declares [`Named`] for ledger records whose name is unique in their ledger.
macro_rules! named_in_ledger {
    ($($entity:ty => $taken:expr),*) => {$(
        impl Named for $entity {
            const NAME_TAKEN: Kind = $taken;

            fn name_elsewhere<'a>(&'a self, name: &'a str) -> Unique<'a> {
                let table = <$entity as store::Entity>::TABLE;
                Unique::in_ledger(table, "name", &self.ledger_id, name).except(&self.id)
            }

            fn named_mut(&mut self) -> (&mut String, &mut Status, &mut Metadata) {
                (&mut self.name, &mut self.status, &mut self.metadata)
            }
        }
    )*};
}

named_in_ledger!(Asset => Kind::AssetNameOrCodeDuplicate, Segment => Kind::DuplicateSegmentName);

/// Renames (a name another live entity has is `E::NAME_TAKEN`) and patches the status and
/// metadata of a ledger, an asset or a segment.
impl<E: Named> Update for E {
    type Patch = NamedPatch;

    fn patch(&mut self, conn: &Connection, _: &Parent, patch: NamedPatch) -> Result<()> {
        if let Some(name) = patch.name {
            ensure_unique(conn, self.name_elsewhere(&name), E::NAME_TAKEN)?;
            *self.named_mut().0 = name;
        }
        let (_, status, metadata) = self.named_mut();
        apply_status_and_metadata(status, metadata, patch.status, patch.metadata);
        Ok(())
    }
}

/// An asset's name and code are both unique in its ledger; creating it also creates its
/// external account.
impl Create for Asset {
    type New = NewAsset;

    fn build(conn: &Connection, parent: &Parent, new: NewAsset, stamps: Stamps) -> Result<Self> {
        let keys = new_keys(parent)?;
        let taken = sql::asset_name_or_code_taken(conn, &keys.2, &new.name, &new.code)?;
        ensure_free(taken, Kind::AssetNameOrCodeDuplicate)?;
        Ok(Asset::created(keys, new, stamps))
    }

    fn created(&self, conn: &Connection) -> Result<()> {
        super::accounts::ensure_external_account(conn, self)
    }
}

#[derive(Default)]
pub struct PortfolioPatch {
    pub named: NamedPatch,
    pub entity_id: Option<String>,
}

impl Create for Portfolio {
    type New = NewPortfolio;

    fn build(_: &Connection, parent: &Parent, new: NewPortfolio, stamps: Stamps) -> Result<Self> {
        Ok(Portfolio::created(new_keys(parent)?, new, stamps))
    }
}

impl Update for Portfolio {
    type Patch = PortfolioPatch;

    fn patch(&mut self, _: &Connection, _: &Parent, patch: PortfolioPatch) -> Result<()> {
        let PortfolioPatch { named, entity_id } = patch;
        set(&mut self.name, named.name);
        set(&mut self.entity_id, entity_id.map(Some));
        let (status, metadata) = (&mut self.status, &mut self.metadata);
        apply_status_and_metadata(status, metadata, named.status, named.metadata);
        Ok(())
    }
}

/// Declares [`Create`] for ledger records with one column unique in their ledger: a value
/// another live record of the ledger has is refused with `$taken`.
macro_rules! unique_in_ledger {
    ($($entity:ident from $new:ident: $field:ident or $taken:expr),*) => {$(
        impl Create for $entity {
            type New = $new;

            fn build(conn: &Connection, parent: &Parent, new: $new, at: Stamps) -> Result<Self> {
                let table = <$entity as store::Entity>::TABLE;
                let value = (table, stringify!($field), new.$field.as_str());
                Ok($entity::created(free_keys(conn, parent, value, $taken)?, new, at))
            }
        }
    )*};
}

unique_in_ledger!(
    Segment from NewSegment: name or Kind::DuplicateSegmentName,
    AccountType from NewAccountType: key_value or Kind::DuplicateAccountTypeKeyValue
);

#[derive(Default)]
pub struct AccountTypePatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub metadata: MetadataPatch,
}

impl Update for AccountType {
    type Patch = AccountTypePatch;

    fn patch(&mut self, _: &Connection, _: &Parent, patch: AccountTypePatch) -> Result<()> {
        set(&mut self.name, patch.name);
        set(&mut self.description, patch.description.map(Some));
        self.metadata = patch.metadata.apply(std::mem::take(&mut self.metadata));
        Ok(())
    }
}
