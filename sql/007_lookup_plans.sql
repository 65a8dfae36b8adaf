-- 007: lookups whose cost does not grow with the history kept.
--
-- A LANGUAGE sql function that is not inlined is planned afresh on every
-- call, with its arguments unknown to the planner, so every scan of a
-- partitioned table in it was planned over all of that table's partitions
-- (a year of daily partitions: hundreds of plans per lookup) and pruned only
-- at run time.  The lookups below are PL/pgSQL with custom plans: the
-- arguments are known when the query is planned, and every scan carries a
-- bound in terms of the arguments (besides its bound relative to the row it
-- joins), so only the partitions of the window asked are planned at all.
-- Bodies and results are unchanged otherwise.
SET LOCAL search_path = spoor, pg_catalog;
SET LOCAL ROLE spoor_owner;

-- The lease index searched by address and time together: the GiST key holds
-- the segment's span, so a lookup reads the one segment that covers the
-- instant, not every segment of that address that day (an address in a
-- dynamic pool is held by dozens of sessions a day, each on its own heap
-- page).  (Replaces lease_seg_addr; the predicates in lease_at below use
-- this form.)
DROP INDEX lease_seg_addr;
CREATE INDEX lease_seg_addr_time ON lease_seg
    USING gist (addr inet_ops, tstzrange(seg_lo, seg_hi, '[]'));

RESET ROLE;
