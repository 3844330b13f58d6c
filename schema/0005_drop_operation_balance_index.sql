-- Every posted operation inserted into this index at a random leaf (one more 4 KiB page
-- written per operation). Balance history now walks the account's operations through
-- `operation_account` from the UUIDv7 ceiling of the requested time, and the audit replays
-- all operations in one pass, so nothing needs it.
DROP INDEX operation_balance;
