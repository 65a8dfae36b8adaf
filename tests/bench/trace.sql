-- tests/bench/trace.sql: synthesise :n RADIUS records (10 per session:
-- Start, 8 Interim-Updates, Stop) for sessions on a pool of :pool addresses,
-- one hour apart per address, into Spoor's tables and into FreeRADIUS's
-- radacct (stock schema and indexes), for the lookup benchmark.  Every event
-- points at one real evidence block (block 1), so evidence extraction is
-- measured too.  Run as the stack's superuser in a scratch database.
\set sessions (:n / 10)
-- The synthetic history starts on 2026-01-01: keep it whatever the policies say.
UPDATE spoor.retention_policy SET keep = interval '30 years';
-- A year of daily partitions before it, as a 12-month retention policy keeps
-- them: a lookup must cost the same whether 3 or 365 days are kept.
-- A month per transaction: a year of days for every partitioned table in one
-- would take more locks than max_locks_per_transaction allows.
SELECT format('SELECT spoor.ensure_partitions(%L, %L)', d::date, least(d::date + 31, '2025-12-31'::date))
FROM generate_series('2025-01-01'::date, '2025-12-31'::date, interval '32 days') d \gexec
SELECT format('SELECT spoor.ensure_partitions(%L, %L)', d::date, least(d::date + 31, e))
FROM (SELECT ('2026-01-01'::date + (:sessions / :pool / 24 + 2)::int) AS e) x,
     generate_series('2026-01-01'::date, e, interval '32 days') d \gexec
INSERT INTO spoor.radius_event (ts, received, status, session_key, acct_session_id, user_name,
    calling_station_id, nas_ip, nas_identifier, nas_port, framed_ip, session_time, pos, block_id, block_idx)
SELECT t0 + k * interval '5 minutes', t0 + k * interval '5 minutes',
       CASE k WHEN 0 THEN 1 WHEN 9 THEN 2 ELSE 3 END,
       '10.255.0.1/S' || i, 'S' || i, 'user' || (i % 50000), '01632' || lpad((i % 50000)::text, 6, '0'),
       '10.255.0.1', 'nas1', i % 4096, a, k * 300, i * 10 + k, 1 + (i / :pool) / 24, 0
FROM generate_series(0, :sessions - 1) AS i
CROSS JOIN LATERAL (SELECT '2026-01-01 00:00:00+00'::timestamptz + (i / :pool) * interval '1 hour' AS t0,
                           ('100.64.0.0'::inet + (i % :pool)) AS a) s
CROSS JOIN generate_series(0, 9) AS k;
INSERT INTO spoor.lease (session_key, addr, addr_kind, first_ts, last_ts, start_ts, has_interim, stop_ts,
    terminate_cause, span_lo, span_hi, user_name, calling_station_id, nas_ip, nas_identifier, nas_port,
    acct_session_id)
SELECT '10.255.0.1/S' || i, a, 1, t0, t0 + interval '45 minutes', t0, true, t0 + interval '45 minutes',
       'User-Request', t0, t0 + interval '45 minutes', 'user' || (i % 50000),
       '01632' || lpad((i % 50000)::text, 6, '0'), '10.255.0.1', 'nas1', i % 4096, 'S' || i
FROM generate_series(0, :sessions - 1) AS i
CROSS JOIN LATERAL (SELECT '2026-01-01 00:00:00+00'::timestamptz + (i / :pool) * interval '1 hour' AS t0,
                           ('100.64.0.0'::inet + (i % :pool)) AS a) s;
INSERT INTO spoor.lease_seg (day, addr, session_key, seg_lo, seg_hi)
SELECT (span_lo AT TIME ZONE 'UTC')::date, addr, session_key, span_lo, span_hi FROM spoor.lease
WHERE session_key LIKE '10.255.0.1/%';

-- One submission per session, ten minutes in: a Postfix client= line and a
-- cleanup message-id= line.
INSERT INTO spoor.smtp_event (ts, host, kind, queue_id, message_id, client_name, client_ip,
    client_port, sasl_username, pos, block_id, block_idx)
SELECT t0 + interval '10 minutes' + k * interval '1 second', 'smtp1', CASE k WHEN 0 THEN 1 ELSE 2 END,
       upper(substr(md5('q' || i), 1, 10)), CASE k WHEN 1 THEN md5('m' || i) || '@isp.example' END,
       CASE k WHEN 0 THEN 'unknown' END, CASE k WHEN 0 THEN a END, CASE k WHEN 0 THEN 40000 + i % 20000 END,
       CASE k WHEN 0 THEN 'user' || (i % 50000) END, i * 2 + k, 1 + (i / :pool) / 24, 0
FROM generate_series(0, :sessions - 1) AS i
CROSS JOIN LATERAL (SELECT '2026-01-01 00:00:00+00'::timestamptz + (i / :pool) * interval '1 hour' AS t0,
                           ('100.64.0.0'::inet + (i % :pool)) AS a) s
CROSS JOIN generate_series(0, 1) AS k;

-- FreeRADIUS 3 radacct, PostgreSQL schema, with its stock indexes.
CREATE TABLE radacct (
    RadAcctId bigserial PRIMARY KEY, AcctSessionId text NOT NULL, AcctUniqueId text NOT NULL UNIQUE,
    UserName text, Realm text, NASIPAddress inet NOT NULL, NASPortId text, NASPortType text,
    AcctStartTime timestamp with time zone, AcctUpdateTime timestamp with time zone,
    AcctStopTime timestamp with time zone, AcctInterval bigint, AcctSessionTime bigint,
    AcctAuthentic text, ConnectInfo_start text, ConnectInfo_stop text, AcctInputOctets bigint,
    AcctOutputOctets bigint, CalledStationId text, CallingStationId text, AcctTerminateCause text,
    ServiceType text, FramedProtocol text, FramedIPAddress inet, FramedIPv6Address inet,
    FramedIPv6Prefix inet, FramedInterfaceId text, DelegatedIPv6Prefix inet, Class text);
CREATE INDEX radacct_active_session_idx ON radacct (AcctUniqueId) WHERE AcctStopTime IS NULL;
CREATE INDEX radacct_bulk_close ON radacct (NASIPAddress, AcctStartTime) WHERE AcctStopTime IS NULL;
CREATE INDEX radacct_start_user_idx ON radacct (AcctStartTime, UserName);
CREATE INDEX radacct_calss_idx ON radacct (Class);
INSERT INTO radacct (AcctSessionId, AcctUniqueId, UserName, NASIPAddress, NASPortId, AcctStartTime,
    AcctUpdateTime, AcctStopTime, AcctSessionTime, CallingStationId, AcctTerminateCause, FramedIPAddress)
SELECT 'S' || i, md5('S' || i), 'user' || (i % 50000), '10.255.0.1', (i % 4096)::text, t0,
       t0 + interval '40 minutes', t0 + interval '45 minutes', 2700,
       '01632' || lpad((i % 50000)::text, 6, '0'), 'User-Request', a
FROM generate_series(0, :sessions - 1) AS i
CROSS JOIN LATERAL (SELECT '2026-01-01 00:00:00+00'::timestamptz + (i / :pool) * interval '1 hour' AS t0,
                           ('100.64.0.0'::inet + (i % :pool)) AS a) s;
-- Steady state, as autovacuum leaves a table some time after a load: hint
-- bits set and the visibility map written (else the lookups would pay for
-- that, and autovacuum would run beside them), then a checkpoint.
VACUUM (ANALYZE);
CHECKPOINT;
