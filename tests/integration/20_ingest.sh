# Ingest: Kafka → PostgreSQL exactly once, evidence byte for byte, quarantine,
# least privilege, and the faults: kill -9, PostgreSQL restart, broker restart,
# SIGTERM, two consumers rebalancing.  Every check compares content, not only counts.
set -u
. tests/lib.sh
S=$B/spoor
W=$SPOOR_VAR/work-ingest
rm -rf "$W"; mkdir -p "$W"
K=$SPOOR_KAFKA_BROKERS
"$S" db migrate >/dev/null

# The daemon's own login role: a member of spoor_ingest and nothing else.
t_psql -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname='ingestd') THEN
  CREATE ROLE ingestd LOGIN IN ROLE spoor_ingest; END IF; END \$\$"
cat >"$W/ingest.conf" <<CONF
kafka.brokers = $K
kafka.group = spoor-ingest-test
ingest.batch_records = 400
ingest.batch_ms = 200
ingest.metrics_listen = 127.0.0.1:$((SPOOR_KAFKA_PORT + 20))
ingest.default_zone = Europe/London
log.level = warn
CONF
ingest() { PGUSER=ingestd "$B/spoor-ingest" --config "$W/ingest.conf" "$@"; }
# Starts the daemon in the background; $pid is the daemon itself (not a subshell).
ingest_bg() { PGUSER=ingestd "$B/spoor-ingest" --config "$W/ingest.conf" "$@" & pid=$!; }
trap 'kill -9 $(jobs -p) 2>/dev/null' EXIT

# Data: a synthetic ISP, in four slices so each fault test has fresh input.
# Slice 3 carries enough mail (about 40k lines) that a database outage falls
# in the middle of its stream.
for i in 1 2 3 4 5 6; do
  mails=40; [ $i = 3 ] || [ $i = 6 ] && mails=2500
  "$B/tests/spoor-gen" --out "$W/d$i" --subscribers 150 --hours 3 --seed $i --mails-per-hour $mails \
    --start "2026-11-2${i}T22:00:00Z" --zone Europe/London --malformed-rate 0.002 >/dev/null 2>&1 \
    || t_fail "generator slice $i"
done

produce() { # slice
  "$B/tests/spoor-produce" --brokers "$K" --topic spoor.smtp "$W/d$1/maillog" >/dev/null &&
  "$B/tests/spoor-produce" --brokers "$K" --topic spoor.radius --detail --key nas1 "$W/d$1/radius.detail" >/dev/null
}
expected() { # slices... → sorted records as produced
  for i in "$@"; do
    "$B/tests/spoor-produce" --print "$W/d$i/maillog"
    "$B/tests/spoor-produce" --print --detail "$W/d$i/radius.detail"
  done | LC_ALL=C sort >"$W/want"
}
count_of() { # slices... → number of records produced
  for i in "$@"; do
    "$B/tests/spoor-produce" --count "$W/d$i/maillog"
    "$B/tests/spoor-produce" --count --detail "$W/d$i/radius.detail"
  done | awk '{s+=$1} END {print s}'
}
consumed_now() { t_psql -c "select coalesce(sum(consumed),0) from spoor.source_position where source like 'spoor.%'" 2>/dev/null; }
wait_consumed() { # N: until that many records are stored (60 s at most)
  for _ in $(seq 1 600); do [ "$(consumed_now)" = "$1" ] && return 0; sleep 0.1; done; return 1
}
compare() { # name slices...
  local name=$1; shift
  expected "$@"
  { "$B/tests/spoor-evidence-dump" smtp; "$B/tests/spoor-evidence-dump" radius; } | LC_ALL=C sort >"$W/got"
  if cmp -s "$W/got" "$W/want"; then t_ok "$name: every record stored once, byte for byte ($(wc -l <"$W/want") lines)"
  else t_fail "$name: stored evidence differs from input" "$(diff "$W/got" "$W/want" | head -8)"; fi
  local bad
  bad=$(t_psql -c "select count(*) from spoor.source_position where consumed <> stored + quarantined")
  t_eq "$name: consumed = stored + quarantined on every partition" "$bad" 0
  t_eq "$name: consumed equals what was produced" "$(consumed_now)" "$(count_of "$@")"
}

