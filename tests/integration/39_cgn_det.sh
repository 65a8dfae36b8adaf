# Deterministic carrier-grade NAT (RFC 7422): a CGN that logs no blocks,
# because each inside address owns a fixed share of an outside address's
# ports.  The configuration is the evidence: versions recorded by two
# admins, append-only, audited; the reverse mapping checked against RFC
# 7422 section 2.3's own table and its narrative (port 2001 answered without
# logs, port 58204 in the dynamic pool answered from the log), versions in
# force by time, and the lookup through the legal gate to the subscriber.
set -u
. tests/lib.sh
S=$B/spoor
W=$SPOOR_VAR/work-cgn-det
rm -rf "$W"; mkdir -p "$W"
t_scratch_db spoor_cgn_det
t_person alice analyst
t_person bob approver
t_person ada admin
t_person ben admin

# RFC 7422 section 2.3: inside 198.51.100.1-14 behind 192.0.2.1, C = 14,
# D = 2 (1:16), R = the system ports, sequential; M = 5040.
cat >"$W/v1.conf" <<'CONF'
# RFC 7422 section 2.3's example
cgn = cgn-det
algorithm = sequential      # A = 0
inside = 198.51.100.1-198.51.100.14
outside = 192.0.2.1
ratio = 14
dynamic_factor = 2
reserved = 0-1023
max_ports = 5040
CONF

out=$(as alice nat config add "$W/v1.conf" --valid-from 2026-11-01T00:00:00Z 2>&1); rc=$?
t_eq "an analyst cannot record a NAT configuration" "$rc" 1
t_match "…refused by PostgreSQL" "$out" 'permission denied'
out=$(as ada nat config add "$W/v1.conf" --valid-from 2026-11-01T00:00:00Z 2>&1); rc=$?
t_eq "an admin records a version: exit 0" "$rc" 0
t_match "…as a change for a second admin" "$out" 'second admin'
t_eq "…and nothing is in force yet" "$(t_psql -c 'select count(*) from spoor.nat_config')" 0
change=$(t_psql -c "select change_id from spoor.admin_change where kind = 'nat_config' and state = 'pending'")
as ada admin confirm "$change" >/dev/null 2>&1; rc=$?
t_eq "the admin who asked cannot confirm it" "$rc" 1
out=$(as ben admin confirm "$change" 2>&1); rc=$?
t_eq "a second admin confirms" "$rc" 0
t_eq "the version is stored with the file's SHA-256, who recorded and who confirmed" \
  "$(t_psql -c "select encode(sha256, 'hex') || ' ' || recorded_by || ' ' || confirmed_by || ' ' || ports_per_user from spoor.nat_config")" \
  "$(sha256sum <"$W/v1.conf" | cut -c1-64) ada ben 4032"
t_eq "…and the file byte for byte" "$(t_psql -c "select source = \$x\$$(cat "$W/v1.conf")
\$x\$ from spoor.nat_config")" t
t_eq "the version is in the audit trail" \
  "$(t_psql -c "select count(*) from spoor.audit where action = 'nat.config_add' and params->>'sha256' = '$(sha256sum <"$W/v1.conf" | cut -c1-64)'")" 1

