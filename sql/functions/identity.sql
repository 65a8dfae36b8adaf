CREATE OR REPLACE FUNCTION spoor_identity.subscriber_import_all(p_rows jsonb, p_file_sha256 text, p_file text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor_identity', 'pg_temp'
AS $function$
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
$function$;
ALTER FUNCTION spoor_identity.subscriber_import_all(p_rows jsonb, p_file_sha256 text, p_file text) OWNER TO spoor_identity;
REVOKE ALL ON FUNCTION spoor_identity.subscriber_import_all(p_rows jsonb, p_file_sha256 text, p_file text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION spoor_identity.reveal(p_request bigint, p_accounts text[])
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor_identity', 'pg_temp'
AS $function$
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
$function$;
ALTER FUNCTION spoor_identity.reveal(p_request bigint, p_accounts text[]) OWNER TO spoor_identity;
REVOKE ALL ON FUNCTION spoor_identity.reveal(p_request bigint, p_accounts text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor_identity.reveal(p_request bigint, p_accounts text[]) TO spoor_owner;

CREATE OR REPLACE FUNCTION spoor_identity.subscriber_count()
 RETURNS bigint
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor_identity', 'pg_temp'
AS $function$
    SELECT count(*) FROM spoor_identity.subscriber
$function$;
ALTER FUNCTION spoor_identity.subscriber_count() OWNER TO spoor_identity;
REVOKE ALL ON FUNCTION spoor_identity.subscriber_count() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor_identity.subscriber_count() TO spoor_auditor;
GRANT EXECUTE ON FUNCTION spoor_identity.subscriber_count() TO spoor_admin;
GRANT EXECUTE ON FUNCTION spoor_identity.subscriber_count() TO spoor_owner;

CREATE OR REPLACE FUNCTION spoor_identity.subscriber_import(p_rows jsonb, p_file_sha256 text, p_file text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor_identity', 'pg_temp'
AS $function$
DECLARE
    v_new jsonb;
    v_changed jsonb;
    v_res jsonb;
    v_change jsonb;
BEGIN
    IF jsonb_typeof(p_rows) IS DISTINCT FROM 'array' THEN
        RETURN jsonb_build_object('status', 'denied', 'reason', 'rows must be a JSON array');
    END IF;
    IF spoor.actor_is_superuser() THEN
        RETURN spoor_identity.subscriber_import_all(p_rows, p_file_sha256, p_file);
    END IF;
    SELECT coalesce(jsonb_agg(r) FILTER (WHERE s.account IS NULL), '[]'),
           coalesce(jsonb_agg(r) FILTER (WHERE s.account IS NOT NULL AND
               (s.full_name, s.postal_address, s.billing_contact, s.customer_ref) IS DISTINCT FROM
               (r->>'full_name', r->>'postal_address', r->>'billing_contact', r->>'customer_ref')), '[]')
    INTO v_new, v_changed
    FROM jsonb_array_elements(p_rows) r LEFT JOIN spoor_identity.subscriber s ON s.account = r->>'account';
    v_res := spoor_identity.subscriber_import_all(v_new, p_file_sha256, p_file);
    IF jsonb_array_length(v_changed) > 0 THEN
        v_change := spoor.admin_change_request('identity', jsonb_build_object('file', p_file,
            'sha256', p_file_sha256, 'accounts', jsonb_array_length(v_changed)));
        INSERT INTO spoor_identity.pending_identity VALUES ((v_change->>'change_id')::bigint, v_changed);
        v_res := v_res || jsonb_build_object('pending_overwrites', jsonb_array_length(v_changed),
                                             'change_id', v_change->'change_id', 'reason', v_change->'reason');
    END IF;
    RETURN v_res;
END
$function$;
ALTER FUNCTION spoor_identity.subscriber_import(p_rows jsonb, p_file_sha256 text, p_file text) OWNER TO spoor_identity;
REVOKE ALL ON FUNCTION spoor_identity.subscriber_import(p_rows jsonb, p_file_sha256 text, p_file text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor_identity.subscriber_import(p_rows jsonb, p_file_sha256 text, p_file text) TO spoor_admin;
GRANT EXECUTE ON FUNCTION spoor_identity.subscriber_import(p_rows jsonb, p_file_sha256 text, p_file text) TO spoor_owner;

CREATE OR REPLACE FUNCTION spoor_identity.subscriber_apply(p_change bigint)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor_identity', 'pg_temp'
AS $function$
DECLARE
    p spoor_identity.pending_identity;
BEGIN
    SELECT * INTO p FROM spoor_identity.pending_identity WHERE change_id = p_change;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('status', 'denied', 'reason', 'no staged identities for this change');
    END IF;
    RETURN spoor_identity.subscriber_import_all(p.rows, 'change ' || p_change, 'admin change ' || p_change);
END
$function$;
ALTER FUNCTION spoor_identity.subscriber_apply(p_change bigint) OWNER TO spoor_identity;
REVOKE ALL ON FUNCTION spoor_identity.subscriber_apply(p_change bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor_identity.subscriber_apply(p_change bigint) TO spoor_owner;
