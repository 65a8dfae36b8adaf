-- 014: need to know (issue 17, point 4).
--
-- A case — a request, its scope, results, revealed identities, export and
-- audit entries — is shown only to the people on it: its recorder, the
-- approver who decided it, and the analysts that approver assigned to it
-- (request_member); approvers also read a request while it awaits a
-- decision, since they must see what they approve.  Auditors read every
-- case, and each such reading is itself an audit entry (case.read).
-- Everyone else sees that a case exists (its number, kind and state), not
-- what it holds, and may not run lookups under it, export it or move it
-- on.  The functions that showed a case to anyone who could call them are
-- renamed *_full and reached only through the checks below.
SET LOCAL search_path = spoor, pg_catalog;
SET LOCAL ROLE spoor_owner;

CREATE TABLE request_member (
    request_id  bigint      NOT NULL REFERENCES request,
    person      name        NOT NULL,
    assigned_by name        NOT NULL,
    assigned_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, person)
);
CREATE TRIGGER request_member_append_only BEFORE UPDATE OR DELETE ON request_member
    FOR EACH ROW EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER request_member_no_truncate BEFORE TRUNCATE ON request_member
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();

-- Is the acting person in Spoor group P_GROUP?
CREATE FUNCTION actor_in(p_group name) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, spoor, pg_temp AS $$
    SELECT pg_has_role(spoor.actor(), p_group, 'MEMBER')
$$;

-- How the acting person stands to case P_REQUEST: recorder, approver (who
-- decided it), assigned, deciding (an approver, while it awaits a decision),
-- auditor, or NULL (not on it; also for a request that does not exist).
CREATE FUNCTION case_access(p_request bigint) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, spoor, pg_temp AS $$
    SELECT CASE
        WHEN r.created_by = spoor.actor() THEN 'recorder'
        WHEN r.decided_by = spoor.actor() THEN 'approver'
        WHEN EXISTS (SELECT 1 FROM spoor.request_member m
                     WHERE m.request_id = r.request_id AND m.person = spoor.actor()) THEN 'assigned'
        WHEN r.state = 'received' AND spoor.actor_in('spoor_approver') THEN 'deciding'
        WHEN spoor.actor_in('spoor_auditor') THEN 'auditor'
    END
    FROM spoor.request r WHERE r.request_id = p_request
$$;

-- NULL when the acting person is among P_ALLOWED of case P_REQUEST's people
-- (case_access); else the refusal of P_ACTION, audited.  Every function that
-- works a case asks this first.
CREATE FUNCTION case_refusal(p_request bigint, p_allowed text[], p_action text, p_params jsonb)
RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, spoor, pg_temp AS $$
BEGIN
    IF coalesce(spoor.case_access(p_request), 'none') = ANY (p_allowed) THEN
        RETURN NULL;
    END IF;
    PERFORM spoor.audit_append(p_action, p_request, p_params, 'denied', 'not on the case');
    RETURN jsonb_build_object('status', 'denied', 'reason', 'you are not on this case');
END
$$;

-- What anyone may know of a case they are not on.
CREATE FUNCTION case_outline(r spoor.request) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, spoor, pg_temp AS $$
    SELECT jsonb_build_object('request_id', r.request_id, 'kind', r.kind, 'state', r.state,
                              'on_case', false)
$$;

-- An approver who decided a request assigns analysts to it.
CREATE FUNCTION request_assign(p_request bigint, p_person name) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
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
$$;

-- Who is on a case (for the people on it).
CREATE FUNCTION case_people(p_request bigint) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, spoor, pg_temp AS $$
    SELECT jsonb_build_object('recorder', r.created_by, 'approver', r.decided_by,
        'assigned', (SELECT coalesce(jsonb_agg(m.person ORDER BY m.person), '[]')
                     FROM spoor.request_member m WHERE m.request_id = r.request_id))
    FROM spoor.request r WHERE r.request_id = p_request
$$;

-- Lookups only by the people who work the case: its recorder and the
-- analysts assigned to it.
ALTER FUNCTION gate(bigint, text, text, integer, timestamptz, interval) RENAME TO gate_checks;
CREATE FUNCTION gate(p_request bigint, p_kind text, p_value text, p_port integer,
                     p_at timestamptz, p_tol interval) RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, spoor, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM spoor.request WHERE request_id = p_request)
       AND coalesce(spoor.case_access(p_request), 'none') NOT IN ('recorder', 'assigned') THEN
        RETURN 'you are not on this case: lookups are made by its recorder and the analysts its approver assigned';
    END IF;
    RETURN spoor.gate_checks(p_request, p_kind, p_value, p_port, p_at, p_tol);
END
$$;

ALTER FUNCTION request_show(bigint) RENAME TO request_show_full;
CREATE FUNCTION request_show(p_request bigint) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
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
        PERFORM spoor.audit_append('case.read', p_request, '{"what": "show"}', 'ok', NULL);
    END IF;
    RETURN spoor.request_show_full(p_request) || jsonb_build_object('on_case', true, 'access', v_access,
        'people', spoor.case_people(p_request));
END
$$;

ALTER FUNCTION request_list() RENAME TO request_list_full;
CREATE FUNCTION request_list() RETURNS SETOF jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
DECLARE
    v_auditor boolean := spoor.actor_in('spoor_auditor');
    v_read boolean := false;
    x jsonb;
    a text;
