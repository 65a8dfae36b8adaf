-- 007: lookups whose cost does not grow with the history kept.
--
-- A LANGUAGE sql function that is not inlined is planned afresh on every
-- call, with its arguments unknown to the planner, so every scan of a
-- partitioned table in it was planned over all of that table's partitions
-- (a year of daily partitions: hundreds of plans per lookup) and pruned only
-- at run time.  The lookups below are PL/pgSQL with custom plans: the
-- arguments are known when the query is planned, and every scan carries a
-- bound in terms of the arguments (besides its bound relative to the row it
-- joins), so only the partitions of the window asked are planned at all.
-- Bodies and results are unchanged otherwise.
SET LOCAL search_path = spoor, pg_catalog;
SET LOCAL ROLE spoor_owner;

-- The lease index searched by address and time together: the GiST key holds
-- the segment's span, so a lookup reads the one segment that covers the
-- instant, not every segment of that address that day (an address in a
-- dynamic pool is held by dozens of sessions a day, each on its own heap
-- page).  (Replaces lease_seg_addr; the predicates in lease_at below use
-- this form.)
DROP INDEX lease_seg_addr;
CREATE INDEX lease_seg_addr_time ON lease_seg
    USING gist (addr inet_ops, tstzrange(seg_lo, seg_hi, '[]'));

-- The verbatim line of an event (see 003).
CREATE OR REPLACE FUNCTION evidence_of(p_block bigint, p_idx integer, p_ts timestamptz) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, spoor SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    v_day date := (p_ts AT TIME ZONE 'UTC')::date;
    v_res jsonb;
BEGIN
    SELECT jsonb_build_object('line', convert_from(spoor.evidence_line_raw(b.data, d.dict, b.sha256, p_idx), 'UTF8'),
                              'block_id', b.block_id, 'line_index', p_idx,
                              'block_sha256', encode(b.sha256, 'hex'),
                              'source', b.source, 'partition', b.part)
    INTO v_res
    FROM spoor.evidence_block b LEFT JOIN spoor.evidence_dict d USING (dict_id)
    WHERE b.block_id = p_block AND b.day BETWEEN v_day - 1 AND v_day + 1;
    RETURN v_res;
END
$$;

-- Every submission with this Message-ID in [V_LO, V_HI] (see 003).  Each
-- lateral scan is also bounded by the Message-ID lines' times ± 2 days,
-- read first, which the planner can prune on.
CREATE OR REPLACE FUNCTION submissions_for(v_id text, v_lo timestamptz, v_hi timestamptz, p_tolerance interval)
RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, spoor SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    w_lo timestamptz;
    w_hi timestamptz;
    v_res jsonb;
