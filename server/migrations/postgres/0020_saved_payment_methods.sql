-- Saved payment methods: cards a customer saved at Stripe (during a checkout, with
-- `setup_future_usage: off_session`) that the merchant may charge later without them. paygate
-- keeps what can be shown (brand, last four digits, expiry), never the number; Stripe keeps
-- the card. Written when paygate sees the card attached (the widget's checkout, or Stripe's
-- `payment_method.attached` event) and marked detached when it is removed (through paygate, or
-- Stripe's `payment_method.detached`).
CREATE TABLE payment_methods (
    -- Stripe's PaymentMethod id (`pm_...`).
    id           TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL REFERENCES customers (id),
    provider     TEXT NOT NULL CHECK (provider IN ('stripe')),
    brand        TEXT NOT NULL,
    last4        TEXT NOT NULL,
    exp_month    BIGINT NOT NULL,
    exp_year     BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    -- When it was detached (Unix ms); NULL while it can be charged.
    detached_at  BIGINT
);
CREATE INDEX payment_methods_customer ON payment_methods (customer_id, created_at);

-- A checkout session for a known customer, and whether it saves the card paid with
-- ('optional': the customer's choice; 'always'; NULL: never).
ALTER TABLE checkout_sessions ADD COLUMN customer_id TEXT REFERENCES customers (id);
ALTER TABLE checkout_sessions ADD COLUMN save_payment_method TEXT
    CHECK (save_payment_method IN ('optional', 'always'));

-- The saved card an off-session payment charges.
ALTER TABLE payments ADD COLUMN payment_method_id TEXT;
