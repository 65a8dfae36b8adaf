# Carrier-grade NAT: an order names a shared public address, a port and an
# instant; the CGN's port-block (or session) logs give the inside address,
# the RADIUS session that held it gives the subscriber.  Without a port,
# only how many subscribers shared the address, none named.  Lines from
# each vendor's format, each step with its verbatim evidence, under the
# legal gate and in the audit trail.
set -u
. tests/lib.sh
S=$B/spoor
W=$SPOOR_VAR/work-cgn
rm -rf "$W"; mkdir -p "$W"
t_scratch_db spoor_cgn
t_person alice analyst
t_person bob approver

# 2026-11-21T10:00:00Z = 1795255200
cat >"$W/cgn.log" <<'LOG'
<134>1 2026-11-21T10:00:00.123Z cgn1 RT_NAT - RT_SRC_NAT_PBA_ALLOC [junos@2636.1.1.1.2.129 user-name="N/A" internal-ip="100.64.1.10" reflexive-ip="203.0.113.10" block-port-low="1024" block-port-high="2047" nat-pool-name="pool1" epoch-time-64="6b016ba0"]
<134>1 2026-11-21T10:02:00Z cgn1 RT_NAT - RT_SRC_NAT_PBA_ALLOC [junos@2636.1.1.1.2.129 user-name="N/A" internal-ip="100.64.1.11" reflexive-ip="203.0.113.10" block-port-low="2048" block-port-high="3071" nat-pool-name="pool1" epoch-time-64="6b016c18"]
<134>1 2026-11-21T10:30:00Z cgn1 RT_NAT - RT_SRC_NAT_PBA_INTERIM [junos@2636.1.1.1.2.129 user-name="N/A" internal-ip="100.64.1.11" reflexive-ip="203.0.113.10" block-port-low="2048" block-port-high="3071" nat-pool-name="pool1" epoch-time-64="6b0172a8"]
<134>1 2026-11-21T11:00:00Z cgn1 RT_NAT - RT_SRC_NAT_PBA_RELEASE [junos@2636.1.1.1.2.129 user-name="N/A" internal-ip="100.64.1.10" reflexive-ip="203.0.113.10" block-port-low="1024" block-port-high="2047" nat-pool-name="pool1" epoch-time-64="6b0179b0"]
<134>1 2026-11-21T11:05:00Z cgn1 RT_NAT - RT_SRC_NAT_PBA_ALLOC [junos@2636.1.1.1.2.129 user-name="N/A" internal-ip="100.64.1.12" reflexive-ip="203.0.113.10" block-port-low="1024" block-port-high="2047" nat-pool-name="pool1" epoch-time-64="6b017adc"]
<134> 1 2026 Nov 21 10:00:05 cgn2 - - NAT44 - [UserbasedA - 100.64.2.20 1 - 203.0.113.20 - 4096 4607 - - ][UserbasedA - 100.64.2.21 1 - 203.0.113.20 - 4608 5119 - - ]
<134> 1 2026 Nov 21 10:30:05 cgn2 - - NAT44 - [UserbasedW - 100.64.2.20 1 - 203.0.113.20 - 4096 4607 - - ]
2026-11-21T10:05:00.87+00:00 10.254.254.57 cgn3/cgn  CEF:0|A10|CFW|6.0.0-P1|CGN 106|Nat Port Batch Pool Allocated|5|proto=TCP src=100.64.3.30 sourceTranslatedAddress=203.0.113.30 sourceTranslatedPort=1024 cn3=1535 cn3Label=Last Nat Port
Nov 21 10:06:00 cgn3 an unrelated message of the CGN
<134>1 2026-11-21T10:07:00Z cgn4 vcgnat - - - A VRF 0 INT 100.64.5.50 EXT 203.0.113.50:2048-2559
Nov 21 10:08:00 cgn5 fp-cgnat[4269]: USER 100.64.6.60 (matching rule 1): NEW BLOCK (pool "p1", ip public 203.0.113.60, proto 6, port 3072 - 3583)
<134> 1 2026 Nov 21 10:09:00 cgn2 - - NAT44 - [UserbasedA - 100.64.2.22 1 - 203.0.113.20 - not-a-port 5631 - - ]
LOG
cat >"$W/conntrack.log" <<'LOG'
[1795255500.123456]	    [NEW] tcp      6 120 SYN_SENT src=100.64.4.40 dst=93.184.216.34 sport=51234 dport=443 [UNREPLIED] src=93.184.216.34 dst=203.0.113.40 sport=443 dport=61234
[1795255560.000001]	 [UPDATE] tcp      6 60 SYN_RECV src=100.64.4.40 dst=93.184.216.34 sport=51234 dport=443 src=93.184.216.34 dst=203.0.113.40 sport=443 dport=61234
[1795256100.500000]	[DESTROY] tcp      6 src=100.64.4.40 dst=93.184.216.34 sport=51234 dport=443 src=93.184.216.34 dst=203.0.113.40 sport=443 dport=61234 [ASSURED]
LOG
session() { # ID USER CALLING ADDRESS START STOP
  printf '%s\n\tAcct-Status-Type = Start\n\tAcct-Session-Id = "%s"\n\tUser-Name = "%s"\n\tCalling-Station-Id = "%s"\n\tNAS-IP-Address = 192.0.2.1\n\tFramed-IP-Address = %s\n\tEvent-Timestamp = %s\n\n' \
    "$(date -u -d "@$5" '+%a %b %e %H:%M:%S %Y')" "$1" "$2" "$3" "$4" "$5"
  printf '%s\n\tAcct-Status-Type = Stop\n\tAcct-Session-Id = "%s"\n\tUser-Name = "%s"\n\tCalling-Station-Id = "%s"\n\tNAS-IP-Address = 192.0.2.1\n\tFramed-IP-Address = %s\n\tAcct-Session-Time = %s\n\tEvent-Timestamp = %s\n\n' \
    "$(date -u -d "@$6" '+%a %b %e %H:%M:%S %Y')" "$1" "$2" "$3" "$4" "$(($6 - $5))" "$6"
}
{ session S1 alice@isp.example 0201111111 100.64.1.10 1795251600 1795262400
  session S2 bob@isp.example 0202222222 100.64.1.11 1795251600 1795262400
  session S3 carl@isp.example 0203333333 100.64.1.12 1795258000 1795266000
  session S4 dora@isp.example 0204444444 100.64.2.21 1795251600 1795262400
  session S5 emil@isp.example 0205555555 100.64.4.40 1795251600 1795262400
  session S6 fay@isp.example 0206666666 100.64.3.30 1795251600 1795262400; } >"$W/radius.detail"

