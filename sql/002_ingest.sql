-- 002: storage of what spoor-ingest and spoor import receive.
--
-- Design (see sql/README.md): append-only events, range-partitioned by UTC
-- day; every raw line byte for byte in zstd evidence blocks; a derived lease
-- index (spoor.lease + daily spoor.lease_seg) so "who held this address at
-- that instant" touches one or two daily partitions however long the history;
-- per-source positions stored in the same transaction as the rows they
-- produced (exactly once).
SET LOCAL search_path = spoor, pg_catalog;
SET LOCAL ROLE spoor_owner;

-- Where each source stands.  source = Kafka topic, or 'file:<sha256>' for an
-- imported file; part = Kafka partition (0 for files); next_pos = the next
-- offset (or line) to consume.  consumed = stored + quarantined, always.
CREATE TABLE source_position (
    source      text    NOT NULL,
    part        integer NOT NULL,
    next_pos    bigint  NOT NULL DEFAULT 0,
    consumed    bigint  NOT NULL DEFAULT 0,
    stored      bigint  NOT NULL DEFAULT 0,
    quarantined bigint  NOT NULL DEFAULT 0,
    label       text,               -- file name and host for imports
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, part),
    CHECK (consumed = stored + quarantined)
);

-- Zstd dictionaries, one line per (kind, version); blocks name the one they used.
CREATE TABLE evidence_dict (
    dict_id    integer PRIMARY KEY,
    kind       text    NOT NULL,    -- 'smtp' or 'radius'
    created_at timestamptz NOT NULL DEFAULT now(),
    sha256     bytea   NOT NULL,
    dict       bytea   NOT NULL
);

-- Raw lines, byte for byte.  data = zstd(frame of: for each line, a 4-byte
-- little-endian length then the bytes); sha256 is over the uncompressed frame.
CREATE TABLE evidence_block (
    day        date    NOT NULL,
    block_id   bigint  NOT NULL,
    kind       text    NOT NULL,
    source     text    NOT NULL,
    part       integer NOT NULL,
    first_pos  bigint  NOT NULL,
    last_pos   bigint  NOT NULL,
    n_lines    integer NOT NULL,
    raw_bytes  integer NOT NULL,
    dict_id    integer,
    sha256     bytea   NOT NULL,
    data       bytea   NOT NULL
) PARTITION BY RANGE (day);
CREATE SEQUENCE evidence_block_id_seq;

-- Lines that could not be stored as records, with why and from where.
CREATE TABLE quarantine (
    day        date    NOT NULL,    -- the day the line was received
    received   timestamptz NOT NULL,
    source     text    NOT NULL,
    part       integer NOT NULL,
    pos        bigint  NOT NULL,
    reason     text    NOT NULL,
    detail     text,
    block_id   bigint  NOT NULL,
    block_idx  integer NOT NULL
) PARTITION BY RANGE (day);

