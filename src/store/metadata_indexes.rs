//! SQL of metadata indexes. Each is a row of `metadata_index` and an SQLite expression index
//! `metadata_index_<row id>` on `json_extract(metadata, '$.<key>')` of its entity's table,
//! partial on live rows (`deleted_at IS NULL`) and, when sparse, on rows that have the key. A
//! unique one makes SQLite refuse a second live row with the same value, which
//! [`crate::error`] answers 409 `DUPLICATE_METADATA_VALUE`.

use rusqlite::{Connection, OptionalExtension, params};

use crate::domain::metadata::{METADATA_INDEXES_PER_ENTITY_MAX, MetadataIndex, is_index_key};
use crate::error::{Error, Kind, Result};

/// The entities whose metadata Midaz indexes, in its order, each with its table in a tenant
/// file. An entity whose table the file does not have is refused with a message saying so.
pub const ENTITY_TABLES: &[(&str, &str)] = &[
    ("organization", "organization"),
    ("ledger", "ledger"),
    ("segment", "segment"),
    ("account", "account"),
    ("portfolio", "portfolio"),
    ("asset", "asset"),
    ("account_type", "account_type"),
    ("transaction", "ledger_transaction"),
    ("operation", "operation"),
    ("operation_route", "operation_route"),
    ("transaction_route", "transaction_route"),
];

/// The table of the entity Midaz calls `entity`, or `None` for a name Midaz does not know.
pub fn table_of(entity: &str) -> Option<&'static str> {
    ENTITY_TABLES
        .iter()
        .find(|(name, _)| *name == entity)
        .map(|(_, table)| *table)
}

/// The expression an index on `key` stores and a `metadata.<key>=` filter compares: the same
/// text, or SQLite would not use the index. `None` for a key no index can have; such a key is
/// the only text of a request that reaches SQL unbound, which [`is_index_key`] makes safe.
pub fn expression(key: &str) -> Option<String> {
    is_index_key(key).then(|| format!("json_extract(metadata, '$.{key}')"))
}

fn invalid_entity(entity: &str) -> Error {
    Error::new(Kind::InvalidEntityName)
        .with_entity("MetadataIndex")
        .with_message(format!(
            "The provided entity name '{entity}' is not valid: metadata indexes exist for {}.",
            ENTITY_TABLES
                .iter()
                .map(|(name, _)| *name)
                .collect::<Vec<_>>()
                .join(", ")
        ))
}

/// The table of `entity` in this file, or why there is none.
fn stored_table(conn: &Connection, entity: &str) -> Result<&'static str> {
    let table = table_of(entity).ok_or_else(|| invalid_entity(entity))?;
    let exists: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?)",
        )?
        .query_row([table], |row| row.get(0))?;
    if !exists {
        return Err(Error::new(Kind::InvalidEntityName)
            .with_entity("MetadataIndex")
            .with_message(format!(
                "This server does not store {entity} records yet, so their metadata cannot be indexed."
            )));
    }
    Ok(table)
}

/// Creates the index of `key` on `entity` (row and SQLite index in the caller's transaction:
/// if the live rows already break a unique index, nothing is left behind).
pub fn create(
    conn: &Connection,
    entity: &str,
    key: &str,
    unique: bool,
    sparse: bool,
    now: &str,
) -> Result<MetadataIndex> {
    let table = stored_table(conn, entity)?;
    if find(conn, entity, key)?.is_some() {
        return Err(Error::new(Kind::MetadataIndexAlreadyExists).with_entity("MetadataIndex"));
    }
    let existing: i64 = conn
        .prepare_cached("SELECT count(*) FROM metadata_index WHERE entity_name = ?")?
        .query_row([entity], |row| row.get(0))?;
    if usize::try_from(existing).unwrap_or(usize::MAX) >= METADATA_INDEXES_PER_ENTITY_MAX {
        return Err(Error::new(Kind::MetadataIndexLimitExceeded).with_entity("MetadataIndex"));
    }
    conn.prepare_cached(
        "INSERT INTO metadata_index (entity_name, metadata_key, is_unique, sparse, created_at) \
         VALUES (?, ?, ?, ?, ?)",
    )?
    .execute(params![entity, key, unique, sparse, now])?;
    build(conn, conn.last_insert_rowid(), table, key, unique, sparse).map_err(|error| {
        if error.kind == Kind::DuplicateMetadataValue {
            error.with_message(format!(
                "Live {entity} records already share a value of metadata key '{key}', so a \
                 unique index cannot be created; nothing was created."
            ))
        } else {
            error
        }
    })?;
    Ok(MetadataIndex::new(entity, key, unique, sparse))
}

