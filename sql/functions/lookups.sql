CREATE OR REPLACE FUNCTION spoor.msgid_normalize(p text)
 RETURNS text
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
    WITH t AS (SELECT regexp_replace(regexp_replace(btrim(p, E' \t\r\n'), '^<', ''), '>$', '') AS v)
    SELECT CASE WHEN strpos(v, '@') = 0 THEN v
                ELSE substring(v FROM '^(.*@)')
                     || translate(substring(v FROM '^.*@(.*)$'), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
                                  'abcdefghijklmnopqrstuvwxyz') END
    FROM t
$function$;
ALTER FUNCTION spoor.msgid_normalize(p text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.msgid_normalize(p text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.msgid_normalize(p text) TO spoor_analyst;
GRANT EXECUTE ON FUNCTION spoor.msgid_normalize(p text) TO spoor_approver;
GRANT EXECUTE ON FUNCTION spoor.msgid_normalize(p text) TO spoor_auditor;

CREATE OR REPLACE FUNCTION spoor.lease_at_full(p_ip inet, p_at timestamp with time zone, p_tol interval)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
 SET plan_cache_mode TO 'force_custom_plan'
AS $function$
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
    v_keys text[];      -- the candidate sessions
    v_nas inet[];       -- and their NASes
BEGIN
    -- The candidates' whole extent (all their addresses), so that every scan
    -- of a partitioned table below is bounded by values the planner knows.
    -- The evidence scans reach at most a minute past a session's bounds.
    SELECT min(least(o.first_ts, o.start_ts, o.est_start)) - interval '2 minutes',
           max(greatest(o.span_hi, o.stop_ts, o.last_ts)) + interval '2 minutes',
           array_agg(DISTINCT o.session_key), array_agg(DISTINCT o.nas_ip)
    INTO v_elo, v_ehi, v_keys, v_nas
    FROM spoor.lease o
    WHERE o.session_key IN (SELECT s.session_key FROM spoor.lease_seg s
                            WHERE s.day BETWEEN v_lo AND v_hi AND s.addr >>= p_ip
                              AND tstzrange(s.seg_lo, s.seg_hi, '[]') && tstzrange(p_at - p_tol, p_at + p_tol, '[]'));
    v_elo := coalesce(v_elo, p_at); v_ehi := coalesce(v_ehi, p_at);
    WITH rev AS MATERIALIZED (  -- the candidates' events
        SELECT * FROM spoor.radius_by_session(v_keys, v_elo, v_ehi)
    ), rbt AS MATERIALIZED (    -- their NASes' Accounting-On/Off
        SELECT * FROM spoor.radius_reboots(v_nas, v_elo, v_ehi)
    ), cand AS (
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
        LEFT JOIN LATERAL (SELECT min(e.ts) AS ts FROM rbt e
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
               'evidence', (SELECT coalesce(jsonb_agg(spoor.evidence_of(ev.block_id, ev.block_idx, ev.ts) ORDER BY ev.ts, ev.block_id, ev.block_idx), '[]')
                            FROM (
                              (SELECT e.block_id, e.block_idx, e.ts FROM rev e
                               WHERE e.session_key = h.session_key AND e.ts BETWEEN v_elo AND v_ehi AND e.status = 1
                                 AND e.ts BETWEEN h.eff_start - interval '1 minute' AND h.eff_start + interval '1 minute'
                               ORDER BY e.ts, e.block_id, e.block_idx LIMIT 1)
                              UNION
                              (SELECT e.block_id, e.block_idx, e.ts FROM rev e
                               WHERE e.session_key = h.session_key AND e.ts BETWEEN v_elo AND v_ehi AND e.ts <= p_at
                                 AND e.ts >= h.eff_start - interval '1 minute'
                               ORDER BY e.ts DESC, e.block_id DESC, e.block_idx DESC LIMIT 1)
                              UNION
                              (SELECT e.block_id, e.block_idx, e.ts FROM rev e
                               WHERE e.session_key = h.session_key AND e.ts BETWEEN v_elo AND v_ehi AND e.ts > p_at
                                 AND e.ts <= h.eff_end + interval '1 minute'
                               ORDER BY e.ts, e.block_id, e.block_idx LIMIT 1)
                              UNION
                              (SELECT e.block_id, e.block_idx, e.ts FROM rev e
                               WHERE e.session_key = h.session_key AND e.ts BETWEEN v_elo AND v_ehi AND e.status = 2 AND h.stop_ts IS NOT NULL
                                 AND e.ts BETWEEN h.stop_ts - interval '1 minute' AND h.stop_ts + interval '1 minute'
                               ORDER BY e.ts, e.block_id, e.block_idx LIMIT 1)
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
$function$;
ALTER FUNCTION spoor.lease_at_full(p_ip inet, p_at timestamp with time zone, p_tol interval) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.lease_at_full(p_ip inet, p_at timestamp with time zone, p_tol interval) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.gate_checks(p_request bigint, p_kind text, p_value text, p_port integer, p_at timestamp with time zone, p_tol interval)
 RETURNS text
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    r spoor.request;
BEGIN
    SELECT * INTO r FROM spoor.request WHERE request_id = p_request FOR UPDATE;
    IF NOT FOUND THEN RETURN 'no such request'; END IF;
    IF r.kind <> 'disclosure' THEN RETURN 'a preservation request does not allow lookups'; END IF;
    IF r.state NOT IN ('approved', 'executed') THEN
        RETURN 'request is ' || r.state || ': lookups need an approved request';
    END IF;
    IF r.deadline IS NOT NULL AND now() > r.deadline THEN
        RETURN 'request deadline has passed';
    END IF;
    IF r.lookups_done >= r.max_lookups THEN
        RETURN format('lookup budget of the request used up (%s of %s)', r.lookups_done, r.max_lookups);
    END IF;
    IF p_tol > interval '1 hour' OR p_tol < interval '0' THEN RETURN 'tolerance must be between 0 and 1 hour'; END IF;
    -- The instant must lie inside the window itself: the lookup then reaches
    -- its tolerance around it, so the reach is the window plus the tolerance,
    -- once (it was the window plus the tolerance here, and again in lease_at).
    IF p_at IS NOT NULL AND (p_at < r.window_lo OR p_at > r.window_hi) THEN
        RETURN format('instant %s is outside the request window %s .. %s', p_at, r.window_lo, r.window_hi);
    END IF;
    IF p_kind = 'ip' THEN
        IF NOT EXISTS (SELECT 1 FROM spoor.request_scope s WHERE s.request_id = p_request AND s.kind = 'ip'
                       AND s.value::inet >>= p_value::inet AND masklen(p_value::inet) >= masklen(s.value::inet)
                       AND (s.port IS NULL OR s.port = p_port)) THEN
            RETURN format('address %s%s is not named by the request', p_value,
                          CASE WHEN p_port IS NOT NULL THEN ' port ' || p_port ELSE '' END);
        END IF;
    ELSE
        IF NOT EXISTS (SELECT 1 FROM spoor.request_scope s WHERE s.request_id = p_request
                       AND s.kind = p_kind AND s.value = p_value) THEN
            RETURN format('%s %s is not named by the request', p_kind, p_value);
        END IF;
    END IF;
    UPDATE spoor.request SET lookups_done = lookups_done + 1,
        state = CASE WHEN state = 'approved' THEN 'executed' ELSE state END
    WHERE request_id = p_request;
    RETURN NULL;
END
$function$;
ALTER FUNCTION spoor.gate_checks(p_request bigint, p_kind text, p_value text, p_port integer, p_at timestamp with time zone, p_tol interval) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.gate_checks(p_request bigint, p_kind text, p_value text, p_port integer, p_at timestamp with time zone, p_tol interval) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.trace_ip_core(p_request bigint, p_ip inet, p_at timestamp with time zone, p_port integer, p_tolerance interval)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_params jsonb := jsonb_build_object('ip', host(p_ip), 'at', p_at, 'port', p_port,
                                         'tolerance_s', extract(epoch FROM p_tolerance));
    v_why text;
    v_res jsonb;
BEGIN
    IF p_ip IS NULL OR p_at IS NULL THEN
        v_why := 'an address and an instant are required';
    ELSIF (family(p_ip) = 4 AND masklen(p_ip) <> 32) OR (family(p_ip) = 6 AND masklen(p_ip) <> 128) THEN
        v_why := 'a lookup names one address, not a range';
    ELSE
        v_why := spoor.gate(p_request, 'ip', host(p_ip), p_port, p_at, coalesce(p_tolerance, interval '0'));
    END IF;
    IF v_why IS NOT NULL THEN
        PERFORM spoor.audit_append('trace.ip', p_request, v_params, 'denied', v_why);
        RETURN jsonb_build_object('status', 'denied', 'reason', v_why);
    END IF;
    v_res := spoor.who_at(p_ip, p_port, p_at, coalesce(p_tolerance, interval '0'))
             || jsonb_build_object('status', 'ok', 'request_id', p_request, 'query', v_params);
    PERFORM spoor.audit_append('trace.ip', p_request, v_params, 'ok',
                               encode(sha256(convert_to(v_res::text, 'UTF8')), 'hex'));
    RETURN v_res;
END
$function$;
ALTER FUNCTION spoor.trace_ip_core(p_request bigint, p_ip inet, p_at timestamp with time zone, p_port integer, p_tolerance interval) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.trace_ip_core(p_request bigint, p_ip inet, p_at timestamp with time zone, p_port integer, p_tolerance interval) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.submissions_for(v_id text, v_lo timestamp with time zone, v_hi timestamp with time zone, p_tolerance interval)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
 SET plan_cache_mode TO 'force_custom_plan'
AS $function$
DECLARE
    w_lo timestamptz;
    w_hi timestamptz;
    v_ids spoor.smtp_event[];
    v_hosts text[];
    v_qids text[];
    v_res jsonb;
BEGIN
    -- The lines naming the Message-ID (Postfix cleanup, Exim arrival).  The
    -- lines of a queue lie within two days of them: the bounds of the reads
    -- below.
    SELECT array_agg(e), min(e.ts) - interval '2 days', max(e.ts) + interval '2 days',
           array_agg(e.host), array_agg(e.queue_id)
    INTO v_ids, w_lo, w_hi, v_hosts, v_qids
    FROM spoor.smtp_by_msgid(v_id, v_lo, v_hi) e;
    IF w_lo IS NULL THEN
        RETURN '[]'::jsonb;
    END IF;
    -- A queue a content filter re-queued one of these from ("queued as"):
    -- its lines are read too (its client= is the real client).
    SELECT v_hosts || array_agg(e.host), v_qids || array_agg(e.queue_id) INTO v_hosts, v_qids
    FROM spoor.smtp_by_next(v_hosts, v_qids, w_lo, w_hi) e WHERE e.kind = spoor.smtp_kind('delivery');
    WITH ids AS (SELECT * FROM unnest(v_ids)),
    ev AS MATERIALIZED (SELECT * FROM spoor.smtp_by_queue(v_hosts, v_qids, w_lo, w_hi)),
    q AS (         -- each (host, queue): the queue's own lines within two days
        SELECT i.host, i.queue_id, i.ts AS id_ts, i.kind AS id_kind,
               i.block_id AS id_block, i.block_idx AS id_idx
        FROM ids i
        -- A queue handed to a content filter and re-queued ("queued as B")
        -- is reported once, as B with its predecessor: not twice.
        WHERE NOT EXISTS (
            SELECT 1 FROM ev d JOIN ids i2 ON i2.host = d.host AND i2.queue_id = d.next_queue_id
            WHERE d.host = i.host AND d.queue_id = i.queue_id AND d.kind = spoor.smtp_kind('delivery')
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
            SELECT to_jsonb(e) AS c FROM ev e
            WHERE e.host = q.host AND e.queue_id = q.queue_id AND e.kind IN (spoor.smtp_kind('client'), spoor.smtp_kind('exim_arrival'))
              AND e.ts BETWEEN q.id_ts - interval '2 days' AND q.id_ts + interval '2 days'
              AND (q.id_kind = spoor.smtp_kind('exim_arrival') OR e.kind = spoor.smtp_kind('client'))
            ORDER BY e.ts, e.block_id, e.block_idx LIMIT 1) c1 ON true
        LEFT JOIN LATERAL (  -- re-queued by a content filter: "queued as <this queue>"
            SELECT e.queue_id FROM ev e
            WHERE e.host = q.host AND e.next_queue_id = q.queue_id AND e.kind = spoor.smtp_kind('delivery')
              AND e.ts BETWEEN q.id_ts - interval '2 days' AND q.id_ts + interval '2 days'
            ORDER BY e.ts DESC, e.block_id DESC, e.block_idx DESC LIMIT 1) prev ON true
        LEFT JOIN LATERAL (
            SELECT to_jsonb(e) AS c FROM ev e
            WHERE prev.queue_id IS NOT NULL AND e.host = q.host AND e.queue_id = prev.queue_id
              AND e.kind = spoor.smtp_kind('client') AND e.ts BETWEEN q.id_ts - interval '2 days' AND q.id_ts
            ORDER BY e.ts, e.block_id, e.block_idx LIMIT 1) c2 ON true
        LEFT JOIN LATERAL (
            SELECT e.sender, e.size FROM ev e
            WHERE e.host = q.host AND e.queue_id = q.queue_id AND e.kind IN (spoor.smtp_kind('from'), spoor.smtp_kind('exim_arrival'))
              AND e.ts BETWEEN q.id_ts - interval '2 days' AND q.id_ts + interval '2 days'
            ORDER BY e.ts, e.block_id, e.block_idx LIMIT 1) f ON true
        LEFT JOIN LATERAL (
            SELECT jsonb_agg(DISTINCT e.recipient) FILTER (WHERE e.recipient IS NOT NULL) AS recipients,
                   (array_agg(e.status ORDER BY e.ts DESC, e.block_id DESC, e.block_idx DESC))[1] AS status,
                   jsonb_agg(spoor.evidence_of(e.block_id, e.block_idx, e.ts)
                             ORDER BY e.ts, e.block_id, e.block_idx) AS evidence
            FROM ev e
            WHERE e.host = q.host AND e.queue_id = q.queue_id AND e.kind IN (spoor.smtp_kind('delivery'), spoor.smtp_kind('exim_delivery'))
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
                   THEN spoor.who_at((s.client->>'client_ip')::inet, (s.client->>'client_port')::integer,
                                     coalesce((s.client->>'ts')::timestamptz, s.id_ts),
                                     coalesce(p_tolerance, interval '0')) END,
               'evidence', (SELECT jsonb_agg(x) FROM (
                   SELECT spoor.evidence_of((s.client->>'block_id')::bigint, (s.client->>'block_idx')::integer,
                                            (s.client->>'ts')::timestamptz) AS x WHERE s.client IS NOT NULL
                   UNION ALL SELECT spoor.evidence_of(s.id_block, s.id_idx, s.id_ts) WHERE s.id_kind = spoor.smtp_kind('message_id')
                   UNION ALL SELECT jsonb_array_elements(coalesce(s.delivery_evidence, '[]'))) ev)
           ) ORDER BY s.id_ts, s.id_block, s.id_idx), '[]'::jsonb)
    INTO v_res
    FROM sub s;
    RETURN v_res;
END
$function$;
ALTER FUNCTION spoor.submissions_for(v_id text, v_lo timestamp with time zone, v_hi timestamp with time zone, p_tolerance interval) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.submissions_for(v_id text, v_lo timestamp with time zone, v_hi timestamp with time zone, p_tolerance interval) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.trace_message_id_core(p_request bigint, p_message_id text, p_tolerance interval)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_id text := spoor.msgid_normalize(p_message_id);
    v_params jsonb := jsonb_build_object('message_id', spoor.msgid_normalize(p_message_id),
                                         'tolerance_s', extract(epoch FROM p_tolerance));
    v_why text;
    v_lo timestamptz;
    v_hi timestamptz;
    v_subs jsonb;
    v_res jsonb;
BEGIN
    v_why := spoor.gate(p_request, 'message_id', v_id, NULL, NULL, coalesce(p_tolerance, interval '0'));
    IF v_why IS NOT NULL THEN
        PERFORM spoor.audit_append('trace.message_id', p_request, v_params, 'denied', v_why);
        RETURN jsonb_build_object('status', 'denied', 'reason', v_why);
    END IF;
    -- Messages whose lines fall inside the order's window plus the tolerance,
    -- once: the window named the instants the order covers (it was the
    -- window plus a day either side).
    SELECT window_lo - coalesce(p_tolerance, interval '0'), window_hi + coalesce(p_tolerance, interval '0')
    INTO v_lo, v_hi FROM spoor.request WHERE request_id = p_request;

    v_subs := spoor.submissions_for(v_id, v_lo, v_hi, p_tolerance);


    v_res := jsonb_build_object('status', 'ok', 'request_id', p_request, 'query', v_params,
                                'submissions', v_subs);
    PERFORM spoor.audit_append('trace.message_id', p_request, v_params, 'ok',
                               encode(sha256(convert_to(v_res::text, 'UTF8')), 'hex'));
    RETURN v_res;
END
$function$;
ALTER FUNCTION spoor.trace_message_id_core(p_request bigint, p_message_id text, p_tolerance interval) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.trace_message_id_core(p_request bigint, p_message_id text, p_tolerance interval) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.trace_headers_core(p_request bigint, p_message_id text, p_hops jsonb, p_tolerance interval)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_id text := spoor.msgid_normalize(p_message_id);
    v_params jsonb := jsonb_build_object('message_id', spoor.msgid_normalize(p_message_id),
                                         'hops', p_hops);
    v_why text;
    v_lo timestamptz;
    v_hi timestamptz;
    v_hops jsonb;
    v_res jsonb;
BEGIN
    IF jsonb_typeof(p_hops) IS DISTINCT FROM 'array' OR jsonb_array_length(p_hops) > 50 THEN
        v_why := 'hops must be an array of at most 50 entries';
    ELSE
        v_why := spoor.gate(p_request, 'message_id', v_id, NULL, NULL, coalesce(p_tolerance, interval '0'));
    END IF;
    IF v_why IS NOT NULL THEN
        PERFORM spoor.audit_append('trace.headers', p_request, v_params, 'denied', v_why);
        RETURN jsonb_build_object('status', 'denied', 'reason', v_why);
    END IF;
    -- The order's window plus the tolerance, once (see trace_message_id_core).
    SELECT window_lo - coalesce(p_tolerance, interval '0'), window_hi + coalesce(p_tolerance, interval '0')
    INTO v_lo, v_hi FROM spoor.request WHERE request_id = p_request;
    SELECT coalesce(jsonb_agg(h.hop || jsonb_build_object(
               'state', CASE WHEN m.msgid_match THEN 'verified' ELSE 'not_in_our_logs' END,
               'queue_found', m.msgid_match, 'message_id_match', m.msgid_match,
               'evidence', CASE WHEN m.msgid_match THEN m.evidence END) ORDER BY h.n), '[]'::jsonb)
    INTO v_hops
    FROM jsonb_array_elements(p_hops) WITH ORDINALITY AS h(hop, n)
    CROSS JOIN LATERAL (
        SELECT count(*) > 0 AS queue_found,
               coalesce(bool_or(e.message_id = v_id), false) AS msgid_match,
               coalesce(bool_or(e.message_id IS NOT NULL), false) AS msgid_logged,
               jsonb_agg(spoor.evidence_of(e.block_id, e.block_idx, e.ts) ORDER BY e.ts, e.block_id, e.block_idx)
                   FILTER (WHERE e.kind IN (spoor.smtp_kind('client'), spoor.smtp_kind('message_id'), spoor.smtp_kind('exim_arrival'))) AS evidence
        FROM spoor.smtp_by_queue(
                 ARRAY(SELECT x FROM jsonb_array_elements_text(h.hop->'hosts') x),
                 ARRAY(SELECT h.hop->>'queue_id' FROM jsonb_array_elements_text(h.hop->'hosts') x),
                 (h.hop->>'time')::timestamptz - interval '1 day',
                 (h.hop->>'time')::timestamptz + interval '1 day') e
        WHERE e.ts BETWEEN v_lo AND v_hi) m;
    v_res := jsonb_build_object('status', 'ok', 'request_id', p_request, 'query', v_params,
                                'hops', v_hops,
                                'submissions', spoor.submissions_for(v_id, v_lo, v_hi, p_tolerance));
    PERFORM spoor.audit_append('trace.headers', p_request, v_params, 'ok',
                               encode(sha256(convert_to(v_res::text, 'UTF8')), 'hex'));
    RETURN v_res;
END
$function$;
ALTER FUNCTION spoor.trace_headers_core(p_request bigint, p_message_id text, p_hops jsonb, p_tolerance interval) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.trace_headers_core(p_request bigint, p_message_id text, p_hops jsonb, p_tolerance interval) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.trace_ip(p_request bigint, p_ip inet, p_at timestamp with time zone, p_port integer, p_tolerance interval)
 RETURNS jsonb
 LANGUAGE sql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT spoor.lookup_record(p_request, 'trace.ip',
                               spoor.trace_ip_core(p_request, p_ip, p_at, p_port, p_tolerance))
$function$;
ALTER FUNCTION spoor.trace_ip(p_request bigint, p_ip inet, p_at timestamp with time zone, p_port integer, p_tolerance interval) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.trace_ip(p_request bigint, p_ip inet, p_at timestamp with time zone, p_port integer, p_tolerance interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.trace_ip(p_request bigint, p_ip inet, p_at timestamp with time zone, p_port integer, p_tolerance interval) TO spoor_analyst;

CREATE OR REPLACE FUNCTION spoor.trace_message_id(p_request bigint, p_message_id text, p_tolerance interval)
 RETURNS jsonb
 LANGUAGE sql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT spoor.lookup_record(p_request, 'trace.message_id',
                               spoor.trace_message_id_core(p_request, p_message_id, p_tolerance))
$function$;
ALTER FUNCTION spoor.trace_message_id(p_request bigint, p_message_id text, p_tolerance interval) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.trace_message_id(p_request bigint, p_message_id text, p_tolerance interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.trace_message_id(p_request bigint, p_message_id text, p_tolerance interval) TO spoor_analyst;

CREATE OR REPLACE FUNCTION spoor.trace_headers(p_request bigint, p_message_id text, p_hops jsonb, p_tolerance interval)
 RETURNS jsonb
 LANGUAGE sql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT spoor.lookup_record(p_request, 'trace.headers',
                               spoor.trace_headers_core(p_request, p_message_id, p_hops, p_tolerance))
$function$;
ALTER FUNCTION spoor.trace_headers(p_request bigint, p_message_id text, p_hops jsonb, p_tolerance interval) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.trace_headers(p_request bigint, p_message_id text, p_hops jsonb, p_tolerance interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.trace_headers(p_request bigint, p_message_id text, p_hops jsonb, p_tolerance interval) TO spoor_analyst;

CREATE OR REPLACE FUNCTION spoor.trace_user_core(p_request bigint, p_user text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
 SET plan_cache_mode TO 'force_custom_plan'
AS $function$
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
            'evidence', (SELECT coalesce(jsonb_agg(spoor.evidence_of(e.block_id, e.block_idx, e.ts) ORDER BY e.ts, e.block_id, e.block_idx), '[]')
                         FROM (SELECT e.block_id, e.block_idx, e.ts
                               FROM spoor.radius_by_session(ARRAY[l.session_key],
                                        greatest(v_elo, coalesce(l.start_ts, l.est_start, l.first_ts) - interval '1 minute'),
                                        least(v_ehi, coalesce(l.stop_ts, l.span_hi) + interval '1 minute')) e
                               WHERE e.status IN (1, 2)
                               ORDER BY e.ts, e.block_id, e.block_idx LIMIT 4) e)) AS s
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
$function$;
ALTER FUNCTION spoor.trace_user_core(p_request bigint, p_user text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.trace_user_core(p_request bigint, p_user text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.trace_user(p_request bigint, p_user text)
 RETURNS jsonb
 LANGUAGE sql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT spoor.lookup_record(p_request, 'trace.user', spoor.trace_user_core(p_request, p_user))
$function$;
ALTER FUNCTION spoor.trace_user(p_request bigint, p_user text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.trace_user(p_request bigint, p_user text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.trace_user(p_request bigint, p_user text) TO spoor_analyst;

CREATE OR REPLACE FUNCTION spoor.lookup_gap_only(p jsonb)
 RETURNS jsonb
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
    SELECT CASE WHEN p IS NULL OR jsonb_typeof(p) <> 'object' THEN p
                ELSE jsonb_build_object('start', p->'start', 'stop', p->'stop') END
$function$;
ALTER FUNCTION spoor.lookup_gap_only(p jsonb) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.lookup_gap_only(p jsonb) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.lease_at(p_ip inet, p_at timestamp with time zone, p_tol interval)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    r jsonb := spoor.lease_at_full(p_ip, p_at, p_tol);
BEGIN
    RETURN r || jsonb_build_object('nearest_before', spoor.lookup_gap_only(r->'nearest_before'),
                                   'nearest_after', spoor.lookup_gap_only(r->'nearest_after'));
END
$function$;
ALTER FUNCTION spoor.lease_at(p_ip inet, p_at timestamp with time zone, p_tol interval) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.lease_at(p_ip inet, p_at timestamp with time zone, p_tol interval) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.lookup_record(p_request bigint, p_action text, p_res jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_seq bigint;
    v_reveal bigint;
    v_ticket bigint;
    v_ok boolean := p_res->>'status' = 'ok';
BEGIN
    SELECT max(seq) INTO v_seq FROM spoor.audit;
    IF v_ok THEN
        PERFORM spoor.result_keep(p_request, p_action, p_res);
        SELECT max(seq) INTO v_reveal FROM spoor.audit;
        IF v_reveal = v_seq THEN
            v_reveal := NULL;
        END IF;
    END IF;
    INSERT INTO spoor.lookup_ticket (request_id, action, actor, xact, audit_seq, reveal_seq, outcome, denial)
    VALUES (p_request, p_action, spoor.actor(), pg_current_xact_id(), v_seq, v_reveal,
            CASE WHEN v_ok THEN 'ok' ELSE 'denied' END, CASE WHEN v_ok THEN NULL ELSE p_res END)
    RETURNING ticket_id INTO v_ticket;
    RETURN jsonb_build_object('status', 'recorded', 'ticket', v_ticket,
                              'outcome', CASE WHEN v_ok THEN 'ok' ELSE 'denied' END);
END
$function$;
ALTER FUNCTION spoor.lookup_record(p_request bigint, p_action text, p_res jsonb) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.lookup_record(p_request bigint, p_action text, p_res jsonb) FROM PUBLIC;

-- An audited read other than a lookup (an export, an auditor's reading of a
-- case, the report), recorded as a lookup is: its audit entry was just
-- written in this transaction; the ticket lets lookup_answer give the data
-- once that has committed.  P_DENIAL: a refusal's answer (its own entry
-- written too), given back the same way.
CREATE OR REPLACE FUNCTION spoor.read_record(p_request bigint, p_action text, p_args jsonb, p_denial jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_ticket bigint;
    v_ok boolean := p_denial IS NULL;
BEGIN
    INSERT INTO spoor.lookup_ticket (request_id, action, actor, xact, audit_seq, reveal_seq, outcome, denial, args)
    VALUES (p_request, p_action, spoor.actor(), pg_current_xact_id(), (SELECT max(seq) FROM spoor.audit), NULL,
            CASE WHEN v_ok THEN 'ok' ELSE 'denied' END, p_denial, p_args)
    RETURNING ticket_id INTO v_ticket;
    RETURN jsonb_build_object('status', 'recorded', 'ticket', v_ticket,
                              'outcome', CASE WHEN v_ok THEN 'ok' ELSE 'denied' END);
END
$function$;
ALTER FUNCTION spoor.read_record(p_request bigint, p_action text, p_args jsonb, p_denial jsonb) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.read_record(p_request bigint, p_action text, p_args jsonb, p_denial jsonb) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.lookup_answer(p_ticket bigint)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    t spoor.lookup_ticket;
    v jsonb;
BEGIN
    SELECT * INTO t FROM spoor.lookup_ticket WHERE ticket_id = p_ticket;
    IF NOT FOUND OR t.actor <> spoor.actor() THEN
        RAISE EXCEPTION 'no lookup % of yours has been recorded', p_ticket USING ERRCODE = '42704';
    END IF;
    IF pg_xact_status(t.xact) IS DISTINCT FROM 'committed' THEN
        RAISE EXCEPTION 'lookup % is not committed: its answer is given only once its audit entry is on the record (run the lookup on its own, not inside a transaction block)', p_ticket
            USING ERRCODE = '55000';
    END IF;
    IF t.outcome <> 'ok' THEN
        RETURN t.denial;
    END IF;
    -- The other audited reads (read_record).  An export's and a case
    -- reading's answer is computed now, from the case as it is: so only
    -- right after its record (ten minutes), and only while the person may
    -- still read the case; a later reading is a new, audited one.
    IF t.action IN ('request.export', 'case.read') THEN
        IF t.created_at < now() - interval '10 minutes' THEN
            RAISE EXCEPTION 'the reading recorded as ticket % is more than ten minutes old: read the case again', p_ticket
                USING ERRCODE = '55000';
        END IF;
        IF coalesce(spoor.case_access(t.request_id), 'none') NOT IN ('recorder', 'approver', 'assigned', 'auditor') THEN
            RAISE EXCEPTION 'you are no longer on case %', t.request_id USING ERRCODE = '42501';
        END IF;
        RETURN CASE t.action WHEN 'request.export' THEN spoor.request_export_answer(t.request_id)
                             ELSE spoor.request_show_answer(t.request_id) || '{"status": "ok"}' END;
    ELSIF t.action = 'report' THEN
        RETURN t.args->'answer' || '{"status": "ok"}';
    END IF;
    SELECT r.result INTO v FROM spoor.request_result r WHERE r.audit_seq = t.audit_seq;
    IF t.reveal_seq IS NOT NULL THEN
        v := v || (SELECT r.result FROM spoor.request_result r WHERE r.audit_seq = t.reveal_seq);
    END IF;
    RETURN v;
END
$function$;
ALTER FUNCTION spoor.lookup_answer(p_ticket bigint) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.lookup_answer(p_ticket bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.lookup_answer(p_ticket bigint) TO spoor_analyst;
GRANT EXECUTE ON FUNCTION spoor.lookup_answer(p_ticket bigint) TO spoor_approver;
GRANT EXECUTE ON FUNCTION spoor.lookup_answer(p_ticket bigint) TO spoor_auditor;
GRANT EXECUTE ON FUNCTION spoor.lookup_answer(p_ticket bigint) TO spoor_admin;

CREATE OR REPLACE FUNCTION spoor.gate(p_request bigint, p_kind text, p_value text, p_port integer, p_at timestamp with time zone, p_tol interval)
 RETURNS text
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
BEGIN
    IF EXISTS (SELECT 1 FROM spoor.request WHERE request_id = p_request)
       AND coalesce(spoor.case_access(p_request), 'none') NOT IN ('recorder', 'assigned') THEN
        RETURN 'you are not on this case: lookups are made by its recorder and the analysts its approver assigned';
    END IF;
    RETURN spoor.gate_checks(p_request, p_kind, p_value, p_port, p_at, p_tol);
END
$function$;
ALTER FUNCTION spoor.gate(p_request bigint, p_kind text, p_value text, p_port integer, p_at timestamp with time zone, p_tol interval) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.gate(p_request bigint, p_kind text, p_value text, p_port integer, p_at timestamp with time zone, p_tol interval) FROM PUBLIC;
