# Trace and the legal gate, against the generator's ground truth: who held an
# address when, who submitted which Message-ID.  Four eyes, scope, window,
# budget and the audit trail are enforced in PostgreSQL: psql cannot bypass them.
set -u
. tests/lib.sh
S=$B/spoor
W=$SPOOR_VAR/work-trace
rm -rf "$W"; mkdir -p "$W"
t_scratch_db spoor_trace
t_person alice analyst
t_person bob approver
t_person carol analyst,approver
t_person dave auditor

"$B/tests/spoor-gen" --out "$W/d" --subscribers 300 --hours 6 --seed 42 --start 2026-11-21T00:00:00Z \
  --mails-per-hour 400 --zone Europe/London >/dev/null 2>&1
"$S" import --format radius-detail --zone Europe/London "$W/d/radius.detail" >/dev/null
"$S" import --format postfix --zone Europe/London --reference 2026-11-21T12:00:00Z "$W/d/maillog" >/dev/null
"$S" import --format exim --host smtp3 --zone Europe/London "$W/d/mainlog" >/dev/null

# 40 submissions by subscribers, spread over the file: the ground truth.  Only
# subscribers whose session left at least one accounting record in these six
# hours can be traced from logs (a NAS without interim updates says nothing
# about a session begun days earlier until it stops: the truth lists those too).
sed -n 's/^\tUser-Name = "\(.*\)"$/\1/p' "$W/d/radius.detail" | sort -u >"$W/users"
awk -F'\t' 'NR == FNR { seen[$1] = 1; next } FNR > 1 && $8 != "" && $5 != "" && seen[$8]' \
  "$W/users" "$W/d/truth_mail.tsv" | awk 'NR % 7 == 1' | head -40 >"$W/pick.tsv"
t_eq "40 traceable submissions picked from the ground truth" "$(wc -l <"$W/pick.tsv")" 40
args=()
while IFS=$'\t' read -r mid host qids time ip port sasl user calling; do
  args+=(--message-id "<$mid>" --ip "$ip")
done <"$W/pick.tsv"
out=$(as alice request create --case "CO-2026-0042" --authority "Worcester Crown Court" \
  --basis "Production order, PACE 1984 Sch. 1" --from 2026-11-20T00:00:00Z --to 2026-11-22T00:00:00Z \
  --max-lookups 200 "${args[@]}")
t_match "analyst records a request" "$out" '^request [0-9]+ recorded'
req=$(printf '%s' "$out" | sed -n 's/^request \([0-9]*\).*/\1/p')
out=$(as alice trace message-id "<$(head -1 "$W/pick.tsv" | cut -f1)>" --request "$req" 2>&1); rc=$?
t_eq "no lookup before approval" "$rc" 1
t_match "…and says why" "$out" 'request is received'
out=$(as bob request approve "$req" --note "order checked")
t_match "approver approves" "$out" "request $req is now approved"

