//! SQL of the onboarding entities. Each entity has its column list, a row mapper and one
//! `save` (an upsert on the id) that both creates and updates it.

use rusqlite::{Connection, Row, named_params};

use super::Entity;
use super::query::{Scope, json, list_by_cursor, metadata_from, metadata_to};
use crate::domain::query::CursorPage;
use crate::domain::query::ListQuery;

use crate::domain::entities::{
    Account, AccountType, Address, Asset, Ledger, LedgerSettings, Organization, Portfolio, Segment,
    Stamps, Status,
};
use crate::error::{Kind, Result};

fn stamps(row: &Row<'_>) -> rusqlite::Result<Stamps> {
    Ok(Stamps {
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        deleted_at: row.get("deleted_at")?,
    })
}

fn status(row: &Row<'_>) -> rusqlite::Result<Status> {
    Ok(Status {
        code: row.get("status_code")?,
        description: row.get("status_description")?,
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    Ok(serde_json::to_string(value)?)
}

// ---- organizations -------------------------------------------------------------------------

pub const ORGANIZATION_COLUMNS: &str = "id, parent_organization_id, legal_name, legal_document, \
    doing_business_as, address, status_code, status_description, metadata, created_at, updated_at, deleted_at";

pub fn organization_from(row: &Row<'_>) -> rusqlite::Result<Organization> {
    Ok(Organization {
        id: row.get("id")?,
        parent_organization_id: row.get("parent_organization_id")?,
        legal_name: row.get("legal_name")?,
        legal_document: row.get("legal_document")?,
        doing_business_as: row.get("doing_business_as")?,
        address: json::<Address>(row, "address")?,
        status: status(row)?,
        stamps: stamps(row)?,
        metadata: metadata_from(row)?,
    })
}

pub fn save_organization(conn: &Connection, o: &Organization) -> Result<()> {
    let sql = format!(
        "INSERT INTO organization ({ORGANIZATION_COLUMNS}) VALUES (:id, :parent, :legal_name, \
         :legal_document, :dba, :address, :status_code, :status_description, :metadata, \
         :created_at, :updated_at, :deleted_at) ON CONFLICT(id) DO UPDATE SET \
         parent_organization_id = excluded.parent_organization_id, legal_name = excluded.legal_name, \
         doing_business_as = excluded.doing_business_as, address = excluded.address, \
         status_code = excluded.status_code, status_description = excluded.status_description, \
         metadata = excluded.metadata, updated_at = excluded.updated_at"
    );
    conn.prepare_cached(&sql)?.execute(named_params! {
        ":id": o.id, ":parent": o.parent_organization_id, ":legal_name": o.legal_name,
        ":legal_document": o.legal_document, ":dba": o.doing_business_as,
        ":address": to_json(&o.address)?, ":status_code": o.status.code,
        ":status_description": o.status.description, ":metadata": metadata_to(&o.metadata),
        ":created_at": o.stamps.created_at, ":updated_at": o.stamps.updated_at,
        ":deleted_at": o.stamps.deleted_at,
    })?;
    Ok(())
}

// ---- ledgers -------------------------------------------------------------------------------

pub const LEDGER_COLUMNS: &str = "id, organization_id, name, settings, status_code, status_description, \
    metadata, created_at, updated_at, deleted_at";

pub fn ledger_from(row: &Row<'_>) -> rusqlite::Result<Ledger> {
    Ok(Ledger {
        id: row.get("id")?,
        organization_id: row.get("organization_id")?,
        name: row.get("name")?,
        settings: json::<LedgerSettings>(row, "settings")?,
        status: status(row)?,
        stamps: stamps(row)?,
        metadata: metadata_from(row)?,
    })
}

pub fn save_ledger(conn: &Connection, l: &Ledger) -> Result<()> {
    let sql = format!(
        "INSERT INTO ledger ({LEDGER_COLUMNS}) VALUES (:id, :organization_id, :name, :settings, \
         :status_code, :status_description, :metadata, :created_at, :updated_at, :deleted_at) \
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, settings = excluded.settings, \
         status_code = excluded.status_code, status_description = excluded.status_description, \
         metadata = excluded.metadata, updated_at = excluded.updated_at"
    );
    conn.prepare_cached(&sql)?.execute(named_params! {
        ":id": l.id, ":organization_id": l.organization_id, ":name": l.name,
        ":settings": to_json(&l.settings)?, ":status_code": l.status.code,
        ":status_description": l.status.description, ":metadata": metadata_to(&l.metadata),
        ":created_at": l.stamps.created_at, ":updated_at": l.stamps.updated_at,
        ":deleted_at": l.stamps.deleted_at,
    })?;
    Ok(())
}

// ---- assets --------------------------------------------------------------------------------

pub const ASSET_COLUMNS: &str = "id, organization_id, ledger_id, name, type, code, status_code, \
    status_description, metadata, created_at, updated_at, deleted_at";

pub fn asset_from(row: &Row<'_>) -> rusqlite::Result<Asset> {
    Ok(Asset {
        id: row.get("id")?,
        organization_id: row.get("organization_id")?,
        ledger_id: row.get("ledger_id")?,
        name: row.get("name")?,
        kind: row.get("type")?,
        code: row.get("code")?,
        status: status(row)?,
        stamps: stamps(row)?,
        metadata: metadata_from(row)?,
    })
}

pub fn save_asset(conn: &Connection, a: &Asset) -> Result<()> {
    let sql = format!(
        "INSERT INTO asset ({ASSET_COLUMNS}) VALUES (:id, :organization_id, :ledger_id, :name, \
         :type, :code, :status_code, :status_description, :metadata, :created_at, :updated_at, \
         :deleted_at) ON CONFLICT(id) DO UPDATE SET name = excluded.name, \
         status_code = excluded.status_code, status_description = excluded.status_description, \
         metadata = excluded.metadata, updated_at = excluded.updated_at"
    );
    conn.prepare_cached(&sql)?.execute(named_params! {
        ":id": a.id, ":organization_id": a.organization_id, ":ledger_id": a.ledger_id,
        ":name": a.name, ":type": a.kind, ":code": a.code, ":status_code": a.status.code,
        ":status_description": a.status.description, ":metadata": metadata_to(&a.metadata),
        ":created_at": a.stamps.created_at, ":updated_at": a.stamps.updated_at,
        ":deleted_at": a.stamps.deleted_at,
    })?;
    Ok(())
}

/// Whether a live asset of the ledger already uses this name or code.
pub fn asset_name_or_code_taken(
    conn: &Connection,
    ledger_id: &str,
    name: &str,
    code: &str,
) -> Result<bool> {
    let sql = "SELECT EXISTS(SELECT 1 FROM asset WHERE ledger_id = ? AND deleted_at IS NULL \
               AND (name = ? OR code = ?))";
    Ok(conn
        .prepare_cached(sql)?
        .query_row((ledger_id, name, code), |row| row.get(0))?)
}

// ---- portfolios ----------------------------------------------------------------------------

pub const PORTFOLIO_COLUMNS: &str = "id, organization_id, ledger_id, name, entity_id, status_code, \
    status_description, metadata, created_at, updated_at, deleted_at";

pub fn portfolio_from(row: &Row<'_>) -> rusqlite::Result<Portfolio> {
    Ok(Portfolio {
        id: row.get("id")?,
        organization_id: row.get("organization_id")?,
        ledger_id: row.get("ledger_id")?,
        name: row.get("name")?,
        entity_id: row.get("entity_id")?,
        status: status(row)?,
        stamps: stamps(row)?,
        metadata: metadata_from(row)?,
    })
}

pub fn save_portfolio(conn: &Connection, p: &Portfolio) -> Result<()> {
    let sql = format!(
        "INSERT INTO portfolio ({PORTFOLIO_COLUMNS}) VALUES (:id, :organization_id, :ledger_id, \
         :name, :entity_id, :status_code, :status_description, :metadata, :created_at, \
         :updated_at, :deleted_at) ON CONFLICT(id) DO UPDATE SET name = excluded.name, \
         entity_id = excluded.entity_id, status_code = excluded.status_code, \
         status_description = excluded.status_description, metadata = excluded.metadata, \
         updated_at = excluded.updated_at"
    );
    conn.prepare_cached(&sql)?.execute(named_params! {
        ":id": p.id, ":organization_id": p.organization_id, ":ledger_id": p.ledger_id,
        ":name": p.name, ":entity_id": p.entity_id, ":status_code": p.status.code,
        ":status_description": p.status.description, ":metadata": metadata_to(&p.metadata),
        ":created_at": p.stamps.created_at, ":updated_at": p.stamps.updated_at,
        ":deleted_at": p.stamps.deleted_at,
    })?;
    Ok(())
}

// ---- segments ------------------------------------------------------------------------------

pub const SEGMENT_COLUMNS: &str = "id, organization_id, ledger_id, name, status_code, \
    status_description, metadata, created_at, updated_at, deleted_at";

pub fn segment_from(row: &Row<'_>) -> rusqlite::Result<Segment> {
    Ok(Segment {
        id: row.get("id")?,
        organization_id: row.get("organization_id")?,
        ledger_id: row.get("ledger_id")?,
        name: row.get("name")?,
        status: status(row)?,
        stamps: stamps(row)?,
        metadata: metadata_from(row)?,
    })
}

pub fn save_segment(conn: &Connection, s: &Segment) -> Result<()> {
    let sql = format!(
        "INSERT INTO segment ({SEGMENT_COLUMNS}) VALUES (:id, :organization_id, :ledger_id, :name, \
         :status_code, :status_description, :metadata, :created_at, :updated_at, :deleted_at) \
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, status_code = excluded.status_code, \
         status_description = excluded.status_description, metadata = excluded.metadata, \
         updated_at = excluded.updated_at"
    );
    conn.prepare_cached(&sql)?.execute(named_params! {
        ":id": s.id, ":organization_id": s.organization_id, ":ledger_id": s.ledger_id,
        ":name": s.name, ":status_code": s.status.code,
        ":status_description": s.status.description, ":metadata": metadata_to(&s.metadata),
        ":created_at": s.stamps.created_at, ":updated_at": s.stamps.updated_at,
        ":deleted_at": s.stamps.deleted_at,
    })?;
    Ok(())
}

// ---- account types -------------------------------------------------------------------------

pub const ACCOUNT_TYPE_COLUMNS: &str = "id, organization_id, ledger_id, name, description, key_value, \
    metadata, created_at, updated_at, deleted_at";

pub fn account_type_from(row: &Row<'_>) -> rusqlite::Result<AccountType> {
    Ok(AccountType {
        id: row.get("id")?,
        organization_id: row.get("organization_id")?,
        ledger_id: row.get("ledger_id")?,
        name: row.get("name")?,
        description: row.get("description")?,
        key_value: row.get("key_value")?,
        stamps: stamps(row)?,
        metadata: metadata_from(row)?,
    })
}

pub fn save_account_type(conn: &Connection, t: &AccountType) -> Result<()> {
    let sql = format!(
        "INSERT INTO account_type ({ACCOUNT_TYPE_COLUMNS}) VALUES (:id, :organization_id, \
         :ledger_id, :name, :description, :key_value, :metadata, :created_at, :updated_at, \
         :deleted_at) ON CONFLICT(id) DO UPDATE SET name = excluded.name, \
         description = excluded.description, metadata = excluded.metadata, \
         updated_at = excluded.updated_at"
    );
    conn.prepare_cached(&sql)?.execute(named_params! {
        ":id": t.id, ":organization_id": t.organization_id, ":ledger_id": t.ledger_id,
        ":name": t.name, ":description": t.description, ":key_value": t.key_value,
        ":metadata": metadata_to(&t.metadata), ":created_at": t.stamps.created_at,
        ":updated_at": t.stamps.updated_at, ":deleted_at": t.stamps.deleted_at,
    })?;
    Ok(())
}

/// A cursor page of the ledger's account types: Midaz lists them by cursor, not by page.
pub fn list_account_types(
    conn: &Connection,
    organization_id: &str,
    ledger_id: &str,
    query: &ListQuery,
) -> Result<CursorPage<AccountType>> {
    let keys = [
        ("organization_id", organization_id),
        ("ledger_id", ledger_id),
    ];
    let scope = Scope {
        table: AccountType::TABLE,
        columns: AccountType::COLUMNS,
        keys: &keys,
    };
    list_by_cursor(conn, &scope, query, account_type_from, |t| t.id.as_str())
}

// ---- accounts ------------------------------------------------------------------------------

pub const ACCOUNT_COLUMNS: &str = "id, organization_id, ledger_id, name, alias, type, asset_code, \
    parent_account_id, portfolio_id, segment_id, entity_id, blocked, status_code, \
    status_description, metadata, created_at, updated_at, deleted_at";

pub fn account_from(row: &Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        id: row.get("id")?,
        organization_id: row.get("organization_id")?,
        ledger_id: row.get("ledger_id")?,
        name: row.get("name")?,
        alias: row.get("alias")?,
        kind: row.get("type")?,
        asset_code: row.get("asset_code")?,
        parent_account_id: row.get("parent_account_id")?,
        portfolio_id: row.get("portfolio_id")?,
        segment_id: row.get("segment_id")?,
        entity_id: row.get("entity_id")?,
        blocked: row.get("blocked")?,
        status: status(row)?,
        stamps: stamps(row)?,
        metadata: metadata_from(row)?,
    })
}

