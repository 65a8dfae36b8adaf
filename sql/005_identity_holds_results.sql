-- 005: subscriber identity kept apart, kept results, legal holds, reports.
--
-- Subscriber identity.  The link from an account name to a person (name,
-- postal address, billing contact) lives in its own schema, owned by its
-- own role, spoor_identity, which is not spoor_owner: the SECURITY DEFINER
-- lookups that read traffic data cannot read identities, and the identity
-- functions read nothing of the traffic data but the request they are asked
-- under.  An identity is revealed only through spoor_identity.reveal(),
-- only for a request approved with subscriber data in its scope, and only
-- for accounts the request's own results named; each reveal is a separate
-- audit entry.  This is the "watertight separation" between traffic data and
-- civil identity that the CJEU asks for (C-511/18 La Quadrature du Net,
-- paras 152-159; C-140/20 Commissioner of An Garda Siochana).
--
-- Kept results.  What every allowed lookup returned is kept beside its audit
-- entry (request_result), so a disclosure package is built from exactly what
-- was seen, the audit entry's result digest proves it, and an export never
-- runs a lookup again.
--
-- Legal holds.  Approving a preservation request makes it 'executed' and
-- creates a hold on its identifiers and window (or on whole days), expiring
-- after 90 days unless renewed (18 U.S.C. 2703(f)(2): 90 days, renewable
-- for another 90).  Releasing a hold early takes two people.
SET LOCAL search_path = spoor, pg_catalog;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spoor_identity') THEN
        CREATE ROLE spoor_identity NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
END
$$;
DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO spoor_identity', current_database()); END $$;
-- The migration runner (a superuser or the database owner) hands the schema
-- to spoor_identity; spoor_owner gets nothing in it.
CREATE SCHEMA spoor_identity AUTHORIZATION spoor_identity;
REVOKE ALL ON SCHEMA spoor_identity FROM PUBLIC;
GRANT USAGE ON SCHEMA spoor TO spoor_identity;
GRANT EXECUTE ON FUNCTION spoor.audit_append(text, bigint, jsonb, text, text) TO spoor_identity;

-- Requests say whether subscriber data is in scope, and how long a hold lasts.
ALTER TABLE spoor.request ADD COLUMN subscriber_data boolean NOT NULL DEFAULT false;
ALTER TABLE spoor.request ADD COLUMN hold_mode text NOT NULL DEFAULT 'records'
    CHECK (hold_mode IN ('records', 'days'));
ALTER TABLE spoor.request ADD COLUMN hold_days integer NOT NULL DEFAULT 90
    CHECK (hold_days BETWEEN 1 AND 90);
GRANT SELECT (request_id, state, kind, subscriber_data) ON spoor.request TO spoor_identity;

SET LOCAL ROLE spoor_identity;

CREATE TABLE spoor_identity.subscriber (
    account         text        PRIMARY KEY CHECK (account <> ''),
    full_name       text,
    postal_address  text,
    billing_contact text,
    customer_ref    text,
    imported_at     timestamptz NOT NULL DEFAULT now(),
    import_sha256   text        NOT NULL
);

-- Loads (upserts) rows from the ISP's customer system.  P_ROWS: a JSON array
-- of objects with account, full_name, postal_address, billing_contact,
-- customer_ref.  The import is audited with the file's SHA-256 and the row
-- count, never the data.
CREATE FUNCTION spoor_identity.subscriber_import(p_rows jsonb, p_file_sha256 text, p_file text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor_identity AS $$
DECLARE
    v_n integer;
BEGIN
    IF jsonb_typeof(p_rows) IS DISTINCT FROM 'array' THEN
        RETURN jsonb_build_object('status', 'denied', 'reason', 'rows must be a JSON array');
    END IF;
    INSERT INTO spoor_identity.subscriber AS s (account, full_name, postal_address, billing_contact,
                                                customer_ref, import_sha256)
    SELECT r->>'account', r->>'full_name', r->>'postal_address', r->>'billing_contact',
           r->>'customer_ref', p_file_sha256
    FROM jsonb_array_elements(p_rows) r
    ON CONFLICT (account) DO UPDATE SET full_name = EXCLUDED.full_name,
        postal_address = EXCLUDED.postal_address, billing_contact = EXCLUDED.billing_contact,
        customer_ref = EXCLUDED.customer_ref, imported_at = now(),
        import_sha256 = EXCLUDED.import_sha256;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    PERFORM spoor.audit_append('subscribers.import', NULL,
        jsonb_build_object('file', p_file, 'sha256', p_file_sha256, 'rows', v_n), 'ok', NULL);
    RETURN jsonb_build_object('status', 'ok', 'rows', v_n);
END
$$;

-- The civil identity behind ACCOUNTS, for a request that has subscriber data
-- in scope and is approved.  Called by spoor.result_keep() only.
CREATE FUNCTION spoor_identity.reveal(p_request bigint, p_accounts text[]) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, spoor_identity AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM spoor.request r WHERE r.request_id = p_request
                   AND r.subscriber_data AND r.kind = 'disclosure'
                   AND r.state IN ('approved', 'executed')) THEN
        RETURN NULL;
    END IF;
    RETURN (SELECT coalesce(jsonb_object_agg(s.account, jsonb_build_object(
                'full_name', s.full_name, 'postal_address', s.postal_address,
                'billing_contact', s.billing_contact, 'customer_ref', s.customer_ref,
                'imported_at', s.imported_at)), '{}'::jsonb)
            FROM spoor_identity.subscriber s WHERE s.account = ANY (p_accounts));