# Every picked Message-ID resolves to the subscriber the truth names.
ok=0; bad=0; first_bad=""
while IFS=$'\t' read -r mid host qids time ip port sasl user calling; do
  j=$(as alice --json trace message-id "<$mid>" --request "$req" 2>&1)
  got=$(printf '%s' "$j" | jq -r --arg h "$host" '[.submissions[] | select(.mta_host == $h)][0] |
        [.client_ip, (.client_port|tostring), .session_trace.verdict,
         .session_trace.sessions[0].user_name, .session_trace.sessions[0].calling_station_id] | join("|")')
  if [ "$got" = "$ip|$port|exact|$user|$calling" ]; then ok=$((ok + 1)); else bad=$((bad + 1)); [ -n "$first_bad" ] || first_bad="$mid: got $got want $ip|$port|exact|$user|$calling"; fi
done <"$W/pick.tsv"
t_eq "trace message-id: client, port and subscriber session match the ground truth ($ok checked)" "$bad" 0
[ -n "$first_bad" ] && echo "     $first_bad"

# Every picked address at its instant resolves to the same subscriber.
ok=0; bad=0; first_bad=""
while IFS=$'\t' read -r mid host qids time ip port sasl user calling; do
  j=$(as alice --json trace ip "$ip" --at "$time" --port "$port" --request "$req" 2>&1)
  got=$(printf '%s' "$j" | jq -r '[.verdict, .sessions[0].user_name, .sessions[0].calling_station_id] | join("|")')
  if [ "$got" = "exact|$user|$calling" ]; then ok=$((ok + 1)); else bad=$((bad + 1)); [ -n "$first_bad" ] || first_bad="$ip@$time: got $got want exact|$user|$calling"; fi
done <"$W/pick.tsv"
t_eq "trace ip: verdict exact and the truth's subscriber ($ok checked)" "$bad" 0
[ -n "$first_bad" ] && echo "     $first_bad"

# Evidence: verbatim lines with their block's SHA-256.
read -r mid host qids time ip port sasl user calling <"$W/pick.tsv"
out=$(as alice trace message-id "<$mid>" --request "$req")
t_match "text output names the Calling-Station-Id" "$out" "calling_station_id +$calling"
t_match "text output carries verbatim evidence lines" "$out" 'evidence: block [0-9]+ line [0-9]+, sha256 [0-9a-f]{64}'
line=$(as alice --json trace message-id "<$mid>" --request "$req" | jq -r '.submissions[0].evidence[0].line')
if grep -qxF -- "$line" "$W/d/maillog" "$W/d/mainlog"; then t_ok "evidence line is byte for byte a line of the original log"; else t_fail "evidence line is byte for byte a line of the original log" "$line"; fi

# Scope: what the order does not name is refused, and audited.
out=$(as alice trace ip 192.0.2.77 --at "$time" --request "$req" 2>&1); rc=$?
t_eq "address outside the scope: refused" "$rc" 1
t_match "…with the reason" "$out" 'not named by the request'
out=$(as alice trace ip "$ip" --at 2026-11-25T12:00:00Z --request "$req" 2>&1)
t_match "instant outside the window: refused" "$out" 'outside the request window'
out=$(as alice trace message-id "<not-in-scope@example.org>" --request "$req" 2>&1)
t_match "Message-ID outside the scope: refused" "$out" 'not named by the request'
out=$(as alice trace ip "$ip" --at "2026-10-25T01:30:00" --zone Europe/London --request "$req" 2>&1); rc=$?
t_eq "ambiguous local time: usage error" "$rc" 2
t_match "…naming both candidates" "$out" 'ambiguous.*2026-10-25T00:30:00Z or 2026-10-25T01:30:00Z'
out=$(as alice request create --case X --authority Y --basis Z --from 2026-11-20T00:00:00Z \
  --to 2026-11-22T00:00:00Z --ip 10.0.0.0/8 2>&1); rc=$?
t_match "a range wider than an order names is refused" "$out" 'too wide'

# Budget.
out=$(as alice request create --case CO-2 --authority Court --basis Law --from 2026-11-20T00:00:00Z \
  --to 2026-11-22T00:00:00Z --max-lookups 2 --ip "$ip")
r2=$(printf '%s' "$out" | sed -n 's/^request \([0-9]*\).*/\1/p')
as bob request approve "$r2" >/dev/null
as alice trace ip "$ip" --at "$time" --request "$r2" >/dev/null
as alice trace ip "$ip" --at "$time" --request "$r2" >/dev/null
out=$(as alice trace ip "$ip" --at "$time" --request "$r2" 2>&1)
t_match "lookup budget enforced" "$out" 'budget of the request used up \(2 of 2\)'

# Four eyes, through the CLI and through psql.
out=$(as carol request create --case CO-3 --authority Court --basis Law --from 2026-11-20T00:00:00Z \
  --to 2026-11-22T00:00:00Z --ip "$ip")
r3=$(printf '%s' "$out" | sed -n 's/^request \([0-9]*\).*/\1/p')
out=$(as carol request approve "$r3" 2>&1); rc=$?
t_eq "four eyes (CLI): recorder cannot approve, exit 1" "$rc" 1
t_match "four eyes (CLI): says so" "$out" 'four eyes'
out=$(PGUSER=carol psql -X -tA -c "select spoor.request_decide($r3, true, 'me')" 2>&1)
t_match "four eyes (psql): refused by the database" "$out" 'four eyes'
out=$(PGUSER=carol psql -X -tA -c "update spoor.request set state = 'approved' where request_id = $r3" 2>&1)
t_match "four eyes (psql): no direct UPDATE" "$out" 'permission denied'
out=$(t_psql -c "update spoor.request set decided_by = created_by, state = 'approved' where request_id = $r3" 2>&1)
t_match "four eyes holds even for the table owner (constraint)" "$out" 'violates check constraint'

# Analysts cannot read around the gate.
for tbl in smtp_event radius_event lease lease_seg evidence_block request audit; do
  out=$(PGUSER=alice psql -X -tA -c "select count(*) from spoor.$tbl" 2>&1)
  t_match "analyst: no SELECT on spoor.$tbl" "$out" 'permission denied'
done
out=$(PGUSER=alice psql -X -tA -c "select spoor.lease_at('$ip', '$time', '0')" 2>&1)
t_match "analyst: internal lookup function not callable" "$out" 'permission denied'
out=$(PGUSER=alice psql -X -tA -c "select spoor.evidence_line_raw(null, null, null, 0)" 2>&1)
t_match "analyst: evidence reader not callable" "$out" 'permission denied'
t_eq "lookup roles are neither superuser nor BYPASSRLS" \
  "$(t_psql -c "select count(*) from pg_roles where rolname in ('alice','bob','carol','spoor_owner') and (rolsuper or rolbypassrls)")" 0
t_eq "the definer functions' owner is not a superuser" \
  "$(t_psql -c "select count(*) from pg_proc p join pg_roles r on r.oid = p.proowner where p.prosecdef and p.pronamespace = 'spoor'::regnamespace and r.rolsuper")" 0

# Verdict none, with the nearest sessions either side.
j=$(as alice --json trace ip "$ip" --at 2026-11-20T01:00:00Z --request "$req")
t_eq "no session at the instant: verdict none" "$(printf '%s' "$j" | jq -r .verdict)" none

# trace headers: a genuine message, copied headers naming our MTA, backscatter.
# No trace.our_mta_hosts: our MTAs are the hosts whose logs Spoor received.
unset SPOOR_TRACE_OUR_MTA_HOSTS
IFS=$'\t' read -r gmid ghost gqids gtime gip gport gsasl guser gcalling \
  < <(awk -F'\t' '$2 == "smtp1" || $2 == "smtp2"' "$W/pick.tsv" | head -1)
gq=${gqids%%,*}
gdate=$(date -u -d "$gtime" -R)
cat >"$W/genuine.eml" <<EML
Received: from mx.isp.example (mx.isp.example [192.0.2.25])
	by mx.recipient.example (Postfix) with ESMTPS id 4XyZ12abC;
	$gdate
Received: from pc.home (host-x.dsl.isp.example [$gip])
	by $ghost.isp.example (Postfix) with ESMTPSA id $gq
	for <someone@recipient.example>; $gdate
Message-ID: <$gmid>
From: <$gsasl>
Subject: hello
Date: $gdate

body
EML
cat >"$W/forged.eml" <<EML
Received: from bot.example.net (bot.example.net [203.0.113.66])
	by mx.victim.example (Postfix) with ESMTP id 9QwErTy;
	Sat, 21 Nov 2026 02:00:00 +0000
Received: from pc.home (internal [$gip])
	by smtp1.isp.example (Postfix) with ESMTPSA id 4F3A2B1C0D
	for <customer@victim.example>; Sat, 21 Nov 2026 01:59:58 +0000
Message-ID: <payment-120-confirm@isp.example>
From: Accounts <accounts@isp.example>
Subject: Payment confirmation £120
Date: Sat, 21 Nov 2026 01:59:58 +0000

spoofed
EML
cat >"$W/bounce.eml" <<EML
From: MAILER-DAEMON@mx.elsewhere.example
To: <jane@isp.example>
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"
Message-ID: <bounce-1@mx.elsewhere.example>

--B1
Content-Type: text/plain

This is the mail system at host mx.elsewhere.example.
<bob@elsewhere.example>: user unknown

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.elsewhere.example
Final-Recipient: rfc822; bob@elsewhere.example
Action: failed
Status: 5.1.1

--B1
Content-Type: text/rfc822-headers

Received: from infected.example.org (infected.example.org [198.51.100.200])
	by mx.elsewhere.example (Postfix) with ESMTP id 7AbCdEf;
	Sat, 21 Nov 2026 03:00:00 +0000
Message-ID: <virus-9@isp.example>
From: Jane <jane@isp.example>
Subject: message.scr

--B1--
EML
out=$(as alice request create --case CO-4 --authority Court --basis Law --from 2026-11-20T00:00:00Z \
  --to 2026-11-22T00:00:00Z --message-id "<$gmid>" --message-id "<payment-120-confirm@isp.example>" \
  --message-id "<virus-9@isp.example>")
r4=$(printf '%s' "$out" | sed -n 's/^request \([0-9]*\).*/\1/p')
as bob request approve "$r4" >/dev/null
out=$(as alice --json trace headers "$W/genuine.eml" --request "$r4")
t_eq "trace headers: genuine submission verified" "$(printf '%s' "$out" | jq -r .verdict)" sent_by_subscriber
t_eq "trace headers: our hop verified" "$(printf '%s' "$out" | jq -r '.hops[0].state')" verified
t_eq "trace headers: subscriber behind it" \
  "$(printf '%s' "$out" | jq -r '.submissions[0].session_trace.sessions[0].user_name')" "$guser"
out=$(as alice trace headers "$W/forged.eml" --request "$r4")
t_match "trace headers: copied headers are a forgery" "$out" 'verdict: forged_our_headers'
t_match "trace headers: names the hop our logs do not hold" "$out" 'our smtp1.isp.example handled queue ID 4F3A2B1C0D at 2026-11-21T01:59:58Z; our logs hold no such message'
t_match "trace headers: says it used the hosts whose MTA logs we receive" "$out" 'our MTAs \(the hosts whose MTA logs we receive\): smtp1,smtp2'
out=$(as alice --json trace headers "$W/forged.eml" --request "$r4")
t_eq "trace headers --json: the list's source is the logs" "$(printf '%s' "$out" | jq -r '.our_mta_hosts.source')" logs
t_eq "trace headers --json: the logged hosts are the MTAs that sent logs" \
  "$(printf '%s' "$out" | jq -c '[.our_mta_hosts.hosts[] | select(test("^smtp[0-9]$"))]')" \
  "$(t_psql -c "select json_agg(distinct host order by host) from spoor.smtp_event where host ~ '^smtp[0-9]\$'" | jq -c .)"
t_eq "mta_host holds each host once, also after many batches" \
  "$(t_psql -c "select count(*) = count(distinct host) and count(*) > 0 from spoor.mta_host")" t
# A configured list wins over the logs: naming another MTA makes smtp1's hop foreign.
out=$(SPOOR_TRACE_OUR_MTA_HOSTS=mx9.isp.example as alice --json trace headers "$W/forged.eml" --request "$r4")
t_eq "trace headers: a configured list wins over the logged hosts" \
  "$(printf '%s' "$out" | jq -r '[.our_mta_hosts.source, .verdict] | join(" ")')" "configuration not_through_us"
out=$(as alice --json trace headers "$W/bounce.eml" --request "$r4")
t_eq "trace headers: bounce of a message we never sent is backscatter" "$(printf '%s' "$out" | jq -r .verdict)" backscatter
t_eq "trace headers: the bounce is recognised" "$(printf '%s' "$out" | jq -r .bounce)" true
out=$(as alice trace headers "$W/forged.eml" --request "$req" 2>&1)
t_match "trace headers: the Message-ID must be in scope" "$out" 'not named by the request'

# The audit trail has the lookups, the refusals and the decisions.
n_ok=$(t_psql -c "select count(*) from spoor.audit where action like 'trace.%' and outcome = 'ok'")
n_den=$(t_psql -c "select count(*) from spoor.audit where action like 'trace.%' and outcome = 'denied'")
t_match "audit: successful lookups recorded" "$n_ok" '^[1-9][0-9]+$'
t_match "audit: refused attempts recorded" "$n_den" '^[1-9][0-9]*$'
t_eq "audit: four-eyes refusal recorded" \
  "$(t_psql -c "select count(*) from spoor.audit where action = 'request.approve' and outcome = 'denied' and actor = 'carol'")" 2
t_eq "audit entries name the person, not a daemon" \
  "$(t_psql -c "select count(*) from spoor.audit where action like 'trace.%' and actor <> 'alice'")" 0
t_eq "audit chain links every entry to the one before" \
  "$(t_psql -c "select count(*) from spoor.audit a join spoor.audit p on p.seq = a.seq - 1 where a.prev_hash <> p.hash")" 0
t_eq "audit hashes recompute" \
  "$(t_psql -c "select count(*) from spoor.audit where hash <> spoor.audit_entry_hash(prev_hash, seq, at, actor, action, request_id, params, outcome, result_digest)")" 0

# A lookup plans and locks only the daily partitions of the days it reads,
# not every day kept: with a year of partitions, a few stay locked after it.
# (A LANGUAGE sql lookup, planned with its arguments unknown, locks them all.)
t_psql -c "update spoor.retention_policy set keep = interval '30 years'" -c "select spoor.ensure_partitions(date '2025-11-21', date '2026-11-20')" >/dev/null
IFS=$'\t' read -r mid host qids time ip port sasl user calling <"$W/pick.tsv"
locked() { # SQL: partitions (tables named _YYYYMMDD) locked by one call
  t_psql -c "begin" -c "select ($1) is not null" -c "select count(*) from pg_locks l join pg_class c on c.oid = l.relation
    where l.pid = pg_backend_pid() and c.relkind = 'r' and c.relname ~ '_[0-9]{8}\$'" -c "rollback" | tail -1
}
parts=$(t_psql -c "select count(*) from pg_class where relkind = 'r' and relname ~ '^radius_event_[0-9]{8}\$'")
t_match "a year of daily partitions" "$parts" '^3[6-9][0-9]$'
n=$(locked "spoor.lease_at('$ip', '$time', interval '0')")
t_eq "trace ip locks only the partitions of the days it reads ($n)" "$([ "$n" -ge 1 ] && [ "$n" -le 30 ] && echo few)" few
n=$(locked "spoor.submissions_for(spoor.msgid_normalize('<$mid>'), timestamptz '2026-11-20', timestamptz '2026-11-22', interval '0')")
t_eq "trace message-id likewise ($n)" "$([ "$n" -ge 1 ] && [ "$n" -le 30 ] && echo few)" few
t_done
