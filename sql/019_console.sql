-- 019: the web console's operations.
--
-- The console (web/, served by spoor-api) signs a person in with a token
-- they created and then calls the same operations as any bearer caller; it
-- needs only to know who is signed in and in which groups, to offer what
-- the person may do (the database still decides).  Sign-in and sign-out
-- are audited, so an auditor sees who used the console when.
SET LOCAL search_path = spoor, pg_catalog;
SET LOCAL ROLE spoor_owner;

INSERT INTO api_op VALUES
  ('person.whoami', '{spoor_analyst,spoor_approver,spoor_auditor,spoor_admin}',
   $q$SELECT spoor.console_whoami(NULL)$q$),
  ('console.sign_in', '{spoor_analyst,spoor_approver,spoor_auditor,spoor_admin}',
   $q$SELECT spoor.console_whoami('console.sign_in')$q$),
  ('console.sign_out', '{spoor_analyst,spoor_approver,spoor_auditor,spoor_admin}',
   $q$SELECT spoor.console_whoami('console.sign_out')$q$),
  ('audit.verify', '{spoor_auditor}',
   $q$SELECT spoor.audit_verify()$q$);

RESET ROLE;
