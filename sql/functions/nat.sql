-- Carrier-grade NAT (sql/018_nat.sql): who held a shared public address and
-- port at an instant, from the CGN's own logs.

-- The kinds of NAT event (nat_event.kind): their one definition; C's header
-- is generated from it (ops/gen-constants), SQL names them with nat_kind().
CREATE OR REPLACE FUNCTION spoor.nat_kinds()
 RETURNS TABLE(name text, code smallint)
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
    VALUES ('allocated', 1::smallint),      -- a port block given to an inside address
           ('interim', 2::smallint),        -- a block still held (periodic, and proof after a lost allocation)
           ('released', 3::smallint),       -- a block given back
           ('session_open', 4::smallint),   -- one translated session (session logging), its port
           ('session_close', 5::smallint)   -- that session ended
$function$;
ALTER FUNCTION spoor.nat_kinds() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.nat_kinds() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.nat_kinds() TO spoor_admin;
GRANT EXECUTE ON FUNCTION spoor.nat_kinds() TO spoor_auditor;

CREATE OR REPLACE FUNCTION spoor.nat_kind(p_name text)
 RETURNS smallint
 LANGUAGE sql
 IMMUTABLE STRICT
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
    SELECT k.code FROM spoor.nat_kinds() k WHERE k.name = p_name
