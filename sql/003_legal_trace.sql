-- 003: the legal gate and the lookups behind it.
--
-- A lookup runs only inside a SECURITY DEFINER function that checks, in the
-- same transaction as the read: an approved disclosure request, an
-- identifier its scope names, an instant inside its window (plus a bounded
-- tolerance), and its lookup budget; and that writes the audit entry.  A
-- refused attempt is audited too, so these functions return a JSON document
-- with "status" instead of raising (a raised error would roll the audit entry
-- back).  Analysts have no SELECT on any log table.
--
-- Four eyes: the approver of a request must differ from its recorder,
-- enforced here, whatever client is used.
SET LOCAL search_path = spoor, pg_catalog;

-- The verbatim line behind a result, from the module in sql/ext (checks the
-- block's SHA-256; returns one line, never the block).
CREATE FUNCTION evidence_line_raw(data bytea, dict bytea, sha256 bytea, idx integer) RETURNS bytea
    LANGUAGE c IMMUTABLE AS 'spoor_evidence', 'spoor_evidence_line';
REVOKE ALL ON FUNCTION evidence_line_raw(bytea, bytea, bytea, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION evidence_line_raw(bytea, bytea, bytea, integer) TO spoor_owner;

SET LOCAL ROLE spoor_owner;

-- The person acting: the session user, or — in a spoor-api session, whose
-- login is a direct member of spoor_api — the person the API authenticated
-- and SET ROLE to.  Used for four eyes and for the audit trail, so both name
-- the person, not the daemon.
CREATE FUNCTION actor() RETURNS name
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
               JOIN pg_roles u ON u.oid = m.member
               WHERE r.rolname = 'spoor_api' AND u.rolname = session_user) THEN
        IF current_setting('role') IN ('none', '') THEN
            RAISE EXCEPTION 'an API session must act for a person (SET ROLE)' USING ERRCODE = '42501';
        END IF;
        RETURN current_setting('role')::name;
    END IF;
    RETURN session_user;
END
$$;

CREATE TABLE request (
    request_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_ref        text        NOT NULL CHECK (case_ref <> ''),
    authority       text        NOT NULL CHECK (authority <> ''),
    legal_basis     text        NOT NULL CHECK (legal_basis <> ''),
    contact         text,
    kind            text        NOT NULL CHECK (kind IN ('disclosure', 'preservation')),
    received_at     timestamptz NOT NULL,
    deadline        timestamptz,
    window_lo       timestamptz NOT NULL,
    window_hi       timestamptz NOT NULL,
    max_lookups     integer     NOT NULL DEFAULT 20 CHECK (max_lookups BETWEEN 1 AND 1000),
    lookups_done    integer     NOT NULL DEFAULT 0,
    state           text        NOT NULL DEFAULT 'received'
                    CHECK (state IN ('received', 'approved', 'rejected', 'executed', 'disclosed',
                                     'closed', 'cancelled', 'expired')),
    created_by      name        NOT NULL DEFAULT spoor.actor(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    decided_by      name,
    decided_at      timestamptz,
    decision_note   text,
    CHECK (window_hi > window_lo),
    CHECK (window_hi - window_lo <= interval '366 days'),
    -- Four eyes, as a constraint no client can get round.
    CHECK (decided_by IS NULL OR decided_by <> created_by)
);

-- What the order names: exact addresses (an IPv6 prefix only if the order
-- names one), optional source port, Message-IDs (canonical form), user names.
CREATE TABLE request_scope (
    request_id bigint  NOT NULL REFERENCES request,
    kind       text    NOT NULL CHECK (kind IN ('ip', 'message_id', 'user_name')),
    value      text    NOT NULL CHECK (value <> '' AND value !~ '[*%?]'),
    port       integer CHECK (port BETWEEN 0 AND 65535),
    PRIMARY KEY (request_id, kind, value)
);

-- The audit trail: append-only, each entry chained to the one before by
-- SHA-256 over a canonical encoding (see audit_entry_hash).
CREATE TABLE audit (
    seq           bigint      PRIMARY KEY,
    at            timestamptz NOT NULL,
    actor         name        NOT NULL,
    action        text        NOT NULL,
    request_id    bigint,
    params        jsonb       NOT NULL,
    outcome       text        NOT NULL CHECK (outcome IN ('ok', 'denied', 'error')),
    result_digest text,
    prev_hash     bytea       NOT NULL,
    hash          bytea       NOT NULL
);

-- Append-only, whoever asks: no UPDATE, DELETE or TRUNCATE, not even by the
-- owner.  (A superuser can disable triggers; `spoor audit verify` then finds
-- the change from the chain.)
CREATE FUNCTION audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % refused', TG_OP USING ERRCODE = '42501';
END
$$;
CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();

-- The canonical encoding: fields joined by U+001F, times as RFC 3339 UTC
-- with microseconds, params as jsonb's own (key-sorted) text.
CREATE FUNCTION audit_entry_hash(p_prev bytea, p_seq bigint, p_at timestamptz, p_actor name,
                                 p_action text, p_request bigint, p_params jsonb, p_outcome text,
                                 p_digest text) RETURNS bytea
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
    SELECT sha256(p_prev || convert_to(concat_ws(chr(31), p_seq::text,
        to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), p_actor::text, p_action,
        coalesce(p_request::text, ''), p_params::text, p_outcome, coalesce(p_digest, '')), 'UTF8'))
$$;

CREATE FUNCTION audit_append(p_action text, p_request bigint, p_params jsonb, p_outcome text,
                             p_digest text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
DECLARE
    v_prev bytea;
    v_seq bigint;
    v_at timestamptz := clock_timestamp();
BEGIN
    -- One writer at a time keeps the chain a chain.
    PERFORM pg_advisory_xact_lock(7340203);
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

-- Message-ID canonical form, the same as lib/msgid.c.
CREATE FUNCTION msgid_normalize(p text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
    WITH t AS (SELECT regexp_replace(regexp_replace(btrim(p, E' \t\r\n'), '^<', ''), '>$', '') AS v)
    SELECT CASE WHEN strpos(v, '@') = 0 THEN v
                ELSE substring(v FROM '^(.*@)') || lower(substring(v FROM '^.*@(.*)$')) END
    FROM t
$$;

-- ---- requests ---------------------------------------------------------------

CREATE FUNCTION request_create(p_case text, p_authority text, p_basis text, p_contact text,
                               p_kind text, p_received timestamptz, p_deadline timestamptz,
                               p_window_lo timestamptz, p_window_hi timestamptz,
                               p_max_lookups integer, p_scope jsonb) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
DECLARE
    v_id bigint;
    s jsonb;
    v_value text;
BEGIN
    INSERT INTO spoor.request (case_ref, authority, legal_basis, contact, kind, received_at, deadline,
                               window_lo, window_hi, max_lookups)
    VALUES (p_case, p_authority, p_basis, p_contact, p_kind, p_received, p_deadline, p_window_lo,
            p_window_hi, coalesce(p_max_lookups, 20))
    RETURNING request_id INTO v_id;
    IF p_scope IS NULL OR jsonb_array_length(p_scope) = 0 THEN
        RAISE EXCEPTION 'a request must name at least one identifier' USING ERRCODE = '22023';
    END IF;
    FOR s IN SELECT * FROM jsonb_array_elements(p_scope) LOOP
        v_value := s->>'value';
        IF s->>'kind' = 'ip' THEN
            -- An address, or a prefix no wider than /24 (IPv4) or /48 (IPv6):
            -- an order names a line, not a network.
            IF (family(v_value::inet) = 4 AND masklen(v_value::inet) < 24)
               OR (family(v_value::inet) = 6 AND masklen(v_value::inet) < 48) THEN
                RAISE EXCEPTION 'scope %: address range too wide for a targeted request', v_value
                    USING ERRCODE = '22023';
            END IF;
            v_value := v_value::inet::text;
        ELSIF s->>'kind' = 'message_id' THEN
            v_value := spoor.msgid_normalize(v_value);
        END IF;
        INSERT INTO spoor.request_scope VALUES (v_id, s->>'kind', v_value, (s->>'port')::integer)
        ON CONFLICT DO NOTHING;  -- an identifier named twice is named once
    END LOOP;
    PERFORM spoor.audit_append('request.create', v_id,
        jsonb_build_object('case_ref', p_case, 'authority', p_authority, 'legal_basis', p_basis,
                           'kind', p_kind, 'window', jsonb_build_array(p_window_lo, p_window_hi),
                           'scope', p_scope), 'ok', NULL);
    RETURN v_id;
END
$$;

-- Approve or reject: only someone other than the recorder (four eyes).
CREATE FUNCTION request_decide(p_request bigint, p_approve boolean, p_note text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
DECLARE
    r spoor.request;
    v_action text := CASE WHEN p_approve THEN 'request.approve' ELSE 'request.reject' END;
BEGIN
    SELECT * INTO r FROM spoor.request WHERE request_id = p_request FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM spoor.audit_append(v_action, p_request, jsonb_build_object('note', p_note), 'denied', 'no such request');
        RETURN jsonb_build_object('status', 'denied', 'reason', 'no such request');
    END IF;
    IF r.created_by = spoor.actor() THEN
        PERFORM spoor.audit_append(v_action, p_request, jsonb_build_object('note', p_note), 'denied',
                                   'four eyes: the recorder cannot decide');
        RETURN jsonb_build_object('status', 'denied',
                                  'reason', 'four eyes: the person who recorded a request cannot approve or reject it');
    END IF;
    IF r.state <> 'received' THEN
        PERFORM spoor.audit_append(v_action, p_request, jsonb_build_object('note', p_note), 'denied', 'state ' || r.state);
        RETURN jsonb_build_object('status', 'denied', 'reason', 'request is ' || r.state || ', not received');
    END IF;
    UPDATE spoor.request SET state = CASE WHEN p_approve THEN 'approved' ELSE 'rejected' END,
        decided_by = spoor.actor(), decided_at = now(), decision_note = p_note
    WHERE request_id = p_request;
    PERFORM spoor.audit_append(v_action, p_request, jsonb_build_object('note', p_note), 'ok', NULL);
    RETURN jsonb_build_object('status', 'ok', 'request_id', p_request,
                              'state', CASE WHEN p_approve THEN 'approved' ELSE 'rejected' END);
END
$$;

CREATE FUNCTION request_list() RETURNS SETOF jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
    SELECT to_jsonb(r) - 'decision_note' || jsonb_build_object('scope',
        (SELECT jsonb_agg(jsonb_build_object('kind', s.kind, 'value', s.value, 'port', s.port)
                          ORDER BY s.kind, s.value)
         FROM spoor.request_scope s WHERE s.request_id = r.request_id))
    FROM spoor.request r ORDER BY r.request_id
$$;

-- ---- lookups ------------------------------------------------------------------

-- The verbatim lines of radius_event rows, with their blocks' SHA-256.
CREATE FUNCTION evidence_of(p_block bigint, p_idx integer, p_ts timestamptz) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, spoor AS $$
    SELECT jsonb_build_object('line', convert_from(spoor.evidence_line_raw(b.data, d.dict, b.sha256, p_idx), 'UTF8'),
                              'block_id', b.block_id, 'line_index', p_idx,
                              'block_sha256', encode(b.sha256, 'hex'),
                              'source', b.source, 'partition', b.part)
    FROM spoor.evidence_block b LEFT JOIN spoor.evidence_dict d USING (dict_id)
    WHERE b.block_id = p_block AND b.day BETWEEN (p_ts AT TIME ZONE 'UTC')::date - 1
                                          AND (p_ts AT TIME ZONE 'UTC')::date + 1
$$;

-- Who held P_IP at P_AT (± P_TOL)?  Not granted to anyone: called by the
-- gated functions below.  Reads the lease_seg partitions of the days the
-- window touches, so the cost does not grow with history.
CREATE FUNCTION lease_at(p_ip inet, p_at timestamptz, p_tol interval) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, spoor AS $$
DECLARE
    v_sessions jsonb;
    v_exact integer;
    v_near integer;
    v_before jsonb;
    v_after jsonb;
    v_lo date := ((p_at - p_tol) AT TIME ZONE 'UTC')::date;
    v_hi date := ((p_at + p_tol) AT TIME ZONE 'UTC')::date;
BEGIN
    WITH cand AS (
        SELECT DISTINCT l.*
        FROM spoor.lease_seg s JOIN spoor.lease l USING (session_key, addr)
        WHERE s.day BETWEEN v_lo AND v_hi AND s.addr >>= p_ip
          AND s.seg_lo <= p_at + p_tol AND s.seg_hi >= p_at - p_tol
    ), eff AS (
        SELECT c.*,
               -- After an address change at an Interim-Update the new address is
               -- held from its first record (the change happened at most then).
               CASE WHEN prv.last_ts IS NOT NULL THEN c.first_ts
                    ELSE coalesce(c.start_ts, least(c.est_start, c.first_ts), c.first_ts) END AS eff_start,
               nxt.first_ts AS addr_changed_at,
               rb.ts AS reboot_at,
               nh.start AS next_holder_at
        FROM cand c
        LEFT JOIN LATERAL (SELECT min(o.first_ts) AS first_ts FROM spoor.lease o
                           WHERE o.session_key = c.session_key AND o.addr <> c.addr
                             AND o.addr_kind = c.addr_kind AND o.first_ts > c.last_ts) nxt ON true
        LEFT JOIN LATERAL (SELECT max(o.last_ts) AS last_ts FROM spoor.lease o
                           WHERE o.session_key = c.session_key AND o.addr <> c.addr
                             AND o.addr_kind = c.addr_kind AND o.last_ts < c.first_ts) prv ON true
        LEFT JOIN LATERAL (SELECT min(e.ts) AS ts FROM spoor.radius_event e
                           WHERE c.stop_ts IS NULL AND e.status IN (7, 8) AND e.nas_ip = c.nas_ip
                             AND e.ts > c.last_ts AND e.ts <= c.span_hi) rb ON true
        -- A session without Stop ends when another session takes its address.
        LEFT JOIN LATERAL (SELECT min(coalesce(o.start_ts, o.est_start, o.first_ts)) AS start
                           FROM spoor.lease_seg s2 JOIN spoor.lease o USING (session_key, addr)
                           WHERE c.stop_ts IS NULL AND s2.addr = c.addr AND s2.session_key <> c.session_key
                             AND s2.day BETWEEN (c.last_ts AT TIME ZONE 'UTC')::date AND v_hi
                             AND coalesce(o.start_ts, o.est_start, o.first_ts) > c.last_ts) nh ON true
    ), fin AS (
        SELECT e.*,
               CASE WHEN e.stop_ts IS NOT NULL THEN e.stop_ts
                    ELSE least(e.span_hi, e.addr_changed_at, e.reboot_at, e.next_holder_at) END AS eff_end,
               CASE WHEN e.addr_changed_at IS NOT NULL AND (e.stop_ts IS NULL OR e.addr_changed_at < e.stop_ts)
                         THEN 'address_change'
                    WHEN e.stop_ts IS NOT NULL THEN 'stop'
                    WHEN e.reboot_at IS NOT NULL AND e.reboot_at <= coalesce(e.next_holder_at, e.reboot_at) THEN 'nas_reboot'
                    WHEN e.next_holder_at IS NOT NULL THEN 'reassigned'
                    WHEN e.has_interim AND e.span_hi < now() THEN 'interim_timeout'
                    ELSE 'open' END AS stop_reason
        FROM eff e
    ), hits AS (
        SELECT f.*, (f.eff_start <= p_at AND least(f.eff_end, coalesce(f.addr_changed_at, f.eff_end)) >= p_at) AS covers
        FROM fin f
        WHERE f.eff_start <= p_at + p_tol AND f.eff_end >= p_at - p_tol
    )
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'user_name', h.user_name, 'calling_station_id', h.calling_station_id,
               'called_station_id', h.called_station_id, 'nas_ip', host(h.nas_ip),
               'nas_identifier', h.nas_identifier, 'nas_port', h.nas_port, 'nas_port_id', h.nas_port_id,
               'acct_session_id', h.acct_session_id,
               'framed_ip', CASE WHEN h.addr_kind = 1 THEN host(h.addr) END,
               'framed_ipv6_prefix', CASE WHEN h.addr_kind = 2 THEN h.addr::text END,
               'delegated_ipv6_prefix', CASE WHEN h.addr_kind = 3 THEN h.addr::text END,
               'start', h.eff_start, 'start_seen', h.start_ts IS NOT NULL,
               'stop', CASE WHEN h.stop_reason IN ('stop', 'address_change', 'nas_reboot', 'reassigned') THEN h.eff_end END,
               'stop_reason', h.stop_reason, 'terminate_cause', h.terminate_cause,
               'last_seen', h.last_ts, 'covers_instant', h.covers,
               'evidence', (SELECT coalesce(jsonb_agg(spoor.evidence_of(ev.block_id, ev.block_idx, ev.ts) ORDER BY ev.ts), '[]')
                            FROM (
                              (SELECT e.block_id, e.block_idx, e.ts FROM spoor.radius_event e
                               WHERE e.session_key = h.session_key AND e.status = 1
                                 AND e.ts BETWEEN h.eff_start - interval '1 minute' AND h.eff_start + interval '1 minute'
                               ORDER BY e.ts LIMIT 1)
                              UNION
                              (SELECT e.block_id, e.block_idx, e.ts FROM spoor.radius_event e
                               WHERE e.session_key = h.session_key AND e.ts <= p_at
                                 AND e.ts >= h.eff_start - interval '1 minute'
                               ORDER BY e.ts DESC LIMIT 1)
                              UNION
                              (SELECT e.block_id, e.block_idx, e.ts FROM spoor.radius_event e
                               WHERE e.session_key = h.session_key AND e.ts > p_at
                                 AND e.ts <= h.eff_end + interval '1 minute'
                               ORDER BY e.ts LIMIT 1)
                              UNION
                              (SELECT e.block_id, e.block_idx, e.ts FROM spoor.radius_event e
                               WHERE e.session_key = h.session_key AND e.status = 2 AND h.stop_ts IS NOT NULL
                                 AND e.ts BETWEEN h.stop_ts - interval '1 minute' AND h.stop_ts + interval '1 minute'
                               ORDER BY e.ts LIMIT 1)
                            ) ev)
           ) ORDER BY h.eff_start), '[]'::jsonb),
           count(*) FILTER (WHERE h.covers),
           count(*)
    INTO v_sessions, v_exact, v_near
    FROM hits h;

    IF v_near = 0 THEN
        -- The nearest sessions either side, so the analyst sees the gap.
        SELECT jsonb_build_object('user_name', l.user_name, 'calling_station_id', l.calling_station_id,
                                  'start', coalesce(l.start_ts, l.est_start, l.first_ts), 'stop', coalesce(l.stop_ts, l.last_ts))
        INTO v_before
        FROM spoor.lease_seg s JOIN spoor.lease l USING (session_key, addr)
        WHERE s.day BETWEEN v_lo - 2 AND v_hi AND s.addr >>= p_ip AND s.seg_hi < p_at - p_tol
        ORDER BY s.seg_hi DESC LIMIT 1;
        SELECT jsonb_build_object('user_name', l.user_name, 'calling_station_id', l.calling_station_id,
                                  'start', coalesce(l.start_ts, l.est_start, l.first_ts), 'stop', coalesce(l.stop_ts, l.last_ts))
        INTO v_after
        FROM spoor.lease_seg s JOIN spoor.lease l USING (session_key, addr)
        WHERE s.day BETWEEN v_lo AND v_hi + 2 AND s.addr >>= p_ip AND s.seg_lo > p_at + p_tol
        ORDER BY s.seg_lo LIMIT 1;
    END IF;
    RETURN jsonb_build_object(
        'verdict', CASE WHEN v_near = 0 THEN 'none' WHEN v_near = 1 AND v_exact = 1 THEN 'exact'
                        WHEN v_near = 1 THEN 'exact' ELSE 'ambiguous' END,
        'sessions', v_sessions,
        'nearest_before', v_before, 'nearest_after', v_after);
END
$$;

-- The gate: request approved, kind disclosure, identifier in scope, instant
-- in window, budget left.  Returns NULL when allowed, else the reason.
CREATE FUNCTION gate(p_request bigint, p_kind text, p_value text, p_port integer,
                     p_at timestamptz, p_tol interval) RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, spoor AS $$
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
    IF p_at IS NOT NULL AND (p_at < r.window_lo - p_tol OR p_at > r.window_hi + p_tol) THEN
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

CREATE FUNCTION trace_ip(p_request bigint, p_ip inet, p_at timestamptz, p_port integer,
                         p_tolerance interval) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
DECLARE
    v_params jsonb := jsonb_build_object('ip', host(p_ip), 'at', p_at, 'port', p_port,
                                         'tolerance_s', extract(epoch FROM p_tolerance));
    v_why text;
    v_res jsonb;
BEGIN
    IF p_ip IS NULL OR p_at IS NULL THEN
        v_why := 'an address and an instant are required';
    ELSIF (family(p_ip) = 4 AND masklen(p_ip) <> 32) OR (family(p_ip) = 6 AND masklen(p_ip) <> 128) THEN
        v_why := 'a lookup names one address, not a range';
    ELSE
        v_why := spoor.gate(p_request, 'ip', host(p_ip), p_port, p_at, coalesce(p_tolerance, interval '0'));
    END IF;
    IF v_why IS NOT NULL THEN
        PERFORM spoor.audit_append('trace.ip', p_request, v_params, 'denied', v_why);
        RETURN jsonb_build_object('status', 'denied', 'reason', v_why);
    END IF;
    v_res := spoor.lease_at(p_ip, p_at, coalesce(p_tolerance, interval '0'))
             || jsonb_build_object('status', 'ok', 'request_id', p_request, 'query', v_params);
    PERFORM spoor.audit_append('trace.ip', p_request, v_params, 'ok',
                               encode(sha256(convert_to(v_res::text, 'UTF8')), 'hex'));
    RETURN v_res;
END
$$;

-- The submissions of a Message-ID between P_LO and P_HI, each assembled from
-- its lines (across a content filter's re-queue) and resolved to the
-- subscriber session behind its client address.  Internal: not granted.
CREATE FUNCTION submissions_for(v_id text, v_lo timestamptz, v_hi timestamptz, p_tolerance interval)
RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, spoor AS $$
    WITH ids AS (  -- the lines naming the Message-ID: Postfix cleanup, Exim arrival
        SELECT e.* FROM spoor.smtp_event e
        WHERE e.message_id = v_id AND e.ts BETWEEN v_lo AND v_hi AND e.kind IN (2, 11)
    ), q AS (      -- each (host, queue): the queue's own lines within two days
        SELECT i.host, i.queue_id, i.ts AS id_ts, i.kind AS id_kind,
               i.block_id AS id_block, i.block_idx AS id_idx
        FROM ids i
        -- A queue handed to a content filter and re-queued ("queued as B")
        -- is reported once, as B with its predecessor: not twice.
        WHERE NOT EXISTS (
            SELECT 1 FROM spoor.smtp_event d JOIN ids i2 ON i2.host = d.host AND i2.queue_id = d.next_queue_id
            WHERE d.host = i.host AND d.queue_id = i.queue_id AND d.kind = 4
              AND d.ts BETWEEN i.ts - interval '2 days' AND i.ts + interval '2 days')
    ), sub AS (
        SELECT q.*,
               -- the smtpd client= line of the queue before a re-queue (the
               -- re-queued one's client is the content filter), else this queue's
               coalesce(c2.c, c1.c) AS client,
               f.sender, f.size, d.recipients, d.status, d.evidence AS delivery_evidence,
               coalesce(prev.queue_id, c1.c->>'orig_queue_id') AS prev_queue_id
        FROM q
        LEFT JOIN LATERAL (
            SELECT to_jsonb(e) AS c FROM spoor.smtp_event e
            WHERE e.host = q.host AND e.queue_id = q.queue_id AND e.kind IN (1, 11)
              AND e.ts BETWEEN q.id_ts - interval '2 days' AND q.id_ts + interval '2 days'
              AND (q.id_kind = 11 OR e.kind = 1)
            ORDER BY e.ts LIMIT 1) c1 ON true
        LEFT JOIN LATERAL (  -- re-queued by a content filter: "queued as <this queue>"
            SELECT e.queue_id FROM spoor.smtp_event e
            WHERE e.host = q.host AND e.next_queue_id = q.queue_id AND e.kind = 4
              AND e.ts BETWEEN q.id_ts - interval '2 days' AND q.id_ts + interval '2 days'
            ORDER BY e.ts DESC LIMIT 1) prev ON true
        LEFT JOIN LATERAL (
            SELECT to_jsonb(e) AS c FROM spoor.smtp_event e
            WHERE prev.queue_id IS NOT NULL AND e.host = q.host AND e.queue_id = prev.queue_id
              AND e.kind = 1 AND e.ts BETWEEN q.id_ts - interval '2 days' AND q.id_ts
            ORDER BY e.ts LIMIT 1) c2 ON true
        LEFT JOIN LATERAL (
            SELECT e.sender, e.size FROM spoor.smtp_event e
            WHERE e.host = q.host AND e.queue_id = q.queue_id AND e.kind IN (3, 11)
              AND e.ts BETWEEN q.id_ts - interval '2 days' AND q.id_ts + interval '2 days'
            ORDER BY e.ts LIMIT 1) f ON true
        LEFT JOIN LATERAL (
            SELECT jsonb_agg(DISTINCT e.recipient) FILTER (WHERE e.recipient IS NOT NULL) AS recipients,
                   (array_agg(e.status ORDER BY e.ts DESC))[1] AS status,
                   jsonb_agg(spoor.evidence_of(e.block_id, e.block_idx, e.ts) ORDER BY e.ts) AS evidence
            FROM spoor.smtp_event e
            WHERE e.host = q.host AND e.queue_id = q.queue_id AND e.kind IN (4, 12)
              AND e.ts BETWEEN q.id_ts - interval '2 days' AND q.id_ts + interval '2 days') d ON true
    )
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'mta_host', s.host,
               'queue_ids', to_jsonb(array_remove(ARRAY[s.prev_queue_id, s.queue_id], NULL)),
               'time', coalesce((s.client->>'ts')::timestamptz, s.id_ts),
               'client_ip', s.client->>'client_ip',
               'client_port', (s.client->>'client_port')::integer,
               'client_name', s.client->>'client_name',
               'sasl_username', s.client->>'sasl_username',
               'sender', s.sender, 'size', s.size,
               'recipients', coalesce(s.recipients, CASE WHEN s.client->>'recipient' IS NOT NULL
                                                         THEN jsonb_build_array(s.client->>'recipient') END),
               'status', s.status,
               'session_trace', CASE WHEN s.client->>'client_ip' IS NOT NULL
                   THEN spoor.lease_at((s.client->>'client_ip')::inet,
                                       coalesce((s.client->>'ts')::timestamptz, s.id_ts),
                                       coalesce(p_tolerance, interval '0')) END,
               'evidence', (SELECT jsonb_agg(x) FROM (
                   SELECT spoor.evidence_of((s.client->>'block_id')::bigint, (s.client->>'block_idx')::integer,
                                            (s.client->>'ts')::timestamptz) AS x WHERE s.client IS NOT NULL
                   UNION ALL SELECT spoor.evidence_of(s.id_block, s.id_idx, s.id_ts) WHERE s.id_kind = 2
                   UNION ALL SELECT jsonb_array_elements(coalesce(s.delivery_evidence, '[]'))) ev)
           ) ORDER BY s.id_ts), '[]'::jsonb)
    FROM sub s
