-- The kinds of SMTP event (smtp_event.kind, and in the packs): their one
-- definition.  SQL names them with smtp_kind('delivery'), which the planner
-- folds to the number (it is IMMUTABLE), so plans are as with the literal;
-- C gets them as SMTP_KIND_* in a header generated from this list
-- (ops/gen-constants).
CREATE OR REPLACE FUNCTION spoor.smtp_kinds()
 RETURNS TABLE(name text, code smallint)
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
    VALUES ('client', 1::smallint),          -- Postfix smtpd client= (address, port, SASL user)
           ('message_id', 2::smallint),      -- Postfix cleanup message-id=
           ('from', 3::smallint),            -- Postfix qmgr from= (sender, size)
           ('delivery', 4::smallint),        -- Postfix to=, relay=, status=
           ('removed', 5::smallint),         -- Postfix qmgr removed
           ('reject', 6::smallint),          -- Postfix NOQUEUE reject
           ('bounce', 7::smallint),          -- Postfix bounce notice (sender non-delivery)
           ('exim_arrival', 11::smallint),   -- Exim <= (sender, client, Message-ID)
           ('exim_delivery', 12::smallint),  -- Exim => -> ** == (delivery, deferral, bounce)
           ('exim_completed', 13::smallint)  -- Exim Completed
$function$;
ALTER FUNCTION spoor.smtp_kinds() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.smtp_kinds() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.smtp_kinds() TO spoor_admin;
GRANT EXECUTE ON FUNCTION spoor.smtp_kinds() TO spoor_auditor;

CREATE OR REPLACE FUNCTION spoor.smtp_kind(p_name text)
 RETURNS smallint
 LANGUAGE sql
 IMMUTABLE STRICT
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
    SELECT k.code FROM spoor.smtp_kinds() k WHERE k.name = p_name
