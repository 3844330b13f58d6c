-- The journal: transactions and their operations (one per balance touched), append-only except
-- for the fields the contract lets clients change (status of a pending transaction,
-- description, metadata). Amounts are canonical decimal text, never floats.

CREATE TABLE ledger_transaction (
    id                           TEXT PRIMARY KEY,
    organization_id              TEXT NOT NULL,
    ledger_id                    TEXT NOT NULL REFERENCES ledger(id),
    parent_transaction_id        TEXT REFERENCES ledger_transaction(id),
    description                  TEXT,
    status_code                  TEXT NOT NULL,
    status_description           TEXT,
    amount                       TEXT NOT NULL,
    asset_code                   TEXT NOT NULL,
    chart_of_accounts_group_name TEXT,
    source                       TEXT NOT NULL,
    destination                  TEXT NOT NULL,
    route                        TEXT,
    -- The resolved postings (JSON), replayed on commit and cancel of a pending transaction.
    postings                     TEXT NOT NULL,
    metadata                     TEXT,
    created_at                   TEXT NOT NULL,
    updated_at                   TEXT NOT NULL,
    deleted_at                   TEXT
) STRICT;
CREATE INDEX ledger_transaction_ledger ON ledger_transaction(ledger_id, id);
CREATE UNIQUE INDEX ledger_transaction_reversal ON ledger_transaction(parent_transaction_id)
    WHERE parent_transaction_id IS NOT NULL;

CREATE TABLE operation (
    id                 TEXT PRIMARY KEY,
    transaction_id     TEXT NOT NULL REFERENCES ledger_transaction(id),
    organization_id    TEXT NOT NULL,
    ledger_id          TEXT NOT NULL,
    description        TEXT,
    type               TEXT NOT NULL,
    direction          TEXT NOT NULL,
    asset_code         TEXT NOT NULL,
    chart_of_accounts  TEXT,
    amount             TEXT NOT NULL,
    available_before   TEXT NOT NULL,
    on_hold_before     TEXT NOT NULL,
    version_before     INTEGER NOT NULL,
    available_after    TEXT NOT NULL,
    on_hold_after      TEXT NOT NULL,
    version_after      INTEGER NOT NULL,
    status_code        TEXT NOT NULL,
    status_description TEXT,
    account_id         TEXT NOT NULL REFERENCES account(id),
    account_alias      TEXT NOT NULL,
    balance_key        TEXT NOT NULL,
    balance_id         TEXT NOT NULL REFERENCES balance(id),
    balance_affected   INTEGER NOT NULL,
    route              TEXT,
    metadata           TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    deleted_at         TEXT
) STRICT;
CREATE INDEX operation_transaction ON operation(transaction_id, id);
CREATE INDEX operation_account ON operation(account_id, id);
CREATE INDEX operation_balance ON operation(balance_id, created_at);

-- Responses of transaction-creating requests, keyed per ledger, kept until they expire.
CREATE TABLE idempotency (
    ledger_id     TEXT NOT NULL,
    key           TEXT NOT NULL,
    response      TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    PRIMARY KEY (ledger_id, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE asset_rate (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    ledger_id       TEXT NOT NULL REFERENCES ledger(id),
    external_id     TEXT NOT NULL,
    source_code     TEXT NOT NULL,
    target_code     TEXT NOT NULL,
    rate            TEXT NOT NULL,
    scale           INTEGER NOT NULL,
    source          TEXT,
    ttl             INTEGER NOT NULL,
    metadata        TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    deleted_at      TEXT
) STRICT;
CREATE UNIQUE INDEX asset_rate_pair ON asset_rate(ledger_id, source_code, target_code);
CREATE UNIQUE INDEX asset_rate_external ON asset_rate(ledger_id, external_id);
