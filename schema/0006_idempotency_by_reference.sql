-- A stored idempotent response was the whole 201 body: ~2.1 KiB, one per 4 KiB page, about
-- 60% of the file and of the bytes written per transfer. A key now points at the transaction
-- it created, and a replay renders that transaction from the journal. Its first body is
-- written out in full (`response`) only when the transaction or one of its operations is
-- about to change (commit, cancel, PATCH), so a replay still answers the first body exactly.
-- The transaction remembers the key that created it, so that change can find the record.
CREATE TABLE idempotency_record (
    ledger_id      TEXT NOT NULL,
    key            TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    -- NULL while the transaction is as it was created.
    response       TEXT,
    expires_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (ledger_id, key)
) STRICT, WITHOUT ROWID;
INSERT INTO idempotency_record (ledger_id, key, transaction_id, response, expires_at_ms)
    SELECT ledger_id, key, json_extract(response, '$.id'), response, expires_at_ms
    FROM idempotency_response;
DROP TABLE idempotency_response;
CREATE INDEX idempotency_record_expiry ON idempotency_record(expires_at_ms);
ALTER TABLE ledger_transaction ADD COLUMN idempotency_key TEXT;
