-- A subscription's paused payment collection (Stripe's `pause_collection`): how invoices are
-- treated while paused (`keep_as_draft`, `mark_uncollectible`, `void`) and when collection
-- resumes by itself (Unix seconds); both NULL while collecting.
ALTER TABLE subscriptions ADD COLUMN pause_behavior TEXT;
ALTER TABLE subscriptions ADD COLUMN pause_resumes_at BIGINT;

-- The console lists subscriptions newest first, a page at a time.
CREATE INDEX subscriptions_newest ON subscriptions (created_at, id);
