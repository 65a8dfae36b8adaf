-- 012: our MTAs, known from the logs themselves.
--
-- `spoor trace headers` checks the Received: hops that name one of our MTAs
-- against our logs.  Which MTAs are ours was configuration only
-- (trace.our_mta_hosts), empty by default, so with the defaults a copied
-- header naming our own MTA was judged not_through_us instead of
-- forged_our_headers.  Spoor already knows which hosts it receives MTA logs
-- from: spoor-ingest records each syslog host name here (one upsert per
-- batch), and the lookups use this list when the configuration names none.
SET LOCAL search_path = spoor, pg_catalog;
SET LOCAL ROLE spoor_owner;

CREATE TABLE mta_host (
    host       text COLLATE "C" PRIMARY KEY CHECK (host <> ''),
    first_seen timestamptz NOT NULL DEFAULT now()
);

-- The hosts of what is stored already: rows, and the packs of compacted days
-- (a sort-1 key is "host queue_id"; the hosts at its ends are the ones a
-- pack is known to hold without opening it — a host whose every line is in
-- the middle of one pack is found once ingest sees it again).
INSERT INTO mta_host (host)
    SELECT DISTINCT host FROM smtp_event
    UNION SELECT split_part(key_lo, ' ', 1) FROM smtp_pack WHERE sort = 1
    UNION SELECT split_part(key_hi, ' ', 1) FROM smtp_pack WHERE sort = 1
ON CONFLICT DO NOTHING;

RESET ROLE;
GRANT INSERT ON mta_host TO spoor_ingest;
