-- Refund metadata, a provider object maps to at most one refund, and a subscription remembers
-- its latest invoice (Stripe Billing webhooks). Keep in step with ../postgres/0002_*.sql.
ALTER TABLE refunds ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
CREATE UNIQUE INDEX refunds_provider_reference ON refunds (provider_reference);
ALTER TABLE subscriptions ADD COLUMN latest_invoice_id TEXT;
ALTER TABLE subscriptions ADD COLUMN latest_invoice_status TEXT;
ALTER TABLE customers ADD COLUMN default_payment_method TEXT;
