# The days still open packed as they go (sql/025_open_packs.sql,
# compaction.sql's compact_open): spoor-retention compact packs an open
# day's rows older than retention.pack_open_after_minutes (whole hours) as a
# round of packs, read back and compared before the rows go; a late record
# stays a row until the next round; the fourth round merges the three before
# it; the day's close merges every open round into one.  At every step the
# events of each day (rows and packs together) keep their count and evidence
# digest, and every lookup answers byte for byte as before.
set -u
. tests/lib.sh
S=$B/spoor
R=$B/spoor-retention
W=$SPOOR_VAR/work-open-packs
rm -rf "$W"; mkdir -p "$W"
t_scratch_db spoor_open_packs
t_person ret retention
t_person ana analyst
t_person aud auditor

"$B/tests/spoor-gen" --out "$W/d" --subscribers 120 --hours 30 --seed 361 --start 2026-11-20T00:00:00Z \
  --mails-per-hour 200 --zone UTC >/dev/null 2>&1
"$S" import --format radius-detail --zone UTC "$W/d/radius.detail" >/dev/null
"$S" import --format postfix --zone UTC --reference 2026-11-21T12:00:00Z "$W/d/maillog" >/dev/null

# Every event of a day, rows and packs (sort 1) together: count and digest.
days_sql="select t || ' ' || d || ' ' || count(*) || ' ' || encode(sha256(coalesce(string_agg(h, ''::bytea order by h), ''::bytea)), 'hex')
  from (select 'smtp' t, (ts at time zone 'UTC')::date d, int8send(block_id) || int4send(block_idx) h from spoor.smtp_event
        union all select 'smtp', p.day, int8send(e.block_id) || int4send(e.block_idx) from spoor.smtp_pack p
          cross join lateral spoor.pack_find(p.data, p.sha256, null, null::spoor.smtp_event) e where p.sort = 1
        union all select 'radius', (ts at time zone 'UTC')::date, int8send(block_id) || int4send(block_idx) from spoor.radius_event
        union all select 'radius', p.day, int8send(e.block_id) || int4send(e.block_idx) from spoor.radius_pack p
          cross join lateral spoor.pack_find(p.data, p.sha256, null, null::spoor.radius_event) e where p.sort = 1) x
  group by t, d order by t, d"
t_psql -c "$days_sql" >"$W/days.before"
t_eq "before: SMTP and RADIUS events on both days" "$(grep -cE ' [1-9][0-9]* [0-9a-f]{64}$' "$W/days.before")" 4

awk -F'\t' 'FNR > 1 && NR % 7 == 2' "$W/d/truth_mail.tsv" >"$W/pick.tsv"
cat >"$W/lookups.sql" <<SQL
create temp table t (mid text, host text, qids text, ts text, ip text, port text, sasl text, u text, calling text);
\\copy t from '$W/pick.tsv' with (format csv, delimiter E'\\t', quote E'\\b')
select mid, spoor.submissions_for(spoor.msgid_normalize('<' || mid || '>'),
                                  ts::timestamptz - interval '1 day', ts::timestamptz + interval '1 day', interval '60 s')
from t order by mid;
select ip, ts, spoor.lease_at(ip::inet, ts::timestamptz, interval '0') from t where ip <> '' order by ip, ts;
SQL
t_psql -f "$W/lookups.sql" >"$W/lookups.before"; rc=$?
t_eq "before: the lookups run" "$rc" 0
t_match "… and find submissions" "$(cat "$W/lookups.before")" '"sasl_username"'

same() { # NAME: the events of each day and every lookup as before
  t_eq "$1: every day's events, rows and packs, keep their count and digest" "$(t_psql -c "$days_sql")" "$(cat "$W/days.before")"
  t_psql -f "$W/lookups.sql" >"$W/lookups.now"
  if cmp -s "$W/lookups.before" "$W/lookups.now"; then t_ok "$1: every lookup answers byte for byte as before"
  else t_fail "$1: every lookup answers byte for byte as before" "$(diff "$W/lookups.before" "$W/lookups.now" | head -4)"; fi
}
rows_left() { t_psql -c "select count(*) || ' ' || coalesce(min(ts)::text, '-') from spoor.$1"; }

# ---- who may pack an open day --------------------------------------------------------
out=$(PGUSER=ana t_psql -c "select spoor.compact_open('smtp_event', '2026-11-21', '2026-11-21T03:30:00Z', 2, 60, 3)" 2>&1)
t_match "an analyst cannot pack a day" "$out" 'permission denied'
out=$(PGUSER=ret t_psql -c "select spoor.compact_open('smtp_event', '2026-11-20', now(), 2, 60, 3)")
t_match "a closed day is compact_day's, not compact_open's" "$out" 'is closed'
out=$(PGUSER=ret t_psql -c "select spoor.compact_open('lease', '2026-11-21', '2026-11-21T03:30:00Z', 2, 60, 3)")
t_match "only event tables are packed open" "$out" 'denied'

