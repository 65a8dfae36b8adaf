CREATE OR REPLACE FUNCTION spoor.smtp_from_packs(p_sort smallint, p_keys text[], p_lo timestamp with time zone, p_hi timestamp with time zone)
 RETURNS SETOF spoor.smtp_event
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
 SET plan_cache_mode TO 'force_custom_plan'
 SET "DateStyle" TO 'ISO, YMD'
 SET "TimeZone" TO 'UTC'
AS $function$
BEGIN
    RETURN QUERY
    SELECT e.* FROM (SELECT DISTINCT u.k FROM unnest(p_keys) AS u(k) WHERE u.k IS NOT NULL) k
    JOIN spoor.smtp_pack p ON p.sort = p_sort AND p.key_lo <= k.k AND p.key_hi >= k.k
    CROSS JOIN LATERAL spoor.pack_find(p.data, p.sha256, k.k, NULL::spoor.smtp_event) e
    WHERE p.day BETWEEN (p_lo AT TIME ZONE 'UTC')::date AND (p_hi AT TIME ZONE 'UTC')::date
      AND e.ts BETWEEN p_lo AND p_hi;
END
$function$;
ALTER FUNCTION spoor.smtp_from_packs(p_sort smallint, p_keys text[], p_lo timestamp with time zone, p_hi timestamp with time zone) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.smtp_from_packs(p_sort smallint, p_keys text[], p_lo timestamp with time zone, p_hi timestamp with time zone) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.radius_from_packs(p_sort smallint, p_keys text[], p_lo timestamp with time zone, p_hi timestamp with time zone)
 RETURNS SETOF spoor.radius_event
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
 SET plan_cache_mode TO 'force_custom_plan'
 SET "DateStyle" TO 'ISO, YMD'
 SET "TimeZone" TO 'UTC'
AS $function$
BEGIN
    RETURN QUERY
    SELECT e.* FROM (SELECT DISTINCT u.k FROM unnest(p_keys) AS u(k) WHERE u.k IS NOT NULL) k
    JOIN spoor.radius_pack p ON p.sort = p_sort AND p.key_lo <= k.k AND p.key_hi >= k.k
    CROSS JOIN LATERAL spoor.pack_find(p.data, p.sha256, k.k, NULL::spoor.radius_event) e
    WHERE p.day BETWEEN (p_lo AT TIME ZONE 'UTC')::date AND (p_hi AT TIME ZONE 'UTC')::date
      AND e.ts BETWEEN p_lo AND p_hi;
END
$function$;
ALTER FUNCTION spoor.radius_from_packs(p_sort smallint, p_keys text[], p_lo timestamp with time zone, p_hi timestamp with time zone) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.radius_from_packs(p_sort smallint, p_keys text[], p_lo timestamp with time zone, p_hi timestamp with time zone) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.smtp_by_msgid(p_id text, p_lo timestamp with time zone, p_hi timestamp with time zone)
 RETURNS SETOF spoor.smtp_event
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
 SET plan_cache_mode TO 'force_custom_plan'
AS $function$
BEGIN
    RETURN QUERY
    SELECT e.* FROM spoor.smtp_event e
    WHERE e.message_id = p_id AND e.ts BETWEEN p_lo AND p_hi AND e.kind IN (spoor.smtp_kind('message_id'), spoor.smtp_kind('exim_arrival'));
    RETURN QUERY
    SELECT e.* FROM spoor.smtp_from_packs(2::smallint, ARRAY[p_id], p_lo, p_hi) e WHERE e.kind IN (spoor.smtp_kind('message_id'), spoor.smtp_kind('exim_arrival'));
END
$function$;
ALTER FUNCTION spoor.smtp_by_msgid(p_id text, p_lo timestamp with time zone, p_hi timestamp with time zone) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.smtp_by_msgid(p_id text, p_lo timestamp with time zone, p_hi timestamp with time zone) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.smtp_by_queue(p_hosts text[], p_qids text[], p_lo timestamp with time zone, p_hi timestamp with time zone)
 RETURNS SETOF spoor.smtp_event
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
 SET plan_cache_mode TO 'force_custom_plan'
AS $function$
BEGIN
    RETURN QUERY
    SELECT e.* FROM (SELECT DISTINCT u.h, u.q FROM unnest(p_hosts, p_qids) AS u(h, q)
                     WHERE u.h IS NOT NULL AND u.q IS NOT NULL) k
    JOIN spoor.smtp_event e ON e.host = k.h AND e.queue_id = k.q
    WHERE e.queue_id IS NOT NULL AND e.ts BETWEEN p_lo AND p_hi;
    -- (The pack key joins host and queue ID with a space, which neither
    -- holds; matching both again costs nothing and relies on nothing.)
    RETURN QUERY
    SELECT e.* FROM spoor.smtp_from_packs(1::smallint,
        ARRAY(SELECT u.h || ' ' || u.q FROM unnest(p_hosts, p_qids) AS u(h, q)), p_lo, p_hi) e
    WHERE (e.host, e.queue_id) IN (SELECT u.h, u.q FROM unnest(p_hosts, p_qids) AS u(h, q));
END
$function$;
ALTER FUNCTION spoor.smtp_by_queue(p_hosts text[], p_qids text[], p_lo timestamp with time zone, p_hi timestamp with time zone) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.smtp_by_queue(p_hosts text[], p_qids text[], p_lo timestamp with time zone, p_hi timestamp with time zone) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.smtp_by_next(p_hosts text[], p_qids text[], p_lo timestamp with time zone, p_hi timestamp with time zone)
 RETURNS TABLE(ts timestamp with time zone, host text, kind smallint, queue_id text, next_queue_id text, block_id bigint, block_idx integer)
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
 SET plan_cache_mode TO 'force_custom_plan'
