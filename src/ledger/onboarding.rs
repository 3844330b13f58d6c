//! Creating and changing organizations, ledgers, assets, portfolios, segments and account types.

use super::Tenant;
use rusqlite::Connection;

use super::{apply_status_and_metadata, ensure_free, new_id};
use crate::domain::entities::{
    AccountType, Address, Asset, Ledger, LedgerSettings, Organization, Portfolio, Segment, Stamped,
    Stamps, Status,
};
use crate::domain::ids::OrganizationId;
use crate::domain::metadata::{Metadata, Patch as MetadataPatch};
use crate::domain::scope::Parent;
use crate::domain::time::now;
use crate::error::{Error, Kind, Result};
use crate::store;
use crate::store::onboarding::{self as sql, Unique};

pub struct NewOrganization {
    pub legal_name: String,
    pub legal_document: String,
    pub doing_business_as: Option<String>,
    pub parent_organization_id: Option<String>,
    pub address: Address,
    pub status: Status,
    pub metadata: Metadata,
}

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

pub async fn create_organization(tenant: &Tenant, new: NewOrganization) -> Result<Organization> {
    super::write_in(tenant, Parent::Root, move |conn, _| {
        ensure_parent_organization(conn, &new.parent_organization_id)?;
        let organization = Organization {
            id: new_id(),
            parent_organization_id: new.parent_organization_id,
            legal_name: new.legal_name,
            legal_document: new.legal_document,
            doing_business_as: new.doing_business_as,
            address: new.address,
            status: new.status,
            stamps: Stamps::new(now()),
            metadata: new.metadata,
        };
        sql::save_organization(conn, &organization)?;
        Ok(organization)
    })
    .await
}

pub async fn update_organization(
    tenant: &Tenant,
    id: String,
    patch: OrganizationPatch,
) -> Result<Organization> {
    super::update(
        tenant,
        Parent::Root,
        id,
        move |conn, o: &mut Organization| {
            if let Some(parent) = patch.parent_organization_id {
                if parent.as_deref() == Some(o.id.as_str()) {
                    return Err(Error::new(Kind::ParentIdSameId));
                }
                ensure_parent_organization(conn, &parent)?;
                o.parent_organization_id = parent;
            }
            if let Some(name) = patch.legal_name {
                o.legal_name = name;
            }
            if let Some(dba) = patch.doing_business_as {
                o.doing_business_as = Some(dba);
            }
            if let Some(address) = patch.address {
                o.address = address;
            }
            apply_status_and_metadata(&mut o.status, &mut o.metadata, patch.status, patch.metadata);
            Ok(())
        },
    )
    .await
}

/// Name, status and metadata: the common shape of ledger, asset, portfolio and segment patches.
#[derive(Default)]
pub struct NamedPatch {
    pub name: Option<String>,
    pub status: Option<Status>,
    pub metadata: MetadataPatch,
}

pub struct NewLedger {
    pub name: String,
    pub settings: LedgerSettings,
    pub status: Status,
    pub metadata: Metadata,
}

pub async fn create_ledger(
    tenant: &Tenant,
    organization_id: String,
    new: NewLedger,
) -> Result<Ledger> {
    let parent = Parent::Organization(OrganizationId::new(organization_id.clone()));
    super::write_in(tenant, parent, move |conn, _| {
        let unique = Unique::new(
            "ledger",
            ("organization_id", &organization_id),
            "name",
            &new.name,
        );
        ensure_unique(conn, unique, Kind::LedgerNameConflict)?;
        let ledger = Ledger {
            id: new_id(),
            organization_id,
            name: new.name,
            settings: new.settings,
            status: new.status,
            stamps: Stamps::new(now()),
            metadata: new.metadata,
        };
        sql::save_ledger(conn, &ledger)?;
        Ok(ledger)
    })
    .await
}

pub async fn update_ledger(
    tenant: &Tenant,
    organization_id: String,
    id: String,
    patch: NamedPatch,
) -> Result<Ledger> {
    let parent = Parent::Organization(OrganizationId::new(organization_id));
    super::update(tenant, parent, id, move |conn, l: &mut Ledger| {
        if let Some(name) = patch.name {
            let unique = Unique::new(
                "ledger",
                ("organization_id", &l.organization_id),
                "name",
                &name,
            );
            ensure_unique(conn, unique.except(&l.id), Kind::LedgerNameConflict)?;
            l.name = name;
        }
        apply_status_and_metadata(&mut l.status, &mut l.metadata, patch.status, patch.metadata);
        Ok(())
    })
    .await
}