$function$;
ALTER FUNCTION spoor.smtp_kind(p_name text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.smtp_kind(p_name text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.ensure_partitions(p_from date, p_to date)
 RETURNS integer
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    t record;
    d date;
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
             FROM spoor.partitioned p WHERE NOT p.on_demand ORDER BY p.name LOOP
        d := greatest(p_from, coalesce(t.horizon, p_from));
        WHILE d <= p_to LOOP
            IF spoor.partition_create(t.name, t.key_type, d) THEN
                n := n + 1;
            END IF;
            d := d + 1;
        END LOOP;
    END LOOP;
    RETURN n;
END
$function$;
ALTER FUNCTION spoor.ensure_partitions(p_from date, p_to date) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.ensure_partitions(p_from date, p_to date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.ensure_partitions(p_from date, p_to date) TO spoor_ingest;
GRANT EXECUTE ON FUNCTION spoor.ensure_partitions(p_from date, p_to date) TO spoor_retention;

CREATE OR REPLACE FUNCTION spoor.quarantine_summary()
 RETURNS TABLE(source text, part integer, reason text, n bigint, first_received timestamp with time zone, last_received timestamp with time zone)
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT source, part, reason, count(*), min(received), max(received)
    FROM spoor.quarantine GROUP BY source, part, reason ORDER BY source, part, reason
$function$;
ALTER FUNCTION spoor.quarantine_summary() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.quarantine_summary() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.quarantine_summary() TO spoor_admin;
GRANT EXECUTE ON FUNCTION spoor.quarantine_summary() TO spoor_auditor;

CREATE OR REPLACE FUNCTION spoor.lease_seg_end(p_hi timestamp with time zone, p_stopped boolean)
 RETURNS timestamp with time zone
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
AS $function$
    SELECT CASE WHEN p_hi IS NULL THEN NULL
                WHEN p_stopped THEN p_hi
                ELSE ((p_hi AT TIME ZONE 'UTC')::date + 1)::timestamp AT TIME ZONE 'UTC' END
$function$;
ALTER FUNCTION spoor.lease_seg_end(p_hi timestamp with time zone, p_stopped boolean) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.lease_seg_end(p_hi timestamp with time zone, p_stopped boolean) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.lease_merge_rows(p_key text[], p_addr text[], p_kind smallint[], p_first timestamp with time zone[], p_last timestamp with time zone[], p_start timestamp with time zone[], p_est timestamp with time zone[], p_interim boolean[], p_stop timestamp with time zone[], p_cause text[], p_user text[], p_calling text[], p_called text[], p_nas_ip text[], p_nas_id text[], p_nas_port bigint[], p_nas_port_id text[], p_sid text[], p_lo timestamp with time zone, p_timeout interval, p_open_max interval)
 RETURNS integer
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
 SET plan_cache_mode TO 'force_custom_plan'
AS $function$
DECLARE
    v_chg spoor.lease_chg[];
    n integer;
    v_h date;     -- the horizon before this batch
    v_new date;   -- the batch's latest day
    v_bad text;
    v_hi timestamptz;
BEGIN
    -- The lease index says who held an address: what the ingest login
    -- passes here must be what it stored.  The bounds are the settings'
    -- (trace.interim_timeout, trace.open_session_max): a negative one would
    -- cut an open session short.  Every session's first and last instant is
    -- a stored RADIUS event of it with that address; its Start, Stop,
    -- estimated start, Interim-Updates, user name and Calling-Station-Id are
    -- those of stored events of it; and a stored session's identity (user
    -- name, Calling-Station-Id, NAS) is kept as first stored, never
    -- overwritten (below).
    IF p_timeout IS NULL OR p_timeout < interval '1 minute' OR p_timeout > interval '30 days'
       OR p_open_max IS NULL OR p_open_max < interval '1 minute' OR p_open_max > interval '400 days' THEN
        RAISE EXCEPTION 'lease merge: the interim timeout and the open-session maximum must be 1 minute .. 30 / 400 days (got %, %)',
                        p_timeout, p_open_max USING ERRCODE = '22023';
    END IF;
    v_hi := (SELECT max(x) FROM unnest(p_last) x);
    -- Each check names the batch's time range, so the plan reads the
    -- partitions of those days only (principle 5: bounds known when planning).
    SELECT u.key INTO v_bad
    FROM unnest(p_key, p_addr, p_kind, p_first, p_last, p_start, p_est, p_interim, p_stop, p_user, p_calling)
         AS u(key, addr, kind, first, last, start, est, interim, stop, usr, calling)
    WHERE u.key IS NOT NULL
      AND (u.first IS NULL OR u.last IS NULL OR u.first < p_lo OR u.addr IS NULL
           OR NOT EXISTS (SELECT 1 FROM spoor.radius_event e WHERE e.ts BETWEEN p_lo AND v_hi
                          AND e.session_key = u.key AND e.ts = u.first
                          AND u.addr::inet = CASE u.kind WHEN 1 THEN e.framed_ip WHEN 2 THEN e.framed_ipv6_prefix
                                                         WHEN 3 THEN e.delegated_ipv6_prefix END)
           OR NOT EXISTS (SELECT 1 FROM spoor.radius_event e WHERE e.ts BETWEEN p_lo AND v_hi
                          AND e.session_key = u.key AND e.ts = u.last
                          AND u.addr::inet = CASE u.kind WHEN 1 THEN e.framed_ip WHEN 2 THEN e.framed_ipv6_prefix
                                                         WHEN 3 THEN e.delegated_ipv6_prefix END)
           OR (u.start IS NOT NULL AND NOT EXISTS (SELECT 1 FROM spoor.radius_event e WHERE e.ts BETWEEN p_lo AND v_hi
                                                   AND e.session_key = u.key AND e.ts = u.start AND e.status = 1))
           OR (u.stop IS NOT NULL AND NOT EXISTS (SELECT 1 FROM spoor.radius_event e WHERE e.ts BETWEEN p_lo AND v_hi
                                                  AND e.session_key = u.key AND e.ts = u.stop AND e.status = 2))
           -- The estimated start is an event's time less its Acct-Session-Time.
           OR (u.est IS NOT NULL AND NOT EXISTS (SELECT 1 FROM spoor.radius_event e WHERE e.ts BETWEEN p_lo AND v_hi
                                                 AND e.session_key = u.key AND e.status <> 1 AND e.session_time IS NOT NULL
                                                 AND e.ts - e.session_time * interval '1 second' = u.est))
           OR (u.interim AND NOT EXISTS (SELECT 1 FROM spoor.radius_event e WHERE e.ts BETWEEN p_lo AND v_hi
                                         AND e.session_key = u.key AND e.status = 3))
           -- The identity given is one the session's stored events carry.
           OR (u.usr IS NOT NULL AND NOT EXISTS (SELECT 1 FROM spoor.radius_event e WHERE e.ts BETWEEN p_lo AND v_hi
                                                 AND e.session_key = u.key AND e.user_name = u.usr))
           OR (u.calling IS NOT NULL AND NOT EXISTS (SELECT 1 FROM spoor.radius_event e WHERE e.ts BETWEEN p_lo AND v_hi
                                                     AND e.session_key = u.key AND e.calling_station_id = u.calling)))
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'lease merge: session % has no stored RADIUS event at the instants given', v_bad
            USING ERRCODE = '22023';
    END IF;
    -- 0. The horizon.  Merges hold a shared lock and the one that moves the
    -- horizon an exclusive one, so its roll sees every session committed
    -- before it, and no merge writes to the old horizon once it has moved.
    SELECT max((x AT TIME ZONE 'UTC')::date) INTO v_new FROM unnest(p_last) x;
    SELECT h.day INTO v_h FROM spoor.lease_horizon h;
    IF v_h IS NULL OR v_new > v_h THEN
        PERFORM pg_advisory_xact_lock(7340203);
        SELECT h.day INTO v_h FROM spoor.lease_horizon h;  -- as committed now
    ELSE
        PERFORM pg_advisory_xact_lock_shared(7340203);
        SELECT h.day INTO v_h FROM spoor.lease_horizon h;  -- may have moved on meanwhile
    END IF;
    IF v_h IS NULL THEN
        UPDATE spoor.lease_horizon SET day = v_new;
        v_h := v_new;
    ELSIF v_new > v_h THEN
        PERFORM spoor.ensure_partitions(v_h, v_new);
        -- The day roll: open sessions reaching past the old horizon get
        -- their segments up to the new one.
        INSERT INTO spoor.lease_seg AS s (day, addr, session_key, seg_lo, seg_hi)
        SELECT d::date, l.addr, l.session_key,
               greatest(l.span_lo, (d::date)::timestamp AT TIME ZONE 'UTC'),
               least(spoor.lease_seg_end(l.span_hi, false), (d::date + 1)::timestamp AT TIME ZONE 'UTC')
        FROM spoor.lease l
        CROSS JOIN LATERAL generate_series(greatest((l.span_lo AT TIME ZONE 'UTC')::date, v_h + 1),
                                           least((l.span_hi AT TIME ZONE 'UTC')::date, v_new),
                                           interval '1 day') AS d
        WHERE l.stop_ts IS NULL AND l.span_hi >= (v_h + 1)::timestamp AT TIME ZONE 'UTC'
        ON CONFLICT (day, session_key, addr) DO NOTHING;
        UPDATE spoor.lease_horizon SET day = v_new;
        v_h := v_new;
    END IF;

    -- 1. The batch's sessions (inp); the spans before the batch (old); the
    -- merge (up); the changed spans.
    WITH inp (session_key, addr, kind, first_ts, last_ts, start_ts, est_start, has_interim, stop_ts, cause, user_name, calling, called, nas_ip, nas_id, nas_port, nas_port_id, sid) AS (
        SELECT u.key, u.addr::inet, min(u.kind), min(u.first), max(u.last), min(u.start), min(u.est),
               bool_or(u.interim), max(u.stop), max(u.cause), max(u.usr), max(u.calling), max(u.called),
               max(u.nas_ip::inet), max(u.nas_id), max(u.nas_port), max(u.nas_port_id), max(u.sid)
        FROM unnest(p_key, p_addr, p_kind, p_first, p_last, p_start, p_est, p_interim, p_stop, p_cause,
                    p_user, p_calling, p_called, p_nas_ip, p_nas_id, p_nas_port, p_nas_port_id, p_sid)
             AS u(key, addr, kind, first, last, start, est, interim, stop, cause, usr, calling, called,
                  nas_ip, nas_id, nas_port, nas_port_id, sid)
        WHERE u.key IS NOT NULL AND u.addr IS NOT NULL AND u.first IS NOT NULL AND u.last IS NOT NULL
        GROUP BY u.key, u.addr::inet
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
            user_name = coalesce(l.user_name, excluded.user_name),
            calling_station_id = coalesce(l.calling_station_id, excluded.calling_station_id),
            called_station_id = coalesce(l.called_station_id, excluded.called_station_id),
            nas_ip = coalesce(l.nas_ip, excluded.nas_ip),
            nas_identifier = coalesce(l.nas_identifier, excluded.nas_identifier),
            nas_port = coalesce(l.nas_port, excluded.nas_port),
            nas_port_id = coalesce(l.nas_port_id, excluded.nas_port_id),
            acct_session_id = coalesce(l.acct_session_id, excluded.acct_session_id)
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
                                    least(v_h, (SELECT max(b.new_hi AT TIME ZONE 'UTC')::date FROM unnest(v_chg) b)));
    -- 2. Days the span no longer reaches (a Stop arrived before last + timeout).
    DELETE FROM spoor.lease_seg s USING unnest(v_chg) b
    WHERE s.session_key = b.session_key AND s.addr = b.addr
      AND s.day > (b.new_hi AT TIME ZONE 'UTC')::date
      AND s.day <= (b.old_hi AT TIME ZONE 'UTC')::date
      -- new_hi is at least the batch's earliest event: a bound to prune on.
      AND s.day >= (p_lo AT TIME ZONE 'UTC')::date;
    -- 3. The days whose segment changed (1. above).  Not past the horizon (0.).
    INSERT INTO spoor.lease_seg AS s (day, addr, session_key, seg_lo, seg_hi)
    SELECT d::date, b.addr, b.session_key,
           greatest(b.new_lo, (d::date)::timestamp AT TIME ZONE 'UTC'),
           least(b.new_end, (d::date + 1)::timestamp AT TIME ZONE 'UTC')
    FROM unnest(v_chg) b
    CROSS JOIN LATERAL generate_series((b.new_lo AT TIME ZONE 'UTC')::date,
                                       least((b.new_hi AT TIME ZONE 'UTC')::date, v_h),
                                       interval '1 day') AS d
    WHERE b.old_lo IS NULL
       OR (b.new_lo IS DISTINCT FROM b.old_lo AND d::date <= (b.old_lo AT TIME ZONE 'UTC')::date)
       OR (b.new_end IS DISTINCT FROM b.old_end
           AND d::date >= least((b.old_hi AT TIME ZONE 'UTC')::date, (b.new_hi AT TIME ZONE 'UTC')::date))
    ON CONFLICT (day, session_key, addr) DO UPDATE SET seg_lo = excluded.seg_lo, seg_hi = excluded.seg_hi;
    RETURN n;
END
$function$;
ALTER FUNCTION spoor.lease_merge_rows(p_key text[], p_addr text[], p_kind smallint[], p_first timestamp with time zone[], p_last timestamp with time zone[], p_start timestamp with time zone[], p_est timestamp with time zone[], p_interim boolean[], p_stop timestamp with time zone[], p_cause text[], p_user text[], p_calling text[], p_called text[], p_nas_ip text[], p_nas_id text[], p_nas_port bigint[], p_nas_port_id text[], p_sid text[], p_lo timestamp with time zone, p_timeout interval, p_open_max interval) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.lease_merge_rows(p_key text[], p_addr text[], p_kind smallint[], p_first timestamp with time zone[], p_last timestamp with time zone[], p_start timestamp with time zone[], p_est timestamp with time zone[], p_interim boolean[], p_stop timestamp with time zone[], p_cause text[], p_user text[], p_calling text[], p_called text[], p_nas_ip text[], p_nas_id text[], p_nas_port bigint[], p_nas_port_id text[], p_sid text[], p_lo timestamp with time zone, p_timeout interval, p_open_max interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.lease_merge_rows(p_key text[], p_addr text[], p_kind smallint[], p_first timestamp with time zone[], p_last timestamp with time zone[], p_start timestamp with time zone[], p_est timestamp with time zone[], p_interim boolean[], p_stop timestamp with time zone[], p_cause text[], p_user text[], p_calling text[], p_called text[], p_nas_ip text[], p_nas_id text[], p_nas_port bigint[], p_nas_port_id text[], p_sid text[], p_lo timestamp with time zone, p_timeout interval, p_open_max interval) TO spoor_ingest;

CREATE OR REPLACE FUNCTION spoor.partition_create(p_tbl text, p_key_type text, p_day date)
 RETURNS boolean
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_part text := p_tbl || '_' || to_char(p_day, 'YYYYMMDD');
BEGIN
    IF to_regclass('spoor.' || v_part) IS NOT NULL
       OR EXISTS (SELECT 1 FROM spoor.retention_dropped r WHERE r.tbl = p_tbl AND r.day = p_day) THEN
        RETURN false;
    END IF;
    IF p_key_type = 'date' THEN
        EXECUTE format('CREATE TABLE spoor.%I PARTITION OF spoor.%I FOR VALUES FROM (%L) TO (%L)%s',
                       v_part, p_tbl, p_day, p_day + 1,
                       CASE WHEN p_tbl = 'lease_seg' THEN ' WITH (fillfactor = 70)' ELSE '' END);
    ELSE
        EXECUTE format('CREATE TABLE spoor.%I PARTITION OF spoor.%I FOR VALUES FROM (%L) TO (%L)',
                       v_part, p_tbl, p_day::text || ' 00:00:00+00', (p_day + 1)::text || ' 00:00:00+00');
    END IF;
    RETURN true;
END
$function$;
ALTER FUNCTION spoor.partition_create(p_tbl text, p_key_type text, p_day date) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.partition_create(p_tbl text, p_key_type text, p_day date) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.mta_hosts()
 RETURNS text
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT coalesce(string_agg(host, ',' ORDER BY host), '') FROM spoor.mta_host WHERE host <> ''
$function$;
ALTER FUNCTION spoor.mta_hosts() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.mta_hosts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.mta_hosts() TO spoor_analyst;
GRANT EXECUTE ON FUNCTION spoor.mta_hosts() TO spoor_approver;
GRANT EXECUTE ON FUNCTION spoor.mta_hosts() TO spoor_auditor;
GRANT EXECUTE ON FUNCTION spoor.mta_hosts() TO spoor_admin;

-- The partitions a batch will need, made before the batch's transaction,
-- in one of their own: its days, and for the lease index every day from the
-- lease horizon up to them (the day roll inside lease_merge_rows then finds
-- them made).  Creating a partition locks its parent table against every
-- reader until commit; inside a batch that stalled lookups, and a lookup
-- already holding the lease table deadlocked with it, again at every retry
-- (seen in make bench: lookups under ingest).  At most 400 days back.
CREATE OR REPLACE FUNCTION spoor.ingest_prepare(p_lo date, p_hi date)
 RETURNS integer
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_h date := (SELECT h.day FROM spoor.lease_horizon h);
BEGIN
    IF p_lo IS NULL OR p_hi IS NULL OR p_hi < p_lo THEN
        RETURN 0;
    END IF;
    RETURN spoor.ensure_partitions(greatest(least(p_lo, coalesce(v_h + 1, p_lo)), p_hi - 400), p_hi);
END
$function$;
ALTER FUNCTION spoor.ingest_prepare(p_lo date, p_hi date) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.ingest_prepare(p_lo date, p_hi date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.ingest_prepare(p_lo date, p_hi date) TO spoor_ingest;

CREATE OR REPLACE FUNCTION spoor.session_yield(p_nice integer)
 RETURNS integer
 LANGUAGE c
 STRICT
AS 'spoor_evidence', $function$spoor_session_yield$function$;
REVOKE ALL ON FUNCTION spoor.session_yield(p_nice integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.session_yield(p_nice integer) TO spoor_ingest;