out=$("$S" import --format nat --reference 2026-11-21T12:00:00Z "$W/cgn.log"); rc=$?
t_eq "NAT logs import" "$rc" 0
t_match "…every line stored or quarantined" "$out" '12 records read, 11 stored, 1 quarantined'
"$S" import --format nat --host gw1 "$W/conntrack.log" >/dev/null
"$S" import --format radius-detail --zone UTC "$W/radius.detail" >/dev/null
t_eq "events per vendor (a Cisco message packs two records; conntrack's UPDATE is no event)" \
  "$(t_psql -c "select string_agg(vendor || '=' || n, ' ' order by vendor) from (select vendor, count(*) n from spoor.nat_event group by 1) x")" \
  "6wind=1 a10=1 cisco=3 conntrack=2 juniper=5 nfware=1"
t_match "a malformed record is quarantined with its reason and position" \
  "$(t_psql -c "select reason || ' ' || detail from spoor.quarantine")" '^bad_nat byte [0-9]+: cisco: no port range'
t_eq "consumed = stored + quarantined" "$(t_psql -c "select bool_and(consumed = stored + quarantined) from spoor.source_position")" t
t_eq "every public address the logs name is in the NAT address registry, with its days" \
  "$(t_psql -c "select count(*) from spoor.nat_address a join (select outside, min(ts)::date f, max(ts)::date l from spoor.nat_event group by 1) e using (outside) where a.first_day = e.f and a.last_day = e.l")" \
  "$(t_psql -c "select count(distinct outside) from spoor.nat_event")"
t_eq "the CGN's own time (epoch-time-64), not the syslog header's .123" \
  "$(t_psql -c "select ts from spoor.nat_event where vendor = 'juniper' and inside = '100.64.1.10' and kind = 1")" "2026-11-21 10:00:00+00"

