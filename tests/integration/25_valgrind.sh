# The daemon is valgrind-clean: no invalid access, no use of uninitialised
# memory, no leak, over a real run (Kafka in, PostgreSQL out, a bad line
# quarantined).
set -u
. tests/lib.sh
W=$SPOOR_VAR/work-valgrind
rm -rf "$W"; mkdir -p "$W"
# ASan binaries cannot run under valgrind: `make check` runs this test.
case "$B" in *asan*) echo "skip 25_valgrind: sanitizer build"; t_done; exit 0 ;; esac
command -v valgrind >/dev/null || { t_fail "valgrind is installed (ops/setup)"; t_done; exit; }
"$B/spoor-topics" --brokers "$SPOOR_KAFKA_BROKERS" --wait 30 --partitions 2 --create vg.smtp --create vg.radius >/dev/null
"$B/tests/spoor-gen" --out "$W/d" --subscribers 20 --hours 1 --seed 7 --start 2026-11-24T10:00:00Z \
  --mails-per-hour 200 >/dev/null 2>&1
head -1500 "$W/d/maillog" >"$W/mail"; printf 'garbage \xff line\n' >>"$W/mail"
"$B/tests/spoor-produce" --brokers "$SPOOR_KAFKA_BROKERS" --topic vg.smtp "$W/mail" >/dev/null
"$B/tests/spoor-produce" --brokers "$SPOOR_KAFKA_BROKERS" --topic vg.radius --detail --key nas "$W/d/radius.detail" >/dev/null
cat >"$W/conf" <<CONF
kafka.brokers = $SPOOR_KAFKA_BROKERS
kafka.topic.smtp = vg.smtp
kafka.topic.radius = vg.radius
kafka.group = spoor-valgrind
ingest.metrics_listen =
log.level = warn
CONF
"$B/spoor" db migrate >/dev/null
valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
  --show-leak-kinds=definite,indirect "$B/spoor-ingest" --config "$W/conf" --once >"$W/vg.log" 2>&1
rc=$?
t_eq "spoor-ingest under valgrind: exit 0, no errors, no leaks" "$rc" 0
[ "$rc" = 0 ] || grep -A12 -E 'Invalid|uninitialised|definitely lost' "$W/vg.log" | head -30
t_match "valgrind: error summary is zero" "$(grep 'ERROR SUMMARY' "$W/vg.log")" 'ERROR SUMMARY: 0 errors'
t_eq "valgrind run stored everything" \
  "$(t_psql -c "select sum(consumed) = sum(stored + quarantined) and sum(consumed) > 1500 from spoor.source_position where source like 'vg.%'")" t

# spoor-collect under valgrind: RADIUS (good, retransmitted, wrong secret,
# garbage), syslog over TCP and UDP, a detail file, then SIGTERM.
. tests/integration/realpeers.sh
P_R=$((SPOOR_KAFKA_PORT + 70)); P_S=$((SPOOR_KAFKA_PORT + 71))
mkdir -p "$W/detail" "$W/state"
printf 'vg-secret\n' >"$W/nas.secret"; chmod 0400 "$W/nas.secret"
cat >"$W/collect.conf" <<CONF
kafka.brokers = $SPOOR_KAFKA_BROKERS
kafka.topic.smtp = vg.smtp
kafka.topic.radius = vg.radius
collect.radius_listen = 127.0.0.1:$P_R
collect.radius_clients = 127.0.0.1=$W/nas.secret
collect.syslog_listen = 127.0.0.1:$P_S
collect.syslog_sources = 127.0.0.1=*
collect.detail_dir = $W/detail
collect.state_dir = $W/state
log.level = warn
CONF
sed -n '1,40p' "$W/d/radius.detail" | awk 'BEGIN{RS=""; ORS="\n\n"} NR<=2' >"$W/detail/detail-20261124"
valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
  --show-leak-kinds=definite,indirect "$B/spoor-collect" --config "$W/collect.conf" >"$W/vgc.log" 2>&1 & vp=$!
for _ in $(seq 1 100); do grep -q ":$(printf '%04X' $P_S) " /proc/net/tcp 2>/dev/null && break; sleep 0.2; done
rp_radclient 127.0.0.1:$P_R vg-secret Start 'User-Name = "vg", Acct-Session-Id = "vg1", NAS-IP-Address = 192.0.2.7, Framed-IP-Address = 100.64.7.7' 3 3 >/dev/null
t_eq "spoor-collect under valgrind answers radclient" "$?" 0
rp_radius_packet vg-secret Stop 'User-Name = "vg", Acct-Session-Id = "vg1", NAS-IP-Address = 192.0.2.7, Acct-Session-Time = 5' "$W/p.bin"
rp_radius_replay 127.0.0.1 $P_R "$W/p.bin" 2 0.5 >/dev/null
rp_radclient 127.0.0.1:$P_R wrong Start 'User-Name = "x", Acct-Session-Id = "x"' 1 1 >/dev/null 2>&1
head -c 200 /dev/urandom >/dev/udp/127.0.0.1/$P_R
printf '<22>Nov 24 10:00:00 mx postfix/qmgr[1]: ABC: removed\n9 <22>x y z\n' | nc -q 1 127.0.0.1 $P_S
printf '<22>Nov 24 10:00:01 mx postfix/qmgr[1]: ABD: removed' >/dev/udp/127.0.0.1/$P_S
head -c 3000 /dev/urandom | nc -q 1 127.0.0.1 $P_S
sleep 2
kill -TERM $vp; wait $vp; rc=$?
t_eq "spoor-collect under valgrind: SIGTERM, exit 0, no errors, no leaks" "$rc" 0
[ "$rc" = 0 ] || grep -A12 -E 'Invalid|uninitialised|definitely lost' "$W/vgc.log" | head -30
t_match "valgrind (collect): error summary is zero" "$(grep 'ERROR SUMMARY' "$W/vgc.log")" 'ERROR SUMMARY: 0 errors'
t_done
