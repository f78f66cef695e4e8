-- The RabbitMQ event bus (RABBITMQ_URL): one row per event to publish, made in the relay's
-- fan-out transaction while the bus is configured (events from before it was configured are
-- not replayed onto it). Tracked per event, never by a high-water mark: a publisher leases a
-- batch (locked_until), publishes it with publisher confirms, and marks each confirmed row
-- published; an unconfirmed one is retried. Several instances share the rows through leases.
CREATE TABLE bus_publications (
    event_id        TEXT PRIMARY KEY REFERENCES events (id),
    -- The event's sequence number: publications go out in commit-visible order where possible.
    seq             BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until    BIGINT,
    published_at    BIGINT,
    created_at      BIGINT NOT NULL
);
-- What is left to publish (the backlog /metrics reports), oldest first.
CREATE INDEX bus_publications_backlog ON bus_publications (seq) WHERE published_at IS NULL;
