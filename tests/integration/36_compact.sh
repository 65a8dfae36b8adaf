# Compaction of closed days (sql/functions/compaction.sql): a day's SMTP and RADIUS
# events go into zstd event packs and its evidence is compressed again; every
# lookup answers byte for byte as before, nothing is lost or duplicated
# (counts and evidence digests compared), late records still land and are
# packed by the next round, an altered pack is refused, retention drops packs
# with the same proof of deletion, and only the retention role may compact.
set -u
. tests/lib.sh
S=$B/spoor
R=$B/spoor-retention
W=$SPOOR_VAR/work-compact
rm -rf "$W"; mkdir -p "$W"
t_scratch_db spoor_compact
t_person alice analyst
t_person bob approver
t_person ret retention
t_person ing ingest
t_person aud auditor

# Two days of logs (30 hours from 2026-11-20 00:00 UTC), past the closing age.
"$B/tests/spoor-gen" --out "$W/d" --subscribers 200 --hours 30 --seed 36 --start 2026-11-20T00:00:00Z \
  --mails-per-hour 250 --zone Europe/London >/dev/null 2>&1
"$S" import --format radius-detail --zone Europe/London "$W/d/radius.detail" >/dev/null
"$S" import --format postfix --zone Europe/London --reference 2026-11-21T12:00:00Z "$W/d/maillog" >/dev/null
"$S" import --format exim --host smtp3 --zone Europe/London "$W/d/mainlog" >/dev/null

# What the day partitions hold, by the digest retention's proof of deletion uses.
digest_sql() { # TABLE DAY: count and digest of the events of DAY, rows and packs together
  local tmpl=$1 pk=${1%_event}_pack
  echo "select count(*) || ' ' || encode(sha256(coalesce(string_agg(h, ''::bytea order by h), ''::bytea)), 'hex')
        from (select int8send(block_id) || int4send(block_idx) as h from spoor.$1
              where ts >= '$2'::date::timestamp at time zone 'UTC' and ts < ('$2'::date + 1)::timestamp at time zone 'UTC'
              union all
              select int8send(e.block_id) || int4send(e.block_idx) from spoor.$pk p
              cross join lateral spoor.pack_find(p.data, p.sha256, null, null::spoor.$tmpl) e
              where p.sort = 1 and p.day = '$2') x"
}
for t in smtp_event radius_event; do
  for d in 2026-11-20 2026-11-21; do
    t_psql -c "$(digest_sql $t $d)" >"$W/pre.$t.$d"
  done
done
t_psql -c "select block_id, encode(sha256, 'hex') from spoor.evidence_block order by 1" >"$W/pre.blocks"
pre_evidence=$(t_psql -c "select sum(length(data)) from spoor.evidence_block")
# What is compared after compaction must be there before it: empty (or a
# failed query) on both sides would compare equal.
bad=0
for t in smtp_event radius_event; do
  for d in 2026-11-20 2026-11-21; do
    grep -Eqx '[1-9][0-9]* [0-9a-f]{64}' "$W/pre.$t.$d" || { bad=$((bad + 1)); echo "     $t $d: $(cat "$W/pre.$t.$d")"; }
  done
done
[ -s "$W/pre.blocks" ] || bad=$((bad + 1))
t_eq "before compaction: events of both days and evidence blocks to compare" "$bad" 0

# Lookups from the ground truth: every 20th submission, by Message-ID and by
# address; and as the analyst would, under an approved request.
awk -F'\t' 'FNR > 1 && NR % 20 == 2' "$W/d/truth_mail.tsv" >"$W/pick.tsv"
cat >"$W/lookups.sql" <<SQL
create temp table t (mid text, host text, qids text, ts text, ip text, port text, sasl text, u text, calling text);
\\copy t from '$W/pick.tsv' with (format csv, delimiter E'\\t', quote E'\\b')
select mid, spoor.submissions_for(spoor.msgid_normalize('<' || mid || '>'),
                                  ts::timestamptz - interval '1 day', ts::timestamptz + interval '1 day', interval '60 s')
from t order by mid;
select ip, ts, spoor.lease_at(ip::inet, ts::timestamptz, interval '0') from t where ip <> '' order by ip, ts;
SQL
t_psql -f "$W/lookups.sql" >"$W/before.sql.txt"; before_rc=$?
n_picked=$(wc -l <"$W/pick.tsv")
awk -F'\t' '$5 != "" && $8 != ""' "$W/pick.tsv" | head -12 >"$W/req.tsv"
args=()
while IFS=$'\t' read -r mid host qids time ip port sasl user calling; do
  args+=(--message-id "<$mid>" --ip "$ip")
