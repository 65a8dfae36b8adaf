CREATE OR REPLACE FUNCTION spoor.user_add(p_name text, p_role text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_why text;
    r pg_roles;
BEGIN
    SELECT * INTO r FROM pg_roles WHERE rolname = p_name;
    IF p_role NOT IN ('analyst', 'approver', 'auditor', 'retention', 'admin', 'ingest') THEN
        v_why := 'role must be analyst, approver, auditor, retention, admin or ingest';
    ELSIF p_name !~ '^[a-z_][a-z0-9_.-]{0,62}$' THEN
        v_why := 'a user name is lower-case letters, digits, _ . - (at most 63)';
    ELSIF p_name = spoor.actor() THEN
        v_why := 'nobody grants a right to themselves';
    ELSIF p_name LIKE 'spoor\_%' OR p_name LIKE 'pg\_%'
          OR (r.rolname IS NOT NULL AND (NOT r.rolcanlogin OR r.rolsuper OR r.rolcreaterole OR r.rolbypassrls)) THEN
        v_why := format('%s is not a person''s login: Spoor roles are granted to people only', p_name);
    END IF;
    IF v_why IS NOT NULL THEN
        PERFORM spoor.audit_append('user.add', NULL, jsonb_build_object('user', p_name, 'role', p_role),
                                   'denied', v_why);
        RETURN jsonb_build_object('status', 'denied', 'reason', v_why);
    END IF;
    IF p_role <> 'analyst' AND NOT spoor.actor_is_superuser() THEN
        RETURN spoor.admin_change_request('grant', jsonb_build_object('user', p_name, 'role', p_role));
    END IF;
    RETURN spoor.user_grant_apply(p_name, p_role);
END
$function$;
ALTER FUNCTION spoor.user_add(p_name text, p_role text) OWNER TO spoor_roleadmin;
REVOKE ALL ON FUNCTION spoor.user_add(p_name text, p_role text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.user_add(p_name text, p_role text) TO spoor_admin;
GRANT EXECUTE ON FUNCTION spoor.user_add(p_name text, p_role text) TO spoor_owner;

CREATE OR REPLACE FUNCTION spoor.admin_change_guard()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    IF TG_OP <> 'UPDATE' OR OLD.state <> 'pending' OR NEW.change_id <> OLD.change_id
       OR NEW.kind <> OLD.kind OR NEW.params <> OLD.params OR NEW.requested_by <> OLD.requested_by THEN
        RAISE EXCEPTION 'an admin change is decided once and never rewritten: % refused', TG_OP
            USING ERRCODE = '42501';
    END IF;
    RETURN NEW;
END
$function$;
ALTER FUNCTION spoor.admin_change_guard() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.admin_change_guard() FROM PUBLIC;
CREATE OR REPLACE TRIGGER admin_change_guard BEFORE DELETE OR UPDATE ON spoor.admin_change FOR EACH ROW EXECUTE FUNCTION spoor.admin_change_guard();

CREATE OR REPLACE FUNCTION spoor.admin_change_request(p_kind text, p_params jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_id bigint;
BEGIN
    INSERT INTO spoor.admin_change (kind, params, requested_by) VALUES (p_kind, p_params, spoor.actor())
    RETURNING change_id INTO v_id;
    PERFORM spoor.audit_append('admin.request', NULL,
        jsonb_build_object('change', v_id, 'kind', p_kind, 'params', p_params), 'ok', NULL);
    RETURN jsonb_build_object('status', 'pending', 'change_id', v_id, 'kind', p_kind,
        'reason', format('this change takes a second admin: another admin runs "spoor admin confirm %s"', v_id));
END
$function$;
ALTER FUNCTION spoor.admin_change_request(p_kind text, p_params jsonb) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.admin_change_request(p_kind text, p_params jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.admin_change_request(p_kind text, p_params jsonb) TO spoor_roleadmin;
GRANT EXECUTE ON FUNCTION spoor.admin_change_request(p_kind text, p_params jsonb) TO spoor_identity;

CREATE OR REPLACE FUNCTION spoor.admin_changes()
 RETURNS SETOF jsonb
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT to_jsonb(c) FROM spoor.admin_change c ORDER BY c.change_id
$function$;
ALTER FUNCTION spoor.admin_changes() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.admin_changes() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.admin_changes() TO spoor_admin;
GRANT EXECUTE ON FUNCTION spoor.admin_changes() TO spoor_auditor;

CREATE OR REPLACE FUNCTION spoor.user_grant_apply(p_name text, p_role text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_name) THEN
        EXECUTE format('GRANT %I TO %I', 'spoor_' || p_role, p_name);
    ELSE
        EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS IN ROLE %I',
                       p_name, 'spoor_' || p_role);
    END IF;
    -- A person's transaction left open cannot hold what others wait for for long.
    EXECUTE format('ALTER ROLE %I SET idle_in_transaction_session_timeout = %L', p_name, '60s');
    EXECUTE format('ALTER ROLE %I SET lock_timeout = %L', p_name, '30s');
    EXECUTE format('ALTER ROLE %I SET statement_timeout = %L', p_name, '60s');
    PERFORM spoor.audit_append('user.add', NULL, jsonb_build_object('user', p_name, 'role', p_role), 'ok', NULL);
    RETURN jsonb_build_object('status', 'ok', 'user', p_name, 'role', p_role);
END
$function$;
ALTER FUNCTION spoor.user_grant_apply(p_name text, p_role text) OWNER TO spoor_roleadmin;
REVOKE ALL ON FUNCTION spoor.user_grant_apply(p_name text, p_role text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.user_grant_apply(p_name text, p_role text) TO spoor_owner;

CREATE OR REPLACE FUNCTION spoor.admin_decide(p_change bigint, p_confirm boolean, p_note text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    c spoor.admin_change;
    v_why text;
    v_out jsonb;
    v_action text := CASE WHEN p_confirm THEN 'admin.confirm' ELSE 'admin.reject' END;
BEGIN
    SELECT * INTO c FROM spoor.admin_change WHERE change_id = p_change FOR UPDATE;
    IF NOT FOUND THEN
        v_why := 'no such change';
    ELSIF c.state <> 'pending' THEN
        v_why := 'the change is ' || c.state;
    ELSIF c.requested_by = spoor.actor() THEN
        v_why := 'two admins: the admin who asked for a change cannot confirm or reject it';
    ELSIF c.kind = 'grant' AND c.params->>'user' = spoor.actor() THEN
        v_why := 'nobody confirms a right for themselves';
    ELSIF NOT p_confirm AND coalesce(btrim(p_note, E' \t\r\n'), '') = '' THEN
        -- Held here, not only in the CLI and spoor-api: a psql prompt reaches this too.
        v_why := 'a rejection needs a note with the reason';
    END IF;
    IF v_why IS NOT NULL THEN
        PERFORM spoor.audit_append(v_action, NULL, jsonb_build_object('change', p_change), 'denied', v_why);
        RETURN jsonb_build_object('status', 'denied', 'reason', v_why);
    END IF;
    IF p_confirm THEN
        v_out := CASE c.kind
            WHEN 'grant' THEN spoor.user_grant_apply(c.params->>'user', c.params->>'role')
            WHEN 'policy' THEN spoor.retention_policy_apply(c.params->>'class', (c.params->>'keep')::interval,
                                                            c.params->>'note')
            WHEN 'identity' THEN spoor_identity.subscriber_apply(p_change)
            WHEN 'nat_config' THEN spoor.nat_config_apply(c.params->>'source', (c.params->>'valid_from')::timestamptz,
                                                          c.requested_by, spoor.actor()) END;
    END IF;
    UPDATE spoor.admin_change SET state = CASE WHEN p_confirm THEN 'done' ELSE 'rejected' END,
        decided_by = spoor.actor(), decided_at = now(), note = p_note, outcome = v_out
    WHERE change_id = p_change;
    PERFORM spoor.audit_append(v_action, NULL, jsonb_build_object('change', p_change, 'kind', c.kind,
        'params', c.params, 'requested_by', c.requested_by, 'note', p_note), 'ok', NULL);
    RETURN jsonb_build_object('status', 'ok', 'change_id', p_change,
                              'state', CASE WHEN p_confirm THEN 'done' ELSE 'rejected' END, 'outcome', v_out);
END
$function$;
ALTER FUNCTION spoor.admin_decide(p_change bigint, p_confirm boolean, p_note text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.admin_decide(p_change bigint, p_confirm boolean, p_note text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.admin_decide(p_change bigint, p_confirm boolean, p_note text) TO spoor_admin;