$function$;
ALTER FUNCTION spoor.nat_kind(p_name text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.nat_kind(p_name text) FROM PUBLIC;

-- How long a block (or session) is taken to stay with its holder after it
-- was last seen in an interim log when neither its release nor its
-- allocation to someone else is in the logs: a CGN that logs interims for a
-- block (Juniper every few hours, when configured) and then falls silent
-- about it has lost its release; a day covers the interim periods in use.
-- A block without interims (most vendors log none: IOS XR, A10, NFWare)
-- has no timeout: it is held until its release or its reallocation, as
-- DSL sessions and their blocks last for days or weeks.
CREATE OR REPLACE FUNCTION spoor.nat_block_max()
 RETURNS interval
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
    SELECT interval '1 day'
$function$;
ALTER FUNCTION spoor.nat_block_max() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.nat_block_max() FROM PUBLIC;

-- nat_address (sql/024): the public addresses of the rows just stored,
-- their first and last day, widened only when a day is new for them (one
-- row update an address a day), in address order so that two ingesters
-- lock them in the same order.
CREATE OR REPLACE FUNCTION spoor.nat_address_register()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
BEGIN
    INSERT INTO spoor.nat_address AS a (outside, first_day, last_day)
    SELECT n.outside, min((n.ts AT TIME ZONE 'UTC')::date), max((n.ts AT TIME ZONE 'UTC')::date)
    FROM new_rows n GROUP BY n.outside ORDER BY n.outside
    ON CONFLICT (outside) DO UPDATE SET first_day = least(a.first_day, EXCLUDED.first_day),
                                        last_day = greatest(a.last_day, EXCLUDED.last_day)
    WHERE a.first_day > EXCLUDED.first_day OR a.last_day < EXCLUDED.last_day;
    RETURN NULL;
END
$function$;
ALTER FUNCTION spoor.nat_address_register() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.nat_address_register() FROM PUBLIC;
CREATE OR REPLACE TRIGGER nat_event_register AFTER INSERT ON spoor.nat_event REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION spoor.nat_address_register();

-- How far before the instant a lookup looks for the allocation (or the
-- interims) of the block that held the port: a block allocated earlier and
-- never mentioned since is not found.  A month covers the DSL sessions of
-- the access networks Spoor has met (a BNG's Session-Timeout is 48 h to
-- some weeks); a longer one costs every lookup an index range that long.
CREATE OR REPLACE FUNCTION spoor.nat_lookback()
 RETURNS interval
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
    SELECT interval '31 days'
$function$;
ALTER FUNCTION spoor.nat_lookback() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.nat_lookback() FROM PUBLIC;

-- The holders of public address P_IP (and of port P_PORT, unless NULL) at
-- P_AT give or take P_TOL: one object per holding, with the inside address,
-- the block, when it began and ended and why, whether it covers the
-- instant itself, and the verbatim lines it rests on.  A holding begins at
-- the latest allocation at or before the instant (or, when its allocation
-- is not in the logs, the first interim that shows it), and ends at its
-- release, else at the allocation of the same block to another address,
-- else, when the CGN logged interims for it, nat_block_max() after the last
-- one; else it is still open.  The allocation is looked for up to
-- nat_lookback() before the instant, the release up to nat_block_max()
-- after it.  NULL when the logs say nothing of P_IP then: it is not a CGN
-- address (then).
CREATE OR REPLACE FUNCTION spoor.nat_holders(p_ip inet, p_port integer, p_at timestamp with time zone, p_tol interval)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
 SET plan_cache_mode TO 'force_custom_plan'
AS $function$
DECLARE
    v_max interval := spoor.nat_block_max();
    v_lo timestamptz := p_at - p_tol - spoor.nat_lookback();
    v_hi timestamptz := p_at + p_tol + v_max;
    v_ev spoor.nat_event[];
    v_res jsonb;
BEGIN
    -- Rows and compacted packs alike (readers.sql), read once.
    -- Not an address any CGN spoke of in the window: one index probe, and
    -- no month of nat_event partitions read for it.
    IF NOT EXISTS (SELECT 1 FROM spoor.nat_address a WHERE a.outside = p_ip
                   AND a.last_day >= (v_lo AT TIME ZONE 'UTC')::date AND a.first_day <= (v_hi AT TIME ZONE 'UTC')::date) THEN
        RETURN NULL;
    END IF;
    -- P_IP is a CGN's address at P_AT when a holding covers the instant,
    -- or the CGN said something of it within a day (nat_block_max) of it:
    -- an address that left CGN service is not one for the whole lookback.
    v_ev := ARRAY(SELECT e FROM spoor.nat_by_outside(p_ip, p_port, v_lo, v_hi) e);
    -- A block's events before its last allocation at or before the window's
    -- beginning belong to holdings that had ended by then (released, or
    -- reallocated by that allocation): without them a block held many
    -- times within the lookback is a few lines, and the lookup stays flat
    -- however long the CGN's history (the count of sharers reads every
    -- block of the address).
    v_ev := ARRAY(SELECT x.e FROM (
                      SELECT e, e.ts >= coalesce(max(e.ts) FILTER (
                                 WHERE e.kind IN (spoor.nat_kind('allocated'), spoor.nat_kind('session_open'))
                                   AND e.ts <= p_at - p_tol) OVER (PARTITION BY e.host, e.port_lo, e.port_hi),
                                 '-infinity') AS keep
                      FROM unnest(v_ev) e) x
                  WHERE x.keep);
    IF cardinality(v_ev) = 0 THEN
        RETURN CASE WHEN EXISTS (SELECT 1 FROM spoor.nat_by_outside(p_ip, NULL, p_at - p_tol - v_max, v_hi))
                    THEN '[]'::jsonb END;
    END IF;
    WITH ev AS (
        SELECT e.* FROM unnest(v_ev) e
    ), k AS (
        SELECT DISTINCT e.host, e.port_lo, e.port_hi, e.inside, e.inside_vrf, e.inside_port
        FROM ev e
        WHERE e.kind IN (spoor.nat_kind('allocated'), spoor.nat_kind('interim'), spoor.nat_kind('session_open'))
          AND e.ts <= p_at + p_tol
    ), hold AS (
        SELECT k.*, coalesce(a.ts, f.ts) AS start, a.ts IS NOT NULL AS start_seen
        FROM k
        LEFT JOIN LATERAL (
            SELECT max(e.ts) AS ts FROM ev e
            WHERE e.host = k.host AND e.port_lo = k.port_lo AND e.port_hi = k.port_hi
              AND e.inside = k.inside AND e.inside_vrf IS NOT DISTINCT FROM k.inside_vrf
              AND e.inside_port IS NOT DISTINCT FROM k.inside_port
              AND e.kind IN (spoor.nat_kind('allocated'), spoor.nat_kind('session_open'))
              AND e.ts <= p_at + p_tol) a ON true
        CROSS JOIN LATERAL (
            SELECT min(e.ts) AS ts FROM ev e
            WHERE e.host = k.host AND e.port_lo = k.port_lo AND e.port_hi = k.port_hi
              AND e.inside = k.inside AND e.inside_vrf IS NOT DISTINCT FROM k.inside_vrf
              AND e.inside_port IS NOT DISTINCT FROM k.inside_port
              AND e.kind = spoor.nat_kind('interim') AND e.ts <= p_at + p_tol) f
    ), span AS (
        SELECT h.*, r.ts AS released, n.ts AS reassigned, s.ts AS last_seen, i.ts AS last_interim
        FROM hold h
        LEFT JOIN LATERAL (
            SELECT min(e.ts) AS ts FROM ev e
            WHERE e.host = h.host AND e.port_lo = h.port_lo AND e.port_hi = h.port_hi
              AND e.inside = h.inside AND e.inside_vrf IS NOT DISTINCT FROM h.inside_vrf
              AND e.inside_port IS NOT DISTINCT FROM h.inside_port
              AND e.kind IN (spoor.nat_kind('released'), spoor.nat_kind('session_close'))
              AND e.ts >= h.start) r ON true
        LEFT JOIN LATERAL (
            SELECT min(e.ts) AS ts FROM ev e
            WHERE e.host = h.host AND e.port_lo <= h.port_hi AND e.port_hi >= h.port_lo
              AND (e.inside <> h.inside OR e.inside_vrf IS DISTINCT FROM h.inside_vrf)
              AND e.kind IN (spoor.nat_kind('allocated'), spoor.nat_kind('session_open'))
              AND e.ts > h.start) n ON true
        LEFT JOIN LATERAL (
            SELECT max(e.ts) AS ts FROM ev e
            WHERE e.host = h.host AND e.port_lo = h.port_lo AND e.port_hi = h.port_hi
              AND e.inside = h.inside AND e.inside_vrf IS NOT DISTINCT FROM h.inside_vrf
              AND e.inside_port IS NOT DISTINCT FROM h.inside_port
              AND e.kind IN (spoor.nat_kind('allocated'), spoor.nat_kind('interim'), spoor.nat_kind('session_open'))
              AND e.ts >= h.start AND e.ts <= p_at + p_tol) s ON true
        LEFT JOIN LATERAL (
            SELECT max(e.ts) AS ts FROM ev e
            WHERE e.host = h.host AND e.port_lo = h.port_lo AND e.port_hi = h.port_hi
              AND e.inside = h.inside AND e.inside_vrf IS NOT DISTINCT FROM h.inside_vrf
              AND e.kind = spoor.nat_kind('interim') AND e.ts >= h.start AND e.ts <= p_at + p_tol) i ON true
    ), fin AS (
        SELECT s.*,
               CASE WHEN s.released IS NOT NULL AND (s.reassigned IS NULL OR s.released <= s.reassigned) THEN s.released
                    ELSE least(s.reassigned, s.last_interim + v_max) END AS stop,
               CASE WHEN s.released IS NOT NULL AND (s.reassigned IS NULL OR s.released <= s.reassigned) THEN 'released'
                    WHEN s.reassigned IS NOT NULL AND (s.last_interim IS NULL OR s.reassigned <= s.last_interim + v_max)
                        THEN 'reassigned'
                    WHEN s.last_interim IS NOT NULL AND s.last_interim + v_max < now() THEN 'timeout'
                    ELSE 'open' END AS stop_reason
        FROM span s
    )
    SELECT jsonb_agg(jsonb_build_object(
               'cgn', f.host, 'public_ip', host(p_ip), 'port_lo', f.port_lo, 'port_hi', f.port_hi,
               'inside_ip', host(f.inside), 'inside_vrf', f.inside_vrf, 'inside_port', f.inside_port,
               'start', f.start, 'start_seen', f.start_seen, 'stop', f.stop, 'stop_reason', f.stop_reason,
               'covers_instant', f.start <= p_at AND (f.stop IS NULL OR f.stop >= p_at),
               'evidence', (SELECT coalesce(jsonb_agg(spoor.evidence_of(e.block_id, e.block_idx, e.ts)
                                                      ORDER BY e.ts, e.block_id, e.block_idx), '[]')
                            FROM (SELECT DISTINCT x.block_id, x.block_idx, x.ts FROM ev x
                                  WHERE x.host = f.host AND x.port_lo = f.port_lo AND x.port_hi = f.port_hi
                                    AND x.inside = f.inside AND x.inside_vrf IS NOT DISTINCT FROM f.inside_vrf
                                    AND x.inside_port IS NOT DISTINCT FROM f.inside_port
                                    AND x.ts IN (f.start, f.released, f.last_seen)) e))
           ORDER BY f.start, f.inside)
    INTO v_res
    FROM fin f
    WHERE f.start <= p_at + p_tol AND (f.stop IS NULL OR f.stop >= p_at - p_tol);
    IF v_res IS NULL AND NOT EXISTS (SELECT 1 FROM spoor.nat_by_outside(p_ip, NULL, p_at - p_tol - v_max, v_hi)) THEN
        RETURN NULL;
    END IF;
    RETURN coalesce(v_res, '[]'::jsonb);