# 1. Plain run.
produce 1
out=$(ingest --once 2>&1); rc=$?
t_eq "spoor-ingest --once exits 0" "$rc" 0
compare "clean run" 1
q=$(t_psql -c "select count(*) from spoor.quarantine")
t_match "malformed lines are quarantined, not dropped" "$q" '^[1-9][0-9]*$'
t_match "quarantine rows carry reason and position" \
  "$(t_psql -c "select reason || '@' || source || ':' || part || ':' || pos from spoor.quarantine limit 1")" '^[a-z0-9_]+@spoor\.(smtp|radius):[0-9]+:[0-9]+$'
n=$(t_psql -c "select count(*) from spoor.smtp_event where kind = 2 and message_id is not null")
t_match "Message-IDs stored" "$n" '^[1-9][0-9]*$'
n=$(t_psql -c "select count(*) from spoor.lease_seg")
t_match "lease index built from RADIUS events" "$n" '^[1-9][0-9]*$'
# The lease index, merged batch by batch from what spoor-ingest aggregated in
# memory, equals the same aggregation done afresh over every stored event.
lease_recomputed() {
  t_psql -c "
  WITH agg AS (
    SELECT session_key, addr, min(kind) kind, min(ts) f, max(ts) l, min(ts) FILTER (WHERE status = 1) st,
           min(ts - make_interval(secs => session_time)) FILTER (WHERE status IN (2, 3) AND session_time IS NOT NULL) est,
           bool_or(status = 3) hi, max(ts) FILTER (WHERE status = 2) sp, max(user_name) u,
           max(calling_station_id) c, max(nas_ip) nip, max(nas_port) np, max(acct_session_id) sid
    FROM (SELECT e.*, a.addr, a.kind FROM spoor.radius_event e
          CROSS JOIN LATERAL (VALUES (e.framed_ip, 1::smallint), (e.framed_ipv6_prefix, 2::smallint),
                                     (e.delegated_ipv6_prefix, 3::smallint)) a(addr, kind)
          WHERE e.status IN (1, 2, 3) AND e.session_key IS NOT NULL AND a.addr IS NOT NULL) ev
    GROUP BY 1, 2)
  SELECT (count(*) > 0)::text || '|' || (SELECT count(*) FROM spoor.lease) - count(*) || '|' ||
         count(*) FILTER (WHERE l.session_key IS NULL
           OR a.kind IS DISTINCT FROM l.addr_kind OR a.f IS DISTINCT FROM l.first_ts OR a.l IS DISTINCT FROM l.last_ts
           OR a.st IS DISTINCT FROM l.start_ts OR a.est IS DISTINCT FROM l.est_start OR a.hi IS DISTINCT FROM l.has_interim
           OR a.sp IS DISTINCT FROM l.stop_ts OR a.u IS DISTINCT FROM l.user_name OR a.c IS DISTINCT FROM l.calling_station_id
           OR a.nip IS DISTINCT FROM l.nas_ip OR a.np IS DISTINCT FROM l.nas_port OR a.sid IS DISTINCT FROM l.acct_session_id)
  FROM agg a LEFT JOIN spoor.lease l USING (session_key, addr)"
}
t_eq "lease index equals a fresh aggregation of the stored events (any|extra|differing)" "$(lease_recomputed)" "true|0|0"
out=$("$S" ingest status)
t_match "spoor ingest status shows the balance" "$out" 'total: consumed [0-9]+ = stored [0-9]+ \+ quarantined [0-9]+'

