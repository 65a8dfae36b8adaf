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
GRANT SELECT ON compacted TO spoor_retention, spoor_admin, spoor_auditor;

RESET ROLE;