END
$function$;
ALTER FUNCTION spoor.nat_holders(p_ip inet, p_port integer, p_at timestamp with time zone, p_tol interval) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.nat_holders(p_ip inet, p_port integer, p_at timestamp with time zone, p_tol interval) FROM PUBLIC;

-- Who held P_IP (port P_PORT) at P_AT: lease_at's answer, through the CGN
-- when P_IP is a shared address.  Then, with the port: each holding of the
-- port, its inside address traced to the RADIUS session (session_trace),
-- the sessions of all of them at the top; without the port: how many
-- inside addresses (subscribers) shared the address, and none of them named
-- (naming all would be the blanket search the order does not allow).
CREATE OR REPLACE FUNCTION spoor.who_at(p_ip inet, p_port integer, p_at timestamp with time zone, p_tol interval)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_all jsonb;
    v_det jsonb;
    v_hold jsonb;
    v_t jsonb;
    v_tr jsonb := '[]'::jsonb;
    v_sessions jsonb := '[]'::jsonb;
BEGIN
    IF p_port IS NULL THEN
        v_all := spoor.nat_holders(p_ip, NULL, p_at, p_tol);
        v_det := spoor.nat_det_holders(p_ip, NULL, p_at, p_tol);
        IF v_all IS NULL AND v_det IS NULL THEN
            RETURN spoor.lease_at(p_ip, p_at, p_tol);
        END IF;
        v_all := coalesce(v_all, '[]') || coalesce(v_det, '[]');
        RETURN jsonb_build_object(
            'verdict', 'shared_address',
            'sessions', '[]'::jsonb,
            'cgn', jsonb_build_object(
                'public_ip', host(p_ip),
                'subscribers_sharing', (SELECT count(DISTINCT (h->>'inside_ip', h->>'inside_vrf')) FROM jsonb_array_elements(v_all) h),
                'note', 'a shared carrier-grade NAT address: the order must name the source port; no subscriber is named'));
    END IF;
    -- The logs' holders (dynamic blocks, sessions) and a deterministic
    -- configuration's (RFC 7422: its dynamic pool is in the logs).
    v_hold := spoor.nat_holders(p_ip, p_port, p_at, p_tol);
    v_det := spoor.nat_det_holders(p_ip, p_port, p_at, p_tol);
    IF v_hold IS NULL AND v_det IS NULL THEN
        RETURN spoor.lease_at(p_ip, p_at, p_tol);
    END IF;
    v_hold := coalesce(v_hold, '[]') || coalesce(v_det, '[]');
    FOR v_t IN SELECT x FROM jsonb_array_elements(v_hold) x LOOP
        v_t := v_t || jsonb_build_object('session_trace',
                                         spoor.lease_at((v_t->>'inside_ip')::inet, p_at, p_tol));
        v_tr := v_tr || jsonb_build_array(v_t);
        v_sessions := v_sessions || coalesce(v_t->'session_trace'->'sessions', '[]'::jsonb);
    END LOOP;
    RETURN jsonb_build_object(
        -- One holding of the port: its session's verdict; several (within
        -- the tolerance): ambiguous, all shown.
        'verdict', CASE WHEN jsonb_array_length(v_tr) = 0 THEN 'none'
                        WHEN jsonb_array_length(v_tr) = 1 THEN v_tr->0->'session_trace'->>'verdict'
                        ELSE 'ambiguous' END,
        'sessions', v_sessions,
        'cgn', jsonb_build_object('public_ip', host(p_ip), 'port', p_port, 'translations', v_tr));
