-- 003: the legal gate and the lookups behind it.
--
-- A lookup runs only inside a SECURITY DEFINER function that checks, in the
-- same transaction as the read: an approved disclosure request, an
-- identifier its scope names, an instant inside its window (plus a bounded
-- tolerance), and its lookup budget; and that writes the audit entry.  A
-- refused attempt is audited too, so these functions return a JSON document
-- with "status" instead of raising (a raised error would roll the audit entry
-- back).  Analysts have no SELECT on any log table.
--
-- Four eyes: the approver of a request must differ from its recorder,
-- enforced here, whatever client is used.
SET LOCAL search_path = spoor, pg_catalog;

SET LOCAL ROLE spoor_owner;

CREATE TABLE request (
    request_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_ref        text        NOT NULL CHECK (case_ref <> ''),
    authority       text        NOT NULL CHECK (authority <> ''),
    legal_basis     text        NOT NULL CHECK (legal_basis <> ''),
    contact         text,
    kind            text        NOT NULL CHECK (kind IN ('disclosure', 'preservation')),
    received_at     timestamptz NOT NULL,
    deadline        timestamptz,
    window_lo       timestamptz NOT NULL,
    window_hi       timestamptz NOT NULL,
    max_lookups     integer     NOT NULL DEFAULT 20 CHECK (max_lookups BETWEEN 1 AND 1000),
    lookups_done    integer     NOT NULL DEFAULT 0,
    state           text        NOT NULL DEFAULT 'received'
                    CHECK (state IN ('received', 'approved', 'rejected', 'executed', 'disclosed',
                                     'closed', 'cancelled', 'expired')),
    created_by      name        NOT NULL DEFAULT session_user, -- spoor.actor(): functions/legal_trace.sql
    created_at      timestamptz NOT NULL DEFAULT now(),
    decided_by      name,
    decided_at      timestamptz,
    decision_note   text,
    CHECK (window_hi > window_lo),
    CHECK (window_hi - window_lo <= interval '366 days'),
    -- Four eyes, as a constraint no client can get round.
    CHECK (decided_by IS NULL OR decided_by <> created_by)
);

-- What the order names: exact addresses (an IPv6 prefix only if the order
-- names one), optional source port, Message-IDs (canonical form), user names.
CREATE TABLE request_scope (
    request_id bigint  NOT NULL REFERENCES request,
    kind       text    NOT NULL CHECK (kind IN ('ip', 'message_id', 'user_name')),
    value      text    NOT NULL CHECK (value <> '' AND value !~ '[*%?]'),
    port       integer CHECK (port BETWEEN 0 AND 65535),
    PRIMARY KEY (request_id, kind, value)
);

-- The audit trail: append-only, each entry chained to the one before by
-- SHA-256 over a canonical encoding (see audit_entry_hash).
CREATE TABLE audit (
    seq           bigint      PRIMARY KEY,
    at            timestamptz NOT NULL,
    actor         name        NOT NULL,
    action        text        NOT NULL,
    request_id    bigint,
    params        jsonb       NOT NULL,
    outcome       text        NOT NULL CHECK (outcome IN ('ok', 'denied', 'error')),
    result_digest text,
    prev_hash     bytea       NOT NULL,
    hash          bytea       NOT NULL
);

-- API tokens: stored as SHA-256 only; a person makes their own.
CREATE TABLE api_token (
    token_sha256 bytea       PRIMARY KEY CHECK (length(token_sha256) = 32),
    role         name        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz
);

RESET ROLE;
GRANT USAGE ON SCHEMA spoor TO spoor_analyst, spoor_approver, spoor_auditor;
GRANT USAGE ON SCHEMA spoor TO spoor_api;
