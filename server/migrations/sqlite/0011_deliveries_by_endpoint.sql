-- The relay claims each endpoint's due deliveries within that endpoint's share of the senders
-- (so a slow receiver holds up no other endpoint): this index gives them in due order, reading
-- only the rows claimed, however long the backlog.
CREATE INDEX webhook_deliveries_endpoint_due ON webhook_deliveries (endpoint_id, status, next_attempt_at);
