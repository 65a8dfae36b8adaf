# Lookups at the edges, on hand-made accounting and mail logs: a NAS reboot
# closing open sessions, an address reused minutes later, Acct-Delay-Time, an
# address changed at an Interim-Update, a session across many daily
# partitions, duplicate records, IPv6 prefix delegation, a DST change, one
# Message-ID on two MTAs, an amavis re-queue.
set -u
. tests/lib.sh
S=$B/spoor
W=$SPOOR_VAR/work-edges
rm -rf "$W"; mkdir -p "$W"
t_scratch_db spoor_edges
t_person alice analyst
t_person bob approver

# rec STATUS SESSION USER CALLING NAS IP UTC-TIME [extra attribute lines...]
rec() {
  local status=$1 sid=$2 user=$3 calling=$4 nas=$5 ip=$6 t=$7; shift 7
  local ts; ts=$(date -u -d "$t" +%s)
  date -u -d "@$ts" '+%a %b %e %H:%M:%S %Y'
  printf '\tAcct-Status-Type = %s\n\tAcct-Session-Id = "%s"\n\tUser-Name = "%s"\n' "$status" "$sid" "$user"
  printf '\tCalling-Station-Id = "%s"\n\tNAS-IP-Address = %s\n' "$calling" "$nas"
  [ -n "$ip" ] && printf '\tFramed-IP-Address = %s\n' "$ip"
  for x in "$@"; do printf '\t%s\n' "$x"; done
  printf '\tTimestamp = %s\n\n' "$ts"
}
{
  # 1. NAS reboot: 10.0.0.1 reboots at 11:00 while "reboot-user" is online.
  rec Start R1 reboot-user 01632960001 10.0.0.1 100.64.0.1 "2026-11-21 10:00:00"
  printf '%s\n\tAcct-Status-Type = Accounting-On\n\tNAS-IP-Address = 10.0.0.1\n\tTimestamp = %s\n\n' \
    "$(date -u -d '2026-11-21 11:00:00' '+%a %b %e %H:%M:%S %Y')" "$(date -u -d '2026-11-21 11:00:00' +%s)"
  # 2. 100.64.0.2 held by "first" until 12:30, by "second" from 12:33.
  rec Start A1 first 01632960002 10.0.0.2 100.64.0.2 "2026-11-21 12:00:00"
  rec Stop A1 first 01632960002 10.0.0.2 100.64.0.2 "2026-11-21 12:30:00" "Acct-Session-Time = 1800" "Acct-Terminate-Cause = User-Request"
  rec Start A2 second 01632960003 10.0.0.2 100.64.0.2 "2026-11-21 12:33:00"
  rec Stop A2 second 01632960003 10.0.0.2 100.64.0.2 "2026-11-21 13:00:00" "Acct-Session-Time = 1620" "Acct-Terminate-Cause = Lost-Carrier"
  # The same Stop again: a NAS retransmission.
  rec Stop A2 second 01632960003 10.0.0.2 100.64.0.2 "2026-11-21 13:00:00" "Acct-Session-Time = 1620" "Acct-Terminate-Cause = Lost-Carrier"
  # 3. Acct-Delay-Time: received 14:00:30, happened 14:00:00.
  rec Start D1 delayed 01632960004 10.0.0.2 100.64.0.4 "2026-11-21 14:00:30" "Acct-Delay-Time = 30"
  rec Stop D1 delayed 01632960004 10.0.0.2 100.64.0.4 "2026-11-21 14:30:00" "Acct-Session-Time = 1800"
  # 4. Address changed at an Interim-Update: .5 until 15:30, then .6.
  rec Start M1 mover 01632960005 10.0.0.2 100.64.0.5 "2026-11-21 15:00:00"
  rec Interim-Update M1 mover 01632960005 10.0.0.2 100.64.0.6 "2026-11-21 15:30:00" "Acct-Session-Time = 1800"
  rec Stop M1 mover 01632960005 10.0.0.2 100.64.0.6 "2026-11-21 16:00:00" "Acct-Session-Time = 3600"
  # 5. A three-day session with hourly interims, across daily partitions.
  rec Start L1 longhaul 01632960006 10.0.0.3 100.64.0.7 "2026-11-20 10:00:00"
  base=$(date -u -d "2026-11-20 10:00:00" +%s)
  for h in $(seq 1 71); do
    rec Interim-Update L1 longhaul 01632960006 10.0.0.3 100.64.0.7 "@$((base + h * 3600))" "Acct-Session-Time = $((h * 3600))"
  done
  rec Stop L1 longhaul 01632960006 10.0.0.3 100.64.0.7 "2026-11-23 10:00:00" "Acct-Session-Time = 259200"
  # 5b. Interim-Updates that stop: the session is taken to end
  # trace.interim_timeout (2 h) after the last one.
  rec Start Q1 quiet 01632960010 10.0.0.2 100.64.0.10 "2026-11-21 17:00:00"
  rec Interim-Update Q1 quiet 01632960010 10.0.0.2 100.64.0.10 "2026-11-21 17:10:00" "Acct-Session-Time = 600"
  rec Interim-Update Q1 quiet 01632960010 10.0.0.2 100.64.0.10 "2026-11-21 17:20:00" "Acct-Session-Time = 1200"
  # 6. IPv6: a delegated /56.
  rec Start V1 v6user dslam-7 10.0.0.3 "" "2026-11-21 09:00:00" "Delegated-IPv6-Prefix = 2001:db8:aa00::/56" "Framed-IPv6-Prefix = 2001:db8:1:2::/64"
  rec Stop V1 v6user dslam-7 10.0.0.3 "" "2026-11-21 18:00:00" "Delegated-IPv6-Prefix = 2001:db8:aa00::/56" "Framed-IPv6-Prefix = 2001:db8:1:2::/64" "Acct-Session-Time = 32400"
} >"$W/utc.detail"
# 7. Across the end of British Summer Time (2026-10-25 01:00 UTC): local ctime
# headers, the repeated hour settled by Timestamp.
{
  printf 'Sun Oct 25 00:30:00 2026\n\tAcct-Status-Type = Start\n\tAcct-Session-Id = "T1"\n\tUser-Name = "dst-user"\n'
  printf '\tCalling-Station-Id = "01632960009"\n\tNAS-IP-Address = 10.0.0.4\n\tFramed-IP-Address = 100.64.0.9\n\tTimestamp = %s\n\n' "$(date -u -d '2026-10-24 23:30:00' +%s)"
  printf 'Sun Oct 25 01:30:00 2026\n\tAcct-Status-Type = Stop\n\tAcct-Session-Id = "T1"\n\tUser-Name = "dst-user"\n'
  printf '\tCalling-Station-Id = "01632960009"\n\tNAS-IP-Address = 10.0.0.4\n\tFramed-IP-Address = 100.64.0.9\n\tAcct-Session-Time = 9000\n\tTimestamp = %s\n\n' "$(date -u -d '2026-10-25 01:30:00' +%s)"
} >"$W/london.detail"
"$S" import --format radius-detail --zone UTC "$W/utc.detail" >/dev/null
out=$("$S" import --format radius-detail --zone Europe/London "$W/london.detail")
t_match "DST file imported without quarantine" "$out" '2 records read, 2 stored, 0 quarantined'