pub fn save_account(conn: &Connection, a: &Account) -> Result<()> {
    let sql = format!(
        "INSERT INTO account ({ACCOUNT_COLUMNS}) VALUES (:id, :organization_id, :ledger_id, :name, \
         :alias, :type, :asset_code, :parent, :portfolio_id, :segment_id, :entity_id, :blocked, \
         :status_code, :status_description, :metadata, :created_at, :updated_at, :deleted_at) \
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, portfolio_id = excluded.portfolio_id, \
         segment_id = excluded.segment_id, entity_id = excluded.entity_id, \
         blocked = excluded.blocked, status_code = excluded.status_code, \
         status_description = excluded.status_description, metadata = excluded.metadata, \
         updated_at = excluded.updated_at"
    );
    conn.prepare_cached(&sql)?.execute(named_params! {
        ":id": a.id, ":organization_id": a.organization_id, ":ledger_id": a.ledger_id,
        ":name": a.name, ":alias": a.alias, ":type": a.kind, ":asset_code": a.asset_code,
        ":parent": a.parent_account_id, ":portfolio_id": a.portfolio_id,
        ":segment_id": a.segment_id, ":entity_id": a.entity_id, ":blocked": a.blocked,
        ":status_code": a.status.code, ":status_description": a.status.description,
        ":metadata": metadata_to(&a.metadata), ":created_at": a.stamps.created_at,
        ":updated_at": a.stamps.updated_at, ":deleted_at": a.stamps.deleted_at,
    })?;
    Ok(())
}

