-- 015: two admins (issue 17, point 5).
--
-- One admin alone could grant themselves the retention role, make an analyst
-- an approver, shorten a retention policy to a day and let the next run drop
-- the data, or overwrite subscriber identities.  Now each of these takes two
-- different people, enforced here like four eyes on requests: the first
-- admin's call records a pending change (admin_change), a second admin
-- confirms or rejects it (admin_decide), and a CHECK constraint keeps the
-- two apart even against the table's owner.
--   - granting approver, admin, auditor, retention or ingest (analyst is
--     granted by one admin: an analyst can do nothing without an approved,
--     four-eyed request);
--   - shortening a retention policy (lengthening is immediate);
--   - overwriting a stored subscriber identity (new accounts are added at
--     once; an import that would change existing ones stages them);
--   - releasing a hold already took two people (005).
-- Nobody grants a right to themselves, nobody confirms a right for
-- themselves, and no role is granted to a Spoor group role (or any role
-- that cannot log in): `spoor user add spoor_analyst --role admin` would
-- have made every analyst an admin.  A superuser acts alone: it is the DBA,
-- who can change anything in the database anyway, and makes the first
-- admins.
SET LOCAL search_path = spoor, pg_catalog;
SET LOCAL ROLE spoor_owner;

CREATE TABLE admin_change (
    change_id    bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text        NOT NULL CHECK (kind IN ('grant', 'policy', 'identity')),
    params       jsonb       NOT NULL,
    requested_by name        NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    state        text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'rejected')),
    decided_by   name,
    decided_at   timestamptz,
    note         text,
    outcome      jsonb,
    CHECK (decided_by IS NULL OR decided_by <> requested_by),
    CHECK ((state = 'pending') = (decided_by IS NULL))
);

RESET ROLE;

-- Identities: new accounts at once; a change to a stored one is staged.
CREATE TABLE spoor_identity.pending_identity (
    change_id bigint NOT NULL,
    rows      jsonb  NOT NULL
);
ALTER TABLE spoor_identity.pending_identity OWNER TO spoor_identity;

SET LOCAL ROLE spoor_owner;
RESET ROLE;
REVOKE ALL ON TABLE spoor_identity.pending_identity FROM PUBLIC;
