//! SQL of asset rates.

use rusqlite::{Connection, Row, params};

use super::query::{Table, amount, list_by_cursor};
use crate::domain::journal::AssetRate;
use crate::domain::money::canonical;
use crate::domain::query::CursorPage;
use crate::domain::query::ListQuery;
use crate::error::Result;

pub const ASSET_RATE: Table = table!("asset_rate" [
    "id", "organization_id", "ledger_id", "external_id", "source_code", "target_code", "rate",
    "scale", "source", "ttl"
] update [
    "external_id", "rate", "scale", "source", "ttl"
]);

pub fn asset_rate_from(row: &Row<'_>) -> rusqlite::Result<AssetRate> {
    read!(row => AssetRate {
        id, organization_id, ledger_id, external_id, scale, source, ttl;
        from: row.get("source_code")?,
        to: row.get("target_code")?,
        rate: amount(row, "rate")?,
    })
}

/// Creates or replaces the rate of its (ledger, from, to) pair.
pub fn save(conn: &Connection, r: &AssetRate) -> Result<()> {
    ASSET_RATE.save(
        conn,
        params! {
            r.id, r.organization_id, r.ledger_id, r.external_id, r.from, r.to,
            canonical(r.rate), r.scale, r.source, r.ttl
        },
        &r.metadata,
        &r.stamps,
    )
}

/// The live rate whose key columns hold these values.
fn find(conn: &Connection, keys: &[(&'static str, &str)]) -> Result<Option<AssetRate>> {
    super::query::find(conn, &ASSET_RATE.scope(keys), asset_rate_from)
}

pub fn by_pair(
    conn: &Connection,
    ledger_id: &str,
    from: &str,
    to: &str,
) -> Result<Option<AssetRate>> {
    let keys = [
        ("ledger_id", ledger_id),
        ("source_code", from),
        ("target_code", to),
    ];
    find(conn, &keys)
}

pub fn by_external_id(
    conn: &Connection,
    ledger_id: &str,
    external_id: &str,
) -> Result<Option<AssetRate>> {
    find(
        conn,
        &[("ledger_id", ledger_id), ("external_id", external_id)],
    )
}

/// A cursor page of the rates from `from` (filtered in the query, so pages are full).
pub fn list_from(
    conn: &Connection,
    ledger_id: &str,
    from: &str,
    query: &ListQuery,
) -> Result<CursorPage<AssetRate>> {
    let keys = [("ledger_id", ledger_id), ("source_code", from)];
    list_by_cursor(
        conn,
        &ASSET_RATE.scope(&keys),
        query,
        asset_rate_from,
        |r| r.id.as_str(),
    )
}
