-- When reconciliation last re-read a payment from its provider, so open payments are re-read
-- once per interval rather than on every pass.
ALTER TABLE payments ADD COLUMN reconciled_at BIGINT;
CREATE INDEX payments_open_by_activity ON payments (status, updated_at);
-- PayPal webhooks name captures and authorizations: find their payment by them.
CREATE INDEX payments_provider_authorization ON payments (provider, provider_authorization);
CREATE INDEX payments_provider_capture ON payments (provider, provider_capture);
