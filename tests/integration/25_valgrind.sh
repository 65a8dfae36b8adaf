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
t_done
