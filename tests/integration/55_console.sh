# The web console (web/, served by spoor-api): its files under a strict
# Content-Security-Policy, sign-in with a person's token into an HttpOnly
# SameSite=Strict session cookie, CSRF refused, sign-out and idle expiry,
# all audited; then Debian's Chromium drives the whole seed-000 story through
# the console (tests/browser/console.py).
set -u
. tests/lib.sh
S=$B/spoor
W=$SPOOR_VAR/work-console
rm -rf "$W"; mkdir -p "$W"
t_scratch_db spoor_console_t
t_person anna analyst,approver
t_person bert approver
t_person audrey auditor
t_person apic api

"$B/tests/spoor-gen" --out "$W/d" --subscribers 60 --hours 2 --seed 7 --start 2026-11-21T08:00:00Z \
  --mails-per-hour 100 >/dev/null 2>&1
"$S" import --format radius-detail "$W/d/radius.detail" >/dev/null
"$S" import --format postfix --reference 2026-11-21T12:00:00Z "$W/d/maillog" >/dev/null
IFS=$'\t' read -r mid host qids time ip port sasl user calling < <(sed -n 's/\r//; 2,$p' "$W/d/truth_mail.tsv" | awk -F'\t' '$8 != "" && $9 != "" && $2 != "smtp3"' | head -1)
other=$(sed -n 's/\r//; 2,$p' "$W/d/truth_mail.tsv" | awk -F'\t' '$8 != ""' | sed -n '5p' | cut -f1)
gdate=$(date -u -d "$time" -R)
cat >"$W/genuine.eml" <<EML
Received: from mx.isp.example (mx.isp.example [192.0.2.25])
	by mx.recipient.example (Postfix) with ESMTPS id 4XyZ12abC;
	$gdate
Received: from pc.home (host-x.dsl.isp.example [$ip])
	by $host.isp.example (Postfix) with ESMTPSA id ${qids%%,*}
	for <someone@recipient.example>; $gdate
Message-ID: <$mid>
From: <$sasl>
Subject: hello
Date: $gdate

body
EML
ta=$(as anna token create | head -1)
tb=$(as bert token create | head -1)
td=$(as audrey token create | head -1)

PORT=$((SPOOR_KAFKA_PORT + 45))
SPORT=$((PORT + 1))
# The main instance under valgrind (except in a sanitizer build): the
# sessions, cookies and files must leave no memory errors or leaks.
vg=()
case "$B" in *asan*) ;; *) command -v valgrind >/dev/null &&
  vg=(valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
      --show-leak-kinds=definite,indirect --log-file="$W/vg.log") ;; esac
mkdir -p "$W/keys"; as audrey audit keygen "$W/keys" >/dev/null
api_start() { # PORT IDLE LOG [extra config]
  printf 'api.listen = 127.0.0.1:%s\napi.web_root = %s\napi.session_idle = %s\napi.rate = 200\nlog.level = warn\n%s\n' \
    "$1" "$PWD/web" "$2" "${4:-}" >"$W/api-$1.conf"
  PGUSER=apic "${run[@]}" "$B/spoor-api" --config "$W/api-$1.conf" >/dev/null 2>"$3" &
  started=$!
  for _ in $(seq 1 300); do curl -sk -o /dev/null "http://127.0.0.1:$1/health" && break; sleep 0.1; done
}
run=("${vg[@]}")
api_start $PORT 15m "$W/api.log" "legal.signing_key = $W/keys/audit.key"; api=$started
run=()
api_start $SPORT 3s "$W/api-short.log"; sapi=$started
U="http://127.0.0.1:$PORT"
hdr() { curl -s -D - -o "$W/body" "$@" | tr -d '\r'; }

# --- the files ---
h=$(hdr "$U/")
t_match "GET / is the console's page" "$h" '^content-type: text/html'
t_match "…under a CSP that allows its own files only, no inline script" "$h" \
  "^content-security-policy: default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$"