req() { # CASE ARGS...: a request, approved; prints its id
  local c=$1 r
  shift
  r=$(as alice request create --case "$c" --authority "Court" --basis "Order" --from 2026-11-20T00:00:00Z \
    --to 2026-11-23T00:00:00Z "$@" | sed -n 's/^request \([0-9]*\).*/\1/p')
  as bob request approve "$r" --note ok >/dev/null
  echo "$r"
}
r1=$(req CGN-1 --ip 203.0.113.10 --port 1500 --ip 203.0.113.20 --port 5000 \
  --ip 203.0.113.40 --port 61234 --ip 203.0.113.30 --port 1100)
r3=$(req CGN-3 --ip 203.0.113.10 --port 2500)
# One order, one shared address, several connections (ports): each is in
# scope (before migration 020 the second port was dropped without a word).
r6=$(req CGN-6 --ip 203.0.113.10 --port 1500 --ip 203.0.113.10 --port 2500)
t_eq "an order naming one address with two ports keeps both" \
  "$(t_psql -c "select string_agg(port::text, ',' order by port) from spoor.request_scope where request_id = $r6")" "1500,2500"
j() { as alice --json trace ip "$1" --port "$2" --at "$3" --request "${R:-$r1}" --tolerance "${4:-0}"; }
out=$(j 203.0.113.10 1500 2026-11-21T10:30:00Z)
t_eq "Junos block: public 203.0.113.10:1500 at 10:30 -> 100.64.1.10 -> alice" \
  "$(printf '%s' "$out" | jq -r '[.verdict, .cgn.translations[0].inside_ip, .sessions[0].user_name] | join(" ")')" "exact 100.64.1.10 alice@isp.example"
t_match "…with the allocation and release lines as evidence" \
  "$(printf '%s' "$out" | jq -r '.cgn.translations[0].evidence[].line' | tr '\n' ' ')" 'RT_SRC_NAT_PBA_ALLOC .*internal-ip="100.64.1.10".*RT_SRC_NAT_PBA_RELEASE'
t_eq "…and the subscriber's RADIUS lines" "$(printf '%s' "$out" | jq -r '.sessions[0].evidence | length > 0')" true
out=$(j 203.0.113.10 1500 2026-11-21T11:30:00Z)
t_eq "the same block later, given to 100.64.1.12 after its release: carl" \
  "$(printf '%s' "$out" | jq -r '[.cgn.translations[].inside_ip, .sessions[0].user_name] | join(" ")')" "100.64.1.12 carl@isp.example"
out=$(R=$r3 j 203.0.113.10 2500 2026-11-22T09:00:00Z)
t_eq "a block with an interim and no release is held a day after it was last seen: bob" \
  "$(printf '%s' "$out" | jq -r '[.cgn.translations[0].inside_ip, .cgn.translations[0].stop_reason] | join(" ")')" "100.64.1.11 timeout"
out=$(R=$r3 j 203.0.113.10 2500 2026-11-22T11:00:00Z)
t_eq "…and no longer after that (a lost release does not hold for ever)" "$(printf '%s' "$out" | jq -r '.cgn.translations | length')" 0
out=$(j 203.0.113.20 5000 2026-11-21T10:10:00Z)
t_eq "IOS XR: the second record of one message (4608-5119 to 100.64.2.21): dora, vrf 1" \
  "$(printf '%s' "$out" | jq -r '[.cgn.translations[0].inside_ip, .cgn.translations[0].inside_vrf, .sessions[0].user_name] | join(" ")')" "100.64.2.21 1 dora@isp.example"
out=$(j 203.0.113.40 61234 2026-11-21T10:10:00Z)
t_eq "conntrack: the session's public port -> 100.64.4.40 -> emil" \
  "$(printf '%s' "$out" | jq -r '[.cgn.translations[0].inside_ip, .cgn.translations[0].inside_port, .sessions[0].user_name] | join(" ")')" "100.64.4.40 51234 emil@isp.example"
