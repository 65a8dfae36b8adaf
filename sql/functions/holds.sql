CREATE OR REPLACE FUNCTION spoor.hold_expire_due()
 RETURNS integer
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    h record;
    n integer := 0;
BEGIN
    FOR h IN SELECT hold_id, request_id FROM spoor.hold
             WHERE state = 'active' AND expires_at < now() FOR UPDATE LOOP
        UPDATE spoor.hold SET state = 'expired' WHERE hold_id = h.hold_id;
        PERFORM spoor.audit_append('hold.expire', h.request_id,
                                   jsonb_build_object('hold_id', h.hold_id), 'ok', NULL);
        n := n + 1;
    END LOOP;
    RETURN n;
END
$function$;
ALTER FUNCTION spoor.hold_expire_due() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.hold_expire_due() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.hold_expire_due() TO spoor_retention;
GRANT EXECUTE ON FUNCTION spoor.hold_expire_due() TO spoor_admin;

CREATE OR REPLACE FUNCTION spoor.hold_list()
 RETURNS SETOF jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
BEGIN
    PERFORM spoor.hold_expire_due();
    -- Need to know (014): a hold of a case one is not on (an auditor, the
    -- retention daemon, another analyst) shows its state and expiry, not
    -- the case it preserves (reference, authority, scope, who did what).
    RETURN QUERY
        SELECT CASE WHEN spoor.case_access(h.request_id) IN ('recorder', 'approver', 'assigned')
            THEN to_jsonb(h) || jsonb_build_object('case_ref', r.case_ref, 'authority', r.authority,
                'scope', (SELECT jsonb_agg(jsonb_build_object('kind', s.kind, 'value', s.value, 'port', s.port)
                                           ORDER BY s.kind, s.value)
                          FROM spoor.request_scope s WHERE s.request_id = h.request_id), 'on_case', true)
            ELSE jsonb_build_object('hold_id', h.hold_id, 'request_id', h.request_id, 'mode', h.mode,
                                    'state', h.state, 'expires_at', h.expires_at, 'renewals', h.renewals,
                                    'on_case', false) END
        FROM spoor.hold h JOIN spoor.request r USING (request_id) ORDER BY h.hold_id;
END
$function$;
ALTER FUNCTION spoor.hold_list() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.hold_list() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.hold_list() TO spoor_analyst;
GRANT EXECUTE ON FUNCTION spoor.hold_list() TO spoor_approver;
GRANT EXECUTE ON FUNCTION spoor.hold_list() TO spoor_auditor;
GRANT EXECUTE ON FUNCTION spoor.hold_list() TO spoor_retention;

CREATE OR REPLACE FUNCTION spoor.hold_active(p_hold bigint, OUT h spoor.hold, OUT why text)
 RETURNS record
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
BEGIN
    PERFORM spoor.hold_expire_due();
    SELECT * INTO h FROM spoor.hold WHERE hold_id = p_hold FOR UPDATE;
    why := CASE WHEN h.hold_id IS NULL THEN 'no such hold'
                WHEN h.state <> 'active' THEN 'hold ' || p_hold || ' is ' || h.state || ', not active' END;
