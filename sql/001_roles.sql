-- 001: the group roles every later migration grants to.
--
-- Roles are cluster-wide, so creation is guarded (two Spoor databases may
-- share a cluster).  All are NOLOGIN groups: people and daemons get login
-- roles that are members of exactly the groups they need
-- (`spoor user add NAME --role ...`, the daemons' own roles).
--
--   spoor_ingest     spoor-ingest / spoor import: insert log rows, offsets, quarantine
--   spoor_analyst    runs lookups, only through SECURITY DEFINER functions
--   spoor_approver   approves or rejects legal requests (four eyes)
--   spoor_auditor    reads the audit trail and reports, verifies the chain
--   spoor_retention  spoor-retention: creates and drops partitions per policy
--   spoor_admin      manages people, policies and subscriber imports
--   spoor_api        spoor-api's login is a direct member: it authenticates a
--                    person by token and SET ROLEs to them for each request
--   spoor_owner      owns the tables and the SECURITY DEFINER functions;
--                    neither superuser nor BYPASSRLS, never a login role
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['spoor_ingest', 'spoor_analyst', 'spoor_approver', 'spoor_auditor',
                             'spoor_retention', 'spoor_admin', 'spoor_api', 'spoor_owner']
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS', r);
        END IF;
    END LOOP;
END
$$;

-- Nobody gets anything by default in this database.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
DO $$ BEGIN EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database()); END $$;
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['spoor_ingest', 'spoor_analyst', 'spoor_approver', 'spoor_auditor',
                             'spoor_retention', 'spoor_admin', 'spoor_api', 'spoor_owner']
    LOOP
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), r);
    END LOOP;
END
$$;

-- The schema that holds Spoor's data; owned by spoor_owner.
CREATE SCHEMA IF NOT EXISTS spoor AUTHORIZATION spoor_owner;
REVOKE ALL ON SCHEMA spoor FROM PUBLIC;
