# spoor-api: the same lookups over HTTP, each caller authenticated by a hashed
# bearer token that PostgreSQL checks on every call (spoor.api_call), acting
# as that person (the audit names the person); the daemon's login is in
# spoor_api and nothing else; bad requests get a 4xx JSON error, never a
# crash; limits and timeouts hold.
set -u
. tests/lib.sh
S=$B/spoor
W=$SPOOR_VAR/work-api
rm -rf "$W"; mkdir -p "$W"
t_scratch_db spoor_api_t
t_person alice analyst
t_person bob approver
t_person carol analyst,approver
t_person apid api
t_eq "the API login is a member of spoor_api and of nothing else" \
  "$(t_psql -c "select string_agg(g.rolname, ',') from pg_auth_members m join pg_roles g on g.oid = m.roleid join pg_roles u on u.oid = m.member where u.rolname = 'apid'")" spoor_api

"$B/tests/spoor-gen" --out "$W/d" --subscribers 60 --hours 2 --seed 5 --start 2026-11-21T08:00:00Z \
  --mails-per-hour 100 >/dev/null 2>&1
"$S" import --format radius-detail "$W/d/radius.detail" >/dev/null
"$S" import --format postfix --reference 2026-11-21T12:00:00Z "$W/d/maillog" >/dev/null
IFS=$'\t' read -r mid host qids time ip port sasl user calling < <(sed -n 's/\r//; 2,$p' "$W/d/truth_mail.tsv" | awk -F'\t' '$8 != "" && $2 != "smtp3"' | head -1)

ta=$(as alice token create | head -1)
tb=$(as bob token create | head -1)
tc=$(as carol token create | head -1)
t_match "token printed once" "$ta" '^spoor_[0-9a-f]{64}$'
t_eq "tokens stored only as SHA-256" "$(t_psql -c "select count(*) from spoor.api_token where token_sha256 = sha256(convert_to('$ta', 'UTF8'))")" 1
t_eq "no token text in the database" "$(t_psql -c "select count(*) from spoor.api_token where encode(token_sha256, 'escape') like '%spoor_%'")" 0

PORT=$((SPOOR_KAFKA_PORT + 40))
cat >"$W/api.conf" <<CONF
api.listen = 127.0.0.1:$PORT
api.timeout = 2s
trace.our_mta_hosts = smtp1.isp.example,smtp2.isp.example,smtp3.isp.example
api.max_body = 4k
api.max_connections = 8
api.rate = 10
log.level = warn
CONF
# Under valgrind (except in a sanitizer build): the daemon must be clean.
vg=()
case "$B" in *asan*) ;; *) command -v valgrind >/dev/null &&
  vg=(valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
      --show-leak-kinds=definite,indirect --log-file="$W/vg.log") ;; esac
PGUSER=apid "${vg[@]}" "$B/spoor-api" --config "$W/api.conf" 2>"$W/api.log" & api=$!
for _ in $(seq 1 100); do curl -s "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
U="http://127.0.0.1:$PORT"
code() { curl -s -o "$W/body" -w '%{http_code}' "$@"; }

t_eq "GET /health" "$(code "$U/health")" 200
t_eq "no token: 401" "$(code -X POST -d '{}' "$U/v1/trace/ip")" 401
t_match "…with a JSON error" "$(cat "$W/body")" '"status":"error"'
t_eq "unknown token: 401" "$(code -X POST -H "Authorization: Bearer spoor_0000000000000000000000" -d '{}' "$U/v1/trace/ip")" 401

r=$(as carol request create --case API-1 --authority Court --basis Law --from 2026-11-21T00:00:00Z \
  --to 2026-11-22T00:00:00Z --ip "$ip" --message-id "<$mid>" | sed -n 's/^request \([0-9]*\).*/\1/p')
t_eq "an analyst who is not an approver cannot approve (403)" \
  "$(code -X POST -H "Authorization: Bearer $ta" -d '{}' "$U/v1/requests/$r/approve")" 403
t_eq "four eyes over HTTP: recorder's approval refused (403)" \
  "$(code -X POST -H "Authorization: Bearer $tc" -d '{}' "$U/v1/requests/$r/approve")" 403
