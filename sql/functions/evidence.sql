CREATE OR REPLACE FUNCTION spoor.evidence_line_raw(data bytea, dict bytea, sha256 bytea, idx integer)
 RETURNS bytea
 LANGUAGE c
 IMMUTABLE
AS 'spoor_evidence', $function$spoor_evidence_line$function$;
REVOKE ALL ON FUNCTION spoor.evidence_line_raw(data bytea, dict bytea, sha256 bytea, idx integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.evidence_line_raw(data bytea, dict bytea, sha256 bytea, idx integer) TO spoor_owner;

CREATE OR REPLACE FUNCTION spoor.evidence_of(p_block bigint, p_idx integer, p_ts timestamp with time zone)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
 SET plan_cache_mode TO 'force_custom_plan'
AS $function$
DECLARE
    v_day date := (p_ts AT TIME ZONE 'UTC')::date;
    v_res jsonb;
    v_peer inet;
BEGIN
    SELECT jsonb_build_object('line', convert_from(spoor.evidence_line_raw(b.data, d.dict, b.sha256, p_idx), 'UTF8'),
                              'block_id', b.block_id, 'line_index', p_idx,
                              'block_sha256', encode(b.sha256, 'hex'),
                              'source', b.source, 'partition', b.part),
           (SELECT p.peer FROM spoor.evidence_peer p
            WHERE p.day BETWEEN v_day - 1 AND v_day + 1 AND p.day = b.day  -- bounds known when planning
              AND p.block_id = b.block_id AND p.block_idx <= p_idx
            ORDER BY p.block_idx DESC LIMIT 1)
    INTO v_res, v_peer
    FROM spoor.evidence_block b LEFT JOIN spoor.evidence_dict d USING (dict_id)
    WHERE b.block_id = p_block AND b.day BETWEEN v_day - 1 AND v_day + 1;
    IF v_peer IS NOT NULL THEN
        v_res := v_res || jsonb_build_object('peer', host(v_peer));
    END IF;
    RETURN v_res;
END
$function$;
ALTER FUNCTION spoor.evidence_of(p_block bigint, p_idx integer, p_ts timestamp with time zone) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.evidence_of(p_block bigint, p_idx integer, p_ts timestamp with time zone) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor.pack_compress(payload bytea, level integer)
 RETURNS bytea
 LANGUAGE c
 IMMUTABLE STRICT
AS 'spoor_evidence', $function$spoor_pack_compress$function$;
REVOKE ALL ON FUNCTION spoor.pack_compress(payload bytea, level integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.pack_compress(payload bytea, level integer) TO spoor_owner;

CREATE OR REPLACE FUNCTION spoor.pack_find(data bytea, sha256 bytea, key text, template anyelement)
 RETURNS SETOF anyelement
 LANGUAGE c
 IMMUTABLE ROWS 4
AS 'spoor_evidence', $function$spoor_pack_find$function$;
REVOKE ALL ON FUNCTION spoor.pack_find(data bytea, sha256 bytea, key text, template anyelement) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.pack_find(data bytea, sha256 bytea, key text, template anyelement) TO spoor_owner;

CREATE OR REPLACE FUNCTION spoor.evidence_recompress(data bytea, dict bytea, sha256 bytea, level integer)
 RETURNS bytea
 LANGUAGE c
 IMMUTABLE
AS 'spoor_evidence', $function$spoor_evidence_recompress$function$;
REVOKE ALL ON FUNCTION spoor.evidence_recompress(data bytea, dict bytea, sha256 bytea, level integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.evidence_recompress(data bytea, dict bytea, sha256 bytea, level integer) TO spoor_owner;

CREATE OR REPLACE FUNCTION spoor.evidence_block_register()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
BEGIN
    INSERT INTO spoor.evidence_block_id SELECT block_id FROM new_blocks;
    RETURN NULL;
EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'an evidence block id is already stored: a stored block cannot be shadowed'
        USING ERRCODE = '23505';
END
$function$;
ALTER FUNCTION spoor.evidence_block_register() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.evidence_block_register() FROM PUBLIC;
CREATE OR REPLACE TRIGGER evidence_block_register AFTER INSERT ON spoor.evidence_block REFERENCING NEW TABLE AS new_blocks FOR EACH STATEMENT EXECUTE FUNCTION spoor.evidence_block_register();
