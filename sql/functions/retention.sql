CREATE OR REPLACE FUNCTION spoor.retention_horizon(p_class text, p_now timestamp with time zone)
 RETURNS date
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT ((p_now - keep) AT TIME ZONE 'UTC')::date FROM spoor.retention_policy WHERE class = p_class
$function$;
ALTER FUNCTION spoor.retention_horizon(p_class text, p_now timestamp with time zone) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.retention_horizon(p_class text, p_now timestamp with time zone) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.retention_horizons()
 RETURNS text
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT string_agg(coalesce((spoor.retention_horizon(c, now()) - date '1970-01-01')::text, '-'), ' '
                      ORDER BY n)
    FROM unnest(ARRAY['smtp', 'radius', 'evidence', 'nat']) WITH ORDINALITY AS x(c, n)
$function$;
ALTER FUNCTION spoor.retention_horizons() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.retention_horizons() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.retention_horizons() TO spoor_ingest;

CREATE OR REPLACE FUNCTION spoor.retention_now(p_now timestamp with time zone)
 RETURNS timestamp with time zone
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
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
$function$;
ALTER FUNCTION spoor.retention_now(p_now timestamp with time zone) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.retention_now(p_now timestamp with time zone) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.retention_policy_list()
 RETURNS SETOF jsonb
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT jsonb_build_object('class', class, 'keep', keep::text,
                              'keep_days', extract(epoch FROM keep) / 86400, 'note', note,
                              'changed_by', changed_by, 'changed_at', changed_at,
                              'horizon', spoor.retention_horizon(class, now()))
    FROM spoor.retention_policy ORDER BY class
$function$;
ALTER FUNCTION spoor.retention_policy_list() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.retention_policy_list() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.retention_policy_list() TO spoor_retention;
GRANT EXECUTE ON FUNCTION spoor.retention_policy_list() TO spoor_admin;
GRANT EXECUTE ON FUNCTION spoor.retention_policy_list() TO spoor_auditor;
GRANT EXECUTE ON FUNCTION spoor.retention_policy_list() TO spoor_analyst;
GRANT EXECUTE ON FUNCTION spoor.retention_policy_list() TO spoor_approver;

