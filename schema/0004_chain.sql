-- Tamper evidence: every committed change to a transaction's balances (its creation, commit
-- or cancel) appends one entry whose hash covers the previous entry's hash and a canonical
-- encoding of the transaction and the operations of that change, in the same SQLite
-- transaction as the change itself.
CREATE TABLE chain (
    seq            INTEGER PRIMARY KEY,
    transaction_id TEXT NOT NULL REFERENCES ledger_transaction(id),
    event          TEXT NOT NULL,
    operations     TEXT NOT NULL,
    previous       TEXT NOT NULL,
    hash           TEXT NOT NULL,
    created_at     TEXT NOT NULL
) STRICT;
