# Retention with a simulated clock: a year of daily partitions; a run drops
# exactly the expired ones (whole partitions), keeps what a legal hold
# preserves (still traceable), writes a proof of deletion per partition into
# the audit trail (which still verifies); dry runs tell the truth; runs are
# idempotent, exclusive and finish what a killed run began; late records for
# an expired day are quarantined; only admins change policies.
set -u
. tests/lib.sh
S=$B/spoor
R=$B/spoor-retention
W=$SPOOR_VAR/work-retention
rm -rf "$W"; mkdir -p "$W"
t_scratch_db spoor_retention
t_person alice analyst
t_person bob approver
t_person adm admin
t_person adm2 admin
t_person ret retention
t_person aud auditor
t_person ing ingest

t_eq "spoor-retention links neither librdkafka nor libuv" "$(ldd "$R" | grep -cE 'rdkafka|libuv')" 0

# ---- policies ------------------------------------------------------------------
out=$(as alice retention policy set smtp '30 days' 2>&1); rc=$?
t_match "an analyst cannot change a policy" "$out" 'permission denied'
out=$(PGUSER=ret psql -X -tAc "update spoor.retention_policy set keep = '1 day'" 2>&1)
t_match "nor can the retention role, from psql" "$out" 'permission denied'
out=$(as adm retention policy set smtp '6 months' --note 'ePrivacy national law'); rc=$?
t_eq "an admin asks to shorten a policy" "$rc" 0
t_match "…which takes a second admin" "$out" '^change [0-9]+ recorded: .*second admin'
t_eq "…and is not in force yet" "$(t_psql -c "select keep from spoor.retention_policy where class = 'smtp'")" '183 days'
chg=$(printf '%s' "$out" | sed -n 's/^change \([0-9]*\).*/\1/p')
out=$(as adm2 admin confirm "$chg"); rc=$?
t_eq "a second admin confirms the change" "$rc" 0
t_eq "…audited with old and new" "$(t_psql -c "select params->>'old' || ' -> ' || (params->>'new') from spoor.audit where action = 'retention.policy'")" '183 days -> 6 mons'
t_match "spoor retention policy shows every class" "$(as aud retention policy)" 'radius +365 days'
as adm retention policy set smtp '183 days' >/dev/null

# ---- a year of daily partitions, and some data -----------------------------------
today=$(date -u +%F)
# Long policies while the year is laid down (partitions are never created
# past a policy), then the real ones.
for c in radius smtp evidence quarantine; do as adm retention policy set $c '400 days' >/dev/null; done
for m in $(seq 0 30 360); do
  t_psql -c "select spoor.ensure_partitions(current_date - $((m + 29)), current_date - $m)" >/dev/null
done
out=$(PGUSER=ret "$R" maintain); rc=$?
t_eq "maintain creates the partitions ahead" "$rc" 0
n_parts=$(t_psql -c "select count(*) from spoor.retention_plan(now(), true)")
t_eq "a year and a week of daily partitions for seven tables (evidence_peer, 017; nat_event, 018, kept 365 days)" "$n_parts" $(( 6 * (389 + 8) + 365 + 8 ))
t_eq "maintain again creates nothing" "$(PGUSER=ret "$R" maintain)" "partitions from $today to $(date -u -d '+7 days' +%F): 0 created"

for c in radius:365 smtp:183 evidence:365 quarantine:90; do as postgres retention policy set ${c%%:*} "${c#*:} days" >/dev/null; done

# Data on a day a hold will cover, and on one it will not.
"$B/tests/spoor-gen" --out "$W/d2" --subscribers 30 --hours 2 --seed 12 --start 2026-11-23T08:00:00Z \
  --mails-per-hour 60 >/dev/null 2>&1
"$S" import --format radius-detail "$W/d2/radius.detail" >/dev/null
"$S" import --format postfix --reference 2026-11-23T12:00:00Z "$W/d2/maillog" >/dev/null
rows23=$(t_psql -c "select count(*) from spoor.smtp_event where ts >= '2026-11-23' and ts < '2026-11-24'")
t_match "events stored on 2026-11-23, a day no hold will cover" "$rows23" '^[1-9][0-9]*$'
"$B/tests/spoor-gen" --out "$W/d" --subscribers 40 --hours 2 --seed 11 --start 2026-11-21T08:00:00Z \
  --mails-per-hour 60 >/dev/null 2>&1
"$S" import --format radius-detail "$W/d/radius.detail" >/dev/null
"$S" import --format postfix --reference 2026-11-21T12:00:00Z "$W/d/maillog" >/dev/null
mapfile -t mails < <(sed -n 's/\r//; 2,$p' "$W/d/truth_mail.tsv" | awk -F'\t' '$8 != "" && $2 != "smtp3"' | head -2)
IFS=$'\t' read -r mid host qids time ip port sasl user calling <<<"${mails[0]}"
IFS=$'\t' read -r mid2 _ _ time2 ip2 _ _ _ _ <<<"${mails[1]}"

