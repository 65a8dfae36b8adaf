-- 013: the legal gate holds against the people it controls (issue 17).
--
-- 1. No lookup answer without a committed audit entry.  A lookup used to be
--    one call that wrote its audit entry and returned its answer in the same
--    transaction, so BEGIN; SELECT spoor.trace_ip(...); ROLLBACK showed the
--    answer and left no trace.  Nothing a function does can outlive its
--    caller's ROLLBACK (a SECURITY DEFINER function may not COMMIT), so a
--    lookup is now two calls:
--      spoor.trace_ip(...) (and trace_message_id, trace_headers, trace_user)
--        checks the gate, computes the answer, keeps it (request_result),
--        writes the audit entry with its digest and spends the budget, and
--        returns only a ticket: {"status": "recorded", "ticket": N};
--      spoor.lookup_answer(N) returns the answer, and only if the
--        transaction that recorded ticket N has committed
--        (pg_xact_status of its top-level transaction id), and only to the
--        person who made it.
--    Whatever the caller does — ROLLBACK, ROLLBACK TO SAVEPOINT, an error
--    after the call, PREPARE TRANSACTION, a killed backend — either the
--    record committed, or there is no answer to read.  Refusals are tickets
--    too, so probing the scope inside a rolled-back transaction shows
--    nothing either.  Chosen over an autonomous transaction through dblink
--    because that needs a password-authenticated loopback login whose
--    secret the database would have to keep, and a connection per session.
-- 2. Ingest and the audit no longer share a lock: the audit chain's writer
--    has its own advisory lock key (it shared 7340203 with the lease merge
--    of every ingest batch).  Every key lives in one registry, lock_keys()
--    here and lib/lock_keys.h for C (tests/integration/48_gate.sh checks
--    they agree and that no other key is used).  Person logins get
--    idle_in_transaction_session_timeout and lock_timeout (here for those
--    that exist; user_add, 015, for new ones).
-- 3. Only what the order names: trace_headers checks a hop only against the
--    messages that carry the ordered Message-ID (a crafted Received: line
--    naming another message's queue ID reads nothing of it); the nearest
--    sessions shown around a gap carry times, never an identity; the reach
--    is the window plus the tolerance, once.
-- 7. Evidence block ids are unique across partitions: a block whose id is
--    already stored (in any day) is refused, so nothing ingest inserts can
--    shadow a stored line.
-- 8. pg_temp last in every function's search_path; TRUNCATE refused on the
--    append-only tables; one Message-ID folding (ASCII only) in C and SQL.
SET LOCAL search_path = spoor, pg_catalog;

-- Inside BEGIN ... COMMIT (or a multi-statement query string)?  From the
-- module in sql/ext: SQL cannot ask.
CREATE FUNCTION in_transaction_block() RETURNS boolean
    LANGUAGE c VOLATILE AS 'spoor_evidence', 'spoor_in_transaction_block';
REVOKE ALL ON FUNCTION in_transaction_block() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION in_transaction_block() TO spoor_owner;

-- ---- 2. the advisory lock registry ------------------------------------------
-- The same numbers as lib/lock_keys.h.
CREATE FUNCTION lock_keys() RETURNS TABLE (name text, key bigint)
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
    VALUES ('migrate', 7340201::bigint),      -- spoor db migrate
           ('partitions', 7340202::bigint),   -- partition DDL: ensure_partitions, compaction
           ('lease_horizon', 7340203::bigint), -- the lease merge that moves the horizon (009)
           ('retention', 7340204::bigint),    -- one spoor-retention run at a time (session lock)
           ('audit', 7340205::bigint)         -- the audit chain's writer (until 013: 7340203, shared)
$$;
CREATE FUNCTION lock_key(p_name text) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog AS $$
    SELECT k.key FROM spoor.lock_keys() k WHERE k.name = p_name
$$;
ALTER FUNCTION lock_keys() OWNER TO spoor_owner;
ALTER FUNCTION lock_key(text) OWNER TO spoor_owner;

SET LOCAL ROLE spoor_owner;

-- ---- 2. the audit chain's own key ----------------------------------------------
CREATE OR REPLACE FUNCTION audit_append(p_action text, p_request bigint, p_params jsonb, p_outcome text,
                             p_digest text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
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
$$;



-- ---- 3. only what the order names ---------------------------------------------
CREATE OR REPLACE FUNCTION gate(p_request bigint, p_kind text, p_value text, p_port integer,
                     p_at timestamptz, p_tol interval) RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, spoor, pg_temp AS $$
DECLARE
    r spoor.request;
BEGIN
    SELECT * INTO r FROM spoor.request WHERE request_id = p_request FOR UPDATE;
    IF NOT FOUND THEN RETURN 'no such request'; END IF;
    IF r.kind <> 'disclosure' THEN RETURN 'a preservation request does not allow lookups'; END IF;
    IF r.state NOT IN ('approved', 'executed') THEN
        RETURN 'request is ' || r.state || ': lookups need an approved request';
    END IF;
    IF r.deadline IS NOT NULL AND now() > r.deadline THEN
        RETURN 'request deadline has passed';
    END IF;
    IF r.lookups_done >= r.max_lookups THEN
        RETURN format('lookup budget of the request used up (%s of %s)', r.lookups_done, r.max_lookups);
    END IF;
    IF p_tol > interval '1 hour' OR p_tol < interval '0' THEN RETURN 'tolerance must be between 0 and 1 hour'; END IF;
    -- The instant must lie inside the window itself: the lookup then reaches
    -- its tolerance around it, so the reach is the window plus the tolerance,
    -- once (it was the window plus the tolerance here, and again in lease_at).
    IF p_at IS NOT NULL AND (p_at < r.window_lo OR p_at > r.window_hi) THEN
        RETURN format('instant %s is outside the request window %s .. %s', p_at, r.window_lo, r.window_hi);
    END IF;
    IF p_kind = 'ip' THEN
        IF NOT EXISTS (SELECT 1 FROM spoor.request_scope s WHERE s.request_id = p_request AND s.kind = 'ip'
                       AND s.value::inet >>= p_value::inet AND masklen(p_value::inet) >= masklen(s.value::inet)
                       AND (s.port IS NULL OR s.port = p_port)) THEN
            RETURN format('address %s%s is not named by the request', p_value,
                          CASE WHEN p_port IS NOT NULL THEN ' port ' || p_port ELSE '' END);
        END IF;
    ELSE
        IF NOT EXISTS (SELECT 1 FROM spoor.request_scope s WHERE s.request_id = p_request
                       AND s.kind = p_kind AND s.value = p_value) THEN
            RETURN format('%s %s is not named by the request', p_kind, p_value);
        END IF;
    END IF;
    UPDATE spoor.request SET lookups_done = lookups_done + 1,
        state = CASE WHEN state = 'approved' THEN 'executed' ELSE state END
    WHERE request_id = p_request;
    RETURN NULL;
END
$$;

-- The nearest sessions either side of a gap are shown by their times only:
-- they are not what the order named, so no identity of theirs leaves.
CREATE FUNCTION lookup_gap_only(p jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
    SELECT CASE WHEN p IS NULL OR jsonb_typeof(p) <> 'object' THEN p
                ELSE jsonb_build_object('start', p->'start', 'stop', p->'stop') END
$$;
ALTER FUNCTION lease_at(inet, timestamptz, interval) RENAME TO lease_at_full;
-- PL/pgSQL, so the lookup runs once: as a SQL function whose subquery the
-- planner flattened, it ran once for each of the three uses of its result.
CREATE FUNCTION lease_at(p_ip inet, p_at timestamptz, p_tol interval) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, spoor, pg_temp AS $$
DECLARE
    r jsonb := spoor.lease_at_full(p_ip, p_at, p_tol);
BEGIN
    RETURN r || jsonb_build_object('nearest_before', spoor.lookup_gap_only(r->'nearest_before'),
                                   'nearest_after', spoor.lookup_gap_only(r->'nearest_after'));
END
$$;

CREATE OR REPLACE FUNCTION trace_message_id_core(p_request bigint, p_message_id text, p_tolerance interval)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
DECLARE
    v_id text := spoor.msgid_normalize(p_message_id);
    v_params jsonb := jsonb_build_object('message_id', spoor.msgid_normalize(p_message_id),
                                         'tolerance_s', extract(epoch FROM p_tolerance));
    v_why text;
    v_lo timestamptz;
    v_hi timestamptz;
    v_subs jsonb;
    v_res jsonb;
BEGIN
    v_why := spoor.gate(p_request, 'message_id', v_id, NULL, NULL, coalesce(p_tolerance, interval '0'));
    IF v_why IS NOT NULL THEN
        PERFORM spoor.audit_append('trace.message_id', p_request, v_params, 'denied', v_why);
        RETURN jsonb_build_object('status', 'denied', 'reason', v_why);
    END IF;
    -- Messages whose lines fall inside the order's window plus the tolerance,
    -- once: the window named the instants the order covers (it was the
    -- window plus a day either side).
    SELECT window_lo - coalesce(p_tolerance, interval '0'), window_hi + coalesce(p_tolerance, interval '0')
    INTO v_lo, v_hi FROM spoor.request WHERE request_id = p_request;

    v_subs := spoor.submissions_for(v_id, v_lo, v_hi, p_tolerance);


    v_res := jsonb_build_object('status', 'ok', 'request_id', p_request, 'query', v_params,
                                'submissions', v_subs);
    PERFORM spoor.audit_append('trace.message_id', p_request, v_params, 'ok',
                               encode(sha256(convert_to(v_res::text, 'UTF8')), 'hex'));
    RETURN v_res;
END
$$;

CREATE OR REPLACE FUNCTION trace_headers_core(p_request bigint, p_message_id text, p_hops jsonb,
                                              p_tolerance interval) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
DECLARE
    v_id text := spoor.msgid_normalize(p_message_id);
    v_params jsonb := jsonb_build_object('message_id', spoor.msgid_normalize(p_message_id),
                                         'hops', p_hops);
    v_why text;
    v_lo timestamptz;
    v_hi timestamptz;
    v_hops jsonb;
    v_res jsonb;
BEGIN
    IF jsonb_typeof(p_hops) IS DISTINCT FROM 'array' OR jsonb_array_length(p_hops) > 50 THEN
        v_why := 'hops must be an array of at most 50 entries';
    ELSE
        v_why := spoor.gate(p_request, 'message_id', v_id, NULL, NULL, coalesce(p_tolerance, interval '0'));
    END IF;
    IF v_why IS NOT NULL THEN
        PERFORM spoor.audit_append('trace.headers', p_request, v_params, 'denied', v_why);
        RETURN jsonb_build_object('status', 'denied', 'reason', v_why);
    END IF;
    -- The order's window plus the tolerance, once (see trace_message_id_core).
    SELECT window_lo - coalesce(p_tolerance, interval '0'), window_hi + coalesce(p_tolerance, interval '0')
    INTO v_lo, v_hi FROM spoor.request WHERE request_id = p_request;
    SELECT coalesce(jsonb_agg(h.hop || jsonb_build_object(
               'state', CASE WHEN m.msgid_match THEN 'verified' ELSE 'not_in_our_logs' END,
               'queue_found', m.msgid_match, 'message_id_match', m.msgid_match,
               'evidence', CASE WHEN m.msgid_match THEN m.evidence END) ORDER BY h.n), '[]'::jsonb)
    INTO v_hops
    FROM jsonb_array_elements(p_hops) WITH ORDINALITY AS h(hop, n)
    CROSS JOIN LATERAL (
        SELECT count(*) > 0 AS queue_found,
               coalesce(bool_or(e.message_id = v_id), false) AS msgid_match,
               coalesce(bool_or(e.message_id IS NOT NULL), false) AS msgid_logged,
               jsonb_agg(spoor.evidence_of(e.block_id, e.block_idx, e.ts) ORDER BY e.ts, e.block_id, e.block_idx)
                   FILTER (WHERE e.kind IN (1, 2, 11)) AS evidence
        FROM spoor.smtp_by_queue(
                 ARRAY(SELECT x FROM jsonb_array_elements_text(h.hop->'hosts') x),
                 ARRAY(SELECT h.hop->>'queue_id' FROM jsonb_array_elements_text(h.hop->'hosts') x),
                 (h.hop->>'time')::timestamptz - interval '1 day',
                 (h.hop->>'time')::timestamptz + interval '1 day') e
        WHERE e.ts BETWEEN v_lo AND v_hi) m;
    v_res := jsonb_build_object('status', 'ok', 'request_id', p_request, 'query', v_params,
                                'hops', v_hops,
                                'submissions', spoor.submissions_for(v_id, v_lo, v_hi, p_tolerance));
    PERFORM spoor.audit_append('trace.headers', p_request, v_params, 'ok',
                               encode(sha256(convert_to(v_res::text, 'UTF8')), 'hex'));
    RETURN v_res;
END
$$;

-- ---- 1. lookups in two steps ----------------------------------------------------
CREATE TABLE lookup_ticket (
    ticket_id  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id bigint,                 -- as asked (a refusal may name no request)
    action     text        NOT NULL,
    actor      name        NOT NULL,
    xact       xid8        NOT NULL,   -- the recording top-level transaction
    audit_seq  bigint      NOT NULL,   -- the lookup's audit entry
    reveal_seq bigint,                 -- its subscriber.reveal entry, if any
    outcome    text        NOT NULL CHECK (outcome IN ('ok', 'denied')),
    denial     jsonb,                  -- a refusal's answer; an allowed one is in request_result
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER lookup_ticket_append_only BEFORE UPDATE OR DELETE ON lookup_ticket
    FOR EACH ROW EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER lookup_ticket_no_truncate BEFORE TRUNCATE ON lookup_ticket
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();

-- Records a lookup the core has answered (and audited): keeps an allowed
-- answer (result_keep: request_result and the subscriber reveal) and returns
-- only the ticket.  The core's audit entry is the newest: audit_append's
-- lock is held to the end of this transaction.
CREATE FUNCTION lookup_record(p_request bigint, p_action text, p_res jsonb) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, spoor, pg_temp AS $$
DECLARE
    v_seq bigint;
    v_reveal bigint;
    v_ticket bigint;
    v_ok boolean := p_res->>'status' = 'ok';
BEGIN
    SELECT max(seq) INTO v_seq FROM spoor.audit;
    IF v_ok THEN
        PERFORM spoor.result_keep(p_request, p_action, p_res);
        SELECT max(seq) INTO v_reveal FROM spoor.audit;
        IF v_reveal = v_seq THEN
            v_reveal := NULL;
        END IF;
    END IF;
    INSERT INTO spoor.lookup_ticket (request_id, action, actor, xact, audit_seq, reveal_seq, outcome, denial)
    VALUES (p_request, p_action, spoor.actor(), pg_current_xact_id(), v_seq, v_reveal,
            CASE WHEN v_ok THEN 'ok' ELSE 'denied' END, CASE WHEN v_ok THEN NULL ELSE p_res END)
    RETURNING ticket_id INTO v_ticket;
    RETURN jsonb_build_object('status', 'recorded', 'ticket', v_ticket,
                              'outcome', CASE WHEN v_ok THEN 'ok' ELSE 'denied' END);
END
$$;

-- The answer of a lookup, to the person who made it, once the transaction
-- that recorded it has committed (so its audit entry and budget are on the
-- record whatever happens to this one).
CREATE FUNCTION lookup_answer(p_ticket bigint) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
DECLARE
    t spoor.lookup_ticket;
    v jsonb;
BEGIN
    SELECT * INTO t FROM spoor.lookup_ticket WHERE ticket_id = p_ticket;
    IF NOT FOUND OR t.actor <> spoor.actor() THEN
        RAISE EXCEPTION 'no lookup % of yours has been recorded', p_ticket USING ERRCODE = '42704';
    END IF;
    IF pg_xact_status(t.xact) IS DISTINCT FROM 'committed' THEN
        RAISE EXCEPTION 'lookup % is not committed: its answer is given only once its audit entry is on the record (run the lookup on its own, not inside a transaction block)', p_ticket
            USING ERRCODE = '55000';
    END IF;
    IF t.outcome <> 'ok' THEN
        RETURN t.denial;
    END IF;
    SELECT r.result INTO v FROM spoor.request_result r WHERE r.audit_seq = t.audit_seq;
    IF t.reveal_seq IS NOT NULL THEN
        v := v || (SELECT r.result FROM spoor.request_result r WHERE r.audit_seq = t.reveal_seq);
    END IF;
    RETURN v;
END
$$;

CREATE OR REPLACE FUNCTION trace_ip(p_request bigint, p_ip inet, p_at timestamptz, p_port integer,
                                    p_tolerance interval) RETURNS jsonb
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
    SELECT spoor.lookup_record(p_request, 'trace.ip',
                               spoor.trace_ip_core(p_request, p_ip, p_at, p_port, p_tolerance))
$$;
CREATE OR REPLACE FUNCTION trace_message_id(p_request bigint, p_message_id text, p_tolerance interval)
RETURNS jsonb
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
    SELECT spoor.lookup_record(p_request, 'trace.message_id',
                               spoor.trace_message_id_core(p_request, p_message_id, p_tolerance))
$$;
CREATE OR REPLACE FUNCTION trace_headers(p_request bigint, p_message_id text, p_hops jsonb,
                                         p_tolerance interval) RETURNS jsonb
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
    SELECT spoor.lookup_record(p_request, 'trace.headers',
                               spoor.trace_headers_core(p_request, p_message_id, p_hops, p_tolerance))
$$;
CREATE OR REPLACE FUNCTION trace_user(p_request bigint, p_user text) RETURNS jsonb
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
    SELECT spoor.lookup_record(p_request, 'trace.user', spoor.trace_user_core(p_request, p_user))
$$;

-- ---- 7. evidence block ids, unique across every partition --------------------
-- A partitioned table's unique index must include the partition key (day),
-- so the ids are registered here as well; a block whose id is stored in any
-- day is refused, and the batch that carried it fails.
CREATE TABLE evidence_block_id (block_id bigint PRIMARY KEY);
INSERT INTO evidence_block_id SELECT block_id FROM evidence_block;
CREATE TRIGGER evidence_block_id_no_update BEFORE UPDATE OR DELETE ON evidence_block_id
    FOR EACH ROW EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER evidence_block_id_no_truncate BEFORE TRUNCATE ON evidence_block_id
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();
CREATE FUNCTION evidence_block_register() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor, pg_temp AS $$
BEGIN
    INSERT INTO spoor.evidence_block_id SELECT block_id FROM new_blocks;
    RETURN NULL;
EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'an evidence block id is already stored: a stored block cannot be shadowed'
        USING ERRCODE = '23505';
END
$$;
CREATE TRIGGER evidence_block_register AFTER INSERT ON evidence_block
    REFERENCING NEW TABLE AS new_blocks FOR EACH STATEMENT EXECUTE FUNCTION evidence_block_register();

-- ---- 8. the smaller points ------------------------------------------------------
-- Message-IDs fold the domain's ASCII letters only, as lib/msgid.c does
-- (lower() followed the database's locale and folded non-ASCII letters too).
CREATE OR REPLACE FUNCTION msgid_normalize(p text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH t AS (SELECT regexp_replace(regexp_replace(btrim(p, E' \t\r\n'), '^<', ''), '>$', '') AS v)
    SELECT CASE WHEN strpos(v, '@') = 0 THEN v
                ELSE substring(v FROM '^(.*@)')
                     || translate(substring(v FROM '^.*@(.*)$'), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
                                  'abcdefghijklmnopqrstuvwxyz') END
    FROM t
$$;
UPDATE request_scope SET value = msgid_normalize(value)
WHERE kind = 'message_id' AND value <> msgid_normalize(value);

CREATE TRIGGER request_result_no_truncate BEFORE TRUNCATE ON request_result
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER retention_dropped_no_truncate BEFORE TRUNCATE ON retention_dropped
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER request_scope_append_only BEFORE UPDATE OR DELETE ON request_scope
    FOR EACH ROW EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER request_scope_no_truncate BEFORE TRUNCATE ON request_scope
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();

RESET ROLE;


-- Person logins get session limits: a transaction left open cannot hold what
-- others wait for for long (user_add, 015, sets them on new logins).
DO $$
DECLARE r name;
BEGIN
    FOR r IN SELECT DISTINCT u.rolname FROM pg_auth_members m
             JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
             WHERE g.rolname IN ('spoor_analyst', 'spoor_approver', 'spoor_auditor', 'spoor_admin')
               AND u.rolcanlogin AND NOT u.rolsuper LOOP
        EXECUTE format('ALTER ROLE %I SET idle_in_transaction_session_timeout = %L', r, '60s');
        EXECUTE format('ALTER ROLE %I SET lock_timeout = %L', r, '30s');
        EXECUTE format('ALTER ROLE %I SET statement_timeout = %L', r, '60s');
    END LOOP;
END
$$;

-- pg_temp last in every Spoor function's search_path: unlisted, it is
-- searched first, and a caller's temporary table or function would be found
-- before Spoor's own.
DO $$
DECLARE
    f record;
    v text;
BEGIN
    FOR f IN SELECT p.oid::regprocedure AS sig, c.cfg
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             CROSS JOIN LATERAL unnest(p.proconfig) c(cfg)
             WHERE n.nspname IN ('spoor', 'spoor_identity') AND c.cfg LIKE 'search_path=%'
               AND c.cfg NOT LIKE '%pg_temp%' LOOP
        v := substring(f.cfg FROM length('search_path=') + 1);
        EXECUTE format('ALTER FUNCTION %s SET search_path = %s, pg_temp', f.sig, v);
    END LOOP;
END
$$;

REVOKE ALL ON TABLE spoor.lookup_ticket, spoor.evidence_block_id FROM PUBLIC;
REVOKE ALL ON FUNCTION spoor.lock_keys(), spoor.lock_key(text), spoor.lookup_gap_only(jsonb),
    spoor.lookup_record(bigint, text, jsonb), spoor.lookup_answer(bigint),
    spoor.evidence_block_register(), spoor.lease_at(inet, timestamptz, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.lookup_answer(bigint) TO spoor_analyst;
GRANT EXECUTE ON FUNCTION spoor.lock_keys() TO spoor_admin, spoor_auditor;