done <"$W/req.tsv"
user1=$(head -1 "$W/req.tsv" | cut -f8)
req=$(as alice request create --case "CO-2026-0036" --authority "Worcester Crown Court" \
  --basis "Production order" --from 2026-11-19T00:00:00Z --to 2026-11-22T12:00:00Z \
  --max-lookups 200 --user "$user1" "${args[@]}" | sed -n 's/^request \([0-9]*\).*/\1/p')
as bob request approve "$req" --note "order checked" >/dev/null
cli_lookups() {
  while IFS=$'\t' read -r mid host qids time ip port sasl user calling; do
    as alice --json trace message-id "<$mid>" --request "$req"
    as alice --json trace ip "$ip" --at "$time" --port "$port" --request "$req"
  done <"$W/req.tsv"
  as alice --json trace user "$user1" --request "$req"
}
cli_lookups >"$W/before.cli.txt" 2>&1
t_eq "the analyst's lookups answer before compaction" "$(grep -c '"status": "ok"' "$W/before.cli.txt")" 25

# ---- who may compact --------------------------------------------------------------
out=$(PGUSER=ing t_psql -c "select spoor.compact_day('smtp_event', '2026-11-20', now(), 2, 3)" 2>&1)
t_match "the ingest role cannot compact" "$out" 'permission denied'
out=$(PGUSER=alice t_psql -c "select count(*) from spoor.smtp_pack" 2>&1)
t_match "an analyst cannot read the packs" "$out" 'permission denied'
out=$(PGUSER=ret t_psql -c "select spoor.compact_day('smtp_event', (now() at time zone 'UTC')::date - 1, now(), 2, 3)")
t_match "a day not yet closed is not compacted" "$out" 'is not closed'
out=$(PGUSER=ret t_psql -c "select spoor.compact_day('lease', '2026-11-20', now(), 2, 3)")
t_match "only the event and evidence tables are compacted" "$out" 'denied'

# ---- compaction ---------------------------------------------------------------------
out=$(PGUSER=ret "$R" compact --dry-run)
t_match "a dry run lists the closed days" "$out" 'would compact smtp_event_20261120'
t_eq "…and changes nothing" "$(t_psql -c "select count(*) from spoor.compacted")" 0
out=$(PGUSER=ret "$R" compact); rc=$?
t_eq "spoor-retention compact succeeds" "$rc" 0
t_match "…and says what it did" "$out" '6 partitions compacted .* 0 failed'
t_eq "the row partitions of the compacted days are empty" \
  "$(t_psql -c "select (select count(*) from spoor.smtp_event) + (select count(*) from spoor.radius_event)")" 0
bad=0
for t in smtp_event radius_event; do
  for d in 2026-11-20 2026-11-21; do
    got=$(t_psql -c "$(digest_sql $t $d)")
    [ "$got" = "$(cat "$W/pre.$t.$d")" ] || { bad=$((bad + 1)); echo "     $t $d: got $got want $(cat "$W/pre.$t.$d")"; }
    want_d=$(cut -d' ' -f2 "$W/pre.$t.$d")
    [ "$(t_psql -c "select digest from spoor.compacted where tbl = '$t' and day = '$d'")" = "$want_d" ] || bad=$((bad + 1))
  done
done
t_eq "every event is in exactly one pack: counts and evidence digests as before, as recorded" "$bad" 0
t_eq "each compaction is audited" "$(t_psql -c "select count(*) from spoor.audit where action = 'retention.compact'")" 6
t_match "the audit trail still verifies" "$(as aud audit verify 2>&1)" 'audit trail intact'

t_eq "evidence blocks keep their SHA-256" "$(t_psql -c "select block_id, encode(sha256, 'hex') from spoor.evidence_block order by 1")" "$(cat "$W/pre.blocks")"
post_evidence=$(t_psql -c "select sum(length(data)) from spoor.evidence_block")
if [ "$post_evidence" -lt "$pre_evidence" ]; then t_ok "evidence compressed again is smaller ($pre_evidence -> $post_evidence bytes)"
else t_fail "evidence compressed again is smaller" "$pre_evidence -> $post_evidence"; fi