# ---- late records for an expired day ----------------------------------------------
as postgres retention policy set smtp '2 days' >/dev/null
before=$(t_psql -c "select count(*) from spoor.smtp_event")
head -n 40 "$W/d/maillog" >"$W/late.log"
"$S" import --format postfix --reference 2026-11-21T12:00:00Z "$W/late.log" >"$W/late.txt" 2>&1 || cat "$W/late.txt"
as adm retention policy set smtp '183 days' >/dev/null
t_match "late lines for a day past retention are quarantined" \
  "$(t_psql -c "select reason || ': ' || detail from spoor.quarantine where reason = 'past_retention' limit 1")" \
  'past_retention: day 2026-11-21 is before the smtp retention horizon'
t_eq "…all 40 of them, none stored" "$(t_psql -c "select count(*) from spoor.quarantine where reason = 'past_retention'")/$(t_psql -c "select count(*) from spoor.smtp_event")" "40/$before"
# One batch with late lines and today's: the late ones move to quarantine at
# the commit (the horizon is learnt there) without being parsed again; today's
# stay stored, their evidence intact, and no block is written for the late day.
as postgres retention policy set smtp '2 days' >/dev/null
blocks21=$(t_psql -c "select count(*) from spoor.evidence_block where day = '2026-11-21'")
now_iso=$(date -u +%FT%T.000000+00:00)
{ sed -n 41,60p "$W/d/maillog"
  printf '%s mx9 postfix/smtpd[4242]: 7A1B2C3D4E: client=mail.example.net[192.0.2.77]\n' "$now_iso"
  printf '%s mx9 dovecot[77]: imap-login: Login: user=<carol>\n' "$now_iso"
  printf '%s mx9 postfix/smtpd[4242]: 7A1B2C3D4F: client=mail.example.net[192.0.2.78]\n' "$now_iso"
} >"$W/mixed.log"
out=$("$S" import --format postfix --reference 2026-11-21T12:00:00Z "$W/mixed.log" 2>&1); rc=$?
t_eq "a batch of late and current lines is imported" "$rc" 0
t_match "…23 consumed, 3 stored, 20 quarantined" "$out" "23 records read, 3 stored, 20 quarantined"
t_eq "…the 20 late ones as past_retention" "$(t_psql -c "select count(*) from spoor.quarantine where reason = 'past_retention'")" 60
t_eq "…today's two submissions stored" "$(t_psql -c "select count(*) from spoor.smtp_event where host = 'mx9' and client_ip in ('192.0.2.77', '192.0.2.78')")" 2
t_eq "…no evidence block written for the late day" "$(t_psql -c "select count(*) from spoor.evidence_block where day = '2026-11-21'")" "$blocks21"
src="file:$(sha256sum "$W/mixed.log" | cut -d' ' -f1)"
t_eq "…each moved line kept verbatim in quarantine's evidence, at its position" \
  "$(t_psql -c "select string_agg(q.pos || ' ' || convert_from(spoor.evidence_line_raw(b.data, d.dict, b.sha256, q.block_idx), 'UTF8'), E'\n' order by q.pos)
                from spoor.quarantine q join spoor.evidence_block b using (block_id)
                left join spoor.evidence_dict d using (dict_id)
                where q.source = '$src'")" \
  "$(sed -n 41,60p "$W/d/maillog" | awk '{ print NR - 1 " " $0 }')"
today_lines=$(t_psql -c "select count(*) from spoor.smtp_event e join spoor.evidence_block b using (block_id) left join spoor.evidence_dict d using (dict_id) where e.host = 'mx9' and convert_from(spoor.evidence_line_raw(b.data, d.dict, b.sha256, e.block_idx), 'UTF8') like '%mx9 postfix/smtpd[4242]%'")
t_eq "…and today's rows point at their own lines" "$today_lines" 2
as adm retention policy set smtp '183 days' >/dev/null
# A preservation order on the first sender's address: a legal hold.
p=$(as alice request create --case PRES-1 --kind preservation --authority Police --basis '2703(f)' \
  --from 2026-11-21T08:00:00Z --to 2026-11-21T10:00:00Z --ip "$ip" --message-id "$mid" | sed -n 's/^request \([0-9]*\).*/\1/p')
as bob request approve "$p" >/dev/null
held=$(t_psql -c "select string_agg(distinct day::text, ' ' order by day::text) from spoor.held_days()")
t_match "the hold keeps the day of its window" "$held" '2026-11-21'

