# The legal gate against the people it controls (issue 17): each check plays
# an insider's attack — by an analyst, an approver, an auditor, an admin, the
# ingest login — through psql, the CLI or HTTP, and expects it refused (and
# audited where the attacker is a person).  Written first against main,
# where each attack succeeded.
set -u
. tests/lib.sh
S=$B/spoor
W=$SPOOR_VAR/work-gate
rm -rf "$W"; mkdir -p "$W"
t_scratch_db spoor_gate
t_person gina analyst
t_person hank approver
t_person ivan analyst
"$B/tests/spoor-gen" --out "$W/d" --subscribers 150 --hours 4 --seed 7 --start 2026-11-21T00:00:00Z \
  --mails-per-hour 200 --zone Europe/London >/dev/null 2>&1
"$S" import --format radius-detail --zone Europe/London "$W/d/radius.detail" >/dev/null
"$S" import --format postfix --zone Europe/London --reference 2026-11-21T12:00:00Z "$W/d/maillog" >/dev/null
sed -n 's/^\tUser-Name = "\(.*\)"$/\1/p' "$W/d/radius.detail" | sort -u >"$W/users"
awk -F'\t' 'NR == FNR { seen[$1] = 1; next } FNR > 1 && $8 != "" && $5 != "" && $2 != "smtp3" && seen[$8]' \
  "$W/users" "$W/d/truth_mail.tsv" | head -2 >"$W/pick.tsv"
IFS=$'\t' read -r mid host qids time ip port sasl user calling < <(head -1 "$W/pick.tsv")
IFS=$'\t' read -r mid2 host2 qids2 time2 ip2 port2 sasl2 user2 calling2 < <(sed -n 2p "$W/pick.tsv")
out=$(as gina request create --case GATE-1 --authority Court --basis Law --from 2026-11-21T00:00:00Z \
  --to 2026-11-21T04:00:00Z --max-lookups 50 --ip "$ip" --message-id "<$mid>")
req=$(printf '%s' "$out" | sed -n 's/^request \([0-9]*\).*/\1/p')
as hank request approve "$req" >/dev/null
gpsql() { PGUSER=gina psql -X -q -tA -v ON_ERROR_STOP=0 "$@" 2>&1; }
budget() { t_psql -c "select lookups_done from spoor.request where request_id = $req"; }
entries() { t_psql -c "select count(*) from spoor.audit where request_id = $req and action like 'trace.%'"; }

# ---- 1. No lookup without a committed audit entry --------------------------------
b0=$(budget); a0=$(entries)
out=$(gpsql -c "begin" -c "select spoor.trace_ip($req, '$ip', '$time', null, null)" -c "rollback")
t_match "BEGIN … ROLLBACK: a lookup inside a transaction block is refused" "$out" 'run on their own, not inside a transaction block'
case "$out" in *"$user"*|*"$calling"*) t_fail "BEGIN … ROLLBACK: the answer stays in the database" "$out" ;;
  *) t_ok "BEGIN … ROLLBACK: the answer stays in the database" ;; esac
rec="select spoor.trace_ip($req, '$ip', '$time', null, null)->>'ticket' as t \\gset"
out=$(printf '%s\n' "begin;" "$rec" "select spoor.lookup_answer(:t);" "rollback;" | gpsql)
t_match "BEGIN; record; answer: no answer inside the transaction" "$out" 'run on their own|is not committed'
t_match "… and the refusal is a clear error, not an answer" "$out" '^ERROR: '
out=$(printf '%s\n' "begin;" "savepoint s;" "$rec" "release s;" "select spoor.lookup_answer(:t);" "rollback;" | gpsql)
t_match "SAVEPOINT: no answer inside the transaction" "$out" 'run on their own|is not committed'
out=$(printf '%s\n' "begin;" "$rec" "declare c cursor for select spoor.lookup_answer(:t);" "fetch all from c;" "rollback;" | gpsql)
t_match "a cursor gets no answer either" "$out" 'run on their own|is not committed'
# The answer step itself refuses an uncommitted record (the first step may
# come from a session that is not held to the block rule, as the DBA's is).
out=$(printf '%s\n' "begin;" "select spoor.lookup_answer((spoor.trace_ip($req, '$ip', '$time', null, null)->>'ticket')::bigint);" "rollback;" | t_psql 2>&1)
t_match "lookup_answer refuses a record its own transaction has not committed" "$out" 'is not committed'
out=$(gpsql -c "select spoor.trace_ip($req, '$ip', '$time', null, null); select 1")
t_match "several statements in one query string are one transaction block: refused" "$out" 'run on their own'
out=$(gpsql -c "set statement_timeout = 0" -c "select spoor.trace_ip($req, '$ip', '$time', null, null)")
t_match "an unbounded statement_timeout is refused (a call followed by a sleep would hold the audit)" "$out" 'statement_timeout between'
out=$(PGUSER=hank psql -X -q -tA -c "set statement_timeout = '10min'" -c "select spoor.request_decide($req, true, null)" 2>&1)
t_match "… for every audited call, not only lookups (an approver's decision)" "$out" 'statement_timeout between'
out=$(printf '%s\n' "begin;" "$rec" "prepare transaction 'x';" "select spoor.lookup_answer(:t);" | gpsql)
t_match "PREPARE TRANSACTION: the prepared record gives no answer" "$out" 'run on their own|no lookup|is not committed|prepared transactions are disabled'
out=$(printf '%s\n' "$rec" "begin;" "select spoor.lookup_answer(:t);" "rollback;" "select spoor.lookup_answer(:t);" | gpsql)
case "$out" in *"$user"*) t_ok "a committed record: its answer inside a later transaction, and again" ;;
  *) t_fail "a committed record: its answer inside a later transaction, and again" "$out" ;; esac
