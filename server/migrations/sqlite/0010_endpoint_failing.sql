-- An endpoint whose every attempt has failed for 5 days is disabled by paygate (as Svix and
-- Stripe do): failing_since is the time of the first failed attempt after the last successful
-- one (NULL while the endpoint answers), disabled_reason says why paygate disabled it
-- ('failing'; NULL for an endpoint the merchant disabled or one that is enabled).
ALTER TABLE webhook_endpoints ADD COLUMN failing_since INTEGER;
ALTER TABLE webhook_endpoints ADD COLUMN disabled_reason TEXT;