t_match "…four eyes named" "$(cat "$W/body")" 'four eyes'
t_eq "approval by another person over HTTP" \
  "$(code -X POST -H "Authorization: Bearer $tb" -d '{"note":"checked"}' "$U/v1/requests/$r/approve")" 200
t_eq "an analyst not on the case cannot trace under it (403)" \
  "$(code -X POST -H "Authorization: Bearer $ta" -d "{\"request_id\":$r,\"ip\":\"$ip\",\"at\":\"$time\"}" "$U/v1/trace/ip")" 403
t_match "…told why" "$(cat "$W/body")" 'not on this case'
t_eq "the approver assigns alice to the case over HTTP" \
  "$(code -X POST -H "Authorization: Bearer $tb" -d '{"person":"alice"}' "$U/v1/requests/$r/assign")" 200
t_eq "an approver who is not an analyst cannot trace (403)" \
  "$(code -X POST -H "Authorization: Bearer $tb" -d "{\"request_id\":$r,\"ip\":\"$ip\",\"at\":\"$time\"}" "$U/v1/trace/ip")" 403

t_eq "trace ip over HTTP" \
  "$(code -X POST -H "Authorization: Bearer $ta" -d "{\"request_id\":$r,\"ip\":\"$ip\",\"at\":\"$time\",\"port\":$port}" "$U/v1/trace/ip")" 200
t_eq "…finds the subscriber" "$(jq -r '.verdict + "|" + .sessions[0].user_name' "$W/body")" "exact|$user"
t_eq "trace message-id over HTTP" \
  "$(code -X POST -H "Authorization: Bearer $ta" -d "{\"request_id\":$r,\"message_id\":\"<$mid>\"}" "$U/v1/trace/message-id")" 200
t_eq "…resolves the session" "$(jq -r '.submissions[0].session_trace.sessions[0].calling_station_id' "$W/body")" "$calling"
msg=$(printf 'Received: from pc (pc [%s])\n\tby %s.isp.example (Postfix) with ESMTPSA id %s;\n\t%s\nMessage-ID: <%s>\n\n' \
  "$ip" "$host" "${qids%%,*}" "$(date -u -d "$time" -R)" "$mid")
jq -n --arg m "$msg" --argjson r "$r" '{request_id: $r, message: $m}' >"$W/hdr.json"
t_eq "trace headers over HTTP" \
  "$(SPOOR_X=1 code -X POST -H "Authorization: Bearer $ta" --data-binary @"$W/hdr.json" "$U/v1/trace/headers")" 200
t_eq "…verdict sent_by_subscriber" "$(jq -r .verdict "$W/body")" sent_by_subscriber
t_eq "out of scope over HTTP: 403" \
  "$(code -X POST -H "Authorization: Bearer $ta" -d "{\"request_id\":$r,\"ip\":\"192.0.2.1\",\"at\":\"$time\"}" "$U/v1/trace/ip")" 403
t_eq "audit names the person, not the daemon" \
  "$(t_psql -c "select string_agg(distinct actor, ',' order by actor) from spoor.audit where action like 'trace.%'")" alice
t_eq "the daemon's own name is nowhere in the audit" "$(t_psql -c "select count(*) from spoor.audit where actor = 'apid'")" 0

# Requests, holds, reports and exports over HTTP: the same functions as the CLI.
t_eq "POST /v1/requests creates a request" \
  "$(code -X POST -H "Authorization: Bearer $ta" -d "{\"case_ref\":\"API-2\",\"authority\":\"Court\",\"legal_basis\":\"Law\",\"window_lo\":\"2026-11-21T00:00:00Z\",\"window_hi\":\"2026-11-22T00:00:00Z\",\"scope\":[{\"kind\":\"ip\",\"value\":\"$ip\"}],\"options\":{\"subscriber_data\":true}}" "$U/v1/requests")" 200
