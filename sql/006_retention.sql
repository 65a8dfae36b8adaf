-- 006: retention — policies per data class, partition lifecycle, proof of
-- deletion.  See sql/README.md, "Retention".
--
-- The rules implemented: data is kept no longer than the law allows for its
-- class (e.g. UK Investigatory Powers Act 2016 s.87(3): at most 12 months for
-- communications data; the periods are the ISP's, set by an admin, audited),
-- and deleted as whole daily partitions — never row by row on the hot path.
-- Records under an active legal hold (005) survive: the partition of a held
-- day is kept until the hold ends (see sql/README.md for why this, not a copy
-- to a hold store).  Every deletion leaves an audit entry with the partition,
-- its row count and a SHA-256 over what was deleted: a proof of deletion for
-- the data-protection regulator (GDPR art. 5(1)(e) storage limitation, art.
-- 5(2) accountability).  A record arriving late for a day already past its
-- retention is quarantined ("past_retention"), never stored.
SET LOCAL search_path = spoor, pg_catalog;
SET LOCAL ROLE spoor_owner;

CREATE TABLE retention_policy (
    class      text     PRIMARY KEY,
    keep       interval NOT NULL CHECK (keep >= interval '1 day' AND keep <= interval '30 years'),
    note       text,
    changed_by name     NOT NULL DEFAULT current_user,
    changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO retention_policy (class, keep, note) VALUES
    ('radius', interval '365 days', 'RADIUS sessions and the lease index (UK IPA 2016 s.87(3): 12 months at most)'),
    ('smtp', interval '183 days', 'SMTP submission and delivery records'),
    ('evidence', interval '365 days', 'verbatim lines (evidence blocks) behind both'),
    ('quarantine', interval '90 days', 'lines that could not be stored, with their reasons'),
    ('audit', interval '10 years', 'the audit trail: recorded, not yet pruned (see sql/README.md)');

-- What each run dropped: the proof of deletion, and the memory that keeps a
-- dropped day from being created again.
CREATE TABLE retention_dropped (
    tbl        text        NOT NULL,
    day        date        NOT NULL,
    class      text        NOT NULL,
    rows       bigint      NOT NULL,
    digest     text        NOT NULL,
    dropped_at timestamptz NOT NULL DEFAULT now(),
    run_now    timestamptz NOT NULL,
    PRIMARY KEY (tbl, day)
);

-- The clock a deletion may use.  A run may be told a past instant (drop
-- less), never, on a production database, a future one: a wrong --now or a
-- host clock running ahead must not delete what the law still requires.  A
-- test database opts in to a simulated future clock (a superuser sets
-- allow_future; there is no function for it).
CREATE TABLE retention_clock (
    one          boolean PRIMARY KEY DEFAULT true CHECK (one),
    allow_future boolean NOT NULL DEFAULT false
);
INSERT INTO retention_clock DEFAULT VALUES;

RESET ROLE;
GRANT USAGE ON SCHEMA spoor TO spoor_retention, spoor_admin, spoor_ingest;
DO $$ BEGIN EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM spoor_ingest', current_database()); END $$;
