-- The running paygate instances and their heartbeats. A request's Idempotency-Key stays locked
-- while the request runs; when the instance running it dies (a crash, a kill), its heartbeat
-- stops and another instance may take the key over within seconds instead of waiting out the
-- lock's two minutes.
CREATE TABLE instances (
    id           TEXT PRIMARY KEY,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL
);

-- The instance whose request holds the key in flight (NULL: written before this migration; the
-- lock's time limit alone then frees it).
ALTER TABLE idempotency_keys ADD COLUMN locked_by TEXT;
