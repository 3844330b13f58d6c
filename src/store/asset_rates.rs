//! SQL of asset rates.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::query::{Scope, Table, amount, list_by_cursor, metadata_from, metadata_to, stamps};
use crate::domain::journal::AssetRate;
use crate::domain::money::canonical;
use crate::domain::query::CursorPage;
use crate::domain::query::ListQuery;
use crate::error::Result;

pub const ASSET_RATE: Table = table!("asset_rate" [
    "id", "organization_id", "ledger_id", "external_id", "source_code", "target_code", "rate",
    "scale", "source", "ttl", "metadata", "created_at", "updated_at", "deleted_at"
] update [
    "external_id", "rate", "scale", "source", "ttl", "metadata", "updated_at"
]);

pub fn asset_rate_from(row: &Row<'_>) -> rusqlite::Result<AssetRate> {
    Ok(AssetRate {
        id: row.get("id")?,
        organization_id: row.get("organization_id")?,
        ledger_id: row.get("ledger_id")?,
        external_id: row.get("external_id")?,
        from: row.get("source_code")?,
        to: row.get("target_code")?,
        rate: amount(row, "rate")?,
        scale: row.get("scale")?,
        source: row.get("source")?,
        ttl: row.get("ttl")?,
        stamps: stamps(row)?,
        metadata: metadata_from(row)?,
    })
}

/// Creates or replaces the rate of its (ledger, from, to) pair.
pub fn save(conn: &Connection, r: &AssetRate) -> Result<()> {
    ASSET_RATE.save(
        conn,
        params! {
            r.id, r.organization_id, r.ledger_id, r.external_id, r.from, r.to,
            canonical(r.rate), r.scale, r.source, r.ttl, metadata_to(&r.metadata),
            r.stamps.created_at, r.stamps.updated_at, r.stamps.deleted_at
        },
    )
}

pub fn by_pair(
    conn: &Connection,
    ledger_id: &str,
    from: &str,
    to: &str,
) -> Result<Option<AssetRate>> {
    let sql = format!(
        "SELECT {} FROM asset_rate WHERE ledger_id = ? AND source_code = ? AND target_code = ? \
         AND deleted_at IS NULL",
        ASSET_RATE.columns
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row((ledger_id, from, to), asset_rate_from)
        .optional()?)
}

pub fn by_external_id(
    conn: &Connection,
    ledger_id: &str,
    external_id: &str,
) -> Result<Option<AssetRate>> {
    let sql = format!(
        "SELECT {} FROM asset_rate WHERE ledger_id = ? AND external_id = ? AND deleted_at IS NULL",
        ASSET_RATE.columns
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row((ledger_id, external_id), asset_rate_from)
        .optional()?)
}

/// A cursor page of the rates from `from` (filtered in the query, so pages are full).
pub fn list_from(
    conn: &Connection,
    ledger_id: &str,
    from: &str,
    query: &ListQuery,
) -> Result<CursorPage<AssetRate>> {
    let keys = [("ledger_id", ledger_id), ("source_code", from)];
    let scope = Scope {
        table: ASSET_RATE.name,
        columns: ASSET_RATE.columns,
        keys: &keys,
    };
    list_by_cursor(conn, &scope, query, asset_rate_from, |r| r.id.as_str())
}
