-- 024: the public addresses the CGNs have spoken of, and when.
--
-- Every address lookup asks first whether the address was a CGN's at the
-- instant; answering that from nat_event means a month of its partitions
-- (nat_lookback: blocks without interims are held for weeks), for every
-- lookup of every address, CGN or not.  This small table answers it with one
-- index probe, and the month is read only for a CGN's address.  Kept by a
-- statement trigger on nat_event (sql/functions/nat.sql), so COPY, import
-- and salvage all keep it.
SET LOCAL search_path = spoor, pg_catalog;
SET LOCAL ROLE spoor_owner;

CREATE TABLE nat_address (
    outside   inet NOT NULL PRIMARY KEY,
    first_day date NOT NULL,
    last_day  date NOT NULL
);
INSERT INTO nat_address (outside, first_day, last_day)
SELECT outside, min((ts AT TIME ZONE 'UTC')::date), max((ts AT TIME ZONE 'UTC')::date)
FROM nat_event GROUP BY outside;
-- What compaction already packed (nat_pack): its keys are host(outside).
INSERT INTO nat_address (outside, first_day, last_day)
SELECT key_lo::inet, min(day), max(day) FROM nat_pack WHERE sort = 1 AND key_lo = key_hi GROUP BY key_lo
ON CONFLICT (outside) DO UPDATE SET first_day = least(nat_address.first_day, EXCLUDED.first_day),
                                    last_day = greatest(nat_address.last_day, EXCLUDED.last_day);

RESET ROLE;