/// Replaces the ledger's settings with `settings` (already merged and checked by the caller).
pub async fn update_ledger_settings(
    tenant: &Tenant,
    organization_id: String,
    id: String,
    change: impl FnOnce(LedgerSettings) -> Result<LedgerSettings> + Send + 'static,
) -> Result<Ledger> {
    let parent = Parent::Organization(OrganizationId::new(organization_id));
    super::update(tenant, parent, id, move |_, l: &mut Ledger| {
        l.settings = change(l.settings)?;
        Ok(())
    })
    .await
}

/// Fails with `conflict` when a live row already holds the value `unique` names.
pub(super) fn ensure_unique(conn: &Connection, unique: Unique<'_>, conflict: Kind) -> Result<()> {
    ensure_free(sql::taken(conn, unique)?, conflict)
}

/// Fails with `conflict` when another live row of `table` in the entity's ledger is called
/// `name`.
fn ensure_name_free(
    conn: &Connection,
    table: &'static str,
    (ledger_id, id): (&str, &str),
    name: &str,
    conflict: Kind,
) -> Result<()> {
    ensure_unique(
        conn,
        Unique::in_ledger(table, "name", ledger_id, name).except(id),
        conflict,
    )
}

/// A ledger entity whose name is unique in its ledger, renamed with a [`NamedPatch`]: assets
/// and segments.
pub trait Named: super::Record + Stamped {
    /// The refusal of a name another live entity of the ledger has.
    const NAME_TAKEN: Kind;

    /// The ledger and id of the entity.
    fn place(&self) -> (&str, &str);

    /// Its name, status and metadata, to patch.
    fn named_mut(&mut self) -> (&mut String, &mut Status, &mut Metadata);
}

impl Named for Asset {
    const NAME_TAKEN: Kind = Kind::AssetNameOrCodeDuplicate;

    fn place(&self) -> (&str, &str) {
        (&self.ledger_id, &self.id)
    }

    fn named_mut(&mut self) -> (&mut String, &mut Status, &mut Metadata) {
        (&mut self.name, &mut self.status, &mut self.metadata)
    }
}

impl Named for Segment {
    const NAME_TAKEN: Kind = Kind::DuplicateSegmentName;

    fn place(&self) -> (&str, &str) {
        (&self.ledger_id, &self.id)
    }

    fn named_mut(&mut self) -> (&mut String, &mut Status, &mut Metadata) {
        (&mut self.name, &mut self.status, &mut self.metadata)
    }
}

/// Renames (a name another live entity of its ledger has is `E::NAME_TAKEN`) and patches the
/// status and metadata of an asset or a segment.
pub async fn update_named<E: Named>(
    tenant: &Tenant,
    parent: Parent,
    id: String,
    patch: NamedPatch,
) -> Result<E> {
    super::update(tenant, parent, id, move |conn, entity: &mut E| {
        if let Some(name) = patch.name {
            ensure_name_free(conn, E::TABLE, entity.place(), &name, E::NAME_TAKEN)?;
            *entity.named_mut().0 = name;
        }
        let (_, status, metadata) = entity.named_mut();
        apply_status_and_metadata(status, metadata, patch.status, patch.metadata);
        Ok(())
    })
    .await
}

pub struct NewAsset {
    pub name: String,
    pub kind: String,
    pub code: String,
    pub status: Status,
    pub metadata: Metadata,
}

pub async fn create_asset(tenant: &Tenant, parent: Parent, new: NewAsset) -> Result<Asset> {
    super::write_in(tenant, parent, move |conn, parent| {
        let (organization_id, ledger_id) = parent.ledger_ids()?;
        let taken = sql::asset_name_or_code_taken(conn, &ledger_id, &new.name, &new.code)?;
        ensure_free(taken, Kind::AssetNameOrCodeDuplicate)?;
        let asset = Asset {
            id: new_id(),
            organization_id,
            ledger_id,
            name: new.name,
            kind: new.kind,
            code: new.code,
            status: new.status,
            stamps: Stamps::new(now()),
            metadata: new.metadata,
        };
        sql::save_asset(conn, &asset)?;
        super::accounts::ensure_external_account(conn, &asset)?;
        Ok(asset)
    })
    .await
}