END
$function$;
ALTER FUNCTION spoor.who_at(p_ip inet, p_port integer, p_at timestamp with time zone, p_tol interval) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.who_at(p_ip inet, p_port integer, p_at timestamp with time zone, p_tol interval) FROM PUBLIC;

-- Deterministic NAT (RFC 7422; sql/021_nat_config.sql) --------------------

-- Versions of a CGN's deterministic configuration are never changed or
-- removed: a changed version would move ports between subscribers in every
-- later answer.
CREATE OR REPLACE TRIGGER nat_config_append_only BEFORE DELETE OR UPDATE ON spoor.nat_config FOR EACH ROW EXECUTE FUNCTION spoor.audit_refuse();
CREATE OR REPLACE TRIGGER nat_config_no_truncate BEFORE TRUNCATE ON spoor.nat_config FOR EACH STATEMENT EXECUTE FUNCTION spoor.audit_refuse();

-- An address range written as a prefix (every address in it) or FIRST-LAST.
CREATE OR REPLACE FUNCTION spoor.nat_config_range(p_key text, p_value text, p_line integer)
 RETURNS inet[]
 LANGUAGE plpgsql
 IMMUTABLE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
DECLARE
    m text[];
    v_lo inet;
    v_hi inet;
BEGIN
    BEGIN
        m := regexp_match(p_value, '^([0-9a-fA-F.:]+)\s*-\s*([0-9a-fA-F.:]+)$');
        IF m IS NOT NULL THEN
            v_lo := m[1]::inet;
            v_hi := m[2]::inet;
        ELSE
            v_lo := host(network(p_value::cidr))::inet;
            v_hi := host(broadcast(p_value::cidr))::inet;
        END IF;
    EXCEPTION WHEN invalid_text_representation OR invalid_binary_representation THEN
        RAISE EXCEPTION 'line %: %: "%" is neither a prefix nor FIRST-LAST', p_line, p_key, p_value
            USING ERRCODE = '22023';
    END;
    IF family(v_lo) <> family(v_hi) OR v_lo > v_hi THEN
        RAISE EXCEPTION 'line %: %: % comes after %', p_line, p_key, host(v_lo), host(v_hi)
            USING ERRCODE = '22023';
    END IF;
    RETURN ARRAY[v_lo, v_hi];
END
$function$;
ALTER FUNCTION spoor.nat_config_range(p_key text, p_value text, p_line integer) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.nat_config_range(p_key text, p_value text, p_line integer) FROM PUBLIC;

-- A deterministic CGN configuration file (the format is in README.md's
-- "Carrier-grade NAT"): KEY = VALUE lines, # comments, RFC 7422's variables
-- I, O, C, D, M, A and R by name.  Returns its fields as nat_config's
-- columns, or raises 22023 naming the line and the key.  One parser, here,
-- so what is stored is what was checked.
CREATE OR REPLACE FUNCTION spoor.nat_config_parse(p_source text)
 RETURNS jsonb
 LANGUAGE plpgsql
 IMMUTABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_line text;
    v_n integer := 0;
    m text[];
    k text;
    v text;
    c jsonb := '{}';
    r inet[];
    v_res int4multirange := '{}';
    v_avail integer;
    v_ppu integer;
    v_ratio integer;
    v_dyn integer;
    v_n_in bigint;
    v_n_out bigint;
    part text;
