CREATE OR REPLACE FUNCTION spoor.actor()
 RETURNS name
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
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
$function$;
ALTER FUNCTION spoor.actor() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.actor() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.actor() TO spoor_roleadmin;
GRANT EXECUTE ON FUNCTION spoor.actor() TO spoor_identity;
-- Who recorded a request is the acting person, also through spoor-api
-- (sql/003 creates the column with session_user: a table cannot wait for a
-- function file).
ALTER TABLE spoor.request ALTER COLUMN created_by SET DEFAULT spoor.actor();

CREATE OR REPLACE FUNCTION spoor.audit_refuse()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % refused', TG_OP USING ERRCODE = '42501';
END
$function$;
ALTER FUNCTION spoor.audit_refuse() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.audit_refuse() FROM PUBLIC;
CREATE OR REPLACE TRIGGER audit_no_update BEFORE DELETE OR UPDATE ON spoor.audit FOR EACH ROW EXECUTE FUNCTION spoor.audit_refuse();
CREATE OR REPLACE TRIGGER audit_no_truncate BEFORE TRUNCATE ON spoor.audit FOR EACH STATEMENT EXECUTE FUNCTION spoor.audit_refuse();
CREATE OR REPLACE TRIGGER request_result_append_only BEFORE DELETE OR UPDATE ON spoor.request_result FOR EACH ROW EXECUTE FUNCTION spoor.audit_refuse();
CREATE OR REPLACE TRIGGER lookup_ticket_append_only BEFORE DELETE OR UPDATE ON spoor.lookup_ticket FOR EACH ROW EXECUTE FUNCTION spoor.audit_refuse();
CREATE OR REPLACE TRIGGER lookup_ticket_no_truncate BEFORE TRUNCATE ON spoor.lookup_ticket FOR EACH STATEMENT EXECUTE FUNCTION spoor.audit_refuse();
CREATE OR REPLACE TRIGGER evidence_block_id_no_update BEFORE DELETE OR UPDATE ON spoor.evidence_block_id FOR EACH ROW EXECUTE FUNCTION spoor.audit_refuse();
CREATE OR REPLACE TRIGGER evidence_block_id_no_truncate BEFORE TRUNCATE ON spoor.evidence_block_id FOR EACH STATEMENT EXECUTE FUNCTION spoor.audit_refuse();
CREATE OR REPLACE TRIGGER request_result_no_truncate BEFORE TRUNCATE ON spoor.request_result FOR EACH STATEMENT EXECUTE FUNCTION spoor.audit_refuse();
CREATE OR REPLACE TRIGGER retention_dropped_no_truncate BEFORE TRUNCATE ON spoor.retention_dropped FOR EACH STATEMENT EXECUTE FUNCTION spoor.audit_refuse();
CREATE OR REPLACE TRIGGER request_scope_append_only BEFORE DELETE OR UPDATE ON spoor.request_scope FOR EACH ROW EXECUTE FUNCTION spoor.audit_refuse();
CREATE OR REPLACE TRIGGER request_scope_no_truncate BEFORE TRUNCATE ON spoor.request_scope FOR EACH STATEMENT EXECUTE FUNCTION spoor.audit_refuse();
CREATE OR REPLACE TRIGGER request_member_append_only BEFORE DELETE OR UPDATE ON spoor.request_member FOR EACH ROW EXECUTE FUNCTION spoor.audit_refuse();
CREATE OR REPLACE TRIGGER request_member_no_truncate BEFORE TRUNCATE ON spoor.request_member FOR EACH STATEMENT EXECUTE FUNCTION spoor.audit_refuse();
CREATE OR REPLACE TRIGGER admin_change_no_truncate BEFORE TRUNCATE ON spoor.admin_change FOR EACH STATEMENT EXECUTE FUNCTION spoor.audit_refuse();
CREATE OR REPLACE TRIGGER api_op_fixed BEFORE DELETE OR UPDATE ON spoor.api_op FOR EACH ROW EXECUTE FUNCTION spoor.audit_refuse();
CREATE OR REPLACE TRIGGER api_op_no_truncate BEFORE TRUNCATE ON spoor.api_op FOR EACH STATEMENT EXECUTE FUNCTION spoor.audit_refuse();

