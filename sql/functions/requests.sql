CREATE OR REPLACE FUNCTION spoor.request_create(p_case text, p_authority text, p_basis text, p_contact text, p_kind text, p_received timestamp with time zone, p_deadline timestamp with time zone, p_window_lo timestamp with time zone, p_window_hi timestamp with time zone, p_max_lookups integer, p_scope jsonb)
 RETURNS bigint
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_id bigint;
    s jsonb;
    v_value text;
BEGIN
    INSERT INTO spoor.request (case_ref, authority, legal_basis, contact, kind, received_at, deadline,
                               window_lo, window_hi, max_lookups)
    VALUES (p_case, p_authority, p_basis, p_contact, p_kind, p_received, p_deadline, p_window_lo,
            p_window_hi, coalesce(p_max_lookups, 20))
    RETURNING request_id INTO v_id;
    IF p_scope IS NULL OR jsonb_array_length(p_scope) = 0 THEN
        RAISE EXCEPTION 'a request must name at least one identifier' USING ERRCODE = '22023';
    END IF;
    FOR s IN SELECT * FROM jsonb_array_elements(p_scope) LOOP
        v_value := s->>'value';
        IF s->>'kind' = 'ip' THEN
            -- An address, or a prefix no wider than /24 (IPv4) or /48 (IPv6):
            -- an order names a line, not a network.
            IF (family(v_value::inet) = 4 AND masklen(v_value::inet) < 24)
               OR (family(v_value::inet) = 6 AND masklen(v_value::inet) < 48) THEN
                RAISE EXCEPTION 'scope %: address range too wide for a targeted request', v_value
                    USING ERRCODE = '22023';
            END IF;
            v_value := v_value::inet::text;
        ELSIF s->>'kind' = 'message_id' THEN
            v_value := spoor.msgid_normalize(v_value);
        END IF;
        INSERT INTO spoor.request_scope VALUES (v_id, s->>'kind', v_value, (s->>'port')::integer)
        ON CONFLICT DO NOTHING;  -- an identifier named twice is named once
    END LOOP;
    PERFORM spoor.audit_append('request.create', v_id,
        jsonb_build_object('case_ref', p_case, 'authority', p_authority, 'legal_basis', p_basis,
                           'kind', p_kind, 'window', jsonb_build_array(p_window_lo, p_window_hi),
                           'scope', p_scope), 'ok', NULL);
    RETURN v_id;