BEGIN
    FOR x IN SELECT * FROM spoor.request_list_full() LOOP
        a := spoor.case_access((x->>'request_id')::bigint);
        IF a IS NULL THEN
            RETURN NEXT jsonb_build_object('request_id', (x->>'request_id')::bigint, 'kind', x->>'kind',
                                           'state', x->>'state', 'on_case', false);
        ELSE
            v_read := v_read OR a = 'auditor';
            RETURN NEXT x || jsonb_build_object('on_case', true, 'access', a);
        END IF;
    END LOOP;
    IF v_read THEN
        PERFORM spoor.audit_append('case.read', NULL, '{"what": "list"}', 'ok', NULL);
    END IF;
    RETURN;
END
$$;

ALTER FUNCTION request_export(bigint) RENAME TO request_export_full;
CREATE FUNCTION request_export(p_request bigint) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
BEGIN
    RETURN coalesce(spoor.case_refusal(p_request, '{recorder,approver,assigned,auditor}',
                                       'request.export', '{}'),
                    spoor.request_export_full(p_request));
END
$$;

ALTER FUNCTION request_transition(bigint, text, text) RENAME TO request_transition_full;
CREATE FUNCTION request_transition(p_request bigint, p_to text, p_note text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
BEGIN
    RETURN coalesce(spoor.case_refusal(p_request, '{recorder,approver,assigned}', 'request.' || p_to,
                                       jsonb_build_object('note', p_note)),
                    spoor.request_transition_full(p_request, p_to, p_note));
END
$$;

ALTER FUNCTION hold_renew(bigint, integer, text) RENAME TO hold_renew_full;
CREATE FUNCTION hold_renew(p_hold bigint, p_days integer, p_note text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
DECLARE
    v_req bigint := (SELECT request_id FROM spoor.hold WHERE hold_id = p_hold);
BEGIN
    -- No such hold: hold_renew_full says so.
    RETURN coalesce(CASE WHEN v_req IS NOT NULL THEN
                        spoor.case_refusal(v_req, '{recorder,approver,assigned}', 'hold.renew',
                                           jsonb_build_object('hold', p_hold)) END,
                    spoor.hold_renew_full(p_hold, p_days, p_note));
END
$$;
ALTER FUNCTION hold_release(bigint, text) RENAME TO hold_release_full;
CREATE FUNCTION hold_release(p_hold bigint, p_note text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
DECLARE
    v_req bigint := (SELECT request_id FROM spoor.hold WHERE hold_id = p_hold);
BEGIN
    RETURN coalesce(CASE WHEN v_req IS NOT NULL THEN
                        spoor.case_refusal(v_req, '{recorder,approver,assigned}', 'hold.release',
                                           jsonb_build_object('hold', p_hold)) END,
                    spoor.hold_release_full(p_hold, p_note));
END
$$;

RESET ROLE;
REVOKE ALL ON FUNCTION spoor.gate(bigint, text, text, integer, timestamptz, interval),
    spoor.gate_checks(bigint, text, text, integer, timestamptz, interval), spoor.request_show_full(bigint), spoor.request_list_full(),
    spoor.request_export_full(bigint), spoor.request_transition_full(bigint, text, text),
    spoor.hold_renew_full(bigint, integer, text), spoor.hold_release_full(bigint, text),
    spoor.request_assign(bigint, name), spoor.case_access(bigint), spoor.case_outline(spoor.request),
    spoor.case_refusal(bigint, text[], text, jsonb),
    spoor.case_people(bigint), spoor.actor_in(name), spoor.request_show(bigint), spoor.request_list(),
    spoor.request_export(bigint), spoor.request_transition(bigint, text, text),
    spoor.hold_renew(bigint, integer, text), spoor.hold_release(bigint, text) FROM PUBLIC;
-- A renamed function keeps its grants: the full versions are reached only
-- through the checks above.
REVOKE ALL ON FUNCTION spoor.request_show_full(bigint), spoor.request_list_full(),
    spoor.request_export_full(bigint), spoor.request_transition_full(bigint, text, text),
    spoor.hold_renew_full(bigint, integer, text), spoor.hold_release_full(bigint, text)
    FROM spoor_analyst, spoor_approver, spoor_auditor, spoor_admin, spoor_retention;
GRANT EXECUTE ON FUNCTION spoor.request_assign(bigint, name) TO spoor_approver;
GRANT EXECUTE ON FUNCTION spoor.request_show(bigint) TO spoor_analyst, spoor_approver, spoor_auditor;
GRANT EXECUTE ON FUNCTION spoor.request_list() TO spoor_analyst, spoor_approver, spoor_auditor;
GRANT EXECUTE ON FUNCTION spoor.request_export(bigint) TO spoor_analyst, spoor_approver, spoor_auditor;
GRANT EXECUTE ON FUNCTION spoor.request_transition(bigint, text, text) TO spoor_analyst, spoor_approver;
GRANT EXECUTE ON FUNCTION spoor.hold_renew(bigint, integer, text) TO spoor_analyst, spoor_approver;
GRANT EXECUTE ON FUNCTION spoor.hold_release(bigint, text) TO spoor_analyst, spoor_approver;
