-- tests/bench/retention.sql: :days days of RADIUS events (:per_day a day)
-- ending 10 days ago, into Spoor's partitioned radius_event and into a plain
-- table with the same columns and indexes (bench_flat.radius_event), for the
-- retention benchmark.  Run as the stack's superuser in a scratch database.
UPDATE spoor.retention_policy SET keep = interval '30 years';
UPDATE spoor.retention_clock SET allow_future = true;  -- the benchmark simulates the clock
SELECT spoor.ensure_partitions(current_date - 10 - :days, current_date);
INSERT INTO spoor.radius_event (ts, received, status, session_key, acct_session_id, user_name,
    calling_station_id, nas_ip, nas_identifier, nas_port, framed_ip, session_time, pos, block_id, block_idx)
SELECT t, t, CASE i % 10 WHEN 0 THEN 1 WHEN 9 THEN 2 ELSE 3 END,
       '10.255.0.1/S' || (i / 10), 'S' || (i / 10), 'user' || (i % 50000),
       '01632' || lpad((i % 50000)::text, 6, '0'), '10.255.0.1', 'nas1', i % 4096,
       '100.64.0.0'::inet + (i % 60000), (i % 10) * 300, i, 1 + i / 5000, 0
FROM generate_series(0, :days * :per_day - 1) AS i
CROSS JOIN LATERAL (SELECT (current_date - 10 - :days)::timestamptz
                           + (i::float8 / :per_day) * interval '1 day' AS t) x;
CREATE SCHEMA bench_flat;
CREATE TABLE bench_flat.radius_event (LIKE spoor.radius_event INCLUDING DEFAULTS);
CREATE INDEX ON bench_flat.radius_event (session_key, ts);
CREATE INDEX ON bench_flat.radius_event (block_id);
CREATE INDEX ON bench_flat.radius_event (nas_ip, ts) WHERE status IN (7, 8);
CREATE INDEX ON bench_flat.radius_event (ts);
INSERT INTO bench_flat.radius_event SELECT * FROM spoor.radius_event;
VACUUM ANALYZE bench_flat.radius_event;
VACUUM ANALYZE spoor.radius_event;
