-- Disputes (chargebacks and inquiries) a provider opened against a payment, kept as the
-- provider last reported them: applied from Stripe's `charge.dispute.*` events (the object read
-- back) and from paygate's own evidence submissions and acceptances.
CREATE TABLE disputes (
    id                 TEXT PRIMARY KEY,
    provider           TEXT NOT NULL CHECK (provider IN ('stripe', 'paypal')),
    -- The provider's id (`du_...`).
    provider_reference TEXT NOT NULL,
    payment_id         TEXT NOT NULL REFERENCES payments (id),
    currency           TEXT NOT NULL,
    amount_minor       BIGINT NOT NULL CHECK (amount_minor > 0),
    reason             TEXT,
    -- The provider's status: `warning_needs_response`, `warning_under_review`,
    -- `warning_closed`, `needs_response`, `under_review`, `won`, `lost`.
    status             TEXT NOT NULL,
    -- When the time to respond ends (Unix ms).
    evidence_due_by    BIGINT,
    submission_count   BIGINT NOT NULL DEFAULT 0,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    UNIQUE (provider, provider_reference)
);
CREATE INDEX disputes_newest ON disputes (created_at, id);
CREATE INDEX disputes_payment ON disputes (payment_id);

-- What the payment's open and lost disputes hold back (inquiries and won disputes hold
-- nothing), kept with each dispute change.
ALTER TABLE payments ADD COLUMN disputed_minor BIGINT NOT NULL DEFAULT 0;
