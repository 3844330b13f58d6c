//! SQL shared by every entity table: scoped `WHERE` clauses built from a [`ListQuery`], page
//! lists, counts and soft deletes. Only column names from `'static` strings reach the SQL text;
//! every value is a bound parameter.

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, Row, ToSql, params_from_iter};

use crate::domain::entities::Stamps;
use crate::domain::metadata::Metadata;
use crate::domain::query::CursorPage;
use crate::domain::query::{FilterValue, ListQuery, Match};
use crate::error::Result;

/// A table and the equality conditions that scope it to one organization or ledger.
pub struct Scope<'a> {
    pub table: &'static str,
    pub columns: &'static str,
    pub keys: &'a [(&'static str, &'a str)],
}

impl<'a> Scope<'a> {
    pub fn new(
        table: &'static str,
        columns: &'static str,
        keys: &'a [(&'static str, &'a str)],
    ) -> Self {
        Self {
            table,
            columns,
            keys,
        }
    }
}

/// A table's column list and its upsert on the id (see `table!`).
pub struct Table {
    pub name: &'static str,
    pub columns: &'static str,
    pub upsert: &'static str,
    /// Whether the table has a `metadata` column.
    pub metadata: bool,
}

impl Table {
    /// The table's live rows whose key columns hold `keys`' values.
    pub fn scope<'a>(&self, keys: &'a [(&'static str, &'a str)]) -> Scope<'a> {
        Scope::new(self.name, self.columns, keys)
    }

    /// Creates or updates one row: `values` are the table's own columns' values in their
    /// order; the metadata (unless the table has none) and the stamps follow them.
    pub fn save(
        &self,
        conn: &Connection,
        values: &[&dyn ToSql],
        metadata: &Metadata,
        stamps: &Stamps,
    ) -> Result<()> {
        let metadata = metadata_to(metadata);
        let stored: [&dyn ToSql; 4] = [
            &metadata,
            &stamps.created_at,
            &stamps.updated_at,
            &stamps.deleted_at,
        ];
        let tail = if self.metadata {
            &stored[..]
        } else {
            &stored[1..]
        };
        conn.prepare_cached(self.upsert)?
            .execute(params_from_iter(values.iter().chain(tail)))?;
        Ok(())
    }
}

struct Clause {
    sql: String,
    params: Vec<Sql>,
}

