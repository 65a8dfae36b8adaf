# A second stack runs beside the test stack, and `down` leaves no process behind.
set -u
. tests/lib.sh
V2=$SPOOR_VAR-side
rm -rf "$V2"
env2=(SPOOR_VAR="$V2" SPOOR_PG_PORT=$((SPOOR_PG_PORT + 7)) SPOOR_KAFKA_PORT=$((SPOOR_KAFKA_PORT + 7)))
if env "${env2[@]}" ops/stack up >"$V2.log" 2>&1; then t_ok "second stack starts beside the first"; else t_fail "second stack starts beside the first" "$(tail -20 "$V2.log")"; fi
# PostgreSQL's folder: $V2/pg, or outside $V2 when postgres cannot enter it.
pgdir2=$(env "${env2[@]}" ops/stack env | sed -n "s/^export PGHOST='\(.*\)\/run'.*/\1/p")
pgpid=$(head -1 "$pgdir2/data/postmaster.pid" 2>/dev/null)
kpid=$(cat "$V2/kafka/kafka.pid" 2>/dev/null)
out=$(env "${env2[@]}" ops/stack status)
t_match "second stack reports its own ports" "$out" "127.0.0.1:$((SPOOR_KAFKA_PORT + 7))"
t_run "first stack still answers" ops/stack status
t_run "ops/stack up twice is harmless" env "${env2[@]}" ops/stack up
env "${env2[@]}" ops/stack down >/dev/null 2>&1
sleep 0.5
left=""
# Without both PIDs there is nothing to look at: that fails too.
[[ "$pgpid" =~ ^[0-9]+$ ]] || left="$left no-postmaster-pid"
[[ "$kpid" =~ ^[0-9]+$ ]] || left="$left no-kafka-pid"
# A zombie (state Z) has exited and only waits for its parent to reap it.
for p in $pgpid $kpid; do
  st=$(ps -o stat= -p "$p" 2>/dev/null)
  case "$st" in ""|Z*) ;; *) left="$left $p:$st" ;; esac
done
t_eq "ops/stack down leaves no process behind" "${left:-none}" "none"
# PostgreSQL's children rewrite their command line ("postgres: checkpointer"),
# so `pgrep -f DATADIR` sees only the postmaster: find every server process
# by its working folder, the data folder (a zombie has none).
pgdata=
[ -n "$pgdir2" ] && [ -d "$pgdir2/data" ] && pgdata=$(readlink -f "$pgdir2/data")
n=0
for c in /proc/[0-9]*/cwd; do
  [ "$(readlink "$c" 2>/dev/null)" = "$pgdata" ] && n=$((n + 1))
done
t_eq "no postgres child of the second stack remains" "${pgdata:+$n}" "0"
out=$(env "${env2[@]}" ops/stack status); rc=$?
t_eq "status of a stopped stack exits 1" "$rc" 1
env "${env2[@]}" ops/stack wipe >/dev/null 2>&1
rm -rf "$V2" "$V2.log"
t_done