END
$$;

-- How many identities are loaded (no identity itself): for `spoor report`.
CREATE FUNCTION spoor_identity.subscriber_count() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, spoor_identity AS $$
    SELECT count(*) FROM spoor_identity.subscriber
$$;

RESET ROLE;
REVOKE ALL ON FUNCTION spoor_identity.subscriber_import(jsonb, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION spoor_identity.reveal(bigint, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION spoor_identity.subscriber_count() FROM PUBLIC;
GRANT USAGE ON SCHEMA spoor_identity TO spoor_admin, spoor_owner, spoor_auditor;
GRANT EXECUTE ON FUNCTION spoor_identity.subscriber_import(jsonb, text, text) TO spoor_admin;
GRANT EXECUTE ON FUNCTION spoor_identity.reveal(bigint, text[]) TO spoor_owner;
GRANT EXECUTE ON FUNCTION spoor_identity.subscriber_count() TO spoor_auditor, spoor_admin, spoor_owner;

SET LOCAL ROLE spoor_owner;

-- ---- kept results -----------------------------------------------------------

CREATE TABLE request_result (
    request_id bigint NOT NULL REFERENCES request,
    audit_seq  bigint NOT NULL PRIMARY KEY,
    action     text   NOT NULL,
    result     jsonb  NOT NULL
);
CREATE INDEX request_result_request ON request_result (request_id, audit_seq);
CREATE TRIGGER request_result_append_only BEFORE UPDATE OR DELETE ON request_result
    FOR EACH ROW EXECUTE FUNCTION audit_refuse();

-- Keeps an allowed lookup's answer beside its audit entry (the newest one:
-- the audit lock taken by audit_append is held to the end of the
-- transaction, so no other entry can come between) and, if the request has
-- subscriber data in scope, adds the identities of the accounts the answer
-- names, as a separate audited reveal.
CREATE FUNCTION result_keep(p_request bigint, p_action text, p_res jsonb) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, spoor AS $$
DECLARE
    v_seq bigint;
    v_reveal bigint;
    v_accounts text[];
    v_ident jsonb;
    v_sub boolean;
BEGIN
    IF p_res->>'status' IS DISTINCT FROM 'ok' THEN
        RETURN p_res;
    END IF;
    SELECT max(seq) INTO v_seq FROM spoor.audit;
    INSERT INTO spoor.request_result VALUES (p_request, v_seq, p_action, p_res);
    SELECT subscriber_data INTO v_sub FROM spoor.request WHERE request_id = p_request;
    IF NOT v_sub THEN
        RETURN p_res;
    END IF;
    -- The holders of the sessions the answer names (not the neighbours it
    -- shows around a gap).
    SELECT array_agg(DISTINCT j.v #>> '{}' ORDER BY j.v #>> '{}') INTO v_accounts
    FROM (SELECT jsonb_path_query(p_res, 'lax $.sessions[*].user_name')
          UNION ALL
          SELECT jsonb_path_query(p_res, 'lax $.submissions[*].session_trace.sessions[*].user_name')) j(v)
    WHERE jsonb_typeof(j.v) = 'string';
    v_ident := spoor_identity.reveal(p_request, coalesce(v_accounts, '{}'));
    IF v_ident IS NULL THEN
        RETURN p_res;
    END IF;
    v_ident := jsonb_build_object('subscribers', v_ident);
    v_reveal := spoor.audit_append('subscriber.reveal', p_request,
        jsonb_build_object('accounts', to_jsonb(coalesce(v_accounts, '{}')), 'for_seq', v_seq), 'ok',
        encode(sha256(convert_to(v_ident::text, 'UTF8')), 'hex'));
    INSERT INTO spoor.request_result VALUES (p_request, v_reveal, 'subscriber.reveal', v_ident);
    RETURN p_res || v_ident;
END
$$;

-- The lookups analysts call: the gated cores of 003, plus result_keep.
ALTER FUNCTION trace_ip(bigint, inet, timestamptz, integer, interval) RENAME TO trace_ip_core;
ALTER FUNCTION trace_message_id(bigint, text, interval) RENAME TO trace_message_id_core;
ALTER FUNCTION trace_headers(bigint, text, jsonb, interval) RENAME TO trace_headers_core;

CREATE FUNCTION trace_ip(p_request bigint, p_ip inet, p_at timestamptz, p_port integer,
                         p_tolerance interval) RETURNS jsonb
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
    SELECT spoor.result_keep(p_request, 'trace.ip',
                             spoor.trace_ip_core(p_request, p_ip, p_at, p_port, p_tolerance))
$$;
CREATE FUNCTION trace_message_id(p_request bigint, p_message_id text, p_tolerance interval)
RETURNS jsonb
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
    SELECT spoor.result_keep(p_request, 'trace.message_id',
                             spoor.trace_message_id_core(p_request, p_message_id, p_tolerance))
$$;
CREATE FUNCTION trace_headers(p_request bigint, p_message_id text, p_hops jsonb,
                              p_tolerance interval) RETURNS jsonb
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
    SELECT spoor.result_keep(p_request, 'trace.headers',
                             spoor.trace_headers_core(p_request, p_message_id, p_hops, p_tolerance))
$$;

-- A subscriber's sessions during the order's window: only when the order
-- names that subscriber (scope kind user_name), never a listing of anyone
-- else's.  Gated, audited and kept like the other lookups.
CREATE INDEX lease_user ON lease (user_name) WHERE user_name IS NOT NULL;

CREATE FUNCTION trace_user_core(p_request bigint, p_user text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
DECLARE
    v_params jsonb := jsonb_build_object('user_name', p_user);
    v_why text;
    v_lo timestamptz;
    v_hi timestamptz;
    v_sessions jsonb;
    v_res jsonb;
BEGIN
    IF p_user IS NULL OR p_user = '' THEN
        v_why := 'a user name is required';
    ELSE
        v_why := spoor.gate(p_request, 'user_name', p_user, NULL, NULL, interval '0');
    END IF;
    IF v_why IS NOT NULL THEN
        PERFORM spoor.audit_append('trace.user', p_request, v_params, 'denied', v_why);
        RETURN jsonb_build_object('status', 'denied', 'reason', v_why);
    END IF;
    SELECT window_lo, window_hi INTO v_lo, v_hi FROM spoor.request WHERE request_id = p_request;
    SELECT coalesce(jsonb_agg(x.s ORDER BY x.start), '[]'::jsonb) INTO v_sessions
    FROM (
        SELECT coalesce(l.start_ts, l.est_start, l.first_ts) AS start, jsonb_build_object(
            'user_name', l.user_name, 'calling_station_id', l.calling_station_id,
            'called_station_id', l.called_station_id, 'nas_ip', host(l.nas_ip),
            'nas_identifier', l.nas_identifier, 'nas_port', l.nas_port, 'nas_port_id', l.nas_port_id,
            'acct_session_id', l.acct_session_id,
            'framed_ip', CASE WHEN l.addr_kind = 1 THEN host(l.addr) END,
            'framed_ipv6_prefix', CASE WHEN l.addr_kind = 2 THEN l.addr::text END,
            'delegated_ipv6_prefix', CASE WHEN l.addr_kind = 3 THEN l.addr::text END,
            'start', coalesce(l.start_ts, l.est_start, l.first_ts), 'start_seen', l.start_ts IS NOT NULL,
            'stop', l.stop_ts, 'terminate_cause', l.terminate_cause, 'last_seen', l.last_ts,
            'evidence', (SELECT coalesce(jsonb_agg(spoor.evidence_of(e.block_id, e.block_idx, e.ts) ORDER BY e.ts), '[]')
                         FROM (SELECT e.block_id, e.block_idx, e.ts FROM spoor.radius_event e
                               WHERE e.session_key = l.session_key AND e.status IN (1, 2)
                                 AND e.ts BETWEEN coalesce(l.start_ts, l.est_start, l.first_ts) - interval '1 minute'
                                              AND coalesce(l.stop_ts, l.span_hi) + interval '1 minute'
                               ORDER BY e.ts LIMIT 4) e)) AS s
        FROM spoor.lease l
        WHERE l.user_name = p_user AND l.first_ts <= v_hi AND l.span_hi >= v_lo
        ORDER BY coalesce(l.start_ts, l.est_start, l.first_ts)
        LIMIT 1000) x;
    v_res := jsonb_build_object('status', 'ok', 'request_id', p_request, 'query', v_params,
                                'window', jsonb_build_array(v_lo, v_hi), 'sessions', v_sessions);
    PERFORM spoor.audit_append('trace.user', p_request, v_params, 'ok',
                               encode(sha256(convert_to(v_res::text, 'UTF8')), 'hex'));
    RETURN v_res;
END
$$;

CREATE FUNCTION trace_user(p_request bigint, p_user text) RETURNS jsonb
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
    SELECT spoor.result_keep(p_request, 'trace.user', spoor.trace_user_core(p_request, p_user))
$$;

-- ---- requests with options ----------------------------------------------------

-- request_create of 003 plus P_OPTIONS: {"subscriber_data": bool,
-- "hold_mode": "records"|"days", "hold_days": 1..90}.
CREATE FUNCTION request_create(p_case text, p_authority text, p_basis text, p_contact text,
                               p_kind text, p_received timestamptz, p_deadline timestamptz,
                               p_window_lo timestamptz, p_window_hi timestamptz,
                               p_max_lookups integer, p_scope jsonb, p_options jsonb) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
DECLARE
    v_id bigint;
    v_opt jsonb := coalesce(p_options, '{}'::jsonb);
BEGIN
    v_id := spoor.request_create(p_case, p_authority, p_basis, p_contact, p_kind, p_received,
                                 p_deadline, p_window_lo, p_window_hi, p_max_lookups, p_scope);
    IF v_opt <> '{}'::jsonb THEN
        UPDATE spoor.request SET subscriber_data = coalesce((v_opt->>'subscriber_data')::boolean, false),
            hold_mode = coalesce(v_opt->>'hold_mode', 'records'),
            hold_days = coalesce((v_opt->>'hold_days')::integer, 90)
        WHERE request_id = v_id;
        PERFORM spoor.audit_append('request.options', v_id, v_opt, 'ok', NULL);
    END IF;
    RETURN v_id;
END
$$;

-- ---- legal holds ------------------------------------------------------------

CREATE TABLE hold (
    hold_id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id           bigint      NOT NULL REFERENCES request,
    mode                 text        NOT NULL CHECK (mode IN ('records', 'days')),
    window_lo            timestamptz NOT NULL,
    window_hi            timestamptz NOT NULL,
    expires_at           timestamptz NOT NULL,
    state                text        NOT NULL DEFAULT 'active'
                         CHECK (state IN ('active', 'released', 'expired')),
    created_by           name        NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    renewals             integer     NOT NULL DEFAULT 0,
    release_requested_by name,
    release_requested_at timestamptz,
    release_note         text,
    released_by          name,
    released_at          timestamptz,
    -- Two people release a hold early, whatever client is used.
    CHECK (released_by IS NULL OR released_by <> release_requested_by)
);

-- Approving a preservation request executes it: the hold is created in the
-- same statement, so there is no approved preservation without its hold.
CREATE FUNCTION request_preserve_trg() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, spoor AS $$
DECLARE
    v_hold bigint;
BEGIN
    IF NEW.kind = 'preservation' AND NEW.state = 'approved' AND OLD.state = 'received' THEN
        NEW.state := 'executed';
        INSERT INTO spoor.hold (request_id, mode, window_lo, window_hi, expires_at, created_by)
        VALUES (NEW.request_id, NEW.hold_mode, NEW.window_lo, NEW.window_hi,
                now() + make_interval(days => NEW.hold_days), spoor.actor())
        RETURNING hold_id INTO v_hold;
        PERFORM spoor.audit_append('hold.create', NEW.request_id,
            jsonb_build_object('hold_id', v_hold, 'mode', NEW.hold_mode,
                               'window', jsonb_build_array(NEW.window_lo, NEW.window_hi),
                               'days', NEW.hold_days), 'ok', NULL);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER request_preserve BEFORE UPDATE OF state ON request
    FOR EACH ROW EXECUTE FUNCTION request_preserve_trg();

-- Marks holds past their expiry 'expired'; returns how many.
CREATE FUNCTION hold_expire_due() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
DECLARE
    h record;
    n integer := 0;
BEGIN
    FOR h IN SELECT hold_id, request_id FROM spoor.hold
             WHERE state = 'active' AND expires_at < now() FOR UPDATE LOOP
        UPDATE spoor.hold SET state = 'expired' WHERE hold_id = h.hold_id;
        PERFORM spoor.audit_append('hold.expire', h.request_id,
                                   jsonb_build_object('hold_id', h.hold_id), 'ok', NULL);
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;

CREATE FUNCTION hold_list() RETURNS SETOF jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
BEGIN
    PERFORM spoor.hold_expire_due();
    RETURN QUERY
        SELECT to_jsonb(h) || jsonb_build_object('case_ref', r.case_ref, 'authority', r.authority,
            'scope', (SELECT jsonb_agg(jsonb_build_object('kind', s.kind, 'value', s.value, 'port', s.port)
                                       ORDER BY s.kind, s.value)
                      FROM spoor.request_scope s WHERE s.request_id = h.request_id))
        FROM spoor.hold h JOIN spoor.request r USING (request_id) ORDER BY h.hold_id;
END
$$;

-- The hold P_HOLD, locked, after marking expired holds; WHY says why it
-- cannot be acted on (NULL if it is active).
CREATE FUNCTION hold_active(p_hold bigint, OUT h spoor.hold, OUT why text)
LANGUAGE plpgsql SET search_path = pg_catalog, spoor AS $$
BEGIN
    PERFORM spoor.hold_expire_due();
    SELECT * INTO h FROM spoor.hold WHERE hold_id = p_hold FOR UPDATE;
    why := CASE WHEN h.hold_id IS NULL THEN 'no such hold'
                WHEN h.state <> 'active' THEN 'hold ' || p_hold || ' is ' || h.state || ', not active' END;
END
$$;

-- A refused hold action: audited, and answered with the reason.
CREATE FUNCTION hold_deny(p_action text, p_request bigint, p_params jsonb, p_why text) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, spoor AS $$
BEGIN
    PERFORM spoor.audit_append(p_action, p_request, p_params, 'denied', p_why);
    RETURN jsonb_build_object('status', 'denied', 'reason', p_why);
END
$$;

-- Another 1..90 days from now (or from the current expiry if later); only
-- an active hold, audited.
CREATE FUNCTION hold_renew(p_hold bigint, p_days integer, p_note text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
DECLARE
    h spoor.hold;
    v_a record;
    v_why text;
    v_days integer := coalesce(p_days, 90);
    v_exp timestamptz;
BEGIN
    v_a := spoor.hold_active(p_hold);
    h := v_a.h;
    v_why := v_a.why;
    IF v_why IS NULL AND v_days NOT BETWEEN 1 AND 90 THEN
        v_why := 'a renewal is 1 to 90 days';
    END IF;
    IF v_why IS NOT NULL THEN
        RETURN spoor.hold_deny('hold.renew', h.request_id,
            jsonb_build_object('hold_id', p_hold, 'days', p_days, 'note', p_note), v_why);
    END IF;
    -- One renewal adds at most 90 days, and a hold never reaches more than
    -- 180 days ahead: renewing again and again does not stack (2703(f)(2):
    -- 90 days, extended once by another 90 on a renewed request).
    v_exp := least(greatest(h.expires_at, now()) + make_interval(days => v_days),
                   now() + interval '180 days');
    UPDATE spoor.hold SET expires_at = v_exp, renewals = renewals + 1 WHERE hold_id = p_hold;
    PERFORM spoor.audit_append('hold.renew', h.request_id,
        jsonb_build_object('hold_id', p_hold, 'days', v_days, 'expires_at', v_exp, 'note', p_note),
        'ok', NULL);
    RETURN jsonb_build_object('status', 'ok', 'hold_id', p_hold, 'expires_at', v_exp);
END
$$;

-- Early release takes two people: the first call asks, a second person's
-- call releases.  The same person asking twice is refused.
CREATE FUNCTION hold_release(p_hold bigint, p_note text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
DECLARE
    h spoor.hold;
    v_a record;
    v_why text;
    v_me name := spoor.actor();
BEGIN
    v_a := spoor.hold_active(p_hold);
    h := v_a.h;
    v_why := v_a.why;
    IF v_why IS NOT NULL THEN
        RETURN spoor.hold_deny('hold.release', h.request_id,
                               jsonb_build_object('hold_id', p_hold, 'note', p_note), v_why);
    END IF;
    IF h.release_requested_by IS NULL THEN
        UPDATE spoor.hold SET release_requested_by = v_me, release_requested_at = now(),
            release_note = p_note WHERE hold_id = p_hold;
        PERFORM spoor.audit_append('hold.release_request', h.request_id,
            jsonb_build_object('hold_id', p_hold, 'note', p_note), 'ok', NULL);
        RETURN jsonb_build_object('status', 'ok', 'hold_id', p_hold, 'state', 'active',
            'release', 'requested: a second person must confirm');
    END IF;
    IF h.release_requested_by = v_me THEN
        RETURN spoor.hold_deny('hold.release', h.request_id,
            jsonb_build_object('hold_id', p_hold, 'note', p_note),
            'two people: the person who asked for the release cannot confirm it');
    END IF;
    UPDATE spoor.hold SET state = 'released', released_by = v_me, released_at = now()
    WHERE hold_id = p_hold;
    PERFORM spoor.audit_append('hold.release', h.request_id,
        jsonb_build_object('hold_id', p_hold, 'note', p_note,
                           'requested_by', h.release_requested_by), 'ok', NULL);
    RETURN jsonb_build_object('status', 'ok', 'hold_id', p_hold, 'state', 'released');
END
$$;

-- The UTC days an active hold keeps, per data class (see sql/README.md,
-- "Legal holds and retention"): the hold's window ± 1 day; for a 'records'
-- hold also every day back to the start of a session that held a named
-- address or user during the window, so the session's Start and its
-- evidence survive too.  Internal: used by retention and reports.
CREATE FUNCTION held_days() RETURNS TABLE (day date, hold_id bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, spoor AS $$
    WITH h AS (SELECT * FROM spoor.hold WHERE state = 'active' AND expires_at >= now()),
    spans AS (
        SELECT h.hold_id, (h.window_lo AT TIME ZONE 'UTC')::date - 1 AS lo,
               (h.window_hi AT TIME ZONE 'UTC')::date + 1 AS hi
        FROM h
        UNION ALL
        SELECT h.hold_id, min(coalesce(l.start_ts, l.est_start, l.first_ts) AT TIME ZONE 'UTC')::date - 1,
               (h.window_lo AT TIME ZONE 'UTC')::date
        FROM h JOIN spoor.request_scope s ON s.request_id = h.request_id AND s.kind = 'ip'
        JOIN spoor.lease_seg g ON g.addr <<= s.value::inet
             AND g.day BETWEEN (h.window_lo AT TIME ZONE 'UTC')::date AND (h.window_hi AT TIME ZONE 'UTC')::date
        JOIN spoor.lease l ON l.session_key = g.session_key AND l.addr = g.addr
        WHERE h.mode = 'records'
        GROUP BY h.hold_id, h.window_lo
        UNION ALL
        SELECT h.hold_id, min(coalesce(l.start_ts, l.est_start, l.first_ts) AT TIME ZONE 'UTC')::date - 1,
               (h.window_lo AT TIME ZONE 'UTC')::date
        FROM h JOIN spoor.request_scope s ON s.request_id = h.request_id AND s.kind = 'user_name'
        JOIN spoor.lease l ON l.user_name = s.value AND l.first_ts <= h.window_hi AND l.span_hi >= h.window_lo
        WHERE h.mode = 'records'
        GROUP BY h.hold_id, h.window_lo
    )
    SELECT DISTINCT d::date, s.hold_id FROM spans s, generate_series(s.lo, s.hi, interval '1 day') d
    WHERE s.lo IS NOT NULL
$$;

-- ---- export and reports -------------------------------------------------------

-- Everything a disclosure package holds, from what was kept: the request,
-- its scope and holds, every kept result, and the request's audit entries
-- with their hashes (so the package's chain links can be recomputed).  Only
-- for a request that was executed.  Audited.
CREATE FUNCTION request_export(p_request bigint) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
DECLARE
    r spoor.request;
    v jsonb;
BEGIN
    SELECT * INTO r FROM spoor.request WHERE request_id = p_request;
    IF NOT FOUND OR r.state NOT IN ('executed', 'disclosed', 'closed') THEN
        PERFORM spoor.audit_append('request.export', p_request, '{}'::jsonb, 'denied',
                                   CASE WHEN NOT FOUND THEN 'no such request' ELSE 'state ' || r.state END);
        RETURN jsonb_build_object('status', 'denied', 'reason',
            CASE WHEN NOT FOUND THEN 'no such request'
                 ELSE 'request is ' || r.state || ': only an executed request has results to export' END);
    END IF;
    -- The export's own entry comes first, so the package's audit list ends with it.
    PERFORM spoor.audit_append('request.export', p_request, '{}'::jsonb, 'ok', NULL);
    v := jsonb_build_object('status', 'ok', 'exported_by', spoor.actor(),
        'request', to_jsonb(r),
        'scope', (SELECT coalesce(jsonb_agg(jsonb_build_object('kind', s.kind, 'value', s.value, 'port', s.port)
                                            ORDER BY s.kind, s.value), '[]')
                  FROM spoor.request_scope s WHERE s.request_id = p_request),
        'holds', (SELECT coalesce(jsonb_agg(to_jsonb(h) ORDER BY h.hold_id), '[]')
                  FROM spoor.hold h WHERE h.request_id = p_request),
        'results', (SELECT coalesce(jsonb_agg(jsonb_build_object('audit_seq', x.audit_seq, 'action', x.action,
                                                                 'result_text', x.result::text) ORDER BY x.audit_seq), '[]')
                    FROM spoor.request_result x WHERE x.request_id = p_request),
        'audit', (SELECT jsonb_agg(jsonb_build_object(
                        'seq', a.seq,
                        'at', to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                        'actor', a.actor, 'action', a.action, 'request_id', a.request_id,
                        'params', a.params::text, 'outcome', a.outcome, 'result_digest', a.result_digest,
                        'prev_hash', encode(a.prev_hash, 'hex'), 'hash', encode(a.hash, 'hex'))
                        ORDER BY a.seq)
                  FROM spoor.audit a WHERE a.request_id = p_request));
    RETURN v;
END
$$;

-- Open requests and deadlines at risk, holds about to expire, and the
-- yearly figures for regulators and transparency reports.
CREATE FUNCTION report(p_year integer, p_risk interval, p_hold_warn interval) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
DECLARE
    v_year integer := coalesce(p_year, extract(year FROM now() AT TIME ZONE 'UTC')::integer);
    v_lo timestamptz := make_timestamptz(v_year, 1, 1, 0, 0, 0, 'UTC');
    v_hi timestamptz := make_timestamptz(v_year + 1, 1, 1, 0, 0, 0, 'UTC');
    v jsonb;
BEGIN
    PERFORM spoor.request_expire_due();
    PERFORM spoor.hold_expire_due();
    WITH yr AS (SELECT * FROM spoor.request WHERE received_at >= v_lo AND received_at < v_hi)
    SELECT jsonb_build_object(
        'generated_at', now(), 'year', v_year,
        'open_requests', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                'request_id', r.request_id, 'case_ref', r.case_ref, 'authority', r.authority,
                'kind', r.kind, 'state', r.state, 'deadline', r.deadline,
                'at_risk', r.deadline IS NOT NULL AND r.deadline < now() + coalesce(p_risk, interval '3 days'))
                ORDER BY r.deadline NULLS LAST, r.request_id), '[]')
            FROM spoor.request r WHERE r.state IN ('received', 'approved', 'executed', 'disclosed')),
        'holds_expiring', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                'hold_id', h.hold_id, 'request_id', h.request_id, 'expires_at', h.expires_at,
                'renewals', h.renewals) ORDER BY h.expires_at), '[]')
            FROM spoor.hold h WHERE h.state = 'active'
              AND h.expires_at < now() + coalesce(p_hold_warn, interval '14 days')),
        'active_holds', (SELECT count(*) FROM spoor.hold WHERE state = 'active'),
        'figures', jsonb_build_object(
            'received', (SELECT count(*) FROM yr),
            'approved', (SELECT count(*) FROM yr WHERE decided_by IS NOT NULL
                            AND state NOT IN ('rejected', 'received')),
            'rejected', (SELECT count(*) FROM yr WHERE state = 'rejected'),
            'cancelled', (SELECT count(*) FROM yr WHERE state = 'cancelled'),
            'expired', (SELECT count(*) FROM yr WHERE state = 'expired'),
            'disclosed', (SELECT count(*) FROM yr WHERE state IN ('disclosed', 'closed')
                             AND decided_by IS NOT NULL AND kind = 'disclosure'),
            'by_authority', (SELECT coalesce(jsonb_object_agg(authority, n), '{}')
                             FROM (SELECT authority, count(*) AS n FROM yr GROUP BY 1) x),
            'by_kind', (SELECT coalesce(jsonb_object_agg(kind, n), '{}')
                        FROM (SELECT kind, count(*) AS n FROM yr GROUP BY 1) x),
            'by_legal_basis', (SELECT coalesce(jsonb_object_agg(legal_basis, n), '{}')
                               FROM (SELECT legal_basis, count(*) AS n FROM yr GROUP BY 1) x),
            'lookups', (SELECT count(*) FROM spoor.audit WHERE action LIKE 'trace.%' AND outcome = 'ok'
                          AND at >= v_lo AND at < v_hi),
            'lookups_denied', (SELECT count(*) FROM spoor.audit WHERE action LIKE 'trace.%'
                                 AND outcome = 'denied' AND at >= v_lo AND at < v_hi),
            'subscriber_reveals', (SELECT count(*) FROM spoor.audit WHERE action = 'subscriber.reveal'
                                     AND at >= v_lo AND at < v_hi)),
        'subscribers_loaded', spoor_identity.subscriber_count())
    INTO v;
    PERFORM spoor.audit_append('report', NULL, jsonb_build_object('year', v_year), 'ok',
                               encode(sha256(convert_to(v::text, 'UTF8')), 'hex'));
    RETURN v || jsonb_build_object('status', 'ok');