r2=$(jq -r .request_id "$W/body")
t_eq "…as the person (audit)" "$(t_psql -c "select actor from spoor.audit where action = 'request.create' and request_id = $r2")" alice
t_eq "…with its options" "$(t_psql -c "select subscriber_data from spoor.request where request_id = $r2")" t
t_eq "a too-wide range over HTTP: 400 with the reason" \
  "$(code -X POST -H "Authorization: Bearer $ta" -d '{"case_ref":"X","authority":"C","legal_basis":"L","window_lo":"2026-11-21T00:00:00Z","window_hi":"2026-11-22T00:00:00Z","scope":[{"kind":"ip","value":"10.0.0.0/8"}]}' "$U/v1/requests")" 400
t_match "…named" "$(cat "$W/body")" 'too wide'
t_eq "GET /v1/requests lists them" "$(code -H "Authorization: Bearer $tb" "$U/v1/requests")" 200
t_eq "…all of them" "$(jq '.requests | length' "$W/body")" 2
t_eq "GET /v1/requests/ID shows one" "$(code -H "Authorization: Bearer $ta" "$U/v1/requests/$r2")" 200
t_match "…with its scope" "$(jq -r '.scope[0].value' "$W/body")" "^$ip(/(32|128))?$"
t_eq "GET /v1/requests/999 : 403 no such request" "$(code -H "Authorization: Bearer $ta" "$U/v1/requests/999")" 403
t_eq "cancel over HTTP" "$(code -X POST -H "Authorization: Bearer $ta" -d '{"note":"withdrawn"}' "$U/v1/requests/$r2/cancel")" 200
t_eq "GET /v1/requests/ID/export: the package content of an executed request" \
  "$(code -H "Authorization: Bearer $ta" "$U/v1/requests/$r/export")" 200
t_eq "…with the kept results and audit entries" "$(jq '(.results | length) > 0 and (.audit | length) > 0' "$W/body")" true
t_eq "POST /v1/requests (preservation)" \
  "$(code -X POST -H "Authorization: Bearer $ta" -d "{\"case_ref\":\"API-P\",\"kind\":\"preservation\",\"authority\":\"Court\",\"legal_basis\":\"2703(f)\",\"window_lo\":\"2026-11-21T00:00:00Z\",\"window_hi\":\"2026-11-22T00:00:00Z\",\"scope\":[{\"kind\":\"ip\",\"value\":\"$ip\"}]}" "$U/v1/requests")" 200
rp=$(jq -r .request_id "$W/body")
code -X POST -H "Authorization: Bearer $tb" -d '{}' "$U/v1/requests/$rp/approve" >/dev/null
t_eq "GET /v1/holds" "$(code -H "Authorization: Bearer $ta" "$U/v1/holds")" 200
hid=$(jq -r --argjson r "$rp" '.holds[] | select(.request_id == $r) | .hold_id' "$W/body")
t_match "…the preservation request's hold" "$hid" '^[0-9]+$'
t_eq "renew over HTTP" "$(code -X POST -H "Authorization: Bearer $ta" -d '{"days":30}' "$U/v1/holds/$hid/renew")" 200
t_eq "release asked over HTTP" "$(code -X POST -H "Authorization: Bearer $ta" -d '{}' "$U/v1/holds/$hid/release")" 200
t_eq "…the same person cannot confirm it (403)" "$(code -X POST -H "Authorization: Bearer $ta" -d '{}' "$U/v1/holds/$hid/release")" 403
t_eq "…a second person can" "$(code -X POST -H "Authorization: Bearer $tb" -d '{}' "$U/v1/holds/$hid/release")" 200
# This year's figures: the three requests created above (API-1, API-2, API-P;
# the too-wide one was refused) were received now.
y=$(date -u +%Y)
t_eq "GET /v1/report (approver)" "$(code -H "Authorization: Bearer $tb" "$U/v1/report?year=$y")" 200
t_eq "…with the year's figures" "$(jq -c '[.year, .figures.received]' "$W/body")" "[$y,3]"
t_eq "an analyst's report: 403" "$(code -H "Authorization: Bearer $ta" "$U/v1/report")" 403
t_eq "wrong method on a route: 405" "$(code -X POST -H "Authorization: Bearer $ta" -d '{}' "$U/v1/holds")" 405