t_match "…never framed" "$h" '^x-frame-options: DENY'
t_match "…with an ETag" "$h" '^etag: "[0-9a-f]{32}"'
etag=$(printf '%s\n' "$h" | sed -n 's/^etag: //p')
t_eq "…and 304 when the browser has it" "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$U/")" 304
t_match "GET /app.js is JavaScript" "$(hdr "$U/app.js")" '^content-type: text/javascript'
t_eq "no path leaves the folder (/../sql/README.md)" "$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$U/../sql/README.md")" 404
t_eq "…nor an encoded one (/%2e%2e/etc/passwd)" "$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$U/%2e%2e/etc/passwd")" 404
t_eq "a file the folder does not have: 404" "$(curl -s -o /dev/null -w '%{http_code}' "$U/README.md")" 404
t_eq "POST to a page: 405" "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$U/")" 405
t_eq "the console's HTML has no inline script or style, and loads nothing from elsewhere" \
  "$(grep -hoE '<script>|<script [^>]*>[^<]|<style|style=|\son[a-z]+=|https?://[^" ]*' web/*.html | grep -v 'http://www.w3.org' | sort -u)" ""
t_eq "…nor does its script build HTML from strings" "$(grep -cE 'innerHTML|outerHTML *=|insertAdjacentHTML|document\.write|eval\(' web/app.js)" 0

# --- sign-in, CSRF, sign-out ---
t_eq "sign-in needs a JSON body (a cross-site form cannot sign anyone in)" \
  "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: text/plain' -d "{\"token\":\"$ta\"}" "$U/v1/session")" 415
t_eq "a wrong token: 401" "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{"token":"spoor_00000000000000000000000000"}' "$U/v1/session")" 401
h=$(hdr -H 'Content-Type: application/json' -d "{\"token\":\"$ta\"}" "$U/v1/session")
cookie=$(printf '%s\n' "$h" | sed -n 's/^set-cookie: \(spoor_session=[0-9a-f]*\);.*/\1/p')
t_match "the person's token becomes a session cookie: HttpOnly, SameSite=Strict" "$h" \
  '^set-cookie: spoor_session=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict$'
csrf=$(jq -r .csrf "$W/body")
t_match "…the answer names the person and their groups and gives the CSRF secret" "$(jq -c '[.person, .groups, (.csrf | length)]' "$W/body")" '^\["anna",\["spoor_analyst","spoor_approver"\],64\]$'
t_eq "…the token is not in the answer" "$(grep -c "$ta" "$W/body")" 0
t_eq "the cookie with the CSRF secret opens the API (GET /v1/requests)" "$(curl -s -o /dev/null -w '%{http_code}' -b "$cookie" -H "X-CSRF-Token: $csrf" "$U/v1/requests")" 200
t_eq "…a read with the cookie alone is refused too (reads of a case are audited: no other page may cause one)" \
  "$(curl -s -o /dev/null -w '%{http_code}' -b "$cookie" "$U/v1/requests")" 403
t_eq "…and so is a call the browser marks as coming from another site, secret or not" \
  "$(curl -s -o /dev/null -w '%{http_code}' -b "$cookie" -H "X-CSRF-Token: $csrf" -H 'Sec-Fetch-Site: same-site' "$U/v1/requests")" 403
n0=$(t_psql -c "select count(*) from spoor.request")
req='{"case_ref":"CSRF","authority":"A","legal_basis":"B","window_lo":"2026-11-21T00:00:00Z","window_hi":"2026-11-22T00:00:00Z","scope":[{"kind":"message_id","value":"x@y"}]}'
t_eq "CSRF: the cookie without the CSRF secret cannot change anything (403)" \
  "$(curl -s -o /dev/null -w '%{http_code}' -b "$cookie" -H 'Content-Type: application/json' -d "$req" "$U/v1/requests")" 403
t_eq "…nor with another secret (403)" \
  "$(curl -s -o /dev/null -w '%{http_code}' -b "$cookie" -H "X-CSRF-Token: $(printf '%064d' 0)" -d "$req" "$U/v1/requests")" 403
t_eq "…and nothing was recorded" "$(t_psql -c "select count(*) from spoor.request")" "$n0"
t_eq "with the secret the same call records the request" \
  "$(curl -s -o /dev/null -w '%{http_code}' -b "$cookie" -H "X-CSRF-Token: $csrf" -d "$req" "$U/v1/requests")" 200
t_eq "a forged session id is no session (401)" "$(curl -s -o /dev/null -w '%{http_code}' -b "spoor_session=$(printf '%064d' 1)" "$U/v1/requests")" 401
t_eq "sign-out needs the CSRF secret too" "$(curl -s -o /dev/null -w '%{http_code}' -b "$cookie" -X POST -d '{}' "$U/v1/session/end")" 403
h=$(hdr -b "$cookie" -H "X-CSRF-Token: $csrf" -d '{}' "$U/v1/session/end")
t_match "sign-out clears the cookie" "$h" '^set-cookie: spoor_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0$'
t_eq "…and the old cookie is refused afterwards (401)" "$(curl -s -o /dev/null -w '%{http_code}' -b "$cookie" "$U/v1/requests")" 401
t_eq "sign-in and sign-out are in the audit trail under the person's name" \
  "$(t_psql -c "select string_agg(action, ',' order by seq) from spoor.audit where actor = 'anna' and action like 'console.%'")" "console.sign_in,console.sign_out"
