-- 022: carrier-grade NAT events compacted like the rest (011).
--
-- A closed day's nat_event rows move into zstd packs sorted by the public
-- address, the key every CGN lookup starts from (nat_by_outside reads rows
-- and packs alike), each pack's SHA-256 over its uncompressed payload;
-- retention drops the packs of the class nat with the same proof of
-- deletion as the rows.
SET LOCAL search_path = spoor, pg_catalog;
SET LOCAL ROLE spoor_owner;

-- sort 1 = by host(outside) (every event).
CREATE TABLE nat_pack (
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
ALTER TABLE nat_pack ALTER COLUMN data SET STORAGE EXTERNAL;   -- zstd output: no pglz on top
CREATE INDEX nat_pack_key ON nat_pack (sort, key_lo);
INSERT INTO partitioned (name, key_type, class, on_demand) VALUES ('nat_pack', 'date', 'nat', true);

RESET ROLE;
