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
   $q$SELECT spoor.audit_verify()$q$),
  -- The signed package from the console: the people who disclose (not
  -- auditors, who read); its export is audited as any export, and the
  -- package itself, sealed, as request.package with its manifest's SHA-256.
  ('request.package', '{spoor_analyst,spoor_approver}',
   $q$SELECT spoor.request_export(($1->>'id')::bigint)$q$),
  ('request.package_sealed', '{spoor_analyst,spoor_approver}',
   $q$SELECT spoor.request_package_sealed(($1->>'id')::bigint, $1->>'manifest_sha256', $1->>'public_key')$q$);

RESET ROLE;
