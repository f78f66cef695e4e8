-- Payment links: a reusable URL (`/pay/{id}`) that opens a fresh checkout session for each
-- customer who asks to pay. The link holds what a session needs: a fixed price (an amount, or
-- line items summed by the server) or bounds within which the customer chooses the amount.
CREATE TABLE payment_links (
    id                    TEXT PRIMARY KEY,
    -- The merchant's switch (1 on, 0 off); expiry and the limit are checked apart from it.
    active                BIGINT NOT NULL CHECK (active IN (0, 1)),
    currency              TEXT NOT NULL,
    -- The fixed price in minor units; NULL when the customer chooses the amount.
    amount_minor          BIGINT CHECK (amount_minor > 0),
    line_items            TEXT NOT NULL DEFAULT '[]',
    -- Bounds of a customer-chosen amount (inclusive) and the amount the form starts with.
    custom_minimum_minor  BIGINT CHECK (custom_minimum_minor > 0),
    custom_maximum_minor  BIGINT,
    custom_preset_minor   BIGINT,
    description           TEXT,
    metadata              TEXT NOT NULL DEFAULT '{}',
    success_url           TEXT,
    cancel_url            TEXT,
    -- The providers the merchant allowed (comma-separated); empty: every enabled provider.
    providers             TEXT NOT NULL,
    capture_mode          TEXT NOT NULL CHECK (capture_mode IN ('automatic', 'manual')),
    -- At most this many sessions may be paid through the link (Stripe's
    -- `restrictions.completed_sessions.limit`); NULL: no limit.
    completed_limit       BIGINT CHECK (completed_limit > 0),
    -- After this time (Unix ms) the link opens no more sessions; NULL: never.
    expires_at            BIGINT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    CHECK ((amount_minor IS NULL) <> (custom_minimum_minor IS NULL)),
    CHECK (custom_minimum_minor IS NULL OR custom_maximum_minor >= custom_minimum_minor)
);
CREATE INDEX payment_links_newest ON payment_links (created_at, id);

-- The link a session was opened from. The index counts a link's paid and open sessions (the
-- limit's places) and finds the payments of a link for the console.
ALTER TABLE checkout_sessions ADD COLUMN payment_link_id TEXT REFERENCES payment_links (id);
CREATE INDEX checkout_sessions_payment_link ON checkout_sessions (payment_link_id, status)
    WHERE payment_link_id IS NOT NULL;

-- Copied from the session when the widget creates a payment, so a payment names its link
-- without a join.
ALTER TABLE payments ADD COLUMN payment_link_id TEXT;