t_psql -f "$W/lookups.sql" >"$W/after.sql.txt"; after_rc=$?
# Both runs must succeed and answer every Message-ID and some addresses: a
# failed run on both sides would compare equal.
if [ "$before_rc/$after_rc" = 0/0 ] && [ "$(wc -l <"$W/before.sql.txt")" -gt "$n_picked" ] &&
   cmp -s "$W/before.sql.txt" "$W/after.sql.txt"; then
  t_ok "every Message-ID and address lookup ($n_picked picked) answers byte for byte as before"
else t_fail "every lookup answers byte for byte as before" "psql exit $before_rc/$after_rc, $(wc -l <"$W/before.sql.txt") answers before
$(diff "$W/before.sql.txt" "$W/after.sql.txt" | head -5)"; fi
cli_lookups >"$W/after.cli.txt" 2>&1
if cmp -s "$W/before.cli.txt" "$W/after.cli.txt"; then t_ok "the analyst's trace message-id, ip and user answers are unchanged"
else t_fail "the analyst's answers are unchanged" "$(diff "$W/before.cli.txt" "$W/after.cli.txt" | head -5)"; fi
t_match "…and still resolve to the ground truth" \
  "$(as alice --json trace user "$user1" --request "$req" | jq -r '[.sessions[].calling_station_id] | unique | join(",")')" \
  "$(head -1 "$W/req.tsv" | cut -f9)"

out=$(PGUSER=ret "$R" compact)
t_match "compacting again finds nothing to do" "$out" '^0 partitions compacted'

# ---- a late record for a compacted day ----------------------------------------------
printf '%s\n' \
  'Nov 20 10:00:00 smtp1 postfix/smtpd[4242]: FEED0000001: client=late.example[192.0.2.200]:40000, sasl_method=PLAIN, sasl_username=late@isp.example' \
  'Nov 20 10:00:01 smtp1 postfix/cleanup[4243]: FEED0000001: message-id=<late-record@isp.example>' >"$W/late.log"
"$S" import --format postfix --zone UTC --reference 2026-11-21T12:00:00Z "$W/late.log" >/dev/null
late_sql="select spoor.submissions_for('late-record@isp.example', '2026-11-19', '2026-11-22', interval '0')->0->>'sasl_username'"
t_eq "a late record for a compacted day is stored and found" "$(t_psql -c "$late_sql")" "late@isp.example"
PGUSER=ret "$R" compact >/dev/null
t_eq "…and packed by the next compaction, as its second round" \
  "$(t_psql -c "select rows || ' ' || round from spoor.compacted where tbl = 'smtp_event' and day = '2026-11-20' order by round desc limit 1")" "2 2"
t_eq "…and still found" "$(t_psql -c "$late_sql")" "late@isp.example"

# ---- an altered pack is refused ----------------------------------------------------
pid=$(t_psql -c "select pack_id from spoor.smtp_pack where sort = 2 and day = '2026-11-20' and
                 key_lo <= 'late-record@isp.example' and key_hi >= 'late-record@isp.example'
                 order by pack_id desc limit 1")
t_psql -c "update spoor.smtp_pack set sha256 = sha256('x') where pack_id = $pid"
out=$(t_psql -c "$late_sql" 2>&1)
t_match "a pack that does not match its SHA-256 is refused" "$out" 'altered'
t_psql -c "update spoor.smtp_pack set sha256 = sha256('\\x00'::bytea), data = spoor.pack_compress('\\x00'::bytea, 3) where pack_id = $pid"
out=$(t_psql -c "$late_sql" 2>&1)
t_match "…and so is one whose payload is not made of entries" "$out" 'truncated'

# ---- retention drops packs with the same proof ---------------------------------------
t_psql -c "update spoor.retention_clock set allow_future = true"
want=$(cut -d' ' -f2 "$W/pre.radius_event.2026-11-21")
PGUSER=ret "$R" run --now 2027-12-31T00:00:00Z >"$W/run.out" 2>&1
t_match "retention drops the pack partitions" "$(cat "$W/run.out")" 'drop  radius_pack_20261121'
t_eq "…with the digest the row partition had before compaction" \
  "$(t_psql -c "select digest from spoor.retention_dropped where tbl = 'radius_pack' and day = '2026-11-21'")" "$want"
t_eq "…and its event count" \
  "$(t_psql -c "select rows from spoor.retention_dropped where tbl = 'radius_pack' and day = '2026-11-21'")" \
  "$(cut -d' ' -f1 "$W/pre.radius_event.2026-11-21")"
t_psql -c "update spoor.retention_clock set allow_future = false"

t_done
