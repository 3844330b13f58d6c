//! SQL of the onboarding entities. Each entity has its column list, a row mapper and one
//! `save` (an upsert on the id) that both creates and updates it.

use rusqlite::{Connection, Row, params};

use super::query::{Table, json};

use crate::domain::entities::{
    Account, AccountType, Address, Asset, Ledger, LedgerSettings, Organization, Portfolio, Segment,
    Status,
};
use crate::error::{Kind, Result};

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

pub const ORGANIZATION: Table = table!("organization" [
    "id", "parent_organization_id", "legal_name", "legal_document", "doing_business_as",
    "address", "status_code", "status_description"
] update [
    "parent_organization_id", "legal_name", "doing_business_as", "address", "status_code",
    "status_description"
]);

stored!(
    Organization in ORGANIZATION,
    Kind::OrganizationIdNotFound,
    organization_from,
    save_organization
);

pub fn organization_from(row: &Row<'_>) -> rusqlite::Result<Organization> {
    read!(row => Organization {
        id, parent_organization_id, legal_name, legal_document, doing_business_as;
        address: json::<Address>(row, "address")?,
        status: status(row)?,
    })
}

pub fn save_organization(conn: &Connection, o: &Organization) -> Result<()> {
    let address = to_json(&o.address)?;
    ORGANIZATION.save(
        conn,
        params! {
            o.id, o.parent_organization_id, o.legal_name, o.legal_document,
            o.doing_business_as, address, o.status.code, o.status.description
        },
        &o.metadata,
        &o.stamps,
    )
}

// ---- ledgers -------------------------------------------------------------------------------

pub const LEDGER: Table = table!("ledger" [
    "id", "organization_id", "name", "settings", "status_code", "status_description"
] update [
    "name", "settings", "status_code", "status_description"
]);

stored!(Ledger in LEDGER, Kind::LedgerIdNotFound, ledger_from, save_ledger);

pub fn ledger_from(row: &Row<'_>) -> rusqlite::Result<Ledger> {
    read!(row => Ledger {
        id, organization_id, name;
        settings: json::<LedgerSettings>(row, "settings")?,
        status: status(row)?,
    })
}

pub fn save_ledger(conn: &Connection, l: &Ledger) -> Result<()> {
    let settings = to_json(&l.settings)?;
    LEDGER.save(
        conn,
        params! {
            l.id, l.organization_id, l.name, settings, l.status.code, l.status.description
        },
        &l.metadata,
        &l.stamps,
    )
}

// ---- assets --------------------------------------------------------------------------------

pub const ASSET: Table = table!("asset" [
    "id", "organization_id", "ledger_id", "name", "type", "code", "status_code",
    "status_description"
] update [
    "name", "status_code", "status_description"
]);

stored!(Asset in ASSET, Kind::AssetIdNotFound, asset_from, save_asset);

pub fn asset_from(row: &Row<'_>) -> rusqlite::Result<Asset> {
    read!(row => Asset {
        id, organization_id, ledger_id, name, code;
        kind: row.get("type")?,
        status: status(row)?,
    })
}

pub fn save_asset(conn: &Connection, a: &Asset) -> Result<()> {
    ASSET.save(
        conn,
        params! {
            a.id, a.organization_id, a.ledger_id, a.name, a.kind, a.code,
            a.status.code, a.status.description
        },
        &a.metadata,
        &a.stamps,
    )
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

pub const PORTFOLIO: Table = table!("portfolio" [
    "id", "organization_id", "ledger_id", "name", "entity_id", "status_code",
    "status_description"
] update [
    "name", "entity_id", "status_code", "status_description"
]);

stored!(Portfolio in PORTFOLIO, Kind::PortfolioIdNotFound, portfolio_from, save_portfolio);

pub fn portfolio_from(row: &Row<'_>) -> rusqlite::Result<Portfolio> {
    read!(row => Portfolio {
        id, organization_id, ledger_id, name, entity_id;
        status: status(row)?,
    })
}

pub fn save_portfolio(conn: &Connection, p: &Portfolio) -> Result<()> {
    PORTFOLIO.save(
        conn,
        params! {
            p.id, p.organization_id, p.ledger_id, p.name, p.entity_id, p.status.code,
            p.status.description
        },
        &p.metadata,
        &p.stamps,
    )
}

// ---- segments ------------------------------------------------------------------------------

pub const SEGMENT: Table = table!("segment" [
    "id", "organization_id", "ledger_id", "name", "status_code", "status_description"
] update [
    "name", "status_code", "status_description"
]);

stored!(Segment in SEGMENT, Kind::SegmentIdNotFound, segment_from, save_segment);

pub fn segment_from(row: &Row<'_>) -> rusqlite::Result<Segment> {
    read!(row => Segment {
        id, organization_id, ledger_id, name;
        status: status(row)?,
    })
}

pub fn save_segment(conn: &Connection, s: &Segment) -> Result<()> {
    SEGMENT.save(
        conn,
        params! {
            s.id, s.organization_id, s.ledger_id, s.name, s.status.code, s.status.description
        },
        &s.metadata,
        &s.stamps,
    )
}

// ---- account types -------------------------------------------------------------------------

pub const ACCOUNT_TYPE: Table = table!("account_type" [
    "id", "organization_id", "ledger_id", "name", "description", "key_value"
] update [
    "name", "description"
]);

stored!(
    AccountType in ACCOUNT_TYPE,
    Kind::AccountTypeNotFound,
    account_type_from,
    save_account_type
);

pub fn account_type_from(row: &Row<'_>) -> rusqlite::Result<AccountType> {
    read!(row => AccountType {
        id, organization_id, ledger_id, name, description, key_value;
    })
}

pub fn save_account_type(conn: &Connection, t: &AccountType) -> Result<()> {
    ACCOUNT_TYPE.save(
        conn,
        params! {
            t.id, t.organization_id, t.ledger_id, t.name, t.description, t.key_value
        },
        &t.metadata,
        &t.stamps,
    )
}

// ---- accounts ------------------------------------------------------------------------------

pub const ACCOUNT: Table = table!("account" [
    "id", "organization_id", "ledger_id", "name", "alias", "type", "asset_code",
    "parent_account_id", "portfolio_id", "segment_id", "entity_id", "blocked",
    "status_code", "status_description"
] update [
    "name", "portfolio_id", "segment_id", "entity_id", "blocked", "status_code",
    "status_description"
]);

stored!(Account in ACCOUNT, Kind::AccountIdNotFound, account_from, save_account);

pub fn account_from(row: &Row<'_>) -> rusqlite::Result<Account> {
    read!(row => Account {
        id, organization_id, ledger_id, name, alias, asset_code, parent_account_id,
        portfolio_id, segment_id, entity_id, blocked;
        kind: row.get("type")?,
        status: status(row)?,
    })
}

pub fn save_account(conn: &Connection, a: &Account) -> Result<()> {
    ACCOUNT.save(
        conn,
        params! {
            a.id, a.organization_id, a.ledger_id, a.name, a.alias, a.kind,
            a.asset_code, a.parent_account_id, a.portfolio_id, a.segment_id,
            a.entity_id, a.blocked, a.status.code, a.status.description
        },
        &a.metadata,
        &a.stamps,
    )
}

/// The live account with this alias in the ledger.
pub fn account_by_alias(
    conn: &Connection,
    ledger_id: &str,
    alias: &str,
) -> Result<Option<Account>> {
    let keys = [("ledger_id", ledger_id), ("alias", alias)];
    super::query::find(conn, &ACCOUNT.scope(&keys), account_from)
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
