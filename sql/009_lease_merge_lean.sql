-- 009: the lease merge in three statements and no temporary tables; evidence
-- payloads stored without a second compression attempt.
--
-- lease_merge_core (007, 008) kept its working rows in two temporary tables
-- it created, truncated and analysed on every batch, in eight statements,
-- each planned afresh (custom plans).  Measured on the ingest benchmark with
-- auto_explain: about a quarter of the merge's time was outside the
-- statements' execution.  Now one statement aggregates the batch's events,
-- upserts the leases and collects the changed spans into an array (every
-- CTE sees the same snapshot, so "old" reads the leases as they were before
-- the upsert); then the partitions, and the segments' delete and insert from
-- that array.  Results are unchanged (30_trace, 35_edges).
SET LOCAL search_path = spoor, pg_catalog;
SET LOCAL ROLE spoor_owner;

-- zstd output does not compress again: without this, PostgreSQL tries pglz
-- on every evidence payload before storing it out of line.
ALTER TABLE evidence_block ALTER COLUMN data SET STORAGE EXTERNAL;

-- A lease whose segments must be rewritten: its span before and after the
-- batch, and where its segments end (lease_seg_end, 008).
CREATE TYPE lease_chg AS (
    session_key text, addr inet,
    old_lo timestamptz, old_hi timestamptz, old_end timestamptz,
    new_lo timestamptz, new_hi timestamptz, new_end timestamptz);

CREATE OR REPLACE FUNCTION lease_merge_core(p_blocks bigint[], p_lo timestamptz, p_hi timestamptz, p_timeout interval,
                            p_open_max interval)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    v_chg spoor.lease_chg[];
    n integer;