h=$(hdr -H 'Content-Type: application/json' -d "{\"token\":\"$ta\"}" "http://127.0.0.1:$SPORT/v1/session")
scookie=$(printf '%s\n' "$h" | sed -n 's/^set-cookie: \(spoor_session=[0-9a-f]*\);.*/\1/p')
scsrf=$(jq -r .csrf "$W/body")
# Used every second for four seconds, the session outlives the 3 s idle
# limit (a step each second leaves two seconds' margin on a busy machine;
# one step of two seconds after sign-in did not, once).
code=
for _ in 1 2 3 4; do
  sleep 1
  code=$(curl -s -o /dev/null -w '%{http_code}' -b "$scookie" -H "X-CSRF-Token: $scsrf" "http://127.0.0.1:$SPORT/v1/requests")
  [ "$code" = 200 ] || break
done
t_eq "idle expiry: a session in use stays past api.session_idle (3s)" "$code" 200
t_eq "…an unused one ends (401)" "$(sleep 4; curl -s -o /dev/null -w '%{http_code}' -b "$scookie" -H "X-CSRF-Token: $scsrf" "http://127.0.0.1:$SPORT/v1/requests")" 401
h=$(hdr -H 'Content-Type: application/json' -d "{\"token\":\"$ta\"}" "$U/v1/session")
cookie=$(printf '%s\n' "$h" | sed -n 's/^set-cookie: \(spoor_session=[0-9a-f]*\);.*/\1/p')
csrf=$(jq -r .csrf "$W/body")
tid=$(t_psql -c "select max(token_id) from spoor.api_token where role = 'anna'")
as anna token revoke "$tid" >/dev/null
t_eq "a revoked token ends its console sessions at once (401)" "$(curl -s -o /dev/null -w '%{http_code}' -b "$cookie" -H "X-CSRF-Token: $csrf" "$U/v1/requests")" 401
t_eq "…and the session is gone, not merely refused: the cookie is cleared" \
  "$(curl -s -D - -o /dev/null -b "$cookie" -H "X-CSRF-Token: $csrf" "$U/v1/requests" | tr -d '\r' | grep -c '^set-cookie: spoor_session=;')" 1
ta=$(as anna token create | head -1)
# A person has at most 8 sessions: the ninth sign-in ends their oldest, so
# no one can crowd the others out of the store.
first=""
for i in 1 2 3 4 5 6 7 8 9; do
  h=$(hdr -H 'Content-Type: application/json' -d "{\"token\":\"$ta\"}" "$U/v1/session")
  [ -n "$first" ] || { first=$(printf '%s\n' "$h" | sed -n 's/^set-cookie: \(spoor_session=[0-9a-f]*\);.*/\1/p'); fcsrf=$(jq -r .csrf "$W/body"); }
done
t_eq "a ninth sign-in of one person ends their oldest session (401)" \
  "$(curl -s -o /dev/null -w '%{http_code}' -b "$first" -H "X-CSRF-Token: $fcsrf" "$U/v1/requests")" 401
t_eq "an auditor cannot have a signed package made (it is for those who disclose: 403)" \
  "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $td" "$U/v1/requests/1/package")" 403

t_eq "a spoor-api without legal.signing_key makes no signed package (501)" \
  "$(curl -s -o "$W/body" -w '%{http_code}' -H "Authorization: Bearer $ta" "http://127.0.0.1:$SPORT/v1/requests/1/package")" 501
t_match "…and says where it is made" "$(cat "$W/body")" 'spoor request export'

# --- under TLS the cookie is Secure ---
. tests/integration/realpeers.sh
rp_tls_certs "$W/tls"
TPORT=$((PORT + 2))
printf 'api.listen = 127.0.0.1:%s\napi.web_root = %s\napi.tls_cert_file = %s\napi.tls_key_file = %s\nlog.level = warn\n' \
  "$TPORT" "$PWD/web" "$W/tls/server.pem" "$W/tls/server.key" >"$W/tls.conf"
