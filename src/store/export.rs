//! A tenant as JSON lines and back. An export holds every row of every table of the schema
//! (read from `sqlite_schema`, so a table added by a migration is exported without a change
//! here) except those [`EXPORT_EXCLUDED`] names, parents before children. An import writes
//! such an export into a fresh file of the current schema and checks it.
//!
//! A line is `{"type": …, "data": {column: value}}`: the type names the table, the data holds
//! every column (text, integer, real, `null`; a blob as base64 text).

use std::collections::HashMap;
use std::io::{BufRead, Write};

use base64::Engine;
use rusqlite::types::{Value as Sql, ValueRef};
use rusqlite::{Connection, params_from_iter};
use serde_json::{Map, Value};

use super::{chain, schema};
use crate::error::{Error, Kind, Result};

/// Tables of the schema an export leaves out on purpose, each with the reason. Tables named
/// `sqlite_…` are SQLite's own bookkeeping (statistics, autoincrement counters) and never
/// part of the schema. Every other table is exported: the ledger's rows, its hash chain
/// (kept byte for byte, or the imported tenant would fail `verify`) and the idempotency
/// records (a client retrying a request across a migration must get its first answer, not a
/// second transaction).
pub const EXPORT_EXCLUDED: &[(&str, &str)] = &[];

/// Name prefixes of tables another program keeps in a tenant's file, each with the reason
/// they are not the tenant's data. They are never exported, so the export of a replicated
/// tenant imports into a fresh file.
pub const FOREIGN_TABLE_PREFIXES: &[(&str, &str)] = &[(
    "_litestream_",
    "Litestream creates `_litestream_seq` and `_litestream_lock` in every file it replicates",
)];

/// The `type` of a table's rows where it is not the table's name: transactions were exported
/// as `transaction` before the export was derived from the schema.
const TYPE_NAMES: &[(&str, &str)] = &[("ledger_transaction", "transaction")];

/// One exported table: its name, the `type` of its lines, its columns with their declared
/// types, and whether rows are read in rowid order (else in primary-key order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportTable {
    pub name: String,
    pub kind: String,
    columns: Vec<(String, String)>,
    has_rowid: bool,
}

impl ExportTable {
    fn column_type(&self, column: &str) -> Option<&str> {
        self.columns
            .iter()
            .find(|(name, _)| name == column)
            .map(|(_, declared)| declared.as_str())
    }

    fn order_by(&self, conn: &Connection) -> Result<String> {
        if self.has_rowid {
            return Ok("rowid".to_owned());
        }
        let mut statement =
            conn.prepare("SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk")?;
        let keys: Vec<String> = statement
            .query_map([&self.name], |row| row.get::<_, String>(0))?
            .map(|name| name.map(|n| quoted(&n)))
            .collect::<rusqlite::Result<_>>()?;
        Ok(keys.join(", "))
    }
}