END
$function$;
ALTER FUNCTION spoor.request_create(p_case text, p_authority text, p_basis text, p_contact text, p_kind text, p_received timestamp with time zone, p_deadline timestamp with time zone, p_window_lo timestamp with time zone, p_window_hi timestamp with time zone, p_max_lookups integer, p_scope jsonb) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.request_create(p_case text, p_authority text, p_basis text, p_contact text, p_kind text, p_received timestamp with time zone, p_deadline timestamp with time zone, p_window_lo timestamp with time zone, p_window_hi timestamp with time zone, p_max_lookups integer, p_scope jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.request_create(p_case text, p_authority text, p_basis text, p_contact text, p_kind text, p_received timestamp with time zone, p_deadline timestamp with time zone, p_window_lo timestamp with time zone, p_window_hi timestamp with time zone, p_max_lookups integer, p_scope jsonb) TO spoor_analyst;

CREATE OR REPLACE FUNCTION spoor.request_decide(p_request bigint, p_approve boolean, p_note text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    r spoor.request;
    v_action text := CASE WHEN p_approve THEN 'request.approve' ELSE 'request.reject' END;
BEGIN
    SELECT * INTO r FROM spoor.request WHERE request_id = p_request FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM spoor.audit_append(v_action, p_request, jsonb_build_object('note', p_note), 'denied', 'no such request');
        RETURN jsonb_build_object('status', 'denied', 'reason', 'no such request');
    END IF;
    IF r.created_by = spoor.actor() THEN
        PERFORM spoor.audit_append(v_action, p_request, jsonb_build_object('note', p_note), 'denied',
                                   'four eyes: the recorder cannot decide');
        RETURN jsonb_build_object('status', 'denied',
                                  'reason', 'four eyes: the person who recorded a request cannot approve or reject it');
    END IF;
    IF r.state <> 'received' THEN
        PERFORM spoor.audit_append(v_action, p_request, jsonb_build_object('note', p_note), 'denied', 'state ' || r.state);
        RETURN jsonb_build_object('status', 'denied', 'reason', 'request is ' || r.state || ', not received');
    END IF;
    -- The requester and an auditor read why an order was refused here, not in
    -- the caller: the CLI and spoor-api check it first, a psql prompt does not.
    IF NOT p_approve AND coalesce(btrim(p_note, E' \t\r\n'), '') = '' THEN
        PERFORM spoor.audit_append(v_action, p_request, jsonb_build_object('note', p_note), 'denied', 'no note');
        RETURN jsonb_build_object('status', 'denied', 'reason', 'a rejection needs a note with the reason');
    END IF;
    UPDATE spoor.request SET state = CASE WHEN p_approve THEN 'approved' ELSE 'rejected' END,
        decided_by = spoor.actor(), decided_at = now(), decision_note = p_note
    WHERE request_id = p_request;
    PERFORM spoor.audit_append(v_action, p_request, jsonb_build_object('note', p_note), 'ok', NULL);
    RETURN jsonb_build_object('status', 'ok', 'request_id', p_request,
                              'state', CASE WHEN p_approve THEN 'approved' ELSE 'rejected' END);
END
$function$;
ALTER FUNCTION spoor.request_decide(p_request bigint, p_approve boolean, p_note text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.request_decide(p_request bigint, p_approve boolean, p_note text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.request_decide(p_request bigint, p_approve boolean, p_note text) TO spoor_approver;

CREATE OR REPLACE FUNCTION spoor.request_list_full()
 RETURNS SETOF jsonb
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT to_jsonb(r) - 'decision_note' || jsonb_build_object('scope',
        (SELECT jsonb_agg(jsonb_build_object('kind', s.kind, 'value', s.value, 'port', s.port)
                          ORDER BY s.kind, s.value)
         FROM spoor.request_scope s WHERE s.request_id = r.request_id))
    FROM spoor.request r ORDER BY r.request_id
$function$;
ALTER FUNCTION spoor.request_list_full() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.request_list_full() FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.request_expire_due()
 RETURNS integer
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    r record;
    n integer := 0;
BEGIN
    FOR r IN SELECT request_id FROM spoor.request
             WHERE state IN ('received', 'approved') AND deadline IS NOT NULL AND deadline < now()
             FOR UPDATE LOOP
        UPDATE spoor.request SET state = 'expired' WHERE request_id = r.request_id;
        PERFORM spoor.audit_append('request.expire', r.request_id, '{}'::jsonb, 'ok', NULL);
        n := n + 1;
    END LOOP;
    RETURN n;
END
$function$;
ALTER FUNCTION spoor.request_expire_due() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.request_expire_due() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.request_expire_due() TO spoor_retention;
GRANT EXECUTE ON FUNCTION spoor.request_expire_due() TO spoor_admin;

CREATE OR REPLACE FUNCTION spoor.request_transition_full(p_request bigint, p_to text, p_note text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    r spoor.request;
    v_ok boolean;
BEGIN
    PERFORM spoor.request_expire_due();
    SELECT * INTO r FROM spoor.request WHERE request_id = p_request FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('status', 'denied', 'reason', 'no such request');
    END IF;
    v_ok := CASE p_to
        WHEN 'cancelled' THEN r.state IN ('received', 'approved', 'executed')
        WHEN 'disclosed' THEN r.state = 'executed'
        WHEN 'closed' THEN r.state IN ('disclosed', 'rejected', 'expired', 'cancelled')
        ELSE false END;
    IF NOT v_ok THEN
        PERFORM spoor.audit_append('request.' || p_to, p_request, jsonb_build_object('note', p_note),
                                   'denied', 'from ' || r.state);
        RETURN jsonb_build_object('status', 'denied', 'reason',
                                  format('a %s request cannot become %s', r.state, p_to));
    END IF;
    UPDATE spoor.request SET state = p_to,
        decision_note = coalesce(decision_note || E'\n', '') || coalesce(p_note, '')
    WHERE request_id = p_request;
    PERFORM spoor.audit_append('request.' || p_to, p_request, jsonb_build_object('note', p_note), 'ok', NULL);
    RETURN jsonb_build_object('status', 'ok', 'request_id', p_request, 'state', p_to);
END
$function$;
ALTER FUNCTION spoor.request_transition_full(p_request bigint, p_to text, p_note text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.request_transition_full(p_request bigint, p_to text, p_note text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.request_show_full(p_request bigint)
 RETURNS jsonb
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT to_jsonb(r) || jsonb_build_object(
        'scope', (SELECT jsonb_agg(jsonb_build_object('kind', s.kind, 'value', s.value, 'port', s.port)
                                   ORDER BY s.kind, s.value)
                  FROM spoor.request_scope s WHERE s.request_id = r.request_id),
        'audit', (SELECT jsonb_agg(jsonb_build_object('seq', a.seq, 'at', a.at, 'actor', a.actor,
                                                      'action', a.action, 'outcome', a.outcome)
                                   ORDER BY a.seq)
                  FROM spoor.audit a WHERE a.request_id = r.request_id))
    FROM spoor.request r WHERE r.request_id = p_request
$function$;
ALTER FUNCTION spoor.request_show_full(p_request bigint) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.request_show_full(p_request bigint) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.result_keep(p_request bigint, p_action text, p_res jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_seq bigint;
    v_reveal bigint;
    v_accounts text[];
    v_ident jsonb;
    v_sub boolean;
BEGIN
    IF p_res->>'status' IS DISTINCT FROM 'ok' THEN
        RETURN p_res;
    END IF;
    SELECT max(seq) INTO v_seq FROM spoor.audit;
    INSERT INTO spoor.request_result VALUES (p_request, v_seq, p_action, p_res);
    SELECT subscriber_data INTO v_sub FROM spoor.request WHERE request_id = p_request;
    IF NOT v_sub THEN
        RETURN p_res;
    END IF;
    -- The holders of the sessions the answer names (not the neighbours it
    -- shows around a gap).
    SELECT array_agg(DISTINCT j.v #>> '{}' ORDER BY j.v #>> '{}') INTO v_accounts
    FROM (SELECT jsonb_path_query(p_res, 'lax $.sessions[*].user_name')
          UNION ALL
          SELECT jsonb_path_query(p_res, 'lax $.submissions[*].session_trace.sessions[*].user_name')) j(v)
    WHERE jsonb_typeof(j.v) = 'string';
    v_ident := spoor_identity.reveal(p_request, coalesce(v_accounts, '{}'));
    IF v_ident IS NULL THEN
        RETURN p_res;
    END IF;
    v_ident := jsonb_build_object('subscribers', v_ident);
    v_reveal := spoor.audit_append('subscriber.reveal', p_request,
        jsonb_build_object('accounts', to_jsonb(coalesce(v_accounts, '{}')), 'for_seq', v_seq), 'ok',
        encode(sha256(convert_to(v_ident::text, 'UTF8')), 'hex'));
    INSERT INTO spoor.request_result VALUES (p_request, v_reveal, 'subscriber.reveal', v_ident);
    RETURN p_res || v_ident;
END
$function$;
ALTER FUNCTION spoor.result_keep(p_request bigint, p_action text, p_res jsonb) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.result_keep(p_request bigint, p_action text, p_res jsonb) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.request_create(p_case text, p_authority text, p_basis text, p_contact text, p_kind text, p_received timestamp with time zone, p_deadline timestamp with time zone, p_window_lo timestamp with time zone, p_window_hi timestamp with time zone, p_max_lookups integer, p_scope jsonb, p_options jsonb)
 RETURNS bigint
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_id bigint;
    v_opt jsonb := coalesce(p_options, '{}'::jsonb);
BEGIN
    v_id := spoor.request_create(p_case, p_authority, p_basis, p_contact, p_kind, p_received,
                                 p_deadline, p_window_lo, p_window_hi, p_max_lookups, p_scope);
    IF v_opt <> '{}'::jsonb THEN
        UPDATE spoor.request SET subscriber_data = coalesce((v_opt->>'subscriber_data')::boolean, false),
            hold_mode = coalesce(v_opt->>'hold_mode', 'records'),
            hold_days = coalesce((v_opt->>'hold_days')::integer, 90)
        WHERE request_id = v_id;
        PERFORM spoor.audit_append('request.options', v_id, v_opt, 'ok', NULL);
    END IF;
    RETURN v_id;
END
$function$;
ALTER FUNCTION spoor.request_create(p_case text, p_authority text, p_basis text, p_contact text, p_kind text, p_received timestamp with time zone, p_deadline timestamp with time zone, p_window_lo timestamp with time zone, p_window_hi timestamp with time zone, p_max_lookups integer, p_scope jsonb, p_options jsonb) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.request_create(p_case text, p_authority text, p_basis text, p_contact text, p_kind text, p_received timestamp with time zone, p_deadline timestamp with time zone, p_window_lo timestamp with time zone, p_window_hi timestamp with time zone, p_max_lookups integer, p_scope jsonb, p_options jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.request_create(p_case text, p_authority text, p_basis text, p_contact text, p_kind text, p_received timestamp with time zone, p_deadline timestamp with time zone, p_window_lo timestamp with time zone, p_window_hi timestamp with time zone, p_max_lookups integer, p_scope jsonb, p_options jsonb) TO spoor_analyst;

CREATE OR REPLACE FUNCTION spoor.request_preserve_trg()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_hold bigint;
BEGIN
    IF NEW.kind = 'preservation' AND NEW.state = 'approved' AND OLD.state = 'received' THEN
        NEW.state := 'executed';
        INSERT INTO spoor.hold (request_id, mode, window_lo, window_hi, expires_at, created_by)
        VALUES (NEW.request_id, NEW.hold_mode, NEW.window_lo, NEW.window_hi,
                now() + make_interval(days => NEW.hold_days), spoor.actor())
        RETURNING hold_id INTO v_hold;
        PERFORM spoor.audit_append('hold.create', NEW.request_id,
            jsonb_build_object('hold_id', v_hold, 'mode', NEW.hold_mode,
                               'window', jsonb_build_array(NEW.window_lo, NEW.window_hi),
                               'days', NEW.hold_days), 'ok', NULL);
    END IF;
    RETURN NEW;
END
$function$;
ALTER FUNCTION spoor.request_preserve_trg() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.request_preserve_trg() FROM PUBLIC;
CREATE OR REPLACE TRIGGER request_preserve BEFORE UPDATE OF state ON spoor.request FOR EACH ROW EXECUTE FUNCTION spoor.request_preserve_trg();

CREATE OR REPLACE FUNCTION spoor.request_export_full(p_request bigint)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    r spoor.request;
    v jsonb;
BEGIN
    SELECT * INTO r FROM spoor.request WHERE request_id = p_request;
    IF NOT FOUND OR r.state NOT IN ('executed', 'disclosed', 'closed') THEN
        PERFORM spoor.audit_append('request.export', p_request, '{}'::jsonb, 'denied',
                                   CASE WHEN NOT FOUND THEN 'no such request' ELSE 'state ' || r.state END);
        RETURN spoor.read_record(p_request, 'request.export', NULL, jsonb_build_object('status', 'denied', 'reason',
            CASE WHEN NOT FOUND THEN 'no such request'
                 ELSE 'request is ' || r.state || ': only an executed request has results to export' END));
    END IF;
    -- The export's own entry comes first, so the package's audit list ends
    -- with it; the data comes from lookup_answer once it has committed.
    PERFORM spoor.audit_append('request.export', p_request, '{}'::jsonb, 'ok', NULL);
    RETURN spoor.read_record(p_request, 'request.export', NULL, NULL);
END
$function$;
ALTER FUNCTION spoor.request_export_full(p_request bigint) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.request_export_full(p_request bigint) FROM PUBLIC;

-- An export's data, for lookup_answer (the export recorded and committed).
CREATE OR REPLACE FUNCTION spoor.request_export_answer(p_request bigint)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    r spoor.request;
    v jsonb;
BEGIN
    SELECT * INTO r FROM spoor.request WHERE request_id = p_request;
    v := jsonb_build_object('status', 'ok', 'exported_by', spoor.actor(),
        'request', to_jsonb(r),
        'scope', (SELECT coalesce(jsonb_agg(jsonb_build_object('kind', s.kind, 'value', s.value, 'port', s.port)
                                            ORDER BY s.kind, s.value), '[]')
                  FROM spoor.request_scope s WHERE s.request_id = p_request),
        'holds', (SELECT coalesce(jsonb_agg(to_jsonb(h) ORDER BY h.hold_id), '[]')
                  FROM spoor.hold h WHERE h.request_id = p_request),
        'results', (SELECT coalesce(jsonb_agg(jsonb_build_object('audit_seq', x.audit_seq, 'action', x.action,
                                                                 'result_text', x.result::text) ORDER BY x.audit_seq), '[]')
                    FROM spoor.request_result x WHERE x.request_id = p_request),
        'audit', (SELECT jsonb_agg(jsonb_build_object(
                        'seq', a.seq,
                        'at', to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                        'actor', a.actor, 'action', a.action, 'request_id', a.request_id,
                        'params', a.params::text, 'outcome', a.outcome, 'result_digest', a.result_digest,
                        'prev_hash', encode(a.prev_hash, 'hex'), 'hash', encode(a.hash, 'hex'))
                        ORDER BY a.seq)
                  FROM spoor.audit a WHERE a.request_id = p_request));
    RETURN v;
END
$function$;
ALTER FUNCTION spoor.request_export_answer(p_request bigint) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.request_export_answer(p_request bigint) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.report(p_year integer, p_risk interval, p_hold_warn interval)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_year integer := coalesce(p_year, extract(year FROM now() AT TIME ZONE 'UTC')::integer);
    v_lo timestamptz := make_timestamptz(v_year, 1, 1, 0, 0, 0, 'UTC');
    v_hi timestamptz := make_timestamptz(v_year + 1, 1, 1, 0, 0, 0, 'UTC');
    v jsonb;
BEGIN
    PERFORM spoor.request_expire_due();
    PERFORM spoor.hold_expire_due();
    WITH yr AS (SELECT * FROM spoor.request WHERE received_at >= v_lo AND received_at < v_hi)
    SELECT jsonb_build_object(
        'generated_at', now(), 'year', v_year,
        'open_requests', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                'request_id', r.request_id,
                -- Need to know: the reference and authority of one's own cases only.
                'case_ref', CASE WHEN m.mine THEN r.case_ref END, 'authority', CASE WHEN m.mine THEN r.authority END,
                'kind', r.kind, 'state', r.state, 'deadline', r.deadline,
                'at_risk', r.deadline IS NOT NULL AND r.deadline < now() + coalesce(p_risk, interval '3 days'))
                ORDER BY r.deadline NULLS LAST, r.request_id), '[]')
            FROM spoor.request r
            CROSS JOIN LATERAL (SELECT spoor.case_access(r.request_id)
                                       IN ('recorder', 'approver', 'assigned', 'deciding') AS mine) m
            WHERE r.state IN ('received', 'approved', 'executed', 'disclosed')),
        'holds_expiring', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                'hold_id', h.hold_id, 'request_id', h.request_id, 'expires_at', h.expires_at,
                'renewals', h.renewals) ORDER BY h.expires_at), '[]')
            FROM spoor.hold h WHERE h.state = 'active'
              AND h.expires_at < now() + coalesce(p_hold_warn, interval '14 days')),
        'active_holds', (SELECT count(*) FROM spoor.hold WHERE state = 'active'),
        'figures', jsonb_build_object(
            'received', (SELECT count(*) FROM yr),
            'approved', (SELECT count(*) FROM yr WHERE decided_by IS NOT NULL
                            AND state NOT IN ('rejected', 'received')),
            'rejected', (SELECT count(*) FROM yr WHERE state = 'rejected'),
            'cancelled', (SELECT count(*) FROM yr WHERE state = 'cancelled'),
            'expired', (SELECT count(*) FROM yr WHERE state = 'expired'),
            'disclosed', (SELECT count(*) FROM yr WHERE state IN ('disclosed', 'closed')
                             AND decided_by IS NOT NULL AND kind = 'disclosure'),
            'by_authority', (SELECT coalesce(jsonb_object_agg(authority, n), '{}')
                             FROM (SELECT authority, count(*) AS n FROM yr GROUP BY 1) x),
            'by_kind', (SELECT coalesce(jsonb_object_agg(kind, n), '{}')
                        FROM (SELECT kind, count(*) AS n FROM yr GROUP BY 1) x),
            'by_legal_basis', (SELECT coalesce(jsonb_object_agg(legal_basis, n), '{}')
                               FROM (SELECT legal_basis, count(*) AS n FROM yr GROUP BY 1) x),
            'lookups', (SELECT count(*) FROM spoor.audit WHERE action LIKE 'trace.%' AND outcome = 'ok'
                          AND at >= v_lo AND at < v_hi),
            'lookups_denied', (SELECT count(*) FROM spoor.audit WHERE action LIKE 'trace.%'
                                 AND outcome = 'denied' AND at >= v_lo AND at < v_hi),
            'subscriber_reveals', (SELECT count(*) FROM spoor.audit WHERE action = 'subscriber.reveal'
                                     AND at >= v_lo AND at < v_hi)),
        'subscribers_loaded', spoor_identity.subscriber_count())
    INTO v;
    -- Its entry records what it says (the SHA-256 of the report); the report
    -- itself, kept with the ticket as it was made, comes from lookup_answer
    -- once the entry has committed.
    PERFORM spoor.audit_append('report', NULL, jsonb_build_object('year', v_year), 'ok',
                               encode(sha256(convert_to(v::text, 'UTF8')), 'hex'));
    RETURN spoor.read_record(NULL, 'report', jsonb_build_object('answer', v), NULL);
END
$function$;
ALTER FUNCTION spoor.report(p_year integer, p_risk interval, p_hold_warn interval) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.report(p_year integer, p_risk interval, p_hold_warn interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.report(p_year integer, p_risk interval, p_hold_warn interval) TO spoor_auditor;
GRANT EXECUTE ON FUNCTION spoor.report(p_year integer, p_risk interval, p_hold_warn interval) TO spoor_approver;
GRANT EXECUTE ON FUNCTION spoor.report(p_year integer, p_risk interval, p_hold_warn interval) TO spoor_admin;

CREATE OR REPLACE FUNCTION spoor.case_access(p_request bigint)
 RETURNS text
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT CASE
        WHEN r.created_by = spoor.actor() THEN 'recorder'
        WHEN r.decided_by = spoor.actor() THEN 'approver'
        WHEN EXISTS (SELECT 1 FROM spoor.request_member m
                     WHERE m.request_id = r.request_id AND m.person = spoor.actor()) THEN 'assigned'
        WHEN r.state = 'received' AND spoor.actor_in('spoor_approver') THEN 'deciding'
        WHEN spoor.actor_in('spoor_auditor') THEN 'auditor'
    END
    FROM spoor.request r WHERE r.request_id = p_request
$function$;
ALTER FUNCTION spoor.case_access(p_request bigint) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.case_access(p_request bigint) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.case_refusal(p_request bigint, p_allowed text[], p_action text, p_params jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
BEGIN
    IF coalesce(spoor.case_access(p_request), 'none') = ANY (p_allowed) THEN
        RETURN NULL;
    END IF;
    PERFORM spoor.audit_append(p_action, p_request, p_params, 'denied', 'not on the case');
    RETURN jsonb_build_object('status', 'denied', 'reason', 'you are not on this case');
END
$function$;
ALTER FUNCTION spoor.case_refusal(p_request bigint, p_allowed text[], p_action text, p_params jsonb) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.case_refusal(p_request bigint, p_allowed text[], p_action text, p_params jsonb) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.case_outline(r spoor.request)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT jsonb_build_object('request_id', r.request_id, 'kind', r.kind, 'state', r.state,
                              'on_case', false)
$function$;
ALTER FUNCTION spoor.case_outline(r spoor.request) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.case_outline(r spoor.request) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.request_assign(p_request bigint, p_person name)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    r spoor.request;
    v_params jsonb := jsonb_build_object('person', p_person);
    v_why text;
BEGIN
    SELECT * INTO r FROM spoor.request WHERE request_id = p_request;
    IF NOT FOUND THEN
        v_why := 'no such request';
    ELSIF r.decided_by IS DISTINCT FROM spoor.actor() OR r.state NOT IN ('approved', 'executed') THEN
        v_why := 'only the approver who approved a request assigns analysts to it';
    ELSIF p_person IS NULL OR NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_person AND rolcanlogin)
          OR NOT pg_has_role(p_person, 'spoor_analyst', 'MEMBER') THEN
        v_why := format('%s is not an analyst', p_person);
    ELSIF p_person = spoor.actor() THEN
        v_why := 'an approver cannot assign themselves';
    END IF;
    IF v_why IS NOT NULL THEN
        PERFORM spoor.audit_append('request.assign', p_request, v_params, 'denied', v_why);
        RETURN jsonb_build_object('status', 'denied', 'reason', v_why);
    END IF;
    INSERT INTO spoor.request_member (request_id, person, assigned_by)
    VALUES (p_request, p_person, spoor.actor()) ON CONFLICT DO NOTHING;
    PERFORM spoor.audit_append('request.assign', p_request, v_params, 'ok', NULL);
    RETURN jsonb_build_object('status', 'ok', 'request_id', p_request, 'assigned', p_person);
END
$function$;
ALTER FUNCTION spoor.request_assign(p_request bigint, p_person name) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.request_assign(p_request bigint, p_person name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.request_assign(p_request bigint, p_person name) TO spoor_approver;

CREATE OR REPLACE FUNCTION spoor.case_people(p_request bigint)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT jsonb_build_object('recorder', r.created_by, 'approver', r.decided_by,
        'assigned', (SELECT coalesce(jsonb_agg(m.person ORDER BY m.person), '[]')
                     FROM spoor.request_member m WHERE m.request_id = r.request_id))
    FROM spoor.request r WHERE r.request_id = p_request
$function$;
ALTER FUNCTION spoor.case_people(p_request bigint) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.case_people(p_request bigint) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.request_show(p_request bigint)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_access text := spoor.case_access(p_request);
    r spoor.request;
BEGIN
    SELECT * INTO r FROM spoor.request WHERE request_id = p_request;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF v_access IS NULL THEN
        RETURN spoor.case_outline(r);
    END IF;
    IF v_access = 'auditor' THEN
        -- An auditor's reading is audited, so it is answered once that has
        -- committed (lookup_answer).
        PERFORM spoor.audit_append('case.read', p_request, '{"what": "show"}', 'ok', NULL);
        RETURN spoor.read_record(p_request, 'case.read', NULL, NULL);
    END IF;
    RETURN spoor.request_show_answer(p_request);
END
$function$;
ALTER FUNCTION spoor.request_show(p_request bigint) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.request_show(p_request bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.request_show(p_request bigint) TO spoor_analyst;
GRANT EXECUTE ON FUNCTION spoor.request_show(p_request bigint) TO spoor_approver;
GRANT EXECUTE ON FUNCTION spoor.request_show(p_request bigint) TO spoor_auditor;

-- A case as its people see it (request_show, and lookup_answer for an
-- auditor's recorded reading).
CREATE OR REPLACE FUNCTION spoor.request_show_answer(p_request bigint)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT spoor.request_show_full(p_request) || jsonb_build_object('on_case', true,
        'access', spoor.case_access(p_request), 'people', spoor.case_people(p_request))
$function$;
ALTER FUNCTION spoor.request_show_answer(p_request bigint) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.request_show_answer(p_request bigint) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.request_list()
 RETURNS SETOF jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    x jsonb;
    a text;
BEGIN
    -- An auditor's list is the outline too (number, kind, state): what a
    -- case says is read through request_show, one audited reading a case,
    -- answered once its entry has committed.  (The list gave every case's
    -- contents under one case.read entry, written in the same transaction
    -- as the data: a rolled-back list kept them.)
    FOR x IN SELECT * FROM spoor.request_list_full() LOOP
        a := spoor.case_access((x->>'request_id')::bigint);
        IF a IS NULL OR a = 'auditor' THEN
            RETURN NEXT jsonb_build_object('request_id', (x->>'request_id')::bigint, 'kind', x->>'kind',
                                           'state', x->>'state', 'on_case', false)
                        || CASE WHEN a = 'auditor' THEN '{"access": "auditor"}'::jsonb ELSE '{}' END;
        ELSE
            RETURN NEXT x || jsonb_build_object('on_case', true, 'access', a);
        END IF;
    END LOOP;
    RETURN;
END
$function$;
ALTER FUNCTION spoor.request_list() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.request_list() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.request_list() TO spoor_analyst;
GRANT EXECUTE ON FUNCTION spoor.request_list() TO spoor_approver;
GRANT EXECUTE ON FUNCTION spoor.request_list() TO spoor_auditor;

CREATE OR REPLACE FUNCTION spoor.request_export(p_request bigint)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v jsonb := spoor.case_refusal(p_request, '{recorder,approver,assigned,auditor}', 'request.export', '{}');
BEGIN
    IF v IS NOT NULL THEN
        RETURN spoor.read_record(p_request, 'request.export', NULL, v);
    END IF;
    RETURN spoor.request_export_full(p_request);
END
$function$;
ALTER FUNCTION spoor.request_export(p_request bigint) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.request_export(p_request bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.request_export(p_request bigint) TO spoor_analyst;
GRANT EXECUTE ON FUNCTION spoor.request_export(p_request bigint) TO spoor_approver;
GRANT EXECUTE ON FUNCTION spoor.request_export(p_request bigint) TO spoor_auditor;

CREATE OR REPLACE FUNCTION spoor.request_transition(p_request bigint, p_to text, p_note text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
BEGIN
    -- Only the three transitions there are: the audit entry is named after
    -- P_TO, refused or not, so anything else would write a made-up action.
    IF p_to IS NULL OR p_to NOT IN ('cancelled', 'disclosed', 'closed') THEN
        RETURN jsonb_build_object('status', 'denied', 'reason',
                                  'a request can be cancelled, disclosed or closed, nothing else');
    END IF;
    RETURN coalesce(spoor.case_refusal(p_request, '{recorder,approver,assigned}', 'request.' || p_to,
                                       jsonb_build_object('note', p_note)),
                    spoor.request_transition_full(p_request, p_to, p_note));
END
$function$;
ALTER FUNCTION spoor.request_transition(p_request bigint, p_to text, p_note text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.request_transition(p_request bigint, p_to text, p_note text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.request_transition(p_request bigint, p_to text, p_note text) TO spoor_analyst;
GRANT EXECUTE ON FUNCTION spoor.request_transition(p_request bigint, p_to text, p_note text) TO spoor_approver;
