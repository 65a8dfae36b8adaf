# spoor-collect end to end, with real peers from Debian's packages:
# FreeRADIUS's radclient (Start, Interim-Update, Stop; a true retransmission;
# a wrong secret), syslog over TCP (octet-counting and LF framing) and UDP,
# FreeRADIUS detail files followed across a restart, a broker outage, garbage
# on every port; then a real Postfix taking a SASL-authenticated submission
# from swaks, a real rsyslog (omkafka) shipping its log to Kafka, spoor-ingest
# storing it, and `spoor trace message-id` finding the message and the
# subscriber session radclient set up.
set -u
. tests/lib.sh
. tests/integration/realpeers.sh
S=$B/spoor
W=$SPOOR_VAR/work-collect
rm -rf "$W"; mkdir -p "$W/detail" "$W/state"; chmod 0711 "$W"
t_scratch_db spoor_collect
t_person alice analyst
t_person bob approver
P_R=$((SPOOR_KAFKA_PORT + 50)); P_S=$((SPOOR_KAFKA_PORT + 51)); P_M=$((SPOOR_KAFKA_PORT + 52))
P_T=$((SPOOR_KAFKA_PORT + 54)); P_N=$((SPOOR_KAFKA_PORT + 55))
rp_tls_certs "$W/tls" || t_fail "test certificates made with openssl"
SECRET=s3cret-nas1
printf '%s\n' "$SECRET" >"$W/nas1.secret"; chmod 0400 "$W/nas1.secret"
cat >"$W/spoor.conf" <<CONF
kafka.brokers = $SPOOR_KAFKA_BROKERS
kafka.topic.smtp = c80.smtp
kafka.topic.radius = c80.radius
kafka.topic.nat = c80.nat
kafka.group = c80
ingest.batch_ms = 100
ingest.metrics_listen = 127.0.0.1:$((SPOOR_KAFKA_PORT + 53))
collect.radius_listen = 127.0.0.1:$P_R
collect.radius_clients = 127.0.0.1=$W/nas1.secret
collect.syslog_listen = 127.0.0.1:$P_S
collect.syslog_sources = 127.0.0.1=mx1|mx2|cgn1
collect.nat_listen = 127.0.0.1:$P_N
collect.syslog_tls_listen = 127.0.0.1:$P_T
collect.tls_cert_file = $W/tls/server.pem
collect.tls_key_file = $W/tls/server.key
collect.tls_client_ca_file = $W/tls/ca.pem
collect.detail_dir = $W/detail
collect.state_dir = $W/state
collect.radius_dedup_window = 5s
collect.radius_max_skew = 1h
log.level = info
CONF
"$B/spoor-topics" --brokers "$SPOOR_KAFKA_BROKERS" --wait 60 --create c80.smtp --create c80.radius --create c80.nat >/dev/null
start_collect() { "$B/spoor-collect" --config "$W/spoor.conf" >>"$W/collect.log" 2>&1 & col=$!; sleep 0.5; }
start_collect
"$B/spoor-ingest" --config "$W/spoor.conf" >"$W/ingest.log" 2>&1 & ing=$!
# The peers run as their own users (postfix): their folder must be one they
# can enter, which a clone under /root (mode 0700) is not.
V=$(mktemp -d /tmp/spoor-peers.XXXXXX)
trap 'kill $col $ing 2>/dev/null; rp_rsyslog_stop "$V" 2>/dev/null; rp_postfix_stop "$V" 2>/dev/null; rm -rf "$V"' EXIT
kill -0 $col 2>/dev/null && t_ok "spoor-collect starts" || { t_fail "spoor-collect starts" "$(cat "$W/collect.log")"; t_done; exit 1; }

