-- 011: compaction of closed days into event packs.
--
-- One row per log line is what makes ingest fast (a COPY into indexed
-- daily partitions) and what makes storage large: a PostgreSQL row costs
-- about 28 bytes of header and line pointer before its first column, and
-- every index entry 16 more, so smtp_event and radius_event were two thirds
-- of everything stored (sql/README.md, "Compaction").  Once a day is closed
-- (spoor-retention compact, retention.compact_after_days after its end), its
-- events move, unchanged, into packs: zstd frames of about a thousand
-- events each, sorted by the key a lookup searches them by, with the key
-- range in the pack's row.  A lookup reads the one pack per day whose range
-- holds its key, decompresses it, and parses only the matching events, so
-- it still touches a bounded number of rows per day.
--
-- Packs are the same events: each is its row's composite text, parsed back
-- as that row type, and the compaction checks, before it empties the day's
-- row partition, that the packs give back exactly its rows (count, the
-- digest of their evidence references, which retention's proof of deletion
-- also uses, and every column).  Late records for a compacted day still go
-- to its row partition; every lookup reads both, and a later compaction
-- packs them too.  The day's evidence blocks are compressed again, harder,
-- with their frames and SHA-256s unchanged.
SET LOCAL search_path = spoor, pg_catalog;

-- The packer and reader, from the module in sql/ext (checks each pack's
-- SHA-256 before it parses a record of it).
CREATE FUNCTION pack_compress(payload bytea, level integer) RETURNS bytea
    LANGUAGE c IMMUTABLE STRICT AS 'spoor_evidence', 'spoor_pack_compress';
CREATE FUNCTION pack_find(data bytea, sha256 bytea, key text, template anyelement)
    RETURNS SETOF anyelement
    LANGUAGE c IMMUTABLE ROWS 4 AS 'spoor_evidence', 'spoor_pack_find';
CREATE FUNCTION evidence_recompress(data bytea, dict bytea, sha256 bytea, level integer) RETURNS bytea
    LANGUAGE c IMMUTABLE AS 'spoor_evidence', 'spoor_evidence_recompress';
