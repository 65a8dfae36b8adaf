-- 017: the peer every syslog line arrived from, kept beside its evidence.
--
-- spoor-collect accepts syslog only from the peers collect.syslog_sources
-- names, and marks a line naming a host its peer may not speak for (ingest
-- quarantines it as host_not_allowed).  The peer's address travels with each
-- line in a Kafka header; spoor-ingest keeps it here as runs — from line
-- BLOCK_IDX of a block on, until the block's next run — since the lines of
-- one MTA arrive together, and evidence_of shows it with the line, so a
-- disclosure says which machine handed us each line.  Lines that reached
-- Kafka another way (rsyslog's omkafka, an imported file) have none.
SET LOCAL search_path = spoor, pg_catalog;
SET LOCAL ROLE spoor_owner;

CREATE TABLE evidence_peer (
    day       date    NOT NULL,   -- the block's day
    block_id  bigint  NOT NULL,
    block_idx integer NOT NULL,   -- the first line of the run
    peer      inet                -- NULL: lines that came with none
) PARTITION BY RANGE (day);
CREATE INDEX evidence_peer_block ON evidence_peer (block_id, block_idx);
-- Kept and dropped with the evidence blocks (retention class evidence).
INSERT INTO partitioned (name, key_type, class, on_demand) VALUES ('evidence_peer', 'date', 'evidence', false);
DO $$
DECLARE d date;
BEGIN
    -- The days that have evidence partitions get theirs now; later ones come
    -- with ensure_partitions.
    FOR d IN SELECT to_date(substring(c.relname FROM '[0-9]{8}$'), 'YYYYMMDD')
             FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'spoor.evidence_block'::regclass AND c.relname ~ '^evidence_block_[0-9]{8}$' LOOP
        PERFORM spoor.partition_create('evidence_peer', 'date', d);
    END LOOP;
END
$$;

RESET ROLE;
GRANT INSERT ON spoor.evidence_peer TO spoor_ingest;