# ---- the first round: at 03:30 on the 21st (the logs end at 06:00), both days are open -------------------------
out=$(PGUSER=ret "$R" compact --dry-run --now 2026-11-21T03:30:00Z)
t_match "a dry run lists what it would pack, before the whole hour an hour ago" "$out" 'would pack smtp_event_20261121 before 2026-11-21T02:00:00Z'
t_eq "… and packs nothing" "$(t_psql -c "select count(*) from spoor.compacted")" 0
out=$(PGUSER=ret "$R" compact --now 2026-11-21T03:30:00Z); rc=$?
t_eq "spoor-retention compact packs the open days" "$rc" 0
t_match "… the 20th whole (it ended before 02:00 on the 21st)" "$out" 'pack +smtp_event_20261120 .* before 2026-11-21T00:00:00Z'
t_match "… and the 21st up to 02:00" "$out" 'pack +radius_event_20261121 .* before 2026-11-21T02:00:00Z'
t_match "… and closes no day" "$out" '^4 partitions compacted'
t_eq "the 20th has no rows left" "$(rows_left smtp_event_20261120)" "0 -"
t_match "the 21st keeps its rows from 02:00 on" "$(rows_left smtp_event_20261121)" '^[1-9][0-9]* 2026-11-21 02:'
t_eq "each round is recorded with its bound, and audited" \
  "$(t_psql -c "select count(*) filter (where upto is not null) || ' ' || (select count(*) from spoor.audit where action = 'retention.compact' and params ? 'upto') from spoor.compacted")" "4 4"
same "after the first round"

# A record arriving late for a packed hour is stored as a row, found, and
# taken by the next round.
printf '%s\n' \
  'Nov 21 01:00:00 smtp1 postfix/smtpd[4242]: FEED0000361: client=late.example[192.0.2.200]:40000, sasl_method=PLAIN, sasl_username=late@isp.example' \
  'Nov 21 01:00:01 smtp1 postfix/cleanup[4243]: FEED0000361: message-id=<late-open@isp.example>' >"$W/late.log"
"$S" import --format postfix --zone UTC --reference 2026-11-21T12:00:00Z "$W/late.log" >/dev/null
late_sql="select spoor.submissions_for('late-open@isp.example', '2026-11-20', '2026-11-22', interval '0')->0->>'sasl_username'"
t_eq "a late record for a packed hour is stored and found" "$(t_psql -c "$late_sql")" "late@isp.example"
t_psql -c "$days_sql" >"$W/days.before"   # the late lines are now part of the 21st

# ---- ingest stores into the day while a round packs it --------------------------------
# The round is held half way (its snapshot taken, its rows read, the pack
# partition locked by another session), and a late record for an hour it is
# packing arrives: it is stored at once, and stays a row for the next round.
PGAPPNAME=spoor-test-hold t_psql -c "begin" -c "lock table spoor.smtp_pack_20261121 in share mode" \
  -c "select pg_sleep(120)" -c "commit" >/dev/null 2>&1 & holder=$!
for _ in $(seq 1 300); do
  [ "$(t_psql -c "select count(*) from pg_stat_activity where application_name = 'spoor-test-hold' and wait_event = 'PgSleep'")" = 1 ] && break
  sleep 0.1
done
PGUSER=ret "$R" compact --now 2026-11-21T04:30:00Z >"$W/round2.out" 2>&1 & round=$!
for _ in $(seq 1 600); do
  [ "$(t_psql -c "select count(*) from pg_stat_activity where usename = 'ret' and wait_event_type = 'Lock'")" = 1 ] && break
  sleep 0.1
done
t_match "a round waits, half way, for the pack partition" \
  "$(t_psql -c "select query from pg_stat_activity where usename = 'ret' and wait_event_type = 'Lock'")" 'compact_open'
# Someone works meanwhile: an audit entry written while the round runs.
as ana request create --case OPEN-1 --authority Court --basis Law --from 2026-11-21T00:00:00Z \
  --to 2026-11-21T06:00:00Z --max-lookups 5 --ip 192.0.2.1 >/dev/null