rows() { t_psql -c "select count(*) from spoor.radius_event where $1"; }
wait_rows() {  # wait_rows WHERE N
  for _ in $(seq 1 150); do [ "$(rows "$1")" -ge "$2" ] && break; sleep 0.2; done
}
now=$(date -u +%s)
# ---- RADIUS through radclient ---------------------------------------------------------
for i in 1 2 3; do
  base="User-Name = \"sub$i@isp.example\", Acct-Session-Id = \"c80-$i\", NAS-IP-Address = 192.0.2.1, Calling-Station-Id = \"0161-555-000$i\", Framed-IP-Address = 100.64.8.$i"
  rp_radclient 127.0.0.1:$P_R "$SECRET" Start "$base, Event-Timestamp = $((now - 600))" 3 2 >/dev/null || t_fail "radclient Start $i answered"
  rp_radclient 127.0.0.1:$P_R "$SECRET" Interim-Update "$base, Acct-Session-Time = 300, Event-Timestamp = $((now - 300))" 3 2 >/dev/null || t_fail "radclient Interim $i answered"
done
rp_radclient 127.0.0.1:$P_R "$SECRET" Stop "User-Name = \"sub3@isp.example\", Acct-Session-Id = \"c80-3\", NAS-IP-Address = 192.0.2.1, Framed-IP-Address = 100.64.8.3, Acct-Session-Time = 590, Acct-Terminate-Cause = User-Request, Event-Timestamp = $((now - 10))" 3 2 >/dev/null
t_eq "radclient gets an Accounting-Response only after Kafka has the record" "$?" 0
# radclient computes a Message-Authenticator (RFC 3579) when its input has one.
rp_radclient 127.0.0.1:$P_R "$SECRET" Start "User-Name = \"sub6@isp.example\", Acct-Session-Id = \"c80-ma\", NAS-IP-Address = 192.0.2.1, Framed-IP-Address = 100.64.8.6, Event-Timestamp = $((now - 200)), Message-Authenticator = 0x00" 3 2 >/dev/null
t_eq "a request with a Message-Authenticator is checked and answered" "$?" 0
out=$(rp_radclient 127.0.0.1:$P_R wrong-secret Start 'User-Name = "x", Acct-Session-Id = "bad"' 1 1 2>&1); rc=$?
t_eq "a wrong shared secret gets no answer" "$rc" 1
rp_radius_packet "$SECRET" Start "User-Name = \"sub4@isp.example\", Acct-Session-Id = \"c80-4\", NAS-IP-Address = 192.0.2.1, Framed-IP-Address = 100.64.8.4, Event-Timestamp = $((now - 200))" "$W/p4.bin"
n=$(rp_radius_replay 127.0.0.1 $P_R "$W/p4.bin" 3 0.3)
t_eq "a retransmitted request (same source, id, authenticator) is answered each time" "$n" 3
head -c 300 /dev/urandom >"$W/junk"; for _ in 1 2 3; do cat "$W/junk" >/dev/udp/127.0.0.1/$P_R; done
printf '\x04\x01\x00\x50short' >/dev/udp/127.0.0.1/$P_R
printf '\x04\x01\x00\x14aaaaaaaaaaaaaaaa' >/dev/udp/127.0.0.1/$P_S  # not syslog-shaped: stored, quarantined by ingest
wait_rows "session_key like '192.0.2.1/c80-%'" 9
t_eq "every accounting record stored exactly once (3 Start + 3 Interim + 1 Stop + 1 retransmitted Start + 1 with a Message-Authenticator)" \
  "$(rows "session_key like '192.0.2.1/c80-%'")" 9
t_eq "the retransmitted request is stored once" "$(rows "session_key = '192.0.2.1/c80-4'")" 1
t_eq "the request with a Message-Authenticator is stored" "$(rows "session_key = '192.0.2.1/c80-ma'")" 1
t_eq "the wrong-secret request is not stored" "$(rows "acct_session_id = 'bad'")" 0
kill -0 $col && t_ok "garbage on the RADIUS port: still running" || t_fail "garbage on the RADIUS port: still running"