END
$function$;
ALTER FUNCTION spoor.hold_active(p_hold bigint, OUT h spoor.hold, OUT why text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.hold_active(p_hold bigint, OUT h spoor.hold, OUT why text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.hold_deny(p_action text, p_request bigint, p_params jsonb, p_why text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
BEGIN
    PERFORM spoor.audit_append(p_action, p_request, p_params, 'denied', p_why);
    RETURN jsonb_build_object('status', 'denied', 'reason', p_why);
END
$function$;
ALTER FUNCTION spoor.hold_deny(p_action text, p_request bigint, p_params jsonb, p_why text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.hold_deny(p_action text, p_request bigint, p_params jsonb, p_why text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.hold_renew_full(p_hold bigint, p_days integer, p_note text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    h spoor.hold;
    v_a record;
    v_why text;
    v_days integer := coalesce(p_days, 90);
    v_exp timestamptz;
BEGIN
    v_a := spoor.hold_active(p_hold);
    h := v_a.h;
    v_why := v_a.why;
    IF v_why IS NULL AND v_days NOT BETWEEN 1 AND 90 THEN
        v_why := 'a renewal is 1 to 90 days';
    END IF;
    IF v_why IS NOT NULL THEN
        RETURN spoor.hold_deny('hold.renew', h.request_id,
            jsonb_build_object('hold_id', p_hold, 'days', p_days, 'note', p_note), v_why);
    END IF;
    -- One renewal adds at most 90 days, and a hold never reaches more than
    -- 180 days ahead: renewing again and again does not stack (2703(f)(2):
    -- 90 days, extended once by another 90 on a renewed request).
    v_exp := least(greatest(h.expires_at, now()) + make_interval(days => v_days),
                   now() + interval '180 days');
    UPDATE spoor.hold SET expires_at = v_exp, renewals = renewals + 1 WHERE hold_id = p_hold;
    PERFORM spoor.audit_append('hold.renew', h.request_id,
        jsonb_build_object('hold_id', p_hold, 'days', v_days, 'expires_at', v_exp, 'note', p_note),
        'ok', NULL);
    RETURN jsonb_build_object('status', 'ok', 'hold_id', p_hold, 'expires_at', v_exp);
END
$function$;
ALTER FUNCTION spoor.hold_renew_full(p_hold bigint, p_days integer, p_note text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.hold_renew_full(p_hold bigint, p_days integer, p_note text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.hold_release_full(p_hold bigint, p_note text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    h spoor.hold;
    v_a record;
    v_why text;
    v_me name := spoor.actor();
BEGIN
    v_a := spoor.hold_active(p_hold);
    h := v_a.h;
    v_why := v_a.why;
    IF v_why IS NOT NULL THEN
        RETURN spoor.hold_deny('hold.release', h.request_id,
                               jsonb_build_object('hold_id', p_hold, 'note', p_note), v_why);
    END IF;
    IF h.release_requested_by IS NULL THEN
        UPDATE spoor.hold SET release_requested_by = v_me, release_requested_at = now(),
            release_note = p_note WHERE hold_id = p_hold;
        PERFORM spoor.audit_append('hold.release_request', h.request_id,
            jsonb_build_object('hold_id', p_hold, 'note', p_note), 'ok', NULL);
        RETURN jsonb_build_object('status', 'ok', 'hold_id', p_hold, 'state', 'active',
            'release', 'requested: a second person must confirm');
    END IF;
    IF h.release_requested_by = v_me THEN
        RETURN spoor.hold_deny('hold.release', h.request_id,
            jsonb_build_object('hold_id', p_hold, 'note', p_note),
            'two people: the person who asked for the release cannot confirm it');
    END IF;
    UPDATE spoor.hold SET state = 'released', released_by = v_me, released_at = now()
    WHERE hold_id = p_hold;
    PERFORM spoor.audit_append('hold.release', h.request_id,
        jsonb_build_object('hold_id', p_hold, 'note', p_note,
                           'requested_by', h.release_requested_by), 'ok', NULL);
    RETURN jsonb_build_object('status', 'ok', 'hold_id', p_hold, 'state', 'released');
END
$function$;
ALTER FUNCTION spoor.hold_release_full(p_hold bigint, p_note text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.hold_release_full(p_hold bigint, p_note text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.held_days()
 RETURNS TABLE(day date, hold_id bigint)
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    WITH h AS (SELECT * FROM spoor.hold WHERE state = 'active' AND expires_at >= now()),
    spans AS (
        SELECT h.hold_id, (h.window_lo AT TIME ZONE 'UTC')::date - 1 AS lo,
               (h.window_hi AT TIME ZONE 'UTC')::date + 1 AS hi
        FROM h
        UNION ALL
        SELECT h.hold_id, min(coalesce(l.start_ts, l.est_start, l.first_ts) AT TIME ZONE 'UTC')::date - 1,
               (h.window_lo AT TIME ZONE 'UTC')::date
        FROM h JOIN spoor.request_scope s ON s.request_id = h.request_id AND s.kind = 'ip'
        JOIN spoor.lease_seg g ON g.addr <<= s.value::inet
             AND g.day BETWEEN (h.window_lo AT TIME ZONE 'UTC')::date AND (h.window_hi AT TIME ZONE 'UTC')::date
        JOIN spoor.lease l ON l.session_key = g.session_key AND l.addr = g.addr
        WHERE h.mode = 'records'
        GROUP BY h.hold_id, h.window_lo
        UNION ALL
        SELECT h.hold_id, min(coalesce(l.start_ts, l.est_start, l.first_ts) AT TIME ZONE 'UTC')::date - 1,
               (h.window_lo AT TIME ZONE 'UTC')::date
        FROM h JOIN spoor.request_scope s ON s.request_id = h.request_id AND s.kind = 'user_name'
        JOIN spoor.lease l ON l.user_name = s.value AND l.first_ts <= h.window_hi AND l.span_hi >= h.window_lo
        WHERE h.mode = 'records'
        GROUP BY h.hold_id, h.window_lo
    )
    SELECT DISTINCT d::date, s.hold_id FROM spans s, generate_series(s.lo, s.hi, interval '1 day') d
    WHERE s.lo IS NOT NULL
$function$;
ALTER FUNCTION spoor.held_days() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.held_days() FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.hold_renew(p_hold bigint, p_days integer, p_note text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_req bigint := (SELECT request_id FROM spoor.hold WHERE hold_id = p_hold);
BEGIN
    -- No such hold: hold_renew_full says so.
    RETURN coalesce(CASE WHEN v_req IS NOT NULL THEN
                        spoor.case_refusal(v_req, '{recorder,approver,assigned}', 'hold.renew',
                                           jsonb_build_object('hold', p_hold)) END,
                    spoor.hold_renew_full(p_hold, p_days, p_note));
END
$function$;
ALTER FUNCTION spoor.hold_renew(p_hold bigint, p_days integer, p_note text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.hold_renew(p_hold bigint, p_days integer, p_note text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.hold_renew(p_hold bigint, p_days integer, p_note text) TO spoor_analyst;
GRANT EXECUTE ON FUNCTION spoor.hold_renew(p_hold bigint, p_days integer, p_note text) TO spoor_approver;

CREATE OR REPLACE FUNCTION spoor.hold_release(p_hold bigint, p_note text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_req bigint := (SELECT request_id FROM spoor.hold WHERE hold_id = p_hold);
BEGIN
    RETURN coalesce(CASE WHEN v_req IS NOT NULL THEN
                        spoor.case_refusal(v_req, '{recorder,approver,assigned}', 'hold.release',
                                           jsonb_build_object('hold', p_hold)) END,
                    spoor.hold_release_full(p_hold, p_note));
END
$function$;
ALTER FUNCTION spoor.hold_release(p_hold bigint, p_note text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.hold_release(p_hold bigint, p_note text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.hold_release(p_hold bigint, p_note text) TO spoor_analyst;
GRANT EXECUTE ON FUNCTION spoor.hold_release(p_hold bigint, p_note text) TO spoor_approver;