out=$(j 203.0.113.40 61234 2026-11-21T10:30:00Z)
t_eq "…and nobody after the session's DESTROY" "$(printf '%s' "$out" | jq -r '.cgn.translations | length')" 0
out=$(j 203.0.113.30 1100 2026-11-21T10:10:00Z)
t_eq "A10 CEF port batch: 100.64.3.30 -> fay" "$(printf '%s' "$out" | jq -r '.sessions[0].user_name')" "fay@isp.example"

# A block from a CGN that logs no interims (IOS XR), neither released nor
# given to anyone else: still held days later (DSL sessions last weeks), not
# timed out as a Junos block whose interims stopped is.
r7=$(as alice request create --case CGN-7 --authority "Court" --basis "Order" --from 2026-11-20T00:00:00Z \
  --to 2026-11-30T00:00:00Z --ip 203.0.113.20 --port 5000 | sed -n 's/^request \([0-9]*\).*/\1/p')
as bob request approve "$r7" --note ok >/dev/null
out=$(R=$r7 j 203.0.113.20 5000 2026-11-25T10:00:00Z)
t_eq "an IOS XR block four days on, no release, no interims: still its holder's (open)" \
  "$(printf '%s' "$out" | jq -r '[.cgn.translations[0].inside_ip, .cgn.translations[0].stop_reason, .cgn.translations[0].covers_instant] | join(" ")')" "100.64.2.21 open true"

# Without a port: how many shared the address, nobody named.
r2=$(req CGN-2 --ip 203.0.113.10)
out=$(as alice --json trace ip 203.0.113.10 --at 2026-11-21T10:30:00Z --request "$r2" --tolerance 0)
t_eq "no port: the count of subscribers sharing the address, and the verdict says so" \
  "$(printf '%s' "$out" | jq -r '[.verdict, .cgn.subscribers_sharing] | join(" ")')" "shared_address 2"
t_eq "…naming none of them (no inside address, user or evidence in the answer)" \
  "$(printf '%s' "$out" | grep -cE '100\.64\.|@isp\.example|evidence')" 0
t_match "…and the CLI says the order must name the port" \
  "$(as alice trace ip 203.0.113.10 --at 2026-11-21T10:30:00Z --request "$r2" --tolerance 0)" 'must name the source port'

# The gate: a port the order does not name is refused, and audited.
out=$(as alice trace ip 203.0.113.10 --port 2999 --at 2026-11-21T10:30:00Z --request "$r1" 2>&1); rc=$?
t_eq "a port the order does not name: refused" "$rc" 1
t_eq "every lookup is in the audit trail (the refusal too)" \
  "$(t_psql -c "select count(*) filter (where outcome = 'ok') || ' ' || count(*) filter (where outcome = 'denied') from spoor.audit where action = 'trace.ip'")" "11 1"
out=$(R=$r6 j 203.0.113.10 1500 2026-11-21T10:30:00Z)
t_eq "one order, two ports of one address: the first answered (alice)" "$(printf '%s' "$out" | jq -r '.sessions[0].user_name')" alice@isp.example
out=$(R=$r6 j 203.0.113.10 2500 2026-11-21T10:30:00Z)
t_eq "…and the second (bob)" "$(printf '%s' "$out" | jq -r '.sessions[0].user_name')" bob@isp.example
as alice trace ip 203.0.113.10 --port 2999 --at 2026-11-21T10:30:00Z --request "$r6" >/dev/null 2>&1; rc=$?
t_eq "…and a third port it does not name still refused" "$rc" 1
# Over HTTP (spoor-api), the same: the person's bearer token, the same gate,
# the same audit trail.
t_person apid api
APORT=$((SPOOR_KAFKA_PORT + 57))
printf 'api.listen = 127.0.0.1:%s\nlog.level = warn\n' "$APORT" >"$W/api.conf"
PGUSER=apid "$B/spoor-api" --config "$W/api.conf" 2>"$W/api.log" & api=$!
trap 'kill $api 2>/dev/null' EXIT
for _ in $(seq 1 100); do curl -s "http://127.0.0.1:$APORT/health" >/dev/null && break; sleep 0.1; done
tok=$(as alice token create | head -1)
n0=$(t_psql -c "select count(*) from spoor.audit where action = 'trace.ip' and actor = 'alice'")
post() { curl -s -o "$W/body" -w '%{http_code}' -H "Authorization: Bearer $tok" -d "$1" "http://127.0.0.1:$APORT/v1/trace/ip"; }
t_eq "HTTP: public address and port behind the CGN -> 100.64.1.10 -> alice" \
  "$(post "{\"request_id\":$r1,\"ip\":\"203.0.113.10\",\"port\":1500,\"at\":\"2026-11-21T10:30:00Z\",\"tolerance\":0}") $(jq -r '[.cgn.translations[0].inside_ip, .sessions[0].user_name, (.cgn.translations[0].evidence | length > 0)] | join(" ")' "$W/body")" \
  "200 100.64.1.10 alice@isp.example true"