# ---- replays ------------------------------------------------------------------------------
# The captured request again, after the retransmission window: refused, not
# answered, not stored twice.
sleep 6
n=$(rp_radius_replay 127.0.0.1 $P_R "$W/p4.bin" 1 0)
t_eq "a captured request replayed after the retransmission window gets no answer" "$n" 0
# Event-Timestamp two hours before its arrival, with no Acct-Delay-Time: stale.
rp_radius_packet "$SECRET" Start "User-Name = \"old@isp.example\", Acct-Session-Id = \"r80-stale\", NAS-IP-Address = 192.0.2.1, Framed-IP-Address = 100.64.8.7, Event-Timestamp = $((now - 7200))" "$W/stale.bin"
n=$(rp_radius_replay 127.0.0.1 $P_R "$W/stale.bin" 1 0)
t_eq "a request whose Event-Timestamp is hours before its arrival is refused (stale or replayed)" "$n" 0
# The same age, but the NAS says it has been trying for two hours: genuine.
rp_radius_packet "$SECRET" Start "User-Name = \"late@isp.example\", Acct-Session-Id = \"r80-late\", NAS-IP-Address = 192.0.2.1, Framed-IP-Address = 100.64.8.8, Event-Timestamp = $((now - 7200)), Acct-Delay-Time = 7200" "$W/late.bin"
n=$(rp_radius_replay 127.0.0.1 $P_R "$W/late.bin" 1 0)
t_eq "…one delayed as long as its Acct-Delay-Time says is answered" "$n" 1
wait_rows "session_key = '192.0.2.1/r80-late'" 1
sleep 1
t_eq "…and stored; the stale one is not, nor the replay a second time" \
  "$(rows "session_key in ('192.0.2.1/r80-late', '192.0.2.1/r80-stale')")/$(rows "session_key = '192.0.2.1/c80-4'")" "1/1"
t_eq "the collector keeps what it acknowledged, against replays, in its state folder" "$([ -s "$W/state/radius-seen" ] && echo kept)" kept

r=$(as alice request create --case C80 --authority Court --basis Law --from "$(date -u -d @$((now - 3600)) +%FT%TZ)" \
  --to "$(date -u -d @$((now + 3600)) +%FT%TZ)" --ip 100.64.8.2 --ip 100.64.8.3 --ip 127.0.0.1 --message-id 'c80-1@client.spoor.test' | sed -n 's/^request \([0-9]*\).*/\1/p')
as bob request approve "$r" >/dev/null
out=$(as alice --json trace ip 100.64.8.2 --at "$(date -u -d @$((now - 100)) +%FT%TZ)" --request "$r")
t_eq "spoor trace ip finds the radclient session" "$(printf '%s' "$out" | jq -r '.verdict + " " + .sessions[0].calling_station_id')" "exact 0161-555-0002"
out=$(as alice --json trace ip 100.64.8.3 --at "$(date -u -d @$((now - 100)) +%FT%TZ)" --request "$r")
t_eq "…and its Stop" "$(printf '%s' "$out" | jq -r '.sessions[0].stop_reason + " " + .sessions[0].terminate_cause')" "stop User-Request"

