-- 023: closed days on an archive PostgreSQL (issue 23, point 6).
--
-- A national ISP keeps a year: the days nobody has asked about for months
-- need not sit on the machine that ingests today.  spoor-retention archive
-- moves a closed (compacted) day's partitions to a second PostgreSQL, and
-- puts in each one's place a postgres_fdw foreign table attached as the
-- same partition: every lookup, gate and audit entry stays here, in the
-- same functions, and reads the archived day through the partition tree as
-- it read the local one.  The archive is a PostgreSQL with Spoor's schema
-- (`spoor db migrate` there); the DBA names it once, as the foreign server
-- spoor_archive with a user mapping for spoor_owner (README: "Archive").
-- The archive makes and drops a day's partitions itself when asked through
-- a row in its archive_request (a trigger there, archive.sql): postgres_fdw
-- runs no remote functions, and no second extension is needed.
CREATE EXTENSION IF NOT EXISTS postgres_fdw;
CREATE SCHEMA spoor_archive_stage AUTHORIZATION spoor_owner;  -- foreign tables on their way in
SET LOCAL search_path = spoor, pg_catalog;
SET LOCAL ROLE spoor_owner;

-- On the archive: what the primary asked of it (make a day's partition
-- empty, or drop it), kept as a log.
CREATE TABLE archive_request (
    action    text        NOT NULL CHECK (action IN ('prepare', 'drop')),
    tbl       text        NOT NULL,
    key_type  text        NOT NULL,
    day       date        NOT NULL,
    at        timestamptz NOT NULL DEFAULT now()
);

-- One row per partition moved: what it held, by the retention digest
-- (retention.sql: its evidence positions, or its blocks' SHA-256s), read
-- back from the archive before the local copy went.
CREATE TABLE archived (
    tbl       text        NOT NULL,
    day       date        NOT NULL,
    server    name        NOT NULL,
    rows      bigint      NOT NULL,
    digest    text        NOT NULL,
    moved_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tbl, day)
);

RESET ROLE;
GRANT SELECT ON spoor.archived TO spoor_retention, spoor_admin, spoor_auditor;
