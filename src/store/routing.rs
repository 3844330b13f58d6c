//! SQL of operation routes, transaction routes and the links between them.

use rusqlite::{Connection, Row, params};

use super::query::{Table, json};
use crate::domain::routing::{OperationRoute, RouteType, TransactionRoute};
use crate::error::{Kind, Result};

fn to_json<T: serde::Serialize>(value: &Option<T>) -> Result<Option<String>> {
    Ok(value.as_ref().map(serde_json::to_string).transpose()?)
}

// ---- operation routes ----------------------------------------------------------------------

pub const OPERATION_ROUTE: Table = table!("operation_route" [
    "id", "organization_id", "ledger_id", "title", "description", "code", "operation_type",
    "account", "accounting_entries"
] update [
    "title", "description", "code", "account", "accounting_entries"
]);

stored!(
    OperationRoute in OPERATION_ROUTE,
    Kind::OperationRouteNotFound,
    operation_route_from,
    save_operation_route
);

fn route_type(row: &Row<'_>) -> rusqlite::Result<RouteType> {
    let text: String = row.get("operation_type")?;
    RouteType::parse(&text).map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown operation route type {text:?}").into(),
        )
    })
}

pub fn operation_route_from(row: &Row<'_>) -> rusqlite::Result<OperationRoute> {
    read!(row => OperationRoute {
        id, organization_id, ledger_id, title, description, code;
        operation_type: route_type(row)?,
        account: json(row, "account")?,
        accounting_entries: json(row, "accounting_entries")?,
    })
}

pub fn save_operation_route(conn: &Connection, r: &OperationRoute) -> Result<()> {
    let account = to_json(&r.account)?;
    let entries = to_json(&r.accounting_entries)?;
    OPERATION_ROUTE.save(
        conn,
        params! {
            r.id, r.organization_id, r.ledger_id, r.title, r.description, r.code,
            r.operation_type.as_str(), account, entries
        },
        &r.metadata,
        &r.stamps,
    )
}

/// Whether a transaction route lists the operation route `id`.
pub fn is_linked(conn: &Connection, id: &str) -> Result<bool> {
    let sql = "SELECT EXISTS(SELECT 1 FROM transaction_route_link WHERE operation_route_id = ?)";
    Ok(conn
        .prepare_cached(sql)?
        .query_row([id], |row| row.get(0))?)
}

// ---- transaction routes --------------------------------------------------------------------

pub const TRANSACTION_ROUTE: Table = table!("transaction_route" [
    "id", "organization_id", "ledger_id", "title", "description"
] update [
    "title", "description", "deleted_at"
]);

stored!(
    TransactionRoute in TRANSACTION_ROUTE,
    Kind::TransactionRouteNotFound,
    transaction_route_from,
    save_transaction_route,
    completed by with_operation_routes
);

/// A transaction route without its operation routes: [`with_operation_routes`] adds them.
pub fn transaction_route_from(row: &Row<'_>) -> rusqlite::Result<TransactionRoute> {
    read!(row => TransactionRoute {
        id, organization_id, ledger_id, title, description;
        operation_routes: Vec::new(),
    })
}

pub fn save_transaction_route(conn: &Connection, r: &TransactionRoute) -> Result<()> {
    TRANSACTION_ROUTE.save(
        conn,
        params! {
            r.id, r.organization_id, r.ledger_id, r.title, r.description
        },
        &r.metadata,
        &r.stamps,
    )
}

/// The transaction route with the operation routes it links, in its order.
pub fn with_operation_routes(
    conn: &Connection,
    mut route: TransactionRoute,
) -> Result<TransactionRoute> {
    let sql = format!(
        "SELECT {} FROM operation_route o JOIN transaction_route_link l \
         ON l.operation_route_id = o.id WHERE l.transaction_route_id = ? ORDER BY l.position",
        prefixed("o", OPERATION_ROUTE.columns)
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map([&route.id], operation_route_from)?;
    route.operation_routes = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(route)
}

fn prefixed(alias: &str, columns: &str) -> String {
    columns
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Makes `ids` (in order) the operation routes of the transaction route `id`.
pub fn set_links(conn: &Connection, id: &str, ids: &[String]) -> Result<()> {
    conn.prepare_cached("DELETE FROM transaction_route_link WHERE transaction_route_id = ?")?
        .execute([id])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO transaction_route_link (transaction_route_id, operation_route_id, position) \
         VALUES (?, ?, ?)",
    )?;
    for (position, operation_route_id) in ids.iter().enumerate() {
        insert.execute(params![
            id,
            operation_route_id,
            i64::try_from(position).unwrap_or(i64::MAX)
        ])?;
    }
    Ok(())
}
