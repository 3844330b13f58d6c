-- Metadata indexes (Midaz v3.5+ `/v1/settings/metadata-indexes`): one row per index a client
-- created, and the SQLite expression index itself, named `metadata_index_<id>`, on
-- `json_extract(metadata, '$.<key>')` of the entity's table (store/metadata_indexes.rs). The
-- row is kept beside the index, rather than read back from sqlite_schema, because index names
-- are case-insensitive while metadata keys are not, and because an export carries rows: an
-- import rebuilds each index from its row.
CREATE TABLE metadata_index (
    id           INTEGER PRIMARY KEY,
    entity_name  TEXT NOT NULL,
    metadata_key TEXT NOT NULL,
    is_unique    INTEGER NOT NULL,
    sparse       INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    UNIQUE (entity_name, metadata_key)
) STRICT;
