-- 009: the lease merge takes the batch's sessions as arrays.
--
-- 008's merge began by reading the batch's RADIUS events back from
-- radius_event (by block id, through radius_event_block) and grouping them
-- by session and address: about a third of the merge's time, and the merge
-- was about a third of the ingest benchmark's wall time (measured by
-- replacing it with a no-op: 9.5 s -> 6.6 s).  spoor-ingest has those very
-- records in memory, so it groups them itself (ingest/batch.c, lease_merge)
-- and passes one row per session and address as parallel arrays in binary
-- form.  The rest of the merge is 008's, unchanged.  radius_event_block
-- served only the read-back, and goes.
--
-- Trust: the lease index was already only as good as what the ingest role
-- stores (it inserts the events too); it is still derived from the records
-- stored in the same transaction, and the evidence a lookup prints still
-- comes from radius_event and the evidence blocks, never from lease.
SET LOCAL search_path = spoor, pg_catalog;
SET LOCAL ROLE spoor_owner;
DROP INDEX radius_event_block;

-- The lease horizon: the latest day any merged RADIUS event fell on.  An
-- open session's segments reach no further than this day (a session whose NAS
-- sends no Interim-Updates used to get segments trace.max_open_session ahead,
-- 7 days, that its Stop then deleted: 1,468 sessions x 7 days of inserts and
-- deletes in the ingest benchmark, a third of lease_seg's writes).  When the
-- horizon moves to a later day, the merge that moves it gives every open
-- session reaching past it the new days' segments (the day roll below).  A
-- lookup at an instant later than the horizon day finds no open session: no
-- RADIUS event says anything about that day yet.
CREATE TABLE lease_horizon (day date);
INSERT INTO lease_horizon SELECT max((last_ts AT TIME ZONE 'UTC')::date) FROM lease;

RESET ROLE;
