-- 025: the rows of a day still open packed as the day goes.
--
-- A day's events stayed rows until the day closed (retention.compact_after_days
-- after its end): a heap tuple and up to three index entries an event, about
-- half the raw log's bytes (make bench: 0.67 of raw for a day still open,
-- against 0.25 once it is packed), for the two or three days each day stays
-- open.  spoor-retention compact now also packs an open day's rows older than
-- retention.pack_open_after_minutes, in rounds; the day's close merges them
-- into one.  upto says which rows a round took: NULL, the whole day (a closed
-- day's round, as before); else the rows before that instant (an open day's),
-- merged away at the close.
SET LOCAL search_path = spoor, pg_catalog;
SET LOCAL ROLE spoor_owner;

ALTER TABLE compacted ADD COLUMN upto timestamptz;
ALTER TABLE compacted ADD COLUMN merged boolean NOT NULL DEFAULT false;  -- its packs merged into a later round

RESET ROLE;