# ---- syslog over TCP and UDP ------------------------------------------------------------
m1='<22>Nov 25 10:00:01 mx1 postfix/smtpd[101]: 1A2B3C4D5E: client=pc1[100.64.8.2]:40001, sasl_method=PLAIN, sasl_username=sub2@isp.example'
m2='<22>1 2026-11-25T10:00:02Z mx1 postfix/cleanup 102 - - 1A2B3C4D5E: message-id=<tcp-lf@x>'
m3='<22>Nov 25 10:00:03 mx1 postfix/qmgr[103]: 1A2B3C4D5E: from=<a@b>, size=10, nrcpt=1 (queue active)'
{ printf '%s\n' "$m1"; printf '%d %s' ${#m2} "$m2"; printf '%s\n' "$m3"; } | nc -q 1 127.0.0.1 $P_S
printf '%s' '<22>Nov 25 10:00:04 mx2 postfix/qmgr[104]: 1A2B3C4D5E: removed' >/dev/udp/127.0.0.1/$P_S
head -c 2000 /dev/urandom | nc -q 1 127.0.0.1 $P_S
for _ in $(seq 1 100); do [ "$(t_psql -c "select count(*) from spoor.smtp_event where queue_id = '1A2B3C4D5E'")" -ge 4 ] && break; sleep 0.2; done
t_eq "syslog lines over TCP (LF and octet-counted) and UDP are stored" \
  "$(t_psql -c "select count(*) from spoor.smtp_event where queue_id = '1A2B3C4D5E'")" 4
t_eq "…each keyed by the host it names" "$(t_psql -c "select string_agg(distinct host, ',' order by host) from spoor.smtp_event where queue_id = '1A2B3C4D5E'")" "mx1,mx2"
t_eq "the octet-counted RFC 5424 message kept its Message-ID" \
  "$(t_psql -c "select count(*) from spoor.smtp_event where message_id = 'tcp-lf@x'")" 1
kill -0 $col && t_ok "garbage on the syslog port: still running" || t_fail "garbage on the syslog port: still running"

# ---- syslog sources: who may send, as whom ---------------------------------------------
t_eq "each stored line keeps the peer it came from, shown with its evidence" \
  "$(t_psql -c "select string_agg(distinct spoor.evidence_of(e.block_id, e.block_idx, e.ts)->>'peer', ',') from spoor.smtp_event e where e.queue_id = '1A2B3C4D5E'")" 127.0.0.1
# A peer allowed to speak as mx1 and mx2 writes a line as smtp1 (the attack:
# a client= line that would attribute a message to a victim).
forged='<22>Nov 25 10:00:05 smtp1 postfix/smtpd[666]: 6F6F6F6F6F: client=x[100.64.8.9]:1, sasl_method=PLAIN, sasl_username=victim@isp.example'
printf '%s\n' "$forged" | nc -q 1 127.0.0.1 $P_S
for _ in $(seq 1 100); do [ "$(t_psql -c "select count(*) from spoor.quarantine where reason = 'host_not_allowed'")" -ge 1 ] && break; sleep 0.2; done
t_eq "a line naming a host its peer may not speak for is not stored as an event" \
  "$(t_psql -c "select count(*) from spoor.smtp_event where queue_id = '6F6F6F6F6F'")" 0
t_match "…it is quarantined, with the peer and the host named" \
  "$(t_psql -c "select reason || ': ' || detail from spoor.quarantine where reason = 'host_not_allowed'")" 'host_not_allowed: peer 127.0.0.1 may not send lines as host smtp1'
# A peer that is not in the list at all (127.0.0.2, over TCP and UDP).
printf '%s\n' '<22>Nov 25 10:00:06 mx1 postfix/qmgr[105]: 7A7A7A7A7A: removed' | nc -q 1 -s 127.0.0.2 127.0.0.1 $P_S
printf '%s' '<22>Nov 25 10:00:07 mx1 postfix/qmgr[106]: 7B7B7B7B7B: removed' | nc -u -q 1 -s 127.0.0.2 127.0.0.1 $P_S
sleep 2
t_eq "a peer not in collect.syslog_sources is refused: nothing it sent is stored" \
  "$(t_psql -c "select count(*) from spoor.smtp_event where queue_id in ('7A7A7A7A7A', '7B7B7B7B7B')")/$(t_psql -c "select count(*) from spoor.quarantine q where q.detail like '%127.0.0.2%'")" "0/0"

# ---- the carrier-grade NAT's syslog -------------------------------------------------------
# On its own port (collect.nat_listen), from the same peers, to kafka.topic.nat:
# a Junos PBA line over TCP, an IOS XR message over UDP, and one naming a
# host the peer may not speak for.
printf '%s\n' '<14>1 2026-11-25T10:00:00Z cgn1 RT_NAT - RT_SRC_NAT_PBA_ALLOC [junos@2636.1.1.1.2.129 internal-ip="100.64.9.9" block-used="1" block-max-per-host="4" block-port-low="1024" block-port-high="2047" reflexive-ip="203.0.113.99" nat-pool-name="p" logical-system-id="0" epoch-time-64="6b06b1a0"]' |
  nc -q 1 127.0.0.1 $P_N
printf '%s' '<134> 1 2026 Nov 25 10:00:01 cgn1 - - NAT44 - [UserbasedA - 100.64.9.10 1 - 203.0.113.99 - 2048 3071 - - ][UserbasedA - 100.64.9.11 1 - 203.0.113.99 - 3072 4095 - - ]' >/dev/udp/127.0.0.1/$P_N
printf '%s\n' '<14>1 2026-11-25T10:00:02Z cgn9 RT_NAT - RT_SRC_NAT_PBA_ALLOC [junos@2636.1.1.1.2.129 internal-ip="100.64.9.12" block-port-low="1024" block-port-high="2047" reflexive-ip="203.0.113.98" epoch-time-64="6b06b1a2"]' |
  nc -q 1 127.0.0.1 $P_N
for _ in $(seq 1 100); do [ "$(t_psql -c "select count(*) from spoor.nat_event where outside = '203.0.113.99'")" -ge 3 ] && break; sleep 0.2; done
t_eq "CGN lines over TCP and UDP reach spoor.nat_event through kafka.topic.nat (one packed message: two)" \
  "$(t_psql -c "select string_agg(vendor || ':' || host(inside), ' ' order by inside) from spoor.nat_event where outside = '203.0.113.99'")" \
  "juniper:100.64.9.9 cisco:100.64.9.10 cisco:100.64.9.11"
t_eq "…with the peer they came from in their evidence" \
  "$(t_psql -c "select string_agg(distinct spoor.evidence_of(e.block_id, e.block_idx, e.ts)->>'peer', ',') from spoor.nat_event e where e.outside = '203.0.113.99'")" 127.0.0.1
for _ in $(seq 1 50); do [ "$(t_psql -c "select count(*) from spoor.quarantine where detail like '%as host cgn9%'")" -ge 1 ] && break; sleep 0.2; done
t_eq "a CGN line naming a host its peer may not speak for: quarantined, no event" \
  "$(t_psql -c "select count(*) from spoor.quarantine where reason = 'host_not_allowed' and detail like '%as host cgn9%'")/$(t_psql -c "select count(*) from spoor.nat_event where outside = '203.0.113.98'")" "1/0"

# ---- syslog over TLS (RFC 5425) with client certificates --------------------------------
# Debian's rsyslog (its OpenSSL stream driver) follows a log file and sends
# each line over TLS with the client certificate our CA signed.
printf '%s\n' '<22>Nov 25 10:00:08 mx1 postfix/smtpd[201]: 5C5C5C5C5C: client=pc8[100.64.8.8]:40008' \
  '<22>Nov 25 10:00:09 mx1 postfix/cleanup[202]: 5C5C5C5C5C: message-id=<tls-1@x>' >"$W/tls-maillog"
VT=$(mktemp -d /tmp/spoor-tlspeer.XXXXXX)
if rp_rsyslog_tls_start "$VT" "$W/tls-maillog" $P_T "$W/tls/ca.pem" "$W/tls/client.pem" "$W/tls/client.key" >"$W/rsyslog-tls.log" 2>&1; then
  for _ in $(seq 1 100); do [ "$(t_psql -c "select count(*) from spoor.smtp_event where queue_id = '5C5C5C5C5C'")" -ge 2 ] && break; sleep 0.2; done
  t_eq "rsyslog over TLS with a client certificate: its lines are stored" \
    "$(t_psql -c "select count(*) from spoor.smtp_event where queue_id = '5C5C5C5C5C'")" 2
  t_eq "…with the peer they came from beside their evidence" \
    "$(t_psql -c "select string_agg(distinct spoor.evidence_of(e.block_id, e.block_idx, e.ts)->>'peer', ',') from spoor.smtp_event e where e.queue_id = '5C5C5C5C5C'")" 127.0.0.1
  rp_rsyslog_stop "$VT"
else
  t_fail "rsyslog over TLS with a client certificate: its lines are stored" "$(cat "$W/rsyslog-tls.log")"
fi
rm -rf "$VT"
# A sender whose certificate our CA did not sign, and one with none.
m='<22>Nov 25 10:00:10 mx1 postfix/qmgr[203]: 5D5D5D5D5D: removed'
printf '%d %s' ${#m} "$m" | timeout 10 openssl s_client -quiet -connect 127.0.0.1:$P_T -CAfile "$W/tls/ca.pem" \
  -cert "$W/tls/rogue.pem" -key "$W/tls/rogue.key" >/dev/null 2>&1
printf '%d %s' ${#m} "$m" | timeout 10 openssl s_client -quiet -connect 127.0.0.1:$P_T -CAfile "$W/tls/ca.pem" >/dev/null 2>&1
sleep 2
t_eq "over TLS, a certificate from another CA or none at all: nothing is stored" \
  "$(t_psql -c "select count(*) from spoor.smtp_event where queue_id = '5D5D5D5D5D'")/$(t_psql -c "select count(*) from spoor.quarantine q join spoor.evidence_block b using (block_id) where q.detail like '%5D5D5D%'")" "0/0"
t_match "…and the collector says why" "$(cat "$W/collect.log")" 'TLS connection from 127.0.0.1 closed: TLS handshake'

# ---- FreeRADIUS detail files, across a restart ------------------------------------------
rec() {  # rec SESSION EVENT_TS
  printf '%s\n\tAcct-Status-Type = Start\n\tUser-Name = "det@isp.example"\n\tAcct-Session-Id = "%s"\n\tNAS-IP-Address = 192.0.2.9\n\tFramed-IP-Address = 100.64.9.9\n\tEvent-Timestamp = %d\n\tTimestamp = %d\n\n' \
    "$(LC_ALL=C date -u -d @"$2" '+%a %b %e %T %Y')" "$1" "$2" "$2"
}
{ rec d1 $((now - 50)); rec d2 $((now - 40)); } >"$W/detail/detail-20261125"
wait_rows "session_key like '192.0.2.9/d%'" 2
t_eq "detail records are followed into Kafka" "$(rows "session_key like '192.0.2.9/d%'")" 2
kill -TERM $col; wait $col; rc=$?
t_eq "SIGTERM: the collector flushes and exits 0" "$rc" 0
t_match "…having saved its position" "$(cat "$W/state/detail.pos")" "^detail-20261125 [0-9]+ [0-9]+$"
rec d3 $((now - 30)) >>"$W/detail/detail-20261125"
start_collect
rec d4 $((now - 20)) >"$W/detail/detail-20261126"
wait_rows "session_key like '192.0.2.9/d%'" 4
sleep 1
t_eq "after a restart and a rotation: each record exactly once" \
  "$(t_psql -c "select count(*) || '/' || count(distinct session_key) from spoor.radius_event where session_key like '192.0.2.9/d%'")" "4/4"
n=$(rp_radius_replay 127.0.0.1 $P_R "$W/p4.bin" 1 0)
t_eq "after a restart, the captured request replayed gets no answer" "$n" 0
sleep 1
t_eq "…and is not stored again" "$(rows "session_key = '192.0.2.1/c80-4'")" 1
t_match "…the restarted collector remembered the requests it had acknowledged" "$(cat "$W/collect.log")" 'radius: [1-9][0-9]* requests of the last [0-9]+ s remembered against replays'

# ---- broker outage ------------------------------------------------------------------------
rp_radius_packet "$SECRET" Start "User-Name = \"sub5@isp.example\", Acct-Session-Id = \"c80-5\", NAS-IP-Address = 192.0.2.1, Framed-IP-Address = 100.64.8.5, Event-Timestamp = $now" "$W/p5.bin"
ops/stack down kafka >/dev/null 2>&1
n=$(rp_radius_replay 127.0.0.1 $P_R "$W/p5.bin" 2 0.5)
t_eq "broker down: the request is not answered (the NAS keeps it)" "$n" 0
ops/stack up kafka >/dev/null 2>&1
for _ in $(seq 1 60); do n=$(rp_radius_replay 127.0.0.1 $P_R "$W/p5.bin" 1 0); [ "$n" = 1 ] && break; sleep 1; done
t_eq "broker back: the retransmission is answered" "$n" 1
wait_rows "session_key = '192.0.2.1/c80-5'" 1
sleep 1
t_eq "…and the record stored exactly once" "$(rows "session_key = '192.0.2.1/c80-5'")" 1

# ---- a real Postfix, rsyslog and swaks ----------------------------------------------------
if rp_install >/dev/null 2>&1 && command -v swaks >/dev/null; then
  mkdir -p "$V"
  # The submission comes from 127.0.0.1: say a subscriber session held it.
  rp_radclient 127.0.0.1:$P_R "$SECRET" Start "User-Name = \"alice@isp.example\", Acct-Session-Id = \"c80-pf\", NAS-IP-Address = 192.0.2.1, Calling-Station-Id = \"0161-555-0999\", Framed-IP-Address = 127.0.0.1, Event-Timestamp = $((now - 60))" 3 2 >/dev/null
  if TZ=UTC rp_postfix_start "$V" $P_M alice 'Wonder-land1' >"$W/postfix.log" 2>&1; then
    rp_rsyslog_start "$V" "$SPOOR_KAFKA_BROKERS" c80.smtp >"$W/rsyslog.log" 2>&1
    rp_postfix_send "$V" $P_M 'c80-1@client.spoor.test' alice 'Wonder-land1' >/dev/null 2>&1
    rp_postfix_wait "$V" 'qmgr\[[0-9]+\]: [0-9A-F]+: removed' 20
    for _ in $(seq 1 100); do [ "$(t_psql -c "select count(*) from spoor.smtp_event where message_id = 'c80-1@client.spoor.test'")" -ge 1 ] && break; sleep 0.2; done
    out=$(as alice --json trace message-id '<c80-1@client.spoor.test>' --request "$r")
    t_eq "Postfix → rsyslog → Kafka → spoor-ingest: trace message-id finds the submission" \
      "$(printf '%s' "$out" | jq -r '.submissions[0].sasl_username + " " + .submissions[0].client_ip')" "alice 127.0.0.1"
    t_eq "…and the subscriber session radclient set up" \
      "$(printf '%s' "$out" | jq -r '.submissions[0].session_trace.sessions[0].calling_station_id')" "0161-555-0999"
    t_match "…with Postfix's own lines as evidence" "$(printf '%s' "$out" | jq -r '.submissions[0].evidence[].line')" 'postfix/smtpd\[[0-9]+\]: [0-9A-F]+: client=localhost\[127.0.0.1\]:[0-9]+, sasl_method=PLAIN, sasl_username=alice'
    rp_rsyslog_stop "$V"; rp_postfix_stop "$V"
  else
    t_fail "a private Postfix starts" "$(tail -5 "$W/postfix.log")"
  fi
else
  t_fail "real peers installed (postfix, rsyslog-kafka, swaks, freeradius-utils)"
fi

kill -TERM $col; wait $col; rc=$?
t_eq "SIGTERM at the end: exit 0" "$rc" 0
t_match "the collector counted what it refused" "$(cat "$W/collect.log")" '[1-9][0-9]* bad authenticator'
t_match "…replays and stale requests among them" "$(cat "$W/collect.log")" '[1-9][0-9]* replayed, [1-9][0-9]* stale'
t_match "…and refused syslog peers and hosts" "$(cat "$W/collect.log")" '[1-9][0-9]* from refused peers, [1-9][0-9]* naming a host their peer may not, [1-9][0-9]* TLS handshakes refused'
kill -TERM $ing; wait $ing
t_eq "consumed = stored + quarantined" "$(t_psql -c "select bool_and(consumed = stored + quarantined) from spoor.source_position")" t

t_unit spoor-collect "$W/units" 'User=spoor-collect' 'ProtectSystem=strict' 'NoNewPrivileges=yes' 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE$'
t_done
