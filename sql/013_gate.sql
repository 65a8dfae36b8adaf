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

SET LOCAL ROLE spoor_owner;

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

-- ---- 7. evidence block ids, unique across every partition --------------------
-- A partitioned table's unique index must include the partition key (day),
-- so the ids are registered here as well; a block whose id is stored in any
-- day is refused, and the batch that carried it fails.
CREATE TABLE evidence_block_id (block_id bigint PRIMARY KEY);
INSERT INTO evidence_block_id SELECT block_id FROM evidence_block;
-- Message-IDs fold the domain's ASCII letters only, as lib/msgid.c does
-- (lower() followed the database's locale and folded non-ASCII letters too):
-- the stored scopes are folded again by the rule of this migration, which a
-- later spoor.msgid_normalize (sql/functions/) cannot change.
CREATE FUNCTION pg_temp.msgid_fold_013(p text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    WITH t AS (SELECT regexp_replace(regexp_replace(btrim(p, E' \t\r\n'), '^<', ''), '>$', '') AS v)
    SELECT CASE WHEN strpos(v, '@') = 0 THEN v
                ELSE substring(v FROM '^(.*@)')
                     || translate(substring(v FROM '^.*@(.*)$'), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
                                  'abcdefghijklmnopqrstuvwxyz') END
    FROM t
$$;
UPDATE request_scope SET value = pg_temp.msgid_fold_013(value)
WHERE kind = 'message_id' AND value <> pg_temp.msgid_fold_013(value);

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

REVOKE ALL ON TABLE spoor.lookup_ticket, spoor.evidence_block_id FROM PUBLIC;
