CREATE OR REPLACE FUNCTION spoor.api_token_create(p_sha256 bytea, p_days integer)
 RETURNS timestamp with time zone
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_exp timestamptz := now() + make_interval(days => least(greatest(coalesce(p_days, 30), 1), 365));
    v_id bigint;
BEGIN
    INSERT INTO spoor.api_token (token_sha256, role, role_oid, expires_at)
    VALUES (p_sha256, spoor.actor(), (SELECT oid FROM pg_roles WHERE rolname = spoor.actor()), v_exp)
    RETURNING token_id INTO v_id;
    PERFORM spoor.audit_append('api.token_create', NULL,
        jsonb_build_object('token_id', v_id, 'expires_at', v_exp), 'ok', NULL);
    RETURN v_exp;
END
$function$;
ALTER FUNCTION spoor.api_token_create(p_sha256 bytea, p_days integer) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.api_token_create(p_sha256 bytea, p_days integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.api_token_create(p_sha256 bytea, p_days integer) TO spoor_analyst;
GRANT EXECUTE ON FUNCTION spoor.api_token_create(p_sha256 bytea, p_days integer) TO spoor_approver;
GRANT EXECUTE ON FUNCTION spoor.api_token_create(p_sha256 bytea, p_days integer) TO spoor_auditor;
GRANT EXECUTE ON FUNCTION spoor.api_token_create(p_sha256 bytea, p_days integer) TO spoor_admin;

CREATE OR REPLACE FUNCTION spoor.api_token_role(p_sha256 bytea)
 RETURNS name
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT role FROM spoor.api_token
    WHERE token_sha256 = p_sha256 AND revoked_at IS NULL AND expires_at > now()
$function$;
ALTER FUNCTION spoor.api_token_role(p_sha256 bytea) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.api_token_role(p_sha256 bytea) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.api_token_person(p_token text)
 RETURNS name
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT r.rolname FROM spoor.api_token t JOIN pg_roles r ON r.oid = t.role_oid AND r.rolname = t.role
    WHERE t.token_sha256 = sha256(convert_to(p_token, 'UTF8')) AND t.revoked_at IS NULL
      AND t.expires_at > now() AND r.rolcanlogin
$function$;
ALTER FUNCTION spoor.api_token_person(p_token text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.api_token_person(p_token text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.api_login_check()
 RETURNS void
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                   JOIN pg_roles u ON u.oid = m.member
                   WHERE g.rolname = 'spoor_api' AND u.rolname = session_user) THEN
        RAISE EXCEPTION 'only spoor-api''s login calls this' USING ERRCODE = '42501';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
               JOIN pg_roles u ON u.oid = m.member
               WHERE u.rolname = session_user AND g.rolname <> 'spoor_api')
       OR (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) THEN
        RAISE EXCEPTION 'spoor-api''s login must be a member of spoor_api and nothing else'
            USING ERRCODE = '42501';
    END IF;
END
$function$;
ALTER FUNCTION spoor.api_login_check() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.api_login_check() FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.api_whoami(p_token text)
 RETURNS name
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
BEGIN
    PERFORM spoor.api_login_check();
    RETURN spoor.api_token_person(p_token);
END
$function$;
ALTER FUNCTION spoor.api_whoami(p_token text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.api_whoami(p_token text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.api_whoami(p_token text) TO spoor_api;

CREATE OR REPLACE FUNCTION spoor.api_call(p_token text, p_op text, p_args jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_person name;
    o spoor.api_op;
    v_res jsonb;
BEGIN
    PERFORM spoor.api_login_check();
    v_person := spoor.api_token_person(p_token);
    IF v_person IS NULL THEN
        RAISE EXCEPTION 'unknown, expired or revoked token' USING ERRCODE = '28000';
    END IF;
    SELECT * INTO o FROM spoor.api_op WHERE op = p_op;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no operation %', p_op USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM unnest(o.groups) g WHERE pg_has_role(v_person, g, 'MEMBER')) THEN
        RAISE EXCEPTION '% may not %', v_person, p_op USING ERRCODE = '42501';
    END IF;
    -- actor() names the person while the operation runs.
    PERFORM set_config('spoor.api_person', v_person, true);
    EXECUTE o.sql INTO v_res USING coalesce(p_args, '{}'::jsonb);
    PERFORM set_config('spoor.api_person', '', true);
    RETURN v_res;
END
$function$;
ALTER FUNCTION spoor.api_call(p_token text, p_op text, p_args jsonb) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.api_call(p_token text, p_op text, p_args jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.api_call(p_token text, p_op text, p_args jsonb) TO spoor_api;

CREATE OR REPLACE FUNCTION spoor.token_list()
 RETURNS SETOF jsonb
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT jsonb_build_object('token_id', t.token_id, 'person', t.role, 'created_at', t.created_at,
                              'expires_at', t.expires_at, 'revoked_at', t.revoked_at,
                              'state', CASE WHEN t.revoked_at IS NOT NULL THEN 'revoked'
                                            WHEN t.expires_at <= now() THEN 'expired' ELSE 'active' END)
    FROM spoor.api_token t
    WHERE t.role = spoor.actor() OR pg_has_role(spoor.actor(), 'spoor_admin', 'MEMBER')
    ORDER BY t.token_id
$function$;
ALTER FUNCTION spoor.token_list() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.token_list() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.token_list() TO spoor_analyst;
GRANT EXECUTE ON FUNCTION spoor.token_list() TO spoor_approver;
GRANT EXECUTE ON FUNCTION spoor.token_list() TO spoor_auditor;
GRANT EXECUTE ON FUNCTION spoor.token_list() TO spoor_admin;

CREATE OR REPLACE FUNCTION spoor.token_revoke(p_token_id bigint)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    t spoor.api_token;
    v_why text;
BEGIN
    SELECT * INTO t FROM spoor.api_token WHERE token_id = p_token_id FOR UPDATE;
    IF NOT FOUND THEN
        v_why := 'no such token';
    ELSIF t.role <> spoor.actor() AND NOT pg_has_role(spoor.actor(), 'spoor_admin', 'MEMBER') THEN
        v_why := 'a token is revoked by its person or an admin';
    ELSIF t.revoked_at IS NOT NULL THEN
        v_why := 'already revoked';
    END IF;
    IF v_why IS NOT NULL THEN
        PERFORM spoor.audit_append('api.token_revoke', NULL, jsonb_build_object('token_id', p_token_id), 'denied', v_why);
        RETURN jsonb_build_object('status', 'denied', 'reason', v_why);
    END IF;
    UPDATE spoor.api_token SET revoked_at = now() WHERE token_id = p_token_id;
    PERFORM spoor.audit_append('api.token_revoke', NULL,
        jsonb_build_object('token_id', p_token_id, 'person', t.role), 'ok', NULL);
    RETURN jsonb_build_object('status', 'ok', 'token_id', p_token_id, 'state', 'revoked');
END
$function$;
ALTER FUNCTION spoor.token_revoke(p_token_id bigint) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.token_revoke(p_token_id bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.token_revoke(p_token_id bigint) TO spoor_analyst;
GRANT EXECUTE ON FUNCTION spoor.token_revoke(p_token_id bigint) TO spoor_approver;
GRANT EXECUTE ON FUNCTION spoor.token_revoke(p_token_id bigint) TO spoor_auditor;
GRANT EXECUTE ON FUNCTION spoor.token_revoke(p_token_id bigint) TO spoor_admin;

-- Who the API's person is and in which of Spoor's groups (the console shows
-- what they may do; every operation still checks); with an event, that
-- event (sign-in or sign-out) in the audit trail.
CREATE OR REPLACE FUNCTION spoor.console_whoami(p_event text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_groups jsonb;
BEGIN
    IF p_event IS NOT NULL AND p_event NOT IN ('console.sign_in', 'console.sign_out') THEN
        RAISE EXCEPTION 'no console event %', p_event USING ERRCODE = '22023';
    END IF;
    SELECT coalesce(jsonb_agg(g ORDER BY g), '[]') INTO v_groups
    FROM unnest(ARRAY['spoor_analyst', 'spoor_approver', 'spoor_auditor', 'spoor_admin']::name[]) g
    WHERE pg_has_role(spoor.actor(), g, 'MEMBER');
    IF p_event IS NOT NULL THEN
        PERFORM spoor.audit_append(p_event, NULL, '{}'::jsonb, 'ok', NULL);
    END IF;
    RETURN jsonb_build_object('status', 'ok', 'person', spoor.actor(), 'groups', v_groups);
END
$function$;
ALTER FUNCTION spoor.console_whoami(p_event text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.console_whoami(p_event text) FROM PUBLIC;

-- The console's signed package, sealed by spoor-api: which package (its
-- manifest's SHA-256, which covers every file) under which key, in the
-- audit trail, so the copy a court holds can be matched to this entry.
-- Reached only through spoor.api_call (spoor-api's own route, after
-- request.package's export for the same person and request).
CREATE OR REPLACE FUNCTION spoor.request_package_sealed(p_request bigint, p_manifest_sha256 text, p_public_key text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
BEGIN
    IF p_manifest_sha256 !~ '^[0-9a-f]{64}$' OR p_public_key !~ '^[0-9a-f]{64}$' THEN
        RAISE EXCEPTION 'a manifest SHA-256 and a public key, both 64 hex digits' USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM spoor.request WHERE request_id = p_request) THEN
        RAISE EXCEPTION 'no request %', p_request USING ERRCODE = '22023';
    END IF;
    -- A seal names a package the person made: one of the case's people, who
    -- exported it (committed, request.export) in the last ten minutes.
    -- Without this any analyst's token could put a chain-of-custody entry
    -- for any manifest under any case.
    IF coalesce(spoor.case_access(p_request), 'none') NOT IN ('recorder', 'approver', 'assigned')
       OR NOT EXISTS (SELECT 1 FROM spoor.audit a WHERE a.request_id = p_request AND a.action = 'request.export'
                      AND a.outcome = 'ok' AND a.actor = spoor.actor() AND a.at > now() - interval '10 minutes') THEN
        PERFORM spoor.audit_append('request.package', p_request,
            jsonb_build_object('manifest_sha256', p_manifest_sha256, 'via', 'console'), 'denied',
            'no export of this case by this person in the last ten minutes');
        RETURN jsonb_build_object('status', 'denied', 'reason',
            'a package is sealed by one of the case''s people who has just exported it');
    END IF;
    PERFORM spoor.audit_append('request.package', p_request,
        jsonb_build_object('manifest_sha256', p_manifest_sha256, 'public_key', p_public_key, 'via', 'console'),
        'ok', p_manifest_sha256);
    RETURN jsonb_build_object('status', 'ok', 'request_id', p_request, 'manifest_sha256', p_manifest_sha256);
END
$function$;
ALTER FUNCTION spoor.request_package_sealed(p_request bigint, p_manifest_sha256 text, p_public_key text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.request_package_sealed(p_request bigint, p_manifest_sha256 text, p_public_key text) FROM PUBLIC;
