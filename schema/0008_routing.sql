-- Operation routes and transaction routes (Midaz's accounting routes), and the route a
-- transaction and each of its operations name. `account` and `accounting_entries` are JSON
-- objects as the API takes them. A transaction route's operation routes are its links, in
-- the order it lists them; deleting a transaction route deletes its links, and an operation
-- route with a link cannot be deleted (0107).
CREATE TABLE operation_route (
    id                 TEXT PRIMARY KEY,
    organization_id    TEXT NOT NULL,
    ledger_id          TEXT NOT NULL REFERENCES ledger(id),
    title              TEXT NOT NULL,
    description        TEXT,
    code               TEXT,
    operation_type     TEXT NOT NULL CHECK (operation_type IN ('source', 'destination', 'bidirectional')),
    account            TEXT,
    accounting_entries TEXT,
    metadata           TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    deleted_at         TEXT
) STRICT;
CREATE INDEX operation_route_ledger ON operation_route(ledger_id, created_at);

CREATE TABLE transaction_route (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    ledger_id       TEXT NOT NULL REFERENCES ledger(id),
    title           TEXT NOT NULL,
    description     TEXT,
    metadata        TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    deleted_at      TEXT
) STRICT;
CREATE INDEX transaction_route_ledger ON transaction_route(ledger_id, created_at);

CREATE TABLE transaction_route_link (
    transaction_route_id TEXT NOT NULL REFERENCES transaction_route(id),
    operation_route_id   TEXT NOT NULL REFERENCES operation_route(id),
    position             INTEGER NOT NULL,
    PRIMARY KEY (transaction_route_id, operation_route_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX transaction_route_link_operation ON transaction_route_link(operation_route_id);

ALTER TABLE ledger_transaction ADD COLUMN route_id TEXT;
ALTER TABLE operation ADD COLUMN route_id TEXT;
ALTER TABLE operation ADD COLUMN route_code TEXT;
ALTER TABLE operation ADD COLUMN route_description TEXT;
