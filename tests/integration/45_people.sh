# People and a request's whole life: `spoor user add` inside the database
# (only admins; only Spoor's groups), and received -> approved -> executed ->
# disclosed -> closed, cancelled, expired — every transition audited.
set -u
. tests/lib.sh
t_scratch_db spoor_people
t_person admin1 admin
t_person bob approver

out=$(as admin1 user add zoe --role analyst); rc=$?
t_eq "admin adds a person" "$rc" 0
t_match "…in the analyst group" "$(t_psql -c "select string_agg(b.rolname, ',') from pg_auth_members m join pg_roles b on b.oid = m.roleid join pg_roles u on u.oid = m.member where u.rolname = 'zoe'")" 'spoor_analyst'
t_eq "…who is neither superuser, CREATEROLE nor BYPASSRLS" \
  "$(t_psql -c "select rolsuper or rolcreaterole or rolbypassrls from pg_roles where rolname = 'zoe'")" f
out=$(as admin1 user add mallory --role owner 2>&1); rc=$?
t_eq "a group outside Spoor's six is refused" "$rc" 1
out=$(as admin1 user add 'x; drop table spoor.audit' --role analyst 2>&1); rc=$?
t_match "an odd user name is refused" "$out" 'user name is lower-case'
out=$(as zoe user add eve --role admin 2>&1); rc=$?
t_match "an analyst cannot add people" "$out" 'permission denied'
t_eq "user.add is audited with the admin's name, the two refusals too" \
  "$(t_psql -c "select string_agg(outcome, ',' order by seq) from spoor.audit where action = 'user.add' and actor = 'admin1'")" 'ok,denied,denied'

# A request's life.
r=$(as zoe request create --case L-1 --authority Court --basis Law --from 2026-11-20T00:00:00Z \
  --to 2026-11-22T00:00:00Z --ip 192.0.2.10 | sed -n 's/^request \([0-9]*\).*/\1/p')
out=$(as zoe request disclosed "$r" 2>&1); rc=$?
t_eq "disclosed before execution is refused" "$rc" 1
as bob request approve "$r" >/dev/null
as zoe trace ip 192.0.2.10 --at 2026-11-21T00:00:00Z --request "$r" >/dev/null
t_match "a lookup executes the request" "$(as zoe request show "$r")" 'state +executed'
t_match "disclosed" "$(as zoe request disclosed "$r" --note 'sent to the court')" "request $r is now disclosed"
t_match "closed" "$(as zoe request close "$r")" "request $r is now closed"
out=$(as zoe request cancel "$r" 2>&1); rc=$?
t_eq "a closed request cannot be cancelled" "$rc" 1
out=$(as zoe request show "$r")
t_match "show lists the request's audit entries" "$out" 'audit .* zoe request.create ok'
t_match "…and every transition" "$out" 'request.closed ok'
r2=$(as zoe request create --case L-2 --authority Court --basis Law --from 2026-11-20T00:00:00Z \
  --to 2026-11-22T00:00:00Z --ip 192.0.2.11 | sed -n 's/^request \([0-9]*\).*/\1/p')
t_match "cancelled from received" "$(as zoe request cancel "$r2" --note 'withdrawn')" "is now cancelled"
out=$(as bob request approve "$r2" 2>&1)
t_match "a cancelled request cannot be approved" "$out" 'request is cancelled'
r3=$(as zoe request create --case L-3 --authority Court --basis Law --from 2026-11-20T00:00:00Z \
  --to 2026-11-22T00:00:00Z --deadline 2026-11-24T00:00:00Z --received 2026-11-23T00:00:00Z \
  --ip 192.0.2.12 | sed -n 's/^request \([0-9]*\).*/\1/p')
as bob request approve "$r3" >/dev/null
out=$(as zoe trace ip 192.0.2.12 --at 2026-11-21T00:00:00Z --request "$r3" 2>&1)
t_match "no lookup after the deadline" "$out" 'deadline has passed'
as zoe request close "$r3" >/dev/null 2>&1
t_match "an unexecuted request past its deadline becomes expired" "$(as zoe request show "$r3")" 'state +(expired|closed)'
t_eq "expiry is audited" "$(t_psql -c "select count(*) from spoor.audit where action = 'request.expire' and request_id = $r3")" 1
t_done