PGUSER=apic "$B/spoor-api" --config "$W/tls.conf" 2>"$W/api-tls.log" & tapi=$!
R=(--resolve "spoor-collect:$TPORT:127.0.0.1" --cacert "$W/tls/ca.pem")
for _ in $(seq 1 100); do curl -s -o /dev/null "${R[@]}" "https://spoor-collect:$TPORT/health" && break; sleep 0.1; done
t_match "under TLS the session cookie is __Host- and Secure (this host and port only)" \
  "$(curl -s "${R[@]}" -D - -o /dev/null -H 'Content-Type: application/json' -d "{\"token\":\"$tb\"}" "https://spoor-collect:$TPORT/v1/session" | tr -d '\r')" \
  '^set-cookie: __Host-spoor_session=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict; Secure$'
kill -TERM $tapi; wait $tapi 2>/dev/null
printf 'api.listen = 0.0.0.0:%s\napi.web_root = %s\n' "$TPORT" "$PWD/web" >"$W/open.conf"
out=$(PGUSER=apic timeout 5 "$B/spoor-api" --config "$W/open.conf" 2>&1); rc=$?
t_eq "the console on a non-loopback address without TLS: refused at start" "$rc" 1
t_match "…saying it needs TLS" "$out" 'needs TLS' 

# --- the browser ---
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && /usr/bin/python3 -c 'import selenium' 2>/dev/null; then
  mkdir -p "$W/downloads"
  out=$(HEADERS_FILE=$W/genuine.eml CONSOLE_URL=$U CONSOLE_SHORT_URL="http://127.0.0.1:$SPORT" TOKEN_ANNA=$ta TOKEN_BERT=$tb TOKEN_AUDREY=$td \
    MESSAGE_ID=$mid OTHER_MESSAGE_ID=$other CALLING=$calling WINDOW_LO=2026-11-21T00:00:00 WINDOW_HI=2026-11-22T00:00:00 \
    WORK=$W SCREENSHOTS=${SPOOR_SCREENSHOTS:-} timeout 600 /usr/bin/python3 tests/browser/console.py 2>"$W/browser.err")
  rc=$?
  while IFS= read -r line; do
    case $line in
      "ok "*) t_ok "browser: ${line#ok }" ;;
      "FAIL "*) t_fail "browser: ${line#FAIL }" ;;
    esac
  done <<<"$out"
  t_eq "the browser run ends cleanly" "$rc" 0
  [ "$rc" = 0 ] || tail -20 "$W/browser.err"
  t_eq "…and played the whole story (every one of its 48 checks passed)" "$(grep -c '^ok ' <<<"$out")" 48
  pkg=$(ls "$W"/downloads/spoor-request-*-package.tar 2>/dev/null | head -1)
  mkdir -p "$W/unpacked"
  t_run "the package downloaded in the browser is a tar archive" tar -C "$W/unpacked" -xf "$pkg"
  dir=$(ls -d "$W"/unpacked/spoor-request-*-package 2>/dev/null | head -1)
  t_match "…which spoor verify-package finds intact and signed by the ISP's key" \
    "$("$S" verify-package "$dir" --key "$W/keys/audit.pub" 2>&1)" 'intact'
  t_eq "…and whose ETSI XML validates against the schema" \
    "$(xmllint --noout --schema legal/etsi-102657-spoor.xsd "$dir/retained-data.xml" 2>&1 | tail -1)" "$dir/retained-data.xml validates"
  t_eq "…and the audit trail names that very package (request.package with its manifest's SHA-256)" \
    "$(t_psql -c "select result_digest from spoor.audit where action = 'request.package' and actor = 'anna'")" \
    "$(sha256sum "$dir/manifest.json" | cut -d' ' -f1)"
  t_match "…and the console's sign-in and the package export are in the audit trail as anna's" \
    "$(t_psql -c "select string_agg(distinct action, ',') from spoor.audit where actor = 'anna' and action in ('console.sign_in', 'request.export')")" 'console.sign_in,request.export'
else
  t_fail "Chromium, chromedriver and python3-selenium are installed (ops/setup)"
fi

kill -TERM "$sapi"
kill -TERM "$api"; wait "$api"; rc=$?
t_eq "spoor-api stops cleanly on SIGTERM (under valgrind: no memory errors or leaks)" "$rc" 0
[ "$rc" = 0 ] || { [ -f "$W/vg.log" ] && grep -A10 -E 'Invalid|uninit|definitely' "$W/vg.log" | head -20; }
t_done