printf '%s\n' \
  'Nov 21 01:30:00 smtp1 postfix/smtpd[4244]: FEED0000362: client=late2.example[192.0.2.201]:40001, sasl_method=PLAIN, sasl_username=late2@isp.example' \
  'Nov 21 01:30:01 smtp1 postfix/cleanup[4245]: FEED0000362: message-id=<late-during@isp.example>' >"$W/late2.log"
"$S" import --format postfix --zone UTC --reference 2026-11-21T12:00:00Z "$W/late2.log" >/dev/null
t_eq "a record for an hour being packed is stored while the round runs (the round still waiting when it was)" \
  "$(t_psql -c "select pg_cancel_backend(pid) from pg_stat_activity where application_name = 'spoor-test-hold'")" t
wait "$holder"
wait "$round"; rc=$?
t_eq "… the round then completes, an audit entry written meanwhile and all" "$rc" 0
t_match "… packing the hours before 03:00" "$(cat "$W/round2.out")" 'pack +smtp_event_20261121 .* before 2026-11-21T03:00:00Z'
t_eq "… and the record stored meanwhile is there once: rows for the next round, or in this round's packs" \
  "$(t_psql -c "select (select count(*) from spoor.smtp_event where queue_id = 'FEED0000362')
                       + (select count(*) from spoor.smtp_pack p
                          cross join lateral spoor.pack_find(p.data, p.sha256, 'smtp1 FEED0000362', null::spoor.smtp_event) e
                          where p.sort = 1 and p.day = '2026-11-21' and p.key_lo <= 'smtp1 FEED0000362' and p.key_hi >= 'smtp1 FEED0000362')")" 2
t_eq "… while the late record stored before the round went with it" \
  "$(t_psql -c "select count(*) from spoor.smtp_event where queue_id = 'FEED0000361'")" 0
t_psql -c "$days_sql" >"$W/days.before"
late2_sql="select spoor.submissions_for('late-during@isp.example', '2026-11-20', '2026-11-22', interval '0')->0->>'sasl_username'"
t_eq "… both are found" "$(t_psql -c "$late_sql") $(t_psql -c "$late2_sql")" "late@isp.example late2@isp.example"

# ---- two more rounds: the fourth merges the three open rounds of the 21st ---------------
for h in 05 06; do
  out=$(PGUSER=ret "$R" compact --now "2026-11-21T$h:30:00Z")
done
t_match "the fourth round of the 21st merges the packs of the three before it" "$out" 'pack +smtp_event_20261121 .* [1-9][0-9]* packs merged'
t_eq "… which are marked merged" \
  "$(t_psql -c "select count(*) filter (where merged) || ' ' || count(*) filter (where not merged) from spoor.compacted where tbl = 'smtp_event' and day = '2026-11-21'")" "3 1"
t_eq "… and the 21st's SMTP packs are that one round's" \
  "$(t_psql -c "select (select count(*) from spoor.smtp_pack where day = '2026-11-21') = packs from spoor.compacted where tbl = 'smtp_event' and day = '2026-11-21' and not merged")" t
t_match "the 21st keeps its rows from 05:00 on" "$(rows_left smtp_event_20261121)" '^[1-9][0-9]* 2026-11-21 05:'
t_eq "the late records went with the rounds" "$(t_psql -c "select count(*) from spoor.smtp_event where queue_id like 'FEED000036_'")" 0
t_eq "… and are still found" "$(t_psql -c "$late_sql") $(t_psql -c "$late2_sql")" "late@isp.example late2@isp.example"
same "after four rounds"

# ---- the close: one round per day ----------------------------------------------------
out=$(PGUSER=ret "$R" compact); rc=$?
t_eq "the closing compaction succeeds" "$rc" 0
t_eq "every open round is merged into the day's closing round" \
  "$(t_psql -c "select count(*) from spoor.compacted where upto is not null and not merged")" 0
t_eq "each day's packs are its closing round's" \
  "$(t_psql -c "select count(*) from spoor.compacted c where upto is null and tbl in ('smtp_event', 'radius_event')
                  and packs <> (select count(*) from (select day from spoor.smtp_pack where c.tbl = 'smtp_event' and day = c.day
                                union all select day from spoor.radius_pack where c.tbl = 'radius_event' and day = c.day) p)")" 0
t_eq "… and the closing round records the whole day's digest" \
  "$(t_psql -c "select string_agg(replace(tbl, '_event', '') || ' ' || day || ' ' || rows || ' ' || digest, E'\n' order by tbl desc, day)
                from spoor.compacted where upto is null and tbl in ('smtp_event', 'radius_event')" | sort)" \
  "$(sort "$W/days.before")"
same "after the close"
t_match "the audit trail still verifies" "$(as aud audit verify 2>&1)" 'audit trail intact'

t_done