# RFC 7422 section 2.3's table, inside address -> outside address and ports.
cat >"$W/rfc-table.want" <<'TABLE'
198.51.100.1 192.0.2.1:1024-5055
198.51.100.2 192.0.2.1:5056-9087
198.51.100.3 192.0.2.1:9088-13119
198.51.100.4 192.0.2.1:13120-17151
198.51.100.5 192.0.2.1:17152-21183
198.51.100.6 192.0.2.1:21184-25215
198.51.100.7 192.0.2.1:25216-29247
198.51.100.8 192.0.2.1:29248-33279
198.51.100.9 192.0.2.1:33280-37311
198.51.100.10 192.0.2.1:37312-41343
198.51.100.11 192.0.2.1:41344-45375
198.51.100.12 192.0.2.1:45376-49407
198.51.100.13 192.0.2.1:49408-53439
198.51.100.14 192.0.2.1:53440-57471
TABLE
got=$(t_psql -c "select host(d.inside) || ' 192.0.2.1:' || d.port_lo || '-' || d.port_hi
                 from spoor.nat_config n, spoor.nat_det_reverse(n, '192.0.2.1', NULL) d order by d.inside")
t_eq "the mapping is RFC 7422's published table (section 2.3), row for row" "$got" "$(cat "$W/rfc-table.want")"
rev() { t_psql -c "select coalesce(string_agg(host(d.inside), ','), 'none') from spoor.nat_config n, spoor.nat_det_reverse(n, '192.0.2.1', $1) d"; }
t_eq "port 2001 -> subscriber 1 (the RFC's first lookup, no log needed)" "$(rev 2001)" 198.51.100.1
t_eq "a range's last port (5055) and the next's first (5056)" "$(rev 5055) $(rev 5056)" "198.51.100.1 198.51.100.2"
t_eq "the last share ends at 57471" "$(rev 57471)" 198.51.100.14
t_eq "57472-65535 is the dynamic pool: no deterministic holder" "$(rev 57472) $(rev 58204) $(rev 65535)" "none none none"
t_eq "a reserved port (1000) has no holder" "$(rev 1000)" none
t_eq "another outside address has none" \
  "$(t_psql -c "select count(*) from spoor.nat_config n, spoor.nat_det_reverse(n, '192.0.2.2', 2001) d")" 0

# Reserved ports inside the range leave the candidate list (section 2, step 1).
t_eq "reserved 5060 shifts the shares after it by one port" \
  "$(t_psql -c "select spoor.nat_config_parse(\$x\$cgn = c
algorithm = 0
inside = 10.0.0.0/30
outside = 192.0.2.9
ports_per_user = 100
reserved = 0-1023, 5060\$x\$)->>'ratio'") $(t_psql -c "select d.port_lo || '-' || d.port_hi from spoor.nat_det_reverse(row(1, 'c', now(), 'sequential', '10.0.0.0', '10.0.0.255', NULL, '192.0.2.9', '192.0.2.9', '{[0,1024),[5060,5061)}', 644, 0, 100, NULL, '', sha256(''), 'x', now(), NULL)::spoor.nat_config, '192.0.2.9', 5100) d")" \
  "645 5024-5124"

# Bad files: what and where.
bad() { printf '%s\n' "$1" >"$W/bad.conf"; as ada nat config add "$W/bad.conf" --valid-from 2026-12-01T00:00:00Z 2>&1; }
t_match "an unknown key: its line" "$(bad "cgn = x
algorithm = sequential
colour = blue")" 'line 3: unknown key "colour"'
t_match "a share that does not fit" "$(bad "cgn = x
algorithm = sequential
inside = 10.0.0.0/24
outside = 192.0.2.7
ratio = 14")" 'the inside range has 256 addresses, the outside range room for 14'
t_match "neither ratio nor ports_per_user" "$(bad "cgn = x
algorithm = sequential
inside = 10.0.0.0/24
outside = 192.0.2.0/28")" 'neither ratio'
t_match "an IPv6 outside range" "$(bad "cgn = x
algorithm = sequential
inside = 10.0.0.0/24
outside = 2001:db8::/64
ratio = 16")" 'line 4: outside: .*IPv6'
t_match "a staggered algorithm (not modelled) is refused, not guessed" "$(bad "cgn = x
algorithm = staggered")" 'line 2: algorithm'
as ada nat config add "$W/v1.conf" >/dev/null 2>&1; rc=$?
t_eq "--valid-from is required" "$rc" 2

# Versions: a later one replaces it from its instant; none may be slipped in
# between (that would rewrite answers for a past period).
sed -e 's/^ratio = 14/ratio = 7/' -e 's/^dynamic_factor = 2/dynamic_factor = 0/' -e 's/^max_ports = 5040/max_ports = 9216/' \
  -e 's/198.51.100.14/198.51.100.7/' "$W/v1.conf" >"$W/v2.conf"
as ada nat config add "$W/v2.conf" --valid-from 2026-11-25T00:00:00Z >/dev/null
as ben admin confirm "$(t_psql -c "select max(change_id) from spoor.admin_change where kind = 'nat_config'")" >/dev/null
out=$(as ada nat config add "$W/v2.conf" --valid-from 2026-11-10T00:00:00Z 2>&1); rc=$?
t_eq "a version dated before the CGN's latest is refused" "$rc" 1
t_match "…saying why" "$out" 'a new version comes after it'
printf 'cgn = cgn-det\nalgorithm = none\n' >"$W/v3.conf"
as ada nat config add "$W/v3.conf" --valid-from 2026-11-28T00:00:00Z >/dev/null
as ben admin confirm "$(t_psql -c "select max(change_id) from spoor.admin_change where kind = 'nat_config'")" >/dev/null
t_match "spoor nat config list: three versions, each until the next" \
  "$(as ben nat config list | tr -s ' ' | tr '\n' '|')" \
  '1 cgn-det 2026-11-01T00:00:00\+00:00 2026-11-25T00:00:00\+00:00 sequential .*2 cgn-det 2026-11-25T00:00:00\+00:00 2026-11-28T00:00:00\+00:00 sequential .*3 cgn-det 2026-11-28T00:00:00\+00:00 - none'

# Append-only, even for the table's owner and the superuser.
for sql in "update spoor.nat_config set ratio = 1" "delete from spoor.nat_config" "truncate spoor.nat_config"; do
  t_match "refused, even to the superuser: $sql" "$(t_psql -c "$sql" 2>&1)" 'append-only: (UPDATE|DELETE|TRUNCATE) refused'

done
PGUSER=ada psql -X -q -tA -c "insert into spoor.nat_config (cgn, valid_from, algorithm, source, sha256, recorded_by) values ('z', now(), 'none', '', sha256(''), 'ada')" >/dev/null 2>&1; rc=$?
t_eq "an admin cannot write the table directly" "$rc" 1

# The lookup, through the gate: RADIUS sessions for subscribers 1-3, and the
# CGN's log of a dynamic block for subscriber 2 (RFC: port 58204).
session() { # ID USER ADDRESS START STOP
  printf '%s\n\tAcct-Status-Type = Start\n\tAcct-Session-Id = "%s"\n\tUser-Name = "%s"\n\tNAS-IP-Address = 192.0.2.200\n\tFramed-IP-Address = %s\n\tEvent-Timestamp = %s\n\n' \
    "$(date -u -d "@$4" '+%a %b %e %H:%M:%S %Y')" "$1" "$2" "$3" "$4"
  printf '%s\n\tAcct-Status-Type = Stop\n\tAcct-Session-Id = "%s"\n\tUser-Name = "%s"\n\tNAS-IP-Address = 192.0.2.200\n\tFramed-IP-Address = %s\n\tAcct-Session-Time = %s\n\tEvent-Timestamp = %s\n\n' \
    "$(date -u -d "@$5" '+%a %b %e %H:%M:%S %Y')" "$1" "$2" "$3" "$(($5 - $4))" "$5"
}
# 2026-11-21T00:00Z = 1795219200; 2026-11-26T00:00Z = 1795651200; 2026-11-29 = 1795910400
{ session D1 dsl1@isp.example 198.51.100.1 1795219200 1795305600
  session D2 dsl2@isp.example 198.51.100.2 1795219200 1795305600
  session D3 dsl3@isp.example 198.51.100.3 1795219200 1795305600
  session D4 dsl2@isp.example 198.51.100.2 1795651200 1795737600
  session D5 dsl9@isp.example 192.0.2.1 1795910400 1795996800; } >"$W/radius.detail"
"$S" import --format radius-detail --zone UTC "$W/radius.detail" >/dev/null
cat >"$W/dyn.log" <<'LOG'
<134>1 2026-11-21T09:00:00Z cgn-det RT_NAT - RT_SRC_NAT_PBA_ALLOC [junos@2636.1.1.1.2.129 user-name="N/A" internal-ip="198.51.100.2" reflexive-ip="192.0.2.1" block-port-low="58200" block-port-high="58299" nat-pool-name="dyn" epoch-time-64="6b015d90"]
LOG
"$S" import --format nat --reference 2026-11-22T00:00:00Z "$W/dyn.log" >/dev/null
r=$(as alice request create --case DET-1 --authority Court --basis Order --from 2026-11-20T00:00:00Z --to 2026-11-30T00:00:00Z \
  --ip 192.0.2.1 --port 2001 --ip 192.0.2.1 --port 58204 --ip 192.0.2.1 --port 10240 --ip 192.0.2.1 --port 57472 | sed -n 's/^request \([0-9]*\).*/\1/p')
as bob request approve "$r" --note ok >/dev/null
j() { as alice --json trace ip 192.0.2.1 --port "$1" --at "$2" --request "${R:-$r}" --tolerance 0; }
out=$(j 2001 2026-11-21T10:00:00Z)
t_eq "192.0.2.1:2001 -> 198.51.100.1 by the configuration -> dsl1" \
  "$(printf '%s' "$out" | jq -r '[.verdict, .cgn.translations[0].mapping, .cgn.translations[0].inside_ip, .sessions[0].user_name] | join(" ")')" \
  "exact deterministic 198.51.100.1 dsl1@isp.example"
t_eq "…the answer carries the configuration version: id, SHA-256, who recorded and confirmed it, the file" \
  "$(printf '%s' "$out" | jq -r '.cgn.translations[0].config | [.config_id, .sha256 == "'"$(sha256sum <"$W/v1.conf" | cut -c1-64)"'", .recorded_by, .confirmed_by, (.source | test("ratio = 14"))] | join(" ")')" \
  "1 true ada ben true"
t_eq "…and its share of ports" "$(printf '%s' "$out" | jq -r '.cgn.translations[0] | "\(.port_lo)-\(.port_hi)"')" 1024-5055
out=$(j 58204 2026-11-21T10:00:00Z)
t_eq "192.0.2.1:58204 (the dynamic pool) -> the CGN's log -> 198.51.100.2 -> dsl2" \
  "$(printf '%s' "$out" | jq -r '[.cgn.translations[0].mapping // "log", .cgn.translations[0].inside_ip, .sessions[0].user_name, (.cgn.translations[0].evidence | length > 0)] | join(" ")')" \
  "log 198.51.100.2 dsl2@isp.example true"
out=$(j 57472 2026-11-21T10:00:00Z)
t_eq "a dynamic port no log mentions: nobody (not a guess)" "$(printf '%s' "$out" | jq -r '[.verdict, (.cgn.translations | length)] | join(" ")')" "none 0"
t_eq "version 1 in force on the 21st: 10240 -> 198.51.100.3 (dsl3)" \
  "$(j 10240 2026-11-21T10:00:00Z | jq -r '[.cgn.translations[0].inside_ip, .sessions[0].user_name] | join(" ")')" "198.51.100.3 dsl3@isp.example"
t_eq "version 2 from the 25th: 10240 -> 198.51.100.2 (dsl2)" \
  "$(j 10240 2026-11-26T10:00:00Z | jq -r '[.cgn.translations[0].inside_ip, .cgn.translations[0].config.config_id, .sessions[0].user_name] | join(" ")')" "198.51.100.2 2 dsl2@isp.example"
t_eq "after 'algorithm = none' (the 28th) the address is no CGN's: its own session" \
  "$(j 2001 2026-11-29T10:00:00Z | jq -r '[(.cgn == null), .sessions[0].user_name] | join(" ")')" "true dsl9@isp.example"
t_match "the CLI names the configuration the answer rests on" \
  "$(as alice trace ip 192.0.2.1 --port 2001 --at 2026-11-21T10:00:00Z --request "$r" --tolerance 0 | tr '\n' ' ')" \
  'deterministically .*configuration 1 .*sha256 [0-9a-f]{64}.*recorded by ada .*confirmed by ben .*\| ratio = 14'
r2=$(as alice request create --case DET-2 --authority Court --basis Order --from 2026-11-20T00:00:00Z --to 2026-11-30T00:00:00Z \
  --ip 192.0.2.1 | sed -n 's/^request \([0-9]*\).*/\1/p')
as bob request approve "$r2" --note ok >/dev/null
out=$(as alice --json trace ip 192.0.2.1 --at 2026-11-21T10:00:00Z --request "$r2" --tolerance 0)
t_eq "no port: 14 subscribers share 192.0.2.1 (the log's dynamic block is one of them), none named" \
  "$(printf '%s' "$out" | jq -r '[.verdict, .cgn.subscribers_sharing] | join(" ")') $(printf '%s' "$out" | grep -cE '198\.51\.100|isp\.example')" "shared_address 14 0"
as alice trace ip 192.0.2.1 --port 3000 --at 2026-11-21T10:00:00Z --request "$r" >/dev/null 2>&1; rc=$?
t_eq "a port the order does not name: refused" "$rc" 1
t_eq "each lookup audited" \
  "$(t_psql -c "select count(*) filter (where outcome = 'ok') || ' ' || count(*) filter (where outcome = 'denied') from spoor.audit where action = 'trace.ip'")" "8 1"
mkdir -p "$W/keys"; "$S" audit keygen "$W/keys" >/dev/null
as alice request export "$r" "$W/pkg" --key "$W/keys/audit.key" >/dev/null; rc=$?
t_eq "the request's package exports" "$rc" 0
t_eq "its ETSI XML validates against legal/etsi-102657-spoor.xsd" \
  "$(xmllint --noout --schema legal/etsi-102657-spoor.xsd "$W/pkg/retained-data.xml" 2>&1 | tail -1)" "$W/pkg/retained-data.xml validates"
t_match "…and names the deterministic mapping and the configuration's SHA-256" "$(tr -d '\n' <"$W/pkg/retained-data.xml")" \
  "\"NAT-Mapping\"=\"deterministic \\(RFC 7422\\)\";\"NAT-Config\"=\"1\";\"NAT-Config-SHA256\"=\"$(sha256sum <"$W/v1.conf" | cut -c1-64)\""
t_done
