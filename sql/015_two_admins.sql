-- 015: two admins (issue 17, point 5).
--
-- One admin alone could grant themselves the retention role, make an analyst
-- an approver, shorten a retention policy to a day and let the next run drop
-- the data, or overwrite subscriber identities.  Now each of these takes two
-- different people, enforced here like four eyes on requests: the first
-- admin's call records a pending change (admin_change), a second admin
-- confirms or rejects it (admin_decide), and a CHECK constraint keeps the
-- two apart even against the table's owner.
--   - granting approver, admin, auditor, retention or ingest (analyst is
--     granted by one admin: an analyst can do nothing without an approved,
--     four-eyed request);
--   - shortening a retention policy (lengthening is immediate);
--   - overwriting a stored subscriber identity (new accounts are added at
--     once; an import that would change existing ones stages them);
--   - releasing a hold already took two people (005).
-- Nobody grants a right to themselves, nobody confirms a right for
-- themselves, and no role is granted to a Spoor group role (or any role
-- that cannot log in): `spoor user add spoor_analyst --role admin` would
-- have made every analyst an admin.  A superuser acts alone: it is the DBA,
-- who can change anything in the database anyway, and makes the first
-- admins.
SET LOCAL search_path = spoor, pg_catalog;
SET LOCAL ROLE spoor_owner;

CREATE TABLE admin_change (
    change_id    bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text        NOT NULL CHECK (kind IN ('grant', 'policy', 'identity')),
    params       jsonb       NOT NULL,
    requested_by name        NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    state        text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'rejected')),
    decided_by   name,
    decided_at   timestamptz,
    note         text,
    outcome      jsonb,
    CHECK (decided_by IS NULL OR decided_by <> requested_by),
    CHECK ((state = 'pending') = (decided_by IS NULL))
);
-- A change is decided once: pending -> done | rejected, nothing else.
CREATE FUNCTION admin_change_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP <> 'UPDATE' OR OLD.state <> 'pending' OR NEW.change_id <> OLD.change_id
       OR NEW.kind <> OLD.kind OR NEW.params <> OLD.params OR NEW.requested_by <> OLD.requested_by THEN
        RAISE EXCEPTION 'an admin change is decided once and never rewritten: % refused', TG_OP
            USING ERRCODE = '42501';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER admin_change_guard BEFORE UPDATE OR DELETE ON admin_change
    FOR EACH ROW EXECUTE FUNCTION admin_change_guard();
CREATE TRIGGER admin_change_no_truncate BEFORE TRUNCATE ON admin_change
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();

CREATE FUNCTION actor_is_superuser() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
    SELECT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = spoor.actor()), false)
$$;

