# IPFIX and NetFlow v9 NAT event logging (RFC 8158) end to end: a CGN's
# exporter (tests/tools/spoor-ipfix-send, scripts in tests/ipfix) sends the
# same datagrams to spoor-collect and to Debian's nfcapd; spoor-ingest
# stores the NAT events; what Spoor stored is compared with what nfdump
# decoded from the same bytes.  Then the edges: exporters not listed are
# refused, natEvent is read per exporter (IANA or Junos numbering), a
# sequence gap is counted, undecodable messages and records are
# quarantined with their reason, and nobody forges an IPFIX record over
# syslog.
set -u
. tests/lib.sh
W=$SPOOR_VAR/work-ipfix
rm -rf "$W"; mkdir -p "$W/nf" "$W/state"
t_scratch_db spoor_ipfix
P_I=$((SPOOR_KAFKA_PORT + 60)); P_F=$((SPOOR_KAFKA_PORT + 61)); P_N=$((SPOOR_KAFKA_PORT + 62))
cat >"$W/spoor.conf" <<CONF
kafka.brokers = $SPOOR_KAFKA_BROKERS
kafka.topic.smtp = c82.smtp
kafka.topic.radius = c82.radius
kafka.topic.nat = c82.nat
kafka.group = c82
ingest.batch_ms = 100
ingest.metrics_listen = 127.0.0.1:$((SPOOR_KAFKA_PORT + 63))
collect.ipfix_listen = 127.0.0.1:$P_I
collect.ipfix_exporters = 127.0.0.1=cgn-x:iana, 127.0.0.2=mx-j:junos
collect.nat_listen = 127.0.0.1:$P_N
collect.syslog_sources = 127.0.0.1=cgn-x
collect.state_dir = $W/state
log.level = info
CONF
"$B/spoor-topics" --brokers "$SPOOR_KAFKA_BROKERS" --wait 60 --create c82.smtp --create c82.radius --create c82.nat >/dev/null
"$B/spoor-collect" --config "$W/spoor.conf" >"$W/collect.log" 2>&1 & col=$!
"$B/spoor-ingest" --config "$W/spoor.conf" >"$W/ingest.log" 2>&1 & ing=$!
nfcapd -b 127.0.0.1 -p "$P_F" -w "$W/nf" >"$W/nfcapd.log" 2>&1 & nfc=$!
trap 'kill $col $ing $nfc 2>/dev/null' EXIT
sleep 1
kill -0 $col 2>/dev/null && t_ok "spoor-collect starts with an IPFIX listener" || t_fail "spoor-collect starts with an IPFIX listener" "$(cat "$W/collect.log")"
t_match "…and says from how many exporters" "$(cat "$W/collect.log")" 'IPFIX / NetFlow v9 on udp .* from 2 exporters'

send() { "$B/tests/spoor-ipfix-send" "tests/ipfix/$1.script" --from "$2" "${@:3}"; }
for s in pba-v10 pba-v9 session-v10; do send $s 127.0.0.1 --to 127.0.0.1:$P_I --to 127.0.0.1:$P_F; done
send junos 127.0.0.2 --to 127.0.0.1:$P_I
send edge 127.0.0.1 --to 127.0.0.1:$P_I
send pba-v10 127.0.0.3 --to 127.0.0.1:$P_I     # not a listed exporter
# A syslog peer allowed to speak for cgn-x tries to pass an IPFIX record
# off as another CGN's.
printf '%s' 'IPFIX v10 cgn=victim exporter=1.2.3.4:1 domain=1 seq=0 export=1795255200 template=256 event=allocated observationTimeMilliseconds=1795255200000 natEvent=16 sourceIPv4Address=100.64.7.70 postNATSourceIPv4Address=198.51.100.70 portRangeStart=1024 portRangeEnd=2047' >/dev/udp/127.0.0.1/$P_N

# A record whose spoor-peer header is no address (a collector's bug):
# stored without it, and the partition goes on (before, the batch failed
# to store for ever).
printf '%s\n' '<14>1 2026-11-21T12:00:00Z cgn-x RT_NAT - RT_SRC_NAT_PBA_ALLOC [junos@2636.1.1.1.2.129 internal-ip="100.64.8.80" block-port-low="1024" block-port-high="1535" reflexive-ip="198.51.100.80" epoch-time-64="6b0187c0"]' |
  kcat -P -b "$SPOOR_KAFKA_BROKERS" -t c82.nat -H 'spoor-peer=127.0.0.1:54905' 2>/dev/null
n() { t_psql -c "select count(*) from spoor.nat_event $1"; }
for _ in $(seq 1 150); do [ "$(n '')" -ge 13 ] && [ "$(t_psql -c 'select count(*) from spoor.quarantine')" -ge 5 ] && break; sleep 0.2; done
t_eq "NAT events stored: v10 blocks 3, v9 blocks 3, sessions 2, Junos 3, the edge script's one good record" \
  "$(t_psql -c "select string_agg(host || ':' || n, ' ' order by host) from (select host, count(*) n from spoor.nat_event group by 1) x")" \
  "cgn-x:10 mx-j:3"
