# tests/lib.sh — sourced by integration scripts.  Each check prints one line;
# t_done prints "# N passed, M failed" for tests/run to add up.
T_PASSED=0
T_FAILED=0
T_NAME=$(basename "$0" .sh)

t_ok()   { T_PASSED=$((T_PASSED + 1)); echo "ok   $T_NAME: $1"; }
t_fail() { T_FAILED=$((T_FAILED + 1)); echo "FAIL $T_NAME: $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/     /'; }

# t_run NAME CMD...: passes if CMD exits 0; shows its output if not.
t_run() {
  local name=$1; shift
  local out
  if out=$("$@" 2>&1); then t_ok "$name"; else t_fail "$name (exit $?)" "$out"; fi
}

# t_eq NAME GOT WANT
t_eq() {
  if [ "$2" = "$3" ]; then t_ok "$1"; else t_fail "$1" "got:  $2
want: $3"; fi
}

# t_match NAME TEXT REGEX
t_match() {
  if printf '%s' "$2" | grep -Eq -- "$3"; then t_ok "$1"; else t_fail "$1" "got:  $2
want: /$3/"; fi
}

t_done() { echo "# $T_PASSED passed, $T_FAILED failed"; [ "$T_FAILED" = 0 ]; }

# psql as the stack's superuser, quiet, unaligned.
t_psql() { psql -X -q -v ON_ERROR_STOP=1 -tA "$@"; }

# t_scratch_db NAME: a fresh database of its own for this script, migrated,
# made the default for libpq (PGDATABASE) and for `spoor`.
t_scratch_db() {
  psql -X -q -d postgres -c "drop database if exists $1" -c "create database $1" 2>/dev/null
  export PGDATABASE=$1
  "$B/spoor" db migrate >/dev/null
}

# t_person NAME GROUP[,GROUP...]: a login role in Spoor's groups (cluster-wide,
# so created once).
t_person() {
  local groups
  groups=$(printf '%s' "$2" | sed 's/[^,][^,]*/spoor_&/g')
  # The session limits spoor user add gives a person (sql/015).
  t_psql -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$1') THEN
             CREATE ROLE $1 LOGIN IN ROLE $groups;
             ALTER ROLE $1 SET statement_timeout = '60s'; ALTER ROLE $1 SET lock_timeout = '30s';
             ALTER ROLE $1 SET idle_in_transaction_session_timeout = '60s'; END IF; END \$\$"
}

# as PERSON spoor-arguments...: run spoor as that person.
as() { local u=$1; shift; PGUSER=$u "$B/spoor" "$@"; }

# t_unit NAME DIR KEY...: ops/systemd/NAME.service has each KEY line (a
# regular expression anchored at the line start) and, where systemd-analyze
# exists, it accepts the unit (run from DIR, the programs from $B) and rates
# its exposure below 2.0 of 10.
t_unit() {
  local name=$1 dir=$2 k u out
  shift 2
  u=$(cat "ops/systemd/$name.service")
  for k in "$@"; do t_match "$name's unit is hardened: $k" "$u" "^$k"; done
  command -v systemd-analyze >/dev/null || return 0
  mkdir -p "$dir"
  sed "s|/usr/local/bin/|$(cd "$B" && pwd)/|g" "ops/systemd/$name.service" >"$dir/$name.service"
  out=$(cd "$dir" && systemd-analyze verify "$name.service" 2>&1 | grep -v 'User=\|Group=\|/var/log/freeradius' || true)
  t_eq "systemd-analyze accepts $name's unit" "$out" ""
  t_match "…and rates its exposure low (below 2.0 of 10)" \
    "$(cd "$dir" && systemd-analyze security --offline=yes "$name.service" 2>&1 | tail -1)" \
    "exposure level for $name.service: 1\\.[0-9]"
}
