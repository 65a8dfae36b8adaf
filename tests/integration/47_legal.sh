# Legal, the rest of it: subscriber identities kept apart and revealed only
# under an order that covers them; kept results; signed disclosure packages
# (tampering detected offline, file by file) with the ETSI TS 102 657 answer;
# legal holds from preservation requests (90 days, renewable, two people to
# release early); reports.
set -u
. tests/lib.sh
S=$B/spoor
W=$SPOOR_VAR/work-legal
rm -rf "$W"; mkdir -p "$W"
t_scratch_db spoor_legal
t_person alice analyst
t_person bob approver
t_person carol analyst,approver
t_person adm admin
t_person aud auditor

"$B/tests/spoor-gen" --out "$W/d" --subscribers 40 --hours 2 --seed 9 --start 2026-11-21T08:00:00Z \
  --mails-per-hour 60 >/dev/null 2>&1
"$S" import --format radius-detail "$W/d/radius.detail" >/dev/null
"$S" import --format postfix --reference 2026-11-21T12:00:00Z "$W/d/maillog" >/dev/null
IFS=$'\t' read -r mid host qids time ip port sasl user calling < <(sed -n 's/\r//; 2,$p' "$W/d/truth_mail.tsv" | awk -F'\t' '$8 != "" && $2 != "smtp3"' | head -1)

# ---- subscriber identities ---------------------------------------------------
{
  printf '\xef\xbb\xbfaccount,full_name,postal_address,billing_contact\r\n'
  printf '%s,"Doe, Jane","1 High St\nTown",jane@example.org\r\n' "$user"
  printf 'other-account,John Roe,2 Low St,john@example.org\r\n'
} >"$W/subs.csv"
out=$(as alice subscribers import "$W/subs.csv" 2>&1); rc=$?
t_eq "an analyst cannot import identities" "$rc" 1
out=$(as adm subscribers import "$W/subs.csv"); rc=$?
t_eq "an admin imports the customer system's CSV" "$rc" 0
t_match "…and is told how many" "$out" 'imported 2 subscribers'
t_eq "quoted fields with commas and newlines survive" \
  "$(t_psql -c "select postal_address from spoor_identity.subscriber where account = '$user'")" $'1 High St\nTown'
t_eq "the import is audited with the file's SHA-256, not its data" \
  "$(t_psql -c "select params->>'sha256' = '$(sha256sum "$W/subs.csv" | cut -d' ' -f1)' and params::text not like '%Jane%' from spoor.audit where action = 'subscribers.import'")" t
printf 'account,nickname\nx,y\n' >"$W/bad1.csv"
out=$(as adm subscribers import "$W/bad1.csv" 2>&1); rc=$?
t_eq "an unknown column is refused" "$rc" 1
t_match "…naming file, line and column" "$out" 'bad1.csv:1: unknown column .nickname.'
printf 'account,full_name\na,"unterminated\n' >"$W/bad2.csv"
out=$(as adm subscribers import "$W/bad2.csv" 2>&1)
t_match "a broken quote is refused with its line" "$out" 'bad2.csv:2: quoted field opened here is never closed'
printf 'account,full_name\ndup,A\ndup,B\n' >"$W/bad3.csv"
out=$(as adm subscribers import "$W/bad3.csv" 2>&1)
t_match "a duplicate account is refused, naming both lines" "$out" 'bad3.csv:3: account .dup. appears twice \(first on line 2\)'
t_eq "a failed import changes nothing" "$(t_psql -c "select count(*) from spoor_identity.subscriber")" 2
for who in alice bob aud; do
  out=$(PGUSER=$who psql -X -tAc "select count(*) from spoor_identity.subscriber" 2>&1)
  t_match "$who cannot read identities directly" "$out" 'permission denied'
