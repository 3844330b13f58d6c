-- Midaz v3.7/v3.8 balances: a direction, overdraft settings and the overdraft used.
--
-- direction: 'credit' (a CREDIT raises available) or 'debit' (a DEBIT raises it). Since Midaz
-- v3.8 every @external/<CODE> balance is debit-direction, so an inflow of 100 leaves it at 100
-- where it used to be -100. Files written before this migration hold their external balances
-- credit-direction: they are flipped here (available negated; external balances never hold,
-- so on_hold is 0) and marked debit. Their past operations keep the direction they were written
-- under (operation.balance_direction defaults to 'credit'), so replaying the journal still
-- reproduces every snapshot: the audit sees the one change of direction and accepts it only
-- as this migration makes it (an external balance, credit to debit, nothing on hold).
ALTER TABLE balance ADD COLUMN direction TEXT NOT NULL DEFAULT 'credit';
-- settings: the balance's settings as Midaz's JSON object, or NULL for none.
ALTER TABLE balance ADD COLUMN settings TEXT;
-- overdraft_used: what an overdraft-enabled balance owes; mirrored, summed over the account's
-- balances, by the account's internal 'overdraft' balance.
ALTER TABLE balance ADD COLUMN overdraft_used TEXT NOT NULL DEFAULT '0';

ALTER TABLE operation ADD COLUMN balance_direction TEXT NOT NULL DEFAULT 'credit';
ALTER TABLE operation ADD COLUMN overdraft_used_before TEXT NOT NULL DEFAULT '0';
ALTER TABLE operation ADD COLUMN overdraft_used_after TEXT NOT NULL DEFAULT '0';

UPDATE balance
SET direction = 'debit',
    available = CASE
        WHEN available = '0' THEN '0'
        WHEN substr(available, 1, 1) = '-' THEN substr(available, 2)
        ELSE '-' || available
    END
WHERE account_type = 'external';
