-- The pack table a compacted event table's days go into (NULL: none).
CREATE OR REPLACE FUNCTION spoor.compact_pack(p_tbl text)
 RETURNS text
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
    SELECT CASE p_tbl WHEN 'smtp_event' THEN 'smtp_pack' WHEN 'radius_event' THEN 'radius_pack'
                      WHEN 'nat_event' THEN 'nat_pack' END
$function$;
ALTER FUNCTION spoor.compact_pack(p_tbl text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.compact_pack(p_tbl text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.compact_cutoff(p_now timestamp with time zone, p_min_age integer)
 RETURNS date
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
    SELECT (p_now AT TIME ZONE 'UTC')::date - p_min_age - 1
$function$;
ALTER FUNCTION spoor.compact_cutoff(p_now timestamp with time zone, p_min_age integer) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.compact_cutoff(p_now timestamp with time zone, p_min_age integer) FROM PUBLIC;

-- The local day partitions of P_TABLES (archived days, foreign tables,
-- are compacted already), by day then table: what compact_plan and
-- compact_open_plan look through.
CREATE OR REPLACE FUNCTION spoor.compact_partitions(p_tables text[])
 RETURNS TABLE(tbl text, part text, day date)
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
    SELECT pc.relname::text, c.relname::text, to_date(right(c.relname, 8), 'YYYYMMDD')
    FROM pg_class pc JOIN pg_inherits i ON i.inhparent = pc.oid JOIN pg_class c ON c.oid = i.inhrelid
    WHERE pc.relnamespace = 'spoor'::regnamespace AND pc.relname = ANY (p_tables)
      AND c.relname ~ '_[0-9]{8}$' AND c.relkind = 'r'
    ORDER BY 3, 1
$function$;
ALTER FUNCTION spoor.compact_partitions(p_tables text[]) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.compact_partitions(p_tables text[]) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.compact_plan(p_now timestamp with time zone, p_min_age integer)
 RETURNS TABLE(tbl text, part text, day date)
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    r record;
    v_has boolean;
BEGIN
    p_now := spoor.retention_now(p_now);
    IF p_min_age IS NULL OR p_min_age < 1 OR p_min_age > 365 THEN
        RAISE EXCEPTION 'compact: the minimum age must be 1 .. 365 days, not %', p_min_age
            USING ERRCODE = '22023';
    END IF;
    FOR r IN SELECT x.tbl AS t, x.part AS p, x.day AS d
             FROM spoor.compact_partitions('{smtp_event,radius_event,nat_event,evidence_block}') x LOOP
        CONTINUE WHEN r.d > spoor.compact_cutoff(p_now, p_min_age);
        IF r.t = 'evidence_block' THEN
            -- Once, and again only if blocks came late.
            EXECUTE format('SELECT count(*) > 0 AND count(*) IS DISTINCT FROM $1 FROM spoor.%I', r.p)
                USING (SELECT c.rows FROM spoor.compacted c WHERE c.tbl = r.t AND c.day = r.d
                       ORDER BY c.round DESC LIMIT 1)
                INTO v_has;
        ELSE
            -- Rows, or open rounds its close has to merge (rows all packed while open).
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM spoor.%I)', r.p) INTO v_has;
            v_has := v_has OR EXISTS (SELECT 1 FROM spoor.compacted c WHERE c.tbl = r.t AND c.day = r.d
                                      AND c.upto IS NOT NULL AND NOT c.merged);
        END IF;
        IF v_has THEN
            tbl := r.t; part := r.p; day := r.d;
            RETURN NEXT;
        END IF;
    END LOOP;
END
$function$;
ALTER FUNCTION spoor.compact_plan(p_now timestamp with time zone, p_min_age integer) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.compact_plan(p_now timestamp with time zone, p_min_age integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.compact_plan(p_now timestamp with time zone, p_min_age integer) TO spoor_retention;

-- Packs the events of day P_DAY of P_TBL into new packs, then reads them
-- back: the same count, the same evidence digest, the same rows column for
-- column, or it raises.  The events: the rows of its partition from P_LO to
-- before P_HI, and with them, merged, those of the packs P_OLD (earlier
-- rounds', sort 1).  Returns the new packs' ids (sort 1), how many packs and
-- bytes in all, and the count and digest of what was packed (the digest
-- retention's proof of deletion uses).  The packs go into P_INTO (the day's
-- pack partition, or a table the caller moves them from).  The caller
-- removes what was packed, under a lock that keeps it still.
CREATE OR REPLACE FUNCTION spoor.compact_pack_events(p_tbl text, p_day date, p_lo timestamp with time zone, p_hi timestamp with time zone, p_old bigint[], p_level integer, p_into text, OUT ids bigint[], OUT packs integer, OUT pack_bytes bigint, OUT n bigint, OUT digest text)
 RETURNS record
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
 SET "DateStyle" TO 'ISO, YMD'
 SET "TimeZone" TO 'UTC'
AS $function$
DECLARE
    v_src text := format('SELECT t.* FROM spoor.%I t WHERE t.ts >= $2 AND t.ts < $3',
                         p_tbl || '_' || to_char(p_day, 'YYYYMMDD'))
        || CASE WHEN cardinality(p_old) > 0 THEN format(' UNION ALL SELECT e.* FROM spoor.%I p
            CROSS JOIN LATERAL spoor.pack_find(p.data, p.sha256, NULL, NULL::spoor.%I) e
            WHERE p.day = $1 AND p.sort = 1 AND p.pack_id = ANY ($5)', spoor.compact_pack(p_tbl), p_tbl) ELSE '' END;
    v_keys text;
    v_prows bigint;
    v_pdigest text;
    v_diff bigint;
BEGIN
    -- (sort, key, record) of each event.  Sort 3 is a locator only: its
    -- records keep the queue, the re-queue and the evidence position.
    v_keys := CASE p_tbl
        WHEN 'smtp_event' THEN
            $k$(1::smallint, (t.host || ' ' || coalesce(t.queue_id, '')) COLLATE "C", t::text),
               (2::smallint, t.message_id COLLATE "C", t::text),
               (3::smallint, (t.host || ' ' || t.next_queue_id) COLLATE "C",
                ROW(t.ts, t.host, t.kind, t.queue_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                    t.next_queue_id, NULL, NULL, t.pos, t.block_id, t.block_idx)::spoor.smtp_event::text)$k$
        WHEN 'nat_event' THEN
            $k$(1::smallint, host(t.outside) COLLATE "C", t::text)$k$
        ELSE
            $k$(1::smallint, coalesce(t.session_key, '') COLLATE "C", t::text),
               (2::smallint, CASE WHEN t.status IN (7, 8) THEN host(t.nas_ip) END COLLATE "C", t::text)$k$ END;
    -- The row's composite text is parsed back as the same row type (with
    -- this function's DateStyle and TimeZone, whatever the session's).
    -- One statement reads the events, counts them and packs them: one
    -- snapshot, so what is counted is what is packed even while ingest
    -- stores more rows into an open day (compact_open).
    EXECUTE format($q$
        WITH src AS MATERIALIZED (SELECT t.* FROM (%2$s) t),
        ins AS (
            INSERT INTO spoor.%1$I (day, pack_id, sort, key_lo, key_hi, ts_lo, ts_hi, n, raw_bytes, sha256, data)
            SELECT $1, nextval('spoor.pack_id_seq'), g.sort, g.lo, g.hi, g.tlo, g.thi, g.n,
                   octet_length(g.payload), sha256(g.payload), spoor.pack_compress(g.payload, $4)
            FROM (SELECT x.sort, min(x.k) AS lo, max(x.k) AS hi, min(x.ts) AS tlo, max(x.ts) AS thi,
                         count(*) AS n,
                         string_agg(x.entry, ''::bytea ORDER BY x.k, x.ts, x.b, x.i) AS payload
                  FROM (SELECT s.sort, s.k, t.ts, t.block_id AS b, t.block_idx AS i,
                               int4send(octet_length(convert_to(s.k, 'UTF8'))) || convert_to(s.k, 'UTF8')
                               || int4send(octet_length(convert_to(s.rec, 'UTF8')))
                               || convert_to(s.rec, 'UTF8') AS entry,
                               (row_number() OVER (PARTITION BY s.sort ORDER BY s.k, t.ts, t.block_id, t.block_idx) - 1)
                                   / 1000 AS grp
                        FROM src t
                        CROSS JOIN LATERAL (VALUES %3$s) AS s(sort, k, rec)
                        WHERE s.k IS NOT NULL) x
                  GROUP BY x.sort, x.grp) g
            RETURNING pack_id, sort, octet_length(data) AS len)
        SELECT (SELECT count(*) FROM src),
               (SELECT encode(sha256(coalesce(string_agg(h, ''::bytea ORDER BY h), ''::bytea)), 'hex')
                FROM (SELECT int8send(coalesce(t.block_id, 0)) || int4send(coalesce(t.block_idx, 0)) AS h
                      FROM src t) x),
               (SELECT array_agg(pack_id) FILTER (WHERE sort = 1) FROM ins),
               (SELECT count(*) FROM ins), (SELECT coalesce(sum(len), 0) FROM ins)$q$,
        p_into, v_src, v_keys) USING p_day, p_lo, p_hi, p_level, p_old INTO n, digest, ids, packs, pack_bytes;
    IF n = 0 THEN
        RETURN;
    END IF;
    -- Read back, once: the same count and evidence digest as what was read,
    -- and every packed event a stored one, column for column.  (Stored
    -- events not packed can only be rows committed since: new evidence
    -- blocks, so other digests; the caller deletes by evidence position.)
    EXECUTE format($q$
        WITH e AS MATERIALIZED (
            SELECT e.* FROM spoor.%1$I p
            CROSS JOIN LATERAL spoor.pack_find(p.data, p.sha256, NULL, NULL::spoor.%2$I) e
            WHERE p.day = $1 AND p.pack_id = ANY ($6))
        SELECT (SELECT count(*) FROM e),
               (SELECT encode(sha256(coalesce(string_agg(h, ''::bytea ORDER BY h), ''::bytea)), 'hex')
                FROM (SELECT int8send(coalesce(e.block_id, 0)) || int4send(coalesce(e.block_idx, 0)) AS h
                      FROM e) x),
               (SELECT count(*) FROM (SELECT * FROM e EXCEPT ALL SELECT t.* FROM (%3$s) t) d)$q$,
        p_into, p_tbl, v_src)
        USING p_day, p_lo, p_hi, p_level, p_old, ids INTO v_prows, v_pdigest, v_diff;
    IF v_prows IS DISTINCT FROM n OR v_pdigest IS DISTINCT FROM digest OR v_diff <> 0 THEN
        RAISE EXCEPTION 'compact: the packs of % for % do not give back its events (% events, packs %; % differ)',
                        p_tbl, p_day, n, v_prows, v_diff USING ERRCODE = 'XX001';
    END IF;
END
$function$;
ALTER FUNCTION spoor.compact_pack_events(p_tbl text, p_day date, p_lo timestamp with time zone, p_hi timestamp with time zone, p_old bigint[], p_level integer, p_into text, OUT ids bigint[], OUT packs integer, OUT pack_bytes bigint, OUT n bigint, OUT digest text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.compact_pack_events(p_tbl text, p_day date, p_lo timestamp with time zone, p_hi timestamp with time zone, p_old bigint[], p_level integer, p_into text, OUT ids bigint[], OUT packs integer, OUT pack_bytes bigint, OUT n bigint, OUT digest text) FROM PUBLIC;

-- The packs of P_DAY's rounds that are open-day rounds not merged yet
-- (compact_open's), all sorts: what the next round merges.
CREATE OR REPLACE FUNCTION spoor.compact_open_packs(p_tbl text, p_day date)
 RETURNS bigint[]
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_ids bigint[];
BEGIN
    IF NOT EXISTS (SELECT 1 FROM spoor.compacted c WHERE c.tbl = p_tbl AND c.day = p_day
                   AND c.upto IS NOT NULL AND NOT c.merged) THEN
        RETURN '{}';
    END IF;
    -- Only open rounds precede a day's close, and every later round merges
    -- them: so while one is unmerged, every pack of the day is an open round's.
    EXECUTE format('SELECT coalesce(array_agg(pack_id), ''{}'') FROM spoor.%I WHERE day = $1',
                   spoor.compact_pack(p_tbl)) USING p_day INTO v_ids;
    RETURN v_ids;
END
$function$;
ALTER FUNCTION spoor.compact_open_packs(p_tbl text, p_day date) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.compact_open_packs(p_tbl text, p_day date) FROM PUBLIC;

-- A round's bookkeeping: the compacted row, earlier open rounds marked merged,
-- the audit entry; returns the round's JSON.
CREATE OR REPLACE FUNCTION spoor.compact_record(p_tbl text, p_day date, p_part text, p_upto timestamp with time zone, p_merged integer, p_rows bigint, p_packs integer, p_before bigint, p_pbytes bigint, p_digest text, p_now timestamp with time zone)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_round integer;
    v_res jsonb;
BEGIN
    IF p_merged > 0 THEN
        UPDATE spoor.compacted c SET merged = true
        WHERE c.tbl = p_tbl AND c.day = p_day AND c.upto IS NOT NULL AND NOT c.merged;
    END IF;
    SELECT coalesce(max(c.round), 0) + 1 INTO v_round FROM spoor.compacted c WHERE c.tbl = p_tbl AND c.day = p_day;
    INSERT INTO spoor.compacted (tbl, day, round, rows, packs, bytes_before, pack_bytes, digest, run_now, upto)
    VALUES (p_tbl, p_day, v_round, p_rows, p_packs, p_before, p_pbytes, p_digest, p_now, p_upto);
    v_res := jsonb_build_object('status', 'ok', 'partition', p_part, 'round', v_round, 'rows', p_rows,
                                'packs', p_packs, 'bytes_before', p_before, 'pack_bytes', p_pbytes,
                                'digest', p_digest, 'upto', p_upto, 'merged_packs', p_merged);
    PERFORM spoor.audit_append('retention.compact', NULL,
        jsonb_build_object('table', p_tbl, 'partition', p_part, 'day', p_day, 'round', v_round,
                           'rows', p_rows, 'packs', p_packs, 'bytes_before', p_before,
                           'pack_bytes', p_pbytes, 'upto', p_upto, 'merged_packs', p_merged, 'now', p_now),
        'ok', p_digest);
    RETURN v_res;
END
$function$;
ALTER FUNCTION spoor.compact_record(p_tbl text, p_day date, p_part text, p_upto timestamp with time zone, p_merged integer, p_rows bigint, p_packs integer, p_before bigint, p_pbytes bigint, p_digest text, p_now timestamp with time zone) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.compact_record(p_tbl text, p_day date, p_part text, p_upto timestamp with time zone, p_merged integer, p_rows bigint, p_packs integer, p_before bigint, p_pbytes bigint, p_digest text, p_now timestamp with time zone) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.compact_day(p_tbl text, p_day date, p_now timestamp with time zone, p_min_age integer, p_level integer)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_part text := p_tbl || '_' || to_char(p_day, 'YYYYMMDD');
    v_pack text := spoor.compact_pack(p_tbl);
    v_ppart text := v_pack || '_' || to_char(p_day, 'YYYYMMDD');
    v_stage text := v_ppart || '_merge';
    v_lo timestamptz := p_day::timestamp AT TIME ZONE 'UTC';
    v_hi timestamptz := (p_day + 1)::timestamp AT TIME ZONE 'UTC';
    v_old bigint[];
    r record;
    v_before bigint;
BEGIN
    p_now := spoor.retention_now(p_now);
    IF v_pack IS NULL AND p_tbl IS DISTINCT FROM 'evidence_block' THEN
        RETURN jsonb_build_object('status', 'denied', 'reason',
                                  'only smtp_event, radius_event, nat_event and evidence_block are compacted');
    END IF;
    IF p_min_age IS NULL OR p_min_age < 1 OR p_min_age > 365 THEN
        RETURN jsonb_build_object('status', 'denied', 'reason', 'the minimum age must be 1 .. 365 days');
    END IF;
    IF p_level IS NULL OR p_level < 1 OR p_level > 19 THEN
        RETURN jsonb_build_object('status', 'denied', 'reason', 'the zstd level must be 1 .. 19');
    END IF;
    IF p_day IS NULL OR p_day > spoor.compact_cutoff(p_now, p_min_age) THEN
        RETURN jsonb_build_object('status', 'denied', 'reason',
            format('%s is not closed: a day is compacted %s days after its end', v_part, p_min_age));
    END IF;
    IF to_regclass('spoor.' || v_part) IS NULL THEN
        RETURN jsonb_build_object('status', 'denied', 'reason', 'no partition ' || v_part);
    END IF;
    IF p_tbl = 'evidence_block' THEN
        RETURN spoor.compact_evidence_day(p_day, p_level, p_now);
    END IF;
    -- Nothing is stored into the day while it is packed: the rows counted
    -- are the rows removed.
    EXECUTE format('LOCK TABLE spoor.%I IN EXCLUSIVE MODE', v_part);
    IF to_regclass('spoor.' || v_ppart) IS NULL THEN
        PERFORM pg_advisory_xact_lock(spoor.lock_key('partitions'));
        PERFORM spoor.partition_create(v_pack, 'date', p_day);
    END IF;
    -- The day's open rounds, if any, are merged into this one: a closed day's
    -- lookups read one round's packs, not one per hour it was open.
    v_old := spoor.compact_open_packs(p_tbl, p_day);
    v_before := pg_total_relation_size(('spoor.' || v_part)::regclass);
    -- Merging: the new packs wait in a table of their own, then replace the
    -- open rounds' in a pack partition emptied by TRUNCATE (deleted, the old
    -- packs' pages would stay in a partition nothing is added to any more:
    -- make bench measured a closed day at 0.33 of raw instead of 0.25).
    IF cardinality(v_old) > 0 THEN
        EXECUTE format('CREATE TABLE spoor.%I (LIKE spoor.%I INCLUDING DEFAULTS INCLUDING STORAGE)', v_stage, v_pack);
    END IF;
    SELECT * INTO r FROM spoor.compact_pack_events(p_tbl, p_day, v_lo, v_hi, v_old, p_level,
                                                   CASE WHEN cardinality(v_old) > 0 THEN v_stage ELSE v_ppart END);
    IF r.n = 0 THEN
        RETURN jsonb_build_object('status', 'ok', 'partition', v_part, 'rows', 0, 'packs', 0);
    END IF;
    -- The rows' partition first, then the packs': lookups read a day's rows
    -- before its packs, so a lookup holding the pack partition already holds
    -- the rows' and this waits for it instead of deadlocking with it.
    EXECUTE format('TRUNCATE spoor.%I', v_part);
    IF cardinality(v_old) > 0 THEN
        -- Every pack of the day is an open round's (compact_open_packs).
        EXECUTE format('TRUNCATE spoor.%I', v_ppart);
        EXECUTE format('INSERT INTO spoor.%I SELECT * FROM spoor.%I', v_ppart, v_stage);
        EXECUTE format('DROP TABLE spoor.%I', v_stage);
    END IF;
    RETURN spoor.compact_record(p_tbl, p_day, v_part, NULL, cardinality(v_old), r.n, r.packs, v_before,
                                r.pack_bytes, r.digest, p_now);
END
$function$;
ALTER FUNCTION spoor.compact_day(p_tbl text, p_day date, p_now timestamp with time zone, p_min_age integer, p_level integer) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.compact_day(p_tbl text, p_day date, p_now timestamp with time zone, p_min_age integer, p_level integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.compact_day(p_tbl text, p_day date, p_now timestamp with time zone, p_min_age integer, p_level integer) TO spoor_retention;

-- The last instant an open day's rows are packed up to at P_NOW: the whole
-- hour P_AFTER_MINUTES before it (whole hours, so rounds are few and their
-- bounds plain), never past the day's end.
CREATE OR REPLACE FUNCTION spoor.compact_open_upto(p_day date, p_now timestamp with time zone, p_after_minutes integer)
 RETURNS timestamp with time zone
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
    SELECT least(date_trunc('hour', (p_now - make_interval(mins => p_after_minutes)) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
                 (p_day + 1)::timestamp AT TIME ZONE 'UTC')
$function$;
ALTER FUNCTION spoor.compact_open_upto(p_day date, p_now timestamp with time zone, p_after_minutes integer) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.compact_open_upto(p_day date, p_now timestamp with time zone, p_after_minutes integer) FROM PUBLIC;

-- The open days' event partitions with rows to pack at P_NOW: days after
-- the closing cutoff holding rows older than compact_open_upto.
CREATE OR REPLACE FUNCTION spoor.compact_open_plan(p_now timestamp with time zone, p_min_age integer, p_after_minutes integer)
 RETURNS TABLE(tbl text, part text, day date, upto timestamp with time zone)
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    r record;
    v_has boolean;
BEGIN
    p_now := spoor.retention_now(p_now);
    IF p_min_age IS NULL OR p_min_age < 1 OR p_min_age > 365 THEN
        RAISE EXCEPTION 'compact: the minimum age must be 1 .. 365 days, not %', p_min_age USING ERRCODE = '22023';
    END IF;
    IF p_after_minutes IS NULL OR p_after_minutes < 1 OR p_after_minutes > 10080 THEN
        RAISE EXCEPTION 'compact: open days are packed 1 .. 10080 minutes after, not %', p_after_minutes
            USING ERRCODE = '22023';
    END IF;
    FOR r IN SELECT x.tbl AS t, x.part AS p, x.day AS d,
                    spoor.compact_open_upto(x.day, p_now, p_after_minutes) AS upto
             FROM spoor.compact_partitions('{smtp_event,radius_event,nat_event}') x LOOP
        CONTINUE WHEN r.d <= spoor.compact_cutoff(p_now, p_min_age)
                   OR r.d > (p_now AT TIME ZONE 'UTC')::date
                   OR r.upto <= r.d::timestamp AT TIME ZONE 'UTC';
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM spoor.%I WHERE ts < $1)', r.p) USING r.upto INTO v_has;
        IF v_has THEN
            tbl := r.t; part := r.p; day := r.d; upto := r.upto;
            RETURN NEXT;
        END IF;
    END LOOP;
END
$function$;
ALTER FUNCTION spoor.compact_open_plan(p_now timestamp with time zone, p_min_age integer, p_after_minutes integer) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.compact_open_plan(p_now timestamp with time zone, p_min_age integer, p_after_minutes integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.compact_open_plan(p_now timestamp with time zone, p_min_age integer, p_after_minutes integer) TO spoor_retention;

-- An open day's rows older than compact_open_upto packed as one round, read
-- back, then deleted.  Ingest keeps storing into the day meanwhile, late
-- records too (an hour of a national ISP's events takes minutes to pack: its
-- inserts must not wait for that): so the rows deleted are the events the
-- new packs hold, by evidence position, and their count must be what was
-- packed (compact_pack_events counts and packs in one statement); a late
-- row committed after the packing began stays a row for the next round.
-- SHARE UPDATE EXCLUSIVE keeps a second compaction of the day out and lets
-- ingest's inserts and lookups through.  (Not REPEATABLE READ: the audit
-- entry at the end must see the chain as it is then.)  After three open rounds the next one
-- merges them all with its rows, so a lookup of an open day reads at most
-- four rounds' packs; the day's close (compact_day) merges them into one.
CREATE OR REPLACE FUNCTION spoor.compact_open(p_tbl text, p_day date, p_now timestamp with time zone, p_min_age integer, p_after_minutes integer, p_level integer)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_part text := p_tbl || '_' || to_char(p_day, 'YYYYMMDD');
    v_pack text := spoor.compact_pack(p_tbl);
    v_ppart text := v_pack || '_' || to_char(p_day, 'YYYYMMDD');
    v_lo timestamptz := p_day::timestamp AT TIME ZONE 'UTC';
    v_upto timestamptz;
    v_old bigint[] := '{}';
    v_rounds bigint;
    v_deleted bigint;
    v_merged bigint;
    v_before bigint;
    r record;
BEGIN
    p_now := spoor.retention_now(p_now);
    IF v_pack IS NULL THEN
        RETURN jsonb_build_object('status', 'denied', 'reason', 'only smtp_event, radius_event and nat_event are packed open');
    END IF;
    IF p_min_age IS NULL OR p_min_age < 1 OR p_min_age > 365 OR p_after_minutes IS NULL OR p_after_minutes < 1
       OR p_after_minutes > 10080 OR p_level IS NULL OR p_level < 1 OR p_level > 19 THEN
        RETURN jsonb_build_object('status', 'denied', 'reason',
                                  'minimum age 1 .. 365 days, 1 .. 10080 minutes, zstd level 1 .. 19');
    END IF;
    IF p_day IS NULL OR p_day <= spoor.compact_cutoff(p_now, p_min_age) THEN
        RETURN jsonb_build_object('status', 'denied', 'reason', format('%s is closed: compact_day packs it', v_part));
    END IF;
    IF to_regclass('spoor.' || v_part) IS NULL THEN
        RETURN jsonb_build_object('status', 'denied', 'reason', 'no partition ' || v_part);
    END IF;
    v_upto := spoor.compact_open_upto(p_day, p_now, p_after_minutes);
    IF v_upto <= v_lo THEN
        RETURN jsonb_build_object('status', 'ok', 'partition', v_part, 'rows', 0, 'packs', 0);
    END IF;
    IF to_regclass('spoor.' || v_ppart) IS NULL THEN
        RETURN jsonb_build_object('status', 'denied', 'reason', 'no pack partition: compact_prepare makes it first');
    END IF;
    EXECUTE format('LOCK TABLE spoor.%I IN SHARE UPDATE EXCLUSIVE MODE', v_part);
    -- The unmerged open rounds, and what their packs hold: each one's events
    -- (a merging round's count includes what it merged).
    SELECT count(*), coalesce(sum(c.rows), 0) INTO v_rounds, v_merged FROM spoor.compacted c
    WHERE c.tbl = p_tbl AND c.day = p_day AND c.upto IS NOT NULL AND NOT c.merged;
    IF v_rounds >= 3 THEN
        v_old := spoor.compact_open_packs(p_tbl, p_day);
    ELSE
        v_merged := 0;
    END IF;
    v_before := pg_total_relation_size(('spoor.' || v_part)::regclass);
    SELECT * INTO r FROM spoor.compact_pack_events(p_tbl, p_day, v_lo, v_upto, v_old, p_level, v_ppart);
    IF r.n = 0 THEN
        RETURN jsonb_build_object('status', 'ok', 'partition', v_part, 'rows', 0, 'packs', 0);
    END IF;
    EXECUTE format('DELETE FROM spoor.%I t WHERE t.ts >= $1 AND t.ts < $2 AND (t.block_id, t.block_idx) IN (
                        SELECT e.block_id, e.block_idx FROM spoor.%I p
                        CROSS JOIN LATERAL spoor.pack_find(p.data, p.sha256, NULL, NULL::spoor.%I) e
                        WHERE p.day = $3 AND p.pack_id = ANY ($4))',
                   v_part, v_ppart, p_tbl) USING v_lo, v_upto, p_day, r.ids;
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    IF cardinality(v_old) > 0 THEN
        EXECUTE format('DELETE FROM spoor.%I WHERE day = $1 AND pack_id = ANY ($2)', v_pack) USING p_day, v_old;
    END IF;
    IF v_deleted + v_merged <> r.n THEN
        RAISE EXCEPTION 'compact: % rows of % deleted, % packed', v_deleted, v_part, r.n USING ERRCODE = 'XX001';
    END IF;
    RETURN spoor.compact_record(p_tbl, p_day, v_part, v_upto, cardinality(v_old), r.n, r.packs, v_before,
                                r.pack_bytes, r.digest, p_now);
END
$function$;
ALTER FUNCTION spoor.compact_open(p_tbl text, p_day date, p_now timestamp with time zone, p_min_age integer, p_after_minutes integer, p_level integer) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.compact_open(p_tbl text, p_day date, p_now timestamp with time zone, p_min_age integer, p_after_minutes integer, p_level integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.compact_open(p_tbl text, p_day date, p_now timestamp with time zone, p_min_age integer, p_after_minutes integer, p_level integer) TO spoor_retention;

CREATE OR REPLACE FUNCTION spoor.compact_evidence_day(p_day date, p_level integer, p_now timestamp with time zone)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_part text := 'evidence_block_' || to_char(p_day, 'YYYYMMDD');
    v_new text := 'evidence_block_' || to_char(p_day, 'YYYYMMDD') || '_new';
    v_rows bigint;
    v_digest text;
    v_nrows bigint;
    v_ndigest text;
    v_before bigint;
    v_after bigint;
    v_round integer;
    v_res jsonb;
BEGIN
    -- Late blocks for the day wait until the swap is done.
    EXECUTE format('LOCK TABLE spoor.%I IN EXCLUSIVE MODE', v_part);
    EXECUTE format('SELECT count(*), encode(sha256(coalesce(string_agg(h, ''''::bytea ORDER BY h), ''''::bytea)), ''hex'')
                    FROM (SELECT int8send(t.block_id) || t.sha256 AS h FROM spoor.%I t) x', v_part)
        INTO v_rows, v_digest;
    IF v_rows = 0 THEN
        RETURN jsonb_build_object('status', 'ok', 'partition', v_part, 'rows', 0);
    END IF;
    v_before := pg_total_relation_size(('spoor.' || v_part)::regclass);
    EXECUTE format('CREATE TABLE spoor.%I (LIKE spoor.evidence_block INCLUDING ALL)', v_new);
    EXECUTE format($q$
        INSERT INTO spoor.%I (day, block_id, kind, source, part, first_pos, last_pos, n_lines, raw_bytes,
                              dict_id, sha256, data)
        SELECT b.day, b.block_id, b.kind, b.source, b.part, b.first_pos, b.last_pos, b.n_lines, b.raw_bytes,
               b.dict_id, b.sha256,
               CASE WHEN octet_length(r.data) < octet_length(b.data) THEN r.data ELSE b.data END
        FROM spoor.%I b LEFT JOIN spoor.evidence_dict d USING (dict_id)
        CROSS JOIN LATERAL (SELECT spoor.evidence_recompress(b.data, d.dict, b.sha256, $1) AS data) r$q$,
        v_new, v_part) USING p_level;
    -- Read back: evidence_line_raw raises unless the block decompresses to its SHA-256.
    EXECUTE format($q$
        SELECT count(*), encode(sha256(coalesce(string_agg(h, ''::bytea ORDER BY h), ''::bytea)), 'hex')
        FROM (SELECT int8send(t.block_id) || t.sha256 AS h,
                     spoor.evidence_line_raw(t.data, d.dict, t.sha256, 0) AS line
              FROM spoor.%I t LEFT JOIN spoor.evidence_dict d USING (dict_id)) x
        WHERE x.line IS NOT NULL$q$, v_new) INTO v_nrows, v_ndigest;
    IF v_nrows IS DISTINCT FROM v_rows OR v_ndigest IS DISTINCT FROM v_digest THEN
        RAISE EXCEPTION 'compact: the new blocks of % are not the old ones (% blocks, % new)',
                        v_part, v_rows, v_nrows USING ERRCODE = 'XX001';
    END IF;
    EXECUTE format('ALTER TABLE spoor.evidence_block DETACH PARTITION spoor.%I', v_part);
    EXECUTE format('DROP TABLE spoor.%I', v_part);
    EXECUTE format('ALTER TABLE spoor.%I RENAME TO %I', v_new, v_part);
    EXECUTE format('ALTER TABLE spoor.evidence_block ATTACH PARTITION spoor.%I FOR VALUES FROM (%L) TO (%L)',
                   v_part, p_day, p_day + 1);
    v_after := pg_total_relation_size(('spoor.' || v_part)::regclass);
    SELECT coalesce(max(c.round), 0) + 1 INTO v_round FROM spoor.compacted c
    WHERE c.tbl = 'evidence_block' AND c.day = p_day;
    INSERT INTO spoor.compacted (tbl, day, round, rows, packs, bytes_before, pack_bytes, digest, run_now)
    VALUES ('evidence_block', p_day, v_round, v_rows, 0, v_before, v_after, v_digest, p_now);
    v_res := jsonb_build_object('status', 'ok', 'partition', v_part, 'round', v_round, 'rows', v_rows,
                                'bytes_before', v_before, 'bytes_after', v_after, 'digest', v_digest);
    PERFORM spoor.audit_append('retention.compact', NULL,
        jsonb_build_object('table', 'evidence_block', 'partition', v_part, 'day', p_day, 'round', v_round,
                           'rows', v_rows, 'bytes_before', v_before, 'bytes_after', v_after,
                           'level', p_level, 'now', p_now),
        'ok', v_digest);
    RETURN v_res;
END
$function$;
ALTER FUNCTION spoor.compact_evidence_day(p_day date, p_level integer, p_now timestamp with time zone) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.compact_evidence_day(p_day date, p_level integer, p_now timestamp with time zone) FROM PUBLIC;

-- The pack partition a day's compaction writes into, made in a transaction
-- of its own before it.  Making a partition locks its parent table (the
-- packs every lookup of a compacted day reads) exclusively until commit: in
-- compact_day's long transaction that stalled lookups, and a lookup that
-- already held the day's event partition then deadlocked with compact_day's
-- TRUNCATE (seen in make bench: lookups while compaction runs).  Here the
-- lock lasts milliseconds.
CREATE OR REPLACE FUNCTION spoor.compact_prepare(p_tbl text, p_day date)
 RETURNS boolean
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_pack text := spoor.compact_pack(p_tbl);
BEGIN
    IF v_pack IS NULL OR p_day IS NULL THEN
        RETURN false;
    END IF;
    PERFORM pg_advisory_xact_lock(spoor.lock_key('partitions'));
    RETURN spoor.partition_create(v_pack, 'date', p_day);
END
$function$;
ALTER FUNCTION spoor.compact_prepare(p_tbl text, p_day date) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.compact_prepare(p_tbl text, p_day date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.compact_prepare(p_tbl text, p_day date) TO spoor_retention;