fn where_clause(scope: &Scope<'_>, query: &ListQuery) -> Clause {
    let mut sql = String::from("deleted_at IS NULL");
    let mut params = Vec::new();
    for (column, value) in scope.keys {
        sql.push_str(&format!(" AND {column} = ?"));
        params.push(Sql::Text((*value).to_owned()));
    }
    for filter in &query.filters {
        let column = filter.field;
        match (&filter.value, filter.matching) {
            (FilterValue::Text(text), Match::Prefix) => {
                sql.push_str(&format!(" AND lower({column}) LIKE ? ESCAPE '\\'"));
                params.push(Sql::Text(format!("{}%", escape_like(&text.to_lowercase()))));
            }
            // Through `operation_account` (and the account's alias index): no scan of the
            // ledger's operations.
            (FilterValue::Text(text), Match::LegAccount) => {
                sql.push_str(
                    " AND id IN (SELECT transaction_id FROM operation WHERE account_id = ?)",
                );
                params.push(Sql::Text(text.clone()));
            }
            (FilterValue::Text(text), Match::LegAlias) => {
                sql.push_str(
                    " AND id IN (SELECT transaction_id FROM operation WHERE account_id IN \
                     (SELECT id FROM account WHERE ledger_id = ? AND alias = ? AND deleted_at IS NULL))",
                );
                let ledger = scope.keys.iter().find(|(column, _)| *column == "ledger_id");
                params.push(ledger.map_or(Sql::Null, |(_, id)| Sql::Text((*id).to_owned())));
                params.push(Sql::Text(text.clone()));
            }
            (FilterValue::Text(text), Match::OneOf(_)) => {
                sql.push_str(&format!(" AND upper({column}) = ?"));
                params.push(Sql::Text(text.clone()));
            }
            (FilterValue::Text(text), _) => {
                sql.push_str(&format!(" AND {column} = ?"));
                params.push(Sql::Text(text.clone()));
            }
            (FilterValue::List(values), _) => {
                let marks = vec!["?"; values.len()].join(", ");
                sql.push_str(&format!(" AND {column} IN ({marks})"));
                params.extend(values.iter().cloned().map(Sql::Text));
            }
            (FilterValue::Flag(flag), _) => {
                sql.push_str(&format!(" AND {column} = ?"));
                params.push(Sql::Integer(i64::from(*flag)));
            }
        }
    }
    if let Some((start, end)) = &query.window {
        sql.push_str(" AND created_at BETWEEN ? AND ?");
        params.push(Sql::Text(start.clone()));
        params.push(Sql::Text(end.clone()));
    }
    if let Some((key, value)) = &query.metadata {
        // A key an index can have is compared through the index's own expression, so that
        // SQLite uses the index when there is one; any other key stays a bound JSON path.
        match super::metadata_indexes::expression(key) {
            Some(expression) => sql.push_str(&format!(" AND {expression} = ?")),
            None => {
                sql.push_str(" AND json_extract(metadata, ?) = ?");
                params.push(Sql::Text(json_path(key)));
            }
        }
        params.push(Sql::Text(value.clone()));
    }
    Clause { sql, params }
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The JSON path of a top-level metadata key, quoted so any key text is literal.
fn json_path(key: &str) -> String {
    format!("$.\"{}\"", key.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The SQL of [`list`] and its parameters.
pub(crate) fn list_sql(scope: &Scope<'_>, query: &ListQuery) -> (String, Vec<Sql>) {
    let clause = where_clause(scope, query);
    let order = query.sort.sql();
    let sql = format!(
        "SELECT {} FROM {} WHERE {} ORDER BY created_at {order}, id {order} LIMIT ? OFFSET ?",
        scope.columns, scope.table, clause.sql
    );
    let mut params = clause.params;
    params.push(Sql::Integer(i64::from(query.limit)));
    params.push(Sql::Integer(query.offset()));
    (sql, params)
}

/// One page of live rows in creation order.
pub fn list<T>(
    conn: &Connection,
    scope: &Scope<'_>,
    query: &ListQuery,
    map: impl Fn(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let (sql, params) = list_sql(scope, query);
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map(params_from_iter(params), map)?;
    Ok(rows.collect::<rusqlite::Result<Vec<T>>>()?)
}

/// Live rows matching the query's filters (page and limit ignored).
pub fn count(conn: &Connection, scope: &Scope<'_>, query: &ListQuery) -> Result<i64> {
    let clause = where_clause(scope, query);
    let sql = format!("SELECT count(*) FROM {} WHERE {}", scope.table, clause.sql);
    let mut statement = conn.prepare_cached(&sql)?;
    Ok(statement.query_row(params_from_iter(clause.params), |row| row.get(0))?)
}

/// The live row `id` within the scope.
pub fn get<T>(
    conn: &Connection,
    scope: &Scope<'_>,
    id: &str,
    map: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Option<T>> {
    let mut clause = where_clause(scope, &ListQuery::default());
    clause.sql.push_str(" AND id = ?");
    clause.params.push(Sql::Text(id.to_owned()));
    first(conn, scope, clause, map)
}

/// The first live row whose key columns hold the scope's values.
pub fn find<T>(
    conn: &Connection,
    scope: &Scope<'_>,
    map: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Option<T>> {
    first(conn, scope, where_clause(scope, &ListQuery::default()), map)
}

fn first<T>(
    conn: &Connection,
    scope: &Scope<'_>,
    clause: Clause,
    map: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Option<T>> {
    let sql = format!(
        "SELECT {} FROM {} WHERE {}",
        scope.columns, scope.table, clause.sql
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let mut rows = statement.query(params_from_iter(clause.params))?;
    match rows.next()? {
        Some(row) => Ok(Some(map(row)?)),
        None => Ok(None),
    }
}

/// Marks the live row `id` deleted; returns whether there was one.
pub fn soft_delete(conn: &Connection, scope: &Scope<'_>, id: &str, now: &str) -> Result<bool> {
    let mut clause = where_clause(scope, &ListQuery::default());
    clause.sql.push_str(" AND id = ?");
    clause.params.insert(0, Sql::Text(now.to_owned()));
    clause.params.insert(0, Sql::Text(now.to_owned()));
    clause.params.push(Sql::Text(id.to_owned()));
    let sql = format!(
        "UPDATE {} SET deleted_at = ?, updated_at = ? WHERE {}",
        scope.table, clause.sql
    );
    Ok(conn
        .prepare_cached(&sql)?
        .execute(params_from_iter(clause.params))?
        == 1)
}

/// A JSON column decoded as `T`; NULL reads as `T`'s default. Text that does not decode is a
/// corrupt row and fails the read rather than reading as the default.
pub fn json<T: serde::de::DeserializeOwned + Default>(
    row: &Row<'_>,
    column: &str,
) -> rusqlite::Result<T> {
    match row.get::<_, Option<String>>(column)? {
        None => Ok(T::default()),
        Some(text) => decode_json(&text).map_err(|error| {
            rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Text,
                format!("bad JSON in {column}: {error}").into(),
            )
        }),
    }
}

/// The one decoder of stored JSON text, shared by reads and the audit.
pub fn decode_json<T: serde::de::DeserializeOwned>(text: &str) -> serde_json::Result<T> {
    serde_json::from_str(text)
}

/// The `metadata` column of a row: see [`json`].
/// The created/updated/deleted stamps of a row.
pub fn stamps(row: &Row<'_>) -> rusqlite::Result<Stamps> {
    Ok(Stamps {
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        deleted_at: row.get("deleted_at")?,
    })
}

pub fn metadata_from(row: &Row<'_>) -> rusqlite::Result<Metadata> {
    json(row, "metadata")
}

pub fn metadata_to(metadata: &Metadata) -> String {
    serde_json::Value::Object(metadata.clone()).to_string()
}

/// A cursor page of live rows in id (UUIDv7, so creation) order.
pub fn list_by_cursor<T>(
    conn: &Connection,
    scope: &Scope<'_>,
    query: &ListQuery,
    map: impl Fn(&Row<'_>) -> rusqlite::Result<T>,
    id_of: impl Fn(&T) -> &str,
) -> Result<CursorPage<T>> {
    use crate::domain::query::SortOrder;
    let mut clause = where_clause(scope, query);
    let ascending = query.sort == SortOrder::Asc;
    // Reading backwards (a `prev` cursor) walks the opposite order and reverses the page.
    let backwards = query.cursor.as_ref().is_some_and(|c| !c.next);
    let walk_ascending = ascending != backwards;
    if let Some(cursor) = &query.cursor {
        clause.sql.push_str(if walk_ascending {
            " AND id > ?"
        } else {
            " AND id < ?"
        });
        clause.params.push(Sql::Text(cursor.id.clone()));
    }
    let order = if walk_ascending { "ASC" } else { "DESC" };
    let sql = format!(
        "SELECT {} FROM {} WHERE {} ORDER BY id {order} LIMIT ?",
        scope.columns, scope.table, clause.sql
    );
    clause.params.push(Sql::Integer(i64::from(query.limit) + 1));
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map(params_from_iter(clause.params), map)?;
    let mut items = rows.collect::<rusqlite::Result<Vec<T>>>()?;
    let more = items.len() > query.limit as usize;
    items.truncate(query.limit as usize);
    if backwards {
        items.reverse();
    }
    let after = query.cursor.as_ref().map(|c| c.next);
    Ok(CursorPage::around(items, after, more, |item| {
        id_of(item).to_owned()
    }))
}

/// A stored amount column; stored amounts are canonical decimal text, anything else is a
/// corrupt row and fails the read rather than reading as zero.
pub fn amount(row: &Row<'_>, column: &str) -> rusqlite::Result<rust_decimal::Decimal> {
    let text: String = row.get(column)?;
    crate::domain::money::parse_stored(&text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("bad amount {text:?} in {column}").into(),
        )
    })
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::domain::query::{Filter, FilterValue};

    /// The `EXPLAIN QUERY PLAN` details of `sql`, one step a line.
    pub(crate) fn plan(conn: &Connection, sql: &str) -> String {
        let mut statement = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        // Unbound parameters read as NULL: the plan does not depend on them.
        let mut rows = statement.raw_query();
        let mut details = Vec::new();
        while let Some(row) = rows.next().unwrap() {
            details.push(row.get::<_, String>(3).unwrap());
        }
        details.join("\n")
    }

    /// Transactions of an account, by id or alias, are found through the account's operations
    /// (`operation_account`) and the alias index, never by scanning operations.
    #[test]
    fn transactions_by_account_search_the_operations_of_the_account() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::schema::migrate(&mut conn).unwrap();
        let keys = [("ledger_id", "l-1")];
        let scope = Scope::new("ledger_transaction", "id", &keys);
        for matching in [Match::LegAccount, Match::LegAlias] {
            let query = ListQuery {
                filters: vec![Filter {
                    field: "account",
                    matching,
                    value: FilterValue::Text("x".to_owned()),
                }],
                ..ListQuery::default()
            };
            let clause = where_clause(&scope, &query);
            let sql = format!(
                "SELECT id FROM ledger_transaction WHERE {} ORDER BY id LIMIT 11",
                clause.sql
            );
            let planned = plan(&conn, &sql);
            assert!(
                planned.contains("SEARCH operation USING INDEX operation_account (account_id=?)"),
                "{planned}"
            );
            assert!(!planned.contains("SCAN"), "{planned}");
            if matching == Match::LegAlias {
                assert!(
                    planned.contains("USING INDEX account_alias (ledger_id=? AND alias=?)"),
                    "{planned}"
                );
            }
        }
    }
}
