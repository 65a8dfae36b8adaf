-- Closed days on an archive PostgreSQL (sql/023_archive.sql).

-- The partitions a day's archiving moves: every day-partitioned table but
-- the lease index (lease_seg: the locator every address lookup starts
-- from, derived and small, stays here).
CREATE OR REPLACE FUNCTION spoor.archive_tables()
 RETURNS SETOF text
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT p.name FROM spoor.partitioned p WHERE p.name <> 'lease_seg' ORDER BY p.name
$function$;
ALTER FUNCTION spoor.archive_tables() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.archive_tables() FROM PUBLIC;

-- The days to move at P_NOW: closed and compacted (compacted rows for the
-- day), at least P_AFTER_DAYS old, not moved yet, when the foreign server
-- spoor_archive exists.
CREATE OR REPLACE FUNCTION spoor.archive_plan(p_now timestamp with time zone, p_after_days integer)
 RETURNS SETOF date
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
    SELECT DISTINCT c.day FROM spoor.compacted c
    WHERE c.upto IS NULL   -- a closed day's round (an open day's rounds are not the day)
      -- A day under legal hold stays here, where its evidence is checked
      -- on every lookup and nobody but the owner can write (archive_day).
      AND NOT EXISTS (SELECT 1 FROM spoor.held_days() h WHERE h.day = c.day)
      AND EXISTS (SELECT 1 FROM pg_foreign_server s WHERE s.srvname = 'spoor_archive')
      AND c.day < ((spoor.retention_now(p_now) AT TIME ZONE 'UTC')::date - p_after_days)
      AND EXISTS (SELECT 1 FROM spoor.archive_tables() t
                  JOIN pg_class k ON k.relname = t || '_' || to_char(c.day, 'YYYYMMDD')
                                 AND k.relnamespace = 'spoor'::regnamespace AND k.relkind = 'r')
    ORDER BY 1
$function$;
ALTER FUNCTION spoor.archive_plan(p_now timestamp with time zone, p_after_days integer) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.archive_plan(p_now timestamp with time zone, p_after_days integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.archive_plan(p_now timestamp with time zone, p_after_days integer) TO spoor_retention;

-- The archive's archive_request, as a foreign table here (once).
CREATE OR REPLACE FUNCTION spoor.archive_link()
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
BEGIN
    IF to_regclass('spoor_archive_stage.archive_request') IS NULL THEN
        IMPORT FOREIGN SCHEMA spoor LIMIT TO (archive_request) FROM SERVER spoor_archive INTO spoor_archive_stage;
    END IF;
END
$function$;
ALTER FUNCTION spoor.archive_link() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.archive_link() FROM PUBLIC;

-- Ask the archive to make day P_DAY's partition of P_TBL, empty
-- ('prepare'), or to drop it ('drop'): a row in its archive_request, in this
-- transaction (postgres_fdw commits it with ours).
CREATE OR REPLACE FUNCTION spoor.archive_ask(p_action text, p_tbl text, p_day date)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
BEGIN
    PERFORM spoor.archive_link();
    INSERT INTO spoor_archive_stage.archive_request (action, tbl, key_type, day, at)
    SELECT p_action, p.name, p.key_type, p_day, now() FROM spoor.partitioned p WHERE p.name = p_tbl;
END
$function$;
ALTER FUNCTION spoor.archive_ask(p_action text, p_tbl text, p_day date) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.archive_ask(p_action text, p_tbl text, p_day date) FROM PUBLIC;

-- On the archive: carry out a primary's request (the table's trigger).
-- partition_create refuses a day retention dropped here; the archive is
-- Spoor's schema, its own retention_dropped says so.
CREATE OR REPLACE FUNCTION spoor.archive_request_apply()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
AS $function$
DECLARE
    v_part text := NEW.tbl || '_' || to_char(NEW.day, 'YYYYMMDD');
BEGIN
    IF NOT EXISTS (SELECT 1 FROM spoor.partitioned p WHERE p.name = NEW.tbl AND p.key_type = NEW.key_type) THEN
        RAISE EXCEPTION 'archive: % is no partitioned table of Spoor''s', NEW.tbl USING ERRCODE = '22023';
    END IF;
    IF NEW.action = 'prepare' THEN
        PERFORM spoor.partition_create(NEW.tbl, NEW.key_type, NEW.day);
        EXECUTE format('TRUNCATE spoor.%I', v_part);
    ELSE
        EXECUTE format('DROP TABLE IF EXISTS spoor.%I', v_part);
    END IF;
    RETURN NEW;
END
$function$;
ALTER FUNCTION spoor.archive_request_apply() OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.archive_request_apply() FROM PUBLIC;
CREATE OR REPLACE TRIGGER archive_request_apply BEFORE INSERT ON spoor.archive_request FOR EACH ROW EXECUTE FUNCTION spoor.archive_request_apply();

-- Move day P_DAY to the archive: for each of its partitions, make the same
-- partition there (dblink: spoor.partition_create, in the archive's own
-- schema), copy the rows through a staging foreign table, read them back
-- (count and retention digest must match), then in this one transaction
-- detach and drop the local partition and attach the foreign table as the
-- partition in its place.  A failure anywhere leaves the local day as it
-- was (what was copied to the archive is replaced at the next attempt).
-- Audited as retention.archive per partition.
CREATE OR REPLACE FUNCTION spoor.archive_day(p_day date)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'spoor', 'pg_temp'
 SET "DateStyle" TO 'ISO, YMD'
 SET "TimeZone" TO 'UTC'