BEGIN
    -- The lines of a queue lie within two days of its Message-ID line: the
    -- bounds of every scan below, known before planning it.
    SELECT min(e.ts) - interval '2 days', max(e.ts) + interval '2 days' INTO w_lo, w_hi
    FROM spoor.smtp_event e
    WHERE e.message_id = v_id AND e.ts BETWEEN v_lo AND v_hi AND e.kind IN (2, 11);
    IF w_lo IS NULL THEN
        RETURN '[]'::jsonb;
    END IF;
    WITH ids AS (  -- the lines naming the Message-ID: Postfix cleanup, Exim arrival
        SELECT e.* FROM spoor.smtp_event e
        WHERE e.message_id = v_id AND e.ts BETWEEN v_lo AND v_hi AND e.kind IN (2, 11)
    ), q AS (      -- each (host, queue): the queue's own lines within two days
        SELECT i.host, i.queue_id, i.ts AS id_ts, i.kind AS id_kind,
               i.block_id AS id_block, i.block_idx AS id_idx
        FROM ids i
        -- A queue handed to a content filter and re-queued ("queued as B")
        -- is reported once, as B with its predecessor: not twice.
        WHERE NOT EXISTS (
            SELECT 1 FROM spoor.smtp_event d JOIN ids i2 ON i2.host = d.host AND i2.queue_id = d.next_queue_id
            WHERE d.host = i.host AND d.queue_id = i.queue_id AND d.kind = 4
              AND d.ts BETWEEN w_lo AND w_hi
              AND d.ts BETWEEN i.ts - interval '2 days' AND i.ts + interval '2 days')
    ), sub AS (
        SELECT q.*,
               -- the smtpd client= line of the queue before a re-queue (the
               -- re-queued one's client is the content filter), else this queue's
               coalesce(c2.c, c1.c) AS client,
               f.sender, f.size, d.recipients, d.status, d.evidence AS delivery_evidence,
               coalesce(prev.queue_id, c1.c->>'orig_queue_id') AS prev_queue_id
        FROM q
        LEFT JOIN LATERAL (
            SELECT to_jsonb(e) AS c FROM spoor.smtp_event e
            WHERE e.host = q.host AND e.queue_id = q.queue_id AND e.kind IN (1, 11)
              AND e.ts BETWEEN w_lo AND w_hi
              AND e.ts BETWEEN q.id_ts - interval '2 days' AND q.id_ts + interval '2 days'
              AND (q.id_kind = 11 OR e.kind = 1)
            ORDER BY e.ts LIMIT 1) c1 ON true
        LEFT JOIN LATERAL (  -- re-queued by a content filter: "queued as <this queue>"
            SELECT e.queue_id FROM spoor.smtp_event e
            WHERE e.host = q.host AND e.next_queue_id = q.queue_id AND e.kind = 4
              AND e.ts BETWEEN w_lo AND w_hi
              AND e.ts BETWEEN q.id_ts - interval '2 days' AND q.id_ts + interval '2 days'
            ORDER BY e.ts DESC LIMIT 1) prev ON true
        LEFT JOIN LATERAL (
            SELECT to_jsonb(e) AS c FROM spoor.smtp_event e
            WHERE prev.queue_id IS NOT NULL AND e.host = q.host AND e.queue_id = prev.queue_id
              AND e.ts BETWEEN w_lo AND w_hi
              AND e.kind = 1 AND e.ts BETWEEN q.id_ts - interval '2 days' AND q.id_ts
            ORDER BY e.ts LIMIT 1) c2 ON true
        LEFT JOIN LATERAL (
            SELECT e.sender, e.size FROM spoor.smtp_event e
            WHERE e.host = q.host AND e.queue_id = q.queue_id AND e.kind IN (3, 11)
              AND e.ts BETWEEN w_lo AND w_hi
              AND e.ts BETWEEN q.id_ts - interval '2 days' AND q.id_ts + interval '2 days'
            ORDER BY e.ts LIMIT 1) f ON true
        LEFT JOIN LATERAL (
            SELECT jsonb_agg(DISTINCT e.recipient) FILTER (WHERE e.recipient IS NOT NULL) AS recipients,
                   (array_agg(e.status ORDER BY e.ts DESC))[1] AS status,
                   jsonb_agg(spoor.evidence_of(e.block_id, e.block_idx, e.ts) ORDER BY e.ts) AS evidence
            FROM spoor.smtp_event e
            WHERE e.host = q.host AND e.queue_id = q.queue_id AND e.kind IN (4, 12)
              AND e.ts BETWEEN w_lo AND w_hi
              AND e.ts BETWEEN q.id_ts - interval '2 days' AND q.id_ts + interval '2 days') d ON true
    )
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'mta_host', s.host,
               'queue_ids', to_jsonb(array_remove(ARRAY[s.prev_queue_id, s.queue_id], NULL)),
               'time', coalesce((s.client->>'ts')::timestamptz, s.id_ts),
               'client_ip', s.client->>'client_ip',
               'client_port', (s.client->>'client_port')::integer,
               'client_name', s.client->>'client_name',
               'sasl_username', s.client->>'sasl_username',
               'sender', s.sender, 'size', s.size,
               'recipients', coalesce(s.recipients, CASE WHEN s.client->>'recipient' IS NOT NULL
                                                         THEN jsonb_build_array(s.client->>'recipient') END),
               'status', s.status,
               'session_trace', CASE WHEN s.client->>'client_ip' IS NOT NULL
                   THEN spoor.lease_at((s.client->>'client_ip')::inet,
                                       coalesce((s.client->>'ts')::timestamptz, s.id_ts),
                                       coalesce(p_tolerance, interval '0')) END,
               'evidence', (SELECT jsonb_agg(x) FROM (
                   SELECT spoor.evidence_of((s.client->>'block_id')::bigint, (s.client->>'block_idx')::integer,
                                            (s.client->>'ts')::timestamptz) AS x WHERE s.client IS NOT NULL
                   UNION ALL SELECT spoor.evidence_of(s.id_block, s.id_idx, s.id_ts) WHERE s.id_kind = 2
                   UNION ALL SELECT jsonb_array_elements(coalesce(s.delivery_evidence, '[]'))) ev)
           ) ORDER BY s.id_ts), '[]'::jsonb)
    INTO v_res
    FROM sub s;
    RETURN v_res;
END
$$;