# 2. Least privilege: the ingest role cannot read what it wrote.
out=$(PGUSER=ingestd psql -X -tA -c "select count(*) from spoor.smtp_event" 2>&1)
t_match "ingest role cannot SELECT log tables" "$out" 'permission denied'
out=$(PGUSER=ingestd psql -X -tA -c "create table spoor.x (a int)" 2>&1)
t_match "ingest role cannot run DDL" "$out" 'permission denied'
out=$(PGUSER=ingestd psql -X -tA -c "delete from spoor.radius_event" 2>&1)
t_match "ingest role cannot delete" "$out" 'permission denied'

# 3. kill -9 mid-batch, restart: nothing lost, nothing duplicated.
# Killed once a third of the slice is stored (batches of 400 records): more
# than a batch stored, several still to come.
base=$(consumed_now)
total=$(count_of 2)
produce 2
ingest_bg 2>"$W/kill.log"
for _ in $(seq 1 400); do [ "$(consumed_now)" -gt $((base + total / 3)) ] && break; sleep 0.02; done
kill -9 $pid; wait $pid 2>/dev/null
n=$(consumed_now)
t_eq "killed mid-stream, part of the slice stored ($((n - base)) of $total)" \
  "$([ "$n" -gt "$base" ] && [ "$n" -lt $((base + total)) ] && echo part)" part
ingest --once 2>/dev/null
compare "kill -9 and restart" 1 2

# 4. PostgreSQL stopped mid-stream: the daemon waits and carries on.  The
# slice is produced slowly so the outage falls in the middle of it.
ingest_bg 2>"$W/pg.log"
base=$(consumed_now)
"$B/tests/spoor-produce" --brokers "$K" --topic spoor.radius --detail --key nas1 "$W/d3/radius.detail" >/dev/null
"$B/tests/spoor-produce" --brokers "$K" --topic spoor.smtp --rate 8000 "$W/d3/maillog" >/dev/null &
prod=$!
# Wait until the daemon is assigned and storing, then pull the database away.
for _ in $(seq 1 300); do [ "$(consumed_now)" -gt $((base + 2000)) ] && break; sleep 0.05; done
ops/stack down pg >"$W/pgdown.log" 2>&1
t_match "PostgreSQL is down during the outage" "$(ops/stack status 2>&1)" 'postgresql +stopped'
sleep 2
ops/stack up pg >/dev/null 2>&1
wait $prod
wait_consumed "$(count_of 1 2 3)" || t_fail "caught up after the PostgreSQL restart"
kill -TERM $pid; wait $pid; rc=$?
t_eq "SIGTERM after a PostgreSQL restart exits 0" "$rc" 0
t_match "the outage was logged, and survived" "$(cat "$W/pg.log")" 'database unavailable|cannot connect|reading stored offsets'
compare "PostgreSQL restart" 1 2 3

# 5. Broker down and back: the daemon reconnects and carries on.
ingest_bg 2>"$W/kafka.log"
sleep 1
ops/stack down kafka >/dev/null 2>&1
sleep 1
ops/stack up kafka >/dev/null 2>&1
produce 4
wait_consumed "$(count_of 1 2 3 4)" || t_fail "caught up after the broker restart"
kill -TERM $pid; wait $pid; rc=$?
t_eq "SIGTERM after a broker restart exits 0" "$rc" 0
compare "broker restart" 1 2 3 4

# 6. Two consumers in one group: rebalances, and no partition stored twice.
produce 5
ingest_bg --once 2>/dev/null; a=$pid
ingest_bg --once 2>/dev/null; b=$pid
wait $a; wait $b
ingest --once 2>/dev/null
compare "two consumers rebalancing" 1 2 3 4 5

