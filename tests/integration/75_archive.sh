# Closed days on an archive PostgreSQL (issue 23, point 6): a second
# cluster on this machine, started by the project's own script, receives a
# compacted day's partitions; in their place the primary keeps postgres_fdw
# foreign tables in the same partition tree.  The same lookups then give the
# same answers, through the same gate, into the same audit trail; nobody
# reads the archived partitions around the gate; retention drops an
# archived day here and there with its proof of deletion.
set -u
. tests/lib.sh
S=$B/spoor
R=$B/spoor-retention
W=$SPOOR_VAR/work-archive
rm -rf "$W"; mkdir -p "$W"
AV=$SPOOR_VAR/archive-pg
AP=$((SPOOR_PG_PORT + 7))
SPOOR_VAR=$AV SPOOR_PG_PORT=$AP ops/stack up pg >"$W/archive-stack.log" 2>&1
trap 'SPOOR_VAR=$AV SPOOR_PG_PORT=$AP ops/stack wipe >/dev/null 2>&1' EXIT
AHOST=$(SPOOR_VAR=$AV SPOOR_PG_PORT=$AP ops/stack env | sed -n "s/^export PGHOST='\([^']*\)'.*/\1/p")
arch() { PGHOST=$AHOST PGPORT=$AP PGUSER=postgres psql -X -q -v ON_ERROR_STOP=1 -tA -d spoor_archive "$@"; }
PGHOST=$AHOST PGPORT=$AP PGUSER=postgres psql -X -q -d postgres -c "drop database if exists spoor_archive" -c "create database spoor_archive" 2>/dev/null
PGHOST=$AHOST PGPORT=$AP PGUSER=postgres PGDATABASE=spoor_archive "$S" db migrate >/dev/null
t_eq "a second PostgreSQL cluster runs as the archive, with Spoor's schema" "$(arch -c "select count(*) from spoor_meta.migration")" \
  "$(ls sql/[0-9]*.sql | wc -l)"
arch -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'archiver') THEN
         CREATE ROLE archiver LOGIN IN ROLE spoor_owner; END IF; END \$\$"

t_scratch_db spoor_arch
t_person alice analyst
t_person bob approver
t_person ret retention
# The DBA names the archive once (README "Archive").
t_psql -c "CREATE SERVER spoor_archive FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '$AHOST', port '$AP', dbname 'spoor_archive', batch_size '500', fetch_size '2000')" \
       -c "CREATE USER MAPPING FOR spoor_owner SERVER spoor_archive OPTIONS (user 'archiver', password_required 'false')" \
       -c "GRANT USAGE ON FOREIGN SERVER spoor_archive TO spoor_owner"

"$B/tests/spoor-gen" --out "$W/d" --subscribers 300 --hours 6 --seed 42 --start 2026-11-21T00:00:00Z \
  --mails-per-hour 300 --zone Europe/London >/dev/null 2>&1
"$S" import --format radius-detail --zone Europe/London "$W/d/radius.detail" >/dev/null
"$S" import --format postfix --zone Europe/London --reference 2026-11-21T12:00:00Z "$W/d/maillog" >/dev/null
PGUSER=ret "$R" compact >/dev/null

sed -n 's/^\tUser-Name = "\(.*\)"$/\1/p' "$W/d/radius.detail" | sort -u >"$W/users"
awk -F'\t' 'NR == FNR { seen[$1] = 1; next } FNR > 1 && $8 != "" && $5 != "" && $2 != "smtp3" && seen[$8]' \
  "$W/users" "$W/d/truth_mail.tsv" | awk 'NR % 9 == 1' | head -12 >"$W/pick.tsv"
args=()
while IFS=$'\t' read -r mid host qids time ip port sasl user calling; do
  args+=(--message-id "<$mid>" --ip "$ip")
done <"$W/pick.tsv"
req=$(as alice request create --case ARCH-1 --authority Court --basis Order --from 2026-11-20T00:00:00Z \
  --to 2026-11-23T00:00:00Z --max-lookups 200 "${args[@]}" | sed -n 's/^request \([0-9]*\).*/\1/p')
as bob request approve "$req" --note ok >/dev/null
answers() {
  while IFS=$'\t' read -r mid host qids time ip port sasl user calling; do
    as alice --json trace message-id "<$mid>" --request "$req" | jq -c '[.submissions[] | {mta_host, client_ip, client_port,
      v: .session_trace.verdict, u: .session_trace.sessions[0].user_name,
      ev: [.evidence[].line], sev: [.session_trace.sessions[0].evidence[]?.line]}]'
    as alice --json trace ip "$ip" --at "$time" --request "$req" | jq -c '[.verdict, .sessions[0].user_name, [.sessions[0].evidence[]?.line]]'
  done <"$W/pick.tsv"
}
answers >"$W/before.txt"
t_eq "lookups answer before the day moves (truth's subscribers found)" \
  "$(grep -c '"exact"' "$W/before.txt")" "$(( $(wc -l <"$W/pick.tsv") * 2 ))"

# A day under legal hold stays here: on the archive its evidence could be
# changed by the archive's own owner login, unseen by the primary.
hip=$(head -1 "$W/pick.tsv" | cut -f5)
ph=$(as alice request create --case ARCH-HOLD --kind preservation --authority Court --basis Order \
  --from 2026-11-21T01:00:00Z --to 2026-11-21T02:00:00Z --ip "$hip" | sed -n 's/^request \([0-9]*\).*/\1/p')
