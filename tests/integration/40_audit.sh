# The audit trail: append-only for everyone, a SHA-256 chain that `spoor audit
# verify` recomputes outside the database, and signed checkpoints.  Tampering
# as superuser — an edited field, a deleted row, a reordering, a cut-off
# tail — is detected every time.
set -u
. tests/lib.sh
S=$B/spoor
W=$SPOOR_VAR/work-audit
rm -rf "$W"; mkdir -p "$W"
t_scratch_db spoor_audit
t_person alice analyst
t_person bob approver
t_person dave auditor

# Some history: a request, a decision, lookups allowed and refused.
as alice request create --case A-1 --authority Court --basis Law --from 2026-11-20T00:00:00Z \
  --to 2026-11-22T00:00:00Z --ip 192.0.2.10 >/dev/null
as bob request approve 1 >/dev/null
as alice trace ip 192.0.2.10 --at 2026-11-21T00:00:00Z --request 1 >/dev/null
as alice trace ip 192.0.2.11 --at 2026-11-21T00:00:00Z --request 1 >/dev/null 2>&1
as alice trace ip 192.0.2.10 --at 2026-11-21T01:00:00Z --request 1 >/dev/null
as alice trace ip 192.0.2.10 --at 2026-11-21T02:00:00Z --request 1 >/dev/null
n=$(t_psql -c "select count(*) from spoor.audit")
t_eq "six entries recorded" "$n" 6

out=$(as dave audit verify); rc=$?
t_eq "verify: intact trail exits 0" "$rc" 0
t_match "verify: says so" "$out" 'audit trail intact: 6 entries'
out=$(as alice audit verify 2>&1); rc=$?
t_match "verify: an analyst cannot read the trail" "$out" 'permission denied'

# Append-only, for every role, the owner included.
for sql in "update spoor.audit set actor = 'x'" "delete from spoor.audit" "truncate spoor.audit"; do
  out=$(PGUSER=alice psql -X -tA -c "$sql" 2>&1)
  t_match "analyst cannot: $sql" "$out" 'permission denied'
  out=$(t_psql -c "set role spoor_owner; $sql" 2>&1)
  t_match "even the owner cannot: $sql" "$out" 'append-only'
done

# Keys and a signed checkpoint of the head.
as dave audit keygen "$W" >/dev/null
t_eq "secret key file is 0400" "$(stat -c %a "$W/audit.key")" 400
as dave audit checkpoint --key "$W/audit.key" --out "$W/cp.json" >/dev/null
t_match "checkpoint names the head" "$(cat "$W/cp.json")" '"seq": 6'
out=$(as dave audit verify --checkpoint "$W/cp.json" --key "$W/audit.pub"); rc=$?
t_eq "verify against the checkpoint" "$rc" 0
chmod 0644 "$W/audit.key"
out=$(as dave audit checkpoint --key "$W/audit.key" 2>&1); rc=$?
t_match "a readable secret key file is refused" "$out" 'chmod 0400'
chmod 0400 "$W/audit.key"

# Tampering as superuser, each undone afterwards.
t_psql -c "create table public.audit_saved as select * from spoor.audit"
restore() {
  t_psql -c "alter table spoor.audit disable trigger user; delete from spoor.audit;
             insert into spoor.audit select * from public.audit_saved; alter table spoor.audit enable trigger user"
}
tamper() { # name sql expected-message
  t_psql -c "alter table spoor.audit disable trigger user; $2; alter table spoor.audit enable trigger user"
  out=$(as dave audit verify --checkpoint "$W/cp.json" --key "$W/audit.pub" 2>&1); rc=$?
  t_eq "tamper detected: $1 (exit 1)" "$rc" 1
  t_match "tamper named: $1" "$out" "$3"
  restore
}
tamper "field edited" "update spoor.audit set params = params || '{\"ip\":\"192.0.2.99\"}' where seq = 3" 'entry 3 .* was altered'
tamper "actor edited" "update spoor.audit set actor = 'bob' where seq = 4" 'entry 4 .* was altered'
tamper "row deleted" "delete from spoor.audit where seq = 2" 'entry 2 has sequence number 3'
tamper "rows reordered" "update spoor.audit set seq = -seq where seq in (3, 4); update spoor.audit set seq = 7 + seq where seq in (-3, -4)" 'entry 3 does not link|entry 3 .* was altered'
tamper "tail cut off" "delete from spoor.audit where seq >= 5" 'trail ends at entry 4 but the signed checkpoint names entry 6'
tamper "rewritten consistently after the checkpoint" \
  "update spoor.audit set actor = 'mallory', hash = spoor.audit_entry_hash(prev_hash, seq, at, 'mallory', action, request_id, params, outcome, result_digest) where seq = 6" \
  'entry 6 differs from the signed checkpoint'
out=$(as dave audit verify); rc=$?
t_eq "after restoring: intact again" "$rc" 0
t_psql -c "drop table public.audit_saved"
t_done