-- Records a change a second admin must confirm; audited.  Called by
-- user_add, retention_policy_set and spoor_identity.subscriber_import.
CREATE FUNCTION admin_change_request(p_kind text, p_params jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
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
$$;

CREATE FUNCTION admin_changes() RETURNS SETOF jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
    SELECT to_jsonb(c) FROM spoor.admin_change c ORDER BY c.change_id
$$;

-- The retention policy, as set (the check is in retention_policy_set).
ALTER FUNCTION retention_policy_set(text, interval, text) RENAME TO retention_policy_apply;
CREATE FUNCTION retention_policy_set(p_class text, p_keep interval, p_note text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
DECLARE
    v_old interval;
BEGIN
    SELECT keep INTO v_old FROM spoor.retention_policy WHERE class = p_class;
    IF FOUND AND p_keep IS NOT NULL AND p_keep < v_old AND p_keep >= interval '1 day'
       AND NOT spoor.actor_is_superuser() THEN
        -- Shortening deletes data at the next run: two admins.
        RETURN spoor.admin_change_request('policy', jsonb_build_object('class', p_class,
            'old', v_old::text, 'keep', p_keep::text, 'note', p_note));
    END IF;
    RETURN spoor.retention_policy_apply(p_class, p_keep, p_note);
END
$$;

RESET ROLE;

-- The grant itself, owned by spoor_roleadmin (the only CREATEROLE role);
-- reached through user_add and admin_decide only.
CREATE FUNCTION spoor.user_grant_apply(p_name text, p_role text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
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
$$;
ALTER FUNCTION spoor.user_grant_apply(text, text) OWNER TO spoor_roleadmin;

CREATE OR REPLACE FUNCTION spoor.user_add(p_name text, p_role text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
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
$$;

-- Identities: new accounts at once; a change to a stored one is staged.
CREATE TABLE spoor_identity.pending_identity (
    change_id bigint NOT NULL,
    rows      jsonb  NOT NULL
);
ALTER TABLE spoor_identity.pending_identity OWNER TO spoor_identity;
ALTER FUNCTION spoor_identity.subscriber_import(jsonb, text, text) RENAME TO subscriber_import_all;
REVOKE ALL ON FUNCTION spoor_identity.subscriber_import_all(jsonb, text, text) FROM spoor_admin;

CREATE FUNCTION spoor_identity.subscriber_import(p_rows jsonb, p_file_sha256 text, p_file text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor_identity, pg_temp AS $$
DECLARE
    v_new jsonb;
    v_changed jsonb;
    v_res jsonb;
    v_change jsonb;
BEGIN
    IF jsonb_typeof(p_rows) IS DISTINCT FROM 'array' THEN
        RETURN jsonb_build_object('status', 'denied', 'reason', 'rows must be a JSON array');
    END IF;
    IF spoor.actor_is_superuser() THEN
        RETURN spoor_identity.subscriber_import_all(p_rows, p_file_sha256, p_file);
    END IF;
    SELECT coalesce(jsonb_agg(r) FILTER (WHERE s.account IS NULL), '[]'),
           coalesce(jsonb_agg(r) FILTER (WHERE s.account IS NOT NULL AND
               (s.full_name, s.postal_address, s.billing_contact, s.customer_ref) IS DISTINCT FROM
               (r->>'full_name', r->>'postal_address', r->>'billing_contact', r->>'customer_ref')), '[]')
    INTO v_new, v_changed
    FROM jsonb_array_elements(p_rows) r LEFT JOIN spoor_identity.subscriber s ON s.account = r->>'account';
    v_res := spoor_identity.subscriber_import_all(v_new, p_file_sha256, p_file);
    IF jsonb_array_length(v_changed) > 0 THEN
        v_change := spoor.admin_change_request('identity', jsonb_build_object('file', p_file,
            'sha256', p_file_sha256, 'accounts', jsonb_array_length(v_changed)));
        INSERT INTO spoor_identity.pending_identity VALUES ((v_change->>'change_id')::bigint, v_changed);
        v_res := v_res || jsonb_build_object('pending_overwrites', jsonb_array_length(v_changed),
                                             'change_id', v_change->'change_id', 'reason', v_change->'reason');
    END IF;
    RETURN v_res;
END
$$;
ALTER FUNCTION spoor_identity.subscriber_import(jsonb, text, text) OWNER TO spoor_identity;

CREATE FUNCTION spoor_identity.subscriber_apply(p_change bigint) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor_identity, pg_temp AS $$
DECLARE
    p spoor_identity.pending_identity;
BEGIN
    SELECT * INTO p FROM spoor_identity.pending_identity WHERE change_id = p_change;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('status', 'denied', 'reason', 'no staged identities for this change');
    END IF;
    RETURN spoor_identity.subscriber_import_all(p.rows, 'change ' || p_change, 'admin change ' || p_change);
END
$$;
ALTER FUNCTION spoor_identity.subscriber_apply(bigint) OWNER TO spoor_identity;

SET LOCAL ROLE spoor_owner;
-- A second admin confirms (or rejects) a pending change.
CREATE FUNCTION admin_decide(p_change bigint, p_confirm boolean, p_note text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
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
            WHEN 'identity' THEN spoor_identity.subscriber_apply(p_change) END;
    END IF;
    UPDATE spoor.admin_change SET state = CASE WHEN p_confirm THEN 'done' ELSE 'rejected' END,
        decided_by = spoor.actor(), decided_at = now(), note = p_note, outcome = v_out
    WHERE change_id = p_change;
    PERFORM spoor.audit_append(v_action, NULL, jsonb_build_object('change', p_change, 'kind', c.kind,
        'params', c.params, 'requested_by', c.requested_by, 'note', p_note), 'ok', NULL);
    RETURN jsonb_build_object('status', 'ok', 'change_id', p_change,
                              'state', CASE WHEN p_confirm THEN 'done' ELSE 'rejected' END, 'outcome', v_out);
END
$$;
RESET ROLE;

REVOKE ALL ON FUNCTION spoor.actor_is_superuser(), spoor.admin_change_request(text, jsonb),
    spoor.admin_changes(), spoor.admin_decide(bigint, boolean, text),
    spoor.retention_policy_apply(text, interval, text), spoor.retention_policy_set(text, interval, text),
    spoor.user_grant_apply(text, text), spoor.admin_change_guard(),
    spoor_identity.subscriber_import(jsonb, text, text), spoor_identity.subscriber_apply(bigint) FROM PUBLIC;
REVOKE ALL ON TABLE spoor_identity.pending_identity FROM PUBLIC;
REVOKE ALL ON FUNCTION spoor.retention_policy_apply(text, interval, text) FROM spoor_admin;
GRANT EXECUTE ON FUNCTION spoor.actor() TO spoor_roleadmin;
GRANT EXECUTE ON FUNCTION spoor.actor_is_superuser() TO spoor_roleadmin, spoor_identity;
GRANT EXECUTE ON FUNCTION spoor.admin_change_request(text, jsonb) TO spoor_roleadmin, spoor_identity;
GRANT EXECUTE ON FUNCTION spoor.user_grant_apply(text, text) TO spoor_owner;
GRANT EXECUTE ON FUNCTION spoor_identity.subscriber_apply(bigint) TO spoor_owner;
GRANT EXECUTE ON FUNCTION spoor.admin_changes() TO spoor_admin, spoor_auditor;
GRANT EXECUTE ON FUNCTION spoor.admin_decide(bigint, boolean, text) TO spoor_admin;
GRANT EXECUTE ON FUNCTION spoor.retention_policy_set(text, interval, text) TO spoor_admin;
GRANT EXECUTE ON FUNCTION spoor_identity.subscriber_import(jsonb, text, text) TO spoor_admin;