REVOKE ALL ON FUNCTION evidence_recompress(bytea, bytea, bytea, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION evidence_recompress(bytea, bytea, bytea, integer) TO spoor_owner;
REVOKE ALL ON FUNCTION pack_compress(bytea, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION pack_find(bytea, bytea, text, anyelement) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pack_compress(bytea, integer) TO spoor_owner;
GRANT EXECUTE ON FUNCTION pack_find(bytea, bytea, text, anyelement) TO spoor_owner;

SET LOCAL ROLE spoor_owner;

-- sort: for smtp_pack 1 = by host || ' ' || queue_id (every event),
-- 2 = by message_id (the events that carry one), 3 = by host || ' ' ||
-- next_queue_id (a content filter's re-queue: "queued as"); for radius_pack
-- 1 = by session_key (every event), 2 = by host(nas_ip) (Accounting-On/Off).
-- Sorts 2 and 3 repeat events of sort 1: they are locators, and only sort 1
-- is counted as what the day holds.
CREATE TABLE smtp_pack (
    day       date     NOT NULL,
    pack_id   bigint   NOT NULL,
    sort      smallint NOT NULL,
    key_lo    text     COLLATE "C" NOT NULL,
    key_hi    text     COLLATE "C" NOT NULL,
    ts_lo     timestamptz NOT NULL,
    ts_hi     timestamptz NOT NULL,
    n         integer  NOT NULL,
    raw_bytes integer  NOT NULL,   -- uncompressed payload
    sha256    bytea    NOT NULL,   -- of the uncompressed payload
    data      bytea    NOT NULL
) PARTITION BY RANGE (day);
CREATE TABLE radius_pack (
    day       date     NOT NULL,
    pack_id   bigint   NOT NULL,
    sort      smallint NOT NULL,
    key_lo    text     COLLATE "C" NOT NULL,
    key_hi    text     COLLATE "C" NOT NULL,
    ts_lo     timestamptz NOT NULL,
    ts_hi     timestamptz NOT NULL,
    n         integer  NOT NULL,
    raw_bytes integer  NOT NULL,
    sha256    bytea    NOT NULL,
    data      bytea    NOT NULL
) PARTITION BY RANGE (day);
ALTER TABLE smtp_pack ALTER COLUMN data SET STORAGE EXTERNAL;   -- zstd output: no pglz on top
ALTER TABLE radius_pack ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE INDEX smtp_pack_key ON smtp_pack (sort, key_lo);
CREATE INDEX radius_pack_key ON radius_pack (sort, key_lo);
CREATE SEQUENCE pack_id_seq;

-- Pack partitions are made by the compaction that fills them, not ahead of
-- time with the others: an empty one would only cost pages.
ALTER TABLE partitioned ADD COLUMN on_demand boolean NOT NULL DEFAULT false;
INSERT INTO partitioned (name, key_type, class, on_demand) VALUES
    ('smtp_pack', 'date', 'smtp', true),
    ('radius_pack', 'date', 'radius', true);

-- What each compaction did (one row per table, day and round).
CREATE TABLE compacted (
    tbl          text        NOT NULL,
    day          date        NOT NULL,
    round        integer     NOT NULL,
    rows         bigint      NOT NULL,
    packs        integer     NOT NULL,
    bytes_before bigint      NOT NULL,   -- the row partition, heap and indexes
    pack_bytes   bigint      NOT NULL,   -- the packs written (all sorts)
    digest       text        NOT NULL,
    compacted_at timestamptz NOT NULL DEFAULT now(),
    run_now      timestamptz NOT NULL,
    PRIMARY KEY (tbl, day, round)
);

-- The partition of P_TBL (registered in partitioned, its key of type
-- P_KEY_TYPE) for day P_DAY, unless it exists or retention dropped that day;
-- true if made.  Callers hold the partition lock (7340202).  Used by
-- ensure_partitions and by compaction, which makes its pack partitions.
CREATE FUNCTION partition_create(p_tbl text, p_key_type text, p_day date) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, spoor AS $$
DECLARE
    v_part text := p_tbl || '_' || to_char(p_day, 'YYYYMMDD');
BEGIN
    IF to_regclass('spoor.' || v_part) IS NOT NULL
       OR EXISTS (SELECT 1 FROM spoor.retention_dropped r WHERE r.tbl = p_tbl AND r.day = p_day) THEN
        RETURN false;
    END IF;
    IF p_key_type = 'date' THEN
        EXECUTE format('CREATE TABLE spoor.%I PARTITION OF spoor.%I FOR VALUES FROM (%L) TO (%L)%s',
                       v_part, p_tbl, p_day, p_day + 1,
                       CASE WHEN p_tbl = 'lease_seg' THEN ' WITH (fillfactor = 70)' ELSE '' END);
    ELSE
        EXECUTE format('CREATE TABLE spoor.%I PARTITION OF spoor.%I FOR VALUES FROM (%L) TO (%L)',
                       v_part, p_tbl, p_day::text || ' 00:00:00+00', (p_day + 1)::text || ' 00:00:00+00');
    END IF;
    RETURN true;
END
$$;

-- Partitions ahead of time, as in 006, except the tables made on demand.
CREATE OR REPLACE FUNCTION ensure_partitions(p_from date, p_to date) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
DECLARE
    t record;
    d date;
    n integer := 0;
BEGIN
    IF p_from IS NULL OR p_to IS NULL OR p_to < p_from THEN
        RAISE EXCEPTION 'ensure_partitions: bad range % .. %', p_from, p_to;
    END IF;
    IF p_to - p_from > 400 THEN
        RAISE EXCEPTION 'ensure_partitions: range % .. % is longer than 400 days', p_from, p_to
            USING ERRCODE = '22023';
    END IF;
    PERFORM pg_advisory_xact_lock(7340202);
    FOR t IN SELECT p.name, p.key_type, spoor.retention_horizon(p.class, now()) AS horizon
             FROM spoor.partitioned p WHERE NOT p.on_demand ORDER BY p.name LOOP
        d := greatest(p_from, coalesce(t.horizon, p_from));
        WHILE d <= p_to LOOP
            IF spoor.partition_create(t.name, t.key_type, d) THEN
                n := n + 1;
            END IF;
            d := d + 1;
        END LOOP;
    END LOOP;
    RETURN n;
END
$$;

-- The day a compaction may pack: P_MIN_AGE whole days after it ended.
CREATE FUNCTION compact_cutoff(p_now timestamptz, p_min_age integer) RETURNS date
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
    SELECT (p_now AT TIME ZONE 'UTC')::date - p_min_age - 1
$$;

-- What a compaction does: the closed days whose row partition holds
-- events, and whose evidence has not been compressed again yet.
CREATE FUNCTION compact_plan(p_now timestamptz, p_min_age integer)
RETURNS TABLE (tbl text, part text, day date)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
DECLARE
    r record;
    v_has boolean;
BEGIN
    p_now := spoor.retention_now(p_now);
    IF p_min_age IS NULL OR p_min_age < 1 OR p_min_age > 365 THEN
        RAISE EXCEPTION 'compact: the minimum age must be 1 .. 365 days, not %', p_min_age
            USING ERRCODE = '22023';
    END IF;
    FOR r IN SELECT pc.relname::text AS t, c.relname::text AS p, to_date(right(c.relname, 8), 'YYYYMMDD') AS d
             FROM pg_class pc JOIN pg_inherits i ON i.inhparent = pc.oid JOIN pg_class c ON c.oid = i.inhrelid
             WHERE pc.relnamespace = 'spoor'::regnamespace
               AND pc.relname IN ('smtp_event', 'radius_event', 'evidence_block')
               AND c.relname ~ '_[0-9]{8}$'
             ORDER BY 3, 1 LOOP
        CONTINUE WHEN r.d > spoor.compact_cutoff(p_now, p_min_age);
        IF r.t = 'evidence_block' THEN
            -- Once, and again only if blocks came late.
            EXECUTE format('SELECT count(*) > 0 AND count(*) IS DISTINCT FROM $1 FROM spoor.%I', r.p)
                USING (SELECT c.rows FROM spoor.compacted c WHERE c.tbl = r.t AND c.day = r.d
                       ORDER BY c.round DESC LIMIT 1)
                INTO v_has;
        ELSE
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM spoor.%I)', r.p) INTO v_has;
        END IF;
        IF v_has THEN
            tbl := r.t; part := r.p; day := r.d;
            RETURN NEXT;
        END IF;
    END LOOP;
END
$$;

-- Packs one closed day of P_TBL (smtp_event or radius_event): its events go,
-- unchanged, into packs of about 1000 per sort key (see the top of this
-- file), the packs are read back and compared with the rows (count, the
-- digest of their evidence references, and every column), and only then is
-- the day's row partition emptied.  All in one transaction: a crash leaves
-- the rows or the packs, never neither, never both.  Audited with the
-- digest, which is the one retention's proof of deletion computes for the
-- same rows.
CREATE FUNCTION compact_day(p_tbl text, p_day date, p_now timestamptz, p_min_age integer, p_level integer)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor
SET datestyle = 'ISO, YMD' SET timezone = 'UTC' AS $$
DECLARE
    v_part text := p_tbl || '_' || to_char(p_day, 'YYYYMMDD');
    v_pack text := CASE p_tbl WHEN 'smtp_event' THEN 'smtp_pack' WHEN 'radius_event' THEN 'radius_pack' END;
    v_lo timestamptz := p_day::timestamp AT TIME ZONE 'UTC';
    v_hi timestamptz := (p_day + 1)::timestamp AT TIME ZONE 'UTC';
    v_keys text;
    v_rows bigint;
    v_digest text;
    v_prows bigint;
    v_pdigest text;
    v_diff bigint;
    v_ids bigint[];
    v_packs integer;
    v_pbytes bigint;
    v_before bigint;
    v_round integer;
    v_res jsonb;
BEGIN
    p_now := spoor.retention_now(p_now);
    IF v_pack IS NULL AND p_tbl IS DISTINCT FROM 'evidence_block' THEN
        RETURN jsonb_build_object('status', 'denied', 'reason',
                                  'only smtp_event, radius_event and evidence_block are compacted');
    END IF;
    IF p_min_age IS NULL OR p_min_age < 1 OR p_min_age > 365 THEN
        RETURN jsonb_build_object('status', 'denied', 'reason', 'the minimum age must be 1 .. 365 days');
    END IF;
    IF p_level IS NULL OR p_level < 1 OR p_level > 19 THEN
        RETURN jsonb_build_object('status', 'denied', 'reason', 'the zstd level must be 1 .. 19');
    END IF;
    IF p_day IS NULL OR p_day > spoor.compact_cutoff(p_now, p_min_age) THEN
        RETURN jsonb_build_object('status', 'denied', 'reason',
            format('%s is not closed: a day is compacted %s days after its end', v_part, p_min_age));
    END IF;
    IF to_regclass('spoor.' || v_part) IS NULL THEN
        RETURN jsonb_build_object('status', 'denied', 'reason', 'no partition ' || v_part);
    END IF;
    IF p_tbl = 'evidence_block' THEN
        RETURN spoor.compact_evidence_day(p_day, p_level, p_now);
    END IF;
    -- Nothing is stored into the day while it is packed: the rows counted
    -- are the rows removed.
    EXECUTE format('LOCK TABLE spoor.%I IN EXCLUSIVE MODE', v_part);
    EXECUTE format('SELECT count(*), encode(sha256(coalesce(string_agg(h, ''''::bytea ORDER BY h), ''''::bytea)), ''hex'')
                    FROM (SELECT int8send(coalesce(t.block_id, 0)) || int4send(coalesce(t.block_idx, 0)) AS h
                          FROM spoor.%I t) x', v_part) INTO v_rows, v_digest;
    IF v_rows = 0 THEN
        RETURN jsonb_build_object('status', 'ok', 'partition', v_part, 'rows', 0, 'packs', 0);
    END IF;
    v_before := pg_total_relation_size(('spoor.' || v_part)::regclass);
    PERFORM pg_advisory_xact_lock(7340202);
    PERFORM spoor.partition_create(v_pack, 'date', p_day);
    -- (sort, key, record) of each event.  Sort 3 is a locator only: its
    -- records keep the queue, the re-queue and the evidence position.
    v_keys := CASE p_tbl
        WHEN 'smtp_event' THEN
            $k$(1::smallint, (t.host || ' ' || coalesce(t.queue_id, '')) COLLATE "C", t::text),
               (2::smallint, t.message_id COLLATE "C", t::text),
               (3::smallint, (t.host || ' ' || t.next_queue_id) COLLATE "C",
                ROW(t.ts, t.host, t.kind, t.queue_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                    t.next_queue_id, NULL, NULL, t.pos, t.block_id, t.block_idx)::spoor.smtp_event::text)$k$
        ELSE
            $k$(1::smallint, coalesce(t.session_key, '') COLLATE "C", t::text),
               (2::smallint, CASE WHEN t.status IN (7, 8) THEN host(t.nas_ip) END COLLATE "C", t::text)$k$ END;
    -- The row's composite text is parsed back as the same row type (with
    -- this function's DateStyle and TimeZone, whatever the session's).
    EXECUTE format($q$
        WITH ins AS (
            INSERT INTO spoor.%1$I (day, pack_id, sort, key_lo, key_hi, ts_lo, ts_hi, n, raw_bytes, sha256, data)
            SELECT $1, nextval('spoor.pack_id_seq'), g.sort, g.lo, g.hi, g.tlo, g.thi, g.n,
                   octet_length(g.payload), sha256(g.payload), spoor.pack_compress(g.payload, $4)
            FROM (SELECT x.sort, min(x.k) AS lo, max(x.k) AS hi, min(x.ts) AS tlo, max(x.ts) AS thi,
                         count(*) AS n,
                         string_agg(x.entry, ''::bytea ORDER BY x.k, x.ts, x.b, x.i) AS payload
                  FROM (SELECT s.sort, s.k, t.ts, t.block_id AS b, t.block_idx AS i,
                               int4send(octet_length(convert_to(s.k, 'UTF8'))) || convert_to(s.k, 'UTF8')
                               || int4send(octet_length(convert_to(s.rec, 'UTF8')))
                               || convert_to(s.rec, 'UTF8') AS entry,
                               (row_number() OVER (PARTITION BY s.sort ORDER BY s.k, t.ts, t.block_id, t.block_idx) - 1)
                                   / 1000 AS grp
                        FROM spoor.%2$I t
                        CROSS JOIN LATERAL (VALUES %3$s) AS s(sort, k, rec)
                        WHERE t.ts >= $2 AND t.ts < $3 AND s.k IS NOT NULL) x
                  GROUP BY x.sort, x.grp) g
            RETURNING pack_id, sort, octet_length(data) AS len)
        SELECT array_agg(pack_id) FILTER (WHERE sort = 1), count(*), sum(len) FROM ins$q$,
        v_pack, p_tbl, v_keys) USING p_day, v_lo, v_hi, p_level INTO v_ids, v_packs, v_pbytes;
    -- Read back, once: the same count, the same evidence digest, the same
    -- rows column for column.
    EXECUTE format($q$
        WITH e AS MATERIALIZED (
            SELECT e.* FROM spoor.%1$I p
            CROSS JOIN LATERAL spoor.pack_find(p.data, p.sha256, NULL, NULL::spoor.%2$I) e
            WHERE p.day = $1 AND p.pack_id = ANY ($2))
        SELECT (SELECT count(*) FROM e),
               (SELECT encode(sha256(coalesce(string_agg(h, ''::bytea ORDER BY h), ''::bytea)), 'hex')
                FROM (SELECT int8send(coalesce(e.block_id, 0)) || int4send(coalesce(e.block_idx, 0)) AS h
                      FROM e) x),
               (SELECT count(*) FROM (SELECT t.* FROM spoor.%2$I t WHERE t.ts >= $3 AND t.ts < $4
                                      EXCEPT ALL SELECT * FROM e) d)$q$, v_pack, p_tbl)
        USING p_day, v_ids, v_lo, v_hi INTO v_prows, v_pdigest, v_diff;
    IF v_prows IS DISTINCT FROM v_rows OR v_pdigest IS DISTINCT FROM v_digest OR v_diff <> 0 THEN
        RAISE EXCEPTION 'compact: the packs of % do not give back its rows (% rows, packs %; % differ)',
                        v_part, v_rows, v_prows, v_diff USING ERRCODE = 'XX001';
    END IF;
    EXECUTE format('TRUNCATE spoor.%I', v_part);
    SELECT coalesce(max(c.round), 0) + 1 INTO v_round FROM spoor.compacted c WHERE c.tbl = p_tbl AND c.day = p_day;
    INSERT INTO spoor.compacted (tbl, day, round, rows, packs, bytes_before, pack_bytes, digest, run_now)
    VALUES (p_tbl, p_day, v_round, v_rows, v_packs, v_before, v_pbytes, v_digest, p_now);
    v_res := jsonb_build_object('status', 'ok', 'partition', v_part, 'round', v_round, 'rows', v_rows,
                                'packs', v_packs, 'bytes_before', v_before, 'pack_bytes', v_pbytes,
                                'digest', v_digest);
    PERFORM spoor.audit_append('retention.compact', NULL,
        jsonb_build_object('table', p_tbl, 'partition', v_part, 'day', p_day, 'round', v_round,
                           'rows', v_rows, 'packs', v_packs, 'bytes_before', v_before,
                           'pack_bytes', v_pbytes, 'now', p_now),
        'ok', v_digest);
    RETURN v_res;
END
$$;

-- Evidence of a closed day compressed again, harder (ingest compresses at a
-- low level to keep up): each block is decompressed, its SHA-256 checked,
-- and compressed at P_LEVEL with the same dictionary, into a new table that
-- then takes the old partition's place.  The frames, their SHA-256 and so
-- what every block proves are unchanged, and checked: the new partition
-- holds the same (block id, SHA-256) pairs, and every new block decompresses
-- to its SHA-256.  A new table, not an UPDATE: the old TOAST chunks would
-- stay on disk.
CREATE FUNCTION compact_evidence_day(p_day date, p_level integer, p_now timestamptz) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, spoor AS $$
DECLARE
    v_part text := 'evidence_block_' || to_char(p_day, 'YYYYMMDD');
    v_new text := 'evidence_block_' || to_char(p_day, 'YYYYMMDD') || '_new';
    v_rows bigint;
    v_digest text;
    v_nrows bigint;
    v_ndigest text;
    v_before bigint;
    v_after bigint;
    v_round integer;
    v_res jsonb;
BEGIN
    -- Late blocks for the day wait until the swap is done.
    EXECUTE format('LOCK TABLE spoor.%I IN EXCLUSIVE MODE', v_part);
    EXECUTE format('SELECT count(*), encode(sha256(coalesce(string_agg(h, ''''::bytea ORDER BY h), ''''::bytea)), ''hex'')
                    FROM (SELECT int8send(t.block_id) || t.sha256 AS h FROM spoor.%I t) x', v_part)
        INTO v_rows, v_digest;
    IF v_rows = 0 THEN
        RETURN jsonb_build_object('status', 'ok', 'partition', v_part, 'rows', 0);
    END IF;
    v_before := pg_total_relation_size(('spoor.' || v_part)::regclass);
    EXECUTE format('CREATE TABLE spoor.%I (LIKE spoor.evidence_block INCLUDING ALL)', v_new);
    EXECUTE format($q$
        INSERT INTO spoor.%I (day, block_id, kind, source, part, first_pos, last_pos, n_lines, raw_bytes,
                              dict_id, sha256, data)
        SELECT b.day, b.block_id, b.kind, b.source, b.part, b.first_pos, b.last_pos, b.n_lines, b.raw_bytes,
               b.dict_id, b.sha256,
               CASE WHEN octet_length(r.data) < octet_length(b.data) THEN r.data ELSE b.data END
        FROM spoor.%I b LEFT JOIN spoor.evidence_dict d USING (dict_id)
        CROSS JOIN LATERAL (SELECT spoor.evidence_recompress(b.data, d.dict, b.sha256, $1) AS data) r$q$,
        v_new, v_part) USING p_level;
    -- Read back: evidence_line_raw raises unless the block decompresses to its SHA-256.
    EXECUTE format($q$
        SELECT count(*), encode(sha256(coalesce(string_agg(h, ''::bytea ORDER BY h), ''::bytea)), 'hex')
        FROM (SELECT int8send(t.block_id) || t.sha256 AS h,
                     spoor.evidence_line_raw(t.data, d.dict, t.sha256, 0) AS line
              FROM spoor.%I t LEFT JOIN spoor.evidence_dict d USING (dict_id)) x
        WHERE x.line IS NOT NULL$q$, v_new) INTO v_nrows, v_ndigest;
    IF v_nrows IS DISTINCT FROM v_rows OR v_ndigest IS DISTINCT FROM v_digest THEN
        RAISE EXCEPTION 'compact: the new blocks of % are not the old ones (% blocks, % new)',
                        v_part, v_rows, v_nrows USING ERRCODE = 'XX001';
    END IF;
    EXECUTE format('ALTER TABLE spoor.evidence_block DETACH PARTITION spoor.%I', v_part);
    EXECUTE format('DROP TABLE spoor.%I', v_part);
    EXECUTE format('ALTER TABLE spoor.%I RENAME TO %I', v_new, v_part);
    EXECUTE format('ALTER TABLE spoor.evidence_block ATTACH PARTITION spoor.%I FOR VALUES FROM (%L) TO (%L)',
                   v_part, p_day, p_day + 1);
    v_after := pg_total_relation_size(('spoor.' || v_part)::regclass);
    SELECT coalesce(max(c.round), 0) + 1 INTO v_round FROM spoor.compacted c
    WHERE c.tbl = 'evidence_block' AND c.day = p_day;
    INSERT INTO spoor.compacted (tbl, day, round, rows, packs, bytes_before, pack_bytes, digest, run_now)
    VALUES ('evidence_block', p_day, v_round, v_rows, 0, v_before, v_after, v_digest, p_now);
    v_res := jsonb_build_object('status', 'ok', 'partition', v_part, 'round', v_round, 'rows', v_rows,
                                'bytes_before', v_before, 'bytes_after', v_after, 'digest', v_digest);
    PERFORM spoor.audit_append('retention.compact', NULL,
        jsonb_build_object('table', 'evidence_block', 'partition', v_part, 'day', p_day, 'round', v_round,
                           'rows', v_rows, 'bytes_before', v_before, 'bytes_after', v_after,
                           'level', p_level, 'now', p_now),
        'ok', v_digest);
    RETURN v_res;
END
$$;

-- ---- readers: the row partitions and the packs, as one -----------------------
-- Each is PL/pgSQL with custom plans (principle 5): every scan of a
-- partitioned table is bounded by the arguments, so only the days asked for
-- are planned.  A pack is read only when its key range holds the key, and
-- only the matching events are parsed.

-- The events of the packs of sort P_SORT whose range holds one of P_KEYS,
-- with one of those keys, in [P_LO, P_HI].
CREATE FUNCTION smtp_from_packs(p_sort smallint, p_keys text[], p_lo timestamptz, p_hi timestamptz)
RETURNS SETOF smtp_event
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, spoor SET plan_cache_mode = force_custom_plan
SET datestyle = 'ISO, YMD' SET timezone = 'UTC' AS $$
BEGIN
    RETURN QUERY
    SELECT e.* FROM (SELECT DISTINCT u.k FROM unnest(p_keys) AS u(k) WHERE u.k IS NOT NULL) k
    JOIN spoor.smtp_pack p ON p.sort = p_sort AND p.key_lo <= k.k AND p.key_hi >= k.k
    CROSS JOIN LATERAL spoor.pack_find(p.data, p.sha256, k.k, NULL::spoor.smtp_event) e
    WHERE p.day BETWEEN (p_lo AT TIME ZONE 'UTC')::date AND (p_hi AT TIME ZONE 'UTC')::date
      AND e.ts BETWEEN p_lo AND p_hi;
END
$$;
CREATE FUNCTION radius_from_packs(p_sort smallint, p_keys text[], p_lo timestamptz, p_hi timestamptz)
RETURNS SETOF radius_event
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, spoor SET plan_cache_mode = force_custom_plan
SET datestyle = 'ISO, YMD' SET timezone = 'UTC' AS $$
BEGIN
    RETURN QUERY
    SELECT e.* FROM (SELECT DISTINCT u.k FROM unnest(p_keys) AS u(k) WHERE u.k IS NOT NULL) k
    JOIN spoor.radius_pack p ON p.sort = p_sort AND p.key_lo <= k.k AND p.key_hi >= k.k
    CROSS JOIN LATERAL spoor.pack_find(p.data, p.sha256, k.k, NULL::spoor.radius_event) e
    WHERE p.day BETWEEN (p_lo AT TIME ZONE 'UTC')::date AND (p_hi AT TIME ZONE 'UTC')::date
      AND e.ts BETWEEN p_lo AND p_hi;
END
$$;

-- The lines naming Message-ID P_ID (Postfix cleanup, Exim arrival) in [P_LO, P_HI].
CREATE FUNCTION smtp_by_msgid(p_id text, p_lo timestamptz, p_hi timestamptz) RETURNS SETOF smtp_event
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, spoor SET plan_cache_mode = force_custom_plan AS $$
BEGIN
    RETURN QUERY
    SELECT e.* FROM spoor.smtp_event e
    WHERE e.message_id = p_id AND e.ts BETWEEN p_lo AND p_hi AND e.kind IN (2, 11);
    RETURN QUERY
    SELECT e.* FROM spoor.smtp_from_packs(2::smallint, ARRAY[p_id], p_lo, p_hi) e WHERE e.kind IN (2, 11);
END
$$;

-- Every event of the queues (P_HOSTS[i], P_QIDS[i]) in [P_LO, P_HI].
CREATE FUNCTION smtp_by_queue(p_hosts text[], p_qids text[], p_lo timestamptz, p_hi timestamptz)
RETURNS SETOF smtp_event
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, spoor SET plan_cache_mode = force_custom_plan AS $$
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
$$;

-- The deliveries that handed a message to a content filter which re-queued
-- it as one of (P_HOSTS[i], P_QIDS[i]) ("queued as"), in [P_LO, P_HI]: a
-- locator, so only the queues and the evidence position.
CREATE FUNCTION smtp_by_next(p_hosts text[], p_qids text[], p_lo timestamptz, p_hi timestamptz)
RETURNS TABLE (ts timestamptz, host text, kind smallint, queue_id text, next_queue_id text,
               block_id bigint, block_idx integer)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, spoor SET plan_cache_mode = force_custom_plan AS $$
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
$$;

-- Every RADIUS event of the sessions P_KEYS in [P_LO, P_HI].
CREATE FUNCTION radius_by_session(p_keys text[], p_lo timestamptz, p_hi timestamptz)
RETURNS SETOF radius_event
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, spoor SET plan_cache_mode = force_custom_plan AS $$
BEGIN
    RETURN QUERY
    SELECT e.* FROM (SELECT DISTINCT u.k FROM unnest(p_keys) AS u(k) WHERE u.k IS NOT NULL) k
    JOIN spoor.radius_event e ON e.session_key = k.k
    WHERE e.ts BETWEEN p_lo AND p_hi;
    RETURN QUERY SELECT * FROM spoor.radius_from_packs(1::smallint, p_keys, p_lo, p_hi);
END
$$;

-- The Accounting-On/Off records of the NASes P_NAS in [P_LO, P_HI].
CREATE FUNCTION radius_reboots(p_nas inet[], p_lo timestamptz, p_hi timestamptz)
RETURNS SETOF radius_event
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, spoor SET plan_cache_mode = force_custom_plan AS $$
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
$$;

-- ---- the lookups, reading both -------------------------------------------------
-- Bodies as in 007 and 008, with every scan of smtp_event and radius_event
-- going through the readers above, and ties between events of the same
-- instant broken by evidence position, so an answer is the same before and
-- after its days are compacted.

-- Every submission with this Message-ID in [V_LO, V_HI] (see 007).
CREATE OR REPLACE FUNCTION submissions_for(v_id text, v_lo timestamptz, v_hi timestamptz, p_tolerance interval)
RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, spoor SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    w_lo timestamptz;
    w_hi timestamptz;
    v_ids spoor.smtp_event[];
    v_hosts text[];
    v_qids text[];
    v_res jsonb;
BEGIN
    -- The lines naming the Message-ID (Postfix cleanup, Exim arrival).  The
    -- lines of a queue lie within two days of them: the bounds of the reads
    -- below.
    SELECT array_agg(e), min(e.ts) - interval '2 days', max(e.ts) + interval '2 days',
           array_agg(e.host), array_agg(e.queue_id)
    INTO v_ids, w_lo, w_hi, v_hosts, v_qids
    FROM spoor.smtp_by_msgid(v_id, v_lo, v_hi) e;
    IF w_lo IS NULL THEN
        RETURN '[]'::jsonb;
    END IF;
    -- A queue a content filter re-queued one of these from ("queued as"):
    -- its lines are read too (its client= is the real client).
    SELECT v_hosts || array_agg(e.host), v_qids || array_agg(e.queue_id) INTO v_hosts, v_qids
    FROM spoor.smtp_by_next(v_hosts, v_qids, w_lo, w_hi) e WHERE e.kind = 4;
    WITH ids AS (SELECT * FROM unnest(v_ids)),
    ev AS MATERIALIZED (SELECT * FROM spoor.smtp_by_queue(v_hosts, v_qids, w_lo, w_hi)),
    q AS (         -- each (host, queue): the queue's own lines within two days
        SELECT i.host, i.queue_id, i.ts AS id_ts, i.kind AS id_kind,
               i.block_id AS id_block, i.block_idx AS id_idx
        FROM ids i
        -- A queue handed to a content filter and re-queued ("queued as B")
        -- is reported once, as B with its predecessor: not twice.
        WHERE NOT EXISTS (
            SELECT 1 FROM ev d JOIN ids i2 ON i2.host = d.host AND i2.queue_id = d.next_queue_id
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
            SELECT to_jsonb(e) AS c FROM ev e
            WHERE e.host = q.host AND e.queue_id = q.queue_id AND e.kind IN (1, 11)
              AND e.ts BETWEEN q.id_ts - interval '2 days' AND q.id_ts + interval '2 days'
              AND (q.id_kind = 11 OR e.kind = 1)
            ORDER BY e.ts, e.block_id, e.block_idx LIMIT 1) c1 ON true
        LEFT JOIN LATERAL (  -- re-queued by a content filter: "queued as <this queue>"
            SELECT e.queue_id FROM ev e
            WHERE e.host = q.host AND e.next_queue_id = q.queue_id AND e.kind = 4
              AND e.ts BETWEEN q.id_ts - interval '2 days' AND q.id_ts + interval '2 days'
            ORDER BY e.ts DESC, e.block_id DESC, e.block_idx DESC LIMIT 1) prev ON true
        LEFT JOIN LATERAL (
            SELECT to_jsonb(e) AS c FROM ev e
            WHERE prev.queue_id IS NOT NULL AND e.host = q.host AND e.queue_id = prev.queue_id
              AND e.kind = 1 AND e.ts BETWEEN q.id_ts - interval '2 days' AND q.id_ts
            ORDER BY e.ts, e.block_id, e.block_idx LIMIT 1) c2 ON true
        LEFT JOIN LATERAL (
            SELECT e.sender, e.size FROM ev e
            WHERE e.host = q.host AND e.queue_id = q.queue_id AND e.kind IN (3, 11)
              AND e.ts BETWEEN q.id_ts - interval '2 days' AND q.id_ts + interval '2 days'
            ORDER BY e.ts, e.block_id, e.block_idx LIMIT 1) f ON true
        LEFT JOIN LATERAL (
            SELECT jsonb_agg(DISTINCT e.recipient) FILTER (WHERE e.recipient IS NOT NULL) AS recipients,
                   (array_agg(e.status ORDER BY e.ts DESC, e.block_id DESC, e.block_idx DESC))[1] AS status,
                   jsonb_agg(spoor.evidence_of(e.block_id, e.block_idx, e.ts)
                             ORDER BY e.ts, e.block_id, e.block_idx) AS evidence
            FROM ev e
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
           ) ORDER BY s.id_ts, s.id_block, s.id_idx), '[]'::jsonb)
    INTO v_res
    FROM sub s;
    RETURN v_res;
END
$$;

-- Who held P_IP at P_AT (see 008).
CREATE OR REPLACE FUNCTION lease_at(p_ip inet, p_at timestamptz, p_tol interval) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, spoor SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    v_sessions jsonb;
    v_exact integer;
    v_near integer;
    v_before jsonb;
    v_after jsonb;
    v_lo date := ((p_at - p_tol) AT TIME ZONE 'UTC')::date;
    v_hi date := ((p_at + p_tol) AT TIME ZONE 'UTC')::date;
    v_elo timestamptz;  -- every event of the candidate sessions lies in [v_elo, v_ehi]
    v_ehi timestamptz;
    v_keys text[];      -- the candidate sessions
    v_nas inet[];       -- and their NASes
BEGIN
    -- The candidates' whole extent (all their addresses), so that every scan
    -- of a partitioned table below is bounded by values the planner knows.
    -- The evidence scans reach at most a minute past a session's bounds.
    SELECT min(least(o.first_ts, o.start_ts, o.est_start)) - interval '2 minutes',
           max(greatest(o.span_hi, o.stop_ts, o.last_ts)) + interval '2 minutes',
           array_agg(DISTINCT o.session_key), array_agg(DISTINCT o.nas_ip)
    INTO v_elo, v_ehi, v_keys, v_nas
    FROM spoor.lease o
    WHERE o.session_key IN (SELECT s.session_key FROM spoor.lease_seg s
                            WHERE s.day BETWEEN v_lo AND v_hi AND s.addr >>= p_ip
                              AND tstzrange(s.seg_lo, s.seg_hi, '[]') && tstzrange(p_at - p_tol, p_at + p_tol, '[]'));
    v_elo := coalesce(v_elo, p_at); v_ehi := coalesce(v_ehi, p_at);
    WITH rev AS MATERIALIZED (  -- the candidates' events
        SELECT * FROM spoor.radius_by_session(v_keys, v_elo, v_ehi)
    ), rbt AS MATERIALIZED (    -- their NASes' Accounting-On/Off
        SELECT * FROM spoor.radius_reboots(v_nas, v_elo, v_ehi)
    ), cand AS (
        SELECT DISTINCT l.*
        FROM spoor.lease_seg s JOIN spoor.lease l USING (session_key, addr)
        WHERE s.day BETWEEN v_lo AND v_hi AND s.addr >>= p_ip
          AND tstzrange(s.seg_lo, s.seg_hi, '[]') && tstzrange(p_at - p_tol, p_at + p_tol, '[]')
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
        LEFT JOIN LATERAL (SELECT min(e.ts) AS ts FROM rbt e
                           WHERE c.stop_ts IS NULL AND e.status IN (7, 8) AND e.nas_ip = c.nas_ip
                             AND e.ts > c.last_ts AND e.ts <= c.span_hi
                             AND e.ts BETWEEN v_elo AND v_ehi) rb ON true
        -- A session without Stop ends when another session takes its address.
        LEFT JOIN LATERAL (SELECT min(coalesce(o.start_ts, o.est_start, o.first_ts)) AS start
                           FROM spoor.lease_seg s2 JOIN spoor.lease o USING (session_key, addr)
                           WHERE c.stop_ts IS NULL AND s2.addr = c.addr AND s2.session_key <> c.session_key
                             AND s2.day BETWEEN (c.last_ts AT TIME ZONE 'UTC')::date AND v_hi
                             AND s2.day >= (v_elo AT TIME ZONE 'UTC')::date
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
               'evidence', (SELECT coalesce(jsonb_agg(spoor.evidence_of(ev.block_id, ev.block_idx, ev.ts) ORDER BY ev.ts, ev.block_id, ev.block_idx), '[]')
                            FROM (
                              (SELECT e.block_id, e.block_idx, e.ts FROM rev e
                               WHERE e.session_key = h.session_key AND e.ts BETWEEN v_elo AND v_ehi AND e.status = 1
                                 AND e.ts BETWEEN h.eff_start - interval '1 minute' AND h.eff_start + interval '1 minute'
                               ORDER BY e.ts, e.block_id, e.block_idx LIMIT 1)
                              UNION
                              (SELECT e.block_id, e.block_idx, e.ts FROM rev e
                               WHERE e.session_key = h.session_key AND e.ts BETWEEN v_elo AND v_ehi AND e.ts <= p_at
                                 AND e.ts >= h.eff_start - interval '1 minute'
                               ORDER BY e.ts DESC, e.block_id DESC, e.block_idx DESC LIMIT 1)
                              UNION
                              (SELECT e.block_id, e.block_idx, e.ts FROM rev e
                               WHERE e.session_key = h.session_key AND e.ts BETWEEN v_elo AND v_ehi AND e.ts > p_at
                                 AND e.ts <= h.eff_end + interval '1 minute'
                               ORDER BY e.ts, e.block_id, e.block_idx LIMIT 1)
                              UNION
                              (SELECT e.block_id, e.block_idx, e.ts FROM rev e
                               WHERE e.session_key = h.session_key AND e.ts BETWEEN v_elo AND v_ehi AND e.status = 2 AND h.stop_ts IS NOT NULL
                                 AND e.ts BETWEEN h.stop_ts - interval '1 minute' AND h.stop_ts + interval '1 minute'
                               ORDER BY e.ts, e.block_id, e.block_idx LIMIT 1)
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
        WHERE s.day BETWEEN v_lo - 2 AND v_hi AND s.addr >>= p_ip AND least(s.seg_hi, l.span_hi) < p_at - p_tol
        ORDER BY least(s.seg_hi, l.span_hi) DESC LIMIT 1;
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
-- A subscriber's sessions in the order's window (see 007).
CREATE OR REPLACE FUNCTION trace_user_core(p_request bigint, p_user text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    v_params jsonb := jsonb_build_object('user_name', p_user);
    v_why text;
    v_lo timestamptz;
    v_hi timestamptz;
    v_sessions jsonb;
    v_elo timestamptz;
    v_ehi timestamptz;
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
    -- The sessions' extent bounds the evidence scans (see lease_at).
    SELECT min(least(l.first_ts, l.start_ts, l.est_start)) - interval '1 minute',
           max(greatest(l.stop_ts, l.span_hi)) + interval '1 minute'
    INTO v_elo, v_ehi
    FROM spoor.lease l WHERE l.user_name = p_user AND l.first_ts <= v_hi AND l.span_hi >= v_lo;
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
            'evidence', (SELECT coalesce(jsonb_agg(spoor.evidence_of(e.block_id, e.block_idx, e.ts) ORDER BY e.ts, e.block_id, e.block_idx), '[]')
                         FROM (SELECT e.block_id, e.block_idx, e.ts
                               FROM spoor.radius_by_session(ARRAY[l.session_key],
                                        greatest(v_elo, coalesce(l.start_ts, l.est_start, l.first_ts) - interval '1 minute'),
                                        least(v_ehi, coalesce(l.stop_ts, l.span_hi) + interval '1 minute')) e
                               WHERE e.status IN (1, 2)
                               ORDER BY e.ts, e.block_id, e.block_idx LIMIT 4) e)) AS s
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

-- Did a message whose headers name our MTAs really pass through them? (see 003)
CREATE OR REPLACE FUNCTION trace_headers_core(p_request bigint, p_message_id text, p_hops jsonb,
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
               jsonb_agg(spoor.evidence_of(e.block_id, e.block_idx, e.ts) ORDER BY e.ts, e.block_id, e.block_idx)
                   FILTER (WHERE e.kind IN (1, 2, 11)) AS evidence
        FROM spoor.smtp_by_queue(
                 ARRAY(SELECT x FROM jsonb_array_elements_text(h.hop->'hosts') x),
                 ARRAY(SELECT h.hop->>'queue_id' FROM jsonb_array_elements_text(h.hop->'hosts') x),
                 (h.hop->>'time')::timestamptz - interval '1 day',
                 (h.hop->>'time')::timestamptz + interval '1 day') e
        WHERE e.ts BETWEEN v_lo - interval '1 day' AND v_hi + interval '1 day') m;
    v_res := jsonb_build_object('status', 'ok', 'request_id', p_request, 'query', v_params,
                                'hops', v_hops,
                                'submissions', spoor.submissions_for(v_id, v_lo, v_hi, p_tolerance));
    PERFORM spoor.audit_append('trace.headers', p_request, v_params, 'ok',
                               encode(sha256(convert_to(v_res::text, 'UTF8')), 'hex'));
    RETURN v_res;
END
$$;

-- Drops one expired partition with its proof of deletion (see 006).  A pack
-- partition's digest is over the events it holds (sort 1), so it is the
-- digest the day's row partition would have had.
CREATE OR REPLACE FUNCTION retention_drop(p_tbl text, p_day date, p_now timestamptz) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
DECLARE
    v_class text;
    v_keep interval;
    v_part text := p_tbl || '_' || to_char(p_day, 'YYYYMMDD');
    v_rows bigint;
    v_digest text;
    v_held bigint[];
BEGIN
    p_now := spoor.retention_now(p_now);
    -- A hold being created or renewed right now must be seen: wait for it.
    LOCK TABLE spoor.hold IN SHARE MODE;
    SELECT p.class, r.keep INTO v_class, v_keep
    FROM spoor.partitioned p JOIN spoor.retention_policy r ON r.class = p.class WHERE p.name = p_tbl;
    IF NOT FOUND OR to_regclass('spoor.' || v_part) IS NULL THEN
        RETURN jsonb_build_object('status', 'denied', 'reason', 'no partition ' || v_part);
    END IF;
    IF p_day >= spoor.retention_horizon(v_class, p_now) THEN
        RETURN jsonb_build_object('status', 'denied', 'reason', v_part || ' is not past retention');
    END IF;
    SELECT array_agg(DISTINCT h.hold_id) INTO v_held FROM spoor.held_days() h WHERE h.day = p_day;
    IF v_held IS NOT NULL THEN
        RETURN jsonb_build_object('status', 'denied', 'reason', v_part || ' is under legal hold',
                                  'holds', to_jsonb(v_held));
    END IF;
    -- The digest commits to what is deleted, cheaply enough to run on every
    -- partition: for events and quarantine, SHA-256 over the sorted (block id,
    -- line index) pairs of the evidence lines the rows were made from; for
    -- evidence blocks, over their ids and content SHA-256s (which commit to
    -- every byte of those lines); for the derived lease segments, over their
    -- session keys and addresses.  Reproducible from a backup.
    EXECUTE format('SELECT count(*), encode(sha256(coalesce(string_agg(h, ''''::bytea ORDER BY h), ''''::bytea)), ''hex'')
                    FROM (SELECT %s AS h FROM %s) x',
                   CASE p_tbl
                       WHEN 'evidence_block' THEN 'int8send(t.block_id) || t.sha256'
                       WHEN 'lease_seg' THEN 'convert_to(t.session_key || '' '' || t.addr::text, ''UTF8'')'
                       ELSE 'int8send(coalesce(t.block_id, 0)) || int4send(coalesce(t.block_idx, 0))' END,
                   CASE WHEN p_tbl IN ('smtp_pack', 'radius_pack')
                       THEN format('spoor.%I p CROSS JOIN LATERAL spoor.pack_find(p.data, p.sha256, NULL, NULL::spoor.%I) t
                                    WHERE p.sort = 1', v_part, CASE p_tbl WHEN 'smtp_pack' THEN 'smtp_event' ELSE 'radius_event' END)
                       ELSE format('spoor.%I t', v_part) END) INTO v_rows, v_digest;
    EXECUTE format('DROP TABLE spoor.%I', v_part);
    INSERT INTO spoor.retention_dropped (tbl, day, class, rows, digest, run_now)
    VALUES (p_tbl, p_day, v_class, v_rows, v_digest, p_now)
    ON CONFLICT (tbl, day) DO UPDATE SET rows = spoor.retention_dropped.rows + EXCLUDED.rows,
        digest = EXCLUDED.digest, dropped_at = now(), run_now = EXCLUDED.run_now;
    PERFORM spoor.audit_append('retention.drop', NULL,
        jsonb_build_object('table', p_tbl, 'partition', v_part, 'day', p_day, 'class', v_class,
                           'keep', v_keep::text, 'rows', v_rows, 'now', p_now),
        'ok', v_digest);
    RETURN jsonb_build_object('status', 'ok', 'partition', v_part, 'rows', v_rows, 'digest', v_digest);
END
$$;

-- ---- rights ---------------------------------------------------------------------
DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['spoor.partition_create(text, text, date)',
                             'spoor.compact_evidence_day(date, integer, timestamptz)', 'spoor.compact_cutoff(timestamptz, integer)',
                             'spoor.compact_plan(timestamptz, integer)',
                             'spoor.compact_day(text, date, timestamptz, integer, integer)',
                             'spoor.smtp_from_packs(smallint, text[], timestamptz, timestamptz)',
                             'spoor.radius_from_packs(smallint, text[], timestamptz, timestamptz)',
                             'spoor.smtp_by_msgid(text, timestamptz, timestamptz)',
                             'spoor.smtp_by_queue(text[], text[], timestamptz, timestamptz)',
                             'spoor.smtp_by_next(text[], text[], timestamptz, timestamptz)',
                             'spoor.radius_by_session(text[], timestamptz, timestamptz)',
                             'spoor.radius_reboots(inet[], timestamptz, timestamptz)'] LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
    END LOOP;
END
$$;
-- spoor-retention packs closed days (and, as before, drops expired ones);
-- nobody else may, and nobody reads the packs but the lookups.
GRANT EXECUTE ON FUNCTION compact_plan(timestamptz, integer) TO spoor_retention;
GRANT EXECUTE ON FUNCTION compact_day(text, date, timestamptz, integer, integer) TO spoor_retention;
GRANT SELECT ON compacted TO spoor_retention, spoor_admin, spoor_auditor;

RESET ROLE;