# 5c. Interim-Updates arriving in separate batches (008): the session's last
# lease_seg row reaches the end of its day and is not rewritten by an
# Interim-Update within that day; the lease's exact end still decides.
rec Start Q2 stepper 01632960011 10.0.0.2 100.64.0.11 "2026-11-21 10:00:00" >"$W/q2a.detail"
rec Interim-Update Q2 stepper 01632960011 10.0.0.2 100.64.0.11 "2026-11-21 10:20:00" "Acct-Session-Time = 1200" >"$W/q2b.detail"
rec Interim-Update Q2 stepper 01632960011 10.0.0.2 100.64.0.11 "2026-11-21 10:40:00" "Acct-Session-Time = 2400" >"$W/q2c.detail"
for f in q2a q2b; do "$S" import --format radius-detail --zone UTC "$W/$f.detail" >/dev/null; done
seg_q2() { t_psql -c "select xmin || ' ' || seg_hi from spoor.lease_seg where session_key like '%/Q2'"; }
before=$(seg_q2)
"$S" import --format radius-detail --zone UTC "$W/q2c.detail" >/dev/null
t_eq "an Interim-Update within the day leaves the segment as it was" "$(seg_q2)" "$before"
t_match "…which reaches the end of the day" "$before" ' 2026-11-22 00:00:00\+00$'
t_eq "…while the lease's end follows the last Interim-Update" \
  "$(t_psql -c "select span_hi from spoor.lease where session_key like '%/Q2'")" "2026-11-21 12:40:00+00"

