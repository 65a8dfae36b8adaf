# A second stack runs beside the test stack, and `down` leaves no process behind.
set -u
. tests/lib.sh
V2=$SPOOR_VAR-side
rm -rf "$V2"
env2=(SPOOR_VAR="$V2" SPOOR_PG_PORT=$((SPOOR_PG_PORT + 7)) SPOOR_KAFKA_PORT=$((SPOOR_KAFKA_PORT + 7)))
if env "${env2[@]}" ops/stack up >"$V2.log" 2>&1; then t_ok "second stack starts beside the first"; else t_fail "second stack starts beside the first" "$(tail -20 "$V2.log")"; fi
pgpid=$(head -1 "$V2/pg/data/postmaster.pid" 2>/dev/null)
kpid=$(cat "$V2/kafka/kafka.pid" 2>/dev/null)
out=$(env "${env2[@]}" ops/stack status)
t_match "second stack reports its own ports" "$out" "127.0.0.1:$((SPOOR_KAFKA_PORT + 7))"
t_run "first stack still answers" ops/stack status
t_run "ops/stack up twice is harmless" env "${env2[@]}" ops/stack up
env "${env2[@]}" ops/stack down >/dev/null 2>&1
sleep 0.5
left=""
# A zombie (state Z) has exited and only waits for its parent to reap it.
for p in $pgpid $kpid; do
  st=$(ps -o stat= -p "$p" 2>/dev/null)
  case "$st" in ""|Z*) ;; *) left="$left $p:$st" ;; esac
done
t_eq "ops/stack down leaves no process behind" "${left:-none}" "none"
t_eq "no postgres child of the second stack remains" \
  "$(pgrep -f "$V2/pg/data" | wc -l)" "0"
out=$(env "${env2[@]}" ops/stack status); rc=$?
t_eq "status of a stopped stack exits 1" "$rc" 1
rm -rf "$V2" "$V2.log"
t_done
