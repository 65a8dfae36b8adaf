-- 006: retention — policies per data class, partition lifecycle, proof of
-- deletion.  See sql/README.md, "Retention".
--
-- The rules implemented: data is kept no longer than the law allows for its
-- class (e.g. UK Investigatory Powers Act 2016 s.87(3): at most 12 months for
-- communications data; the periods are the ISP's, set by an admin, audited),
-- and deleted as whole daily partitions — never row by row on the hot path.
-- Records under an active legal hold (005) survive: the partition of a held
-- day is kept until the hold ends (see sql/README.md for why this, not a copy
-- to a hold store).  Every deletion leaves an audit entry with the partition,
-- its row count and a SHA-256 over what was deleted: a proof of deletion for
-- the data-protection regulator (GDPR art. 5(1)(e) storage limitation, art.
-- 5(2) accountability).  A record arriving late for a day already past its
-- retention is quarantined ("past_retention"), never stored.
SET LOCAL search_path = spoor, pg_catalog;
SET LOCAL ROLE spoor_owner;

CREATE TABLE retention_policy (
    class      text     PRIMARY KEY,
    keep       interval NOT NULL CHECK (keep >= interval '1 day' AND keep <= interval '30 years'),
    note       text,
    changed_by name     NOT NULL DEFAULT current_user,
    changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO retention_policy (class, keep, note) VALUES
    ('radius', interval '365 days', 'RADIUS sessions and the lease index (UK IPA 2016 s.87(3): 12 months at most)'),
    ('smtp', interval '183 days', 'SMTP submission and delivery records'),
    ('evidence', interval '365 days', 'verbatim lines (evidence blocks) behind both'),
    ('quarantine', interval '90 days', 'lines that could not be stored, with their reasons'),
    ('audit', interval '10 years', 'the audit trail: recorded, not yet pruned (see sql/README.md)');

-- What each run dropped: the proof of deletion, and the memory that keeps a
-- dropped day from being created again.
CREATE TABLE retention_dropped (
    tbl        text        NOT NULL,
    day        date        NOT NULL,
    class      text        NOT NULL,
    rows       bigint      NOT NULL,
    digest     text        NOT NULL,
    dropped_at timestamptz NOT NULL DEFAULT now(),
    run_now    timestamptz NOT NULL,
    PRIMARY KEY (tbl, day)
);

-- The first UTC day still kept for CLASS at P_NOW: a day D has expired once
-- all of it is older than P_NOW - keep.
CREATE FUNCTION retention_horizon(p_class text, p_now timestamptz) RETURNS date
LANGUAGE sql STABLE SET search_path = pg_catalog, spoor AS $$
    SELECT ((p_now - keep) AT TIME ZONE 'UTC')::date FROM spoor.retention_policy WHERE class = p_class
$$;

-- For spoor-ingest and spoor import: the horizons now as UTC day numbers
-- (days since 1970-01-01, as batch.c counts them), "smtp radius evidence".
CREATE FUNCTION retention_horizons() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
    SELECT string_agg(coalesce((spoor.retention_horizon(c, now()) - date '1970-01-01')::text, '-'), ' '
                      ORDER BY n)
    FROM unnest(ARRAY['smtp', 'radius', 'evidence']) WITH ORDINALITY AS x(c, n)
$$;

-- The clock a deletion may use.  A run may be told a past instant (drop
-- less), never, on a production database, a future one: a wrong --now or a
-- host clock running ahead must not delete what the law still requires.  A
-- test database opts in to a simulated future clock (a superuser sets
-- allow_future; there is no function for it).
CREATE TABLE retention_clock (
    one          boolean PRIMARY KEY DEFAULT true CHECK (one),
    allow_future boolean NOT NULL DEFAULT false
);
INSERT INTO retention_clock DEFAULT VALUES;

CREATE FUNCTION retention_now(p_now timestamptz) RETURNS timestamptz
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, spoor AS $$
BEGIN
    IF p_now IS NULL THEN
        RETURN now();
    END IF;
    IF p_now > now() + interval '1 minute'
       AND NOT (SELECT allow_future FROM spoor.retention_clock) THEN
        RAISE EXCEPTION 'retention: the instant % is in the future; a simulated clock is for test '
                        'databases only (spoor.retention_clock.allow_future)', p_now
            USING ERRCODE = '22023';
    END IF;
    RETURN p_now;
END
$$;

CREATE FUNCTION retention_policy_list() RETURNS SETOF jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
    SELECT jsonb_build_object('class', class, 'keep', keep::text,
                              'keep_days', extract(epoch FROM keep) / 86400, 'note', note,
                              'changed_by', changed_by, 'changed_at', changed_at,
                              'horizon', spoor.retention_horizon(class, now()))
    FROM spoor.retention_policy ORDER BY class
$$;

-- Only an admin changes a policy; every change is audited with old and new.
CREATE FUNCTION retention_policy_set(p_class text, p_keep interval, p_note text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
DECLARE
    v_old interval;
BEGIN
    SELECT keep INTO v_old FROM spoor.retention_policy WHERE class = p_class FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('status', 'denied', 'reason',
            format('no data class %s (radius, smtp, evidence, quarantine, audit)', p_class));
    END IF;
    IF p_keep IS NULL OR p_keep < interval '1 day' OR p_keep > interval '30 years' THEN
        RETURN jsonb_build_object('status', 'denied', 'reason', 'keep must be 1 day .. 30 years');
    END IF;
    UPDATE spoor.retention_policy SET keep = p_keep, note = coalesce(p_note, note),
        changed_by = spoor.actor(), changed_at = now() WHERE class = p_class;
    PERFORM spoor.audit_append('retention.policy', NULL,
        jsonb_build_object('class', p_class, 'old', v_old::text, 'new', p_keep::text, 'note', p_note),
        'ok', NULL);
    RETURN jsonb_build_object('status', 'ok', 'class', p_class, 'keep', p_keep::text);
END
$$;

-- Partitions are created only for days not yet past retention and never for
-- a day already dropped (a late record for it is quarantined by ingest).
CREATE OR REPLACE FUNCTION ensure_partitions(p_from date, p_to date) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
DECLARE
    t record;
    d date;
    part text;
    n integer := 0;
BEGIN
    IF p_from IS NULL OR p_to IS NULL OR p_to < p_from THEN
        RAISE EXCEPTION 'ensure_partitions: bad range % .. %', p_from, p_to;
    END IF;
    IF p_to - p_from > 400 THEN
        RAISE EXCEPTION 'ensure_partitions: range % .. % is longer than 400 days', p_from, p_to
            USING ERRCODE = '22023';
    END IF;
    PERFORM pg_advisory_xact_lock(7340202);
    FOR t IN SELECT p.name, p.key_type, spoor.retention_horizon(p.class, now()) AS horizon
             FROM spoor.partitioned p ORDER BY p.name LOOP
        d := greatest(p_from, coalesce(t.horizon, p_from));
        WHILE d <= p_to LOOP
            part := t.name || '_' || to_char(d, 'YYYYMMDD');
            IF to_regclass('spoor.' || part) IS NULL
               AND NOT EXISTS (SELECT 1 FROM spoor.retention_dropped r WHERE r.tbl = t.name AND r.day = d) THEN
                IF t.key_type = 'date' THEN
                    EXECUTE format('CREATE TABLE spoor.%I PARTITION OF spoor.%I FOR VALUES FROM (%L) TO (%L)%s',
                                   part, t.name, d, d + 1,
                                   CASE WHEN t.name = 'lease_seg' THEN ' WITH (fillfactor = 70)' ELSE '' END);
                ELSE
                    EXECUTE format('CREATE TABLE spoor.%I PARTITION OF spoor.%I FOR VALUES FROM (%L) TO (%L)',
                                   part, t.name, d::text || ' 00:00:00+00', (d + 1)::text || ' 00:00:00+00');
                END IF;
                n := n + 1;
            END IF;
            d := d + 1;
        END LOOP;
    END LOOP;
    RETURN n;
END
$$;

-- Partitions from P_NOW's day to P_AHEAD days ahead.
CREATE FUNCTION retention_maintain(p_now timestamptz, p_ahead integer) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
DECLARE
    v_day date := (p_now AT TIME ZONE 'UTC')::date;
    v_n integer;
BEGIN
    v_n := spoor.ensure_partitions(v_day, v_day + least(greatest(coalesce(p_ahead, 7), 0), 60));
    RETURN jsonb_build_object('status', 'ok', 'created', v_n, 'from', v_day,
                              'to', v_day + least(greatest(coalesce(p_ahead, 7), 0), 60));
END
$$;

-- Every daily partition and what retention would do with it at P_NOW:
-- 'drop' (expired, not held), 'held' (expired, kept for a legal hold) or
-- 'keep'.  Only expired ones unless P_ALL.
CREATE FUNCTION retention_plan(p_now timestamptz, p_all boolean) RETURNS TABLE (
    tbl text, part text, day date, class text, keep interval, action text, holds bigint[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
    WITH parts AS (
        SELECT p.name AS tbl, c.relname::text AS part,
               to_date(right(c.relname, 8), 'YYYYMMDD') AS day, p.class
        FROM spoor.partitioned p
        JOIN pg_class pc ON pc.relname = p.name AND pc.relnamespace = 'spoor'::regnamespace
        JOIN pg_inherits i ON i.inhparent = pc.oid
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE c.relname ~ '_[0-9]{8}$'
    ), held AS (SELECT h.day, array_agg(DISTINCT h.hold_id ORDER BY h.hold_id) AS holds
                FROM spoor.held_days() h GROUP BY h.day)
    SELECT x.tbl, x.part, x.day, x.class, r.keep,
           CASE WHEN x.day >= spoor.retention_horizon(x.class, p_now) THEN 'keep'
                WHEN h.holds IS NOT NULL THEN 'held' ELSE 'drop' END,
           h.holds
    FROM parts x JOIN spoor.retention_policy r ON r.class = x.class
    LEFT JOIN held h ON h.day = x.day
    WHERE p_all OR x.day < spoor.retention_horizon(x.class, p_now)
    ORDER BY x.day, x.tbl
$$;

-- Drops one expired partition, after checking again (under the run's lock)
-- that it is expired and not held; writes its proof of deletion.  One
-- partition per transaction: a crash leaves each partition either whole or
-- dropped with its proof, and the next run finishes the rest.
CREATE FUNCTION retention_drop(p_tbl text, p_day date, p_now timestamptz) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
DECLARE
    v_class text;
    v_keep interval;
    v_part text := p_tbl || '_' || to_char(p_day, 'YYYYMMDD');
    v_rows bigint;
    v_digest text;
    v_held bigint[];
BEGIN
    p_now := spoor.retention_now(p_now);
    -- A hold being created or renewed right now must be seen: wait for it.
    LOCK TABLE spoor.hold IN SHARE MODE;
    SELECT p.class, r.keep INTO v_class, v_keep
    FROM spoor.partitioned p JOIN spoor.retention_policy r ON r.class = p.class WHERE p.name = p_tbl;
    IF NOT FOUND OR to_regclass('spoor.' || v_part) IS NULL THEN
        RETURN jsonb_build_object('status', 'denied', 'reason', 'no partition ' || v_part);
    END IF;
    IF p_day >= spoor.retention_horizon(v_class, p_now) THEN
        RETURN jsonb_build_object('status', 'denied', 'reason', v_part || ' is not past retention');
    END IF;
    SELECT array_agg(DISTINCT h.hold_id) INTO v_held FROM spoor.held_days() h WHERE h.day = p_day;
    IF v_held IS NOT NULL THEN
        RETURN jsonb_build_object('status', 'denied', 'reason', v_part || ' is under legal hold',
                                  'holds', to_jsonb(v_held));
    END IF;
    -- The digest commits to what is deleted, cheaply enough to run on every
    -- partition: for events and quarantine, SHA-256 over the sorted (block id,
    -- line index) pairs of the evidence lines the rows were made from; for
    -- evidence blocks, over their ids and content SHA-256s (which commit to
    -- every byte of those lines); for the derived lease segments, over their
    -- session keys and addresses.  Reproducible from a backup.
    EXECUTE format('SELECT count(*), encode(sha256(coalesce(string_agg(h, ''''::bytea ORDER BY h), ''''::bytea)), ''hex'')
                    FROM (SELECT %s AS h FROM spoor.%I t) x',
                   CASE p_tbl
                       WHEN 'evidence_block' THEN 'int8send(t.block_id) || t.sha256'
                       WHEN 'lease_seg' THEN 'convert_to(t.session_key || '' '' || t.addr::text, ''UTF8'')'
                       ELSE 'int8send(coalesce(t.block_id, 0)) || int4send(coalesce(t.block_idx, 0))' END,
                   v_part) INTO v_rows, v_digest;
    EXECUTE format('DROP TABLE spoor.%I', v_part);
    INSERT INTO spoor.retention_dropped (tbl, day, class, rows, digest, run_now)
    VALUES (p_tbl, p_day, v_class, v_rows, v_digest, p_now)
    ON CONFLICT (tbl, day) DO UPDATE SET rows = spoor.retention_dropped.rows + EXCLUDED.rows,
        digest = EXCLUDED.digest, dropped_at = now(), run_now = EXCLUDED.run_now;
    PERFORM spoor.audit_append('retention.drop', NULL,
        jsonb_build_object('table', p_tbl, 'partition', v_part, 'day', p_day, 'class', v_class,
                           'keep', v_keep::text, 'rows', v_rows, 'now', p_now),
        'ok', v_digest);
    RETURN jsonb_build_object('status', 'ok', 'partition', v_part, 'rows', v_rows, 'digest', v_digest);
END
$$;

-- The lease index is one row per session, not partitioned: sessions whose
-- whole span is past the RADIUS horizon and touches no held day are deleted
-- here (a small, cold table; the hot tables are only ever dropped whole).
-- A lease whose whole span is before the RADIUS horizon and touches no
-- held day: what pruning deletes (and a dry run counts).
CREATE FUNCTION retention_lease_gone(l spoor.lease, p_horizon date, p_held date[]) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, spoor AS $$
    SELECT (l.span_hi AT TIME ZONE 'UTC')::date < p_horizon
       AND NOT EXISTS (SELECT 1 FROM unnest(p_held) d
                       WHERE d BETWEEN (least(l.first_ts, coalesce(l.start_ts, l.first_ts)) AT TIME ZONE 'UTC')::date
                                   AND (l.span_hi AT TIME ZONE 'UTC')::date)
$$;

CREATE FUNCTION retention_prune_leases(p_now timestamptz, p_dry_run boolean) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
DECLARE
    v_horizon date;
    v_held date[];
    v_rows bigint;
    v_digest text;
BEGIN
    p_now := spoor.retention_now(p_now);
    LOCK TABLE spoor.hold IN SHARE MODE;
    v_horizon := spoor.retention_horizon('radius', p_now);
    v_held := ARRAY(SELECT DISTINCT h.day FROM spoor.held_days() h);
    IF p_dry_run THEN
        SELECT count(*), encode(sha256(coalesce(string_agg(sha256(convert_to(l::text, 'UTF8')), ''::bytea
                                                           ORDER BY sha256(convert_to(l::text, 'UTF8'))), ''::bytea)), 'hex')
        INTO v_rows, v_digest FROM spoor.lease l
        WHERE spoor.retention_lease_gone(l, v_horizon, v_held);
        RETURN jsonb_build_object('status', 'ok', 'rows', v_rows, 'digest', v_digest, 'dry_run', true);
    END IF;
    -- The proof is taken over exactly the rows deleted (no second look).
    WITH gone AS (
        DELETE FROM spoor.lease l
        WHERE spoor.retention_lease_gone(l, v_horizon, v_held)
        RETURNING sha256(convert_to(l::text, 'UTF8')) AS h)
    SELECT count(*), encode(sha256(coalesce(string_agg(h, ''::bytea ORDER BY h), ''::bytea)), 'hex')
    INTO v_rows, v_digest FROM gone;
    IF v_rows > 0 THEN
        PERFORM spoor.audit_append('retention.prune_leases', NULL,
            jsonb_build_object('table', 'lease', 'before', v_horizon, 'rows', v_rows, 'now', p_now),
            'ok', v_digest);
    END IF;
    RETURN jsonb_build_object('status', 'ok', 'rows', v_rows, 'digest', v_digest);
END
$$;

-- lease_merge (002) keeps its working rows in temporary tables.  Temporary
-- tables are looked up before the function's search_path, so a caller who
-- made a table of that name first (with a trigger) would have it used with
-- the owner's rights.  The wrapper refuses a temporary table spoor_owner did
-- not create, and the ingest role loses the right to make any.
ALTER FUNCTION lease_merge(bigint[], timestamptz, timestamptz, interval, interval)
    SET search_path = pg_catalog, spoor, pg_temp;
ALTER FUNCTION lease_merge(bigint[], timestamptz, timestamptz, interval, interval)
    RENAME TO lease_merge_core;
CREATE FUNCTION lease_merge(p_blocks bigint[], p_lo timestamptz, p_hi timestamptz,
                            p_timeout interval, p_open_max interval) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_class c
               WHERE c.relnamespace = pg_my_temp_schema() AND c.relname IN ('lease_in', 'lease_batch')
                 AND c.relowner <> 'spoor_owner'::regrole) THEN
        RAISE EXCEPTION 'lease_merge: a temporary table lease_in or lease_batch made by another role '
                        'is in the way' USING ERRCODE = '42501';
    END IF;
    RETURN spoor.lease_merge_core(p_blocks, p_lo, p_hi, p_timeout, p_open_max);
END
$$;

-- The run's own audit entry: what it found, dropped and kept.
CREATE FUNCTION retention_run_done(p_now timestamptz, p_summary jsonb) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
    SELECT spoor.audit_append('retention.run', NULL, p_summary || jsonb_build_object('now', p_now), 'ok', NULL)
$$;

CREATE FUNCTION retention_dropped_list() RETURNS SETOF jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
    SELECT to_jsonb(r) FROM spoor.retention_dropped r ORDER BY r.day, r.tbl
$$;

RESET ROLE;
DO $$
DECLARE f text;
BEGIN
    FOR f IN SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = 'spoor' AND p.proname LIKE 'retention%' LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION spoor.ensure_partitions(date, date) FROM PUBLIC;
GRANT USAGE ON SCHEMA spoor TO spoor_retention, spoor_admin, spoor_ingest;
GRANT EXECUTE ON FUNCTION spoor.ensure_partitions(date, date) TO spoor_ingest, spoor_retention;
REVOKE ALL ON FUNCTION spoor.lease_merge_core(bigint[], timestamptz, timestamptz, interval, interval) FROM PUBLIC, spoor_ingest;
REVOKE ALL ON FUNCTION spoor.lease_merge(bigint[], timestamptz, timestamptz, interval, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.lease_merge(bigint[], timestamptz, timestamptz, interval, interval) TO spoor_ingest;
DO $$ BEGIN EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM spoor_ingest', current_database()); END $$;
GRANT EXECUTE ON FUNCTION spoor.retention_horizons() TO spoor_ingest;
GRANT EXECUTE ON FUNCTION spoor.retention_maintain(timestamptz, integer) TO spoor_retention;
GRANT EXECUTE ON FUNCTION spoor.retention_plan(timestamptz, boolean) TO spoor_retention, spoor_admin, spoor_auditor;
GRANT EXECUTE ON FUNCTION spoor.retention_drop(text, date, timestamptz) TO spoor_retention;
GRANT EXECUTE ON FUNCTION spoor.retention_prune_leases(timestamptz, boolean) TO spoor_retention;
GRANT EXECUTE ON FUNCTION spoor.retention_run_done(timestamptz, jsonb) TO spoor_retention;
GRANT EXECUTE ON FUNCTION spoor.retention_policy_list() TO spoor_retention, spoor_admin, spoor_auditor, spoor_analyst, spoor_approver;
GRANT EXECUTE ON FUNCTION spoor.retention_policy_set(text, interval, text) TO spoor_admin;
GRANT EXECUTE ON FUNCTION spoor.retention_dropped_list() TO spoor_retention, spoor_admin, spoor_auditor;
GRANT EXECUTE ON FUNCTION spoor.hold_expire_due() TO spoor_retention;
GRANT EXECUTE ON FUNCTION spoor.request_expire_due() TO spoor_retention;