# 6b. Two daemons share the partitions of one group; mid-stream one is
# killed with -9 and a third joins: the rebalances lose and duplicate
# nothing (each batch is fenced against the stored positions).
{ grep -v '^ingest.metrics_listen\|^log.level' "$W/ingest.conf"; printf 'ingest.metrics_listen =\nlog.level = info\n'; } >"$W/group.conf"
group_bg() { PGUSER=ingestd "$B/spoor-ingest" --config "$W/group.conf" 2>"$W/group-$1.log" & pid=$!; }
assigned() { grep -q 'assigned spoor' "$W/group-$1.log"; }
before=$(consumed_now)
group_bg a; ga=$pid
group_bg b; gb=$pid
# Both in the group before the slice arrives, so both get partitions of it
# (started with it waiting, the first could take it all before the second
# had joined: a loaded machine failed the check below that way).
for _ in $(seq 1 600); do assigned a && assigned b && break; sleep 0.1; done
produce 6
# Mid-stream: both have stored batches, the slice is not done yet.
for _ in $(seq 1 600); do [ "$(consumed_now)" -gt $((before + 8000)) ] && break; sleep 0.05; done
mid=$(consumed_now)
kill -9 $ga; wait $ga 2>/dev/null
group_bg c; gc=$pid
wait_consumed "$(count_of 1 2 3 4 5 6)" || t_fail "two daemons, one killed: caught up" "$(tail -5 "$W"/group-*.log)"
# The one that joined is given partitions once the group drops the killed
# one (session.timeout.ms, 10 s), whether or not records are left for it.
for _ in $(seq 1 600); do assigned c && break; sleep 0.1; done
kill -TERM $gb $gc; wait $gb; rb=$?; wait $gc; rc=$?
t_match "the kill came mid-stream (stored before it: $((mid - before)) of $(count_of 6))" "$((mid - before))" '^[1-9][0-9]*$'
t_eq "…the surviving daemons stop cleanly" "$rb:$rc" "0:0"
t_eq "…the two first daemons shared the partitions (each was assigned some)" \
  "$(grep -l 'assigned spoor' "$W/group-a.log" "$W/group-b.log" | wc -l)" 2
t_match "…and the one that joined took partitions over" "$(cat "$W/group-c.log")" 'assigned spoor\.(smtp|radius)\[[0-9]+\], resuming at stored offset'
compare "two daemons, one killed -9 and one added mid-stream" 1 2 3 4 5 6

# 7. Kafka's retention passed a stored offset: the daemon refuses to skip ahead.
head -20 "$W/d1/maillog" >"$W/lost.log"
"$B/tests/spoor-produce" --brokers "$K" --topic spoor.smtp "$W/lost.log" >/dev/null
"$B/tests/spoor-produce" --brokers "$K" --topic spoor.smtp --delete-records >"$W/marks"
out=$(ingest --once 2>&1); rc=$?
t_eq "stored offset no longer in Kafka: exit 1" "$rc" 1
t_match "stored offset no longer in Kafka: says so" "$out" 'is no longer in Kafka.*refusing to skip ahead'
# The operator accepts the loss by moving the stored position (what the message says to do).
while read -r part lo hi; do
  t_psql -c "update spoor.source_position set next_pos = greatest(next_pos, $lo) where source = 'spoor.smtp' and part = $part"
done <"$W/marks"
t_run "after the operator moves the position, ingest runs again" ingest --once

# 8. SIGHUP reopens the log and the daemon carries on.
{ cat "$W/ingest.conf"; printf 'log.file = %s\nlog.level = info\ningest.nice = 10\n' "$W/hup.log"; } >"$W/hup.conf"
PGUSER=ingestd "$B/spoor-ingest" --config "$W/hup.conf" & pid=$!
sleep 1
# Lookups first on a busy machine: with ingest.nice = 10 spoor-ingest and its
# database session run below everything else.
t_eq "spoor-ingest runs below lookups (ingest.nice)" "$(ps -o ni= -p $pid | tr -d ' ')" 10
bpid=$(t_psql -c "select pid from pg_stat_activity where application_name = 'spoor-ingest' and usename = 'ingestd' order by backend_start desc limit 1")
t_eq "…and so does its database session" "$(ps -o ni= -p "${bpid:-0}" | tr -d ' ')" 10
mv "$W/hup.log" "$W/hup.log.1"
kill -HUP $pid; sleep 0.5
kill -0 $pid 2>/dev/null && t_ok "SIGHUP: daemon still running" || t_fail "SIGHUP: daemon still running"
kill -TERM $pid; wait $pid; rc=$?
t_eq "SIGTERM after SIGHUP exits 0" "$rc" 0
t_match "SIGHUP: a new log file was opened" "$(cat "$W/hup.log" 2>/dev/null)" 'stopping on Terminated'

