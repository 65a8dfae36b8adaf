-- 016: the API login is nobody (issue 17, point 6).
--
-- spoor-api's database login used to be a member of every person role and
-- SET ROLE to the person its token named: whoever held its credentials was
-- everyone, without any person's token.  Now the login is a member of
-- spoor_api only and may call two functions: api_whoami(token) and
-- api_call(token, operation, arguments).  api_call checks the token inside
-- the database on every call (its SHA-256 is stored, not the token; not
-- expired, not revoked, and bound to the person's role OID, so a role
-- dropped and made again under the same name is not the token's person),
-- checks that the person is in a group the operation allows (api_op, the
-- one table of what the API may do), and runs the operation with actor()
-- naming the person.  Without a person's token the login can do nothing.
-- Tokens are listed and revoked (token_list, token_revoke), audited.
SET LOCAL search_path = spoor, pg_catalog;
SET LOCAL ROLE spoor_owner;

ALTER TABLE api_token ADD COLUMN token_id bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE api_token ADD COLUMN role_oid oid;
UPDATE api_token t SET role_oid = r.oid FROM pg_roles r WHERE r.rolname = t.role;
ALTER TABLE api_token ADD CONSTRAINT api_token_id_unique UNIQUE (token_id);

CREATE OR REPLACE FUNCTION api_token_create(p_sha256 bytea, p_days integer) RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
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
$$;

-- The person a token names, or NULL: unknown, expired, revoked, or its role
-- no longer the one it was made for.
CREATE FUNCTION api_token_person(p_token text) RETURNS name
LANGUAGE sql STABLE SET search_path = pg_catalog, spoor, pg_temp AS $$
    SELECT r.rolname FROM spoor.api_token t JOIN pg_roles r ON r.oid = t.role_oid AND r.rolname = t.role
    WHERE t.token_sha256 = sha256(convert_to(p_token, 'UTF8')) AND t.revoked_at IS NULL
      AND t.expires_at > now() AND r.rolcanlogin
$$;

-- Only spoor-api's login, and only while it is nothing but that.
CREATE FUNCTION api_login_check() RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, spoor, pg_temp AS $$
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
$$;

CREATE FUNCTION api_whoami(p_token text) RETURNS name
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
BEGIN
    PERFORM spoor.api_login_check();
    RETURN spoor.api_token_person(p_token);
END
$$;

-- What the API may do: an operation, the groups whose members may ask for
-- it, and its SQL, which takes the arguments as one jsonb ($1).
CREATE TABLE api_op (
    op     text   PRIMARY KEY,
    groups name[] NOT NULL,
    sql    text   NOT NULL
);
INSERT INTO api_op VALUES
  ('request.list', '{spoor_analyst,spoor_approver,spoor_auditor}',
   $q$SELECT jsonb_build_object('status', 'ok', 'requests', coalesce(jsonb_agg(x), '[]')) FROM spoor.request_list() x$q$),
  ('request.create', '{spoor_analyst}',
   $q$SELECT jsonb_build_object('status', 'ok', 'state', 'received', 'request_id', spoor.request_create(
        $1->>'case_ref', $1->>'authority', $1->>'legal_basis', $1->>'contact', coalesce($1->>'kind', 'disclosure'),
        coalesce(($1->>'received_at')::timestamptz, now()), ($1->>'deadline')::timestamptz,
        ($1->>'window_lo')::timestamptz, ($1->>'window_hi')::timestamptz, ($1->>'max_lookups')::integer,
        $1->'scope', $1->'options'))$q$),
  ('request.show', '{spoor_analyst,spoor_approver,spoor_auditor}',
   $q$SELECT coalesce(spoor.request_show(($1->>'id')::bigint) || '{"status": "ok"}', '{"status": "denied", "reason": "no such request"}')$q$),
  ('request.transition', '{spoor_analyst,spoor_approver}',
   $q$SELECT spoor.request_transition(($1->>'id')::bigint, $1->>'to', $1->>'note')$q$),
  ('request.decide', '{spoor_approver}',
   $q$SELECT spoor.request_decide(($1->>'id')::bigint, ($1->>'approve')::boolean, $1->>'note')$q$),
  ('request.assign', '{spoor_approver}',
   $q$SELECT spoor.request_assign(($1->>'id')::bigint, $1->>'person')$q$),
  ('request.export', '{spoor_analyst,spoor_approver,spoor_auditor}',
   $q$SELECT spoor.request_export(($1->>'id')::bigint)$q$),
  ('hold.list', '{spoor_analyst,spoor_approver,spoor_auditor}',
   $q$SELECT jsonb_build_object('status', 'ok', 'holds', coalesce(jsonb_agg(x), '[]')) FROM spoor.hold_list() x$q$),
  ('hold.renew', '{spoor_analyst,spoor_approver}',
   $q$SELECT spoor.hold_renew(($1->>'id')::bigint, ($1->>'days')::integer, $1->>'note')$q$),
  ('hold.release', '{spoor_analyst,spoor_approver}',
   $q$SELECT spoor.hold_release(($1->>'id')::bigint, $1->>'note')$q$),
  ('report', '{spoor_auditor,spoor_approver,spoor_admin}',
   $q$SELECT spoor.report(($1->>'year')::integer, NULL, NULL)$q$),
  ('user.add', '{spoor_admin}',
   $q$SELECT spoor.user_add($1->>'name', $1->>'role')$q$),
  ('admin.list', '{spoor_admin,spoor_auditor}',
   $q$SELECT jsonb_build_object('status', 'ok', 'changes', coalesce(jsonb_agg(x), '[]')) FROM spoor.admin_changes() x$q$),
  ('admin.decide', '{spoor_admin}',
   $q$SELECT spoor.admin_decide(($1->>'id')::bigint, ($1->>'confirm')::boolean, $1->>'note')$q$),
  ('trace.ip', '{spoor_analyst}',
   $q$SELECT spoor.trace_ip(($1->>'request_id')::bigint, ($1->>'ip')::inet, ($1->>'at')::timestamptz,
                            ($1->>'port')::integer, ($1->>'tolerance')::interval)$q$),
  ('trace.message_id', '{spoor_analyst}',
   $q$SELECT spoor.trace_message_id(($1->>'request_id')::bigint, $1->>'message_id', ($1->>'tolerance')::interval)$q$),
  ('trace.headers', '{spoor_analyst}',
   $q$SELECT spoor.trace_headers(($1->>'request_id')::bigint, $1->>'message_id', $1->'hops', ($1->>'tolerance')::interval)$q$),
  ('trace.user', '{spoor_analyst}',
   $q$SELECT spoor.trace_user(($1->>'request_id')::bigint, $1->>'user_name')$q$),
  ('lookup.answer', '{spoor_analyst}',
   $q$SELECT spoor.lookup_answer(($1->>'ticket')::bigint)$q$),
  ('mta.hosts', '{spoor_analyst,spoor_approver,spoor_auditor,spoor_admin}',
   $q$SELECT to_jsonb(spoor.mta_hosts())$q$),
  ('audit.list', '{spoor_auditor}',
   $q$SELECT jsonb_build_object('status', 'ok', 'entries', coalesce(jsonb_agg(jsonb_build_object(
        'seq', a.seq, 'at', a.at, 'actor', a.actor, 'action', a.action, 'request_id', a.request_id,
        'params', a.params, 'outcome', a.outcome, 'result_digest', a.result_digest,
        'prev_hash', encode(a.prev_hash, 'hex'), 'hash', encode(a.hash, 'hex')) ORDER BY a.seq), '[]'))
      FROM spoor.audit_list(($1->>'request')::bigint) a$q$),
  ('subscribers.import', '{spoor_admin}',
   $q$SELECT spoor_identity.subscriber_import($1->'rows', encode(sha256(convert_to(($1->'rows')::text, 'UTF8')), 'hex'),
                                               coalesce($1->>'source', 'api'))$q$),
  ('retention.policy_list', '{spoor_retention,spoor_admin,spoor_auditor,spoor_analyst,spoor_approver}',
   $q$SELECT jsonb_build_object('status', 'ok', 'policies', coalesce(jsonb_agg(x), '[]')) FROM spoor.retention_policy_list() x$q$),
  ('retention.policy_set', '{spoor_admin}',
   $q$SELECT spoor.retention_policy_set($1->>'class', ($1->>'keep')::interval, $1->>'note')$q$),
  ('token.list', '{spoor_analyst,spoor_approver,spoor_auditor,spoor_admin}',
   $q$SELECT jsonb_build_object('status', 'ok', 'tokens', coalesce(jsonb_agg(x), '[]')) FROM spoor.token_list() x$q$),
  ('token.revoke', '{spoor_analyst,spoor_approver,spoor_auditor,spoor_admin}',
   $q$SELECT spoor.token_revoke(($1->>'id')::bigint)$q$);
CREATE TRIGGER api_op_fixed BEFORE UPDATE OR DELETE ON api_op FOR EACH ROW EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER api_op_no_truncate BEFORE TRUNCATE ON api_op FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();

CREATE FUNCTION api_call(p_token text, p_op text, p_args jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
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
$$;

-- The person acting: the session user, or, in a spoor-api session, the
-- person whose token api_call checked for this operation.
CREATE OR REPLACE FUNCTION actor() RETURNS name
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v text;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
               JOIN pg_roles u ON u.oid = m.member
               WHERE r.rolname = 'spoor_api' AND u.rolname = session_user) THEN
        v := current_setting('spoor.api_person', true);
        IF v IS NULL OR v = '' THEN
            RAISE EXCEPTION 'spoor-api acts only for a person, through spoor.api_call' USING ERRCODE = '42501';
        END IF;
        RETURN v::name;
    END IF;
    RETURN session_user;
END
$$;

-- A person's tokens (an admin's: everyone's), without the tokens.
CREATE FUNCTION token_list() RETURNS SETOF jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
    SELECT jsonb_build_object('token_id', t.token_id, 'person', t.role, 'created_at', t.created_at,
                              'expires_at', t.expires_at, 'revoked_at', t.revoked_at,
                              'state', CASE WHEN t.revoked_at IS NOT NULL THEN 'revoked'
                                            WHEN t.expires_at <= now() THEN 'expired' ELSE 'active' END)
    FROM spoor.api_token t
    WHERE t.role = spoor.actor() OR pg_has_role(spoor.actor(), 'spoor_admin', 'MEMBER')
    ORDER BY t.token_id
$$;

CREATE FUNCTION token_revoke(p_token_id bigint) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
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
$$;

RESET ROLE;
-- The API login is nobody: its memberships in anything but spoor_api go.
DO $$
DECLARE m record;
BEGIN
    FOR m IN SELECT g.rolname AS grp, u.rolname AS login FROM pg_auth_members x
             JOIN pg_roles g ON g.oid = x.roleid JOIN pg_roles u ON u.oid = x.member
             WHERE g.rolname <> 'spoor_api' AND u.oid IN (
                 SELECT y.member FROM pg_auth_members y JOIN pg_roles a ON a.oid = y.roleid
                 WHERE a.rolname = 'spoor_api') LOOP
        RAISE NOTICE 'revoking % from spoor-api login %: the API acts for people by their tokens', m.grp, m.login;
        EXECUTE format('REVOKE %I FROM %I', m.grp, m.login);
    END LOOP;
END
$$;
-- Nothing in Spoor's schemas is PUBLIC, also what later migrations added.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA spoor FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA spoor_identity FROM PUBLIC;
REVOKE ALL ON FUNCTION spoor.api_token_role(bytea) FROM spoor_api;
GRANT EXECUTE ON FUNCTION spoor.api_whoami(text), spoor.api_call(text, text, jsonb) TO spoor_api;
GRANT EXECUTE ON FUNCTION spoor.token_list(), spoor.token_revoke(bigint)
    TO spoor_analyst, spoor_approver, spoor_auditor, spoor_admin;
-- The dispatcher runs as spoor_owner: it needs the two functions others own.
GRANT EXECUTE ON FUNCTION spoor.user_add(text, text) TO spoor_owner;
GRANT EXECUTE ON FUNCTION spoor_identity.subscriber_import(jsonb, text, text) TO spoor_owner;
GRANT EXECUTE ON FUNCTION spoor.actor() TO spoor_identity, spoor_roleadmin;