done
out=$(t_psql -c "set role spoor_owner; select count(*) from spoor_identity.subscriber" 2>&1)
t_match "not even the owner of the traffic data (watertight separation)" "$out" 'permission denied'
out=$(PGUSER=alice psql -X -tAc "select spoor_identity.reveal(1, array['$user'])" 2>&1)
t_match "an analyst cannot call reveal" "$out" 'permission denied'

# A request without subscriber data: the session, no identity.
r1=$(as alice request create --case ID-1 --authority 'Court A' --basis 'StPO 100j' --from 2026-11-21T08:00:00Z \
  --to 2026-11-21T10:00:00Z --ip "$ip" | sed -n 's/^request \([0-9]*\).*/\1/p')
as bob request approve "$r1" >/dev/null
out=$(as alice --json trace ip "$ip" --at "$time" --port "$port" --request "$r1")
t_match "a trace finds the session" "$out" "\"user_name\": *\"$user\""
t_eq "…but no identity without --subscriber-data" "$(printf '%s' "$out" | jq 'has("subscribers")')" false
# With subscriber data in scope: the identity comes with the answer, audited apart.
r2=$(as alice request create --case ID-2 --authority 'Court A' --basis 'StPO 100j' --from 2026-11-21T08:00:00Z \
  --to 2026-11-21T10:00:00Z --message-id "$mid" --subscriber-data | sed -n 's/^request \([0-9]*\).*/\1/p')
as bob request approve "$r2" >/dev/null
out=$(as alice --json trace message-id "$mid" --request "$r2")
t_eq "with --subscriber-data the holder's identity is revealed" \
  "$(printf '%s' "$out" | jq -r --arg u "$user" '.subscribers[$u].full_name')" 'Doe, Jane'
t_eq "…only the accounts the answer names" "$(printf '%s' "$out" | jq '.subscribers | length')" 1
t_eq "…and the reveal is an audit entry of its own, with a digest" \
  "$(t_psql -c "select count(*) from spoor.audit where action = 'subscriber.reveal' and request_id = $r2 and result_digest ~ '^[0-9a-f]{64}\$'")" 1
t_eq "every allowed lookup's answer is kept beside its audit entry" \
  "$(t_psql -c "select count(*) from spoor.request_result x join spoor.audit a on a.seq = x.audit_seq where x.request_id = $r2 and a.result_digest = encode(sha256(convert_to(x.result::text, 'UTF8')), 'hex')")" 2
out=$(t_psql -c "update spoor.request_result set result = '{}' where request_id = $r2" 2>&1)
t_match "kept results cannot be changed" "$out" 'append-only'

# A subscriber's history, only under an order that names the subscriber.
ru=$(as alice request create --case ID-U --authority 'Court A' --basis 'StPO 100g' --from 2026-11-21T08:00:00Z \
  --to 2026-11-21T10:00:00Z --user "$user" | sed -n 's/^request \([0-9]*\).*/\1/p')
as bob request approve "$ru" >/dev/null
out=$(as alice --json trace user "$user" --request "$ru"); rc=$?
t_eq "trace user: the named subscriber's sessions in the window" "$rc/$(printf '%s' "$out" | jq -r '[.sessions[].calling_station_id] | unique | join(",")')" "0/$calling"
t_match "…with the Start or Stop records as evidence" "$(printf '%s' "$out" | jq -r '.sessions[0].evidence[0].line')" 'Acct-Status-Type = (Start|Stop)'
out=$(as alice trace user other-account --request "$ru" 2>&1); rc=$?
t_eq "trace user: anyone else is refused" "$rc" 1
t_match "…as not named by the order" "$out" 'user_name other-account is not named by the request'
out=$(as alice trace user "$user" --request "$r1" 2>&1); rc=$?
t_match "…and an order naming only an address lists no subscriber's history" "$out" 'is not named by the request'

