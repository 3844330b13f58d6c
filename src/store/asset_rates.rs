//! SQL of asset rates.

use rusqlite::{Connection, OptionalExtension, Row, named_params};

use super::query::{Scope, amount, list_by_cursor, metadata_from, metadata_to};
use crate::domain::entities::Stamps;
use crate::domain::journal::AssetRate;
use crate::domain::query::CursorPage;
use crate::domain::query::ListQuery;
use crate::error::Result;

pub const ASSET_RATE_COLUMNS: &str = "id, organization_id, ledger_id, external_id, source_code, \
    target_code, rate, scale, source, ttl, metadata, created_at, updated_at, deleted_at";

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
        stamps: Stamps {
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
            deleted_at: row.get("deleted_at")?,
        },
        metadata: metadata_from(row)?,
    })
}

/// Creates or replaces the rate of its (ledger, from, to) pair.
pub fn save(conn: &Connection, r: &AssetRate) -> Result<()> {
    let sql = format!(
        "INSERT INTO asset_rate ({ASSET_RATE_COLUMNS}) VALUES (:id, :organization_id, :ledger_id, \
         :external_id, :from, :to, :rate, :scale, :source, :ttl, :metadata, :created_at, :updated_at, \
         :deleted_at) ON CONFLICT(id) DO UPDATE SET external_id = excluded.external_id, \
         rate = excluded.rate, scale = excluded.scale, source = excluded.source, ttl = excluded.ttl, \
         metadata = excluded.metadata, updated_at = excluded.updated_at"
    );
    conn.prepare_cached(&sql)?.execute(named_params! {
        ":id": r.id, ":organization_id": r.organization_id, ":ledger_id": r.ledger_id,
        ":external_id": r.external_id, ":from": r.from, ":to": r.to,
        ":rate": crate::domain::money::canonical(r.rate), ":scale": r.scale, ":source": r.source,
        ":ttl": r.ttl, ":metadata": metadata_to(&r.metadata), ":created_at": r.stamps.created_at,
        ":updated_at": r.stamps.updated_at, ":deleted_at": r.stamps.deleted_at,
    })?;
    Ok(())
}

pub fn by_pair(
    conn: &Connection,
    ledger_id: &str,
    from: &str,
    to: &str,
) -> Result<Option<AssetRate>> {
    let sql = format!(
        "SELECT {ASSET_RATE_COLUMNS} FROM asset_rate WHERE ledger_id = ? AND source_code = ? AND target_code = ? \
         AND deleted_at IS NULL"
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
        "SELECT {ASSET_RATE_COLUMNS} FROM asset_rate WHERE ledger_id = ? AND external_id = ? AND deleted_at IS NULL"
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
        table: "asset_rate",
        columns: ASSET_RATE_COLUMNS,
        keys: &keys,
    };
    list_by_cursor(conn, &scope, query, asset_rate_from, |r| r.id.as_str())
}