# ---- dry run == run --------------------------------------------------------------
now=$(date -u -d '+200 days' +%FT12:00:00Z)
out=$(PGUSER=ret "$R" run --now "$now" 2>&1); rc=$?
t_eq "a future --now is refused on a database that did not opt in" "$rc" 1
t_match "…saying why" "$out" 'simulated clock is for test databases only'
t_eq "…and nothing was dropped" "$(t_psql -c "select count(*) from spoor.retention_dropped")" 0
t_psql -c "update spoor.retention_clock set allow_future = true"
PGUSER=ret "$R" run --dry-run --now "$now" >"$W/dry.txt"; rc=$?
t_eq "dry run exits 0" "$rc" 0
t_eq "a dry run drops nothing" "$(t_psql -c "select count(*) from spoor.retention_plan(now(), true)")" "$n_parts"
t_eq "…and writes no proof" "$(t_psql -c "select count(*) from spoor.retention_dropped")" 0

# Kill a run mid-way, then let the next one finish.
PGUSER=ret "$R" run --now "$now" >"$W/run1.txt" 2>&1 & rp=$!
for _ in $(seq 1 400); do
  [ "$(t_psql -c "select count(*) from spoor.retention_dropped")" -ge 20 ] && break; sleep 0.05
done
kill -9 $rp 2>/dev/null; wait $rp 2>/dev/null
mid_count=$(t_psql -c "select count(*) from spoor.retention_dropped")
n_plan=$(grep -c '^would drop ' "$W/dry.txt")
t_eq "a run was killed part-way ($mid_count of $n_plan dropped)" \
  "$([ "$mid_count" -gt 0 ] && [ "$mid_count" -lt "$n_plan" ] && echo part)" part
# The killed client's backend lets go of the run lock only once it notices
# the client is gone; a run started before that rightly does nothing.
for _ in $(seq 1 200); do
  [ "$(t_psql -c "select count(*) from pg_locks where locktype = 'advisory' and objid = 7340204")" = 0 ] && break
  sleep 0.05
done
PGUSER=ret "$R" run --now "$now" >"$W/run2.txt"; rc=$?
t_eq "the next run finishes the job" "$rc" 0
sed -n 's/^would drop //p' "$W/dry.txt" | sort >"$W/want"
t_psql -c "select tbl || '_' || to_char(day, 'YYYYMMDD') from spoor.retention_dropped" | sort >"$W/got"
t_eq "exactly what the dry run listed was dropped (killed run + finishing run)" "$(diff "$W/want" "$W/got" && echo same)" same

# Exactly the expired ones: recompute independently of the database's plan.
for class_tbl in smtp:smtp_event radius:radius_event radius:lease_seg evidence:evidence_block quarantine:quarantine; do
  class=${class_tbl%%:*}; tbl=${class_tbl#*:}
  case $class in smtp) keep=183;; radius|evidence) keep=365;; quarantine) keep=90;; esac
  horizon=$(date -u -d "${now%T*} 12:00:00 UTC - $keep days" +%F)
  want_drop=0; want_keep=0
  for i in $(seq -389 7); do
    d=$(date -u -d "$today + $i days" +%F)
    if [[ "$d" < "$horizon" ]] && [[ " $held " != *" $d "* ]]; then want_drop=$((want_drop + 1)); else want_keep=$((want_keep + 1)); fi
  done
  t_eq "$tbl: the expired, unheld days are gone" \
    "$(t_psql -c "select count(*) from spoor.retention_dropped where tbl = '$tbl'")" "$want_drop"
  t_eq "$tbl: every other day is still there" \
    "$(t_psql -c "select count(*) from spoor.retention_plan(now(), true) where tbl = '$tbl'")" "$want_keep"
done
t_eq "held days' partitions survive" \
  "$(t_psql -c "select count(*) from spoor.retention_plan(now(), true) where tbl = 'smtp_event' and day = '2026-11-21'")" 1
t_eq "no partition was dropped row by row: nothing left in a dropped day" \
  "$(t_psql -c "select count(*) from spoor.retention_dropped d where to_regclass('spoor.' || d.tbl || '_' || to_char(d.day, 'YYYYMMDD')) is not null")" 0

# ---- held records stay traceable -----------------------------------------------
r=$(as alice request create --case HELD-1 --authority Court --basis Law --from 2026-11-21T08:00:00Z \
  --to 2026-11-21T10:00:00Z --message-id "$mid" --message-id "$mid2" | sed -n 's/^request \([0-9]*\).*/\1/p')
as bob request approve "$r" >/dev/null
out=$(as alice --json trace message-id "$mid" --request "$r")
t_eq "a held message is still traceable to its subscriber" \
  "$(printf '%s' "$out" | jq -r '.submissions[0].session_trace.sessions[0].calling_station_id')" "$calling"

