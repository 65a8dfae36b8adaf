-- 014: need to know (issue 17, point 4).
--
-- A case — a request, its scope, results, revealed identities, export and
-- audit entries — is shown only to the people on it: its recorder, the
-- approver who decided it, and the analysts that approver assigned to it
-- (request_member); approvers also read a request while it awaits a
-- decision, since they must see what they approve.  Auditors read every
-- case, and each such reading is itself an audit entry (case.read).
-- Everyone else sees that a case exists (its number, kind and state), not
-- what it holds, and may not run lookups under it, export it or move it
-- on.  The functions that showed a case to anyone who could call them are
-- renamed *_full and reached only through the checks below.
SET LOCAL search_path = spoor, pg_catalog;
SET LOCAL ROLE spoor_owner;

CREATE TABLE request_member (
    request_id  bigint      NOT NULL REFERENCES request,
    person      name        NOT NULL,
    assigned_by name        NOT NULL,
    assigned_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, person)
);

RESET ROLE;