t_person adm2 admin
t_person aud2 auditor
tadm=$(PGUSER=adm2 "$B/spoor" token create | head -1)
taud=$(PGUSER=aud2 "$B/spoor" token create | head -1)
t_eq "POST /v1/users (admin)" "$(code -X POST -H "Authorization: Bearer $tadm" -d '{"name":"zed","role":"analyst"}' "$U/v1/users")" 200
t_eq "…an analyst cannot add people (403)" "$(code -X POST -H "Authorization: Bearer $ta" -d '{"name":"zed2","role":"admin"}' "$U/v1/users")" 403
t_eq "POST /v1/subscribers (admin)" \
  "$(code -X POST -H "Authorization: Bearer $tadm" -d "{\"rows\":[{\"account\":\"$user\",\"full_name\":\"Ann Example\"}],\"source\":\"crm-export\"}" "$U/v1/subscribers")" 200
t_eq "…an analyst cannot (403)" "$(code -X POST -H "Authorization: Bearer $ta" -d '{"rows":[]}' "$U/v1/subscribers")" 403
t_eq "GET /v1/audit (auditor)" "$(code -H "Authorization: Bearer $taud" "$U/v1/audit?request=$r")" 200
t_eq "…the request's entries with their hashes" "$(jq '(.entries | length) > 2 and (.entries[0].hash | length) == 64' "$W/body")" true
t_eq "…an analyst cannot read the audit trail (403)" "$(code -H "Authorization: Bearer $ta" "$U/v1/audit")" 403
t_eq "GET /v1/retention/policy" "$(code -H "Authorization: Bearer $taud" "$U/v1/retention/policy")" 200
t_eq "POST /v1/retention/policy (admin)" "$(code -X POST -H "Authorization: Bearer $tadm" -d '{"class":"smtp","keep":"200 days"}' "$U/v1/retention/policy")" 200
t_eq "…an auditor cannot change it (403)" "$(code -X POST -H "Authorization: Bearer $taud" -d '{"class":"smtp","keep":"1 day"}' "$U/v1/retention/policy")" 403