# ---- proof of deletion -----------------------------------------------------------
t_eq "one audit entry per dropped partition" \
  "$(t_psql -c "select count(*) from spoor.audit where action = 'retention.drop'")" "$(t_psql -c "select count(*) from spoor.retention_dropped")"
t_eq "…each with rows and a SHA-256 digest" \
  "$(t_psql -c "select bool_and(result_digest ~ '^[0-9a-f]{64}\$' and params ? 'rows' and params ? 'partition') from spoor.audit where action = 'retention.drop'")" t
t_eq "rows counted in the proof match the rows that were there" \
  "$(t_psql -c "select rows from spoor.retention_dropped where tbl = 'smtp_event' and day = '2026-11-23'")" "$rows23"
t_eq "an unheld day's records are gone" "$(t_psql -c "select count(*) from spoor.smtp_event where ts >= '2026-11-23' and ts < '2026-11-24'")" 0
t_match "the run is audited with its summary" "$(t_psql -c "select params::text from spoor.audit where action = 'retention.run' order by seq desc limit 1")" '"dropped"'
out=$(as aud audit verify); rc=$?
t_eq "spoor audit verify passes after retention" "$rc" 0

# ---- idempotent, exclusive, no resurrection ------------------------------------------
out=$(PGUSER=ret "$R" run --now "$now"); rc=$?
t_match "a second run drops nothing" "$out" '^0 partitions dropped'
(t_psql -c "select pg_advisory_lock(7340204), pg_sleep(3)" >/dev/null) & lp=$!
sleep 0.5
out=$(PGUSER=ret "$R" run --now "$now"); rc=$?
t_eq "a run while another holds the lock exits 0" "$rc" 0
t_match "…having done nothing" "$out" 'another retention run holds the lock'
wait $lp
gone=$(t_psql -c "select day from spoor.retention_dropped where tbl = 'smtp_event' order by day limit 1")
t_psql -c "select spoor.ensure_partitions('$gone', '$gone')" >/dev/null
t_eq "a dropped day is never created again" "$(t_psql -c "select to_regclass('spoor.smtp_event_$(date -d "$gone" +%Y%m%d)') is null")" t
out=$(PGUSER=ret psql -X -tAc "drop table spoor.radius_event_$(date -u -d "$today" +%Y%m%d)" 2>&1)
t_match "the retention role cannot drop a partition by hand" "$out" 'must be owner'
out=$(PGUSER=alice psql -X -tAc "select spoor.retention_drop('smtp_event', current_date - 300, now())" 2>&1)
t_match "an analyst cannot call retention_drop" "$out" 'permission denied'

out=$(PGUSER=ing psql -X -tAc "create temp table lease_in (x int)" 2>&1)
t_match "the ingest role cannot make temporary tables (no shadowing lease_merge's)" "$out" 'permission denied'

t_eq "consumed = stored + quarantined, per source" \
  "$(t_psql -c "select bool_and(consumed = stored + quarantined) from spoor.source_position")" t

# ---- the systemd pair ---------------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
  mkdir -p "$W/units"
  sed "s|/usr/local/bin/|$(cd "$B" && pwd)/|g" ops/systemd/spoor-retention.service >"$W/units/spoor-retention.service"
  cp ops/systemd/spoor-retention.timer "$W/units/"
  sed "s|/usr/local/bin/|$(cd "$B" && pwd)/|g" ops/systemd/spoor-compact.service >"$W/units/spoor-compact.service"
  cp ops/systemd/spoor-compact.timer "$W/units/"
  out=$(cd "$W/units" && systemd-analyze verify spoor-retention.service spoor-retention.timer \
          spoor-compact.service spoor-compact.timer 2>&1 | grep -v 'User=spoor-retention\|Group=' || true)
  t_eq "systemd-analyze accepts the services and timers" "$out" ""
fi
for unit in spoor-retention spoor-compact; do
  u=$(cat ops/systemd/$unit.service)
  for k in 'User=spoor-retention' 'ProtectSystem=strict' 'NoNewPrivileges=yes' 'CapabilityBoundingSet=$'; do
    t_match "$unit is hardened: $k" "$u" "^$k"
  done
done
t_match "the retention timer runs daily" "$(cat ops/systemd/spoor-retention.timer)" '^OnCalendar=\*-\*-\* 03:15:00'
t_match "the compaction timer runs hourly" "$(cat ops/systemd/spoor-compact.timer)" '^OnCalendar=hourly'
t_match "… spoor-retention compact" "$(cat ops/systemd/spoor-compact.service)" '^ExecStart=/usr/local/bin/spoor-retention .* compact$'
t_done
