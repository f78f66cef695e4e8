-- How many payments (provider objects) a checkout session has started. The widget takes one
-- with a single conditional UPDATE before it asks the provider, so parallel requests cannot
-- pass the cap together (a count followed by an insert could). Existing sessions start at 0.
ALTER TABLE checkout_sessions ADD COLUMN payment_attempts INTEGER NOT NULL DEFAULT 0;
