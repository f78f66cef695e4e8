-- paygate schema, SQLite edition. Keep in step with ../postgres/0001_init.sql: the same tables,
-- columns and meanings. Conventions: ids are prefixed random text (pay_, cs_, ...); times are
-- Unix milliseconds in INTEGER columns; money is integer minor units beside an ISO 4217 code;
-- JSON is stored as TEXT.

-- One row per configuration value that must outlive a restart (e.g. the data-key check value
-- that detects a wrong PAYGATE_DATA_KEY at start-up).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Merchant secret keys. Only a SHA-256 hash of the key is kept; `prefix` (the first characters)
-- lets people tell keys apart in listings.
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    name        TEXT NOT NULL,
    key_hash    TEXT NOT NULL UNIQUE,
    prefix      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);

-- Customers. Personal data is encrypted (AES-256-GCM, see server/src/crypto.rs); `email_index`
-- is a keyed hash of the normalised email for exact-match search.
CREATE TABLE customers (
    id                 TEXT PRIMARY KEY,
    email_ciphertext   TEXT,
    email_index        TEXT,
    name_ciphertext    TEXT,
    stripe_customer_id TEXT UNIQUE,
    metadata           TEXT NOT NULL DEFAULT '{}',
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX customers_email_index ON customers (email_index);

-- Checkout sessions: the amount is decided here, by the server, once.
CREATE TABLE checkout_sessions (
    id                     TEXT PRIMARY KEY,
    status                 TEXT NOT NULL CHECK (status IN ('open', 'complete', 'expired')),
    currency               TEXT NOT NULL,
    amount_minor           INTEGER NOT NULL CHECK (amount_minor > 0),
    line_items             TEXT NOT NULL DEFAULT '[]',
    description            TEXT,
    customer_email_ciphertext TEXT,
    customer_email_index   TEXT,
    metadata               TEXT NOT NULL DEFAULT '{}',
    success_url            TEXT,
    cancel_url             TEXT,
    providers              TEXT NOT NULL,
    capture_mode           TEXT NOT NULL CHECK (capture_mode IN ('automatic', 'manual')),
    expires_at             INTEGER NOT NULL,
    completed_payment_id   TEXT,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
);
CREATE INDEX checkout_sessions_open_expiry ON checkout_sessions (status, expires_at);

-- Payments: one row per provider object (PaymentIntent, PayPal order), written before the
-- provider is called so an early webhook finds it and a crash leaves a trace.
CREATE TABLE payments (
    id                     TEXT PRIMARY KEY,
    provider               TEXT NOT NULL CHECK (provider IN ('stripe', 'paypal')),
    provider_reference     TEXT,
    provider_authorization TEXT,
    provider_capture       TEXT,
    status                 TEXT NOT NULL,
    currency               TEXT NOT NULL,
    amount_minor           INTEGER NOT NULL CHECK (amount_minor > 0),
    captured_minor         INTEGER NOT NULL DEFAULT 0 CHECK (captured_minor >= 0),
    refunded_minor         INTEGER NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0),
    capture_mode           TEXT NOT NULL CHECK (capture_mode IN ('automatic', 'manual')),
    description            TEXT,
    customer_id            TEXT REFERENCES customers (id),
    checkout_session_id    TEXT REFERENCES checkout_sessions (id),
    last_error             TEXT,
    next_action            TEXT,
    metadata               TEXT NOT NULL DEFAULT '{}',
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL,
    CHECK (refunded_minor <= captured_minor),
    CHECK (captured_minor <= amount_minor)
);
-- A provider object maps to at most one payment (webhooks find payments through this).
CREATE UNIQUE INDEX payments_provider_reference ON payments (provider, provider_reference);
-- Newest-first listing and its filters (cursor = created_at, id).
CREATE INDEX payments_created ON payments (created_at DESC, id DESC);
CREATE INDEX payments_status_created ON payments (status, created_at DESC, id DESC);
CREATE INDEX payments_provider_created ON payments (provider, created_at DESC, id DESC);
CREATE INDEX payments_session ON payments (checkout_session_id);

-- Refunds: their own records; a payment's refunded_minor is the sum of succeeded ones.
CREATE TABLE refunds (
    id                 TEXT PRIMARY KEY,
    payment_id         TEXT NOT NULL REFERENCES payments (id),
    provider_reference TEXT,
    status             TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    currency           TEXT NOT NULL,
    amount_minor       INTEGER NOT NULL CHECK (amount_minor > 0),
    reason             TEXT,
    last_error         TEXT,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX refunds_payment ON refunds (payment_id);

CREATE TABLE subscriptions (
    id                   TEXT PRIMARY KEY,
    customer_id          TEXT NOT NULL REFERENCES customers (id),
    provider_reference   TEXT UNIQUE,
    price                TEXT NOT NULL,
    status               TEXT NOT NULL,
    cancel_at_period_end INTEGER NOT NULL DEFAULT 0,
    current_period_end   INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);

-- Every change to a payment, with its cause (api, webhook, admin, reconciliation).
CREATE TABLE payment_timeline (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    payment_id  TEXT NOT NULL REFERENCES payments (id),
    at          INTEGER NOT NULL,
    cause       TEXT NOT NULL CHECK (cause IN ('api', 'webhook', 'admin', 'reconciliation', 'widget')),
    kind        TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT,
    detail      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX payment_timeline_payment ON payment_timeline (payment_id, id);

-- Inbox: every verified provider webhook, raw, deduplicated by the provider's event id,
-- applied later by the durable worker (server/src/inbox).
CREATE TABLE provider_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    provider        TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    received_at     INTEGER NOT NULL,
    processed_at    INTEGER,
    outcome         TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    locked_until    INTEGER,
    last_error      TEXT,
    payment_id      TEXT,
    UNIQUE (provider, event_id)
);
CREATE INDEX provider_events_pending ON provider_events (processed_at, next_attempt_at);

-- Outbox: one row per state change, written in the same transaction as the change; what
-- GET /v1/events lists and what the relay publishes.
CREATE TABLE events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    type         TEXT NOT NULL,
    object_id    TEXT NOT NULL,
    data         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    published_at INTEGER
);
CREATE INDEX events_unpublished ON events (published_at, seq);

-- Idempotency keys of merchant POSTs, scoped to the merchant. `fingerprint` is a SHA-256 of
-- method, path and canonical body; `locked_at` marks a request in flight.
CREATE TABLE idempotency_keys (
    merchant_id     TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    method          TEXT NOT NULL,
    path            TEXT NOT NULL,
    fingerprint     TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('in_flight', 'done')),
    response_status INTEGER,
    response_body   TEXT,
    locked_at       INTEGER,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, idempotency_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