/// The live account with this alias in the ledger.
pub fn account_by_alias(
    conn: &Connection,
    ledger_id: &str,
    alias: &str,
) -> Result<Option<Account>> {
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS} FROM account WHERE ledger_id = ? AND alias = ? AND deleted_at IS NULL"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let mut rows = statement.query((ledger_id, alias))?;
    match rows.next()? {
        Some(row) => Ok(Some(account_from(row)?)),
        None => Ok(None),
    }
}

/// A uniqueness check: is there a live row of `table` under its parent (`parent` column =
/// id) whose `column` is `value`, other than the row `except` (`""`: none)?
pub struct Unique<'a> {
    pub table: &'static str,
    pub parent: (&'static str, &'a str),
    pub column: &'static str,
    pub value: &'a str,
    pub except: &'a str,
}

impl<'a> Unique<'a> {
    pub fn new(
        table: &'static str,
        parent: (&'static str, &'a str),
        column: &'static str,
        value: &'a str,
    ) -> Self {
        Self {
            table,
            parent,
            column,
            value,
            except: "",
        }
    }

    /// `table.column = value` among the rows of one ledger.
    pub fn in_ledger(
        table: &'static str,
        column: &'static str,
        ledger_id: &'a str,
        value: &'a str,
    ) -> Self {
        Self::new(table, ("ledger_id", ledger_id), column, value)
    }