END
$$;

RESET ROLE;

DO $$
DECLARE f text;
BEGIN
    FOR f IN SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = 'spoor' LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
    END LOOP;
END
$$;
-- The cores are reached only through the wrappers now.
REVOKE EXECUTE ON FUNCTION spoor.trace_ip_core(bigint, inet, timestamptz, integer, interval) FROM spoor_analyst;
REVOKE EXECUTE ON FUNCTION spoor.trace_message_id_core(bigint, text, interval) FROM spoor_analyst;
REVOKE EXECUTE ON FUNCTION spoor.trace_headers_core(bigint, text, jsonb, interval) FROM spoor_analyst;
GRANT EXECUTE ON FUNCTION spoor.trace_ip(bigint, inet, timestamptz, integer, interval) TO spoor_analyst;
GRANT EXECUTE ON FUNCTION spoor.trace_message_id(bigint, text, interval) TO spoor_analyst;
GRANT EXECUTE ON FUNCTION spoor.trace_headers(bigint, text, jsonb, interval) TO spoor_analyst;
GRANT EXECUTE ON FUNCTION spoor.trace_user(bigint, text) TO spoor_analyst;
GRANT EXECUTE ON FUNCTION spoor.request_create(text, text, text, text, text, timestamptz, timestamptz,
    timestamptz, timestamptz, integer, jsonb, jsonb) TO spoor_analyst;
GRANT EXECUTE ON FUNCTION spoor.hold_list() TO spoor_analyst, spoor_approver, spoor_auditor, spoor_retention;
GRANT EXECUTE ON FUNCTION spoor.hold_renew(bigint, integer, text) TO spoor_analyst, spoor_approver;
GRANT EXECUTE ON FUNCTION spoor.hold_release(bigint, text) TO spoor_analyst, spoor_approver;
GRANT EXECUTE ON FUNCTION spoor.hold_expire_due() TO spoor_retention, spoor_admin;
GRANT EXECUTE ON FUNCTION spoor.request_export(bigint) TO spoor_analyst, spoor_approver, spoor_auditor;
GRANT EXECUTE ON FUNCTION spoor.report(integer, interval, interval) TO spoor_auditor, spoor_approver, spoor_admin;
