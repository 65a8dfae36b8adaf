# tests/integration/realpeers.sh — sourced bash library: run REAL third-party
# peers from Debian 12 packages, on loopback only, as private instances under
# a state folder VAR, for Spoor's end-to-end tests.
#
#   rp_install                            Debian packages, idempotent (~10 s first, 0.1 s after)
#   rp_postfix_start VAR PORT [USER PASS] private Postfix on 127.0.0.1:PORT (~2 s)
#   rp_postfix_adduser VAR USER PASS      add/replace a SASL (sasldb) user
#   rp_postfix_send VAR PORT MSGID USER PASS [FROM] [TO]
#                                         one message, swaks, AUTH PLAIN (~0.1 s)
#   rp_postfix_wait VAR ERE [SECONDS]     wait for a line in $VAR/postfix/maillog
#   rp_postfix_stop VAR                   (~1-2 s)
#   rp_rsyslog_start VAR BROKER TOPIC [FILE] [KEY]
#                                         rsyslogd: imfile(FILE) -> omkafka (~0.1 s)
#   rp_rsyslog_stop VAR                   (~0.1-1.3 s; up to 5 s if Kafka is down)
#   rp_radclient ADDR:PORT SECRET TYPE [ATTRS] [RETRIES] [TIMEOUT]
#                                         one Accounting-Request (Start/Interim-Update/Stop)
#   rp_radius_packet SECRET TYPE ATTRS OUT  the exact bytes radclient would send
#   rp_radius_replay ADDR PORT FILE [COUNT] [GAP] [REPLYFILE]
#                                         send them COUNT times from one source port
#
# Typical use (a test must stop what it started, also when it fails):
#   . tests/integration/realpeers.sh
#   rp_install; V=$(mktemp -d)
#   trap 'rp_rsyslog_stop "$V"; rp_postfix_stop "$V"' EXIT
#   rp_postfix_start "$V" 52525 alice 'Wonder-land1'
#   rp_rsyslog_start "$V" 127.0.0.1:29092 spoor.smtp
#   rp_postfix_send "$V" 52525 'm1@client.spoor.test' alice 'Wonder-land1'
#   rp_postfix_wait "$V" 'qmgr\[[0-9]+\]: [0-9A-F]+: removed'
#   rp_radclient 127.0.0.1:1813 s3cret Start 'User-Name = "bob", Acct-Session-Id = "s1"'
#
# Needs root (Postfix's master must start as root; apt-get).  Touches nothing
# system-wide except installing packages: the system Postfix/rsyslog are never
# configured or started (see rp_install).  Every function returns non-zero
# with a message on stderr when it fails; none calls `exit`.
#
# Facts below were checked on Debian 12 with postfix 3.7.11, rsyslog
# 8.2302.0, swaks 20201014.0, freeradius-utils 3.2.1 (see the notes in each
# function); man pages cited are the ones these packages install.

RP_PACKAGES=(postfix sasl2-bin libsasl2-modules rsyslog rsyslog-kafka swaks freeradius-utils netcat-openbsd)

rp_say() { printf 'realpeers: %s\n' "$*" >&2; }
rp_err() { printf 'realpeers: error: %s\n' "$*" >&2; return 1; }