# 5d. A NAS that sends no Interim-Updates (009): its open session's segments
# reach the lease horizon (the latest day any RADIUS event fell on), not
# trace.max_open_session (7 days) ahead; a later day's event rolls them on;
# the Stop trims them.
rec Start N1 silent 01632960012 10.0.0.4 100.64.0.12 "2026-11-25 09:00:00" >"$W/n1a.detail"
rec Start N2 other 01632960013 10.0.0.5 100.64.0.13 "2026-11-27 10:00:00" >"$W/n1b.detail"
rec Stop N1 silent 01632960012 10.0.0.4 100.64.0.12 "2026-11-26 08:00:00" "Acct-Session-Time = 82800" >"$W/n1c.detail"
segs_n1() { t_psql -c "select string_agg(day::text, ',' order by day) from spoor.lease_seg where session_key like '%/N1'"; }
"$S" import --format radius-detail --zone UTC "$W/n1a.detail" >/dev/null
t_eq "no-interim open session: segments up to the horizon day only" "$(segs_n1)" "2026-11-25"
t_eq "…the horizon is the latest day seen" "$(t_psql -c "select day from spoor.lease_horizon")" "2026-11-25"
"$S" import --format radius-detail --zone UTC "$W/n1b.detail" >/dev/null
t_eq "…a later day's event rolls its segments on to the new horizon" "$(segs_n1)" "2026-11-25,2026-11-26,2026-11-27"
t_eq "…each a whole day after the first" \
  "$(t_psql -c "select seg_lo || ' ' || seg_hi from spoor.lease_seg where session_key like '%/N1' and day = '2026-11-26'")" \
  "2026-11-26 00:00:00+00 2026-11-27 00:00:00+00"

# Mail: one Message-ID on two MTAs; an amavis re-queue on smtp1.
cat >"$W/maillog" <<'LOG'
Nov 21 12:10:00 smtp1 postfix/smtpd[100]: 3F1A2B3C4D: client=pc.isp.example[100.64.0.2]:40001, sasl_method=PLAIN, sasl_username=first@isp.example
Nov 21 12:10:01 smtp1 postfix/cleanup[101]: 3F1A2B3C4D: message-id=<twice@isp.example>
Nov 21 12:10:01 smtp1 postfix/qmgr[102]: 3F1A2B3C4D: from=<first@isp.example>, size=1000, nrcpt=1 (queue active)
Nov 21 12:10:02 smtp1 postfix/smtp[103]: 3F1A2B3C4D: to=<x@example.org>, relay=127.0.0.1[127.0.0.1]:10024, delay=1, delays=0.1/0/0/0.9, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 5E6F7A8B9C)
Nov 21 12:10:02 smtp1 postfix/smtpd[104]: 5E6F7A8B9C: client=localhost[127.0.0.1]:51000
Nov 21 12:10:02 smtp1 postfix/cleanup[101]: 5E6F7A8B9C: message-id=<twice@isp.example>
Nov 21 12:10:02 smtp1 postfix/qmgr[102]: 5E6F7A8B9C: from=<first@isp.example>, size=1500, nrcpt=1 (queue active)
Nov 21 12:10:03 smtp1 postfix/smtp[105]: 5E6F7A8B9C: to=<x@example.org>, relay=mx.example.org[198.51.100.7]:25, delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 ok)
Nov 21 12:10:03 smtp1 postfix/qmgr[102]: 5E6F7A8B9C: removed
Nov 21 12:10:03 smtp1 postfix/qmgr[102]: 3F1A2B3C4D: removed
LOG
cat >"$W/mainlog" <<'LOG'
2026-11-21 12:40:00 1wAbCd-000XyZ-1A <= second@isp.example H=(pc) [100.64.0.2]:40002 P=esmtpsa A=plain:second@isp.example S=900 id=twice@isp.example
2026-11-21 12:40:01 1wAbCd-000XyZ-1A => y@example.net R=dnslookup T=remote_smtp H=mx.example.net [203.0.113.5]
2026-11-21 12:40:01 1wAbCd-000XyZ-1A Completed
LOG
"$S" import --format postfix --reference 2026-11-22T00:00:00Z "$W/maillog" >/dev/null
"$S" import --format exim --host smtp3 --zone UTC "$W/mainlog" >/dev/null

