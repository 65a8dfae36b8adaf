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

-- Rights: spoor-ingest writes and never reads back what it wrote (apart
-- from its own positions); no DDL but ensure_partitions.
GRANT USAGE ON SCHEMA spoor TO spoor_ingest;
GRANT SELECT, INSERT, UPDATE ON source_position TO spoor_ingest;
GRANT INSERT ON evidence_block, quarantine, smtp_event, radius_event TO spoor_ingest;
GRANT SELECT ON evidence_dict TO spoor_ingest;
GRANT USAGE ON SEQUENCE evidence_block_id_seq TO spoor_ingest;
GRANT USAGE ON SCHEMA spoor TO spoor_admin, spoor_auditor;
GRANT SELECT ON source_position TO spoor_admin, spoor_auditor;
GRANT SELECT, INSERT ON evidence_dict TO spoor_admin;
RESET ROLE;
DO $$ BEGIN EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO spoor_owner, spoor_ingest', current_database()); END $$;
