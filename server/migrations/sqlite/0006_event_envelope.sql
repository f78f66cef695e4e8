-- Events carry one envelope on every channel: `data` holds `{"object": <the full public object>}`
-- (plus `dispute` on payment.dispute_opened), and each event keeps the version of the envelope
-- and object it was written with. Events written before this migration held the object alone
-- (or a summary of it) as `data`; they are wrapped so that every row has the same shape.
ALTER TABLE events ADD COLUMN api_version TEXT NOT NULL DEFAULT '2026-12-01';
UPDATE events SET data = '{"object":' || data || '}';