as bob request approve "$ph" --note ok >/dev/null
printf 'retention.archive_after_days = 1\n' >"$W/ret.conf"
PGUSER=ret "$R" archive --config "$W/ret.conf" >"$W/held.out" 2>&1
t_eq "a day under legal hold is not archived" \
  "$(t_psql -c "select count(*) from pg_class where relnamespace = 'spoor'::regnamespace and relkind = 'f'")" 0
t_match "… not even when asked for by name" "$(PGUSER=ret t_psql -c "select spoor.archive_day('2026-11-21')" 2>&1)" 'under legal hold'
hh=$(t_psql -c "select hold_id from spoor.hold where request_id = $ph")
as alice hold release "$hh" --note "preservation no longer needed" >/dev/null
as bob hold release "$hh" --note "agreed" >/dev/null
t_eq "… until two people release the hold" "$(t_psql -c "select state from spoor.hold where hold_id = $hh")" released

size() { t_psql -c "select sum(pg_total_relation_size(c.oid)) from pg_class c where c.relnamespace = 'spoor'::regnamespace and c.relkind = 'r' and c.relname ~ '_20261121$' and c.relname !~ '^lease_seg'"; }
local_before=$(size)
printf 'retention.archive_after_days = 1\n' >"$W/ret.conf"
out=$(PGUSER=ret "$R" archive --config "$W/ret.conf" 2>&1); rc=$?
t_eq "spoor-retention archive moves the compacted day" "$rc" 0
t_match "…partition by partition, each with its digest" "$out" 'archive radius_pack_20261121 +[0-9]+ rows, sha256 [0-9a-f]{64}'
t_eq "the day's partitions here are now foreign tables (evidence, packs, the emptied event tables)" \
  "$(t_psql -c "select string_agg(relname, ' ' order by relname) from pg_class where relnamespace = 'spoor'::regnamespace and relkind = 'f' and relname ~ '_20261121$'")" \
  "evidence_block_20261121 evidence_peer_20261121 nat_event_20261121 quarantine_20261121 radius_event_20261121 radius_pack_20261121 smtp_event_20261121 smtp_pack_20261121"
t_eq "…still in the partition tree (lookups find them by the same pruning)" \
  "$(t_psql -c "select count(*) from pg_inherits i join pg_class c on c.oid = i.inhrelid where c.relkind = 'f' and c.relname ~ '_20261121$'")" 8
t_eq "the archive holds the rows the primary held (radius packs)" \
  "$(arch -c "select sum(n) from spoor.radius_pack_20261121")" "$(t_psql -c "set role spoor_owner" -c "select sum(n) from spoor.radius_pack_20261121")"
t_eq "the primary keeps no local copy of the day (its lease index, the locator, stays)" "$(size)" ""
t_match "…it had $local_before bytes of it" "$local_before" '^[0-9]+$'
t_eq "every moved partition recorded with its digest, and audited" \
  "$(t_psql -c "select count(*) from spoor.archived") $(t_psql -c "select count(*) from spoor.audit where action = 'retention.archive'")" "8 8"

answers >"$W/after.txt"
t_eq "the same lookups give the same answers from the archive (sessions, submissions, evidence lines)" \
  "$(cat "$W/after.txt")" "$(cat "$W/before.txt")"
t_eq "…each one gated and audited here" \
  "$(t_psql -c "select count(*) from spoor.audit where action in ('trace.ip', 'trace.message_id') and outcome = 'ok'")" \
  "$(( $(wc -l <"$W/pick.tsv") * 4 ))"
out=$(as alice trace ip 192.0.2.99 --at 2026-11-21T03:00:00Z --request "$req" 2>&1); rc=$?
t_eq "an address the order does not name is still refused" "$rc" 1
out=$(PGUSER=alice psql -X -tA -c "select count(*) from spoor.radius_pack_20261121" 2>&1)
t_match "an analyst cannot read an archived partition around the gate" "$out" 'permission denied'
out=$(PGUSER=alice psql -X -tA -c "select * from spoor_archive_stage.archive_request" 2>&1)
t_match "…nor reach the archive through its staging tables" "$out" 'permission denied'
out=$(PGUSER=ret "$R" archive --config "$W/ret.conf" 2>&1)
t_match "a second run finds nothing left to move" "$out" '0 days archived'
t_eq "compaction leaves archived days alone" "$(PGUSER=ret "$R" compact --dry-run | grep -c 20261121)" 0

# Retention: an archived day past its time goes here and there, with the
# same proof of deletion as a local one.
t_psql -c "update spoor.retention_clock set allow_future = true"
PGUSER=ret "$R" run --now 2028-01-01T00:00:00Z >/dev/null
t_eq "retention drops the archived radius packs, recording the digest the archive move recorded" \
  "$(t_psql -c "select d.rows = a.rows and d.digest = a.digest from spoor.retention_dropped d join spoor.archived a using (tbl, day) where d.tbl = 'radius_pack'")" t
t_eq "…the foreign tables are gone here" "$(t_psql -c "select count(*) from pg_class where relkind = 'f' and relname ~ '_20261121$'")" 0
t_eq "…and the partitions are gone from the archive" \
  "$(arch -c "select count(*) from pg_class where relnamespace = 'spoor'::regnamespace and relname ~ '_20261121$'")" 0
t_done
