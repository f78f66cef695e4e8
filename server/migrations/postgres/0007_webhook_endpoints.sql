-- Merchant webhook endpoints: paygate pushes its events to the merchant's URLs, signed as the
-- Standard Webhooks specification says. The signing secret is stored encrypted with the data
-- key; during a rotation the previous one also signs until `previous_secret_expires_at`.
CREATE TABLE webhook_endpoints (
    id                          TEXT PRIMARY KEY,
    url                         TEXT NOT NULL,
    description                 TEXT,
    -- JSON array of event types, `*` or prefix wildcards such as `payment.*`.
    enabled_events              TEXT NOT NULL,
    status                      TEXT NOT NULL CHECK (status IN ('enabled', 'disabled')),
    secret_ciphertext           TEXT NOT NULL,
    previous_secret_ciphertext  TEXT,
    previous_secret_expires_at  BIGINT,
    created_at                  BIGINT NOT NULL,
    updated_at                  BIGINT NOT NULL
);

-- One row per (event, endpoint): made when the relay fans an event out (events.published_at
-- marks each event fanned out, one by one, never by a high-water mark), then leased by a
-- sender, attempted, and retried with backoff until delivered or failed.
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL REFERENCES events (id),
    event_type      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until    BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);

-- Every attempt: when, the HTTP status or the error, how long it took, the start of the answer.
CREATE TABLE webhook_attempts (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id   TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    at            BIGINT NOT NULL,
    http_status   BIGINT,
    error         TEXT,
    latency_ms    BIGINT NOT NULL,
    response_body TEXT
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
