# Carrier-grade NAT against the generator's ground truth: spoor-gen --cgn
# puts every DSL NAS but the first behind a CGN (Junos and IOS XR logs here),
# its subscribers' submissions come from the CGN's public address and a port
# of their block.  Imported as an ISP would (RADIUS detail, Postfix and Exim
# logs, the CGNs' syslog), trace message-id and trace ip --port must name
# the subscriber the truth names, through the CGN step; the no-port answer
# names nobody.
set -u
. tests/lib.sh
S=$B/spoor
W=$SPOOR_VAR/work-cgn-gen
rm -rf "$W"; mkdir -p "$W"
t_scratch_db spoor_cgn_gen
t_person alice analyst
t_person bob approver

"$B/tests/spoor-gen" --out "$W/d" --subscribers 400 --hours 6 --seed 7 --start 2026-11-21T00:00:00Z \
  --mails-per-hour 300 --zone Europe/London --cgn >/dev/null 2>&1
t_match "spoor-gen --cgn writes the CGNs' logs and their truth" "$(cat "$W/d/summary.txt")" 'cgn_blocks_allocated: [1-9]'
"$S" import --format radius-detail --zone Europe/London "$W/d/radius.detail" >/dev/null
"$S" import --format postfix --zone Europe/London --reference 2026-11-21T12:00:00Z "$W/d/maillog" >/dev/null
"$S" import --format exim --host smtp3 --zone Europe/London "$W/d/mainlog" >/dev/null
out=$("$S" import --format nat --reference 2026-11-21T12:00:00Z "$W/d/cgn.log")
t_match "every CGN line stored, none quarantined" "$out" "$(grep -c . "$W/d/cgn.log") records read, $(grep -c . "$W/d/cgn.log") stored, 0 quarantined"
t_eq "as many allocations and releases stored as the CGNs logged" \
  "$(t_psql -c "select count(*) filter (where kind = 1) || ' ' || count(*) filter (where kind = 3) from spoor.nat_event")" \
  "$(sed -n 's/^cgn_blocks_allocated: //p' "$W/d/summary.txt") $(sed -n 's/^cgn_blocks_released: //p' "$W/d/summary.txt")"

# Submissions from CGN addresses (198.19.240.0/20), by subscribers whose
# session left an accounting record in these hours.
sed -n 's/^\tUser-Name = "\(.*\)"$/\1/p' "$W/d/radius.detail" | sort -u >"$W/users"
awk -F'\t' 'NR == FNR { seen[$1] = 1; next } FNR > 1 && $8 != "" && $5 ~ /^198\.19\.2(4[0-9]|5[0-5])\./ && seen[$8]' \
  "$W/users" "$W/d/truth_mail.tsv" | awk 'NR % 3 == 1' | head -25 >"$W/pick.tsv"
t_match "submissions through the CGN picked from the truth" "$(wc -l <"$W/pick.tsv")" '^(1[0-9]|2[0-5])$'
args=()
while IFS=$'\t' read -r mid host qids time ip port sasl user calling; do
  args+=(--message-id "<$mid>" --ip "$ip" --port "$port")
done <"$W/pick.tsv"
req=$(as alice request create --case CGN-GEN --authority Court --basis Order --from 2026-11-20T00:00:00Z \
  --to 2026-11-22T00:00:00Z --max-lookups 200 "${args[@]}" | sed -n 's/^request \([0-9]*\).*/\1/p')
as bob request approve "$req" --note ok >/dev/null

ok=0; bad=0; first_bad=""
while IFS=$'\t' read -r mid host qids time ip port sasl user calling; do
  j=$(as alice --json trace message-id "<$mid>" --request "$req" 2>&1)
  got=$(printf '%s' "$j" | jq -r --arg h "$host" '[.submissions[] | select(.mta_host == $h)][0] |
        [.client_ip, (.client_port|tostring), (.session_trace.cgn.translations | length | tostring),
         .session_trace.verdict, .session_trace.sessions[0].user_name] | join("|")')
  if [ "$got" = "$ip|$port|1|exact|$user" ]; then ok=$((ok + 1)); else bad=$((bad + 1)); [ -n "$first_bad" ] || first_bad="$mid: got $got want $ip|$port|1|exact|$user"; fi
done <"$W/pick.tsv"
t_eq "trace message-id through the CGN: one holding of the client port, the truth's subscriber ($ok checked)" "$bad" 0
[ -n "$first_bad" ] && echo "     $first_bad"

ok=0; bad=0; first_bad=""
while IFS=$'\t' read -r mid host qids time ip port sasl user calling; do
  j=$(as alice --json trace ip "$ip" --port "$port" --at "$time" --request "$req" 2>&1)
  inside=$(awk -F'\t' -v ip="$ip" -v p="$port" -v t="$time" -v u="$user" \
    'FNR > 1 && $2 == ip && $3 + 0 <= p + 0 && $4 + 0 >= p + 0 && $6 == u && $7 <= t && ($8 == "" || $8 > t) { print $5 }' "$W/d/truth_cgn.tsv" | head -1)
  got=$(printf '%s' "$j" | jq -r '[.verdict, .cgn.translations[0].inside_ip, .sessions[0].user_name] | join("|")')
  if [ -n "$inside" ] && [ "$got" = "exact|$inside|$user" ]; then ok=$((ok + 1)); else bad=$((bad + 1)); [ -n "$first_bad" ] || first_bad="$ip:$port@$time: got $got want exact|$inside|$user"; fi
done <"$W/pick.tsv"
t_eq "trace ip --port: the truth's block, inside address and subscriber ($ok checked)" "$bad" 0
[ -n "$first_bad" ] && echo "     $first_bad"

read -r mid host qids time ip port sasl user calling <"$W/pick.tsv"
r2=$(as alice request create --case CGN-GEN-2 --authority Court --basis Order --from 2026-11-20T00:00:00Z \
  --to 2026-11-22T00:00:00Z --ip "$ip" | sed -n 's/^request \([0-9]*\).*/\1/p')
as bob request approve "$r2" --note ok >/dev/null
j=$(as alice --json trace ip "$ip" --at "$time" --request "$r2")
want=$(awk -F'\t' -v ip="$ip" -v t="$time" 'FNR > 1 && $2 == ip && $7 <= t && ($8 == "" || $8 > t) { print $5 }' "$W/d/truth_cgn.tsv" | sort -u | wc -l)
t_eq "no port: the truth's count of subscribers sharing $ip then, nobody named" \
  "$(printf '%s' "$j" | jq -r '[.verdict, .cgn.subscribers_sharing] | join(" ")') $(printf '%s' "$j" | grep -c '100\.64\.')" "shared_address $want 0"
t_done