# Tokens over HTTP: listed without their secrets, revoked, then refused.
t_eq "GET /v1/tokens" "$(code -H "Authorization: Bearer $tc" "$U/v1/tokens")" 200
tcid=$(jq -r '.tokens[] | select(.person == "carol") | .token_id' "$W/body" | tail -1)
t_eq "…carol's own, without the secret" "$(jq -r "[.tokens[] | select(.person != \"carol\")] | length" "$W/body")|$(grep -c spoor_ "$W/body")" "0|0"
t_eq "POST /v1/tokens/ID/revoke" "$(code -X POST -H "Authorization: Bearer $tc" -d '{}' "$U/v1/tokens/$tcid/revoke")" 200
t_eq "…the revoked token is refused (401)" "$(code -H "Authorization: Bearer $tc" "$U/v1/requests")" 401

t_eq "POST /v1/trace/user for a subscriber the order does not name: 403" \
  "$(code -X POST -H "Authorization: Bearer $ta" -d "{\"request_id\":$r,\"user_name\":\"$user\"}" "$U/v1/trace/user")" 403
t_match "…named as such" "$(cat "$W/body")" 'is not named by the request'

# Bad requests: 4xx JSON, never a crash.
t_eq "bad JSON: 400" "$(code -X POST -H "Authorization: Bearer $ta" -d '{nope' "$U/v1/trace/ip")" 400
t_eq "missing field: 400" "$(code -X POST -H "Authorization: Bearer $ta" -d "{\"request_id\":$r}" "$U/v1/trace/ip")" 400
# One set of rules for a lookup's arguments, the CLI's and the API's
# (query/trace_args): what one refuses, the other refuses too.
t_eq "API: a Message-ID empty once canonical ('<>'): 400" "$(code -X POST -H "Authorization: Bearer $ta" -d "{\"request_id\":$r,\"message_id\":\"<>\"}" "$U/v1/trace/message-id")" 400
t_match "…saying why" "$(cat "$W/body")" 'empty Message-ID'
out=$(as alice trace message-id '<>' --request "$r" 2>&1); rc=$?
t_eq "CLI: the same Message-ID refused (exit 2)" "$rc:$(printf '%s' "$out" | grep -c 'empty Message-ID')" "2:1"
t_eq "API: a tolerance over 3600 s: 400" "$(code -X POST -H "Authorization: Bearer $ta" -d "{\"request_id\":$r,\"ip\":\"$ip\",\"at\":\"${time/+00:00/Z}\",\"tolerance\":99999}" "$U/v1/trace/ip")" 400
out=$(as alice trace ip "$ip" --at 2026-11-21T09:00:00Z --tolerance 99999 --request "$r" 2>&1); rc=$?
t_eq "CLI: the same tolerance refused (exit 2)" "$rc:$(printf '%s' "$out" | grep -c '0 to 3600')" "2:1"
long=$(head -c 1000 /dev/zero | tr '\0' a)
out=$(as alice trace message-id "<$long@x>" --request "$r" 2>&1); rc=$?
t_eq "CLI: a Message-ID over 998 bytes refused (exit 2), as the API refuses it" "$rc:$(printf '%s' "$out" | grep -c 'longer than 998')" "2:1"
t_eq "API: the same Message-ID: 400" "$(code -X POST -H "Authorization: Bearer $ta" -d "{\"request_id\":$r,\"message_id\":\"<$long@x>\"}" "$U/v1/trace/message-id")" 400
t_eq "unknown path: 404" "$(code "$U/v1/nothing")" 404
t_eq "wrong method: 405" "$(code "$U/v1/trace/ip")" 405
head -c 8000 /dev/zero | tr '\0' 'a' >"$W/big"
t_eq "body over api.max_body: 413" "$(code -X POST -H "Authorization: Bearer $ta" --data-binary @"$W/big" "$U/v1/trace/ip")" 413
# h2o's limit on a request head is 8 KiB + 4 KiB per header (100 at most).
{ printf 'GET /health HTTP/1.1\r\nHost: x\r\n'
  for i in $(seq 1 110); do printf 'X-Big-%d: %s\r\n' "$i" "$(head -c 4000 /dev/zero | tr '\0' b)"; done
  printf '\r\n'; } >"$W/bighead"
resp=$(timeout 5 nc -q 2 127.0.0.1 "$PORT" <"$W/bighead" 2>/dev/null | head -1)
t_match "a request head over h2o's limit (110 headers of 4 KB): 4xx, not served" "$resp" '^HTTP/1.1 4[0-9][0-9]'
resp=$(printf 'GARBAGE\x00\x01 / HTTP/9\r\n\r\n' | timeout 5 nc -q 2 127.0.0.1 "$PORT" 2>/dev/null | head -1)
t_match "garbage on the socket: 400" "$resp" '^HTTP/1.1 400'
# A stalled client (a request line and one header, then nothing) is cut off
# at api.timeout (2 s here): spoor-api closes the connection, no answer.
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'POST /v1/trace/ip HTTP/1.1\r\nHost: x\r\n' >&3
s0=$(date +%s%N)
timeout 10 cat <&3 >"$W/stall.out"; rc=$?
el=$(( ($(date +%s%N) - s0) / 1000000 ))
exec 3>&-
t_eq "a stalled client is cut off: spoor-api closes the connection (cat sees EOF, not its 10 s timeout)" "$rc" 0
t_eq "…without an answer" "$(wc -c <"$W/stall.out")" 0
t_eq "…at the deadline, not at once (closed after ≥ 1.5 s of api.timeout 2 s)" "$([ "$el" -ge 1500 ] && echo yes || echo "no: $el ms")" yes
# A client trickling a complete request a byte every 0.25 s (it would take
# ~15 s) is cut off at api.timeout all the same: the deadline is for the
# whole request, not between reads.
req=$'POST /v1/trace/ip HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\nX-Pad: aaaaaaaaaaaa\r\n\r\n{"request_id":1234}'
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
( for ((i = 0; i < ${#req}; i++)); do printf '%s' "${req:i:1}" >&3 2>/dev/null || exit 0; sleep 0.25; done ) & tp=$!
timeout 12 cat <&3 >"$W/trickle.out"; rc=$?
kill $tp 2>/dev/null; wait $tp 2>/dev/null; exec 3>&-
t_eq "a client sending a byte every 0.25 s is cut off before its request is complete" "$rc:$(wc -c <"$W/trickle.out")" "0:0"
t_match "…and counted" "$(curl -s "$U/metrics")" 'spoor_api_deadline_cutoffs_total [1-9]'
# One slow call (here: waiting for a lock the DBA holds) holds up neither
# /health nor another person's call.
mkfifo "$W/lockhold"
( psql -X -q -c "begin" -c "lock table spoor.request in access exclusive mode" -f "$W/lockhold" >/dev/null 2>&1 ) &
lockpid=$!
exec 8>"$W/lockhold"
sleep 0.5
( exec 8>&-; code -H "Authorization: Bearer $ta" "$U/v1/requests" >"$W/slow.code" ) &  # not holding the fifo open
slowpid=$!
sleep 0.5
t_eq "/health answers while a call waits in the database" "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$U/health")" 200
t_eq "…and so does another person's call" \
  "$(curl -s -m 3 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $taud" "$U/v1/retention/policy")" 200
t_eq "…while the slow one is still waiting" "$(kill -0 $slowpid 2>/dev/null && echo waiting)" waiting
exec 8>&-; wait $lockpid 2>/dev/null; wait $slowpid
t_eq "…which answers once the lock is gone" "$(cat "$W/slow.code")" 200
# api.rate (10 per second here, bursts of 20) per token: 60 requests at
# once with one token, over one connection, are partly refused with 429.
tr=$(as bob token create | head -1)
urls=(); for _ in $(seq 1 60); do urls+=(-o /dev/null "$U/v1/tokens"); done
codes=$(curl -s -w '%{http_code}\n' -H "Authorization: Bearer $tr" "${urls[@]}")
t_eq "a burst over api.rate for one token: the first 20 served, later ones 429" \
  "$(printf '%s\n' "$codes" | head -20 | sort -u | tr '\n' ' ')$(printf '%s\n' "$codes" | grep -c 429 | sed 's/^[1-9][0-9]*$/some-429/')" "200 some-429"
t_eq "…another person's token is not held up by it" "$(code -H "Authorization: Bearer $ta" "$U/v1/tokens")" 200
# api.max_connections (8 here): more open connections are refused at once.
fds=()
for _ in 1 2 3 4 5 6 7 8; do exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"; fds+=("$fd"); done
sleep 0.3
t_eq "connections over api.max_connections get 503" "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$U/health")" 503
for fd in "${fds[@]}"; do exec {fd}>&-; done
sleep 0.3
t_eq "…and are served again once others close" "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$U/health")" 200
kill -0 $api 2>/dev/null && t_ok "spoor-api still running after all that" || t_fail "spoor-api still running after all that"
t_match "metrics count requests" "$(curl -s "$U/metrics")" 'spoor_api_requests_total [1-9]'
kill -TERM $api; wait $api; rc=$?
t_eq "SIGTERM: exit 0 (and, under valgrind, no memory errors or leaks)" "$rc" 0
[ "$rc" = 0 ] || { [ -f "$W/vg.log" ] && grep -A10 -E 'Invalid|uninit|definitely' "$W/vg.log" | head -20; }
# HTTPS: a certificate and key make spoor-api speak TLS (1.2 at least) with
# HTTP/2 by ALPN; with api.tls_client_ca_file it also requires a client
# certificate from that CA (mutual TLS, for a law-enforcement portal).
. tests/integration/realpeers.sh
rp_tls_certs "$W/tls"
TPORT=$((PORT + 1))
H="https://spoor-collect:$TPORT"
R=(--resolve "spoor-collect:$TPORT:127.0.0.1" --cacert "$W/tls/ca.pem")
api_tls() { # extra config lines on stdin
  { printf 'api.listen = 127.0.0.1:%s\napi.timeout = 2s\nlog.level = warn\n' "$TPORT"
    printf 'api.tls_cert_file = %s\napi.tls_key_file = %s\n' "$W/tls/server.pem" "$W/tls/server.key"
    cat; } >"$W/tls.conf"
  PGUSER=apid "$B/spoor-api" --config "$W/tls.conf" 2>>"$W/api-tls.log" & tapi=$!
  for _ in $(seq 1 100); do curl -s -o /dev/null "${R[@]}" "$@" "$H/health" && break
    kill -0 $tapi 2>/dev/null || break; sleep 0.1; done
}
api_tls </dev/null
t_eq "HTTPS: /health over HTTP/2 (ALPN)" "$(curl -s "${R[@]}" -o /dev/null -w '%{http_code} %{http_version}' "$H/health")" "200 2"
t_eq "…and over HTTP/1.1 when the client asks for it" "$(curl -s --http1.1 "${R[@]}" -o /dev/null -w '%{http_code} %{http_version}' "$H/health")" "200 1.1"
t_eq "…a person's call over HTTP/2 with a bearer token" "$(curl -s "${R[@]}" -o /dev/null -w '%{http_code} %{http_version}' -H "Authorization: Bearer $tb" "$H/v1/requests")" "200 2"
t_eq "…an unknown token still 401 over HTTP/2" "$(curl -s "${R[@]}" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer spoor_0000000000000000000000" "$H/v1/requests")" 401
t_match "…a TLS 1.2 client is served (forward-secret AEAD suite)" \
  "$(openssl s_client -connect "127.0.0.1:$TPORT" -tls1_2 </dev/null 2>&1 | grep -E '^New,')" 'TLSv1.2, Cipher is ECDHE-[A-Z0-9-]*(GCM|CHACHA20)'
