# Foundation: Kafka and PostgreSQL answer, migrations apply once, the CLI behaves.
set -u
. tests/lib.sh
S=$B/spoor

# A topic of its own, so the probe's messages never reach the ingest tests.
"$B/spoor-topics" --brokers "$SPOOR_KAFKA_BROKERS" --wait 30 --partitions 3 --create spoor.roundtrip >/dev/null
t_run "kafka: produce 500 messages and consume them back, exactly once" \
  "$B/tests/spoor-kafka-roundtrip" "$SPOOR_KAFKA_BROKERS" spoor.roundtrip 500
t_run "postgres: write and read a row through libpq parameters" "$B/tests/spoor-pg-roundtrip"

out=$("$S" db status 2>&1)
t_match "db status lists pending migrations before migrate" "$out" '^pending +001_roles.sql'
t_run "db migrate applies" "$S" db migrate
first=$(t_psql -c "select count(*), max(applied_at) from spoor_meta.migration")
# Compared below: it must name applied migrations, not be empty on both sides.
t_match "db migrate records what it applied" "$first" '^[1-9][0-9]*\|[0-9]{4}-'
out=$("$S" db migrate 2>&1)
t_match "db migrate twice is a no-op" "$out" '^0 migrations and 0 function files applied'
t_eq "migration table unchanged by the second run" \
  "$(t_psql -c "select count(*), max(applied_at) from spoor_meta.migration")" "$first"
out=$("$S" --json db status)
t_match "db status --json reports nothing pending" "$out" '"pending":0'

roles=$(t_psql -c "select string_agg(rolname, ',' order by rolname) from pg_roles where rolname like 'spoor\_%'")
t_eq "group roles exist after migrating" "$roles" \
  "spoor_admin,spoor_analyst,spoor_api,spoor_approver,spoor_auditor,spoor_identity,spoor_ingest,spoor_owner,spoor_retention,spoor_roleadmin"
t_eq "no Spoor group role is superuser, BYPASSRLS or LOGIN" \
  "$(t_psql -c "select count(*) from pg_roles where rolname like 'spoor\_%' and (rolsuper or rolbypassrls or rolcanlogin)")" "0"
t_eq "only spoor_roleadmin has CREATEROLE" \
  "$(t_psql -c "select string_agg(rolname, ',') from pg_roles where rolname like 'spoor\_%' and rolcreaterole")" "spoor_roleadmin"

# Errors say what and where, and exit non-zero.
out=$("$S" frobnicate 2>&1); rc=$?
t_eq "unknown command exits 2" "$rc" 2
t_match "unknown command is named" "$out" "unknown command 'frobnicate'"
printf 'kafka.brokers = x\nbogus.key = 1\n' >"$SPOOR_VAR/bad.conf"
out=$("$S" --config "$SPOOR_VAR/bad.conf" config 2>&1); rc=$?
t_eq "bad configuration exits 1" "$rc" 1
t_match "bad configuration names file and line" "$out" "bad.conf:2: unknown setting 'bogus.key'"
printf 'ingest.batch_records = 0\n' >"$SPOOR_VAR/bad2.conf"
out=$("$S" --config "$SPOOR_VAR/bad2.conf" config 2>&1)
t_match "out-of-bounds value is refused" "$out" "bad2.conf:1: ingest.batch_records: 0 is out of bounds"
out=$(SPOOR_DSN='host=/nonexistent password=hunter2' "$S" db status 2>&1); rc=$?
t_eq "unreachable database exits 1" "$rc" 1
t_match "connection error is explained" "$out" "cannot connect to PostgreSQL"
case "$out" in *hunter2*) t_fail "password leaked into an error" "$out" ;; *) t_ok "password not in the error" ;; esac
out=$(SPOOR_DSN='host=/x password=hunter2' "$S" config)
t_match "spoor config redacts passwords" "$out" 'dsn = "host=/x password=\*\*\*"'
out=$("$S" --set trace.tolerance=5m config)
t_match "--set overrides and durations take units" "$out" 'trace.tolerance = 300s'
out=$(SPOOR_TRACE_TOLERANCE=7 "$S" config)
t_match "SPOOR_* environment overrides the file" "$out" 'trace.tolerance = 7s'

# ops/stack status tells what runs where.
out=$(ops/stack status)
t_match "stack status shows PostgreSQL" "$out" "postgresql +running +pid [0-9]+ +127.0.0.1:$SPOOR_PG_PORT"
t_match "stack status shows Kafka" "$out" "kafka +running +pid [0-9]+ +127.0.0.1:$SPOOR_KAFKA_PORT"
t_done
