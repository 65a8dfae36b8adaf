# SQL you can read as it is now: tables and data in numbered forward-only
# migrations; every function, trigger and grant once, in sql/functions/,
# applied again whenever its file changes.  The split changed nothing: a
# database made from the migrations as they were before it (the fixture,
# commit 5a9e205) and upgraded, and a fresh one, have the same schema,
# object for object (pg_dump --schema-only), functions, owners, grants and
# triggers included.
set -u
. tests/lib.sh
T=$(mktemp -d /tmp/spoor-sql.XXXXXX)
trap 'rm -rf "$T"' EXIT
S=$B/spoor
dump() { pg_dump -s -d "$1" | grep -v '^\\restrict\|^\\unrestrict'; }
fresh() { psql -X -q -d postgres -c "drop database if exists $1" -c "create database $1" 2>/dev/null; }

# 1. Each function once, nowhere but sql/functions/.
defs=$(cat sql/functions/*.sql | grep -oiE '^CREATE OR REPLACE FUNCTION [a-z_.]+\([^)]*\)' | sort | uniq -d)
t_eq "no function is defined twice in sql/functions/" "$defs" ""
t_eq "no migration defines a function (a data migration's own pg_temp helper aside)" \
  "$(grep -liE '^\s*CREATE (OR REPLACE )?FUNCTION (spoor|spoor_identity)?\.?[a-z_]+\(' sql/0*.sql | tr '\n' ' ')" ""
t_eq "no migration creates a trigger or grants on a function" \
  "$(grep -liE '^\s*CREATE (OR REPLACE )?TRIGGER|ON FUNCTION' sql/0*.sql | tr '\n' ' ')" ""

# 2. Fresh, and upgraded from the old layout: the same schema.
fresh sqlt_new
PGDATABASE=sqlt_new "$S" db migrate >"$T/new.out" 2>&1
t_match "a fresh database: migrations, then the function files" "$(tail -1 "$T/new.out")" \
  '^[0-9]+ migrations and [0-9]+ function files applied, database is up to date$'
mkdir -p "$T/old/functions"
tar -C "$T/old" -xzf tests/fixtures/sql-migrations-5a9e205.tar.gz
fresh sqlt_old
PGDATABASE=sqlt_old "$S" --set "sql_dir=$T/old" db migrate >/dev/null 2>&1
t_eq "the old layout's database has its functions (made by its migrations)" \
  "$(t_psql -d sqlt_old -c "select count(*) > 100 from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'spoor'")" t
out=$(PGDATABASE=sqlt_old "$S" db migrate 2>&1)
nmig=$(ls sql/0*.sql | wc -l)
t_match "upgrading: only the migrations after the fixture's 17, then every function file" "$out" "$((nmig - 17)) migrations? and [0-9]+ function files applied"
t_eq "…and no warning about changed migrations (their old forms are in sql/superseded.sha256)" \
  "$(printf '%s' "$out" | grep -c 'changed after it was applied')" 0
dump sqlt_new >"$T/new.sql"
dump sqlt_old >"$T/up.sql"
t_eq "fresh and upgraded schemas are identical (pg_dump -s)" "$(diff "$T/new.sql" "$T/up.sql" | head -20)" ""
t_match "…and the dump holds the functions, their owners and grants" "$(grep -c 'FUNCTION spoor\.' "$T/new.sql")" '^[0-9]{3,}$'
# Constants defined once: C's headers are generated from the SQL functions
# that define them, and say what the database says.
kinds=$(t_psql -d sqlt_new -c "select string_agg(upper(name) || '=' || code, ' ' order by code) from spoor.smtp_kinds()")
hdr=$(sed -n 's/^#define SMTP_KIND_\([A-Z_]*\) \([0-9]*\) .*/\1=\2/p' "$B/gen/smtp_kinds.h" | tr '\n' ' ' | sed 's/ $//')
t_eq "SMTP event kinds: the generated C header and spoor.smtp_kinds() agree" "$hdr" "$kinds"
t_eq "…and SQL names them (no bare kind numbers in the function files)" \
  "$(grep -nE '[^_]kind (=|IN \()[ (]*[0-9]' sql/functions/*.sql | head -3)" ""

# 3. A changed function file is applied again; a broken one changes nothing.
cp -r sql "$T/cur"
st=$(PGDATABASE=sqlt_new "$S" --set "sql_dir=$T/cur" db status)
t_match "db status lists the function files" "$st" 'applied +functions/lookups.sql'
sed -i 's/^-- Who recorded a request is the acting person/-- Who recorded a request is the person acting/' "$T/cur/functions/audit.sql"
t_match "…and shows a changed one" "$(PGDATABASE=sqlt_new "$S" --set "sql_dir=$T/cur" db status)" 'changed +functions/audit.sql'
t_eq "migrate applies only the changed file" "$(PGDATABASE=sqlt_new "$S" --set "sql_dir=$T/cur" db migrate | grep '^applied')" "applied functions/audit.sql"
printf 'CREATE OR REPLACE FUNCTION spoor.lock_key(p_name text) RETURNS bigint LANGUAGE sql AS $$ SELECT 1 $$;\nTHIS IS NOT SQL;\n' >>"$T/cur/functions/ingest.sql"
out=$(PGDATABASE=sqlt_new "$S" --set "sql_dir=$T/cur" db migrate 2>&1); rc=$?
t_eq "a broken function file fails the migration" "$rc:$(printf '%s' "$out" | grep -c 'functions/ingest.sql')" "1:1"
t_eq "…and nothing of it stays (lock_key unchanged, one transaction)" \
  "$(t_psql -d sqlt_new -c "select spoor.lock_key('audit')")" 7340205
t_done