AS $function$
DECLARE
    t record;
    v_con record;
    v_part text;
    v_bound text;
    v_n bigint;
    v_d text;
    v_rn bigint;
    v_rd text;
    v_done jsonb := '[]';
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_foreign_server s WHERE s.srvname = 'spoor_archive') THEN
        RETURN jsonb_build_object('status', 'denied', 'reason', 'no archive: the DBA names it as the foreign server spoor_archive');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM spoor.compacted c WHERE c.day = p_day AND c.upto IS NULL) THEN
        RETURN jsonb_build_object('status', 'denied', 'reason', format('%s is not compacted: only closed days are archived', p_day));
    END IF;
    -- What a legal hold preserves stays on the primary: the archive's own
    -- owner login could change it there, unseen by this database.  (No lock
    -- on the holds for the whole run: approvals and reports would wait for
    -- it, or deadlock with it over the audit lock.  A hold made while the
    -- day moves finds it archived, kept all the same.)
    IF EXISTS (SELECT 1 FROM spoor.held_days() h WHERE h.day = p_day) THEN
        RETURN jsonb_build_object('status', 'denied', 'reason', format('%s is under legal hold: it stays here', p_day));
    END IF;
    PERFORM spoor.archive_link();
    FOR t IN SELECT p.name, p.key_type FROM spoor.partitioned p
             WHERE p.name IN (SELECT spoor.archive_tables()) ORDER BY p.name LOOP
        v_part := t.name || '_' || to_char(p_day, 'YYYYMMDD');
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_class k WHERE k.relname = v_part
                                  AND k.relnamespace = 'spoor'::regnamespace AND k.relkind = 'r');
        SELECT pg_get_expr(k.relpartbound, k.oid) INTO v_bound FROM pg_class k
        WHERE k.relname = v_part AND k.relnamespace = 'spoor'::regnamespace;
        -- The archive's partition, empty (a failed earlier attempt may have
        -- left rows there).
        PERFORM spoor.archive_ask('prepare', t.name, p_day);
        EXECUTE format('DROP FOREIGN TABLE IF EXISTS spoor_archive_stage.%I', v_part);
        EXECUTE format('IMPORT FOREIGN SCHEMA spoor LIMIT TO (%I) FROM SERVER spoor_archive INTO spoor_archive_stage', v_part);
        -- The parent's CHECK constraints, declared on the foreign table as
        -- ATTACH PARTITION requires (the archive's own table enforces them).
        FOR v_con IN SELECT c.conname, pg_get_constraintdef(c.oid) AS def FROM pg_constraint c
                     WHERE c.conrelid = ('spoor.' || t.name)::regclass AND c.contype = 'c' LOOP
            EXECUTE format('ALTER FOREIGN TABLE spoor_archive_stage.%I ADD CONSTRAINT %I %s',
                           v_part, v_con.conname, v_con.def);
        END LOOP;
        EXECUTE format('INSERT INTO spoor_archive_stage.%I SELECT * FROM spoor.%I', v_part, v_part);
        SELECT x.n, x.digest INTO v_n, v_d FROM spoor.partition_digest(t.name, v_part) x;
        -- Read back through the archive, the same way a lookup will.
        EXECUTE format('ALTER FOREIGN TABLE spoor_archive_stage.%I RENAME TO %I', v_part, v_part || '_x');
        EXECUTE format('ALTER TABLE spoor.%I DETACH PARTITION spoor.%I', t.name, v_part);
        EXECUTE format('ALTER TABLE spoor.%I RENAME TO %I', v_part, v_part || '_local');
        EXECUTE format('ALTER FOREIGN TABLE spoor_archive_stage.%I SET SCHEMA spoor', v_part || '_x');
        EXECUTE format('ALTER FOREIGN TABLE spoor.%I RENAME TO %I', v_part || '_x', v_part);
        EXECUTE format('ALTER TABLE spoor.%I ATTACH PARTITION spoor.%I %s', t.name, v_part, v_bound);
        SELECT x.n, x.digest INTO v_rn, v_rd FROM spoor.partition_digest(t.name, v_part) x;
        IF v_rn IS DISTINCT FROM v_n OR v_rd IS DISTINCT FROM v_d THEN
            RAISE EXCEPTION 'archive: % reads back % rows, digest % (here % rows, %)', v_part, v_rn, v_rd, v_n, v_d
                USING ERRCODE = 'XX001';
        END IF;
        EXECUTE format('DROP TABLE spoor.%I', v_part || '_local');
        INSERT INTO spoor.archived (tbl, day, server, rows, digest) VALUES (t.name, p_day, 'spoor_archive', v_n, v_d);
        PERFORM spoor.audit_append('retention.archive', NULL,
            jsonb_build_object('table', t.name, 'partition', v_part, 'day', p_day, 'server', 'spoor_archive', 'rows', v_n),
            'ok', v_d);
        v_done := v_done || jsonb_build_object('partition', v_part, 'rows', v_n, 'digest', v_d);
    END LOOP;
    RETURN jsonb_build_object('status', 'ok', 'day', p_day, 'partitions', v_done);
END
$function$;
ALTER FUNCTION spoor.archive_day(p_day date) OWNER TO spoor_owner;
REVOKE ALL ON FUNCTION spoor.archive_day(p_day date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spoor.archive_day(p_day date) TO spoor_retention;
