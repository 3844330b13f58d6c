-- Onboarding entities of the Midaz contract. Timestamps are RFC 3339 UTC text with a fixed
-- width (YYYY-MM-DDTHH:MM:SS.ffffffZ) so that text order is time order. Metadata is a JSON
-- object in a text column. Deletes are soft: deleted_at is set and the row stays.

CREATE TABLE organization (
    id                     TEXT PRIMARY KEY,
    parent_organization_id TEXT,
    legal_name             TEXT NOT NULL,
    legal_document         TEXT NOT NULL,
    doing_business_as      TEXT,
    address                TEXT,
    status_code            TEXT NOT NULL,
    status_description     TEXT,
    metadata               TEXT,
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL,
    deleted_at             TEXT
) STRICT;

CREATE TABLE ledger (
    id                 TEXT PRIMARY KEY,
    organization_id    TEXT NOT NULL REFERENCES organization(id),
    name               TEXT NOT NULL,
    settings           TEXT,
    status_code        TEXT NOT NULL,
    status_description TEXT,
    metadata           TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    deleted_at         TEXT
) STRICT;
CREATE UNIQUE INDEX ledger_name ON ledger(organization_id, name) WHERE deleted_at IS NULL;

CREATE TABLE asset (
    id                 TEXT PRIMARY KEY,
    organization_id    TEXT NOT NULL,
    ledger_id          TEXT NOT NULL REFERENCES ledger(id),
    name               TEXT NOT NULL,
    type               TEXT NOT NULL,
    code               TEXT NOT NULL,
    status_code        TEXT NOT NULL,
    status_description TEXT,
    metadata           TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    deleted_at         TEXT
) STRICT;
CREATE UNIQUE INDEX asset_code ON asset(ledger_id, code) WHERE deleted_at IS NULL;

CREATE TABLE portfolio (
    id                 TEXT PRIMARY KEY,
    organization_id    TEXT NOT NULL,
    ledger_id          TEXT NOT NULL REFERENCES ledger(id),
    name               TEXT NOT NULL,
    entity_id          TEXT,
    status_code        TEXT NOT NULL,
    status_description TEXT,
    metadata           TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    deleted_at         TEXT
) STRICT;

CREATE TABLE segment (
    id                 TEXT PRIMARY KEY,
    organization_id    TEXT NOT NULL,
    ledger_id          TEXT NOT NULL REFERENCES ledger(id),
    name               TEXT NOT NULL,
    status_code        TEXT NOT NULL,
    status_description TEXT,
    metadata           TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    deleted_at         TEXT
) STRICT;
CREATE UNIQUE INDEX segment_name ON segment(ledger_id, name) WHERE deleted_at IS NULL;

CREATE TABLE account_type (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    ledger_id       TEXT NOT NULL REFERENCES ledger(id),
    name            TEXT NOT NULL,
    description     TEXT,
    key_value       TEXT NOT NULL,
    metadata        TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    deleted_at      TEXT
) STRICT;
CREATE UNIQUE INDEX account_type_key ON account_type(ledger_id, key_value) WHERE deleted_at IS NULL;

CREATE TABLE account (
    id                 TEXT PRIMARY KEY,
    organization_id    TEXT NOT NULL,
    ledger_id          TEXT NOT NULL REFERENCES ledger(id),
    name               TEXT NOT NULL,
    alias              TEXT NOT NULL,
    type               TEXT NOT NULL,
    asset_code         TEXT NOT NULL,
    parent_account_id  TEXT,
    portfolio_id       TEXT,
    segment_id         TEXT,
    entity_id          TEXT,
    blocked            INTEGER NOT NULL DEFAULT 0,
    status_code        TEXT NOT NULL,
    status_description TEXT,
    metadata           TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    deleted_at         TEXT
) STRICT;
CREATE UNIQUE INDEX account_alias ON account(ledger_id, alias) WHERE deleted_at IS NULL;

-- Amounts are canonical decimal strings (rust_decimal, no trailing zeros); all arithmetic is
-- done in Rust, never by SQL, so nothing is ever rounded through a float.
CREATE TABLE balance (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    ledger_id       TEXT NOT NULL,
    account_id      TEXT NOT NULL REFERENCES account(id),
    alias           TEXT NOT NULL,
    key             TEXT NOT NULL,
    asset_code      TEXT NOT NULL,
    available       TEXT NOT NULL DEFAULT '0',
    on_hold         TEXT NOT NULL DEFAULT '0',
    version         INTEGER NOT NULL DEFAULT 1,
    account_type    TEXT NOT NULL,
    allow_sending   INTEGER NOT NULL DEFAULT 1,
    allow_receiving INTEGER NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    deleted_at      TEXT
) STRICT;
CREATE UNIQUE INDEX balance_alias_key ON balance(ledger_id, alias, key) WHERE deleted_at IS NULL;
CREATE INDEX balance_account ON balance(account_id);
