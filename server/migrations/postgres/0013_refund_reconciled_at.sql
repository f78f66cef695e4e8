-- When reconciliation last read a pending refund back from its provider. Pending refunds are
-- read oldest-read first, so more than one batch of refunds that stay pending for days (a PayPal
-- eCheck refund) are all read in turn instead of the same batch every pass.
ALTER TABLE refunds ADD COLUMN reconciled_at BIGINT;