BEGIN
    IF p_source IS NULL OR length(p_source) > 65536 THEN
        RAISE EXCEPTION 'a NAT configuration is at most 64 KiB of text' USING ERRCODE = '22023';
    END IF;
    FOREACH v_line IN ARRAY string_to_array(replace(p_source, E'\r', ''), E'\n') LOOP
        v_n := v_n + 1;
        v_line := btrim(regexp_replace(v_line, '#.*$', ''));
        CONTINUE WHEN v_line = '';
        m := regexp_match(v_line, '^([a-z_]+)\s*=\s*(.*)$');
        IF m IS NULL THEN
            RAISE EXCEPTION 'line %: expected KEY = VALUE, got "%"', v_n, left(v_line, 80) USING ERRCODE = '22023';
        END IF;
        k := m[1];
        v := btrim(m[2]);
        IF k NOT IN ('cgn', 'algorithm', 'inside', 'inside_vrf', 'outside', 'reserved', 'ratio',
                     'dynamic_factor', 'ports_per_user', 'max_ports') THEN
            RAISE EXCEPTION 'line %: unknown key "%"', v_n, k USING ERRCODE = '22023';
        END IF;
        IF c ? k THEN
            RAISE EXCEPTION 'line %: "%" given twice', v_n, k USING ERRCODE = '22023';
        END IF;
        IF v = '' THEN
            RAISE EXCEPTION 'line %: "%" has no value', v_n, k USING ERRCODE = '22023';
        END IF;
        CASE k
        WHEN 'cgn', 'inside_vrf' THEN
            IF v !~ '^[A-Za-z0-9._:@/-]{1,255}$' THEN
                RAISE EXCEPTION 'line %: %: "%" is not a name', v_n, k, left(v, 80) USING ERRCODE = '22023';
            END IF;
            c := c || jsonb_build_object(k, v);
        WHEN 'algorithm' THEN
            -- RFC 7422 section 2's A: 0 sequential.  Its staggered formula
            -- is not self-consistent as printed; the others are not modelled.
            IF v NOT IN ('sequential', '0', 'none') THEN
                RAISE EXCEPTION 'line %: algorithm: "%" is not sequential (RFC 7422''s 0) or none', v_n, left(v, 80)
                    USING ERRCODE = '22023';
            END IF;
            c := c || jsonb_build_object(k, CASE v WHEN '0' THEN 'sequential' ELSE v END);
        WHEN 'inside', 'outside' THEN
            r := spoor.nat_config_range(k, v, v_n);
            IF k = 'outside' AND family(r[1]) <> 4 THEN
                RAISE EXCEPTION 'line %: outside: carrier-grade NAT shares IPv4 addresses; % is IPv6', v_n, host(r[1])
                    USING ERRCODE = '22023';
            END IF;
            c := c || jsonb_build_object(k || '_lo', host(r[1]), k || '_hi', host(r[2]));
        WHEN 'reserved' THEN
            FOREACH part IN ARRAY string_to_array(v, ',') LOOP
                m := regexp_match(btrim(part), '^([0-9]{1,5})(?:\s*-\s*([0-9]{1,5}))?$');
                IF m IS NULL OR m[1]::integer > 65535
                   OR coalesce(m[2], m[1])::integer NOT BETWEEN m[1]::integer AND 65535 THEN
                    RAISE EXCEPTION 'line %: reserved: "%" is not a port or LOW-HIGH from 0 to 65535', v_n, btrim(part)
                        USING ERRCODE = '22023';
                END IF;
                v_res := v_res + int4multirange(int4range(m[1]::integer, coalesce(m[2], m[1])::integer, '[]'));
            END LOOP;
            c := c || jsonb_build_object(k, v_res::text);
        WHEN 'ratio', 'dynamic_factor', 'ports_per_user', 'max_ports' THEN
            IF v !~ '^[0-9]{1,5}$' OR v::integer > 65536 OR (k <> 'dynamic_factor' AND v::integer = 0) THEN
                RAISE EXCEPTION 'line %: %: "%" is not a number from % to 65536', v_n, k, left(v, 80),
                    CASE k WHEN 'dynamic_factor' THEN 0 ELSE 1 END USING ERRCODE = '22023';
            END IF;
            c := c || jsonb_build_object(k, v::integer);
        END CASE;
    END LOOP;
    FOREACH k IN ARRAY ARRAY['cgn', 'algorithm'] LOOP
        IF NOT c ? k THEN
            RAISE EXCEPTION 'the configuration does not say "%"', k USING ERRCODE = '22023';
        END IF;
    END LOOP;
    IF c->>'algorithm' = 'none' THEN
        IF c - 'cgn' - 'algorithm' <> '{}' THEN
            RAISE EXCEPTION 'algorithm none ends deterministic mode: it takes no mapping keys' USING ERRCODE = '22023';
        END IF;
        RETURN c || jsonb_build_object('reserved', '{[0,1024)}', 'dynamic_factor', 0);
    END IF;
    FOREACH k IN ARRAY ARRAY['inside', 'outside'] LOOP
        IF NOT c ? (k || '_lo') THEN
            RAISE EXCEPTION 'the configuration does not say "%"', k USING ERRCODE = '22023';
        END IF;
    END LOOP;
    IF NOT c ? 'ratio' AND NOT c ? 'ports_per_user' THEN
        RAISE EXCEPTION 'the configuration says neither ratio (C, inside addresses per outside address) nor ports_per_user'
            USING ERRCODE = '22023';
    END IF;
    -- RFC 7422 section 2: reserved ports (R) leave the candidate list
    -- (system ports 0-1023 unless the file says otherwise); each inside
    -- address gets 1/(C+D) of what is left, in port order; what no inside
    -- address gets is the dynamic pool, whose blocks are logged.
    IF NOT c ? 'reserved' THEN
        v_res := '{[0,1024)}';
    END IF;
    v_avail := 65536 - coalesce((SELECT sum(upper(x) - lower(x)) FROM unnest(v_res) x), 0);
    v_dyn := coalesce((c->>'dynamic_factor')::integer, 0);
    v_n_in := (c->>'inside_hi')::inet - (c->>'inside_lo')::inet + 1;
    v_n_out := (c->>'outside_hi')::inet - (c->>'outside_lo')::inet + 1;
    v_ratio := (c->>'ratio')::integer;
    v_ppu := (c->>'ports_per_user')::integer;
    IF v_ppu IS NULL THEN
        v_ppu := v_avail / (v_ratio + v_dyn);
    ELSIF v_ratio IS NULL THEN
        v_ratio := v_avail / v_ppu - v_dyn;
    END IF;
    IF v_ppu < 1 OR v_ratio < 1 OR v_ppu::bigint * (v_ratio + v_dyn) > v_avail THEN
        RAISE EXCEPTION '% inside addresses (+ % dynamic shares) of % ports each do not fit the % ports left after the reserved ones',
            v_ratio, v_dyn, v_ppu, v_avail USING ERRCODE = '22023';
    END IF;
    IF v_n_in > v_n_out * v_ratio THEN
        RAISE EXCEPTION 'the inside range has % addresses, the outside range room for % (% addresses x % each)',
            v_n_in, v_n_out * v_ratio, v_n_out, v_ratio USING ERRCODE = '22023';
    END IF;
    IF (c->>'max_ports')::integer < v_ppu THEN
        RAISE EXCEPTION 'max_ports (M, %) is less than each inside address''s share (%)', c->>'max_ports', v_ppu
            USING ERRCODE = '22023';
    END IF;
    RETURN c || jsonb_build_object('reserved', v_res::text, 'ratio', v_ratio, 'dynamic_factor', v_dyn,
                                   'ports_per_user', v_ppu, 'inside_count', v_n_in, 'outside_count', v_n_out);