t_match "…a TLS 1.1 client gets no session (TLS 1.2 at least)" \
  "$(openssl s_client -connect "127.0.0.1:$TPORT" -tls1_1 -cipher 'DEFAULT@SECLEVEL=0' </dev/null 2>&1 | grep -E '^New,')" 'Cipher is \(NONE\)'
t_eq "…plain HTTP to the HTTPS port is not served" "$(curl -s -m 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$TPORT/health")" 000
exec 3<>"/dev/tcp/127.0.0.1/$TPORT"
timeout 10 cat <&3 >/dev/null; rc=$?; exec 3>&-
t_eq "…a client that never starts its TLS handshake is cut off at api.timeout" "$rc" 0
kill -TERM $tapi; wait $tapi
t_eq "…and stops cleanly" "$?" 0
api_tls --cert "$W/tls/client.pem" --key "$W/tls/client.key" <<<"api.tls_client_ca_file = $W/tls/ca.pem"
t_eq "mutual TLS: a client without a certificate gets no answer" "$(curl -s -m 3 "${R[@]}" -o /dev/null -w '%{http_code}' "$H/health")" 000
t_eq "…nor one with a certificate from another CA" "$(curl -s -m 3 "${R[@]}" --cert "$W/tls/rogue.pem" --key "$W/tls/rogue.key" -o /dev/null -w '%{http_code}' "$H/health")" 000
t_eq "…a certificate from api.tls_client_ca_file: served" "$(curl -s -m 3 "${R[@]}" --cert "$W/tls/client.pem" --key "$W/tls/client.key" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tb" "$H/v1/requests")" 200
kill -TERM $tapi; wait $tapi
t_eq "api.tls_client_ca_file without a certificate and key: refused at start" \
  "$(printf 'api.listen = 127.0.0.1:%s\napi.tls_client_ca_file = %s\n' "$TPORT" "$W/tls/ca.pem" >"$W/bad.conf"; PGUSER=apid timeout 5 "$B/spoor-api" --config "$W/bad.conf" >/dev/null 2>&1; echo $?)" 1
t_unit spoor-api "$W/units" 'User=spoor-api' 'ProtectSystem=strict' 'NoNewPrivileges=yes' 'CapabilityBoundingSet=$' 'SystemCallFilter=~@privileged$' 'ReadOnlyPaths=/etc/spoor$'
t_done
