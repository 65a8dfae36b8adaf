# `make demo` on small data: the three seed stories end to end, exit 0.
set -u
. tests/lib.sh
out=$(DEMO_SUBSCRIBERS=800 DEMO_HOURS=6 SPOOR_DEMO_DB=spoor_demo B=$B ops/demo 2>&1); rc=$?
t_eq "ops/demo exits 0" "$rc" 0
[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -20
t_match "demo: four eyes shown" "$out" 'refused: four eyes'
t_match "demo: the court-ordered telephone number" "$out" 'The telephone number the court ordered released: 0[0-9 ]+'
t_match "demo: copied headers reported as forged" "$out" 'verdict: forged_our_headers'
t_match "demo: backscatter recognised" "$out" 'verdict: backscatter'
t_match "demo: audit trail verified" "$out" 'audit trail intact: [0-9]+ entries'
t_match "demo: a signed disclosure package, verified" "$out" 'intact — signature good, [0-9]+ files'
t_match "demo: its ETSI XML validates against legal/etsi-102657-spoor.xsd" "$out" 'retained-data.xml validates'
t_match "demo: one ETSI record per distinct result (the submission and its session)" "$out" '2 records in retained-data.xml'
t_match "demo: behind carrier-grade NAT, the order's address and port answered to a subscriber" "$out" 'port 1500 is behind carrier-grade NAT: 1 holding'
t_match "demo: …the subscriber's session through the inside address" "$out" 'inside address [0-9.]+ at that instant:'
t_match "demo: …and without the port only the count" "$out" 'shared carrier-grade NAT address: 2 subscribers'
t_match "demo: live ingest progress" "$out" 'records read +100.0%  stored [0-9]+, quarantined [0-9]+'
t_match "demo: the request marked disclosed" "$out" 'is now disclosed'
t_match "demo: the web console is served and signs a person in" "$out" 'open http://127\.0\.0\.1:[0-9]+/ and sign in'
t_match "…with the demo people's tokens" "$out" 'anna \(analyst, approver\) +spoor_[0-9a-f]{64}'
pidf=$SPOOR_VAR/demo/api.pid
t_eq "…and the console answers (GET /)" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((SPOOR_KAFKA_PORT + 50))/")" 200
[ -f "$pidf" ] && kill "$(cat "$pidf")" 2>/dev/null
t_done
