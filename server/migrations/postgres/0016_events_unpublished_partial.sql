-- The relay's backlog index holds only the events not fanned out yet. The old index held every
-- event forever, keyed by (published_at, seq): each fan-out's update then wrote a new entry for
-- the event as well, and the index grew with the whole history although the relay only ever
-- reads the unpublished end of it (`WHERE published_at IS NULL ORDER BY seq`).
-- Building it reads the events table once, at the upgrade's start.
DROP INDEX events_unpublished;
CREATE INDEX events_unpublished ON events (seq) WHERE published_at IS NULL;
