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

DROP FUNCTION lease_merge(bigint[], timestamptz, timestamptz, interval, interval);
DROP FUNCTION lease_merge_core(bigint[], timestamptz, timestamptz, interval, interval);
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

-- One row per (session, address) of the batch, aggregated by the caller:
-- p_kind 1 Framed-IP-Address, 2 Framed-IPv6-Prefix, 3 Delegated-IPv6-Prefix;
-- p_first/p_last the earliest and latest event; p_start the earliest Start;
-- p_est the earliest (event - Acct-Session-Time) of an Interim-Update or
-- Stop; p_interim whether an Interim-Update was seen; p_stop the latest Stop
-- and p_cause its Acct-Terminate-Cause; the rest the session's identity.
-- p_lo is the batch's earliest event.  Rows naming the same address in two
-- spellings are grouped again here, by the address as inet.
CREATE FUNCTION lease_merge_rows(
    p_key text[], p_addr text[], p_kind smallint[], p_first timestamptz[], p_last timestamptz[],
    p_start timestamptz[], p_est timestamptz[], p_interim boolean[], p_stop timestamptz[],
    p_cause text[], p_user text[], p_calling text[], p_called text[], p_nas_ip text[],
    p_nas_id text[], p_nas_port bigint[], p_nas_port_id text[], p_sid text[],
    p_lo timestamptz, p_timeout interval, p_open_max interval)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    v_chg spoor.lease_chg[];
    n integer;
    v_h date;     -- the horizon before this batch
    v_new date;   -- the batch's latest day
BEGIN
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
$$;

RESET ROLE;
REVOKE ALL ON FUNCTION spoor.lease_merge_rows(text[], text[], smallint[], timestamptz[], timestamptz[],
    timestamptz[], timestamptz[], boolean[], timestamptz[], text[], text[], text[], text[], text[], text[],
    bigint[], text[], text[], timestamptz, interval, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.lease_merge_rows(text[], text[], smallint[], timestamptz[], timestamptz[],
    timestamptz[], timestamptz[], boolean[], timestamptz[], text[], text[], text[], text[], text[], text[],
    bigint[], text[], text[], timestamptz, interval, interval) TO spoor_ingest;
