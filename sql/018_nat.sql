-- 018: carrier-grade NAT events.
--
-- Behind CGN a subscriber's session holds an inside address (RFC 6598
-- 100.64.0.0/10, or private space); the public address an order names is
-- shared by many subscribers, each holding a block of its ports for a while
-- (port-block allocation), or one port per session where the CGN logs
-- sessions.  The CGN's own logs say who held which: nat_event keeps them as
-- events, like smtp_event and radius_event (append-only, one row per
-- allocation, interim or release the log states; several per log line where
-- the vendor packs several), each naming its verbatim line in the evidence.
-- The lookup (sql/functions/nat.sql) goes public address + port + instant
-- -> the block that held the port -> the inside address -> the RADIUS
-- session that held that address -> the subscriber.
SET LOCAL search_path = spoor, pg_catalog;
SET LOCAL ROLE spoor_owner;

CREATE TABLE nat_event (
    ts          timestamptz NOT NULL,   -- the CGN's time of the event (its epoch field, else its syslog time)
    host        text COLLATE "C" NOT NULL, -- the CGN that logged it
    kind        smallint NOT NULL,      -- spoor.nat_kinds(): allocated, interim, released, session open/close
    vendor      text     NOT NULL,      -- the log format: juniper, cisco, a10, 6wind, nfware, conntrack
    inside      inet     NOT NULL,      -- the subscriber's address behind the CGN
    inside_vrf  text,                   -- the inside routing instance, when the log names one
    inside_port integer,                -- session logs: the inside source port
    outside     inet     NOT NULL,      -- the shared public address
    port_lo     integer  NOT NULL CHECK (port_lo BETWEEN 0 AND 65535),
    port_hi     integer  NOT NULL CHECK (port_hi BETWEEN port_lo AND 65535),
    proto       smallint,               -- session logs: IP protocol
    pool        text,                   -- the NAT pool, when the log names it
    pos         bigint   NOT NULL,
    block_id    bigint   NOT NULL,
    block_idx   integer  NOT NULL
) PARTITION BY RANGE (ts);
-- A lookup names the public address and an instant (then the port): the
-- leading columns are those known before the query starts (principle 5).
CREATE INDEX nat_event_outside ON nat_event (outside, ts);

INSERT INTO partitioned (name, key_type, class, on_demand) VALUES ('nat_event', 'timestamptz', 'nat', false);
INSERT INTO retention_policy (class, keep, note) VALUES
    ('nat', interval '365 days', 'carrier-grade NAT port blocks and sessions (they answer for the RADIUS sessions behind a shared address)');

RESET ROLE;
GRANT INSERT ON spoor.nat_event TO spoor_ingest;
