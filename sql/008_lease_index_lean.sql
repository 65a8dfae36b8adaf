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

-- Where a lease's segments end: at its span's end once a Stop fixed it,
-- else at the end of the UTC day its span reaches.  (No SET clause, so the
-- planner inlines it.)
CREATE FUNCTION lease_seg_end(p_hi timestamptz, p_stopped boolean) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_hi IS NULL THEN NULL
                WHEN p_stopped THEN p_hi
                ELSE ((p_hi AT TIME ZONE 'UTC')::date + 1)::timestamp AT TIME ZONE 'UTC' END
$$;

-- Segments already written: an open session's last one reaches its day's end.
UPDATE lease_seg s SET seg_hi = (s.day + 1)::timestamp AT TIME ZONE 'UTC'
FROM lease l
WHERE l.session_key = s.session_key AND l.addr = s.addr AND l.stop_ts IS NULL
  AND s.seg_hi < (s.day + 1)::timestamp AT TIME ZONE 'UTC';

-- Who held P_IP at P_AT (007): segments are a superset of the spans now, so
-- the nearest session before the instant is ordered by its exact end.
CREATE OR REPLACE FUNCTION lease_at(p_ip inet, p_at timestamptz, p_tol interval) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, spoor SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    v_sessions jsonb;
    v_exact integer;
    v_near integer;
    v_before jsonb;
    v_after jsonb;
    v_lo date := ((p_at - p_tol) AT TIME ZONE 'UTC')::date;
    v_hi date := ((p_at + p_tol) AT TIME ZONE 'UTC')::date;
    v_elo timestamptz;  -- every event of the candidate sessions lies in [v_elo, v_ehi]
    v_ehi timestamptz;
