-- The sweep that expires overdue checkout sessions is an actor of its own on a payment's
-- timeline ('expiry'): it re-reads a session's payments before expiring it, and cancels what the
-- expired session left open. SQLite cannot change a CHECK constraint in place, so the table is
-- rebuilt with the same rows and ids.
CREATE TABLE payment_timeline_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    payment_id  TEXT NOT NULL REFERENCES payments (id),
    at          INTEGER NOT NULL,
    cause       TEXT NOT NULL CHECK (cause IN ('api', 'webhook', 'admin', 'reconciliation', 'widget', 'expiry')),
    kind        TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT,
    detail      TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO payment_timeline_new (id, payment_id, at, cause, kind, from_status, to_status, detail)
    SELECT id, payment_id, at, cause, kind, from_status, to_status, detail FROM payment_timeline;
DROP TABLE payment_timeline;
ALTER TABLE payment_timeline_new RENAME TO payment_timeline;
CREATE INDEX payment_timeline_payment ON payment_timeline (payment_id, id);
