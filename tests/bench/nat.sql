-- tests/bench/nat.sql: synthesise :n carrier-grade NAT port-block events
-- (allocation and release of each holding) into spoor.nat_event, the model
-- of tests/tools/spoor-nat-gen's `blocks` mode: :addrs public addresses
-- 198.18.0.0 + a, 126 blocks of 512 ports each, every block held :h times
-- in turn (4 hours apart, 3h50m each), by inside addresses from
-- 100.64.0.0/10.  Every event points at the real evidence block of its day
-- (block id 1 + day), so evidence extraction is measured too.  Run as the
-- stack's superuser in a scratch database.
UPDATE spoor.retention_policy SET keep = interval '30 years';
-- A year of daily partitions before it, as a 12-month retention keeps them.
SELECT format('SELECT spoor.ensure_partitions(%L, %L)', d::date, least(d::date + 31, '2025-12-31'::date))
FROM generate_series('2025-01-01'::date, '2025-12-31'::date, interval '32 days') d \gexec
SELECT format('SELECT spoor.ensure_partitions(%L, %L)', d::date, least(d::date + 31, e))
FROM (SELECT ('2026-01-01'::date + (:h / 6 + 2)::int) AS e) x,
     generate_series('2026-01-01'::date, e, interval '32 days') d \gexec
INSERT INTO spoor.nat_event (ts, host, kind, vendor, inside, inside_vrf, inside_port, outside, port_lo, port_hi,
                             proto, pool, pos, block_id, block_idx)
SELECT t, 'cgn' || (1 + a % 3), CASE ph WHEN 0 THEN 1 ELSE 3 END, 'juniper',
       '100.64.0.0'::inet + ((j::bigint * :addrs * 126 + a * 126 + b) % 4194304),
       NULL, NULL, '198.18.0.0'::inet + a, 1024 + b * 512, 1024 + b * 512 + 511, NULL, 'cgn',
       (j::bigint * :addrs * 126 + a * 126 + b) * 2 + ph,
       1 + floor(extract(epoch FROM t - '2026-01-01 00:00:00+00'::timestamptz) / 86400)::int, 0
FROM generate_series(0, :h - 1) j
CROSS JOIN generate_series(0, :addrs - 1) a
CROSS JOIN generate_series(0, 125) b
CROSS JOIN generate_series(0, 1) ph
CROSS JOIN LATERAL (SELECT '2026-01-01 00:00:00+00'::timestamptz + j * interval '4 hours'
                           + ((7 * a + 13 * b) % 600) * interval '1 second'
                           + ph * interval '13800 seconds' AS t) x;
ANALYZE spoor.nat_event;
