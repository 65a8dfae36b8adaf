-- 005: subscriber identity kept apart, kept results, legal holds, reports.
--
-- Subscriber identity.  The link from an account name to a person (name,
-- postal address, billing contact) lives in its own schema, owned by its
-- own role, spoor_identity, which is not spoor_owner: the SECURITY DEFINER
-- lookups that read traffic data cannot read identities, and the identity
-- functions read nothing of the traffic data but the request they are asked
-- under.  An identity is revealed only through spoor_identity.reveal(),
-- only for a request approved with subscriber data in its scope, and only
-- for accounts the request's own results named; each reveal is a separate
-- audit entry.  This is the "watertight separation" between traffic data and
-- civil identity that the CJEU asks for (C-511/18 La Quadrature du Net,
-- paras 152-159; C-140/20 Commissioner of An Garda Siochana).
--
-- Kept results.  What every allowed lookup returned is kept beside its audit
-- entry (request_result), so a disclosure package is built from exactly what
-- was seen, the audit entry's result digest proves it, and an export never
-- runs a lookup again.
--
-- Legal holds.  Approving a preservation request makes it 'executed' and
-- creates a hold on its identifiers and window (or on whole days), expiring
-- after 90 days unless renewed (18 U.S.C. 2703(f)(2): 90 days, renewable
-- for another 90).  Releasing a hold early takes two people.
SET LOCAL search_path = spoor, pg_catalog;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spoor_identity') THEN
        CREATE ROLE spoor_identity NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
END
$$;
DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO spoor_identity', current_database()); END $$;
-- The migration runner (a superuser or the database owner) hands the schema
-- to spoor_identity; spoor_owner gets nothing in it.
CREATE SCHEMA spoor_identity AUTHORIZATION spoor_identity;
REVOKE ALL ON SCHEMA spoor_identity FROM PUBLIC;
GRANT USAGE ON SCHEMA spoor TO spoor_identity;

-- Requests say whether subscriber data is in scope, and how long a hold lasts.
ALTER TABLE spoor.request ADD COLUMN subscriber_data boolean NOT NULL DEFAULT false;
ALTER TABLE spoor.request ADD COLUMN hold_mode text NOT NULL DEFAULT 'records'
    CHECK (hold_mode IN ('records', 'days'));
ALTER TABLE spoor.request ADD COLUMN hold_days integer NOT NULL DEFAULT 90
    CHECK (hold_days BETWEEN 1 AND 90);
GRANT SELECT (request_id, state, kind, subscriber_data) ON spoor.request TO spoor_identity;

SET LOCAL ROLE spoor_identity;

CREATE TABLE spoor_identity.subscriber (
    account         text        PRIMARY KEY CHECK (account <> ''),
    full_name       text,
    postal_address  text,
    billing_contact text,
    customer_ref    text,
    imported_at     timestamptz NOT NULL DEFAULT now(),
    import_sha256   text        NOT NULL
);

RESET ROLE;
GRANT USAGE ON SCHEMA spoor_identity TO spoor_admin, spoor_owner, spoor_auditor;

SET LOCAL ROLE spoor_owner;

-- ---- kept results -----------------------------------------------------------

CREATE TABLE request_result (
    request_id bigint NOT NULL REFERENCES request,
    audit_seq  bigint NOT NULL PRIMARY KEY,
    action     text   NOT NULL,
    result     jsonb  NOT NULL
);
CREATE INDEX request_result_request ON request_result (request_id, audit_seq);

-- A subscriber's sessions during the order's window: only when the order
-- names that subscriber (scope kind user_name), never a listing of anyone
-- else's.  Gated, audited and kept like the other lookups.
CREATE INDEX lease_user ON lease (user_name) WHERE user_name IS NOT NULL;

-- ---- legal holds ------------------------------------------------------------

CREATE TABLE hold (
    hold_id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id           bigint      NOT NULL REFERENCES request,
    mode                 text        NOT NULL CHECK (mode IN ('records', 'days')),
    window_lo            timestamptz NOT NULL,
    window_hi            timestamptz NOT NULL,
    expires_at           timestamptz NOT NULL,
    state                text        NOT NULL DEFAULT 'active'
                         CHECK (state IN ('active', 'released', 'expired')),
    created_by           name        NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    renewals             integer     NOT NULL DEFAULT 0,
    release_requested_by name,
    release_requested_at timestamptz,
    release_note         text,
    released_by          name,
    released_at          timestamptz,
    -- Two people release a hold early, whatever client is used.
    CHECK (released_by IS NULL OR released_by <> release_requested_by)
);

RESET ROLE;
