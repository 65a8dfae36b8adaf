-- 020: an order may name one address with several source ports.
--
-- Behind carrier-grade NAT a court order lists address, port and time for
-- each connection it is about, often the same shared address with several
-- ports.  request_scope's key (request, kind, value) kept one row per
-- address, and request_create's ON CONFLICT DO NOTHING dropped the second
-- port without a word, so its lookup was refused as out of scope.  The key
-- now includes the port (an address named without one is one more row,
-- which the gate reads as "any port").
SET LOCAL search_path = spoor, pg_catalog;
SET LOCAL ROLE spoor_owner;

ALTER TABLE request_scope DROP CONSTRAINT request_scope_pkey;
CREATE UNIQUE INDEX request_scope_named ON request_scope (request_id, kind, value, coalesce(port, -1));

RESET ROLE;