# rp_install: install the packages that are missing, without letting any of
# them configure or start a system-wide service.
#  - debconf: postfix/main_mailer_type = "No configuration" makes postinst
#    leave /etc/postfix/main.cf absent, so the system Postfix cannot run even
#    if something tried to start it.
#  - /usr/sbin/policy-rc.d exiting 101 makes invoke-rc.d (and, on a systemd
#    machine, deb-systemd-invoke(1p): "asks /usr/sbin/policy-rc.d before
#    performing a systemctl call") refuse every start during the install
#    ("policy-rc.d denied execution of start" in the apt log): postfix,
#    rsyslog and saslauthd stay stopped (checked: no process afterwards).  We create it only if absent and remove only
#    what we created (ops/setup does the same).
#  - --no-install-recommends: the recommends (python3, logrotate, TLS perl
#    modules for swaks) are not needed; swaks does AUTH PLAIN with core perl.
#  - freeradius-utils pulls freeradius-config, whose postinst generates DH
#    parameters (a few seconds of CPU) but starts no server.
# Takes ~10 s when everything is missing (apt lists present), ~0.1 s otherwise.
rp_install() {
  local p missing=()
  for p in "${RP_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  [ "$(id -u)" = 0 ] || { rp_err "missing packages (${missing[*]}): run as root"; return 1; }
  rp_say "installing ${missing[*]}"
  echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
  local made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && made_policy=1
  fi
  local rc=0 log=/tmp/realpeers-apt.log
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
    # Fresh machine: the package lists may be missing or stale.
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"$log" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1 || rc=$?
  fi
  [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
  ((rc == 0)) || { tail -20 "$log" >&2; rp_err "apt-get install failed (log: $log)"; return 1; }
}

# rp_wait_listen PORT [TENTHS]: wait until a socket LISTENs on 127.0.0.1:PORT.
# Reads /proc/net/tcp (local address 0100007F:PORT in hex, state 0A = LISTEN)
# instead of connecting: a probe connection would make smtpd log
# "connect from ... lost connection after CONNECT" lines into the maillog.
rp_wait_listen() {
  local hex; hex=$(printf '0100007F:%04X' "$1")
  local tries=${2:-100}
  while ((tries-- > 0)); do
    awk -v a="$hex" '$2 == a && $4 == "0A" { f = 1 } END { exit !f }' /proc/net/tcp && return 0
    sleep 0.1
  done
  return 1
}

# ---------------------------------------------------------------- Postfix --

# rp_postfix_start VAR PORT [USER PASS]
# A private Postfix instance, all state under $VAR/postfix:
#   conf/  main.cf master.cf (config_directory, given with `postfix -c`)
#   conf/sasl/smtpd.conf       Cyrus SASL application config for smtpd
#   sasldb2                    Cyrus sasldb with the SASL users
#   queue/ data/               queue_directory, data_directory
#   maillog                    maillog_file, written by postlogd
# smtpd listens only on 127.0.0.1:PORT, requires AUTH to relay, and every
# accepted message is discarded by discard(8), so the log has the whole chain
# smtpd -> cleanup -> qmgr -> discard (status=sent) -> qmgr removed:
#   Nov 25 15:04:45 mail postfix/smtpd[11714]: connect from localhost[127.0.0.1]:35740
#   Nov 25 15:04:45 mail postfix/smtpd[11714]: CC96D98A257: client=localhost[127.0.0.1]:35740, sasl_method=PLAIN, sasl_username=alice
#   Nov 25 15:04:45 mail postfix/cleanup[11716]: CC96D98A257: message-id=<drive-1@client.spoor.test>
#   Nov 25 15:04:45 mail postfix/qmgr[11668]: CC96D98A257: from=<alice@spoor.test>, size=460, nrcpt=1 (queue active)
#   Nov 25 15:04:45 mail postfix/smtpd[11714]: disconnect from localhost[127.0.0.1]:35740 ehlo=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=6
#   Nov 25 15:04:45 mail postfix/discard[11717]: CC96D98A257: to=<bob@example.net>, relay=none, delay=0.02, delays=0.01/0.01/0/0, dsn=2.0.0, status=sent (example.net)
#   Nov 25 15:04:45 mail postfix/qmgr[11668]: CC96D98A257: removed
# plus "postfix/postfix-script[..]: starting the Postfix mail system" and
# "postfix/master[..]: daemon started -- version 3.7.11, configuration ..."
# at start and "stopping the Postfix mail system" at stop.
# The host field is "mail": the first label of myhostname (not the machine's
# host name).  Times are local time of the TZ in the environment of
# rp_postfix_start (import_environment passes TZ to every daemon; verified:
# TZ=America/New_York gave 10:06:47 at 15:06:47 UTC); no year, as syslog.
# Several instances (different VAR and PORT) run side by side; no
# postmulti/multi_instance setup is needed for `postfix -c DIR`.
rp_postfix_start() {
  local var=$1 port=$2 user=${3:-} pass=${4:-}
  [ -n "$var" ] && [[ "$port" =~ ^[0-9]+$ ]] && ((port > 0 && port < 65536)) ||
    { rp_err "usage: rp_postfix_start VAR PORT [USER PASS]"; return 1; }
  var=$(realpath -m "$var")
  local d=$var/postfix
  local conf=$d/conf
  # Refuse a port that is already listened on: Postfix's master does NOT
  # fail then when the other socket has SO_REUSEPORT (seen with `nc -l`: both
  # listened, `postfix start` said nothing, connections would be shared).
  if rp_wait_listen "$port" 1; then rp_err "127.0.0.1:$port is already in use"; return 1; fi
  mkdir -p "$conf/sasl" "$d/queue" "$d/data" || return 1
  # Postfix daemons run as user postfix and need to reach data_directory
  # (master.lock) and queue_directory: VAR itself gets o+x (a `mktemp -d`
  # folder is 0700, and then master dies with "open lock file
  # .../data/master.lock: cannot open file: Permission denied"); folders
  # above VAR are the caller's business and are only checked.
  chmod go+x "$var" && chmod 755 "$d" "$conf" "$conf/sasl" || return 1
  chown postfix: "$d/data"   # data_directory must be owned by mail_owner
  runuser -u postfix -- test -x "$d/data" ||
    { rp_err "user postfix cannot reach $d (check the permissions of its parent folders)"; return 1; }

  # main.cf.  Notes, with the postconf(5) entry they come from:
  #  - compatibility_level = 3.6: no "using backwards-compatible default" noise.
  #  - maillog_file needs a prefix listed in maillog_file_prefixes (default
  #    "/var, /dev/stdout": /tmp/... or /work/... would be refused).
  #  - mydestination empty + default_transport/relay_transport = discard:
  #    nothing is delivered anywhere; discard logs "status=sent".
  #  - alias_maps/alias_database empty: no lookups of /etc/aliases.
  #  - inet_protocols = ipv4, inet_interfaces = 127.0.0.1: loopback only.
  #  - smtpd_client_port_logging = yes: "client=localhost[127.0.0.1]:54321".
  #  - SASL: smtpd_sasl_type cyrus (Debian's build), smtpd_sasl_path = smtpd
  #    selects $cyrus_sasl_config_path/smtpd.conf.  smtpd_sasl_local_domain
  #    stays EMPTY on purpose: when it is set (say spoor.test), Cyrus appends
  #    the realm and Postfix logs "sasl_username=alice@spoor.test"; when it is
  #    empty the log says "sasl_username=alice" and sasldb is searched in the
  #    realm = the server FQDN Postfix hands to Cyrus, i.e. $myhostname, so
  #    saslpasswd2 must use -u mail.spoor.test (verified both ways).
  #  - smtpd_tls_security_level = none: plain-text AUTH PLAIN on loopback is
  #    allowed (smtpd_tls_auth_only defaults to no, smtpd_sasl_security_options
  #    to noanonymous only).
  cat >"$conf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $d/queue
data_directory = $d/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.spoor.test
mydomain = spoor.test
myorigin = \$myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
default_transport = discard
relay_transport = discard
biff = no
append_dot_mydomain = no
maillog_file = $d/maillog
maillog_file_prefixes = $d
smtpd_banner = \$myhostname ESMTP
smtpd_client_port_logging = yes
smtpd_tls_security_level = none
smtp_tls_security_level = none
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $conf/sasl
EOF
  # master.cf: the stock Debian services minus the port-25 listener, all with
  # chroot = n.  Debian's stock master.cf has chroot = y for most daemons;
  # chrooted, smtpd would need copies of sasldb, the SASL config, /etc/hosts
  # etc. inside queue_directory, which Debian's init scripts make for the
  # system instance and `postfix -c DIR start` does not.
  # postlog (unix-dgram) is what makes maillog_file work: `postfix start`
  # refuses to start without it (postfix-script check-fatal: "missing
  # 'postlog' service in master.cf").  No tlsmgr: TLS is off.
  cat >"$conf/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$port inet n  -       n       -       -       smtpd
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
  # Cyrus SASL: sasldb through the auxprop plugin (libsasl2-modules-db),
  # PLAIN/LOGIN from libsasl2-modules.  No saslauthd involved.
  cat >"$conf/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $d/sasldb2
mech_list: PLAIN LOGIN
EOF
  if [ -n "$user" ]; then rp_postfix_adduser "$var" "$user" "$pass" || return 1; fi

  # Postfix's commands print their errors on stderr ONLY when it is a tty
  # (otherwise to syslog/maillog): in CI a refused start is silent, exit 1
  # and nothing else.  So on failure show the maillog and re-run `postfix
  # check` under script(1) (bsdutils, essential) to get its words, e.g.
  # "postfix: fatal: maillog_file value '/tmp/x/postfix/maillog' does not
  # match any prefix in maillog_file_prefixes".
  local out
  if ! out=$(postfix -c "$conf" start 2>&1); then
    [ -n "$out" ] && printf '%s\n' "$out" >&2
    tail -5 "$d/maillog" >&2 2>/dev/null
    script -qec "postfix -c '$conf' check" /dev/null >&2
    rp_err "postfix start failed"; return 1
  fi
  if ! rp_wait_listen "$port"; then
    tail -20 "$d/maillog" >&2
    rp_postfix_stop "$var"   # master may be up without the listener: do not leave it behind
    rp_err "postfix smtpd not listening on 127.0.0.1:$port"; return 1
  fi
}

# rp_postfix_adduser VAR USER PASS: create or replace a sasldb user in realm
# mail.spoor.test (= $myhostname, see the SASL note in rp_postfix_start).
# saslpasswd2 -p reads the password from stdin without prompting (one
# trailing newline is dropped: `echo pw |` worked too); -c creates the user.
# smtpd runs as user postfix and must read the db: root:postfix 0640
# (saslpasswd2 creates it root-only).  Usable while Postfix runs: sasldb is
# read on every AUTH.
rp_postfix_adduser() {
  local d; d=$(realpath -m "$1")/postfix
  printf '%s' "$3" | saslpasswd2 -p -c -f "$d/sasldb2" -u mail.spoor.test "$2" || { rp_err "saslpasswd2 failed"; return 1; }
  chown root:postfix "$d/sasldb2" && chmod 640 "$d/sasldb2"
}

# rp_postfix_send VAR PORT MSGID USER PASS [FROM] [TO]
# One message through swaks with AUTH PLAIN and a given Message-Id (without
# the angle brackets).  swaks' transcript goes to $VAR/postfix/swaks.log.
rp_postfix_send() {
  local d; d=$(realpath -m "$1")/postfix
  local port=$2 msgid=$3 user=$4 pass=$5 from=${6:-$4@spoor.test} to=${7:-bob@example.net}
  swaks --server "127.0.0.1:$port" --auth PLAIN --auth-user "$user" --auth-password "$pass" \
        --from "$from" --to "$to" --helo client.spoor.test \
        --header "Message-Id: <$msgid>" --header "Subject: spoor realpeers $msgid" \
        --body "test message $msgid" >>"$d/swaks.log" 2>&1
  local rc=$?
  ((rc == 0)) || { tail -15 "$d/swaks.log" >&2; rp_err "swaks failed (exit $rc)"; return 1; }
}

# rp_postfix_wait VAR ERE [SECONDS]: wait (default 10 s) until the maillog has
# a line matching ERE; print the first such line.
rp_postfix_wait() {
  local f; f=$(realpath -m "$1")/postfix/maillog
  local re=$2 n=$(( ${3:-10} * 10 ))
  while ((n-- > 0)); do
    grep -Em1 -- "$re" "$f" 2>/dev/null && return 0
    sleep 0.1
  done
  rp_err "no line /$re/ in $f"
}

# rp_postfix_stop VAR: `postfix stop` (postfix-script: SIGTERM to the master
# pid from queue/pid/master.pid, then up to 5 s of `master -t` checks, then
# SIGKILL to the master's process group), then wait for that pid to be gone.
rp_postfix_stop() {
  local d; d=$(realpath -m "$1")/postfix
  [ -f "$d/conf/main.cf" ] || return 0
  local pid=
  [ -f "$d/queue/pid/master.pid" ] && pid=$(tr -dc 0-9 <"$d/queue/pid/master.pid")
  # Not running: do not call `postfix stop`, which would only log
  # "fatal: the Postfix mail system is not running" into the maillog.
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  postfix -c "$d/conf" stop >/dev/null 2>&1 || true
  local n=100
  while ((n-- > 0)) && kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { rp_err "postfix master $pid still running"; return 1; }
  return 0
}

# ---------------------------------------------------------------- rsyslog --

# rp_rsyslog_start VAR BROKER TOPIC [FILE] [KEY]
# A private rsyslogd (not the system one: own config, pid file, work folder;
# no imuxsock/imklog/imjournal, so it neither binds /dev/log nor reads the
# kernel log) that follows FILE (default $VAR/postfix/maillog) with imfile and
# produces every line, unchanged, as one Kafka message to TOPIC on BROKER
# (host:port, or several separated by commas).  State under $VAR/rsyslog:
#   rsyslog.conf  rsyslogd.pid  work/ (imfile's position state, kept across
#                 restarts: a restarted rsyslogd ships only new lines; verified
#                 no duplicate after stop, new mail, start)
#   rsyslogd.log  rsyslogd's own messages (start/stop, imfile warnings such as
#                 "on startup file ... does not exist" - harmless: the file is
#                 picked up once Postfix creates it, verified)
#   stdout.log    rsyslogd's stderr: messages raised on librdkafka's threads,
#                 e.g. with no broker: "omkafka: action will suspended due to
#                 kafka error -195: Local: Broker transport failure"
#   omkafka-errors.json  omkafka errorFile (messages that failed delivery)
# KEY is the Kafka message key of every message, default "mail" (the host
# name Postfix writes into its lines: the first label of myhostname); "-"
# means no key.  spoor-ingest reads the key as the sending host's name for
# records that carry none.  Keep a key: without one librdkafka scatters the
# lines over the partitions at random and their order is lost (seen: the
# discard/removed lines of a message in partition 0, its client= line in 1).
#
# Why these settings (rsyslog docs: imfile, omkafka, templates/properties):
#  - Postfix's maillog_file lines already ARE syslog lines
#    ("Nov 25 14:58:42 mail postfix/smtpd[1286]: CDC6598A1A2: client=...").
#    imfile does not parse its input: it sets rawmsg = the line without its
#    LF and MSG offset 0 (imfile.c enqLine: MsgSetRawMsg + MsgSetMSGoffs(0)),
#    so %rawmsg% IS the line byte for byte.  (Verified: the Kafka payload
#    equals the maillog line, no trailing newline, cmp-identical.)  Do not use
#    RSYSLOG_FileFormat/ForwardFormat: they would prepend rsyslog's own
#    timestamp, host name and the imfile Tag to the already complete line.
#  - omkafka uses strlen() of the rendered template as the payload and adds
#    no newline, so the template must not end with "\n".  Its default
#    template is RSYSLOG_FileFormat (omkafka.c newActInst), hence ours.
#  - rsyslogd -N1 -f CONF checks the config without running (done first).
#  - Kafka message timestamp: omkafka sets it from %timestamp% (reception
#    time of the line) in whole seconds * 1000.
#  - partitions.auto="on" hands partitioning to librdkafka (hash of the key,
#    so one KEY keeps all lines in one partition, in order; random without a
#    key).  With partitions.auto off omkafka round-robins over
#    partitions.number (default 1 in setInstParamDefaults: everything to
#    partition 0).
#  - key="..." is a constant key.  For a per-message key use
#    dynaKey="on" key="TEMPLATE_NAME" (rsyslog >= 8.1903; Debian 12 has
#    8.2302) with e.g. template(name="k" type="string" string="%hostname%")
#    — for imfile %hostname% is rsyslog's OWN host name, not the one in the
#    line.
#  - confParam: librdkafka producer settings; linger.ms (alias
#    queue.buffering.max.ms) = 1 sends at once instead of batching.
#    topicConfParam: per-topic settings (acks, message.timeout.ms).
#  - processInternalMessages="on": rsyslogd's own messages go to our default
#    ruleset (-> rsyslogd.log); with the default "off" they are sent to the
#    system's syslog socket (/dev/log), i.e. lost on a machine without one.
#  - freshStartTail="off" (default): with no state file the file is read from
#    its beginning, so lines written before rsyslogd started are shipped too.
#    imfile mode="inotify" (default) reacts to writes at once.
rp_rsyslog_start() {
  local var=$1 broker=$2 topic=$3 file=${4:-} key=${5:-mail}
  [ -n "$var" ] && [ -n "$broker" ] && [ -n "$topic" ] ||
    { rp_err "usage: rp_rsyslog_start VAR BROKER TOPIC [FILE] [KEY]"; return 1; }
  var=$(realpath -m "$var")
  [ -n "$file" ] || file=$var/postfix/maillog
  file=$(realpath -m "$file")
  local d=$var/rsyslog
  mkdir -p "$d/work" || return 1
  if [ -s "$d/rsyslogd.pid" ] && kill -0 "$(cat "$d/rsyslogd.pid")" 2>/dev/null; then
    rp_err "rsyslogd already running (pid $(cat "$d/rsyslogd.pid"))"; return 1
  fi
  rm -f "$d/rsyslogd.pid"
  local brokers='"'${broker//,/\",\"}'"' keyparam=
  [ "$key" != - ] && keyparam="key=\"$key\""
  cat >"$d/rsyslog.conf" <<EOF
# Written by tests/integration/realpeers.sh (rp_rsyslog_start).
global(workDirectory="$d/work" maxMessageSize="64k" processInternalMessages="on")
module(load="imfile" mode="inotify")
module(load="omkafka")

# The line exactly as read from the file (no added newline).
template(name="rp_line" type="string" string="%rawmsg%")

input(type="imfile" file="$file" tag="maillog" ruleset="rp_kafka"
      freshStartTail="off" reopenOnTruncate="on")

ruleset(name="rp_kafka") {
  action(type="omkafka" name="rp_kafka"
         broker=[$brokers] topic="$topic" $keyparam
         template="rp_line" partitions.auto="on"
         confParam=["linger.ms=1", "socket.timeout.ms=10000"]
         topicConfParam=["message.timeout.ms=60000"]
         errorFile="$d/omkafka-errors.json" closeTimeout="5000"
         resubmitOnFailure="on" keepFailedMessages="off"
         action.resumeRetryCount="-1" action.resumeInterval="1")
}

# Everything else in the default ruleset is rsyslogd's own messages.
action(type="omfile" file="$d/rsyslogd.log" template="RSYSLOG_FileFormat")
EOF
  rp_rsyslogd_run "$d"
}

# rp_rsyslogd_run DIR: checks DIR/rsyslog.conf and starts rsyslogd on it in
# the background, waiting for its pid file.
rp_rsyslogd_run() {
  local d=$1 out
  out=$(rsyslogd -N1 -f "$d/rsyslog.conf" 2>&1) ||
    { printf '%s\n' "$out" >&2; rp_err "rsyslogd rejects $d/rsyslog.conf"; return 1; }
  # -n: stay in the foreground (we own the process and its pid), -i: our own
  # pid file instead of /run/rsyslogd.pid (which would clash with a system
  # rsyslogd), -f: our config.  setsid: its own session, so a test's Ctrl-C
  # or process-group kill does not hit it by accident.  Started from a
  # subshell so that it is not a job of the caller's shell (a bare `wait` in
  # a test would otherwise block on it forever).
  (setsid rsyslogd -n -f "$d/rsyslog.conf" -i "$d/rsyslogd.pid" >>"$d/stdout.log" 2>&1 </dev/null &
   echo $! >"$d/rsyslogd.bgpid")
  local pid n=50
  pid=$(cat "$d/rsyslogd.bgpid")
  while ((n-- > 0)); do
    [ -s "$d/rsyslogd.pid" ] && break
    kill -0 "$pid" 2>/dev/null || { tail -20 "$d/stdout.log" >&2; rp_err "rsyslogd exited at start"; return 1; }
    sleep 0.1
  done
  [ -s "$d/rsyslogd.pid" ] || { rp_err "rsyslogd wrote no pid file"; return 1; }
}

# rp_tls_certs DIR: a test CA and, signed by it, a server certificate for
# spoor-collect (CN and DNS name spoor-collect) and a client certificate for a
# sender (CN mx1); plus a client certificate of a CA nobody trusts (rogue).
# Files: ca.pem, server.pem/.key, client.pem/.key, rogue.pem/.key (keys 0400).
rp_tls_certs() {
  local d=$1 n
  mkdir -p "$d" || return 1
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=spoor test CA" \
    -keyout "$d/ca.key" -out "$d/ca.pem" >/dev/null 2>&1 || { rp_err "openssl: CA"; return 1; }
  for n in server:spoor-collect client:mx1; do
    openssl req -newkey rsa:2048 -nodes -subj "/CN=${n#*:}" -keyout "$d/${n%%:*}.key" \
      -out "$d/${n%%:*}.csr" >/dev/null 2>&1 &&
    printf 'subjectAltName=DNS:%s\n' "${n#*:}" >"$d/${n%%:*}.ext" &&
    openssl x509 -req -in "$d/${n%%:*}.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
      -days 2 -extfile "$d/${n%%:*}.ext" -out "$d/${n%%:*}.pem" >/dev/null 2>&1 ||
      { rp_err "openssl: $n"; return 1; }
  done
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=mx1" \
    -keyout "$d/rogue.key" -out "$d/rogue.pem" >/dev/null 2>&1 || { rp_err "openssl: rogue"; return 1; }
  chmod 0400 "$d"/*.key
}

# rp_rsyslog_tls_start VAR FILE PORT CA CERT KEY: a private rsyslogd (with
# its OpenSSL network stream driver, rsyslog-openssl) that follows FILE and
# sends each line, as read, to 127.0.0.1:PORT over TLS (RFC 5425:
# octet-counted framing), presenting CERT/KEY and checking that the server's
# certificate chains to CA and names spoor-collect.  Stop with
# rp_rsyslog_stop VAR.
rp_rsyslog_tls_start() {
  local var=$1 file=$2 port=$3 ca=$4 cert=$5 key=$6
  var=$(realpath -m "$var"); file=$(realpath -m "$file")
  local d=$var/rsyslog
  mkdir -p "$d/work" || return 1
  rm -f "$d/rsyslogd.pid"
  cat >"$d/rsyslog.conf" <<CONF
# Written by tests/integration/realpeers.sh (rp_rsyslog_tls_start).
global(workDirectory="$d/work" maxMessageSize="64k" processInternalMessages="on"
       defaultNetstreamDriver="ossl" defaultNetstreamDriverCAFile="$ca"
       defaultNetstreamDriverCertFile="$cert" defaultNetstreamDriverKeyFile="$key")
module(load="imfile" mode="inotify")
template(name="rp_line" type="string" string="%rawmsg%")
input(type="imfile" file="$file" tag="maillog" ruleset="rp_tls" freshStartTail="off")
ruleset(name="rp_tls") {
  action(type="omfwd" name="rp_tls" target="127.0.0.1" port="$port" protocol="tcp"
         streamDriver="ossl" streamDriverMode="1" streamDriverAuthMode="x509/name"
         streamDriverPermittedPeers="spoor-collect" tcp_framing="octet-counted"
         template="rp_line" action.resumeRetryCount="-1" action.resumeInterval="1")
}
action(type="omfile" file="$d/rsyslogd.log" template="RSYSLOG_FileFormat")
CONF
  rp_rsyslogd_run "$d"
}

# rp_rsyslog_stop VAR: SIGTERM to our rsyslogd (by its pid file, never by
# name); omkafka flushes what it still holds (closeTimeout) before exiting.
rp_rsyslog_stop() {
  local d; d=$(realpath -m "$1")/rsyslog
  local pid=
  [ -s "$d/rsyslogd.pid" ] && pid=$(cat "$d/rsyslogd.pid")
  [ -n "$pid" ] || { [ -s "$d/rsyslogd.bgpid" ] && pid=$(cat "$d/rsyslogd.bgpid"); }
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || { rm -f "$d/rsyslogd.bgpid"; return 0; }
  kill -TERM "$pid"
  local n=150
  while ((n-- > 0)) && kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then rp_err "rsyslogd $pid ignored SIGTERM for 15 s: SIGKILL"; kill -KILL "$pid"; fi
  rm -f "$d/rsyslogd.bgpid"
  return 0
}

# ----------------------------------------------------------------- RADIUS --

# rp_radclient ADDR:PORT SECRET TYPE [ATTRS] [RETRIES] [TIMEOUT]
# One Accounting-Request (TYPE = Start | Interim-Update | Stop | Accounting-On
# | Accounting-Off) from FreeRADIUS's radclient 3.2.1.  ATTRS: more
# attributes, comma-separated, in radclient's input syntax, e.g.
#   'User-Name = "bob", Acct-Session-Id = "s1", Framed-IP-Address = 100.64.0.7,
#    NAS-IP-Address = 192.0.2.1, Calling-Station-Id = "02-00-00-00-00-01",
#    Acct-Session-Time = 120, Acct-Terminate-Cause = User-Request,
#    Event-Timestamp = 1795619000'
# The command it runs (radclient reads the attribute list from stdin; a file
# given with -f FILE may hold several packets separated by blank lines, sent
# one after the other, each waiting for its reply):
#   echo 'Acct-Status-Type = Start, User-Name = "bob", ...' |
#     radclient -r RETRIES -t TIMEOUT 127.0.0.1:PORT acct SECRET
# Facts verified with radclient 3.2.1 against a UDP listener that logs each
# datagram and checks its Request Authenticator:
#  - -r N means N transmissions IN TOTAL (-r 1: sent once, no retry; -r 3:
#    sent 3 times), -t T seconds between them.  Use WHOLE seconds: -t
#    accepts 0.5, but then each try still lasts ~1 s and radclient spins the
#    CPU meanwhile (-r 2 -t 0.2: 2.0 s wall, 1.0 s user + 0.8 s sys; -r 1 -t 1:
#    1.0 s wall, no CPU).
#    Retransmissions are byte-identical: same Id, same Request Authenticator,
#    same source port (so RFC 5080 duplicate detection sees a duplicate).
#    radclient only retransmits when no valid reply came within -t: against a
#    server that answers, use rp_radius_replay to send a duplicate.
#  - -c N is NOT a retransmission: each copy gets a new Id (and so a new
#    authenticator) after the previous one was answered.
#  - exit 0 when every packet got a valid Accounting-Response; exit 1 when
#    any got none after all tries (stdout shows only the "Sent ..." lines;
#    with -x it adds "(0) No reply from server for ID 125 socket 3"), when
#    the reply fails the authenticator check (wrong secret; stderr: "(0) Reply
#    verification failed: ... invalid Response Authenticator!  (Shared secret
#    is incorrect.)"), and when the input does not parse (stderr: "(0) Error
#    parsing "stdin": Unknown or invalid value "Bogus" for attribute
#    Acct-Status-Type").  There is no distinct code for "no response".
#  - Output without -x: "Sent Accounting-Request Id 241 from 0.0.0.0:58394 to
#    127.0.0.1:51813 length 31" and "Received Accounting-Response Id 241 from
#    127.0.0.1:51813 to 127.0.0.1:58394 length 20".  -x also lists the sent
#    attributes.  RP_RADCLIENT_OPTS (e.g. "-x") is added to the command line.
#  - Dictionaries: /usr/share/freeradius (freeradius-common) and
#    /etc/freeradius/3.0/dictionary (freeradius-config), both pulled in by
#    freeradius-utils; no radiusd is installed or started.
rp_radclient() {
  local server=$1 secret=$2 type=$3 attrs=${4:-} retries=${5:-1} timeout=${6:-2}
  [ -n "$server" ] && [ -n "$secret" ] && [ -n "$type" ] ||
    { rp_err "usage: rp_radclient ADDR:PORT SECRET TYPE [ATTRS] [RETRIES] [TIMEOUT]"; return 1; }
  local line="Acct-Status-Type = $type"
  [ -n "$attrs" ] && line="$line, $attrs"
  # shellcheck disable=SC2086
  printf '%s\n' "$line" | radclient ${RP_RADCLIENT_OPTS:-} -r "$retries" -t "$timeout" "$server" acct "$secret"
}

# rp_free_udp_port: print a loopback UDP port nobody has bound (from /proc).
rp_free_udp_port() {
  local p hex i
  for ((i = 0; i < 50; i++)); do
    p=$((20000 + RANDOM % 30000)); hex=$(printf ':%04X' "$p")
    awk -v h="$hex" 'NR > 1 && substr($2, length($2) - 4) == h { f = 1 } END { exit f }' /proc/net/udp && { echo "$p"; return 0; }
  done
  return 1
}

# rp_radius_packet SECRET TYPE ATTRS OUTFILE: write to OUTFILE the exact bytes
# of the Accounting-Request radclient would send (radclient sends once to an
# `nc -u -l` sink on a free loopback port, which never answers; radclient
# then exits 1, which is expected here).  The packet is self-contained: its
# Request Authenticator is MD5(code+id+length+16 zero bytes+attributes+secret)
# (RFC 2866), so it stays valid for that SECRET wherever it is sent.
rp_radius_packet() {
  local secret=$1 type=$2 attrs=$3 out=$4 port ncpid
  port=$(rp_free_udp_port) || { rp_err "no free UDP port"; return 1; }
  nc -u -l 127.0.0.1 "$port" >"$out" &
  ncpid=$!
  sleep 0.2
  rp_radclient "127.0.0.1:$port" "$secret" "$type" "$attrs" 1 1 >/dev/null 2>&1
  sleep 0.1
  kill "$ncpid" 2>/dev/null; wait "$ncpid" 2>/dev/null
  [ -s "$out" ] || { rp_err "radclient sent nothing to the sink"; return 1; }
}

# rp_radius_replay ADDR PORT FILE [COUNT] [GAP] [REPLYFILE]: send the packet in
# FILE COUNT times (default 2) over ONE UDP socket (bash's /dev/udp: same
# source port every time, i.e. a genuine retransmission: same source
# address and port, Id and authenticator), GAP seconds apart (default 0.2),
# then collect replies for 1 s into REPLYFILE (default /dev/null).  Prints the
# number of reply datagrams (split by the RADIUS length field).
rp_radius_replay() {
  local addr=$1 port=$2 file=$3 count=${4:-2} gap=${5:-0.2} replies=${6:-} fd i
  local tmp; tmp=$(mktemp)
  exec {fd}<>"/dev/udp/$addr/$port" || { rm -f "$tmp"; rp_err "cannot open UDP socket"; return 1; }
  for ((i = 0; i < count; i++)); do
    ((i > 0)) && sleep "$gap"
    cat "$file" >&"$fd" 2>/dev/null
  done
  # A closed port answers with ICMP port unreachable: the connected socket
  # then fails reads/writes with ECONNREFUSED ("cat: -: Connection refused").
  timeout 1 cat <&"$fd" >"$tmp" 2>/dev/null
  exec {fd}>&-
  [ -n "$replies" ] && cp "$tmp" "$replies"
  # Count RADIUS packets: bytes 3-4 of each are its length.
  local -a b; read -r -a b <<<"$(od -An -v -tu1 "$tmp" | tr -s ' \n' '  ')"
  local n=0 off=0 len
  while ((off + 4 <= ${#b[@]})); do
    len=$(( b[off + 2] * 256 + b[off + 3] ))
    ((len >= 20)) || break
    n=$((n + 1)); off=$((off + len))
  done
  rm -f "$tmp"
  echo "$n"
}