/// The SQLite index of the `metadata_index` row `id`.
fn build(
    conn: &Connection,
    id: i64,
    table: &str,
    key: &str,
    unique: bool,
    sparse: bool,
) -> Result<()> {
    let expression = expression(key)
        .ok_or_else(|| Error::internal(format!("metadata index {id} has the key {key:?}")))?;
    let unique = if unique { "UNIQUE " } else { "" };
    let mut sql = format!(
        "CREATE {unique}INDEX metadata_index_{id} ON {table}({expression}) WHERE deleted_at IS NULL"
    );
    if sparse {
        sql.push_str(&format!(" AND {expression} IS NOT NULL"));
    }
    conn.execute_batch(&sql)?;
    Ok(())
}

fn find(conn: &Connection, entity: &str, key: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT id FROM metadata_index WHERE entity_name = ? AND metadata_key = ?")?
        .query_row([entity, key], |row| row.get(0))
        .optional()?)
}

/// The indexes, of one entity or of all, in the order they were created.
pub fn list(conn: &Connection, entity: Option<&str>) -> Result<Vec<MetadataIndex>> {
    if let Some(entity) = entity.filter(|e| table_of(e).is_none()) {
        return Err(invalid_entity(entity));
    }
    let mut statement = conn.prepare_cached(
        "SELECT entity_name, metadata_key, is_unique, sparse FROM metadata_index \
         WHERE ?1 IS NULL OR entity_name = ?1 ORDER BY id",
    )?;
    let rows = statement.query_map([entity], |row| {
        let (entity, key): (String, String) = (row.get(0)?, row.get(1)?);
        Ok(MetadataIndex::new(&entity, &key, row.get(2)?, row.get(3)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Drops the index of `key` on `entity`, or fails with 0133.
pub fn delete(conn: &Connection, entity: &str, key: &str) -> Result<()> {
    if table_of(entity).is_none() {
        return Err(invalid_entity(entity));
    }
    let id = find(conn, entity, key)?
        .ok_or_else(|| Error::new(Kind::MetadataIndexNotFound).with_entity("MetadataIndex"))?;
    conn.execute_batch(&format!("DROP INDEX metadata_index_{id}"))?;
    conn.prepare_cached("DELETE FROM metadata_index WHERE id = ?")?
        .execute([id])?;
    Ok(())
}

/// Builds the SQLite index of every `metadata_index` row: an import writes the rows, and this
/// makes them indexes again (a unique one the imported rows break fails the import).
pub fn rebuild_all(conn: &Connection) -> Result<()> {
    let rows: Vec<(i64, String, String, bool, bool)> = conn
        .prepare("SELECT id, entity_name, metadata_key, is_unique, sparse FROM metadata_index ORDER BY id")?
        .query_map([], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (id, entity, key, unique, sparse) in rows {
        let table = stored_table(conn, &entity)?;
        build(conn, id, table, &key, unique, sparse).map_err(|error| {
            Error::new(Kind::InvalidImport).with_message(format!(
                "the metadata index of {entity} key {key:?} cannot be rebuilt: {}",
                error.message
            ))
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::super::query::tests::plan;
    use super::*;

    fn tenant() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::schema::migrate(&mut conn).unwrap();
        conn.execute_batch(
            "INSERT INTO organization (id, legal_name, legal_document, status_code, metadata, \
             created_at, updated_at) VALUES \
             ('o-1', 'A', '1', 'ACTIVE', '{\"tier\":\"gold\"}', 't', 't'), \
             ('o-2', 'B', '2', 'ACTIVE', '{\"tier\":\"gold\"}', 't', 't'), \
             ('o-3', 'C', '3', 'ACTIVE', NULL, 't', 't');",
        )
        .unwrap();
        conn
    }

    /// Sets the `tier` metadata of organization `id`.
    fn set_tier(conn: &Connection, id: &str, tier: &str) -> Result<usize> {
        let metadata = serde_json::json!({ "tier": tier }).to_string();
        Ok(conn.execute(
            "UPDATE organization SET metadata = ? WHERE id = ?",
            [metadata.as_str(), id],
        )?)
    }

    /// The SQL a `metadata.tier=` filter of the organization list runs is answered through
    /// the index, and without it by a scan.
    #[test]
    fn a_metadata_filter_searches_the_index_of_its_key() {
        use crate::domain::query::{ListQuery, SortOrder};
        let conn = tenant();
        let query = ListQuery {
            metadata: Some(("tier".to_owned(), "gold".to_owned())),
            sort: SortOrder::Desc,
            ..ListQuery::default()
        };
        let keys: &[(&str, &str)] = &[];
        let scope = super::super::query::Scope::new("organization", "id", keys);
        let sql = super::super::query::list_sql(&scope, &query).0;
        let before = plan(&conn, &sql);
        assert!(before.starts_with("SCAN organization"), "{before}");
        create(&conn, "organization", "tier", false, true, "t").unwrap();
        let planned = plan(&conn, &sql);
        assert!(
            planned.contains("USING INDEX metadata_index_1 (<expr>=?)"),
            "{planned}"
        );
        let found = super::super::query::list(&conn, &scope, &query, |row| row.get::<_, String>(0))
            .unwrap();
        assert_eq!(found, ["o-2", "o-1"]);
    }

    #[test]
    fn a_unique_index_the_live_rows_break_is_not_created_and_one_they_keep_refuses_a_twin() {
        let conn = tenant();
        let refused = create(&conn, "organization", "tier", true, true, "t").unwrap_err();
        assert_eq!(refused.kind, Kind::DuplicateMetadataValue, "{refused:?}");
        // The caller's savepoint rolls the row back; here the row stays but no index exists.
        let indexes: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'metadata_index\\_%' ESCAPE '\\'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(indexes, 0);
        conn.execute("DELETE FROM metadata_index", []).unwrap();
        conn.execute(
            "UPDATE organization SET deleted_at = 't' WHERE id = 'o-2'",
            [],
        )
        .unwrap();
        create(&conn, "organization", "tier", true, true, "t").unwrap();
        let twin = set_tier(&conn, "o-3", "gold").unwrap_err();
        assert_eq!(twin.kind, Kind::DuplicateMetadataValue, "{twin:?}");
        assert_eq!(set_tier(&conn, "o-3", "silver").unwrap(), 1);
    }

    /// An export carries the index as its row; the import builds it again, and refuses an
    /// export whose rows break it.
    #[test]
    fn an_import_rebuilds_the_indexes_of_the_export() {
        use super::super::export::{export, import};
        let conn = tenant();
        set_tier(&conn, "o-2", "silver").unwrap();
        create(&conn, "organization", "tier", true, true, "t").unwrap();
        let mut exported = Vec::new();
        export(&conn, &mut exported).unwrap();

        let mut copy = Connection::open_in_memory().unwrap();
        import(&mut copy, exported.as_slice()).unwrap();
        assert_eq!(list(&copy, None).unwrap(), list(&conn, None).unwrap());
        let twin = set_tier(&copy, "o-3", "gold").unwrap_err();
        assert_eq!(twin.kind, Kind::DuplicateMetadataValue, "{twin:?}");

        let broken = String::from_utf8(exported)
            .unwrap()
            .replace("silver", "gold");
        let mut refused = Connection::open_in_memory().unwrap();
        let error = import(&mut refused, broken.as_bytes()).unwrap_err();
        assert_eq!(error.kind, Kind::InvalidImport, "{error:?}");
        assert!(
            error
                .message
                .contains("metadata index of organization key \"tier\""),
            "{}",
            error.message
        );
    }

    #[test]
    fn entities_are_midazs_and_one_without_a_table_is_refused_by_name() {
        let conn = tenant();
        let unknown = create(&conn, "widget", "tier", false, true, "t").unwrap_err();
        assert_eq!(unknown.kind, Kind::InvalidEntityName);
        conn.execute_batch("DROP TABLE segment").unwrap();
        let absent = create(&conn, "segment", "tier", false, true, "t").unwrap_err();
        assert_eq!(absent.kind, Kind::InvalidEntityName);
        assert!(
            absent.message.contains("does not store segment records"),
            "{}",
            absent.message
        );
        assert_eq!(list(&conn, None).unwrap(), []);
    }
}