CREATE OR REPLACE FUNCTION spoor.retention_policy_apply(p_class text, p_keep interval, p_note text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
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
$function$;
ALTER FUNCTION spoor.retention_policy_apply(p_class text, p_keep interval, p_note text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.retention_policy_apply(p_class text, p_keep interval, p_note text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.retention_maintain(p_now timestamp with time zone, p_ahead integer)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_day date := (p_now AT TIME ZONE 'UTC')::date;
    v_n integer;
BEGIN
    v_n := spoor.ensure_partitions(v_day, v_day + least(greatest(coalesce(p_ahead, 7), 0), 60));
    RETURN jsonb_build_object('status', 'ok', 'created', v_n, 'from', v_day,
                              'to', v_day + least(greatest(coalesce(p_ahead, 7), 0), 60));
END
$function$;
ALTER FUNCTION spoor.retention_maintain(p_now timestamp with time zone, p_ahead integer) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.retention_maintain(p_now timestamp with time zone, p_ahead integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.retention_maintain(p_now timestamp with time zone, p_ahead integer) TO spoor_retention;

CREATE OR REPLACE FUNCTION spoor.retention_plan(p_now timestamp with time zone, p_all boolean)
 RETURNS TABLE(tbl text, part text, day date, class text, keep interval, action text, holds bigint[])
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
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
$function$;
ALTER FUNCTION spoor.retention_plan(p_now timestamp with time zone, p_all boolean) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.retention_plan(p_now timestamp with time zone, p_all boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.retention_plan(p_now timestamp with time zone, p_all boolean) TO spoor_retention;
GRANT EXECUTE ON FUNCTION spoor.retention_plan(p_now timestamp with time zone, p_all boolean) TO spoor_admin;
GRANT EXECUTE ON FUNCTION spoor.retention_plan(p_now timestamp with time zone, p_all boolean) TO spoor_auditor;

-- The retention digest of partition P_PART of P_TBL: count and a SHA-256
-- that commits to what it holds, cheaply enough to run on every partition:
-- for events and quarantine (rows or packs), over the sorted (block id,
-- line index) pairs of the evidence lines the rows were made from; for
-- evidence blocks, over their ids and content SHA-256s (which commit to
-- every byte of those lines); for the derived lease segments, over their
-- session keys and addresses.  Reproducible from a backup.  Recorded when
-- retention drops a partition, when compaction packs one, and when the
-- archive takes one (read back there before the local copy goes).
CREATE OR REPLACE FUNCTION spoor.partition_digest(p_tbl text, p_part text)
 RETURNS TABLE(n bigint, digest text)
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
 SET "DateStyle" TO 'ISO, YMD'
 SET "TimeZone" TO 'UTC'
AS $function$
BEGIN
    RETURN QUERY EXECUTE format(
        'SELECT count(*), encode(sha256(coalesce(string_agg(h, ''''::bytea ORDER BY h), ''''::bytea)), ''hex'')
         FROM (SELECT %s AS h FROM %s) x',
        CASE p_tbl
            WHEN 'evidence_block' THEN 'int8send(t.block_id) || t.sha256'
            WHEN 'lease_seg' THEN 'convert_to(t.session_key || '' '' || t.addr::text, ''UTF8'')'
            ELSE 'int8send(coalesce(t.block_id, 0)) || int4send(coalesce(t.block_idx, 0))' END,
        CASE WHEN p_tbl IN ('smtp_pack', 'radius_pack', 'nat_pack')
            THEN format('spoor.%I p CROSS JOIN LATERAL spoor.pack_find(p.data, p.sha256, NULL, NULL::spoor.%I) t
                         WHERE p.sort = 1', p_part, replace(p_tbl, '_pack', '_event'))
            ELSE format('spoor.%I t', p_part) END);
END
$function$;
ALTER FUNCTION spoor.partition_digest(p_tbl text, p_part text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.partition_digest(p_tbl text, p_part text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.retention_drop(p_tbl text, p_day date, p_now timestamp with time zone)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
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
    -- The proof of deletion: what the partition held (partition_digest).
    SELECT x.n, x.digest INTO v_rows, v_digest FROM spoor.partition_digest(p_tbl, v_part) x;
    IF (SELECT k.relkind FROM pg_class k WHERE k.oid = ('spoor.' || v_part)::regclass) = 'f' THEN
        -- An archived day (archive.sql): the archive drops its partition
        -- in this transaction, then the foreign table here goes.
        PERFORM spoor.archive_ask('drop', p_tbl, p_day);
        EXECUTE format('DROP FOREIGN TABLE spoor.%I', v_part);
    ELSE
        EXECUTE format('DROP TABLE spoor.%I', v_part);
    END IF;
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
$function$;
ALTER FUNCTION spoor.retention_drop(p_tbl text, p_day date, p_now timestamp with time zone) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.retention_drop(p_tbl text, p_day date, p_now timestamp with time zone) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.retention_drop(p_tbl text, p_day date, p_now timestamp with time zone) TO spoor_retention;

CREATE OR REPLACE FUNCTION spoor.retention_lease_gone(l spoor.lease, p_horizon date, p_held date[])
 RETURNS boolean
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT (l.span_hi AT TIME ZONE 'UTC')::date < p_horizon
       AND NOT EXISTS (SELECT 1 FROM unnest(p_held) d
                       WHERE d BETWEEN (least(l.first_ts, coalesce(l.start_ts, l.first_ts)) AT TIME ZONE 'UTC')::date
                                   AND (l.span_hi AT TIME ZONE 'UTC')::date)
$function$;
ALTER FUNCTION spoor.retention_lease_gone(l spoor.lease, p_horizon date, p_held date[]) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.retention_lease_gone(l spoor.lease, p_horizon date, p_held date[]) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.retention_prune_leases(p_now timestamp with time zone, p_dry_run boolean)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
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
$function$;
ALTER FUNCTION spoor.retention_prune_leases(p_now timestamp with time zone, p_dry_run boolean) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.retention_prune_leases(p_now timestamp with time zone, p_dry_run boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.retention_prune_leases(p_now timestamp with time zone, p_dry_run boolean) TO spoor_retention;

CREATE OR REPLACE FUNCTION spoor.retention_run_done(p_now timestamp with time zone, p_summary jsonb)
 RETURNS bigint
 LANGUAGE sql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT spoor.audit_append('retention.run', NULL, p_summary || jsonb_build_object('now', p_now), 'ok', NULL)
$function$;
ALTER FUNCTION spoor.retention_run_done(p_now timestamp with time zone, p_summary jsonb) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.retention_run_done(p_now timestamp with time zone, p_summary jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.retention_run_done(p_now timestamp with time zone, p_summary jsonb) TO spoor_retention;

CREATE OR REPLACE FUNCTION spoor.retention_dropped_list()
 RETURNS SETOF jsonb
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT to_jsonb(r) FROM spoor.retention_dropped r ORDER BY r.day, r.tbl
$function$;
ALTER FUNCTION spoor.retention_dropped_list() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.retention_dropped_list() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.retention_dropped_list() TO spoor_retention;
GRANT EXECUTE ON FUNCTION spoor.retention_dropped_list() TO spoor_admin;
GRANT EXECUTE ON FUNCTION spoor.retention_dropped_list() TO spoor_auditor;

CREATE OR REPLACE FUNCTION spoor.retention_policy_set(p_class text, p_keep interval, p_note text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_old interval;
BEGIN
    SELECT keep INTO v_old FROM spoor.retention_policy WHERE class = p_class;
    IF FOUND AND p_keep IS NOT NULL AND p_keep < v_old AND p_keep >= interval '1 day'
       AND NOT spoor.actor_is_superuser() THEN
        -- Shortening deletes data at the next run: two admins.
        RETURN spoor.admin_change_request('policy', jsonb_build_object('class', p_class,
            'old', v_old::text, 'keep', p_keep::text, 'note', p_note));
    END IF;
    RETURN spoor.retention_policy_apply(p_class, p_keep, p_note);
END
$function$;
ALTER FUNCTION spoor.retention_policy_set(p_class text, p_keep interval, p_note text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.retention_policy_set(p_class text, p_keep interval, p_note text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.retention_policy_set(p_class text, p_keep interval, p_note text) TO spoor_admin;
