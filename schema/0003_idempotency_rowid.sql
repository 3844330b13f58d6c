-- Idempotency responses are ~2 KiB; in a WITHOUT ROWID table keyed by random keys every insert
-- split pages and rewrote kilobytes. Responses now append in rowid order, the key lookup is a
-- small unique index, and an expiry index lets each insert reclaim expired rows.
CREATE TABLE idempotency_response (
    id            INTEGER PRIMARY KEY,
    ledger_id     TEXT NOT NULL,
    key           TEXT NOT NULL,
    response      TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL
) STRICT;
INSERT INTO idempotency_response (ledger_id, key, response, expires_at_ms)
    SELECT ledger_id, key, response, expires_at_ms FROM idempotency ORDER BY expires_at_ms;
DROP TABLE idempotency;
CREATE UNIQUE INDEX idempotency_response_key ON idempotency_response(ledger_id, key);
CREATE INDEX idempotency_response_expiry ON idempotency_response(expires_at_ms);
