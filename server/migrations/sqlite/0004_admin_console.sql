-- The admin console: admins, their sessions, sign-in failures (rate limit), the audit log, the
-- indexes the payment history filters need, and a daily rollup of payments kept exact by
-- triggers. Keep in step with ../postgres/0004_admin_console.sql.

-- Console admins (the merchant's staff). Passwords only as Argon2id PHC strings. The email is
-- staff contact data, kept lowercased in clear: sign-in looks it up and the audit log shows it.
CREATE TABLE admins (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    disabled_at   INTEGER,
    -- Failures before the last successful sign-in no longer count against the account.
    last_sign_in_at INTEGER
);

-- Signed-in sessions. The cookie holds a random token; only its SHA-256 is stored, so a copy of
-- the database does not let anyone sign in. `csrf_token` is sent back in X-CSRF-Token.
CREATE TABLE admin_sessions (
    token_hash   TEXT PRIMARY KEY,
    admin_id     TEXT NOT NULL REFERENCES admins (id),
    csrf_token   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX admin_sessions_admin ON admin_sessions (admin_id);

-- Failed sign-ins, counted over a window per account and per client address. In the database
-- (not in memory) so the limit holds across instances sharing a PostgreSQL database.
CREATE TABLE admin_sign_in_failures (
    id    INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    ip    TEXT NOT NULL,
    at    INTEGER NOT NULL
);
CREATE INDEX admin_sign_in_failures_email ON admin_sign_in_failures (email, at);
CREATE INDEX admin_sign_in_failures_ip ON admin_sign_in_failures (ip, at);

-- What admins did: who (email, or `cli`), what, to what, when, from where. Append-only.
CREATE TABLE admin_audit (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     INTEGER NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT NOT NULL DEFAULT '{}',
    ip     TEXT
);

-- History filters: currency and amount (newest first within them), customer email through the
-- customer or the checkout session, raw provider events of a payment.
CREATE INDEX payments_currency_created ON payments (currency, created_at DESC, id DESC);
-- Covers the amount-range totals with any other rollup filter (no table lookups).
CREATE INDEX payments_currency_amount
    ON payments (currency, amount_minor, created_at, status, provider, captured_minor, refunded_minor);
CREATE INDEX payments_customer ON payments (customer_id);
CREATE INDEX checkout_sessions_email ON checkout_sessions (customer_email_index);
CREATE INDEX provider_events_payment ON provider_events (payment_id);

-- Per UTC day (days since 1970-01-01), currency, provider and status: how many payments were
-- created that day and are now in that status, and their amounts. Totals and the chart read
-- this instead of summing a million rows. Maintained by the triggers below, in the same
-- transaction as every payment write, so it is never stale.
CREATE TABLE payment_daily_totals (
    day            INTEGER NOT NULL,
    currency       TEXT NOT NULL,
    provider       TEXT NOT NULL,
    status         TEXT NOT NULL,
    count          INTEGER NOT NULL,
    amount_minor   INTEGER NOT NULL,
    captured_minor INTEGER NOT NULL,
    refunded_minor INTEGER NOT NULL,
    PRIMARY KEY (day, currency, provider, status)
);

INSERT INTO payment_daily_totals
SELECT created_at / 86400000, currency, provider, status, COUNT(*), SUM(amount_minor),
       SUM(captured_minor), SUM(refunded_minor)
FROM payments GROUP BY 1, 2, 3, 4;

CREATE TRIGGER payments_daily_totals_insert AFTER INSERT ON payments
BEGIN
    INSERT INTO payment_daily_totals
        (day, currency, provider, status, count, amount_minor, captured_minor, refunded_minor)
    VALUES (NEW.created_at / 86400000, NEW.currency, NEW.provider, NEW.status, 1,
            NEW.amount_minor, NEW.captured_minor, NEW.refunded_minor)
    ON CONFLICT (day, currency, provider, status) DO UPDATE SET
        count = count + 1,
        amount_minor = amount_minor + excluded.amount_minor,
        captured_minor = captured_minor + excluded.captured_minor,
        refunded_minor = refunded_minor + excluded.refunded_minor;
END;

CREATE TRIGGER payments_daily_totals_update
AFTER UPDATE OF created_at, currency, provider, status, amount_minor, captured_minor, refunded_minor
ON payments
BEGIN
    UPDATE payment_daily_totals SET
        count = count - 1,
        amount_minor = amount_minor - OLD.amount_minor,
        captured_minor = captured_minor - OLD.captured_minor,
        refunded_minor = refunded_minor - OLD.refunded_minor
    WHERE day = OLD.created_at / 86400000 AND currency = OLD.currency
      AND provider = OLD.provider AND status = OLD.status;
    INSERT INTO payment_daily_totals
        (day, currency, provider, status, count, amount_minor, captured_minor, refunded_minor)
    VALUES (NEW.created_at / 86400000, NEW.currency, NEW.provider, NEW.status, 1,
            NEW.amount_minor, NEW.captured_minor, NEW.refunded_minor)
    ON CONFLICT (day, currency, provider, status) DO UPDATE SET
        count = count + 1,
        amount_minor = amount_minor + excluded.amount_minor,
        captured_minor = captured_minor + excluded.captured_minor,
        refunded_minor = refunded_minor + excluded.refunded_minor;
END;

-- paygate never deletes payments; a manual DELETE still leaves the totals exact.
CREATE TRIGGER payments_daily_totals_delete AFTER DELETE ON payments
BEGIN
    UPDATE payment_daily_totals SET
        count = count - 1,
        amount_minor = amount_minor - OLD.amount_minor,
        captured_minor = captured_minor - OLD.captured_minor,
        refunded_minor = refunded_minor - OLD.refunded_minor
    WHERE day = OLD.created_at / 86400000 AND currency = OLD.currency
      AND provider = OLD.provider AND status = OLD.status;
END;
