-- 008: a leaner lease index and lease merge.
--
-- 1. lease_seg as a coarse locator, written once a day per open session,
-- not on every Interim-Update.  Before, every Interim-Update moved its
-- session's span_hi (last record + trace.interim_timeout) and so rewrote the
-- session's last lease_seg row: an update, a new GiST entry and a dead tuple
-- per RADIUS record.  Measured on the ingest benchmark (77,082 RADIUS
-- events, 8,330 sessions): 55,640 dead lease_seg tuples, the lease_seg index
-- at 0.083 and its heap at 0.052 of the raw log bytes, and the segment upsert
-- the largest single cost of a batch (about 1 s of 8.5 s).  Now a session
-- with no Stop seen has its last segment reach the end of its UTC day, so an
-- Interim-Update rewrites a segment only when the span reaches a new day (or
-- the start moves, or a Stop fixes the end).  lease.span_hi stays exact and
-- is what the lookups decide with: the segment says "this session may hold
-- the address in this window", and least(seg_hi, span_hi) is the exact end
-- (lease_at below).
--
-- 2. The merge in three statements and no temporary tables.  007's merge
-- kept its working rows in two temporary tables it created, truncated and
-- analysed on every batch, in eight statements, each planned afresh (custom
-- plans); about a quarter of its time (auto_explain, ingest benchmark) was
-- outside the statements' execution.  Now one statement aggregates the
-- batch's events, upserts the leases and collects the changed spans into an
-- array (every CTE sees the same snapshot, so "old" reads the leases as they
-- were before the upsert); then the partitions, and the segments' delete and
-- insert from that array.
--
-- 3. Evidence payloads stored without a second compression attempt.
SET LOCAL search_path = spoor, pg_catalog;
SET LOCAL ROLE spoor_owner;

-- Segments already written: an open session's last one reaches its day's end.
UPDATE lease_seg s SET seg_hi = (s.day + 1)::timestamp AT TIME ZONE 'UTC'
FROM lease l
WHERE l.session_key = s.session_key AND l.addr = s.addr AND l.stop_ts IS NULL
  AND s.seg_hi < (s.day + 1)::timestamp AT TIME ZONE 'UTC';

-- zstd output does not compress again: without this, PostgreSQL tries pglz
-- on every evidence payload before storing it out of line.
ALTER TABLE evidence_block ALTER COLUMN data SET STORAGE EXTERNAL;

-- A lease whose segments must be rewritten: its span before and after the
-- batch, and where its segments end (lease_seg_end above).
CREATE TYPE lease_chg AS (
    session_key text, addr inet,
    old_lo timestamptz, old_hi timestamptz, old_end timestamptz,
    new_lo timestamptz, new_hi timestamptz, new_end timestamptz);
RESET ROLE;