CREATE OR REPLACE FUNCTION spoor.audit_entry_hash(p_prev bytea, p_seq bigint, p_at timestamp with time zone, p_actor name, p_action text, p_request bigint, p_params jsonb, p_outcome text, p_digest text)
 RETURNS bytea
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
    SELECT sha256(p_prev || convert_to(concat_ws(chr(31), p_seq::text,
        to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), p_actor::text, p_action,
        coalesce(p_request::text, ''), p_params::text, p_outcome, coalesce(p_digest, '')), 'UTF8'))
$function$;
ALTER FUNCTION spoor.audit_entry_hash(p_prev bytea, p_seq bigint, p_at timestamp with time zone, p_actor name, p_action text, p_request bigint, p_params jsonb, p_outcome text, p_digest text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.audit_entry_hash(p_prev bytea, p_seq bigint, p_at timestamp with time zone, p_actor name, p_action text, p_request bigint, p_params jsonb, p_outcome text, p_digest text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.audit_append(p_action text, p_request bigint, p_params jsonb, p_outcome text, p_digest text)
 RETURNS bigint
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_prev bytea;
    v_seq bigint;
    v_at timestamptz := clock_timestamp();
BEGIN
    -- One writer at a time keeps the chain a chain, so the lock is held to
    -- the end of the caller's transaction.  A person's audited call therefore
    -- runs on its own: not inside a transaction block (an open transaction
    -- would hold every lookup, approval, export and retention run), and with
    -- a statement_timeout of at most a minute (a statement that sleeps after
    -- the call would do the same).  The DBA (a superuser) is not held to it.
    IF NOT coalesce((SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = session_user), false) THEN
        IF spoor.in_transaction_block() THEN
            RAISE EXCEPTION 'Spoor''s audited calls run on their own, not inside a transaction block (BEGIN ... COMMIT, or several statements in one query): an open transaction would hold the audit trail for everyone'
                USING ERRCODE = '25001';
        END IF;
        IF (current_setting('statement_timeout')::interval = interval '0'
            OR current_setting('statement_timeout')::interval > interval '60 seconds')
           -- spoor-retention's compaction of a day runs for minutes; its
           -- role is a daemon's, granted by two admins.
           AND NOT pg_has_role(session_user, 'spoor_retention', 'MEMBER') THEN
            RAISE EXCEPTION 'Spoor''s audited calls need a statement_timeout between 1 ms and 60 s (it is %)',
                current_setting('statement_timeout') USING ERRCODE = '25001';
        END IF;
    END IF;
    PERFORM pg_advisory_xact_lock(spoor.lock_key('audit'));
    SELECT seq, hash INTO v_seq, v_prev FROM spoor.audit ORDER BY seq DESC LIMIT 1;
    v_seq := coalesce(v_seq, 0) + 1;
    v_prev := coalesce(v_prev, '\x'::bytea);
    INSERT INTO spoor.audit VALUES (v_seq, v_at, spoor.actor(), p_action, p_request, p_params,
        p_outcome, p_digest, v_prev,
        spoor.audit_entry_hash(v_prev, v_seq, v_at, spoor.actor(), p_action, p_request, p_params,
                               p_outcome, p_digest));
    RETURN v_seq;
END
$function$;
ALTER FUNCTION spoor.audit_append(p_action text, p_request bigint, p_params jsonb, p_outcome text, p_digest text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.audit_append(p_action text, p_request bigint, p_params jsonb, p_outcome text, p_digest text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.audit_append(p_action text, p_request bigint, p_params jsonb, p_outcome text, p_digest text) TO spoor_roleadmin;
GRANT EXECUTE ON FUNCTION spoor.audit_append(p_action text, p_request bigint, p_params jsonb, p_outcome text, p_digest text) TO spoor_identity;

CREATE OR REPLACE FUNCTION spoor.audit_list(p_request bigint)
 RETURNS SETOF spoor.audit
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT * FROM spoor.audit WHERE p_request IS NULL OR request_id = p_request ORDER BY seq
$function$;
ALTER FUNCTION spoor.audit_list(p_request bigint) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.audit_list(p_request bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.audit_list(p_request bigint) TO spoor_auditor;

CREATE OR REPLACE FUNCTION spoor.in_transaction_block()
 RETURNS boolean
 LANGUAGE c
AS 'spoor_evidence', $function$spoor_in_transaction_block$function$;
REVOKE ALL ON FUNCTION spoor.in_transaction_block() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.in_transaction_block() TO spoor_owner;

CREATE OR REPLACE FUNCTION spoor.lock_keys()
 RETURNS TABLE(name text, key bigint)
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
    VALUES ('migrate', 7340201::bigint),      -- spoor db migrate
           ('partitions', 7340202::bigint),   -- partition DDL: ensure_partitions, compaction
           ('lease_horizon', 7340203::bigint), -- the lease merge that moves the horizon (009)
           ('retention', 7340204::bigint),    -- one spoor-retention run at a time (session lock)
           ('audit', 7340205::bigint)         -- the audit chain's writer (until 013: 7340203, shared)
$function$;
ALTER FUNCTION spoor.lock_keys() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.lock_keys() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.lock_keys() TO spoor_admin;
GRANT EXECUTE ON FUNCTION spoor.lock_keys() TO spoor_auditor;

CREATE OR REPLACE FUNCTION spoor.lock_key(p_name text)
 RETURNS bigint
 LANGUAGE sql
 IMMUTABLE STRICT
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
    SELECT k.key FROM spoor.lock_keys() k WHERE k.name = p_name
$function$;
ALTER FUNCTION spoor.lock_key(p_name text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.lock_key(p_name text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.actor_in(p_group name)
 RETURNS boolean
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT pg_has_role(spoor.actor(), p_group, 'MEMBER')
$function$;
ALTER FUNCTION spoor.actor_in(p_group name) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.actor_in(p_group name) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.actor_is_superuser()
 RETURNS boolean
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = spoor.actor()), false)
$function$;
ALTER FUNCTION spoor.actor_is_superuser() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.actor_is_superuser() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.actor_is_superuser() TO spoor_roleadmin;
GRANT EXECUTE ON FUNCTION spoor.actor_is_superuser() TO spoor_identity;

-- The chain recomputed inside the database, for the console's audit page:
-- every entry's prev_hash is the hash before it and its hash recomputes.
-- It answers "has anyone edited or removed an entry?" at a glance; the
-- independent check (outside the database, against a signed checkpoint, so
-- a cut-off tail shows too) stays `spoor audit verify`.
CREATE OR REPLACE FUNCTION spoor.audit_verify()
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    r spoor.audit;
    v_prev bytea := '\x'::bytea;
    v_n bigint := 0;
    v_bad bigint;
    v_why text;
BEGIN
    FOR r IN SELECT * FROM spoor.audit ORDER BY seq LOOP
        IF r.seq <> v_n + 1 THEN
            v_bad := r.seq;
            v_why := format('entry %s is missing', v_n + 1);
        ELSIF r.prev_hash IS DISTINCT FROM v_prev THEN
            v_bad := r.seq;
            v_why := format('entry %s does not follow the entry before it', r.seq);
        ELSIF r.hash IS DISTINCT FROM spoor.audit_entry_hash(r.prev_hash, r.seq, r.at, r.actor,
                r.action, r.request_id, r.params, r.outcome, r.result_digest) THEN
            v_bad := r.seq;
            v_why := format('entry %s was changed after it was written', r.seq);
        END IF;
        EXIT WHEN v_bad IS NOT NULL;
        v_prev := r.hash;
        v_n := v_n + 1;
    END LOOP;
    RETURN jsonb_build_object('status', 'ok', 'intact', v_bad IS NULL, 'entries', v_n,
        'first_broken', v_bad, 'reason', v_why, 'head', encode(v_prev, 'hex'),
        'checked_at', now());
END
$function$;
ALTER FUNCTION spoor.audit_verify() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.audit_verify() FROM PUBLIC;