r=$(PGUSER=alice "$S" request create --case EDGE --authority Court --basis Law --from 2026-10-24T00:00:00Z \
  --to 2026-11-30T00:00:00Z --max-lookups 100 --ip 100.64.0.0/24 --ip 2001:db8:aa00::/56 \
  --message-id "<twice@isp.example>" | sed -n 's/^request \([0-9]*\).*/\1/p')
PGUSER=bob "$S" request approve "$r" >/dev/null
ip() { # ADDRESS TIME [TOLERANCE] → verdict|users|stop_reasons
  PGUSER=alice "$S" --json trace ip "$1" --at "$2" --tolerance "${3:-0}" --request "$r" |
    jq -r '[.verdict, ([.sessions[].user_name] | join(",")), ([.sessions[].stop_reason] | join(","))] | join("|")'
}
t_eq "NAS reboot: session found before the reboot, closed by it" "$(ip 100.64.0.1 2026-11-21T10:30:00Z)" "exact|reboot-user|nas_reboot"
t_eq "NAS reboot: nobody holds the address after it" "$(ip 100.64.0.1 2026-11-21T11:30:00Z | cut -d'|' -f1)" none
t_eq "address reused: the first holder" "$(ip 100.64.0.2 2026-11-21T12:20:00Z)" "exact|first|stop"
t_eq "address reused: the second holder minutes later" "$(ip 100.64.0.2 2026-11-21T12:40:00Z)" "exact|second|stop"
t_eq "address reused: in the gap, nobody" "$(ip 100.64.0.2 2026-11-21T12:31:30Z | cut -d'|' -f1)" none
t_eq "address reused: both within the tolerance is ambiguous" "$(ip 100.64.0.2 2026-11-21T12:31:30Z 120 | cut -d'|' -f1,2)" "ambiguous|first,second"
j=$(PGUSER=alice "$S" --json trace ip 100.64.0.2 --at 2026-11-21T12:31:30Z --request "$r")
t_eq "verdict none shows the gap: the nearest sessions either side by their times, without identity" \
  "$(printf '%s' "$j" | jq -r '[(.nearest_before.stop <= "2026-11-21T12:31:30"), (.nearest_after.start >= "2026-11-21T12:31:30"),
     ([.nearest_before, .nearest_after] | map(keys) | flatten | unique | join("+"))] | map(tostring) | join(",")')" "true,true,start+stop"
t_eq "duplicate Stop does not duplicate the session" "$(ip 100.64.0.2 2026-11-21T12:50:00Z)" "exact|second|stop"
t_eq "Acct-Delay-Time: the session began 30 s before its record" "$(ip 100.64.0.4 2026-11-21T14:00:10Z)" "exact|delayed|stop"
t_eq "address change: old address until the change" "$(ip 100.64.0.5 2026-11-21T15:15:00Z)" "exact|mover|address_change"
t_eq "address change: old address free after it" "$(ip 100.64.0.5 2026-11-21T15:45:00Z | cut -d'|' -f1)" none
t_eq "address change: new address after it" "$(ip 100.64.0.6 2026-11-21T15:45:00Z)" "exact|mover|stop"
t_eq "address change: new address not claimed before it was seen" "$(ip 100.64.0.6 2026-11-21T15:15:00Z | cut -d'|' -f1)" none
t_eq "silent session: still held within the interim timeout" "$(ip 100.64.0.10 2026-11-21T18:30:00Z)" "exact|quiet|interim_timeout"
t_eq "silent session: not held after it" "$(ip 100.64.0.10 2026-11-21T19:30:00Z | cut -d'|' -f1)" none
t_eq "silent session: the nearest before is it (by its start), though its segment runs to midnight" \
  "$(PGUSER=alice "$S" --json trace ip 100.64.0.10 --at 2026-11-21T19:30:00Z --request "$r" | jq -r '[.nearest_before.start, .nearest_before.user_name] | map(tostring) | join(",")')" \
  "$(PGUSER=alice "$S" --json trace ip 100.64.0.10 --at 2026-11-21T18:30:00Z --request "$r" | jq -r '[.sessions[0].start, null] | map(tostring) | join(",")')"