END
$function$;
ALTER FUNCTION spoor.nat_config_parse(p_source text) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.nat_config_parse(p_source text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.nat_config_parse(p_source text) TO spoor_admin;
GRANT EXECUTE ON FUNCTION spoor.nat_config_parse(p_source text) TO spoor_auditor;

-- A new version of CGN P_CGN's configuration starts after its latest one,
-- or is refused: one slipped in between would rewrite the answers for a
-- past period.  Checked when an admin asks and again when the second
-- confirms (another version may have come in between).
CREATE OR REPLACE FUNCTION spoor.nat_config_after_latest(p_cgn text, p_valid_from timestamp with time zone)
 RETURNS void
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_last timestamptz;
BEGIN
    SELECT max(n.valid_from) INTO v_last FROM spoor.nat_config n WHERE n.cgn = p_cgn;
    IF v_last >= p_valid_from THEN
        RAISE EXCEPTION 'CGN %: its latest version is in force from %; a new version comes after it', p_cgn, v_last
            USING ERRCODE = '22023';
    END IF;
END
$function$;
ALTER FUNCTION spoor.nat_config_after_latest(p_cgn text, p_valid_from timestamp with time zone) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.nat_config_after_latest(p_cgn text, p_valid_from timestamp with time zone) FROM PUBLIC;

-- Record a version of a CGN's deterministic configuration, in force from
-- P_VALID_FROM until its next version.  A new version only ever comes
-- after the CGN's latest one: slipping one in between would rewrite the
-- answers for a past period.  Two admins (like a retention policy
-- shortened: an insider could otherwise move a port to another subscriber);
-- the DBA alone.  The effect is nat_config_apply.
CREATE OR REPLACE FUNCTION spoor.nat_config_add(p_source text, p_valid_from timestamp with time zone)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    c jsonb := spoor.nat_config_parse(p_source);
BEGIN
    IF p_valid_from IS NULL OR p_valid_from = 'infinity' OR p_valid_from = '-infinity' THEN
        RAISE EXCEPTION 'a configuration version needs the instant it took effect (--valid-from)' USING ERRCODE = '22023';
    END IF;
    PERFORM spoor.nat_config_after_latest(c->>'cgn', p_valid_from);
    IF NOT spoor.actor_is_superuser() THEN
        RETURN spoor.admin_change_request('nat_config', jsonb_build_object(
            'cgn', c->>'cgn', 'valid_from', p_valid_from, 'algorithm', c->>'algorithm',
            'sha256', encode(sha256(convert_to(p_source, 'UTF8')), 'hex'), 'source', p_source));
    END IF;
    RETURN spoor.nat_config_apply(p_source, p_valid_from, spoor.actor(), NULL);
END
$function$;
ALTER FUNCTION spoor.nat_config_add(p_source text, p_valid_from timestamp with time zone) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.nat_config_add(p_source text, p_valid_from timestamp with time zone) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.nat_config_add(p_source text, p_valid_from timestamp with time zone) TO spoor_admin;

CREATE OR REPLACE FUNCTION spoor.nat_config_apply(p_source text, p_valid_from timestamp with time zone, p_recorded_by name, p_confirmed_by name)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    c jsonb := spoor.nat_config_parse(p_source);
    v_id bigint;
BEGIN
    -- Checked again when the second admin confirms: another version may
    -- have been recorded since the first asked.
    PERFORM spoor.nat_config_after_latest(c->>'cgn', p_valid_from);
    INSERT INTO spoor.nat_config (cgn, valid_from, algorithm, inside_lo, inside_hi, inside_vrf, outside_lo, outside_hi,
                                  reserved, ratio, dynamic_factor, ports_per_user, max_ports, source, sha256,
                                  recorded_by, confirmed_by)
    VALUES (c->>'cgn', p_valid_from, c->>'algorithm', (c->>'inside_lo')::inet, (c->>'inside_hi')::inet,
            c->>'inside_vrf', (c->>'outside_lo')::inet, (c->>'outside_hi')::inet, (c->>'reserved')::int4multirange,
            (c->>'ratio')::integer, (c->>'dynamic_factor')::integer, (c->>'ports_per_user')::integer,
            (c->>'max_ports')::integer, p_source, sha256(convert_to(p_source, 'UTF8')), p_recorded_by, p_confirmed_by)
    RETURNING config_id INTO v_id;
    PERFORM spoor.audit_append('nat.config_add', NULL, jsonb_build_object(
        'config', v_id, 'cgn', c->>'cgn', 'valid_from', p_valid_from,
        'sha256', encode(sha256(convert_to(p_source, 'UTF8')), 'hex'),
        'recorded_by', p_recorded_by, 'confirmed_by', p_confirmed_by), 'ok', NULL);
    RETURN jsonb_build_object('status', 'ok', 'config_id', v_id, 'cgn', c->>'cgn', 'valid_from', p_valid_from,
                              'config', c);
END
$function$;
ALTER FUNCTION spoor.nat_config_apply(p_source text, p_valid_from timestamp with time zone, p_recorded_by name, p_confirmed_by name) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.nat_config_apply(p_source text, p_valid_from timestamp with time zone, p_recorded_by name, p_confirmed_by name) FROM PUBLIC;

-- Every version, with the instant the next one took over (admins and
-- auditors: configurations name no subscriber).
CREATE OR REPLACE FUNCTION spoor.nat_config_list()
 RETURNS SETOF jsonb
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT jsonb_build_object('config_id', n.config_id, 'cgn', n.cgn, 'valid_from', n.valid_from,
               'valid_until', lead(n.valid_from) OVER (PARTITION BY n.cgn ORDER BY n.valid_from),
               'algorithm', n.algorithm,
               'inside', CASE WHEN n.inside_lo IS NOT NULL THEN host(n.inside_lo) || '-' || host(n.inside_hi) END,
               'inside_vrf', n.inside_vrf,
               'outside', CASE WHEN n.outside_lo IS NOT NULL THEN host(n.outside_lo) || '-' || host(n.outside_hi) END,
               'reserved', n.reserved::text, 'ratio', n.ratio, 'dynamic_factor', n.dynamic_factor,
               'ports_per_user', n.ports_per_user, 'max_ports', n.max_ports,
               'sha256', encode(n.sha256, 'hex'), 'recorded_by', n.recorded_by, 'recorded_at', n.recorded_at,
               'confirmed_by', n.confirmed_by)
    FROM spoor.nat_config n ORDER BY n.cgn, n.valid_from
$function$;
ALTER FUNCTION spoor.nat_config_list() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.nat_config_list() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.nat_config_list() TO spoor_admin;
GRANT EXECUTE ON FUNCTION spoor.nat_config_list() TO spoor_auditor;

-- The port of the J-th (from 0) port that is not reserved.
CREATE OR REPLACE FUNCTION spoor.nat_det_port(p_reserved int4multirange, p_j integer)
 RETURNS integer
 LANGUAGE sql
 IMMUTABLE STRICT
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
    WITH u AS (
        SELECT lower(x) AS lo, upper(x) AS hi,
               sum(upper(x) - lower(x)) OVER (ORDER BY lower(x)) - (upper(x) - lower(x)) AS before
        FROM unnest('{[0,65536)}'::int4multirange - p_reserved) x)
    SELECT lo + (p_j - before)::integer FROM u WHERE p_j >= before AND p_j < before + (hi - lo)
$function$;
ALTER FUNCTION spoor.nat_det_port(p_reserved int4multirange, p_j integer) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.nat_det_port(p_reserved int4multirange, p_j integer) FROM PUBLIC;

-- RFC 7422's function 2 for configuration N: the inside address behind
-- outside address P_IP and port P_PORT, with the range of ports it owns
-- (its first and last port: reserved ports within are not its), or no row
-- when the port is reserved, in the dynamic pool, or in a share no inside
-- address has.  With P_PORT NULL: every inside address with a share of
-- P_IP (function 1 read backwards).  Sequential (A = 0): the inside
-- address at offset i owns the (i mod C)-th share of outside address
-- i div C, the shares laid out in port order over the ports R leaves.
CREATE OR REPLACE FUNCTION spoor.nat_det_reverse(n spoor.nat_config, p_ip inet, p_port integer)
 RETURNS TABLE(inside inet, port_lo integer, port_hi integer)
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    WITH o AS (SELECT p_ip - n.outside_lo AS off WHERE n.algorithm = 'sequential' AND p_ip BETWEEN n.outside_lo AND n.outside_hi),
    s AS (
        SELECT ((p_port - coalesce((SELECT sum(upper(x) - lower(x))
                                    FROM unnest(n.reserved * int4multirange(int4range(0, p_port))) x), 0))
                / n.ports_per_user)::integer AS slot
        WHERE p_port IS NOT NULL AND NOT n.reserved @> p_port
        UNION ALL
        SELECT g FROM generate_series(0, n.ratio - 1) g WHERE p_port IS NULL)
    SELECT n.inside_lo + (o.off * n.ratio + s.slot),
           spoor.nat_det_port(n.reserved, s.slot * n.ports_per_user),
           spoor.nat_det_port(n.reserved, (s.slot + 1) * n.ports_per_user - 1)
    FROM o, s
    WHERE s.slot < n.ratio AND o.off * n.ratio + s.slot < (n.inside_hi - n.inside_lo) + 1
$function$;
ALTER FUNCTION spoor.nat_det_reverse(n spoor.nat_config, p_ip inet, p_port integer) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.nat_det_reverse(n spoor.nat_config, p_ip inet, p_port integer) FROM PUBLIC;

-- The deterministic holders of P_IP (port P_PORT, or all with NULL) at
-- P_AT give or take P_TOL, shaped like nat_holders' (an empty evidence: the
-- configuration version is the evidence, given whole with its SHA-256, who
-- recorded it when, and who confirmed it).  NULL when no version in force
-- then maps P_IP.
CREATE OR REPLACE FUNCTION spoor.nat_det_holders(p_ip inet, p_port integer, p_at timestamp with time zone, p_tol interval)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    WITH v AS (
        SELECT n, n.valid_from AS start,
               (SELECT min(x.valid_from) FROM spoor.nat_config x
                WHERE x.cgn = n.cgn AND x.valid_from > n.valid_from) AS stop
        FROM spoor.nat_config n
        WHERE n.algorithm = 'sequential' AND p_ip BETWEEN n.outside_lo AND n.outside_hi
          AND n.valid_from <= p_at + p_tol),
    live AS (SELECT * FROM v WHERE v.stop IS NULL OR v.stop >= p_at - p_tol)
    SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM live) THEN NULL ELSE
        coalesce((SELECT jsonb_agg(jsonb_build_object(
               'cgn', (l.n).cgn, 'public_ip', host(p_ip), 'port_lo', d.port_lo, 'port_hi', d.port_hi,
               'inside_ip', host(d.inside), 'inside_vrf', (l.n).inside_vrf, 'inside_port', NULL,
               'start', l.start, 'start_seen', true, 'stop', l.stop,
               'stop_reason', CASE WHEN l.stop IS NULL THEN 'open' ELSE 'superseded' END,
               'covers_instant', l.start <= p_at AND (l.stop IS NULL OR l.stop > p_at),
               'mapping', 'deterministic',
               'config', jsonb_build_object('config_id', (l.n).config_id, 'algorithm', (l.n).algorithm,
                   'valid_from', l.start, 'valid_until', l.stop,
                   'sha256', encode((l.n).sha256, 'hex'), 'recorded_by', (l.n).recorded_by,
                   'recorded_at', (l.n).recorded_at, 'confirmed_by', (l.n).confirmed_by,
                   'recorded_after_instant', (l.n).recorded_at > p_at, 'source', (l.n).source),
               'evidence', '[]'::jsonb) ORDER BY l.start, d.inside)
            FROM live l CROSS JOIN LATERAL spoor.nat_det_reverse(l.n, p_ip, p_port) d), '[]'::jsonb) END
$function$;
ALTER FUNCTION spoor.nat_det_holders(p_ip inet, p_port integer, p_at timestamp with time zone, p_tol interval) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.nat_det_holders(p_ip inet, p_port integer, p_at timestamp with time zone, p_tol interval) FROM PUBLIC;
