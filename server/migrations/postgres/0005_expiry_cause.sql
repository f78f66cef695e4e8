-- The sweep that expires overdue checkout sessions is an actor of its own on a payment's
-- timeline ('expiry'): it re-reads a session's payments before expiring it, and cancels what the
-- expired session left open.
ALTER TABLE payment_timeline DROP CONSTRAINT payment_timeline_cause_check;
ALTER TABLE payment_timeline ADD CONSTRAINT payment_timeline_cause_check
    CHECK (cause IN ('api', 'webhook', 'admin', 'reconciliation', 'widget', 'expiry'));