    /// The same check, leaving out the row `id` (the one being renamed).
    pub fn except(self, id: &'a str) -> Self {
        Self { except: id, ..self }
    }
}

/// Whether the value `unique` checks is taken.
pub fn taken(conn: &Connection, unique: Unique<'_>) -> Result<bool> {
    let Unique {
        table,
        parent: (parent_column, parent_id),
        column,
        value,
        except,
    } = unique;
    let sql = format!(
        "SELECT EXISTS(SELECT 1 FROM {table} WHERE {parent_column} = ? AND {column} = ? \
         AND id <> ? AND deleted_at IS NULL)"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row((parent_id, value, except), |row| row.get(0))?)
}

// ---- the entity table of each type --------------------------------------------------------

impl Entity for Organization {
    const TABLE: &'static str = "organization";
    const COLUMNS: &'static str = ORGANIZATION_COLUMNS;
    const NOT_FOUND: Kind = Kind::OrganizationIdNotFound;
    const NAME: &'static str = "Organization";

    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        organization_from(row)
    }

    fn save(&self, conn: &Connection) -> Result<()> {
        save_organization(conn, self)
    }
}

impl Entity for Ledger {
    const TABLE: &'static str = "ledger";
    const COLUMNS: &'static str = LEDGER_COLUMNS;
    const NOT_FOUND: Kind = Kind::LedgerIdNotFound;
    const NAME: &'static str = "Ledger";

    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        ledger_from(row)
    }

    fn save(&self, conn: &Connection) -> Result<()> {
        save_ledger(conn, self)
    }
}