# 9. Metrics.
ingest_bg 2>/dev/null
sleep 1.5
m=$(curl -s "http://127.0.0.1:$((SPOOR_KAFKA_PORT + 20))/metrics")
kill -TERM $pid; wait $pid
t_match "metrics: consumed counter" "$m" 'spoor_ingest_consumed_total [0-9]+'
t_match "metrics: per-partition stored offset" "$m" 'spoor_ingest_stored_offset\{topic="spoor.radius",partition="0"\} [0-9]+'
t_match "metrics: lag" "$m" 'spoor_ingest_lag\{topic="spoor.smtp"'

# 10. Every event points at its own original line.
out=$("$B/tests/spoor-evidence-dump" --check-refs 2>&1); rc=$?
t_eq "every event's (block, index) gives back its own line" "$rc" 0
t_match "references checked" "$out" '^checked [1-9][0-9]* smtp and [1-9][0-9]* radius references, 0 wrong'

# 11. Backfill: spoor import, idempotent, also compressed copies.
"$B/tests/spoor-gen" --out "$W/imp" --subscribers 50 --hours 2 --seed 9 --start 2026-10-01T08:00:00Z >/dev/null
before=$(t_psql -c "select count(*) from spoor.smtp_event")
out=$("$S" import --format exim --host mx3 --zone UTC "$W/imp/mainlog" 2>&1)
t_match "import of an Exim mainlog" "$out" 'records read, [0-9]+ stored'
out=$("$S" import --format postfix --reference 2026-10-02T00:00:00Z "$W/imp/maillog" 2>&1)
t_match "import of a Postfix maillog" "$out" 'records read'
mid=$(t_psql -c "select count(*) from spoor.smtp_event")
gzip -c "$W/imp/maillog" >"$W/imp/maillog.gz"; zstd -q -c "$W/imp/maillog" >"$W/imp/maillog.zst"
out=$("$S" import --format postfix "$W/imp/maillog" "$W/imp/maillog.gz" "$W/imp/maillog.zst" 2>&1)
t_eq "re-import (plain, gzip, zstd) stores nothing" "$(printf '%s\n' "$out" | grep -c 'already imported')" 3
t_eq "row count unchanged by re-import" "$(t_psql -c "select count(*) from spoor.smtp_event")" "$mid"
out=$("$S" import --format radius-detail --zone Europe/London "$W/imp/radius.detail" 2>&1)
t_match "import of a FreeRADIUS detail file" "$out" 'records read, [0-9]+ stored'
# 12. A batch PostgreSQL refuses for its content is salvaged record by record:
# the refused record is quarantined with PostgreSQL's reason, the rest stored.
t_psql -c "alter table spoor.smtp_event add constraint test_refuse check (host <> 'refuseme') not valid"
cat >"$W/refuse.log" <<'LOG'
Nov 22 13:15:02 goodhost postfix/smtpd[1]: 4F3A2B1C0D: client=a.example[192.0.2.10]:51234
Nov 22 13:15:02 refuseme postfix/smtpd[1]: 4F3A2B1C0E: client=b.example[192.0.2.11]:51235
Nov 22 13:15:03 goodhost postfix/cleanup[2]: 4F3A2B1C0D: message-id=<salvage@example.org>
LOG
out=$("$S" import --format postfix --reference 2026-11-23T00:00:00Z "$W/refuse.log" 2>&1)
t_match "refused record quarantined as db_rejected, others stored" "$out" '3 records read, 2 stored, 1 quarantined'
t_eq "db_rejected quarantine row" "$(t_psql -c "select count(*) from spoor.quarantine where reason = 'db_rejected' and detail like '%test_refuse%'")" 1
t_psql -c "alter table spoor.smtp_event drop constraint test_refuse"

