-- 026: audited reads answered only once their audit entry has committed.
--
-- A lookup gives its answer in a second step, after the transaction that
-- wrote its audit entry has committed (013: lookup_ticket, lookup_answer),
-- so no ROLLBACK, savepoint, pipeline or error raised later in the same
-- statement can keep the answer and lose the entry.  The other audited
-- reads still gave their data in the same transaction as their entry: an
-- export of a case's kept results (identities revealed), an auditor's
-- reading of a case (case.read), the yearly report.  A COPY (SELECT ...)
-- that sends the first row and fails on the second, or an extended-protocol
-- pipeline whose next statement fails before its Sync, kept the data and
-- rolled the entry back.  They now record a ticket as lookups do and answer
-- through lookup_answer; args keeps what the answer is computed from.  The
-- answer step is the API's for every person who makes such a read.
SET LOCAL search_path = spoor, pg_catalog;
SET LOCAL ROLE spoor_owner;

ALTER TABLE lookup_ticket ADD COLUMN args jsonb;

INSERT INTO api_op VALUES
  ('read.answer', '{spoor_analyst,spoor_approver,spoor_auditor,spoor_admin}',
   $q$SELECT spoor.lookup_answer(($1->>'ticket')::bigint)$q$);

RESET ROLE;
