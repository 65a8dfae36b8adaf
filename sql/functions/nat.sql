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
-- was last seen (allocated, or in an interim log) when neither its release
-- nor its allocation to someone else is in the logs: a lost release must not
-- extend a holding for ever, nor end it the moment it was last mentioned.
-- CGNs log interims for long-held blocks (Juniper every few hours, when
-- configured); a day covers them.
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

-- The holders of public address P_IP (and of port P_PORT, unless NULL) at
-- P_AT give or take P_TOL: one object per holding, with the inside address,
-- the block, when it began and ended and why, whether it covers the
-- instant itself, and the verbatim lines it rests on.  A holding begins at
-- the latest allocation at or before the instant (or, when its allocation
-- is not in the logs, the first interim that shows it), and ends at its
-- release, else at the allocation of the same block to another address,
-- else nat_block_max() after it was last seen.  NULL when the logs say
-- nothing of P_IP around P_AT: it is not a CGN address (then).
CREATE OR REPLACE FUNCTION spoor.nat_holders(p_ip inet, p_port integer, p_at timestamp with time zone, p_tol interval)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
 SET plan_cache_mode TO 'force_custom_plan'
AS $function$
DECLARE
    v_max interval := spoor.nat_block_max();
    v_lo timestamptz := p_at - p_tol - v_max;
    v_hi timestamptz := p_at + p_tol + v_max;
    v_res jsonb;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM spoor.nat_event e WHERE e.outside = p_ip AND e.ts BETWEEN v_lo AND v_hi) THEN
        RETURN NULL;
    END IF;
    WITH ev AS (
        SELECT e.* FROM spoor.nat_event e
        WHERE e.outside = p_ip AND e.ts BETWEEN v_lo AND v_hi
          AND (p_port IS NULL OR (e.port_lo <= p_port AND e.port_hi >= p_port))
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
        SELECT h.*, r.ts AS released, n.ts AS reassigned, s.ts AS last_seen
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
    ), fin AS (
        SELECT s.*,
               CASE WHEN s.released IS NOT NULL AND (s.reassigned IS NULL OR s.released <= s.reassigned) THEN s.released
                    ELSE least(s.reassigned, s.last_seen + v_max) END AS stop,
               CASE WHEN s.released IS NOT NULL AND (s.reassigned IS NULL OR s.released <= s.reassigned) THEN 'released'
                    WHEN s.reassigned IS NOT NULL AND s.reassigned <= s.last_seen + v_max THEN 'reassigned'
                    WHEN s.last_seen + v_max < now() THEN 'timeout'
                    ELSE 'open' END AS stop_reason
        FROM span s
    )
    SELECT jsonb_agg(jsonb_build_object(
               'cgn', f.host, 'public_ip', host(p_ip), 'port_lo', f.port_lo, 'port_hi', f.port_hi,
               'inside_ip', host(f.inside), 'inside_vrf', f.inside_vrf, 'inside_port', f.inside_port,
               'start', f.start, 'start_seen', f.start_seen, 'stop', f.stop, 'stop_reason', f.stop_reason,
               'covers_instant', f.start <= p_at AND f.stop >= p_at,
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
    WHERE f.start <= p_at + p_tol AND f.stop >= p_at - p_tol;
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
    v_hold jsonb;
    v_t jsonb;
    v_tr jsonb := '[]'::jsonb;
    v_sessions jsonb := '[]'::jsonb;
BEGIN
    IF p_port IS NULL THEN
        v_all := spoor.nat_holders(p_ip, NULL, p_at, p_tol);
        IF v_all IS NULL THEN
            RETURN spoor.lease_at(p_ip, p_at, p_tol);
        END IF;
        RETURN jsonb_build_object(
            'verdict', 'shared_address',
            'sessions', '[]'::jsonb,
            'cgn', jsonb_build_object(
                'public_ip', host(p_ip),
                'subscribers_sharing', (SELECT count(DISTINCT (h->>'inside_ip', h->>'inside_vrf')) FROM jsonb_array_elements(v_all) h),
                'note', 'a shared carrier-grade NAT address: the order must name the source port; no subscriber is named'));
    END IF;
    v_hold := spoor.nat_holders(p_ip, p_port, p_at, p_tol);
    IF v_hold IS NULL THEN
        RETURN spoor.lease_at(p_ip, p_at, p_tol);
    END IF;
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