b0=$((b0 + 1)); a0=$((a0 + 1))
out=$(gpsql -c "select spoor.lookup_answer((spoor.trace_ip($req, '$ip', '$time', null, null)->>'ticket')::bigint), 1/0")
case "$out" in *"$user"*) t_fail "an error raised after the call: no answer" "$out" ;; *) t_ok "an error raised after the call: no answer" ;; esac
out=$(gpsql -c "set statement_timeout = 1" -c "select spoor.lookup_answer((spoor.trace_ip($req, '$ip', '$time', null, null)->>'ticket')::bigint), pg_sleep(1)")
case "$out" in *"$user"*) t_fail "statement_timeout: no answer" "$out" ;; *) t_ok "statement_timeout: no answer" ;; esac
t_eq "rolled-back attempts left neither budget nor answer behind" "$(budget) $(entries)" "$b0 $a0"
tk=$(gpsql -c "select spoor.trace_ip($req, '$ip', '$time', null, null)->>'ticket'")
t_eq "a lookup on its own is recorded: audit entry and budget" "$(budget) $(entries)" "$((b0 + 1)) $((a0 + 1))"
out=$(gpsql -c "select spoor.lookup_answer($tk)")
t_match "… and then answered, to the subscriber" "$out" "\"user_name\": \"$user\""
t_eq "… the audit entry's digest is the answer's" \
  "$(t_psql -c "select a.result_digest = encode(sha256(convert_to(r.result::text, 'UTF8')), 'hex') from spoor.lookup_ticket t join spoor.audit a on a.seq = t.audit_seq join spoor.request_result r on r.audit_seq = t.audit_seq where t.ticket_id = $tk")" t
out=$(PGUSER=ivan psql -X -q -tA -c "select spoor.lookup_answer($tk)" 2>&1)
t_match "another analyst cannot read someone else's answer" "$out" 'no lookup [0-9]+ of yours'
out=$(as gina --json trace ip "$ip" --at "$time" --request "$req")
t_eq "the CLI answers through the two steps" "$(printf '%s' "$out" | jq -r '.sessions[0].user_name')" "$user"