t_eq "HTTP: without a port, the count and nobody named" \
  "$(post "{\"request_id\":$r2,\"ip\":\"203.0.113.10\",\"at\":\"2026-11-21T10:30:00Z\",\"tolerance\":0}") $(jq -r '[.verdict, .cgn.subscribers_sharing] | join(" ")' "$W/body") $(grep -cE '100\.64\.|@isp\.example' "$W/body")" \
  "200 shared_address 2 0"
t_eq "HTTP: a port the order does not name is refused by the gate (403)" \
  "$(post "{\"request_id\":$r1,\"ip\":\"203.0.113.10\",\"port\":2999,\"at\":\"2026-11-21T10:30:00Z\"}")" 403
t_eq "…the three HTTP lookups audited under alice's name (two answered, one refused)" \
  "$(t_psql -c "select count(*) from spoor.audit where action = 'trace.ip' and actor = 'alice'") - $n0" "$((n0 + 3)) - $n0"
kill $api 2>/dev/null; wait $api 2>/dev/null

# Compaction: the closed day's NAT events move into packs (sorted by public
# address); the same lookups give the same answers from them.
t_person ret retention
before=$(for p in "1500 2026-11-21T10:30:00Z" "1500 2026-11-21T11:30:00Z"; do
  set -- $p; as alice --json trace ip 203.0.113.10 --port "$1" --at "$2" --request "$r1" --tolerance 0 2>/dev/null | jq -c '.cgn'; done)
out=$(PGUSER=ret "$B/spoor-retention" compact --now 2026-11-25T00:00:00Z 2>&1); rc=$?
t_eq "spoor-retention compact packs the NAT day" "$rc" 0
t_eq "…nat_event_20261121 is empty, its events in nat_pack" \
  "$(t_psql -c "select (select count(*) from spoor.nat_event_20261121) || ' ' || (select sum(n) from spoor.nat_pack) || ' ' || (select rows from spoor.compacted where tbl = 'nat_event')")" "0 13 13"
after=$(for p in "1500 2026-11-21T10:30:00Z" "1500 2026-11-21T11:30:00Z"; do
  set -- $p; as alice --json trace ip 203.0.113.10 --port "$1" --at "$2" --request "$r1" --tolerance 0 2>/dev/null | jq -c '.cgn'; done)
t_eq "…and the CGN step of each lookup is the same from the packs (holders, times, evidence lines)" "$after" "$before"
t_match "…which found the holders" "$(printf '%s' "$after" | tr '\n' ' ')" '100\.64\.1\.10.*100\.64\.1\.12'
# Retention: past the nat class's 365 days the packs go, with the proof of
# deletion (the digest of the evidence positions they held).
digest=$(t_psql -c "select digest from spoor.compacted where tbl = 'nat_event'")
t_psql -c "update spoor.retention_clock set allow_future = true"
PGUSER=ret "$B/spoor-retention" run --now 2027-11-23T00:00:00Z >/dev/null
t_eq "retention drops the NAT packs after a year, with the same digest the compaction recorded" \
  "$(t_psql -c "select rows || ' ' || (digest = '$digest') from spoor.retention_dropped where tbl = 'nat_pack'") $(t_psql -c "select to_regclass('spoor.nat_pack_20261121') is null")" "13 true t"
t_match "the retention policy keeps NAT logs as their own class" "$(as alice --json retention policy 2>/dev/null || t_psql -c "select class from spoor.retention_policy")" 'nat'
t_done