# ---- disclosure package ------------------------------------------------------------
mkdir -p "$W/keys" "$W/keys2"
"$S" audit keygen "$W/keys" >/dev/null
chmod 0400 "$W/keys/audit.key"
out=$(as alice request export "$r2" "$W/pkg" --key "$W/keys/audit.key"); rc=$?
t_eq "an executed request exports" "$rc" 0
for f in request.json results.csv evidence.json audit.json retained-data.xml manifest.json manifest.sig; do
  [ -s "$W/pkg/$f" ] && t_ok "package has $f" || t_fail "package has $f"
done
t_eq "one result file per kept result" "$(ls "$W/pkg/results" | wc -l)" 2
t_match "results.csv has the submission and the session" "$(cat "$W/pkg/results.csv")" "submission,.*$sasl"
t_match "…with the Calling-Station-Id" "$(cat "$W/pkg/results.csv")" "session,$ip,$user,$calling"
t_match "evidence.json has verbatim lines with block SHA-256s" "$(jq -r '.[0].block_sha256' "$W/pkg/evidence.json")" '^[0-9a-f]{64}$'
t_match "evidence has the client= line" "$(jq -r '.[].line' "$W/pkg/evidence.json")" "client=.*\\[$ip\\]"
t_eq "the package files are private (0600)" "$(stat -c %a "$W/pkg/results.csv")" 600
x=$(tr -d "\n" <"$W/pkg/retained-data.xml")
t_match "ETSI XML: namespace" "$x" 'xmlns="http://uri.etsi.org/02657/v1.28.1#/RetainedData"'
t_match "ETSI XML: requestID with the case as requestNumber" "$x" '<requestNumber>ID-2</requestNumber>'
t_match "ETSI XML: authorised organisation" "$x" '<authorisedOrganisationID>Court A</authorisedOrganisationID>'
t_match "ETSI XML: CSP ID and GeneralizedTime" "$x" '<cSPID>spoor-isp</cSPID>.*<timeStamp>[0-9]{14}Z</timeStamp>'
t_match "ETSI XML: a msgTransmission with the client address" "$x" "<clientID>.*<iPTextAddress>$ip</iPTextAddress>"
t_match "ETSI XML: the session as a networkAccessRecord with naAuthID" "$x" "<networkAccessRecord>.*<naAuthID>[^<]+</naAuthID>.*\"Calling-Station-Id\"=\"$calling\""
t_match "ETSI XML: rdHeaderId, the module's object identifier, first" "$x" '<RetainedDataMessage[^>]*> *<rdHeaderId>0\.4\.0\.2\.3\.0\.[0-9]+</rdHeaderId> *<retainedDataHeader>'
t_match "ETSI XML: a responseStatus opens the responseMessage" "$x" '<responseMessage> *<responseStatus><responseComplete/></responseStatus>'
NS='http://uri.etsi.org/02657/v1.28.1#/RetainedData'
xp() { xmllint --xpath "$1" "$W/pkg/retained-data.xml" 2>/dev/null; }
{ xmllint --noout "$W/pkg/retained-data.xml" 2>/dev/null && t_ok "ETSI XML is well-formed (xmllint)" || t_fail "ETSI XML is well-formed (xmllint)"; }
{
  t_eq "ETSI XML validates against legal/etsi-102657-spoor.xsd" \
    "$(xmllint --noout --schema legal/etsi-102657-spoor.xsd "$W/pkg/retained-data.xml" 2>&1 | tail -1)" "$W/pkg/retained-data.xml validates"
  for g in tests/golden/etsi/*.xml; do
    t_eq "golden $(basename "$g") validates against the schema" "$(xmllint --noout --schema legal/etsi-102657-spoor.xsd "$g" 2>&1 | tail -1)" "$g validates"
  done
  # What a public importer of ETSI retained-data exports (fqlite's
  # EtsiXmlImporter) requires: every element in the release's namespace,
  # the header as the root's child with requestNumber, cSPID and a whole-
  # second GeneralizedTime, each ResponseRecord with a decimal recordNumber.
  t_eq "importer: every element in the v1.28.1 namespace" "$(xp "count(//*[namespace-uri() != '$NS'])")" 0
  t_eq "importer: retainedDataHeader is the root's child" "$(xp "count(/*/*[local-name() = 'retainedDataHeader'])")" 1
  t_eq "importer: requestNumber present" "$(xp "string(/*/*[local-name() = 'retainedDataHeader']/*[local-name() = 'requestID']/*[local-name() = 'requestNumber'])")" ID-2
  t_match "importer: timeStamp is YYYYMMDDhhmmssZ" "$(xp "string(//*[local-name() = 'timeStamp'])")" '^[0-9]{14}Z$'
  t_eq "importer: records numbered 1..N" "$(xp "count(//*[local-name() = 'ResponseRecord'][*[local-name() = 'recordNumber'] = position()])")" "$(xp "count(//*[local-name() = 'ResponseRecord'])")"
  t_eq "one record per distinct result: the submission and its session, each once" "$(xp "count(//*[local-name() = 'ResponseRecord'])")" 2
  t_eq "no placeholder server name" "$(xp "count(//*[local-name() = 'sourceServerName'][. = 'unknown'])")" 0
}
out=$("$S" verify-package "$W/pkg" --key "$W/keys/audit.pub"); rc=$?
t_eq "verify-package: an untouched package verifies" "$rc" 0
t_match "…and says what it checked" "$out" 'intact — signature good, 7 files, [0-9]+ audit entries and 2 results'
t_eq "the export is audited" "$(t_psql -c "select count(*) from spoor.audit where action = 'request.export' and request_id = $r2 and actor = 'alice'")" 1

tamper() {  # tamper NAME COMMAND EXPECT
  rm -rf "$W/t"; cp -a "$W/pkg" "$W/t"; chmod -R u+w "$W/t"
  (cd "$W/t" && eval "$2")
  out=$("$S" verify-package "$W/t" --key "$W/keys/audit.pub" 2>&1); rc=$?
  t_eq "verify-package: $1 is detected" "$rc" 1
  t_match "…and named" "$out" "$3"
}
tamper "an edited CSV" "sed -i 's/$user/someone-else/' results.csv" 'results.csv: changed'
tamper "an edited result file" "f=\$(ls results | head -1); sed -i 's/\"ok\"/\"OK\"/' results/\$f" 'results/.*: changed'
tamper "an added file" "echo x > notes.txt" 'notes.txt: not in the manifest'
tamper "a deleted file" "rm evidence.json" 'evidence.json: missing'
tamper "an edited manifest" "sed -i 's/ID-2/ID-3/' manifest.json" 'signature does not verify'
tamper "a re-hashed manifest after edits" \
  "sed -i 's/$user/x/' results.csv; h=\$(sha256sum results.csv | cut -d' ' -f1); jq --arg h \$h '(.files[] | select(.name == \"results.csv\")).sha256 = \$h' manifest.json > m && mv m manifest.json" \
  'signature does not verify'
"$S" audit keygen "$W/keys2" >/dev/null
out=$("$S" verify-package "$W/pkg" --key "$W/keys2/audit.pub" 2>&1); rc=$?
t_eq "verify-package: another ISP's key is refused" "$rc" 1
out=$(as alice request export "$r2" "$W/pkg" --key "$W/keys/audit.key" 2>&1); rc=$?
t_match "a package is never written over" "$out" 'exists and is not empty'
chmod 0644 "$W/keys/audit.key"
out=$(as alice request export "$r2" "$W/pkg2" --key "$W/keys/audit.key" 2>&1); rc=$?
t_match "a readable secret key is refused" "$out" 'chmod 0400'
chmod 0400 "$W/keys/audit.key"
r3=$(as alice request create --case ID-3 --authority 'Court A' --basis 'StPO 100j' --from 2026-11-21T08:00:00Z \
  --to 2026-11-21T10:00:00Z --ip 192.0.2.99 | sed -n 's/^request \([0-9]*\).*/\1/p')
out=$(as alice request export "$r3" "$W/pkg3" --key "$W/keys/audit.key" 2>&1); rc=$?
t_match "an unexecuted request has nothing to export" "$out" 'only an executed request'

# ---- legal holds ---------------------------------------------------------------
p1=$(as alice request create --case P-1 --kind preservation --authority 'FBI' --basis '18 USC 2703(f)' \
  --from 2026-11-21T08:00:00Z --to 2026-11-21T10:00:00Z --ip "$ip" | sed -n 's/^request \([0-9]*\).*/\1/p')
as bob request approve "$p1" >/dev/null
t_match "approving a preservation request executes it" "$(as alice request show "$p1")" 'state +executed'
out=$(as alice --json hold list)
h1=$(printf '%s' "$out" | jq -r --argjson r "$p1" '.[] | select(.request_id == $r) | .hold_id')
t_match "…and creates a hold" "$h1" '^[0-9]+$'
t_eq "the hold list shows the case to its people" \
  "$(printf '%s' "$out" | jq -r --argjson r "$p1" '.[] | select(.request_id == $r) | .case_ref')" P-1
out=$(as aud --json hold list)
t_eq "…and to anyone else (an auditor) its state and expiry, not the case (reference, authority, scope)" \
  "$(printf '%s' "$out" | jq -c --argjson r "$p1" '[.[] | select(.request_id == $r) | has("case_ref"), has("authority"), has("scope"), .state]')" \
  '[false,false,false,"active"]'
t_eq "…expiring in 90 days by default" \
  "$(t_psql -c "select round(extract(epoch from expires_at - created_at) / 86400) from spoor.hold where hold_id = $h1")" 90
t_eq "hold creation is audited" "$(t_psql -c "select count(*) from spoor.audit where action = 'hold.create' and request_id = $p1")" 1
out=$(as alice trace ip "$ip" --at "$time" --request "$p1" 2>&1); rc=$?
t_match "a preservation request allows no lookup" "$out" 'preservation request does not allow lookups'
out=$(as alice hold renew "$h1" --days 120 2>&1); rc=$?
t_match "a renewal is at most 90 days" "$out" '1 to 90 days'
out=$(as alice hold renew "$h1" --days 90); rc=$?
t_eq "a hold is renewed" "$rc" 0
t_eq "…to 180 days" \
  "$(t_psql -c "select round(extract(epoch from expires_at - created_at) / 86400) from spoor.hold where hold_id = $h1")" 180
as alice hold renew "$h1" --days 90 >/dev/null
t_eq "renewals do not stack beyond 180 days ahead" \
  "$(t_psql -c "select round(extract(epoch from expires_at - now()) / 86400) from spoor.hold where hold_id = $h1")" 180
t_match "the held days include the day of the window" "$(t_psql -c "select string_agg(day::text, ',') from spoor.held_days()")" '2026-11-21'
out=$(as alice hold release "$h1" --note 'case dropped')
t_match "release: the first person asks" "$out" 'second person must confirm'
out=$(as alice hold release "$h1" 2>&1); rc=$?
t_eq "…the same person cannot confirm" "$rc" 1
t_match "…and is told why" "$out" 'two people'
out=$(PGUSER=alice psql -X -tAc "update spoor.hold set state = 'released' where hold_id = $h1" 2>&1)
t_match "psql cannot release a hold directly" "$out" 'permission denied'
t_eq "a second person's release is needed even for the owner of the data" \
  "$(t_psql -c "set role spoor_owner; update spoor.hold set released_by = 'alice', state = 'released' where hold_id = $h1" 2>&1 | grep -c 'violates check constraint')" 1
# The second person must be on the case too (need to know): carol is not.
out=$(as carol hold release "$h1" 2>&1); rc=$?
t_eq "…not by someone who is not on the case" "$rc" 1
t_match "…who is told why" "$out" 'not on this case'
out=$(as bob hold release "$h1"); rc=$?
t_eq "…a second person on the case (its approver) releases it" "$rc" 0
t_match "…now released" "$(as alice hold list)" "^$h1 +$p1 +released"
t_eq "the release names both people in the audit trail" \
  "$(t_psql -c "select actor || '/' || (params->>'requested_by') from spoor.audit where action = 'hold.release' and outcome = 'ok'")" 'bob/alice'
p2=$(as alice request create --case P-2 --kind preservation --authority 'Police' --basis 'Art. 16 Budapest' \
  --from 2026-11-21T00:00:00Z --to 2026-11-22T00:00:00Z --hold-mode days --hold-days 30 --user "$user" | sed -n 's/^request \([0-9]*\).*/\1/p')
as bob request approve "$p2" >/dev/null
h2=$(as alice --json hold list | jq -r --argjson r "$p2" '.[] | select(.request_id == $r) | .hold_id')
t_eq "a whole-days hold of 30 days" "$(t_psql -c "select mode || round(extract(epoch from expires_at - created_at) / 86400) from spoor.hold where hold_id = $h2")" days30
t_psql -c "set role spoor_owner; update spoor.hold set expires_at = now() - interval '1 second' where hold_id = $h2" >/dev/null 2>&1 || \
  t_psql -c "alter table spoor.hold disable trigger all; update spoor.hold set expires_at = now() - interval '1 second' where hold_id = $h2"
t_match "an expired hold shows as expired" "$(as alice hold list)" "^$h2 +$p2 +expired"
t_eq "expiry is audited" "$(t_psql -c "select count(*) from spoor.audit where action = 'hold.expire' and request_id = $p2")" 1

# ---- reports ---------------------------------------------------------------------
r4=$(as alice request create --case D-1 --authority 'Court B' --basis 'StPO 100g' --from 2026-11-21T08:00:00Z \
  --to 2026-11-21T10:00:00Z --ip 192.0.2.1 --deadline "$(date -u -d '+1 day' +%FT%TZ)" | sed -n 's/^request \([0-9]*\).*/\1/p')
r5=$(as alice request create --case D-2 --authority 'Court B' --basis 'StPO 100g' --from 2026-11-21T08:00:00Z \
  --to 2026-11-21T10:00:00Z --ip 192.0.2.2 | sed -n 's/^request \([0-9]*\).*/\1/p')
as bob request reject "$r5" --note 'no valid order' >/dev/null
out=$(as aud report)
t_match "report: open requests with deadlines at risk" "$out" "$r4 +received .*AT RISK"
case "$out" in *D-1*) t_fail "… the case reference only for a reader on the case (not an auditor)" "$out" ;;
  *) t_ok "… the case reference only for a reader on the case (not an auditor)" ;; esac
t_match "… which the approver deciding it is" "$(as bob report)" "$r4 +received .*D-1 .*AT RISK"
out=$(as aud --json report)
y=$(date -u +%Y)
t_eq "report: requests received this year" "$(printf '%s' "$out" | jq .figures.received)" 8
t_eq "report: rejected" "$(printf '%s' "$out" | jq .figures.rejected)" 1
t_eq "report: by authority" "$(printf '%s' "$out" | jq -cS '.figures.by_authority')" '{"Court A":4,"Court B":2,"FBI":1,"Police":1}'
t_eq "report: by kind" "$(printf '%s' "$out" | jq -cS '.figures.by_kind')" '{"disclosure":6,"preservation":2}'
t_eq "report: by legal basis" "$(printf '%s' "$out" | jq '.figures.by_legal_basis["StPO 100j"]')" 3
t_eq "report: subscriber reveals counted" "$(printf '%s' "$out" | jq '.figures.subscriber_reveals')" 1
out=$(as aud --json report --year 2001)
t_eq "report --year: another year's figures" "$(printf '%s' "$out" | jq '.figures.received')" 0
out=$(as alice report 2>&1); rc=$?
t_match "analysts do not run reports" "$out" 'permission denied'
t_done
