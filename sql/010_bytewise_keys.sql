-- 010: the identifiers Spoor looks records up by compare byte for byte.
--
-- Queue IDs, Message-IDs, MTA host names, session keys and RADIUS user
-- names are identifiers, not words: two of them are the same only if their
-- bytes are.  Their columns used the database's default collation, so every
-- B-tree comparison in their indexes went through the C library's strcoll
-- (the cluster Spoor's scripts create uses C.UTF-8, which PostgreSQL 15 does
-- not treat as "C"), and, worse, the order of those indexes depended on the
-- operating system's locale data: a glibc upgrade that changes collation
-- (as 2.28 did) silently corrupts such indexes until they are rebuilt, and a
-- lookup by Message-ID would then miss a stored record.  With COLLATE "C"
-- the order is the bytes' and cannot change under us.  Equality results do
-- not change (PostgreSQL's deterministic collations break ties bytewise);
-- comparing with a text argument of the default collation takes this one.
--
-- Measured on the ingest benchmark: the collation calls (varstr_cmp,
-- strcoll_l, pg_newlocale_from_collation) were about 3% of PostgreSQL's
-- samples during ingest; the lease upsert and the COPY's index inserts
-- compare these keys.  Changing a column's collation rebuilds its indexes,
-- not the table.
SET LOCAL search_path = spoor, pg_catalog;
SET LOCAL ROLE spoor_owner;

ALTER TABLE smtp_event
    ALTER COLUMN host TYPE text COLLATE "C",
    ALTER COLUMN queue_id TYPE text COLLATE "C",
    ALTER COLUMN message_id TYPE text COLLATE "C",
    ALTER COLUMN next_queue_id TYPE text COLLATE "C",
    ALTER COLUMN orig_queue_id TYPE text COLLATE "C";
ALTER TABLE radius_event ALTER COLUMN session_key TYPE text COLLATE "C";
ALTER TABLE lease
    ALTER COLUMN session_key TYPE text COLLATE "C",
    ALTER COLUMN user_name TYPE text COLLATE "C";
ALTER TABLE lease_seg ALTER COLUMN session_key TYPE text COLLATE "C";
RESET ROLE;