t_eq "every record in Kafka stored or quarantined: consumed = stored + quarantined" \
  "$(t_psql -c "select bool_and(consumed = stored + quarantined) || ' ' || sum(consumed) from spoor.source_position where source like 'c82.nat%'")" \
  "true 19"
t_eq "quarantined with their reasons: two undecodable messages, a scattered port set, a record with no natEvent, the forged line" \
  "$(t_psql -c "select string_agg(reason, ' ' order by reason) from spoor.quarantine")" \
  "bad_ipfix bad_ipfix bad_nat bad_nat host_not_allowed"
t_match "…each reason says what" "$(t_psql -c "select string_agg(detail, ' | ' order by detail) from spoor.quarantine")" \
  'scattered port set \(portRangeStepSize 64\).*IPFIX message length does not match the datagram.*shorter than an IPFIX message header.*without natEvent.*sent an IPFIX line over syslog'
t_eq "a record with a malformed spoor-peer header is stored, without the peer" \
  "$(t_psql -c "select count(*) from spoor.nat_event where inside = '100.64.8.80'")" 1
t_eq "nothing from the refused exporter or the forged line" "$(n "where inside in ('100.64.7.70') or host = 'victim'")" 0
t_eq "Junos numbering read as Junos: 14 allocated, 16 interim, 15 released" \
  "$(t_psql -c "select string_agg(kind::text, ',' order by ts) from spoor.nat_event where host = 'mx-j'")" "1,2,3"
t_eq "the evidence of a record is its decoded line: exporter, domain, sequence" \
  "$(t_psql -c "select (spoor.evidence_of(block_id, block_idx, ts))->>'line' from spoor.nat_event where inside = '100.64.0.11'" | grep -c 'exporter=127.0.0.1:[0-9]* domain=1 seq=0 .*natEvent=16')" 1

# The same bytes through nfcapd: nfdump must read the same events.
kill -TERM $nfc; wait $nfc 2>/dev/null
nf=$(ls "$W"/nf/nfcapd.* 2>/dev/null | head -1)
t_match "nfcapd wrote what it received" "$nf" 'nfcapd\.'
# nfdump 1.7.1 reads IPFIX's portRange fields not at all (v9's it does):
# those blocks are compared without their ports.
TZ=UTC nfdump -r "$nf" -o json | jq -r '.[] | [.src4_addr, .src4_xlt_ip, .nat_event_id,
    ((.t_event | split(".") | (.[0] + "Z" | fromdateiso8601) * 1000 + (.[1] | tonumber)) | tostring),
    (.pblock_start // .src_xlt_port // "-"), (.pblock_end // .src_xlt_port // "-")] | join(" ")' | sort >"$W/nfdump.txt"
t_psql -c "select host(inside) || ' ' || host(outside) || ' ' || (array[16, 0, 17, 4, 5])[kind] || ' ' ||
             (extract(epoch from ts) * 1000)::bigint || ' ' ||
             case when outside = '198.51.100.7' then '- -' else port_lo || ' ' || port_hi end
           from spoor.nat_event where host = 'cgn-x' and inside::text not like '100.64.6.%' and inside <> '100.64.8.80'" | sort >"$W/spoor.txt"
t_eq "nfdump decoded 8 events from the same datagrams" "$(wc -l <"$W/nfdump.txt")" 8
t_eq "Spoor stored the same events as nfdump decoded: addresses, natEvent, time, ports" "$(cat "$W/spoor.txt")" "$(cat "$W/nfdump.txt")"

# Lookups through IPFIX-borne blocks.
h() { t_psql -c "select string_agg(h->>'inside_ip' || '/' || (h->>'stop_reason'), ' ') from jsonb_array_elements(spoor.nat_holders('$1', $2, '$3', '0')) h"; }
t_eq "198.51.100.7:1100 at 10:30 -> 100.64.0.10 (IPFIX block, released at 11:00)" "$(h 198.51.100.7 1100 2026-11-21T10:30:00Z)" "100.64.0.10/released"
t_eq "198.51.100.9:4700 at 10:30 -> 100.64.9.11 (NetFlow v9 block; no release, no interims: still held)" "$(h 198.51.100.9 4700 2026-11-21T10:30:00Z)" "100.64.9.11/open"
t_eq "198.51.100.8:61234 at 10:10 -> 100.64.4.41 (a NAT44 session)" "$(h 198.51.100.8 61234 2026-11-21T10:10:00Z)" "100.64.4.41/released"

kill -TERM $col; wait $col 2>/dev/null
t_match "spoor-collect counts: sequence loss, template-less data, refused exporter, invalid messages" "$(tail -3 "$W/collect.log")" \
  'ipfix: 12 messages, 15 NAT records, 2 invalid, 1 without a template, 3 lost by sequence, 2 from refused exporters'
t_match "…and warned of the loss as it happened" "$(cat "$W/collect.log")" 'ipfix: 127.0.0.1:[0-9]+ \(cgn-x\): 3 records lost by its sequence numbers'
t_done