AS $function$
BEGIN
    RETURN QUERY
    SELECT e.ts, e.host, e.kind, e.queue_id, e.next_queue_id, e.block_id, e.block_idx
    FROM (SELECT DISTINCT u.h, u.q FROM unnest(p_hosts, p_qids) AS u(h, q)
          WHERE u.h IS NOT NULL AND u.q IS NOT NULL) k
    JOIN spoor.smtp_event e ON e.host = k.h AND e.next_queue_id = k.q
    WHERE e.next_queue_id IS NOT NULL AND e.ts BETWEEN p_lo AND p_hi;
    RETURN QUERY
    SELECT e.ts, e.host, e.kind, e.queue_id, e.next_queue_id, e.block_id, e.block_idx
    FROM spoor.smtp_from_packs(3::smallint,
        ARRAY(SELECT u.h || ' ' || u.q FROM unnest(p_hosts, p_qids) AS u(h, q)), p_lo, p_hi) e
    WHERE (e.host, e.next_queue_id) IN (SELECT u.h, u.q FROM unnest(p_hosts, p_qids) AS u(h, q));
END
$function$;
ALTER FUNCTION spoor.smtp_by_next(p_hosts text[], p_qids text[], p_lo timestamp with time zone, p_hi timestamp with time zone) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.smtp_by_next(p_hosts text[], p_qids text[], p_lo timestamp with time zone, p_hi timestamp with time zone) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.radius_by_session(p_keys text[], p_lo timestamp with time zone, p_hi timestamp with time zone)
 RETURNS SETOF spoor.radius_event
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
 SET plan_cache_mode TO 'force_custom_plan'
AS $function$
BEGIN
    RETURN QUERY
    SELECT e.* FROM (SELECT DISTINCT u.k FROM unnest(p_keys) AS u(k) WHERE u.k IS NOT NULL) k
    JOIN spoor.radius_event e ON e.session_key = k.k
    WHERE e.ts BETWEEN p_lo AND p_hi;
    RETURN QUERY SELECT * FROM spoor.radius_from_packs(1::smallint, p_keys, p_lo, p_hi);
END
$function$;
ALTER FUNCTION spoor.radius_by_session(p_keys text[], p_lo timestamp with time zone, p_hi timestamp with time zone) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.radius_by_session(p_keys text[], p_lo timestamp with time zone, p_hi timestamp with time zone) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.radius_reboots(p_nas inet[], p_lo timestamp with time zone, p_hi timestamp with time zone)
 RETURNS SETOF spoor.radius_event
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
 SET plan_cache_mode TO 'force_custom_plan'
AS $function$
BEGIN
    RETURN QUERY
    SELECT e.* FROM (SELECT DISTINCT u.n FROM unnest(p_nas) AS u(n) WHERE u.n IS NOT NULL) k
    JOIN spoor.radius_event e ON e.nas_ip = k.n
    WHERE e.status IN (7, 8) AND e.ts BETWEEN p_lo AND p_hi;
    RETURN QUERY
    SELECT e.* FROM spoor.radius_from_packs(2::smallint, ARRAY(SELECT host(u.n) FROM unnest(p_nas) AS u(n)),
                                            p_lo, p_hi) e
    WHERE e.status IN (7, 8);
END
$function$;
ALTER FUNCTION spoor.radius_reboots(p_nas inet[], p_lo timestamp with time zone, p_hi timestamp with time zone) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.radius_reboots(p_nas inet[], p_lo timestamp with time zone, p_hi timestamp with time zone) FROM PUBLIC;

-- Carrier-grade NAT events of public address P_IP (of its port P_PORT, or
-- all with NULL) between P_LO and P_HI: rows of open days and packs of
-- compacted ones alike (sort 1, keyed by host(outside)).
DROP FUNCTION IF EXISTS spoor.nat_by_outside(inet, timestamp with time zone, timestamp with time zone);
CREATE OR REPLACE FUNCTION spoor.nat_by_outside(p_ip inet, p_port integer, p_lo timestamp with time zone, p_hi timestamp with time zone)
 RETURNS SETOF spoor.nat_event
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
 SET plan_cache_mode TO 'force_custom_plan'
 SET "DateStyle" TO 'ISO, YMD'
 SET "TimeZone" TO 'UTC'
AS $function$
BEGIN
    RETURN QUERY
    SELECT e.* FROM spoor.nat_event e WHERE e.outside = p_ip AND e.ts BETWEEN p_lo AND p_hi
        AND (p_port IS NULL OR (e.port_lo <= p_port AND e.port_hi >= p_port));
    RETURN QUERY
    SELECT e.* FROM spoor.nat_pack p
    CROSS JOIN LATERAL spoor.pack_find(p.data, p.sha256, host(p_ip), NULL::spoor.nat_event) e
    WHERE p.sort = 1 AND p.key_lo <= host(p_ip) COLLATE "C" AND p.key_hi >= host(p_ip) COLLATE "C"
      AND p.day BETWEEN (p_lo AT TIME ZONE 'UTC')::date AND (p_hi AT TIME ZONE 'UTC')::date
      AND e.outside = p_ip AND e.ts BETWEEN p_lo AND p_hi
      AND (p_port IS NULL OR (e.port_lo <= p_port AND e.port_hi >= p_port));
END
$function$;
ALTER FUNCTION spoor.nat_by_outside(p_ip inet, p_port integer, p_lo timestamp with time zone, p_hi timestamp with time zone) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.nat_by_outside(p_ip inet, p_port integer, p_lo timestamp with time zone, p_hi timestamp with time zone) FROM PUBLIC;