BEGIN
    -- 1. The batch's events, one row per session and address (inp); the
    -- spans before the batch (old); the merge (up); the changed spans.
    WITH inp (session_key, addr, kind, first_ts, last_ts, start_ts, est_start, has_interim, stop_ts, cause, user_name, calling, called, nas_ip, nas_id, nas_port, nas_port_id, sid) AS (
        SELECT session_key, addr, min(kind),
               min(ts), max(ts),
               min(ts) FILTER (WHERE status = 1),
               -- An Interim-Update or Stop says how long the session has run: its
               -- start is known even when the Start record was lost.
               min(ts - make_interval(secs => session_time)) FILTER (WHERE status IN (2, 3) AND session_time IS NOT NULL),
               bool_or(status = 3),
               max(ts) FILTER (WHERE status = 2),
               -- Identity attributes are constant over a session: any non-null
               -- value will do, and max() needs no sort (array_agg ORDER BY did,
               -- ten times per batch).
               max(terminate_cause) FILTER (WHERE status = 2),
               max(user_name), max(calling_station_id), max(called_station_id),
               max(nas_ip), max(nas_identifier), max(nas_port), max(nas_port_id),
               max(acct_session_id)
        FROM (SELECT e.*, a.addr, a.kind
              FROM spoor.radius_event e
              CROSS JOIN LATERAL (VALUES (e.framed_ip, 1::smallint),
                                         (e.framed_ipv6_prefix, 2::smallint),
                                         (e.delegated_ipv6_prefix, 3::smallint)) AS a(addr, kind)
              WHERE e.ts >= p_lo AND e.ts <= p_hi AND e.block_id = ANY (p_blocks)
                AND e.status IN (1, 2, 3) AND e.session_key IS NOT NULL AND a.addr IS NOT NULL) ev
        GROUP BY session_key, addr
    ), old AS (
        SELECT i.session_key, i.addr, l.span_lo, l.span_hi,
               spoor.lease_seg_end(l.span_hi, l.stop_ts IS NOT NULL) AS seg_end
        FROM inp i LEFT JOIN spoor.lease l USING (session_key, addr)
    ), up AS (
        INSERT INTO spoor.lease AS l (session_key, addr, addr_kind, first_ts, last_ts, start_ts, est_start, has_interim, stop_ts,
                    terminate_cause, span_lo, span_hi, user_name, calling_station_id, called_station_id,
                    nas_ip, nas_identifier, nas_port, nas_port_id, acct_session_id)
        SELECT session_key, addr, kind, first_ts, last_ts, start_ts, est_start, has_interim, stop_ts, cause,
               least(first_ts, start_ts, est_start),
               CASE WHEN stop_ts IS NOT NULL THEN greatest(stop_ts, last_ts)
                    WHEN has_interim THEN last_ts + p_timeout
                    ELSE last_ts + p_open_max END,
               user_name, calling, called, nas_ip, nas_id, nas_port, nas_port_id, sid
        FROM inp
        ON CONFLICT (session_key, addr) DO UPDATE SET
            first_ts = least(l.first_ts, excluded.first_ts),
            last_ts = greatest(l.last_ts, excluded.last_ts),
            start_ts = least(l.start_ts, excluded.start_ts),
            est_start = least(l.est_start, excluded.est_start),
            has_interim = l.has_interim OR excluded.has_interim,
            stop_ts = greatest(l.stop_ts, excluded.stop_ts),
            terminate_cause = CASE WHEN excluded.stop_ts IS NOT NULL AND (l.stop_ts IS NULL OR excluded.stop_ts >= l.stop_ts)
                                   THEN excluded.terminate_cause ELSE l.terminate_cause END,
            span_lo = least(l.first_ts, excluded.first_ts, l.start_ts, excluded.start_ts,
                            l.est_start, excluded.est_start),
            span_hi = CASE WHEN coalesce(l.stop_ts, excluded.stop_ts) IS NOT NULL
                           THEN greatest(l.stop_ts, excluded.stop_ts, l.last_ts, excluded.last_ts)
                           WHEN l.has_interim OR excluded.has_interim
                           THEN greatest(l.last_ts, excluded.last_ts) + p_timeout
                           ELSE greatest(l.last_ts, excluded.last_ts) + p_open_max END,
            user_name = coalesce(excluded.user_name, l.user_name),
            calling_station_id = coalesce(excluded.calling_station_id, l.calling_station_id),
            called_station_id = coalesce(excluded.called_station_id, l.called_station_id),
            nas_ip = coalesce(excluded.nas_ip, l.nas_ip),
            nas_identifier = coalesce(excluded.nas_identifier, l.nas_identifier),
            nas_port = coalesce(excluded.nas_port, l.nas_port),
            nas_port_id = coalesce(excluded.nas_port_id, l.nas_port_id),
            acct_session_id = coalesce(excluded.acct_session_id, l.acct_session_id)
        RETURNING l.session_key, l.addr, l.span_lo, l.span_hi,
                  spoor.lease_seg_end(l.span_hi, l.stop_ts IS NOT NULL) AS seg_end
    )
    SELECT array_agg(ROW(o.session_key, o.addr, o.span_lo, o.span_hi, o.seg_end,
                         u.span_lo, u.span_hi, u.seg_end)::spoor.lease_chg)
    INTO v_chg
    FROM old o JOIN up u ON u.session_key = o.session_key AND u.addr = o.addr
    -- An open session's Interim-Update moves span_hi but, within the same
    -- day, not the end of its last segment: nothing to write (008).
    WHERE NOT (o.span_lo IS NOT DISTINCT FROM u.span_lo AND o.seg_end IS NOT DISTINCT FROM u.seg_end);
    n := coalesce(array_length(v_chg, 1), 0);
    IF n = 0 THEN
        RETURN 0;
    END IF;

    PERFORM spoor.ensure_partitions((SELECT min(b.new_lo AT TIME ZONE 'UTC')::date FROM unnest(v_chg) b),
                                    (SELECT max(b.new_hi AT TIME ZONE 'UTC')::date FROM unnest(v_chg) b));
    -- 2. Days the span no longer reaches (a Stop arrived before last + timeout).
    DELETE FROM spoor.lease_seg s USING unnest(v_chg) b
    WHERE s.session_key = b.session_key AND s.addr = b.addr
      AND s.day > (b.new_hi AT TIME ZONE 'UTC')::date
      AND s.day <= (b.old_hi AT TIME ZONE 'UTC')::date
      -- new_hi is at least the batch's earliest event: a bound to prune on.
      AND s.day >= (p_lo AT TIME ZONE 'UTC')::date;
    -- 3. The days whose segment changed (008).
    INSERT INTO spoor.lease_seg AS s (day, addr, session_key, seg_lo, seg_hi)
    SELECT d::date, b.addr, b.session_key,
           greatest(b.new_lo, (d::date)::timestamp AT TIME ZONE 'UTC'),
           least(b.new_end, (d::date + 1)::timestamp AT TIME ZONE 'UTC')
    FROM unnest(v_chg) b
    CROSS JOIN LATERAL generate_series((b.new_lo AT TIME ZONE 'UTC')::date,
                                       (b.new_hi AT TIME ZONE 'UTC')::date, interval '1 day') AS d
    WHERE b.old_lo IS NULL
       OR (b.new_lo IS DISTINCT FROM b.old_lo AND d::date <= (b.old_lo AT TIME ZONE 'UTC')::date)
       OR (b.new_end IS DISTINCT FROM b.old_end
           AND d::date >= least((b.old_hi AT TIME ZONE 'UTC')::date, (b.new_hi AT TIME ZONE 'UTC')::date))
    ON CONFLICT (day, session_key, addr) DO UPDATE SET seg_lo = excluded.seg_lo, seg_hi = excluded.seg_hi;
    RETURN n;
END
$$;

RESET ROLE;
