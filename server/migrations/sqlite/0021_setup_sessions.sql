-- Checkout sessions that only save a card for later (`mode = 'setup'`, Stripe's SetupIntents):
-- nothing is charged, so their amount is 0, which `amount_minor`'s CHECK (> 0) forbade.
--
-- SQLite cannot change a column's CHECK in place, and rebuilding the table would need foreign
-- keys off (payments reference it) outside a transaction. Instead the amount moves to a new
-- column with the wider CHECK inside this migration's transaction: add it, copy, drop the old
-- column (its column-level CHECK goes with it; no index, view or trigger names it), and give
-- the new one the old name. The rule that ties amount to mode is a CHECK on `mode`, added
-- after, so it names the final column.
ALTER TABLE checkout_sessions ADD COLUMN amount_minor_new INTEGER NOT NULL DEFAULT 0
    CHECK (amount_minor_new >= 0);
UPDATE checkout_sessions SET amount_minor_new = amount_minor;
ALTER TABLE checkout_sessions DROP COLUMN amount_minor;
ALTER TABLE checkout_sessions RENAME COLUMN amount_minor_new TO amount_minor;

-- 'payment' charges the amount (every session before this migration); 'setup' charges
-- nothing and saves the card for the session's customer.
ALTER TABLE checkout_sessions ADD COLUMN mode TEXT NOT NULL DEFAULT 'payment'
    CHECK (mode IN ('payment', 'setup') AND (mode = 'setup') = (amount_minor = 0));

-- A setup session's SetupIntent (`seti_...`), made once per session (its client secret is
-- read from Stripe when needed, never stored), and the card it saved once complete.
ALTER TABLE checkout_sessions ADD COLUMN setup_intent_id TEXT;
ALTER TABLE checkout_sessions ADD COLUMN setup_payment_method_id TEXT;
CREATE UNIQUE INDEX checkout_sessions_setup_intent ON checkout_sessions (setup_intent_id)
    WHERE setup_intent_id IS NOT NULL;