BEGIN
    -- The candidates' whole extent (all their addresses), so that every scan
    -- of a partitioned table below is bounded by values the planner knows.
    -- The evidence scans reach at most a minute past a session's bounds.
    SELECT min(least(o.first_ts, o.start_ts, o.est_start)) - interval '2 minutes',
           max(greatest(o.span_hi, o.stop_ts, o.last_ts)) + interval '2 minutes'
    INTO v_elo, v_ehi
    FROM spoor.lease o
    WHERE o.session_key IN (SELECT s.session_key FROM spoor.lease_seg s
                            WHERE s.day BETWEEN v_lo AND v_hi AND s.addr >>= p_ip
                              AND tstzrange(s.seg_lo, s.seg_hi, '[]') && tstzrange(p_at - p_tol, p_at + p_tol, '[]'));
    v_elo := coalesce(v_elo, p_at); v_ehi := coalesce(v_ehi, p_at);
    WITH cand AS (
        SELECT DISTINCT l.*
        FROM spoor.lease_seg s JOIN spoor.lease l USING (session_key, addr)
        WHERE s.day BETWEEN v_lo AND v_hi AND s.addr >>= p_ip
          AND tstzrange(s.seg_lo, s.seg_hi, '[]') && tstzrange(p_at - p_tol, p_at + p_tol, '[]')
    ), eff AS (
        SELECT c.*,
               -- After an address change at an Interim-Update the new address is
               -- held from its first record (the change happened at most then).
               CASE WHEN prv.last_ts IS NOT NULL THEN c.first_ts
                    ELSE coalesce(c.start_ts, least(c.est_start, c.first_ts), c.first_ts) END AS eff_start,
               nxt.first_ts AS addr_changed_at,
               rb.ts AS reboot_at,
               nh.start AS next_holder_at
        FROM cand c
        LEFT JOIN LATERAL (SELECT min(o.first_ts) AS first_ts FROM spoor.lease o
                           WHERE o.session_key = c.session_key AND o.addr <> c.addr
                             AND o.addr_kind = c.addr_kind AND o.first_ts > c.last_ts) nxt ON true
        LEFT JOIN LATERAL (SELECT max(o.last_ts) AS last_ts FROM spoor.lease o
                           WHERE o.session_key = c.session_key AND o.addr <> c.addr
                             AND o.addr_kind = c.addr_kind AND o.last_ts < c.first_ts) prv ON true
        LEFT JOIN LATERAL (SELECT min(e.ts) AS ts FROM spoor.radius_event e
                           WHERE c.stop_ts IS NULL AND e.status IN (7, 8) AND e.nas_ip = c.nas_ip
                             AND e.ts > c.last_ts AND e.ts <= c.span_hi
                             AND e.ts BETWEEN v_elo AND v_ehi) rb ON true
        -- A session without Stop ends when another session takes its address.
        LEFT JOIN LATERAL (SELECT min(coalesce(o.start_ts, o.est_start, o.first_ts)) AS start
                           FROM spoor.lease_seg s2 JOIN spoor.lease o USING (session_key, addr)
                           WHERE c.stop_ts IS NULL AND s2.addr = c.addr AND s2.session_key <> c.session_key
                             AND s2.day BETWEEN (c.last_ts AT TIME ZONE 'UTC')::date AND v_hi
                             AND s2.day >= (v_elo AT TIME ZONE 'UTC')::date
                             AND coalesce(o.start_ts, o.est_start, o.first_ts) > c.last_ts) nh ON true
    ), fin AS (
        SELECT e.*,
               CASE WHEN e.stop_ts IS NOT NULL THEN e.stop_ts
                    ELSE least(e.span_hi, e.addr_changed_at, e.reboot_at, e.next_holder_at) END AS eff_end,
               CASE WHEN e.addr_changed_at IS NOT NULL AND (e.stop_ts IS NULL OR e.addr_changed_at < e.stop_ts)
                         THEN 'address_change'
                    WHEN e.stop_ts IS NOT NULL THEN 'stop'
                    WHEN e.reboot_at IS NOT NULL AND e.reboot_at <= coalesce(e.next_holder_at, e.reboot_at) THEN 'nas_reboot'
                    WHEN e.next_holder_at IS NOT NULL THEN 'reassigned'
                    WHEN e.has_interim AND e.span_hi < now() THEN 'interim_timeout'
                    ELSE 'open' END AS stop_reason
        FROM eff e
    ), hits AS (
        SELECT f.*, (f.eff_start <= p_at AND least(f.eff_end, coalesce(f.addr_changed_at, f.eff_end)) >= p_at) AS covers
        FROM fin f
        WHERE f.eff_start <= p_at + p_tol AND f.eff_end >= p_at - p_tol
    )
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'user_name', h.user_name, 'calling_station_id', h.calling_station_id,
               'called_station_id', h.called_station_id, 'nas_ip', host(h.nas_ip),
               'nas_identifier', h.nas_identifier, 'nas_port', h.nas_port, 'nas_port_id', h.nas_port_id,
               'acct_session_id', h.acct_session_id,
               'framed_ip', CASE WHEN h.addr_kind = 1 THEN host(h.addr) END,
               'framed_ipv6_prefix', CASE WHEN h.addr_kind = 2 THEN h.addr::text END,
               'delegated_ipv6_prefix', CASE WHEN h.addr_kind = 3 THEN h.addr::text END,
               'start', h.eff_start, 'start_seen', h.start_ts IS NOT NULL,
               'stop', CASE WHEN h.stop_reason IN ('stop', 'address_change', 'nas_reboot', 'reassigned') THEN h.eff_end END,
               'stop_reason', h.stop_reason, 'terminate_cause', h.terminate_cause,
               'last_seen', h.last_ts, 'covers_instant', h.covers,
               'evidence', (SELECT coalesce(jsonb_agg(spoor.evidence_of(ev.block_id, ev.block_idx, ev.ts) ORDER BY ev.ts), '[]')
                            FROM (
                              (SELECT e.block_id, e.block_idx, e.ts FROM spoor.radius_event e
                               WHERE e.session_key = h.session_key AND e.ts BETWEEN v_elo AND v_ehi AND e.status = 1
                                 AND e.ts BETWEEN h.eff_start - interval '1 minute' AND h.eff_start + interval '1 minute'
                               ORDER BY e.ts LIMIT 1)
                              UNION
                              (SELECT e.block_id, e.block_idx, e.ts FROM spoor.radius_event e
                               WHERE e.session_key = h.session_key AND e.ts BETWEEN v_elo AND v_ehi AND e.ts <= p_at
                                 AND e.ts >= h.eff_start - interval '1 minute'
                               ORDER BY e.ts DESC LIMIT 1)
                              UNION
                              (SELECT e.block_id, e.block_idx, e.ts FROM spoor.radius_event e
                               WHERE e.session_key = h.session_key AND e.ts BETWEEN v_elo AND v_ehi AND e.ts > p_at
                                 AND e.ts <= h.eff_end + interval '1 minute'
                               ORDER BY e.ts LIMIT 1)
                              UNION
                              (SELECT e.block_id, e.block_idx, e.ts FROM spoor.radius_event e
                               WHERE e.session_key = h.session_key AND e.ts BETWEEN v_elo AND v_ehi AND e.status = 2 AND h.stop_ts IS NOT NULL
                                 AND e.ts BETWEEN h.stop_ts - interval '1 minute' AND h.stop_ts + interval '1 minute'
                               ORDER BY e.ts LIMIT 1)
                            ) ev)
           ) ORDER BY h.eff_start), '[]'::jsonb),
           count(*) FILTER (WHERE h.covers),
           count(*)
    INTO v_sessions, v_exact, v_near
    FROM hits h;

    IF v_near = 0 THEN
        -- The nearest sessions either side, so the analyst sees the gap.
        SELECT jsonb_build_object('user_name', l.user_name, 'calling_station_id', l.calling_station_id,
                                  'start', coalesce(l.start_ts, l.est_start, l.first_ts), 'stop', coalesce(l.stop_ts, l.last_ts))
        INTO v_before
        FROM spoor.lease_seg s JOIN spoor.lease l USING (session_key, addr)
        WHERE s.day BETWEEN v_lo - 2 AND v_hi AND s.addr >>= p_ip AND least(s.seg_hi, l.span_hi) < p_at - p_tol
        ORDER BY least(s.seg_hi, l.span_hi) DESC LIMIT 1;
        SELECT jsonb_build_object('user_name', l.user_name, 'calling_station_id', l.calling_station_id,
                                  'start', coalesce(l.start_ts, l.est_start, l.first_ts), 'stop', coalesce(l.stop_ts, l.last_ts))
        INTO v_after
        FROM spoor.lease_seg s JOIN spoor.lease l USING (session_key, addr)
        WHERE s.day BETWEEN v_lo AND v_hi + 2 AND s.addr >>= p_ip AND s.seg_lo > p_at + p_tol
        ORDER BY s.seg_lo LIMIT 1;
    END IF;
    RETURN jsonb_build_object(
        'verdict', CASE WHEN v_near = 0 THEN 'none' WHEN v_near = 1 AND v_exact = 1 THEN 'exact'
                        WHEN v_near = 1 THEN 'exact' ELSE 'ambiguous' END,
        'sessions', v_sessions,
        'nearest_before', v_before, 'nearest_after', v_after);
END
$$;

-- zstd output does not compress again: without this, PostgreSQL tries pglz
-- on every evidence payload before storing it out of line.
ALTER TABLE evidence_block ALTER COLUMN data SET STORAGE EXTERNAL;

-- A lease whose segments must be rewritten: its span before and after the
-- batch, and where its segments end (lease_seg_end above).
CREATE TYPE lease_chg AS (
    session_key text, addr inet,
    old_lo timestamptz, old_hi timestamptz, old_end timestamptz,
    new_lo timestamptz, new_hi timestamptz, new_end timestamptz);

-- The lease index's merge (007), in three statements, writing coarse
-- segments.
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
    -- day, not the end of its last segment: nothing to write (1. above).
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
    -- 3. The days whose segment changed (1. above).
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

REVOKE ALL ON FUNCTION lease_seg_end(timestamptz, boolean) FROM PUBLIC;
RESET ROLE;
