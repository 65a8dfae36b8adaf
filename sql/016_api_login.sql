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