pub struct NewPortfolio {
    pub name: String,
    pub entity_id: Option<String>,
    pub status: Status,
    pub metadata: Metadata,
}

#[derive(Default)]
pub struct PortfolioPatch {
    pub named: NamedPatch,
    pub entity_id: Option<String>,
}

pub async fn create_portfolio(
    tenant: &Tenant,
    parent: Parent,
    new: NewPortfolio,
) -> Result<Portfolio> {
    super::write_in(tenant, parent, move |conn, parent| {
        let (organization_id, ledger_id) = parent.ledger_ids()?;
        let portfolio = Portfolio {
            id: new_id(),
            organization_id,
            ledger_id,
            name: new.name,
            entity_id: new.entity_id,
            status: new.status,
            stamps: Stamps::new(now()),
            metadata: new.metadata,
        };
        sql::save_portfolio(conn, &portfolio)?;
        Ok(portfolio)
    })
    .await
}

pub async fn update_portfolio(
    tenant: &Tenant,
    parent: Parent,
    id: String,
    patch: PortfolioPatch,
) -> Result<Portfolio> {
    let PortfolioPatch { named, entity_id } = patch;
    super::update(tenant, parent, id, move |_, p: &mut Portfolio| {
        if let Some(name) = named.name {
            p.name = name;
        }
        if let Some(entity_id) = entity_id {
            p.entity_id = Some(entity_id);
        }
        apply_status_and_metadata(&mut p.status, &mut p.metadata, named.status, named.metadata);
        Ok(())
    })
    .await
}

pub struct NewSegment {
    pub name: String,
    pub status: Status,
    pub metadata: Metadata,
}

pub async fn create_segment(tenant: &Tenant, parent: Parent, new: NewSegment) -> Result<Segment> {
    super::write_in(tenant, parent, move |conn, parent| {
        let (organization_id, ledger_id) = parent.ledger_ids()?;
        let unique = Unique::in_ledger("segment", "name", &ledger_id, &new.name);
        ensure_unique(conn, unique, Kind::DuplicateSegmentName)?;
        let segment = Segment {
            id: new_id(),
            organization_id,
            ledger_id,
            name: new.name,
            status: new.status,
            stamps: Stamps::new(now()),
            metadata: new.metadata,
        };
        sql::save_segment(conn, &segment)?;
        Ok(segment)
    })
    .await
}

pub struct NewAccountType {
    pub name: String,
    pub description: Option<String>,
    pub key_value: String,
    pub metadata: Metadata,
}

#[derive(Default)]
pub struct AccountTypePatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub metadata: MetadataPatch,
}

pub async fn create_account_type(
    tenant: &Tenant,
    parent: Parent,
    new: NewAccountType,
) -> Result<AccountType> {
    super::write_in(tenant, parent, move |conn, parent| {
        let (organization_id, ledger_id) = parent.ledger_ids()?;
        let unique = Unique::in_ledger("account_type", "key_value", &ledger_id, &new.key_value);
        ensure_unique(conn, unique, Kind::DuplicateAccountTypeKeyValue)?;
        let account_type = AccountType {
            id: new_id(),
            organization_id,
            ledger_id,
            name: new.name,
            description: new.description,
            key_value: new.key_value,
            stamps: Stamps::new(now()),
            metadata: new.metadata,
        };
        sql::save_account_type(conn, &account_type)?;
        Ok(account_type)
    })
    .await
}

pub async fn update_account_type(
    tenant: &Tenant,
    parent: Parent,
    id: String,
    patch: AccountTypePatch,
) -> Result<AccountType> {
    super::update(tenant, parent, id, move |_, t: &mut AccountType| {
        if let Some(name) = patch.name {
            t.name = name;
        }
        if let Some(description) = patch.description {
            t.description = Some(description);
        }
        t.metadata = patch.metadata.apply(std::mem::take(&mut t.metadata));
        Ok(())
    })
    .await
}
