-- Checkout sessions that only save a card for later (`mode = 'setup'`, Stripe's SetupIntents):
-- nothing is charged, so their amount is 0, which `amount_minor`'s CHECK (> 0) forbade. The
-- column's CHECK is replaced by one that ties amount to mode (the SQLite migration reaches the
-- same rule by another way; see there).
ALTER TABLE checkout_sessions DROP CONSTRAINT checkout_sessions_amount_minor_check;
ALTER TABLE checkout_sessions ADD CONSTRAINT checkout_sessions_amount_minor_check
    CHECK (amount_minor >= 0);

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
