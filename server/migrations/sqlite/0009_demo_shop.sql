-- The sandbox demo shop's own records. The shop stands for a merchant's back end: it keeps its
-- orders apart from paygate's sessions and payments (no foreign keys into them, as a merchant's
-- database would have none) and marks an order paid only when paygate's signed
-- `checkout.session.completed` webhook arrives, never on the customer's browser's word. Only
-- sandbox mode writes these tables. The shop's endpoint secret is a `settings` row.
CREATE TABLE demo_orders (
    id                  TEXT PRIMARY KEY,
    -- The checkout session opened for the order: the webhook names it in `data.object.id`.
    checkout_session_id TEXT NOT NULL UNIQUE,
    -- JSON array of {sku, name, unit_amount, quantity}, priced from the shop's catalogue.
    items               TEXT NOT NULL,
    -- What the customer owes, checked against the paid session's amount.
    amount_minor        INTEGER NOT NULL,
    currency            TEXT NOT NULL,
    -- awaiting_payment moves once: to paid (checkout.session.completed) or expired
    -- (checkout.session.expired); a later or replayed event changes nothing.
    status              TEXT NOT NULL CHECK (status IN ('awaiting_payment', 'paid', 'expired')),
    -- The event (webhook-id) that settled the order.
    settled_by          TEXT,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);

-- Every webhook delivery the shop accepted, by its `webhook-id`: deliveries are at least once,
-- so a second delivery of the same id is acknowledged and changes nothing.
CREATE TABLE demo_webhook_receipts (
    webhook_id  TEXT PRIMARY KEY,
    event_type  TEXT NOT NULL,
    received_at INTEGER NOT NULL
);