fn quoted(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// Every table of the schema of `conn` but the excluded ones, parents before children (by
/// their foreign keys; otherwise in the order the migrations created them).
pub fn export_tables(conn: &Connection) -> Result<Vec<ExportTable>> {
    let mut statement = conn.prepare(
        "SELECT s.name, l.wr FROM sqlite_schema s JOIN pragma_table_list l ON l.name = s.name \
         WHERE s.type = 'table' AND l.schema = 'main' AND s.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         ORDER BY s.rowid",
    )?;
    let found: Vec<(String, bool)> = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut pending = Vec::new();
    for (name, without_rowid) in found {
        let excluded = EXPORT_EXCLUDED.iter().any(|(table, _)| *table == name);
        if excluded
            || FOREIGN_TABLE_PREFIXES
                .iter()
                .any(|(p, _)| name.starts_with(p))
        {
            continue;
        }
        let parents: Vec<String> = conn
            .prepare("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?)")?
            .query_map([&name], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let columns: Vec<(String, String)> = conn
            .prepare("SELECT name, upper(type) FROM pragma_table_info(?) ORDER BY cid")?
            .query_map([&name], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let kind = TYPE_NAMES
            .iter()
            .find(|(table, _)| *table == name)
            .map_or(name.as_str(), |(_, kind)| kind)
            .to_owned();
        let table = ExportTable {
            name,
            kind,
            columns,
            has_rowid: !without_rowid,
        };
        pending.push((table, parents));
    }
    // The first table (in creation order) whose parents are all placed, until none is left.
    let mut ordered: Vec<ExportTable> = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let ready = pending.iter().position(|(table, parents)| {
            parents
                .iter()
                .all(|p| *p == table.name || ordered.iter().any(|done| done.name == *p))
        });
        let Some(ready) = ready else {
            let names: Vec<&str> = pending.iter().map(|(t, _)| t.name.as_str()).collect();
            return Err(Error::internal(format!(
                "the foreign keys of {names:?} form a cycle or name a missing table"
            )));
        };
        ordered.push(pending.remove(ready).0);
    }
    Ok(ordered)
}

fn write_failed(error: impl std::fmt::Display) -> Error {
    Error::internal(format!("writing the export: {error}"))
}

/// Writes every row of `conn`'s exported tables to `out` as JSON lines, table by table,
/// from one snapshot; returns the rows written.
pub fn export(conn: &Connection, out: &mut dyn Write) -> Result<u64> {
    schema::refuse_newer(conn)?;
    // One read transaction: every table comes from the same snapshot.
    conn.execute_batch("BEGIN")?;
    let mut rows_written = 0;
    for table in export_tables(conn)? {
        let sql = format!(
            "SELECT * FROM {} ORDER BY {}",
            quoted(&table.name),
            table.order_by(conn)?
        );
        let mut statement = conn.prepare(&sql)?;
        let names: Vec<String> = statement
            .column_names()
            .into_iter()
            .map(String::from)
            .collect();
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let mut data = Map::new();
            for (index, name) in names.iter().enumerate() {
                data.insert(name.clone(), to_json(row.get_ref(index)?));
            }
            let line = serde_json::json!({"type": table.kind, "data": data});
            serde_json::to_writer(&mut *out, &line).map_err(write_failed)?;
            out.write_all(b"\n").map_err(write_failed)?;
            rows_written += 1;
        }
    }
    conn.execute_batch("COMMIT")?;
    out.flush().map_err(write_failed)?;
    Ok(rows_written)
}

fn to_json(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
    }
}

/// A refused import: what is wrong, on which line.
fn refused(line: usize, why: impl std::fmt::Display) -> Error {
    Error::new(Kind::InvalidImport).with_message(format!("line {line}: {why}"))
}

/// The SQL value of one exported column, given the column's declared type.
fn to_sql(value: &Value, declared: &str) -> std::result::Result<Sql, String> {
    Ok(match value {
        Value::Null => Sql::Null,
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Sql::Integer(i),
            (None, Some(f)) => Sql::Real(f),
            (None, None) => return Err(format!("{n} is not a number SQLite can hold")),
        },
        Value::String(s) if declared == "BLOB" => Sql::Blob(
            base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|e| format!("not base64: {e}"))?,
        ),
        Value::String(s) => Sql::Text(s.clone()),
        Value::Bool(_) | Value::Array(_) | Value::Object(_) => {
            return Err("an export holds text, numbers or null only".to_owned());
        }
    })
}

/// What an import wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    pub rows: u64,
}

