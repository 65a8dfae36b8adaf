-- 021: deterministic carrier-grade NAT (RFC 7422).
--
-- A CGN in deterministic mode logs nothing per subscriber: each inside
-- address owns a fixed range of ports on a fixed outside address, computed
-- from the CGN's configuration.  So the configuration is the evidence, and
-- it must be kept as carefully as a log line: every version of it, with the
-- instant it took effect, the text exactly as given, its SHA-256, who
-- recorded it and which second admin confirmed it.  Versions are
-- append-only (a later version supersedes, nothing is rewritten), because a
-- changed configuration would silently move a port from one subscriber to
-- another in every later answer.  The reverse mapping (public address +
-- port + instant -> inside address) is sql/functions/nat.sql's
-- nat_det_holders; dynamic overflow blocks still come from nat_event.
SET LOCAL search_path = spoor, pg_catalog;
SET LOCAL ROLE spoor_owner;

CREATE TABLE nat_config (
    config_id      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cgn            text COLLATE "C" NOT NULL,  -- the CGN, named as in its logs
    valid_from     timestamptz NOT NULL,       -- in force from here to the CGN's next version
    algorithm      text        NOT NULL CHECK (algorithm IN ('sequential', 'none')),  -- A: RFC 7422's 0 (sequential)
    inside_lo      inet,                       -- the inside range (I), first and last address
    inside_hi      inet,
    inside_vrf     text,
    outside_lo     inet,                       -- the outside range (O)
    outside_hi     inet,
    reserved       int4multirange NOT NULL DEFAULT '{[0,1024)}',  -- R: ports never handed out
    ratio          integer,                    -- C: inside addresses per outside address
    dynamic_factor integer NOT NULL DEFAULT 0, -- D: shares of each outside address kept for the dynamic pool
    ports_per_user integer,                    -- each inside address's pre-allocated share: (65536 - |R|) / (C + D)
    max_ports      integer,                    -- M: the most ports one user gets, dynamic blocks included (for the record)
    source         text        NOT NULL,       -- the configuration file, byte for byte
    sha256         bytea       NOT NULL CHECK (length(sha256) = 32),
    recorded_by    name        NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    confirmed_by   name,                       -- the second admin (NULL: recorded by the DBA alone)
    UNIQUE (cgn, valid_from),
    CHECK (recorded_by IS DISTINCT FROM confirmed_by),
    -- 'none' ends deterministic mode for the CGN; the others need the whole mapping.
    CHECK (algorithm = 'none' OR (inside_lo IS NOT NULL AND inside_hi IS NOT NULL AND outside_lo IS NOT NULL
           AND outside_hi IS NOT NULL AND ratio IS NOT NULL AND ports_per_user IS NOT NULL)),
    CHECK (family(inside_lo) = family(inside_hi) AND inside_lo <= inside_hi),
    CHECK (family(outside_lo) = 4 AND family(outside_hi) = 4 AND outside_lo <= outside_hi),
    CHECK (reserved <@ '{[0,65536)}'::int4multirange),
    CHECK (ratio >= 1 AND dynamic_factor >= 0 AND ports_per_user >= 1
           AND ports_per_user * (ratio + dynamic_factor) <= 65536)
);
-- A lookup names an outside address and an instant.
CREATE INDEX nat_config_outside ON nat_config (outside_lo, outside_hi);

ALTER TABLE admin_change DROP CONSTRAINT admin_change_kind_check;
ALTER TABLE admin_change ADD CONSTRAINT admin_change_kind_check
    CHECK (kind IN ('grant', 'policy', 'identity', 'nat_config'));

RESET ROLE;
REVOKE ALL ON TABLE spoor.nat_config FROM PUBLIC;