-- SMTP log events: one row per Postfix or Exim line that says something
-- about a message (others are kept as evidence only).
-- kind: 1 client (smtpd client=), 2 message-id (cleanup), 3 from (qmgr),
-- 4 delivery (to=, status=), 5 removed, 6 reject (NOQUEUE), 7 bounce notice,
-- 11 exim arrival (<=), 12 exim delivery (=> -> ** ==), 13 exim completed.
CREATE TABLE smtp_event (
    ts            timestamptz NOT NULL,
    host          text     NOT NULL,
    kind          smallint NOT NULL,
    queue_id      text,
    message_id    text,             -- canonical form (lib/msgid.c)
    client_name   text,
    client_ip     inet,
    client_port   integer,
    sasl_username text,
    sender        text,
    recipient     text,
    status        text,
    relay         text,
    next_queue_id text,             -- "queued as X": a content filter's re-queue
    orig_queue_id text,             -- XFORWARD orig_queue_id= on the re-queued message
    size          bigint,
    pos           bigint   NOT NULL,  -- source position; the source is the block's
    block_id      bigint   NOT NULL,
    block_idx     integer  NOT NULL
) PARTITION BY RANGE (ts);
CREATE INDEX smtp_event_message_id ON smtp_event (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX smtp_event_queue ON smtp_event (host, queue_id) WHERE queue_id IS NOT NULL;
CREATE INDEX smtp_event_next_queue ON smtp_event (host, next_queue_id) WHERE next_queue_id IS NOT NULL;

-- RADIUS accounting events (RFC 2866/2869, RFC 3162, RFC 4818), as received.
-- status: Acct-Status-Type 1 Start, 2 Stop, 3 Interim-Update, 7 Accounting-On, 8 Accounting-Off.
-- ts is when the event happened: Event-Timestamp, else received - Acct-Delay-Time.
CREATE TABLE radius_event (
    ts                    timestamptz NOT NULL,
    received              timestamptz NOT NULL,
    status                smallint NOT NULL,
    session_key           text,     -- NAS || Acct-Session-Id: the lease index's key
    acct_session_id       text,
    user_name             text,
    calling_station_id    text,
    called_station_id     text,
    nas_ip                inet,
    nas_identifier        text,
    nas_port              bigint,
    nas_port_id           text,
    framed_ip             inet,
    framed_ipv6_prefix    inet,     -- inet, not cidr: kept as sent, host bits and all
    delegated_ipv6_prefix inet,
    session_time          bigint,
    terminate_cause       text,
    pos                   bigint   NOT NULL,
    block_id              bigint   NOT NULL,
    block_idx             integer  NOT NULL
) PARTITION BY RANGE (ts);
CREATE INDEX radius_event_session ON radius_event (session_key, ts);
-- lease_merge reads back the batch it extends by block id; ids only grow, so
-- this index is appended to at its right edge, cheaply.
CREATE INDEX radius_event_block ON radius_event (block_id);
CREATE INDEX radius_event_nas_reboot ON radius_event (nas_ip, ts) WHERE status IN (7, 8);

-- Derived (rebuilt or extended from radius_event, never the evidence):
-- one row per session and address it held, with the span seen so far.
CREATE TABLE lease (
    session_key        text        NOT NULL,
    addr               inet        NOT NULL,  -- IPv4 host, or IPv6 prefix
    addr_kind          smallint    NOT NULL,  -- 1 Framed-IP-Address, 2 Framed-IPv6-Prefix, 3 Delegated-IPv6-Prefix
    first_ts           timestamptz NOT NULL,
    last_ts            timestamptz NOT NULL,
    start_ts           timestamptz,              -- from a Start record
    est_start          timestamptz,              -- event time - Acct-Session-Time (RFC 2866)
    has_interim        boolean     NOT NULL DEFAULT false, -- the NAS sends Interim-Updates
    stop_ts            timestamptz,
    terminate_cause    text,
    span_lo            timestamptz NOT NULL,  -- what lease_seg covers
    span_hi            timestamptz NOT NULL,
    user_name          text,
    calling_station_id text,
    called_station_id  text,
    nas_ip             inet,
    nas_identifier     text,
    nas_port           bigint,
    nas_port_id        text,
    acct_session_id    text,
    PRIMARY KEY (session_key, addr)
) WITH (fillfactor = 70);  -- room for HOT updates: every interim touches its row

-- Derived: the lease spans cut at UTC midnight, one row per day a lease
-- covers, so a lookup at an instant reads the partition of that day only.
CREATE TABLE lease_seg (
    day         date        NOT NULL,
    addr        inet        NOT NULL,
    session_key text        NOT NULL,
    seg_lo      timestamptz NOT NULL,
    seg_hi      timestamptz NOT NULL,
    PRIMARY KEY (day, session_key, addr)
) PARTITION BY RANGE (day);
-- Partitions inherit no storage parameters: ensure_partitions sets fillfactor.
CREATE INDEX lease_seg_addr ON lease_seg USING gist (addr inet_ops);

-- The tables partitioned by day, and how their bounds are written.
CREATE TABLE partitioned (
    name     text PRIMARY KEY,
    key_type text NOT NULL CHECK (key_type IN ('date', 'timestamptz')),
    class    text NOT NULL          -- retention data class
);
INSERT INTO partitioned VALUES
    ('evidence_block', 'date', 'evidence'),
    ('quarantine', 'date', 'quarantine'),
    ('smtp_event', 'timestamptz', 'smtp'),
    ('radius_event', 'timestamptz', 'radius'),
    ('lease_seg', 'date', 'radius');

-- Creates the daily partitions of every table in [p_from, p_to].  The one
-- narrow way ingest gets DDL: no arguments but dates, bounded span, fixed
-- names.  Returns the number of partitions created.
CREATE FUNCTION ensure_partitions(p_from date, p_to date) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
DECLARE
    t record;
    d date;
    part text;
    n integer := 0;
BEGIN
    IF p_from IS NULL OR p_to IS NULL OR p_to < p_from THEN
        RAISE EXCEPTION 'ensure_partitions: bad range % .. %', p_from, p_to;
    END IF;
    IF p_to - p_from > 400 THEN
        RAISE EXCEPTION 'ensure_partitions: range % .. % is longer than 400 days', p_from, p_to
            USING ERRCODE = '22023';
    END IF;
    -- Two ingesters creating the same partition would collide: serialise.
    PERFORM pg_advisory_xact_lock(7340202);
    FOR t IN SELECT name, key_type FROM spoor.partitioned ORDER BY name LOOP
        d := p_from;
        WHILE d <= p_to LOOP
            part := t.name || '_' || to_char(d, 'YYYYMMDD');
            IF to_regclass('spoor.' || part) IS NULL THEN
                IF t.key_type = 'date' THEN
                    EXECUTE format('CREATE TABLE spoor.%I PARTITION OF spoor.%I FOR VALUES FROM (%L) TO (%L)%s',
                                   part, t.name, d, d + 1,
                                   CASE WHEN t.name = 'lease_seg' THEN ' WITH (fillfactor = 70)' ELSE '' END);
                ELSE
                    EXECUTE format('CREATE TABLE spoor.%I PARTITION OF spoor.%I FOR VALUES FROM (%L) TO (%L)',
                                   part, t.name, d::text || ' 00:00:00+00', (d + 1)::text || ' 00:00:00+00');
                END IF;
                n := n + 1;
            END IF;
            d := d + 1;
        END LOOP;
    END LOOP;
    RETURN n;
END
$$;

-- Extends the lease index from the radius_event rows of the given evidence
-- blocks (the batch just inserted, in the same transaction).  Order-free:
-- spans only take LEAST/GREATEST, details COALESCE, so events arriving late,
-- twice or out of order give the same result.  A session with no Stop is
-- taken to last until its last event plus p_timeout if its NAS sends
-- Interim-Updates, else (a NAS that only sends Start and Stop) for up to
-- p_open_max, cut at lookup time by a NAS reboot or the next holder of the
-- address; a Stop seen later shortens it to the Stop.
CREATE FUNCTION lease_merge(p_blocks bigint[], p_lo timestamptz, p_hi timestamptz, p_timeout interval,
                            p_open_max interval)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
DECLARE
    n integer;
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS lease_in (
        session_key text, addr inet, kind smallint, first_ts timestamptz, last_ts timestamptz,
        start_ts timestamptz, est_start timestamptz, has_interim boolean, stop_ts timestamptz, cause text, user_name text, calling text,
        called text, nas_ip inet, nas_id text, nas_port bigint, nas_port_id text,
        sid text) ON COMMIT DROP;
    CREATE TEMP TABLE IF NOT EXISTS lease_batch (
        session_key text, addr inet, old_lo timestamptz, old_hi timestamptz,
        new_lo timestamptz, new_hi timestamptz) ON COMMIT DROP;
    TRUNCATE lease_in, lease_batch;

    -- 1. The batch's events, one row per session and address.
    INSERT INTO lease_in
    SELECT session_key, addr, min(kind),
           min(ts), max(ts),
           min(ts) FILTER (WHERE status = 1),
           -- An Interim-Update or Stop says how long the session has run: its
           -- start is known even when the Start record was lost.
           min(ts - make_interval(secs => session_time)) FILTER (WHERE status IN (2, 3) AND session_time IS NOT NULL),
           bool_or(status = 3),
           max(ts) FILTER (WHERE status = 2),
           -- Identity attributes are constant over a session: any non-null
           -- value will do, and max() needs no sort (array_agg ORDER BY did,
           -- ten times per batch).
           max(terminate_cause) FILTER (WHERE status = 2),
           max(user_name), max(calling_station_id), max(called_station_id),
           max(nas_ip), max(nas_identifier), max(nas_port), max(nas_port_id),
           max(acct_session_id)
    FROM (SELECT e.*, a.addr, a.kind
          FROM spoor.radius_event e
          CROSS JOIN LATERAL (VALUES (e.framed_ip, 1::smallint),
                                     (e.framed_ipv6_prefix, 2::smallint),
                                     (e.delegated_ipv6_prefix, 3::smallint)) AS a(addr, kind)
          WHERE e.ts >= p_lo AND e.ts <= p_hi AND e.block_id = ANY (p_blocks)
            AND e.status IN (1, 2, 3) AND e.session_key IS NOT NULL AND a.addr IS NOT NULL) ev
    GROUP BY session_key, addr;
    ANALYZE lease_in;

    -- 2. The spans before this batch.
    INSERT INTO lease_batch (session_key, addr, old_lo, old_hi)
    SELECT i.session_key, i.addr, l.span_lo, l.span_hi
    FROM lease_in i LEFT JOIN spoor.lease l USING (session_key, addr);

    -- 3. Merge, and note the spans after it.
    WITH up AS (
        INSERT INTO spoor.lease AS l (session_key, addr, addr_kind, first_ts, last_ts, start_ts, est_start, has_interim, stop_ts,
                    terminate_cause, span_lo, span_hi, user_name, calling_station_id, called_station_id,
                    nas_ip, nas_identifier, nas_port, nas_port_id, acct_session_id)
        SELECT session_key, addr, kind, first_ts, last_ts, start_ts, est_start, has_interim, stop_ts, cause,
               least(first_ts, start_ts, est_start),
               CASE WHEN stop_ts IS NOT NULL THEN greatest(stop_ts, last_ts)
                    WHEN has_interim THEN last_ts + p_timeout
                    ELSE last_ts + p_open_max END,
               user_name, calling, called, nas_ip, nas_id, nas_port, nas_port_id, sid
        FROM lease_in
        ON CONFLICT (session_key, addr) DO UPDATE SET
            first_ts = least(l.first_ts, excluded.first_ts),
            last_ts = greatest(l.last_ts, excluded.last_ts),
            start_ts = least(l.start_ts, excluded.start_ts),
            est_start = least(l.est_start, excluded.est_start),
            has_interim = l.has_interim OR excluded.has_interim,
            stop_ts = greatest(l.stop_ts, excluded.stop_ts),
            terminate_cause = CASE WHEN excluded.stop_ts IS NOT NULL AND (l.stop_ts IS NULL OR excluded.stop_ts >= l.stop_ts)
                                   THEN excluded.terminate_cause ELSE l.terminate_cause END,
            span_lo = least(l.first_ts, excluded.first_ts, l.start_ts, excluded.start_ts,
                            l.est_start, excluded.est_start),
            span_hi = CASE WHEN coalesce(l.stop_ts, excluded.stop_ts) IS NOT NULL
                           THEN greatest(l.stop_ts, excluded.stop_ts, l.last_ts, excluded.last_ts)
                           WHEN l.has_interim OR excluded.has_interim
                           THEN greatest(l.last_ts, excluded.last_ts) + p_timeout
                           ELSE greatest(l.last_ts, excluded.last_ts) + p_open_max END,
            user_name = coalesce(excluded.user_name, l.user_name),
            calling_station_id = coalesce(excluded.calling_station_id, l.calling_station_id),
            called_station_id = coalesce(excluded.called_station_id, l.called_station_id),
            nas_ip = coalesce(excluded.nas_ip, l.nas_ip),
            nas_identifier = coalesce(excluded.nas_identifier, l.nas_identifier),
            nas_port = coalesce(excluded.nas_port, l.nas_port),
            nas_port_id = coalesce(excluded.nas_port_id, l.nas_port_id),
            acct_session_id = coalesce(excluded.acct_session_id, l.acct_session_id)
        RETURNING l.session_key, l.addr, l.span_lo, l.span_hi
    )
    UPDATE lease_batch b SET new_lo = up.span_lo, new_hi = up.span_hi
    FROM up WHERE b.session_key = up.session_key AND b.addr = up.addr;

    DELETE FROM lease_batch
    WHERE old_lo IS NOT DISTINCT FROM new_lo AND old_hi IS NOT DISTINCT FROM new_hi;
    SELECT count(*) INTO n FROM lease_batch;
    IF n = 0 THEN
        RETURN 0;
    END IF;

    PERFORM spoor.ensure_partitions((SELECT min(new_lo AT TIME ZONE 'UTC')::date FROM lease_batch),
                                    (SELECT max(new_hi AT TIME ZONE 'UTC')::date FROM lease_batch));
    -- Days the span no longer reaches (a Stop arrived before last + timeout).
    DELETE FROM spoor.lease_seg s USING lease_batch b
    WHERE s.session_key = b.session_key AND s.addr = b.addr
      AND s.day > (b.new_hi AT TIME ZONE 'UTC')::date
      AND s.day <= (b.old_hi AT TIME ZONE 'UTC')::date;
    -- Write only the days whose segment changed: the first and last day of
    -- the old and new spans, and days the span newly reaches.
    INSERT INTO spoor.lease_seg AS s (day, addr, session_key, seg_lo, seg_hi)
    SELECT d::date, b.addr, b.session_key,
           greatest(b.new_lo, (d::date)::timestamp AT TIME ZONE 'UTC'),
           least(b.new_hi, (d::date + 1)::timestamp AT TIME ZONE 'UTC')
    FROM lease_batch b
    CROSS JOIN LATERAL generate_series((b.new_lo AT TIME ZONE 'UTC')::date,
                                       (b.new_hi AT TIME ZONE 'UTC')::date, interval '1 day') AS d
    WHERE b.old_lo IS NULL
       OR d::date <= (b.old_lo AT TIME ZONE 'UTC')::date
       OR d::date >= (b.old_hi AT TIME ZONE 'UTC')::date
    ON CONFLICT (day, session_key, addr) DO UPDATE SET seg_lo = excluded.seg_lo, seg_hi = excluded.seg_hi;
    RETURN n;
END
$$;

-- Quarantine counts by source and reason, without the lines themselves.
CREATE FUNCTION quarantine_summary()
RETURNS TABLE (source text, part integer, reason text, n bigint, first_received timestamptz,
               last_received timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, spoor AS $$
    SELECT source, part, reason, count(*), min(received), max(received)
    FROM spoor.quarantine GROUP BY source, part, reason ORDER BY source, part, reason
$$;

-- Rights: spoor-ingest writes and never reads back what it wrote (apart
-- from its own positions); no DDL but ensure_partitions.
GRANT USAGE ON SCHEMA spoor TO spoor_ingest;
GRANT SELECT, INSERT, UPDATE ON source_position TO spoor_ingest;
GRANT INSERT ON evidence_block, quarantine, smtp_event, radius_event TO spoor_ingest;
GRANT SELECT ON evidence_dict TO spoor_ingest;
GRANT USAGE ON SEQUENCE evidence_block_id_seq TO spoor_ingest;
REVOKE ALL ON FUNCTION ensure_partitions(date, date) FROM PUBLIC;
REVOKE ALL ON FUNCTION lease_merge(bigint[], timestamptz, timestamptz, interval, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ensure_partitions(date, date) TO spoor_ingest, spoor_retention;
GRANT EXECUTE ON FUNCTION lease_merge(bigint[], timestamptz, timestamptz, interval, interval) TO spoor_ingest;
REVOKE ALL ON FUNCTION quarantine_summary() FROM PUBLIC;
GRANT USAGE ON SCHEMA spoor TO spoor_admin, spoor_auditor;
GRANT SELECT ON source_position TO spoor_admin, spoor_auditor;
GRANT SELECT, INSERT ON evidence_dict TO spoor_admin;
GRANT EXECUTE ON FUNCTION quarantine_summary() TO spoor_admin, spoor_auditor;
RESET ROLE;
DO $$ BEGIN EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO spoor_owner, spoor_ingest', current_database()); END $$;
