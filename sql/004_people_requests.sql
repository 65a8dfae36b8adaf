-- 004: people, and the rest of a request's life.
--
-- `spoor user add NAME --role ROLE` creates a PostgreSQL login in one of
-- Spoor's groups through user_add(), owned by spoor_roleadmin: the only role
-- with CREATEROLE, which (PostgreSQL 15) could otherwise grant itself any
-- membership — so it is NOLOGIN and reachable only through this function,
-- which grants nothing but the six person groups.  Authentication (password,
-- peer, certificate) stays the DBA's, in pg_hba.conf: no secret passes here.
--
-- Request states after ETSI TS 103 120: received -> approved | rejected ->
-- executed -> disclosed -> closed; cancelled from any open state; expired
-- when the deadline passes before it was executed.  Every transition is
-- audited.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spoor_roleadmin') THEN
        CREATE ROLE spoor_roleadmin NOLOGIN CREATEROLE NOSUPERUSER NOBYPASSRLS;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA spoor TO spoor_roleadmin;
GRANT EXECUTE ON FUNCTION spoor.audit_append(text, bigint, jsonb, text, text) TO spoor_roleadmin;
GRANT spoor_analyst, spoor_approver, spoor_auditor, spoor_retention, spoor_admin, spoor_ingest
    TO spoor_roleadmin WITH ADMIN OPTION;

CREATE FUNCTION spoor.user_add(p_name text, p_role text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
BEGIN
    IF p_role NOT IN ('analyst', 'approver', 'auditor', 'retention', 'admin', 'ingest') THEN
        RETURN jsonb_build_object('status', 'denied', 'reason',
            'role must be analyst, approver, auditor, retention, admin or ingest');
    END IF;
    IF p_name !~ '^[a-z_][a-z0-9_.-]{0,62}$' THEN
        RETURN jsonb_build_object('status', 'denied', 'reason',
            'a user name is lower-case letters, digits, _ . - (at most 63)');
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_name) THEN
        EXECUTE format('GRANT %I TO %I', 'spoor_' || p_role, p_name);
    ELSE
        EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS IN ROLE %I',
                       p_name, 'spoor_' || p_role);
    END IF;
    PERFORM spoor.audit_append('user.add', NULL, jsonb_build_object('user', p_name, 'role', p_role), 'ok', NULL);
    RETURN jsonb_build_object('status', 'ok', 'user', p_name, 'role', p_role);
END
$$;
ALTER FUNCTION spoor.user_add(text, text) OWNER TO spoor_roleadmin;
REVOKE ALL ON FUNCTION spoor.user_add(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.user_add(text, text) TO spoor_admin;

SET LOCAL ROLE spoor_owner;

-- Marks approved requests whose deadline passed before any lookup 'expired'.
CREATE FUNCTION spoor.request_expire_due() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
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
$$;

-- cancel: from any open state; disclosed: after execution, when the answer
-- went out; close: after disclosure (or rejection).
CREATE FUNCTION spoor.request_transition(p_request bigint, p_to text, p_note text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
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
$$;

-- One request with its scope and its audit entries.
CREATE FUNCTION spoor.request_show(p_request bigint) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
    SELECT to_jsonb(r) || jsonb_build_object(
        'scope', (SELECT jsonb_agg(jsonb_build_object('kind', s.kind, 'value', s.value, 'port', s.port)
                                   ORDER BY s.kind, s.value)
                  FROM spoor.request_scope s WHERE s.request_id = r.request_id),
        'audit', (SELECT jsonb_agg(jsonb_build_object('seq', a.seq, 'at', a.at, 'actor', a.actor,
                                                      'action', a.action, 'outcome', a.outcome)
                                   ORDER BY a.seq)
                  FROM spoor.audit a WHERE a.request_id = r.request_id))
    FROM spoor.request r WHERE r.request_id = p_request
$$;

RESET ROLE;
REVOKE ALL ON FUNCTION spoor.request_expire_due() FROM PUBLIC;
REVOKE ALL ON FUNCTION spoor.request_transition(bigint, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION spoor.request_show(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.request_expire_due() TO spoor_retention, spoor_admin;
GRANT EXECUTE ON FUNCTION spoor.request_transition(bigint, text, text) TO spoor_analyst, spoor_approver;
GRANT EXECUTE ON FUNCTION spoor.request_show(bigint) TO spoor_analyst, spoor_approver, spoor_auditor;