impl Entity for Asset {
    const TABLE: &'static str = "asset";
    const COLUMNS: &'static str = ASSET_COLUMNS;
    const NOT_FOUND: Kind = Kind::AssetIdNotFound;
    const NAME: &'static str = "Asset";

    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        asset_from(row)
    }

    fn save(&self, conn: &Connection) -> Result<()> {
        save_asset(conn, self)
    }
}

impl Entity for Portfolio {
    const TABLE: &'static str = "portfolio";
    const COLUMNS: &'static str = PORTFOLIO_COLUMNS;
    const NOT_FOUND: Kind = Kind::PortfolioIdNotFound;
    const NAME: &'static str = "Portfolio";

    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        portfolio_from(row)
    }

    fn save(&self, conn: &Connection) -> Result<()> {
        save_portfolio(conn, self)
    }
}

impl Entity for Segment {
    const TABLE: &'static str = "segment";
    const COLUMNS: &'static str = SEGMENT_COLUMNS;
    const NOT_FOUND: Kind = Kind::SegmentIdNotFound;
    const NAME: &'static str = "Segment";

    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        segment_from(row)
    }

    fn save(&self, conn: &Connection) -> Result<()> {
        save_segment(conn, self)
    }
}

impl Entity for AccountType {
    const TABLE: &'static str = "account_type";
    const COLUMNS: &'static str = ACCOUNT_TYPE_COLUMNS;
    const NOT_FOUND: Kind = Kind::AccountTypeNotFound;
    const NAME: &'static str = "AccountType";

    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        account_type_from(row)
    }

    fn save(&self, conn: &Connection) -> Result<()> {
        save_account_type(conn, self)
    }
}

impl Entity for Account {
    const TABLE: &'static str = "account";
    const COLUMNS: &'static str = ACCOUNT_COLUMNS;
    const NOT_FOUND: Kind = Kind::AccountIdNotFound;
    const NAME: &'static str = "Account";

    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        account_from(row)
    }

    fn save(&self, conn: &Connection) -> Result<()> {
        save_account(conn, self)
    }
}