$$;

-- Every submission with this Message-ID inside the request window (± 1
-- day), each assembled from its lines (across a content filter's re-queue)
-- and resolved to the subscriber session behind its client address.
CREATE FUNCTION trace_message_id(p_request bigint, p_message_id text, p_tolerance interval)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
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
    SELECT window_lo - interval '1 day', window_hi + interval '1 day' INTO v_lo, v_hi
    FROM spoor.request WHERE request_id = p_request;

    v_subs := spoor.submissions_for(v_id, v_lo, v_hi, p_tolerance);


    v_res := jsonb_build_object('status', 'ok', 'request_id', p_request, 'query', v_params,
                                'submissions', v_subs);
    PERFORM spoor.audit_append('trace.message_id', p_request, v_params, 'ok',
                               encode(sha256(convert_to(v_res::text, 'UTF8')), 'hex'));
    RETURN v_res;
END
$$;

-- Did a message whose headers name our MTAs really pass through them?  For
-- each Received: hop the client found to claim one of our hosts (P_HOPS:
-- [{"hosts": [names the host may be logged under], "queue_id", "time"}]),
-- look for that queue ID on that host within a day of the claimed time, and
-- whether it carried this Message-ID.  Gated like trace_message_id.
CREATE FUNCTION trace_headers(p_request bigint, p_message_id text, p_hops jsonb,
                              p_tolerance interval) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
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
    SELECT window_lo - interval '1 day', window_hi + interval '1 day' INTO v_lo, v_hi
    FROM spoor.request WHERE request_id = p_request;
    SELECT coalesce(jsonb_agg(h.hop || jsonb_build_object(
               'state', CASE WHEN m.queue_found AND (m.msgid_match OR NOT m.msgid_logged) THEN 'verified'
                             ELSE 'not_in_our_logs' END,
               'queue_found', m.queue_found, 'message_id_match', m.msgid_match,
               'evidence', m.evidence) ORDER BY h.n), '[]'::jsonb)
    INTO v_hops
    FROM jsonb_array_elements(p_hops) WITH ORDINALITY AS h(hop, n)
    CROSS JOIN LATERAL (
        SELECT count(*) > 0 AS queue_found,
               coalesce(bool_or(e.message_id = v_id), false) AS msgid_match,
               coalesce(bool_or(e.message_id IS NOT NULL), false) AS msgid_logged,
               jsonb_agg(spoor.evidence_of(e.block_id, e.block_idx, e.ts) ORDER BY e.ts)
                   FILTER (WHERE e.kind IN (1, 2, 11)) AS evidence
        FROM spoor.smtp_event e
        WHERE e.host IN (SELECT jsonb_array_elements_text(h.hop->'hosts'))
          AND e.queue_id = h.hop->>'queue_id'
          AND e.ts BETWEEN (h.hop->>'time')::timestamptz - interval '1 day'
                       AND (h.hop->>'time')::timestamptz + interval '1 day'
          AND e.ts BETWEEN v_lo - interval '1 day' AND v_hi + interval '1 day') m;
    v_res := jsonb_build_object('status', 'ok', 'request_id', p_request, 'query', v_params,
                                'hops', v_hops,
                                'submissions', spoor.submissions_for(v_id, v_lo, v_hi, p_tolerance));
    PERFORM spoor.audit_append('trace.headers', p_request, v_params, 'ok',
                               encode(sha256(convert_to(v_res::text, 'UTF8')), 'hex'));
    RETURN v_res;
END
$$;

-- API tokens: stored as SHA-256 only; a person makes their own.
CREATE TABLE api_token (
    token_sha256 bytea       PRIMARY KEY CHECK (length(token_sha256) = 32),
    role         name        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz
);

CREATE FUNCTION api_token_create(p_sha256 bytea, p_days integer) RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
DECLARE
    v_exp timestamptz := now() + make_interval(days => least(greatest(coalesce(p_days, 30), 1), 365));
BEGIN
    INSERT INTO spoor.api_token (token_sha256, role, expires_at) VALUES (p_sha256, spoor.actor(), v_exp);
    PERFORM spoor.audit_append('api.token_create', NULL, jsonb_build_object('expires_at', v_exp), 'ok', NULL);
    RETURN v_exp;
END
$$;

-- For spoor-api only: whose token is this?  NULL if unknown, expired or revoked.
CREATE FUNCTION api_token_role(p_sha256 bytea) RETURNS name
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
    SELECT role FROM spoor.api_token
    WHERE token_sha256 = p_sha256 AND revoked_at IS NULL AND expires_at > now()
$$;

-- The audit trail, to those who audit.
CREATE FUNCTION audit_list(p_request bigint) RETURNS SETOF spoor.audit
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
    SELECT * FROM spoor.audit WHERE p_request IS NULL OR request_id = p_request ORDER BY seq
$$;

RESET ROLE;

-- Rights.  Nothing here is PUBLIC; analysts reach data only through trace_*.
DO $$
DECLARE f text;
BEGIN
    FOR f IN SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = 'spoor' LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
    END LOOP;
END
$$;
GRANT USAGE ON SCHEMA spoor TO spoor_analyst, spoor_approver, spoor_auditor;
GRANT EXECUTE ON FUNCTION spoor.request_create(text, text, text, text, text, timestamptz, timestamptz,
    timestamptz, timestamptz, integer, jsonb) TO spoor_analyst;
GRANT EXECUTE ON FUNCTION spoor.request_decide(bigint, boolean, text) TO spoor_approver;
GRANT EXECUTE ON FUNCTION spoor.request_list() TO spoor_analyst, spoor_approver, spoor_auditor;
GRANT EXECUTE ON FUNCTION spoor.trace_ip(bigint, inet, timestamptz, integer, interval) TO spoor_analyst;
GRANT EXECUTE ON FUNCTION spoor.trace_message_id(bigint, text, interval) TO spoor_analyst;
GRANT EXECUTE ON FUNCTION spoor.trace_headers(bigint, text, jsonb, interval) TO spoor_analyst;
GRANT EXECUTE ON FUNCTION spoor.audit_list(bigint) TO spoor_auditor;
GRANT EXECUTE ON FUNCTION spoor.api_token_create(bytea, integer)
    TO spoor_analyst, spoor_approver, spoor_auditor, spoor_admin;
GRANT USAGE ON SCHEMA spoor TO spoor_api;
GRANT EXECUTE ON FUNCTION spoor.api_token_role(bytea) TO spoor_api;
GRANT EXECUTE ON FUNCTION spoor.msgid_normalize(text) TO spoor_analyst, spoor_approver, spoor_auditor;