# 13. Shapes real relays and MTAs produce, stored as records (not evidence
# only): rsyslog's RFC 5424 output (two spaces before a relayed RFC 3164
# message, multi-instance APP-NAME cut at '/'), Exim's syslog split of a long
# line and a cutthrough delivery, Postfix's expiry.
cat >"$W/relay.log" <<'LOG'
<22>1 2026-11-22T13:15:02.123456+01:00 mx7 postfix 1234 - -  4F3A2B1C1A: client=a.example[192.0.2.70]:50001, sasl_method=PLAIN, sasl_username=relay5424
<22>1 2026-11-22T13:15:02.223456+01:00 mx7 postfix-out 1235 - -  4F3A2B1C1B: to=<x@example.net>, relay=mx.example.net[198.51.100.7]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)
<22>1 2026-11-22T13:15:03+01:00 mx7 exim 4242 - -  [1/2] 1smkL5-00000000e65-24eQ <= split@example.org H=(helo) [192.0.2.71]:50002 P=esmtpsa A=plain:splituser S=99 id=split-20@example.org T="cut in the midd
<22>1 2026-11-22T13:15:03+01:00 mx7 exim 4242 - -  [2/2] le" for y@example.net
<22>1 2026-11-22T13:15:04+01:00 mx7 exim 4242 - -  1smkL5-00000000e65-24eQ >> y@example.net R=dnslookup T=remote_smtp H=mx.example.net [198.51.100.7]
Nov 22 13:15:05 mx7 postfix/qmgr[99]: 4F3A2B1C1C: from=<old@example.org>, status=expired, returned to sender
LOG
out=$("$S" import --format postfix --reference 2026-11-23T00:00:00Z "$W/relay.log" 2>&1)
t_match "relay shapes: all stored, none quarantined" "$out" '6 records read, 6 stored, 0 quarantined'
t_eq "RFC 5424 two-space Postfix client line is a record" \
  "$(t_psql -c "select host(client_ip) || ' ' || sasl_username from spoor.smtp_event where host = 'mx7' and kind = 1")" "192.0.2.70 relay5424"
t_eq "postfix-out (APP-NAME cut at '/') delivery is a record" \
  "$(t_psql -c "select recipient || ' ' || status from spoor.smtp_event where host = 'mx7' and queue_id = '4F3A2B1C1B'")" "x@example.net sent"
t_eq "Exim split arrival: its first part is a record" \
  "$(t_psql -c "select host(client_ip) || ' ' || sasl_username || ' ' || message_id from spoor.smtp_event where host = 'mx7' and kind = 11")" \
  "192.0.2.71 splituser split-20@example.org"
t_eq "Exim cutthrough delivery is a record" \
  "$(t_psql -c "select recipient from spoor.smtp_event where host = 'mx7' and kind = 12")" "y@example.net"
t_eq "Postfix expiry is the queue's last status" \
  "$(t_psql -c "select sender || ' ' || status from spoor.smtp_event where host = 'mx7' and queue_id = '4F3A2B1C1C'")" "old@example.org expired"

out=$("$S" import --format nonsense x 2>&1); rc=$?
t_eq "unknown import format exits 2" "$rc" 2
out=$("$S" import --format postfix /nonexistent/file 2>&1); rc=$?
t_eq "missing file exits 1" "$rc" 1
# Anchored on the error's prefix: a summary line ("PATH: 0 records read")
# names the file too.
t_match "missing file is named" "$out" '^spoor import: /nonexistent/file: '
t_done