t_eq "interims in separate batches: held until the last one plus the timeout" "$(ip 100.64.0.11 2026-11-21T12:30:00Z)" "exact|stepper|interim_timeout"
t_eq "interims in separate batches: not held after it" "$(ip 100.64.0.11 2026-11-21T12:50:00Z | cut -d'|' -f1)" none
t_eq "three-day session found on its middle day" "$(ip 100.64.0.7 2026-11-21T23:59:59Z)" "exact|longhaul|stop"
t_eq "three-day session found on its last day" "$(ip 100.64.0.7 2026-11-23T09:00:00Z)" "exact|longhaul|stop"
t_match "three-day session spans several daily partitions" \
  "$(t_psql -c "select count(distinct day) from spoor.lease_seg where session_key like '%/L1'")" '^[34]$'
t_eq "IPv6 address inside the delegated /56" "$(ip 2001:db8:aa00:12::1 2026-11-21T10:00:00Z)" "exact|v6user|stop"
j=$(PGUSER=alice "$S" --json trace ip 2001:db8:aa00:12::1 --at 2026-11-21T10:00:00Z --request "$r")
t_eq "…reported as the delegated prefix" "$(printf '%s' "$j" | jq -r '.sessions[0].delegated_ipv6_prefix')" "2001:db8:aa00::/56"
t_eq "DST: inside the repeated hour (00:30 UTC = 01:30 BST)" "$(ip 100.64.0.9 2026-10-25T00:30:00Z)" "exact|dst-user|stop"
t_eq "DST: after the change (01:15 UTC = 01:15 GMT)" "$(ip 100.64.0.9 2026-10-25T01:15:00Z)" "exact|dst-user|stop"
t_eq "DST: stop at 01:30 GMT, not 00:30" \
  "$(PGUSER=alice "$S" --json trace ip 100.64.0.9 --at 2026-10-25T01:00:00Z --request "$r" | jq -r '.sessions[0].stop')" "2026-10-25T01:30:00+00:00"
out=$(PGUSER=alice "$S" trace ip 100.64.0.9 --at "2026-10-25 01:30" --zone Europe/London --request "$r" 2>&1)
t_match "DST: an ambiguous local time is refused with both candidates" "$out" '2026-10-25T00:30:00Z or 2026-10-25T01:30:00Z'

j=$(PGUSER=alice "$S" --json trace message-id "<twice@ISP.Example>" --request "$r")
t_eq "one Message-ID on two MTAs: two submissions (domain case normalised)" "$(printf '%s' "$j" | jq '.submissions | length')" 2
t_eq "amavis re-queue: both queue IDs, the client of the first" \
  "$(printf '%s' "$j" | jq -r '.submissions[] | select(.mta_host == "smtp1") | (.queue_ids | join(",")) + "|" + .client_ip + "|" + .sasl_username')" \
  "3F1A2B3C4D,5E6F7A8B9C|100.64.0.2|first@isp.example"
t_eq "amavis re-queue: resolved to the first holder" \
  "$(printf '%s' "$j" | jq -r '.submissions[] | select(.mta_host == "smtp1") | .session_trace.sessions[0].user_name')" first
t_eq "Exim submission: resolved to the second holder" \
  "$(printf '%s' "$j" | jq -r '.submissions[] | select(.mta_host == "smtp3") | .session_trace.sessions[0].user_name + "|" + (.client_port|tostring)')" "second|40002"
t_eq "no-interim open session: found on its first day" "$(ip 100.64.0.12 2026-11-25T20:00:00Z | cut -d'|' -f1,2)" "exact|silent"
t_eq "…and on the day the roll added" "$(ip 100.64.0.12 2026-11-26T07:00:00Z | cut -d'|' -f1,2)" "exact|silent"
"$S" import --format radius-detail --zone UTC "$W/n1c.detail" >/dev/null
t_eq "…its Stop trims the rolled segments" "$(segs_n1)" "2026-11-25,2026-11-26"
t_eq "…and nobody holds the address after the Stop" "$(ip 100.64.0.12 2026-11-26T12:00:00Z | cut -d'|' -f1)" none

t_done