/// Writes the export `input` into `conn`, a new, empty database: the current schema, then
/// every line, in one transaction, then checks the result (foreign keys, integrity, the
/// audit `verify` runs). Any bad line or failed check is an `InvalidImport` error naming the
/// line where there is one; the caller discards the file then.
pub fn import(conn: &mut Connection, input: impl BufRead) -> Result<Imported> {
    schema::migrate(conn)?;
    let tables = export_tables(conn)?;
    // Foreign keys are checked once every row is in: an export lists a table's rows in
    // insertion order, which need not be the order of a table's references to itself.
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let db_tx = conn.transaction()?;
    // Which line wrote each row, to name it should the row break a foreign key.
    let mut lines_of_rows: HashMap<(String, i64), usize> = HashMap::new();
    let mut rows = 0;
    for (index, line) in input.lines().enumerate() {
        let number = index + 1;
        let line = line.map_err(|e| refused(number, format!("cannot be read: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let (table, data) = parse_line(&tables, &line).map_err(|why| refused(number, why))?;
        let mut columns = Vec::with_capacity(data.len());
        let mut values = Vec::with_capacity(data.len());
        for (column, value) in &data {
            let declared = table.column_type(column).ok_or_else(|| {
                refused(number, format!("{} has no column {column:?}", table.kind))
            })?;
            let value = to_sql(value, declared)
                .map_err(|why| refused(number, format!("column {column:?}: {why}")))?;
            columns.push(quoted(column));
            values.push(value);
        }
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            quoted(&table.name),
            columns.join(", "),
            vec!["?"; values.len()].join(", ")
        );
        db_tx
            .prepare_cached(&sql)?
            .execute(params_from_iter(values))
            .map_err(|e| refused(number, format!("{} row refused: {e}", table.kind)))?;
        if table.has_rowid {
            lines_of_rows.insert((table.name.clone(), db_tx.last_insert_rowid()), number);
        }
        rows += 1;
    }
    check_foreign_keys(&db_tx, &tables, &lines_of_rows)?;
    // Indexes are schema, not rows: the export carries their `metadata_index` rows.
    super::metadata_indexes::rebuild_all(&db_tx)?;
    db_tx.commit()?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    let check: String = conn.query_row("PRAGMA integrity_check", [], |row| row.get(0))?;
    if check != "ok" {
        return Err(Error::new(Kind::InvalidImport)
            .with_message(format!("the imported tenant is damaged: {check}")));
    }
    let audit = chain::audit(conn)?;
    if let Some(problem) = audit.problems.first() {
        return Err(Error::new(Kind::InvalidImport).with_message(format!(
            "the imported tenant fails verification ({} problem(s)): {problem}",
            audit.problems.len()
        )));
    }
    Ok(Imported { rows })
}

/// The table a line is for and its columns, or why the line is refused.
fn parse_line<'a>(
    tables: &'a [ExportTable],
    line: &str,
) -> std::result::Result<(&'a ExportTable, Map<String, Value>), String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(mut object) = value else {
        return Err("not a JSON object".to_owned());
    };
    let kind = match object.remove("type") {
        Some(Value::String(kind)) => kind,
        _ => return Err("no \"type\" text".to_owned()),
    };
    let Some(Value::Object(data)) = object.remove("data") else {
        return Err("no \"data\" object".to_owned());
    };
    if let Some(unknown) = object.keys().next() {
        return Err(format!("unknown field {unknown:?}"));
    }
    let table = tables
        .iter()
        .find(|table| table.kind == kind)
        .ok_or_else(|| format!("unknown type {kind:?}"))?;
    Ok((table, data))
}