# ---- 2. No one can freeze the gate --------------------------------------------------
reg=$(t_psql -c "select string_agg(name || '=' || key, ' ' order by key) from spoor.lock_keys()")
hdr=$(sed -n 's/^#define LOCK_KEY_\([A-Z_]*\) "\([0-9]*\)".*/\1=\2/p' "$B/gen/lock_keys.h" | tr 'A-Z' 'a-z' | sort -t= -k2 | tr '\n' ' ' | sed 's/ $//')
t_eq "one registry of advisory lock keys: the C header generated from spoor.lock_keys() agrees with the database" "$hdr" "$reg"
t_eq "…and no C source defines a lock key of its own" "$(grep -rln 'define LOCK_KEY_' collect ingest query legal lib tests/unit tests/tools 2>/dev/null | tr '\n' ' ')" ""
keys=$(t_psql -c "select string_agg(key::text, '|') from spoor.lock_keys()")
stray=$(grep -rnoE 'advisory[a-z_]*\((lock|[0-9])[^)]*' sql/*.sql sql/functions/*.sql | grep -oE '[0-9]{6,}' | sort -u | grep -vxE "$keys" || true)
stray_c=$(grep -rnE '"7340[0-9]{3}"' --include=*.c --include=*.h collect ingest query legal lib || true)
t_eq "no advisory lock key outside the registry" "${stray}${stray_c}" ""
t_eq "ingest and the audit never share a lock: the audit chain takes a key no ingest function takes" \
  "$(t_psql -c "select count(*) from pg_proc p, spoor.lock_keys() k where k.name = 'audit' and p.proname in ('lease_merge_rows', 'ensure_partitions', 'partition_create') and (p.prosrc like '%' || k.key || '%' or p.prosrc like '%lock_key(''audit'')%')")" 0
# Whoever holds the audit chain's lock in an open transaction does not stall
# ingest (a person cannot hold it: see above; here the DBA does).
mkfifo "$W/hold"
( psql -X -q -tA -c "begin" -c "select pg_advisory_xact_lock(spoor.lock_key('audit'))" -f "$W/hold" >/dev/null 2>&1 ) &
holder=$!
exec 7>"$W/hold"
sleep 1
# Sessions of a later day: their batch moves the lease horizon, which takes
# the exclusive lock the audit chain's writer used to share.
"$B/tests/spoor-gen" --out "$W/late" --subscribers 20 --hours 1 --seed 9 --start 2027-01-02T00:00:00Z \
  --mails-per-hour 1 --zone Europe/London >/dev/null 2>&1
cp "$W/late/radius.detail" "$W/late.detail"
lease0=$(t_psql -c "select count(*) from spoor.lease")
if timeout 60 "$S" import --format radius-detail --zone Europe/London "$W/late.detail" >"$W/imp.log" 2>&1; then
  t_ok "ingest commits while the audit chain's lock is held in an open transaction"
else t_fail "ingest commits while the audit chain's lock is held in an open transaction" "$(cat "$W/imp.log")"; fi
t_eq "… and its batch merged leases (moving the lease horizon: the lock that used to be shared)" \
  "$(t_psql -c "select count(*) > $lease0 and (select day from spoor.lease_horizon) >= date '2027-01-01' from spoor.lease")" t
exec 7>&-; wait "$holder" 2>/dev/null
out=$(as gina user add 2>&1 >/dev/null; PGUSER=postgres "$S" user add kurt --role analyst >/dev/null 2>&1
      t_psql -c "select array_to_string(setconfig, ',') from pg_db_role_setting s join pg_roles r on r.oid = s.setrole where r.rolname = 'kurt'")
t_match "a person made by user add gets an idle-in-transaction timeout" "$out" 'idle_in_transaction_session_timeout=60s'
t_match "… and a statement timeout" "$out" 'statement_timeout=60s'

# ---- 3. Only what the order names -------------------------------------------------------
# A crafted Received: hop naming another message's queue ID on our MTA.
q2=${qids2%%,*}
d2=$(date -u -d "$time2" -R)
cat >"$W/crafted.eml" <<EML
Received: from pc.home (x [$ip])
	by $host2.isp.example (Postfix) with ESMTPSA id $q2; $d2
Message-ID: <$mid>
Subject: crafted

x
EML
out=$(as gina --json trace headers "$W/crafted.eml" --request "$req")
t_eq "trace headers: a hop naming another message's queue reads nothing of it" \
  "$(printf '%s' "$out" | jq -c '[.hops[0].state, .hops[0].evidence]')" '["not_in_our_logs",null]'
case "$out" in *"$sasl2"*|*"$mid2"*) t_fail "trace headers: the other message's lines stay hidden" "$out" ;;
  *) t_ok "trace headers: the other message's lines stay hidden" ;; esac
# The nearest sessions around a gap: times, no identity.
out=$(as gina --json trace ip "$ip" --at 2026-11-21T00:00:01Z --tolerance 0 --request "$req")
t_eq "nearest sessions reveal no identity" \
  "$(printf '%s' "$out" | jq -c '[.nearest_before, .nearest_after] | map(select(. != null) | keys) | flatten | unique - ["start", "stop"]')" '[]'
# The reach is the window plus the tolerance, once.
out=$(as gina --json trace ip "$ip" --at 2026-11-21T04:00:30Z --tolerance 60 --request "$req" 2>&1)
t_match "an instant outside the window is refused, even within the tolerance" "$out" 'outside the request window'

# ---- 4. Need to know ------------------------------------------------------------------
t_person dora auditor
t_person hugo approver
out=$(as ivan request show "$req" --json 2>&1)
case "$out" in *"$ip"*|*GATE-1*|*"$mid"*) t_fail "an analyst not on the case sees that it exists, not what it holds" "$out" ;;
  *) t_match "an analyst not on the case sees that it exists, not what it holds" "$out" '"on_case": ?false' ;; esac
out=$(as ivan --json request list)
t_eq "request list: a case one is not on shows no case reference or scope" \
  "$(printf '%s' "$out" | jq -c --argjson r "$req" '[.[] | select(.request_id == $r) | has("case_ref"), has("scope")]')" '[false,false]'
out=$(as ivan trace ip "$ip" --at "$time" --request "$req" 2>&1); rc=$?
t_eq "an analyst not on the case cannot look up under it (exit 1)" "$rc" 1
t_match "… told why" "$out" 'not on this case'
t_eq "… and the attempt is audited under their name" \
  "$(t_psql -c "select count(*) from spoor.audit where actor = 'ivan' and action = 'trace.ip' and outcome = 'denied'")" 1
out=$(printf '%s\n' "select spoor.request_export($req)->>'ticket' as t \\gset" "select spoor.lookup_answer(:t);" |
      PGUSER=ivan psql -X -q -tA 2>&1)
t_match "an analyst not on the case cannot export it" "$out" 'not on this case'
out=$(as hugo request show "$req" --json 2>&1)
t_match "an approver who did not decide an approved case does not see it" "$out" '"on_case": ?false'
out=$(as hank request assign "$req" ivan)
t_match "the approver who approved assigns an analyst" "$out" 'ivan is now on request'
out=$(as gina request assign "$req" ivan 2>&1)
t_match "an analyst cannot assign anyone" "$out" 'permission denied|refused'
out=$(as ivan --json trace ip "$ip" --at "$time" --request "$req")
t_eq "… after which the assigned analyst may look up" "$(printf '%s' "$out" | jq -r '.sessions[0].user_name')" "$user"
out=$(as dora trace ip "$ip" --at "$time" --request "$req" 2>&1)
t_match "an auditor cannot run lookups" "$out" 'permission denied'
out=$(PGUSER=dora psql -X -q -tA -c "select count(*) from spoor.request_result" 2>&1)
t_match "an auditor cannot read kept results from psql" "$out" 'permission denied'
n0=$(t_psql -c "select count(*) from spoor.audit where actor = 'dora' and action = 'case.read'")
out=$(as dora request show "$req" --json)
t_match "an auditor reads a case" "$out" "$ip"
t_eq "… and the reading is itself audited" \
  "$(t_psql -c "select count(*) from spoor.audit where actor = 'dora' and action = 'case.read' and request_id = $req")" "$((n0 + 1))"
out=$(as dora --json request list)
t_eq "an auditor's request list is the outline (what a case says is read case by case, audited)" \
  "$(printf '%s' "$out" | jq -c --argjson r "$req" '[.[] | select(.request_id == $r) | has("case_ref"), has("scope"), .access]')" '[false,false,"auditor"]'

# The audited reads other than lookups, against "send the data, then fail":
# COPY streams its first row to the client before the second row's error
# rolls the audit entry back (as a pipeline's failing next statement would,
# before its Sync).  Each read gives only its record; the data comes from
# lookup_answer once the record has committed.
copy_attack() { # USER SQL: the value of SQL in row 1, then an error in row 2
  PGUSER=$1 psql -X -q -tA -c "copy (select case when i = 1 then ($2)::text else (1 / (i - 2))::text end
                                     from (values (1), (2)) v(i)) to stdout" 2>&1
}
exports() { t_psql -c "select count(*) from spoor.audit where action = 'request.export' and outcome = 'ok'"; }
e0=$(exports)
out=$(copy_attack gina "spoor.request_export($req)")
case "$out" in *'"results"'*|*"$user"*) t_fail "COPY, then an error: an export's kept results stay in the database" "$(printf '%s' "$out" | head -c 300)" ;;
  *) t_match "COPY, then an error: an export's kept results stay in the database (a record only)" "$out" '"status": "recorded"' ;; esac
t_eq "… and its rolled-back entry" "$(exports)" "$e0"
out=$(copy_attack dora "spoor.request_show($req)")
case "$out" in *GATE-1*|*"$ip"*) t_fail "COPY, then an error: an auditor's reading gives no case" "$(printf '%s' "$out" | head -c 300)" ;;
  *) t_match "COPY, then an error: an auditor's reading gives no case (a record only)" "$out" '"status": "recorded"' ;; esac
out=$(copy_attack dora "spoor.report(null, null, null)")
case "$out" in *GATE-1*) t_fail "COPY, then an error: the report gives nothing" "$(printf '%s' "$out" | head -c 300)" ;;
  *) t_match "COPY, then an error: the report gives nothing (a record only)" "$out" '"status": "recorded"' ;; esac
out=$(PGUSER=dora psql -X -q -tA -c "select spoor.lookup_answer((spoor.request_show($req)->>'ticket')::bigint)" 2>&1)
t_match "a reading's answer in the statement that records it is refused" "$out" 'is not committed'
out=$(printf '%s\n' "select spoor.request_export($req)->>'ticket' as t \\gset" "select spoor.lookup_answer(:t);" |
      PGUSER=gina psql -X -q -tA 2>&1)
t_match "an export recorded on its own is answered, with its kept results" "$out" "$user"
t_eq "… once audited" "$(exports)" "$((e0 + 1))"
out=$(printf '%s\n' "select spoor.report(null, null, null)->>'ticket' as t \\gset" "select spoor.lookup_answer(:t);" |
      PGUSER=dora psql -X -q -tA 2>&1)
t_match "the report recorded on its own is answered" "$out" '"open_requests"'
case "$out" in *GATE-1*) t_fail "… naming no case its reader is not on (an auditor)" "$out" ;;
  *) t_ok "… naming no case its reader is not on (an auditor)" ;; esac
# An export's answer is computed when it is asked for: one record must not
# be a standing pass to the case's later results.
tk=$(printf '%s\n' "select spoor.request_export($req)->>'ticket';" | PGUSER=gina psql -X -q -tA 2>&1)
t_psql -c "set session_replication_role = replica" \
  -c "update spoor.lookup_ticket set created_at = created_at - interval '11 minutes' where ticket_id = $tk" >/dev/null
t_match "an export's record answers for ten minutes, not for good" \
  "$(PGUSER=gina psql -X -q -tA -c "select spoor.lookup_answer($tk)" 2>&1)" 'more than ten minutes old'
tk=$(t_psql -c "select max(ticket_id) from spoor.lookup_ticket where actor = 'dora' and action = 'report'")
t_match "… and only to its own person: another's ticket gives nothing" \
  "$(PGUSER=ivan psql -X -q -tA -c "select spoor.lookup_answer($tk)" 2>&1)" 'no lookup [0-9]+ of yours'

# ---- 5. Two admins --------------------------------------------------------------------
t_person adm1 admin
t_person adm2 admin
t_person lena analyst
out=$(as adm1 user add adm1 --role retention 2>&1); rc=$?
t_eq "an admin cannot grant themselves a right (exit 1)" "$rc" 1
t_match "… told why" "$out" 'nobody grants a right to themselves'
t_eq "… and the attempt is audited under the admin's name" \
  "$(t_psql -c "select count(*) from spoor.audit where action = 'user.add' and actor = 'adm1' and outcome = 'denied' and params->>'user' = 'adm1'")" 1
out=$(as adm1 user add spoor_analyst --role admin 2>&1)
t_match "no role is granted to a Spoor group role" "$out" 'not a person'
t_eq "… spoor_analyst is still no admin" "$(t_psql -c "select pg_has_role('spoor_analyst', 'spoor_admin', 'MEMBER')")" f
out=$(as adm1 user add lena --role approver 2>&1)
t_match "one admin making an analyst an approver only records the change" "$out" 'change [0-9]+ recorded'
chg=$(printf '%s' "$out" | sed -n 's/^change \([0-9]*\).*/\1/p')
t_eq "… lena is not an approver yet" "$(t_psql -c "select pg_has_role('lena', 'spoor_approver', 'MEMBER')")" f
out=$(as adm1 admin confirm "$chg" 2>&1)
t_match "the admin who asked cannot confirm" "$out" 'two admins'
out=$(as lena admin confirm "$chg" 2>&1)
t_match "the person it grants to cannot confirm it either" "$out" 'permission denied|refused'
out=$(as adm2 admin confirm "$chg")
t_match "a second admin confirms" "$out" "change $chg carried out"
t_eq "… now lena is an approver" "$(t_psql -c "select pg_has_role('lena', 'spoor_approver', 'MEMBER')")" t
t_eq "the two people are kept apart by a constraint, also against the owner" \
  "$(t_psql -c "update spoor.admin_change set decided_by = requested_by where change_id = $chg" 2>&1 | grep -c 'refused\|violates')" 1
keep0=$(t_psql -c "select keep from spoor.retention_policy where class = 'radius'")
out=$(as adm1 retention policy set radius 1d 2>&1)
t_match "one admin shortening a retention policy only records the change" "$out" 'second admin|change [0-9]+'
t_eq "… the policy is unchanged" "$(t_psql -c "select keep from spoor.retention_policy where class = 'radius'")" "$keep0"
chg=$(t_psql -c "select max(change_id) from spoor.admin_change where kind = 'policy'")
# A rejection carries its reason, in the database: the CLI and spoor-api
# check it first (query/ops), but an admin at a psql prompt goes around them.
out=$(PGUSER=adm2 psql -X -q -tA -c "select spoor.admin_decide($chg, false, null)" 2>&1)
t_match "psql: an admin's rejection without a note is refused" "$out" 'needs a note.*"denied"'
out=$(PGUSER=adm2 psql -X -q -tA -c "select spoor.admin_decide($chg, false, E' \\t ')" 2>&1)
t_match "psql: … and with a blank note" "$out" 'needs a note.*"denied"'
t_eq "… the change is still pending, the refusals audited" \
  "$(t_psql -c "select c.state, (select count(*) from spoor.audit where action = 'admin.reject' and outcome = 'denied'
                 and params->>'change' = '$chg') from spoor.admin_change c where change_id = $chg")" 'pending|2'
out=$(as adm2 admin reject "$chg" --note "no legal basis")
t_match "a second admin rejects it" "$out" 'rejected'
t_eq "… and it stays unchanged" "$(t_psql -c "select keep from spoor.retention_policy where class = 'radius'")" "$keep0"
printf 'account,full_name,postal_address,billing_contact,customer_ref\nacct-1,Ann Old,1 Road,ann@x,C1\n' >"$W/s1.csv"
printf 'account,full_name,postal_address,billing_contact,customer_ref\nacct-1,Eve Forged,9 Lane,eve@x,C1\nacct-2,New Person,2 Road,np@x,C2\n' >"$W/s2.csv"
as adm1 subscribers import "$W/s1.csv" >/dev/null
out=$(as adm1 subscribers import "$W/s2.csv" 2>&1)
t_match "one admin overwriting a stored identity only records the change" "$out" 'would change'
t_eq "… the stored identity is unchanged, the new account added" \
  "$(t_psql -c "select string_agg(account || '=' || full_name, ',' order by account) from spoor_identity.subscriber")" 'acct-1=Ann Old,acct-2=New Person'
chg=$(t_psql -c "select max(change_id) from spoor.admin_change where kind = 'identity'")
as adm2 admin confirm "$chg" >/dev/null
t_eq "… a second admin's confirmation applies it" \
  "$(t_psql -c "select full_name from spoor_identity.subscriber where account = 'acct-1'")" 'Eve Forged'
t_eq "the two-admin steps are audited" \
  "$(t_psql -c "select count(*) from spoor.audit where action in ('admin.request', 'admin.confirm', 'admin.reject') and outcome = 'ok'")" 6

# An approver rejects a request only with the reason, whichever way they call.
out=$(as gina request create --case GATE-NOTE --authority Court --basis Law --from 2026-11-21T00:00:00Z \
  --to 2026-11-21T04:00:00Z --max-lookups 5 --ip "$ip")
rq=$(printf '%s' "$out" | sed -n 's/^request \([0-9]*\).*/\1/p')
out=$(PGUSER=hank psql -X -q -tA -c "select spoor.request_decide($rq, false, null)" 2>&1)
t_match "psql: an approver's rejection without a note is refused" "$out" 'needs a note.*"denied"'
out=$(PGUSER=hank psql -X -q -tA -c "select spoor.request_decide($rq, false, '  ')" 2>&1)
t_match "psql: … and with a blank note" "$out" 'needs a note.*"denied"'
t_eq "… the request is still received, the refusals audited" \
  "$(t_psql -c "select r.state, (select count(*) from spoor.audit where action = 'request.reject' and outcome = 'denied'
                 and request_id = $rq) from spoor.request r where request_id = $rq")" 'received|2'
out=$(as hank request reject "$rq" --note "the order names no time window we hold")
t_match "… with its note it is rejected" "$out" 'rejected'
t_eq "… and the note is kept with the decision" \
  "$(t_psql -c "select state || '|' || decision_note from spoor.request where request_id = $rq")" \
  'rejected|the order names no time window we hold'

# A transition is one of the three there are: anything else would write an
# audit entry under a made-up action ("request.approve" by the recorder).
out=$(gpsql -c "select spoor.request_transition($rq, 'approve', 'x')")
t_match "psql: a transition that does not exist is refused" "$out" 'nothing else'
t_eq "… and writes no entry under that name" \
  "$(t_psql -c "select count(*) from spoor.audit where actor = 'gina' and action = 'request.approve'")" 0

# ---- 6. The API login is nobody ---------------------------------------------------------
t_person apix api
tg=$(as gina token create | head -1)
apsql() { PGUSER=apix psql -X -q -tA "$@" 2>&1; }
t_match "the API login cannot run a lookup itself" "$(apsql -c "select spoor.trace_ip($req, '$ip', '$time', null, null)")" 'permission denied'
# spoor.session_yield is the ingest role's (ingest.nice): no one else calls
# into the server module's system calls.
t_match "an analyst cannot call ingest's session_yield" "$(gpsql -c "select spoor.session_yield(19)")" 'permission denied'
t_match "…nor can the API login" "$(apsql -c "select spoor.session_yield(19)")" 'permission denied'
t_match "the API login cannot become a person" "$(apsql -c "set role gina")" 'permission denied'
t_match "a forged person setting gets it nothing" \
  "$(apsql -c "select set_config('spoor.api_person', 'gina', false)" -c "select spoor.request_list()")" 'permission denied'
t_match "api_call without a valid token is refused" \
  "$(apsql -c "select spoor.api_call('spoor_0000000000000000000000000000', 'request.list', '{}')")" 'unknown, expired or revoked token'
out=$(apsql -c "select spoor.api_call('$tg', 'request.show', '{\"id\": $req}')")
t_match "with gina's token, gina's case" "$out" "$ip"
out=$(apsql -c "select spoor.api_call('$tg', 'request.package_sealed', '{\"id\": $rq, \"manifest_sha256\": \"$(printf '0%.0s' $(seq 64))\", \"public_key\": \"$(printf '0%.0s' $(seq 64))\"}')")
t_match "a package is sealed only by one of the case's people who just exported it" "$out" '"denied"'
t_eq "… no chain-of-custody entry for a package nobody made" \
  "$(t_psql -c "select count(*) from spoor.audit where action = 'request.package' and request_id = $rq and outcome = 'ok'")" 0
t_match "an analyst's token cannot approve" \
  "$(apsql -c "select spoor.api_call('$tg', 'request.decide', '{\"id\": $req, \"approve\": true}')")" 'may not request.decide'
tid=$(as gina --json token list | jq -r '.[-1].token_id')
t_match "token list shows the token, not its secret" "$(as gina token list)" "^$tid +gina +active"
as gina token revoke "$tid" >/dev/null
t_match "a revoked token is refused" "$(apsql -c "select spoor.api_call('$tg', 'request.list', '{}')")" 'unknown, expired or revoked token'
t_eq "the revocation is audited" "$(t_psql -c "select count(*) from spoor.audit where action = 'api.token_revoke' and actor = 'gina' and outcome = 'ok'")" 1
t_person otto analyst
to=$(as otto token create | head -1)
t_psql -c "drop role otto" -c "create role otto login in role spoor_analyst, spoor_admin"
t_match "a token is bound to its person, not to a name made again" \
  "$(apsql -c "select spoor.api_call('$to', 'request.list', '{}')")" 'unknown, expired or revoked token'
t_psql -c "grant spoor_analyst to apix"
t_match "an API login that is also a person is refused altogether" \
  "$(apsql -c "select spoor.api_call('$tg', 'request.list', '{}')")" 'nothing else'
t_psql -c "revoke spoor_analyst from apix"

# ---- 7. Stored evidence cannot be shadowed -------------------------------------------------
t_person ingest_x ingest
blk=$(t_psql -c "select block_id, day from spoor.evidence_block order by block_id limit 1")
bid=${blk%%|*}; bday=${blk#*|}
out=$(PGUSER=ingest_x psql -X -q -tA -c "insert into spoor.evidence_block (day, block_id, kind, source, part, first_pos, last_pos, n_lines, raw_bytes, sha256, data)
  select date '$bday' + 1, $bid, kind, source, part, first_pos, last_pos, n_lines, raw_bytes, sha256, data from (select 'smtp'::text kind, 'x'::text source, 0 part, 0::bigint first_pos, 0::bigint last_pos, 1 n_lines, 1 raw_bytes, sha256('x') sha256, '\\x00'::bytea data) s" 2>&1)
t_match "ingest login: a block reusing a stored block id in the next day is refused" "$out" 'already stored|permission denied'
t_eq "… and nothing of it is stored" "$(t_psql -c "select count(*) from spoor.evidence_block where block_id = $bid")" 1

# The lease index is derived from the RADIUS events a batch stores; the
# ingest login passes the batch's sessions to lease_merge_rows itself.  It
# cannot use that to rewrite who held an address.
IFS='|' read -r lkey laddr luser lfirst llast lhi < <(t_psql -c "select session_key, host(addr), user_name, first_ts, last_ts, span_hi
  from spoor.lease where user_name is not null and stop_ts is null order by session_key limit 1")
merge() { # USER KEY FIRST LAST STOP TIMEOUT LO
  PGUSER=ingest_x psql -X -q -tA -c "select spoor.lease_merge_rows(ARRAY['$1'], ARRAY['$laddr'], ARRAY[1]::int2[],
    ARRAY['$2'::timestamptz], ARRAY['$3'::timestamptz], NULL, NULL, ARRAY[true], ARRAY[$4::timestamptz], NULL,
    ARRAY['victim@isp.example'], ARRAY['01632 960999'], NULL, NULL, NULL, NULL, NULL, NULL, '$6', '$5', '1 day')" 2>&1
}
lease_now() { t_psql -c "select coalesce(user_name, '-') || '|' || coalesce(calling_station_id, '-') || '|' || span_hi from spoor.lease where session_key = '$1'"; }
before=$(lease_now "$lkey")
merge "$lkey" "$lfirst" "$llast" null '10 minutes' "$lfirst" >/dev/null
t_eq "ingest login: a merge cannot overwrite a stored session's user name or Calling-Station-Id" "$(lease_now "$lkey")" "$before"
out=$(merge "$lkey" "$lfirst" "$llast" null '-100 days' "$lfirst")
t_match "ingest login: a negative timeout (an open session cut short) is refused" "$out" 'timeout'
t_eq "… and the session's span is as it was" "$(lease_now "$lkey")" "$before"
out=$(merge "$lkey" "$lfirst" "$llast" "'$lfirst'" '10 minutes' "$lfirst")
t_match "ingest login: a Stop with no stored Stop event is refused" "$out" 'no stored RADIUS event'
t_eq "… and the session is still open" "$(lease_now "$lkey")" "$before"
out=$(merge "forged|0001" "$lfirst" "$llast" null '10 minutes' "$lfirst")
t_match "ingest login: a session with no stored RADIUS events is refused" "$out" 'no stored RADIUS event'
t_eq "… and no lease is planted" "$(t_psql -c "select count(*) from spoor.lease where session_key = 'forged|0001'")" 0
# With the stored session's own identity, and instants that are its events:
# only the estimated start (pulled back a month) or the Interim-Update flag
# (a session whose NAS sends none, cut to a minute) are made up.
IFS='|' read -r nkey naddr nuser ncall nfirst nlast < <(t_psql -c "select session_key, host(addr), user_name, calling_station_id, first_ts, last_ts
  from spoor.lease where addr_kind = 1 and not has_interim and stop_ts is null and user_name is not null order by session_key limit 1")
merge_own() { # EST INTERIM
  PGUSER=ingest_x psql -X -q -tA -c "select spoor.lease_merge_rows(ARRAY['$nkey'], ARRAY['$naddr'], ARRAY[1]::int2[],
    ARRAY['$nfirst'::timestamptz], ARRAY['$nlast'::timestamptz], NULL, ARRAY[$1::timestamptz], ARRAY[$2], NULL, NULL,
    ARRAY['$nuser'], ARRAY['$ncall'], NULL, NULL, NULL, NULL, NULL, NULL, '$nfirst', '1 minute', '1 day')" 2>&1
}
nbefore=$(lease_now "$nkey")
t_match "ingest login: an estimated start that no stored event gives is refused" \
  "$(merge_own "('$nfirst'::timestamptz - interval '30 days')" false)" 'no stored RADIUS event'
t_match "ingest login: Interim-Updates a session never sent are refused" "$(merge_own null true)" 'no stored RADIUS event'
t_eq "… and the session is as it was" "$(lease_now "$nkey")" "$nbefore"

# ---- 8. The smaller points --------------------------------------------------------------
t_eq "every Spoor function's search_path puts pg_temp last" \
  "$(t_psql -c "select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace, unnest(p.proconfig) c where n.nspname in ('spoor', 'spoor_identity') and c like 'search_path=%' and c not like '%, pg_temp'")" 0
t_eq "every SECURITY DEFINER function pins its search_path" \
  "$(t_psql -c "select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname in ('spoor', 'spoor_identity') and p.prosecdef and not exists (select 1 from unnest(p.proconfig) c where c like 'search_path=%')")" 0
for tbl in audit request_result lookup_ticket request_scope retention_dropped evidence_block_id; do
  out=$(t_psql -c "truncate spoor.$tbl" 2>&1)
  t_match "TRUNCATE $tbl is refused, even to a superuser" "$out" 'append-only'
done
# The golden lines lib/msgid.c is tested with (tests/unit/test_lib.c), through SQL.
bad=0; first=""
while IFS=$'\t' read -r in want; do
  got=$(printf '%s\n' "select spoor.msgid_normalize(:'in');" | t_psql -v in="$in")
  [ "$got" = "$want" ] || { bad=$((bad + 1)); [ -n "$first" ] || first="$in: got $got want $want"; }
done <tests/golden/msgid/normalize.tsv
t_eq "Message-ID folding: SQL gives lib/msgid.c's golden answers, non-ASCII included ($first)" "$bad" 0
out=$("$S" --dsn 'postgresql://127.0.0.1:1/db?sslmode=disable&password=s3cr3tpw' config 2>&1)
case "$out" in *s3cr3tpw*) t_fail "spoor config redacts a URI DSN's password" "$out" ;; *) t_ok "spoor config redacts a URI DSN's password" ;; esac
t_done