-- Who held P_IP at P_AT (see 003).  The candidate sessions' extent is read
-- first, and bounds every later scan of radius_event and lease_seg.
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
        WHERE s.day BETWEEN v_lo - 2 AND v_hi AND s.addr >>= p_ip AND s.seg_hi < p_at - p_tol
        ORDER BY s.seg_hi DESC LIMIT 1;
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

-- A subscriber's sessions in the order's window (see 005): the evidence
-- scans are bounded by the sessions' extent.
CREATE OR REPLACE FUNCTION trace_user_core(p_request bigint, p_user text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    v_params jsonb := jsonb_build_object('user_name', p_user);
    v_why text;
    v_lo timestamptz;
    v_hi timestamptz;
    v_sessions jsonb;
    v_elo timestamptz;
    v_ehi timestamptz;
    v_res jsonb;
BEGIN
    IF p_user IS NULL OR p_user = '' THEN
        v_why := 'a user name is required';
    ELSE
        v_why := spoor.gate(p_request, 'user_name', p_user, NULL, NULL, interval '0');
    END IF;
    IF v_why IS NOT NULL THEN
        PERFORM spoor.audit_append('trace.user', p_request, v_params, 'denied', v_why);
        RETURN jsonb_build_object('status', 'denied', 'reason', v_why);
    END IF;
    SELECT window_lo, window_hi INTO v_lo, v_hi FROM spoor.request WHERE request_id = p_request;
    -- The sessions' extent bounds the evidence scans (see lease_at).
    SELECT min(least(l.first_ts, l.start_ts, l.est_start)) - interval '1 minute',
           max(greatest(l.stop_ts, l.span_hi)) + interval '1 minute'
    INTO v_elo, v_ehi
    FROM spoor.lease l WHERE l.user_name = p_user AND l.first_ts <= v_hi AND l.span_hi >= v_lo;
    SELECT coalesce(jsonb_agg(x.s ORDER BY x.start), '[]'::jsonb) INTO v_sessions
    FROM (
        SELECT coalesce(l.start_ts, l.est_start, l.first_ts) AS start, jsonb_build_object(
            'user_name', l.user_name, 'calling_station_id', l.calling_station_id,
            'called_station_id', l.called_station_id, 'nas_ip', host(l.nas_ip),
            'nas_identifier', l.nas_identifier, 'nas_port', l.nas_port, 'nas_port_id', l.nas_port_id,
            'acct_session_id', l.acct_session_id,
            'framed_ip', CASE WHEN l.addr_kind = 1 THEN host(l.addr) END,
            'framed_ipv6_prefix', CASE WHEN l.addr_kind = 2 THEN l.addr::text END,
            'delegated_ipv6_prefix', CASE WHEN l.addr_kind = 3 THEN l.addr::text END,
            'start', coalesce(l.start_ts, l.est_start, l.first_ts), 'start_seen', l.start_ts IS NOT NULL,
            'stop', l.stop_ts, 'terminate_cause', l.terminate_cause, 'last_seen', l.last_ts,
            'evidence', (SELECT coalesce(jsonb_agg(spoor.evidence_of(e.block_id, e.block_idx, e.ts) ORDER BY e.ts), '[]')
                         FROM (SELECT e.block_id, e.block_idx, e.ts FROM spoor.radius_event e
                               WHERE e.session_key = l.session_key AND e.status IN (1, 2)
                                 AND e.ts BETWEEN v_elo AND v_ehi
                                 AND e.ts BETWEEN coalesce(l.start_ts, l.est_start, l.first_ts) - interval '1 minute'
                                              AND coalesce(l.stop_ts, l.span_hi) + interval '1 minute'
                               ORDER BY e.ts LIMIT 4) e)) AS s
        FROM spoor.lease l
        WHERE l.user_name = p_user AND l.first_ts <= v_hi AND l.span_hi >= v_lo
        ORDER BY coalesce(l.start_ts, l.est_start, l.first_ts)
        LIMIT 1000) x;
    v_res := jsonb_build_object('status', 'ok', 'request_id', p_request, 'query', v_params,
                                'window', jsonb_build_array(v_lo, v_hi), 'sessions', v_sessions);
    PERFORM spoor.audit_append('trace.user', p_request, v_params, 'ok',
                               encode(sha256(convert_to(v_res::text, 'UTF8')), 'hex'));
    RETURN v_res;
END
$$;

-- The lease index's merge (002, renamed in 006): planned with the batch's
-- bounds known, so only the batch's days of radius_event and lease_seg are
-- planned and locked, however many days are kept.
CREATE OR REPLACE FUNCTION lease_merge_core(p_blocks bigint[], p_lo timestamptz, p_hi timestamptz, p_timeout interval,
                            p_open_max interval)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    n integer;
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS lease_in (
        session_key text, addr inet, kind smallint, first_ts timestamptz, last_ts timestamptz,
        start_ts timestamptz, est_start timestamptz, has_interim boolean, stop_ts timestamptz, cause text, user_name text, calling text,
        called text, nas_ip inet, nas_id text, nas_port bigint, nas_port_id text,
        sid text) ON COMMIT DROP;
    CREATE TEMP TABLE IF NOT EXISTS lease_batch (
        session_key text, addr inet, old_lo timestamptz, old_hi timestamptz,
        new_lo timestamptz, new_hi timestamptz) ON COMMIT DROP;
    TRUNCATE lease_in, lease_batch;

    -- 1. The batch's events, one row per session and address.
    INSERT INTO lease_in
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
    GROUP BY session_key, addr;
    ANALYZE lease_in;

    -- 2. The spans before this batch.
    INSERT INTO lease_batch (session_key, addr, old_lo, old_hi)
    SELECT i.session_key, i.addr, l.span_lo, l.span_hi
    FROM lease_in i LEFT JOIN spoor.lease l USING (session_key, addr);

    -- 3. Merge, and note the spans after it.
    WITH up AS (
        INSERT INTO spoor.lease AS l (session_key, addr, addr_kind, first_ts, last_ts, start_ts, est_start, has_interim, stop_ts,
                    terminate_cause, span_lo, span_hi, user_name, calling_station_id, called_station_id,
                    nas_ip, nas_identifier, nas_port, nas_port_id, acct_session_id)
        SELECT session_key, addr, kind, first_ts, last_ts, start_ts, est_start, has_interim, stop_ts, cause,
               least(first_ts, start_ts, est_start),
               CASE WHEN stop_ts IS NOT NULL THEN greatest(stop_ts, last_ts)
                    WHEN has_interim THEN last_ts + p_timeout
                    ELSE last_ts + p_open_max END,
               user_name, calling, called, nas_ip, nas_id, nas_port, nas_port_id, sid
        FROM lease_in
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
        RETURNING l.session_key, l.addr, l.span_lo, l.span_hi
    )
    UPDATE lease_batch b SET new_lo = up.span_lo, new_hi = up.span_hi
    FROM up WHERE b.session_key = up.session_key AND b.addr = up.addr;

    DELETE FROM lease_batch
    WHERE old_lo IS NOT DISTINCT FROM new_lo AND old_hi IS NOT DISTINCT FROM new_hi;
    SELECT count(*) INTO n FROM lease_batch;
    IF n = 0 THEN
        RETURN 0;
    END IF;

    PERFORM spoor.ensure_partitions((SELECT min(new_lo AT TIME ZONE 'UTC')::date FROM lease_batch),
                                    (SELECT max(new_hi AT TIME ZONE 'UTC')::date FROM lease_batch));
    -- Days the span no longer reaches (a Stop arrived before last + timeout).
    DELETE FROM spoor.lease_seg s USING lease_batch b
    WHERE s.session_key = b.session_key AND s.addr = b.addr
      AND s.day > (b.new_hi AT TIME ZONE 'UTC')::date
      AND s.day <= (b.old_hi AT TIME ZONE 'UTC')::date
      -- new_hi is at least the batch's earliest event: a bound to prune on.
      AND s.day >= (p_lo AT TIME ZONE 'UTC')::date;
    -- Write only the days whose segment changed: the first and last day of
    -- the old and new spans, and days the span newly reaches.
    INSERT INTO spoor.lease_seg AS s (day, addr, session_key, seg_lo, seg_hi)
    SELECT d::date, b.addr, b.session_key,
           greatest(b.new_lo, (d::date)::timestamp AT TIME ZONE 'UTC'),
           least(b.new_hi, (d::date + 1)::timestamp AT TIME ZONE 'UTC')
    FROM lease_batch b
    CROSS JOIN LATERAL generate_series((b.new_lo AT TIME ZONE 'UTC')::date,
                                       (b.new_hi AT TIME ZONE 'UTC')::date, interval '1 day') AS d
    WHERE b.old_lo IS NULL
       OR d::date <= (b.old_lo AT TIME ZONE 'UTC')::date
       OR d::date >= (b.old_hi AT TIME ZONE 'UTC')::date
    ON CONFLICT (day, session_key, addr) DO UPDATE SET seg_lo = excluded.seg_lo, seg_hi = excluded.seg_hi;
    RETURN n;
END
$$;

RESET ROLE;