/// Refuses the import if any row references a row that is not there, naming its line.
fn check_foreign_keys(
    conn: &Connection,
    tables: &[ExportTable],
    lines_of_rows: &HashMap<(String, i64), usize>,
) -> Result<()> {
    let violation: Option<(String, Option<i64>, String)> = conn
        .prepare("SELECT \"table\", rowid, parent FROM pragma_foreign_key_check LIMIT 1")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
        .next()
        .transpose()?;
    let Some((table, rowid, parent)) = violation else {
        return Ok(());
    };
    let kind_of = |name: &str| {
        tables
            .iter()
            .find(|t| t.name == name)
            .map_or(name.to_owned(), |t| t.kind.clone())
    };
    let why = format!(
        "{} row references a {} that is not in the export",
        kind_of(&table),
        kind_of(&parent)
    );
    let line = rowid.and_then(|rowid| lines_of_rows.get(&(table, rowid)));
    Err(match line {
        Some(line) => refused(*line, why),
        None => Error::new(Kind::InvalidImport).with_message(why),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn schema() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        schema::migrate(&mut conn).unwrap();
        conn
    }

    /// The tables Litestream adds to a file it replicates are not the tenant's: the export
    /// leaves them out, so it imports into a file of the schema alone.
    #[test]
    fn tables_litestream_keeps_in_the_file_are_not_exported() {
        let conn = schema();
        let before: Vec<String> = export_tables(&conn)
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        conn.execute_batch(
            "CREATE TABLE _litestream_seq (id INTEGER PRIMARY KEY, seq INTEGER);
             CREATE TABLE _litestream_lock (id INTEGER);
             INSERT INTO _litestream_seq VALUES (1, 5);",
        )
        .unwrap();
        let after: Vec<String> = export_tables(&conn)
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(after, before);
        let mut out = Vec::new();
        export(&conn, &mut out).unwrap();
        assert!(!String::from_utf8(out).unwrap().contains("_litestream"));
    }

    /// Every table of the schema is exported, or excluded with a reason; nothing excluded
    /// is missing from the schema; parents come before children.
    #[test]
    fn every_table_of_the_schema_is_exported_or_excluded_with_a_reason() {
        let conn = schema();
        let tables: Vec<String> = conn
            .prepare(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
                 ORDER BY name",
            )
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let exported = export_tables(&conn).unwrap();
        for table in &tables {
            let is_exported = exported.iter().any(|t| t.name == *table);
            let excluded = EXPORT_EXCLUDED.iter().find(|(name, _)| name == table);
            assert!(
                is_exported != excluded.is_some(),
                "{table}: exported {is_exported}, excluded {excluded:?}"
            );
            if let Some((_, reason)) = excluded {
                assert!(
                    !reason.trim().is_empty(),
                    "{table} is excluded without a reason"
                );
            }
        }
        for (name, _) in EXPORT_EXCLUDED {
            assert!(
                tables.iter().any(|t| t == name),
                "{name} is not in the schema"
            );
        }
        assert_eq!(exported.len() + EXPORT_EXCLUDED.len(), tables.len());
        for (position, table) in exported.iter().enumerate() {
            let parents: Vec<String> = conn
                .prepare("SELECT \"table\" FROM pragma_foreign_key_list(?)")
                .unwrap()
                .query_map([&table.name], |row| row.get(0))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            for parent in parents.iter().filter(|p| **p != table.name) {
                let before = exported[..position].iter().any(|t| t.name == *parent);
                assert!(
                    before,
                    "{} is exported before its parent {parent}",
                    table.name
                );
            }
        }
        let kinds: std::collections::HashSet<&str> =
            exported.iter().map(|t| t.kind.as_str()).collect();
        assert_eq!(kinds.len(), exported.len(), "two tables share a type");
    }

    fn import_text(text: &str) -> Result<Imported> {
        let mut conn = Connection::open_in_memory().unwrap();
        import(&mut conn, text.as_bytes())
    }

    fn message(result: Result<Imported>) -> String {
        let error = result.unwrap_err();
        assert_eq!(error.kind, Kind::InvalidImport, "{error:?}");
        error.message
    }

    const ORGANIZATION: &str = r#"{"type":"organization","data":{"id":"o-1","legal_name":"Acme","legal_document":"1","status_code":"ACTIVE","created_at":"2026-01-01T00:00:00.000000Z","updated_at":"2026-01-01T00:00:00.000000Z"}}"#;

    #[test]
    fn bad_lines_are_refused_naming_their_line() {
        let cases = [
            ("not json", "line 2: not JSON"),
            ("[1]", "line 2: not a JSON object"),
            (
                r#"{"type":"nothing","data":{}}"#,
                "line 2: unknown type \"nothing\"",
            ),
            (
                r#"{"type":"organization","data":{"id":"o-2","colour":"red"}}"#,
                "line 2: organization has no column \"colour\"",
            ),
            (
                r#"{"type":"organization","data":{"id":"o-2"}}"#,
                "line 2: organization row refused: NOT NULL constraint failed",
            ),
            (
                ORGANIZATION,
                "line 2: organization row refused: UNIQUE constraint failed",
            ),
            (
                r#"{"type":"ledger","data":{"id":"l-1","organization_id":"o-9","name":"L","status_code":"ACTIVE","created_at":"x","updated_at":"x"}}"#,
                "line 2: ledger row references a organization that is not in the export",
            ),
            (
                r#"{"type":"organization","data":{"id":"o-2"},"extra":1}"#,
                "line 2: unknown field \"extra\"",
            ),
        ];
        for (line, expected) in cases {
            let got = message(import_text(&format!("{ORGANIZATION}\n{line}\n")));
            assert!(got.starts_with(expected), "{line}: {got}");
        }
        assert_eq!(import_text(&format!("{ORGANIZATION}\n")).unwrap().rows, 1);
    }

    #[test]
    fn an_export_imports_into_an_equal_export() {
        let mut source = Connection::open_in_memory().unwrap();
        import(&mut source, format!("{ORGANIZATION}\n").as_bytes()).unwrap();
        let mut first = Vec::new();
        export(&source, &mut first).unwrap();
        let mut copy = Connection::open_in_memory().unwrap();
        import(&mut copy, first.as_slice()).unwrap();
        let mut second = Vec::new();
        export(&copy, &mut second).unwrap();
        let text = String::from_utf8(first.clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains(r#""legal_name":"Acme""#), "{text}");
        assert!(text.contains(r#""deleted_at":null"#), "{text}");
        assert_eq!(first, second);
    }
}
