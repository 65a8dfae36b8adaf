-- 004: people, and the rest of a request's life.
--
-- `spoor user add NAME --role ROLE` creates a PostgreSQL login in one of
-- Spoor's groups through user_add(), owned by spoor_roleadmin: the only role
-- with CREATEROLE, which (PostgreSQL 15) could otherwise grant itself any
-- membership — so it is NOLOGIN and reachable only through this function,
-- which grants nothing but the six person groups.  Authentication (password,
-- peer, certificate) stays the DBA's, in pg_hba.conf: no secret passes here.
--
-- Request states after ETSI TS 103 120: received -> approved | rejected ->
-- executed -> disclosed -> closed; cancelled from any open state; expired
-- when the deadline passes before it was executed.  Every transition is
-- audited.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spoor_roleadmin') THEN
        CREATE ROLE spoor_roleadmin NOLOGIN CREATEROLE NOSUPERUSER NOBYPASSRLS;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA spoor TO spoor_roleadmin;
GRANT spoor_analyst, spoor_approver, spoor_auditor, spoor_retention, spoor_admin, spoor_ingest
    TO spoor_roleadmin WITH ADMIN OPTION;

SET LOCAL ROLE spoor_owner;

RESET ROLE;
