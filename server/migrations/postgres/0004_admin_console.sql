-- The admin console: admins, their sessions, sign-in failures (rate limit), the audit log, the
-- indexes the payment history filters need, and a daily rollup of payments kept exact by a
-- trigger. Keep in step with ../sqlite/0004_admin_console.sql.

-- Console admins (the merchant's staff). Passwords only as Argon2id PHC strings. The email is
-- staff contact data, kept lowercased in clear: sign-in looks it up and the audit log shows it.
CREATE TABLE admins (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    disabled_at   BIGINT,
    -- Failures before the last successful sign-in no longer count against the account.
    last_sign_in_at BIGINT
);

-- Signed-in sessions. The cookie holds a random token; only its SHA-256 is stored, so a copy of
-- the database does not let anyone sign in. `csrf_token` is sent back in X-CSRF-Token.
CREATE TABLE admin_sessions (
    token_hash   TEXT PRIMARY KEY,
    admin_id     TEXT NOT NULL REFERENCES admins (id),
    csrf_token   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX admin_sessions_admin ON admin_sessions (admin_id);

-- Failed sign-ins, counted over a window per account and per client address. In the database
-- (not in memory) so the limit holds across instances sharing this database.
CREATE TABLE admin_sign_in_failures (
    id    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email TEXT NOT NULL,
    ip    TEXT NOT NULL,
    at    BIGINT NOT NULL
);
CREATE INDEX admin_sign_in_failures_email ON admin_sign_in_failures (email, at);
CREATE INDEX admin_sign_in_failures_ip ON admin_sign_in_failures (ip, at);

-- What admins did: who (email, or `cli`), what, to what, when, from where. Append-only.
CREATE TABLE admin_audit (
    id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at     BIGINT NOT NULL,
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
-- this instead of summing a million rows. Maintained by the trigger below, in the same
-- transaction as every payment write, so it is never stale.
CREATE TABLE payment_daily_totals (
    day            BIGINT NOT NULL,
    currency       TEXT NOT NULL,
    provider       TEXT NOT NULL,
    status         TEXT NOT NULL,
    count          BIGINT NOT NULL,
    amount_minor   BIGINT NOT NULL,
    captured_minor BIGINT NOT NULL,
    refunded_minor BIGINT NOT NULL,
    PRIMARY KEY (day, currency, provider, status)
);

-- No payment may be written between the backfill below and the trigger's creation (another
-- instance still running the previous version): those writes would be missing from the rollup.
LOCK TABLE payments IN SHARE ROW EXCLUSIVE MODE;

INSERT INTO payment_daily_totals
SELECT created_at / 86400000, currency, provider, status, COUNT(*), SUM(amount_minor),
       SUM(captured_minor), SUM(refunded_minor)
FROM payments GROUP BY 1, 2, 3, 4;

-- Adds `sign` (1 or -1) times one payment row to its bucket.
CREATE FUNCTION payment_daily_totals_add(p payments, sign BIGINT) RETURNS void AS $$
BEGIN
    INSERT INTO payment_daily_totals
        (day, currency, provider, status, count, amount_minor, captured_minor, refunded_minor)
    VALUES (p.created_at / 86400000, p.currency, p.provider, p.status, sign,
            sign * p.amount_minor, sign * p.captured_minor, sign * p.refunded_minor)
    ON CONFLICT (day, currency, provider, status) DO UPDATE SET
        count = payment_daily_totals.count + excluded.count,
        amount_minor = payment_daily_totals.amount_minor + excluded.amount_minor,
        captured_minor = payment_daily_totals.captured_minor + excluded.captured_minor,
        refunded_minor = payment_daily_totals.refunded_minor + excluded.refunded_minor;
END;
$$ LANGUAGE plpgsql;

-- Moves a payment between buckets. The two bucket rows are always locked in the order of their
-- status, so two transactions moving payments in opposite directions (requires_action ->
-- requires_payment_method and back) cannot deadlock.
CREATE FUNCTION payments_daily_totals_trigger() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM payment_daily_totals_add(NEW, 1);
    ELSIF TG_OP = 'DELETE' THEN
        -- paygate never deletes payments; a manual DELETE still leaves the totals exact.
        PERFORM payment_daily_totals_add(OLD, -1);
    ELSIF OLD.status <= NEW.status THEN
        PERFORM payment_daily_totals_add(OLD, -1);
        PERFORM payment_daily_totals_add(NEW, 1);
    ELSE
        PERFORM payment_daily_totals_add(NEW, 1);
        PERFORM payment_daily_totals_add(OLD, -1);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER payments_daily_totals
AFTER INSERT OR DELETE
    OR UPDATE OF created_at, currency, provider, status, amount_minor, captured_minor, refunded_minor
ON payments
FOR EACH ROW EXECUTE FUNCTION payments_daily_totals_trigger();
