/*
 * spoor-gen: deterministic synthetic ISP logs, with their ground truth, for
 * testing Spoor's ingest and sender tracing.
 *
 * USAGE
 *   spoor-gen --out DIR --subscribers N --start TIME --hours H
 *             [--seed S] [--zone ZONE] [--malformed-rate P] [--mails-per-hour R]
 *             [--exim-ids old|new]
 *
 *   --out DIR           output folder (created if missing; files are overwritten)
 *   --subscribers N     synthetic subscribers, 1..100000 (about 85% DSL, 15% dial-in)
 *   --start TIME        RFC 3339 instant the simulation starts, e.g. 2026-11-22T00:00:00Z
 *                       (a time without offset is taken in --zone)
 *   --hours H           simulated span in hours (may be fractional)
 *   --seed S            PRNG seed (default 1).  Same seed + same options = byte-identical output
 *   --zone ZONE         IANA zone of every server's clock (default Europe/London): the
 *                       rlm_detail header, Event-Timestamp, syslog and Exim times are local
 *   --malformed-rate P  probability per real log line of inserting an extra broken line
 *                       after it (default 0.001; 0 disables)
 *   --mails-per-hour R  mean accepted submissions per hour over the 3 MTAs (default
 *                       max(10, N/4)); follows a day curve in local time
 *   --exim-ids old|new  Exim message-id format: old 6-6-2 (<= 4.96, default) or new 6-11-4
 *   --cgn               every DSL NAS but the first behind carrier-grade NAT: its
 *                       subscribers get inside addresses from 100.64.0.0/10, and a CGN
 *                       per NAS (cgn2, cgn3, ...; Junos structured PBA, IOS XR
 *                       Userbased and NFWare vCGNAT logs in turn) gives each session a
 *                       block of 512 ports on a public address in 198.19.240.0/20 while
 *                       it holds its address; submissions then come from the public
 *                       address and a port in the block (cgn.log, truth_cgn.tsv)
 *
 * Memory is O(subscribers + lines in flight), not O(output).  Two independent PRNG
 * streams (xoshiro256** seeded by splitmix64) drive the simulation and the malformed
 * lines, so changing --malformed-rate does not change the real lines.
 *
 * THE SIMULATED ISP
 *   NASes: >= 3 DSL BNGs (types cycle: Cisco-like, interim 10 min; Juniper-like, interim
 *   15 min, Session-Timeout 48 h; Huawei-like, no interims and no Event-Timestamp;
 *   Cisco-like, interim 5 min; ...) and 2 dial-in RAS (ras1: no interims, phone numbers
 *   with a space; ras2: interim 15 min, digits only).  NAS-IP-Address 198.51.100.x.
 *   Subscribers: account u%06d; DSL user names "u000123@isp.example" or "dsl-000123",
 *   dial-in "u000123@isp.example" (rarely typed in upper case).  DSL Calling-Station-Id
 *   is a MAC (0011.2233.4455 or 00-11-22-33-44-55) or an access-circuit id; dial-in it is
 *   an Ofcom drama-range number such as "01632 960123" (3% withheld: attribute absent).
 *   IPv4 pools in 198.18.0.0/15, one small pool per NAS, free addresses reused FIFO, so
 *   an address passes to another subscriber from the same second up to an hour later
 *   (median ~25 min); a full dial-in pool makes the caller retry (summary: pool_full).
 *   About 70% of DSL subscribers are dual-stack: Framed-IPv6-Prefix (a /64 from a per-NAS
 *   pool 2001:db8:1nn::/48) and Delegated-IPv6-Prefix (a static /56 in 2001:db8:4000::/34).
 *   Sessions already open at --start (DSL: up to 30 days old) are continued; they show
 *   up first as Interim-Update or Stop; on the NAS without interims one open for the whole
 *   run leaves no record at all, yet is in the truth (summary: sessions_without_any_record).
 *   If --hours > 2, one DSL NAS (bng1) reboots mid-run: Accounting-Off,
 *   its sessions never get a Stop, Accounting-On 2-5 minutes later, its Acct-Session-Id
 *   counter restarts.  ~0.05% of interims (never a session's first record in the run)
 *   carry a changed Framed-IP-Address.
 *
 * OUTPUT FILES (in DIR)
 *   radius.detail     FreeRADIUS 3 rlm_detail: a ctime header in --zone ("Sun Nov 22
 *                     00:00:03 2026"), tab-indented "Attr = value" lines, a blank line.
 *                     Start / Interim-Update / Stop / Accounting-On / Accounting-Off.
 *                     The header and "Timestamp = <unix>" are the receive time;
 *                     the event happened Acct-Delay-Time seconds earlier (usually 0, a
 *                     few % 1-900 s).  Records are in receive order except ~0.2% held
 *                     back 2-40 s; ~0.2% are exact duplicates and ~0.2% NAS retransmits
 *                     (received 3-30 s later with Acct-Delay-Time raised by as much).
 *                     Tmp-String-9 = "ai:" and Acct-Unique-Session-Id (the real MD5 of
 *                     the acct_unique policy) are added as FreeRADIUS 3 does.
 *   maillog           syslog (RFC 3164, local time, no year) from Postfix hosts smtp1
 *                     (short hex queue ids) and smtp2 (enable_long_queue_ids), both
 *                     submission on 587 with SASL and smtpd_client_port_logging: connect,
 *                     TLS, client=, cleanup message-id=, qmgr from=, disconnect, smtp to=
 *                     (status=sent; ~3% of remote domains first status=deferred and a
 *                     retry 5-15 min later), removed.  ~30% pass amavis
 *                     (relay=127.0.0.1[127.0.0.1]:10024 ... queued as NEWID, then the NEWID
 *                     lines from the 10025 smtpd, amavis FWD/Passed lines, and the final
 *                     delivery).  ~15% of dual-stack senders use IPv6 (an address in their
 *                     delegated /56), ~3% of clients are outside the ISP, ~5% authenticate
 *                     as another subscriber's account.  Also NOQUEUE relay rejects, SASL
 *                     authentication failures and anvil statistics (not in truth_mail).
 *   mainlog           Exim 4 main log of host smtp3 (log_selector +incoming_port
 *                     +incoming_interface +subject, default tls_cipher and
 *                     tls_certificate_verified): "<=" with H= I= P=esmtpsa X= CV= A= S= id=
 *                     T=, then "=>"/"->" (and "==" defers retried in a later queue run),
 *                     "Completed", queue-run lines, authenticator failures and RCPT rejects.
 *   truth_sessions.tsv  header row, then one row per address holding interval:
 *                     user_name, calling_station_id, nas_ip, acct_session_id,
 *                     address_or_prefix (IPv4, or IPv6 prefix with /len), start, stop
 *                     (RFC 3339 UTC; stop empty if still held at the end), stop_reason
 *                     (the Acct-Terminate-Cause, "NAS-Reboot" for sessions closed by
 *                     Accounting-Off, "Address-Change" for an address replaced at an
 *                     interim, empty if open).  An interval is [start, stop).
 *                     Rows are written as intervals close, open ones last.
 *   truth_mail.tsv    header row, then one row per accepted message: message_id (as in
 *                     the log, without <>; empty if the message had none), mta_host,
 *                     queue_ids (Postfix: first id, then the id after amavis; Exim: the
 *                     message id), time (the client=/<= line), client_ip, client_port,
 *                     sasl_username, user_name and calling_station_id of the subscriber
 *                     who held client_ip then (empty for clients outside the ISP).
 *                     ~0.5% of messages come without a Message-ID: smtp1's cleanup and
 *                     Exim (submission mode) add one, which is then the truth; smtp2 logs
 *                     message-id=<> (truth empty).  ~0.3% reuse an earlier Message-ID.
 *   truth_malformed.tsv  header row, then file, line number (1-based, the first line of
 *                     the broken block), kind: truncated, garbage, no_timestamp,
 *                     overlong (8-32 KiB), nul_byte.
 *   cgn.log           (--cgn) the CGNs' port-block allocation and release lines, in
 *                     time order (RFC 5424 / IOS XR headers, UTC).  Sessions open at
 *                     --start got their blocks when they began: those lines come first.
 *   truth_cgn.tsv     (--cgn) header row, then one row per block holding: cgn,
 *                     public_ip, port_lo, port_hi, inside_ip, user_name, start, stop
 *                     (empty if still held at the end).
 *   summary.txt       "key: value" counts: lines and bytes per file, records, sessions,
 *                     intervals, messages per host, malformed, and the options used.
 *
 * KNOWN DEVIATIONS FROM REAL LOGS
 *   - Records/lines of messages in flight at the end (delays, retries) run a few minutes
 *     past --hours.  Nothing comes from before --start.
 *   - Size: interims every 5-15 min dominate; 20,000 subscribers x 24 h is ~2.3 GB and
 *     ~67M lines (~12 s on one core); 200 x 24 h is ~18 MB.
 *   - Acct-Session-Id, NAS-Port(-Id), circuit ids and Cisco-AVPair values only look
 *     vendor-like; no Class attribute; octet counters are smooth rates; Postfix queue-id
 *     inode parts and all pids are random, not real inode/process reuse.
 *   - A real NAS sends the CLI as digits; ras1 keeps the space ("01632 960123").
 *   - Exim's new (4.97+) id format's fraction encoding is approximated.
 *   - No bounces, no multi-message SMTP sessions, no log rotation; syslog has no clock skew.
 *
 * Build: part of `make` (build/tests/spoor-gen), or alone:
 *   gcc -std=c17 -D_GNU_SOURCE -Ilib tests/tools/spoor-gen.c lib/mem.c lib/timeutil.c \
 *       lib/arena.c -lm
 */
#include "arena.h"
#include "mem.h"
#include "timeutil.h"

#include <openssl/evp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#define US TIMEUTIL_US
#define MAX_SUBS 100000
#define ISP_DOMAIN "isp.example"

/* ------------------------------------------------------------------ PRNG */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed, uint64_t stream) {
    uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl64(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl64(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

/* 0..n-1 (n > 0), Lemire's multiply-shift (bias < 2^-64 * n). */
static uint64_t rng_below(rng *r, uint64_t n) {
    return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

static double rng_unit(rng *r) {
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* ------------------------------------------------------------------ types */

enum { F_RADIUS, F_MAILLOG, F_MAINLOG, F_NFILES, F_CGN = F_NFILES };
enum { NT_CISCO, NT_JUNIPER, NT_HUAWEI, NT_DIAL };
enum { SK_DSL, SK_DIAL };
enum { RS_START, RS_STOP, RS_INTERIM, RS_ON, RS_OFF };
enum { TC_USER, TC_CARRIER, TC_IDLE, TC_SESSTO, TC_REBOOT };
enum {
    EV_CONNECT,
    EV_INTERIM,
    EV_STOP,
    EV_ACCT_OFF,
    EV_ACCT_ON,
    EV_MAIL,
    EV_NOISE,
    EV_ANVIL,
    EV_QRUN
};
enum { MK_TRUNC, MK_GARBAGE, MK_NOTS, MK_LONG, MK_NUL, MK_N };

static const char *const TERM_CAUSE[] = {"User-Request", "Lost-Carrier", "Idle-Timeout",
                                         "Session-Timeout", "NAS-Reboot"};
static const char *const MK_NAME[] = {"truncated", "garbage", "no_timestamp", "overlong",
                                      "nul_byte"};
static const char *const MON[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const WDAY[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

/* One pending output unit (a RADIUS record or a log line), ordered by (t, seq). */
typedef struct item {
    int64_t t;
    uint64_t seq;
    char *text;
    uint32_t len, nlines;
} item;

typedef struct outfile {
    const char *name;
    FILE *f;
    item *h;
    size_t n, cap;
    uint64_t lines, bytes, units, malformed;
} outfile;

typedef struct event {
    int64_t t;
    uint64_t seq;
    int type, a;
    uint32_t gen;
} event;

/* FIFO of free pool indexes. */
typedef struct ring {
    uint32_t *v;
    uint32_t cap, head, count;
} ring;

typedef struct nas {
    int type;
    char ident[24];
    char city[8];
    uint32_t ip;
    int interim;          /* seconds between interims, 0 = none */
    int event_ts;         /* sends Event-Timestamp */
    int64_t sess_timeout; /* seconds, 0 = none */
    int phone_spaced;     /* dial: Calling-Station-Id keeps a space */
    int down;             /* between Accounting-Off and Accounting-On */
    int64_t up_at;        /* when down: time of Accounting-On */
    uint64_t sid_counter;
    int nsubs, init_online;
    uint32_t *addr4; /* pool addresses */
    ring free4, free6;
    int v6;  /* offers IPv6 */
    int cgn; /* behind carrier-grade NAT: index into G.cgns, else -1 */
} nas;

/* A carrier-grade NAT in front of one DSL NAS (--cgn). */
#define CGN_BLOCK 512
#define CGN_BLOCKS_PER_ADDR 126 /* ports 1024..65535 */
typedef struct cgn {
    char name[16];
    int vendor; /* 0 Junos structured, 1 IOS XR, 2 NFWare */
    uint32_t pub0, npub;
    ring free; /* free block ids, FIFO (a block passes to another subscriber) */
} cgn;

typedef struct sub {
    uint8_t kind, v6, dsl_name, os;
    int16_t home;
    int32_t sess;
    uint32_t phone, circuit;
    uint8_t mac[6];
    char helo[28];
} sub;

typedef struct session {
    int sub, nas;
    uint32_t gen;
    int active;
    uint32_t pool4, pool6;
    int has6;
    uint32_t ip;
    int64_t start, ip_since, end, change_at;
    int cause;
    int online_idx;
    int records;         /* accounting records written for it */
    int32_t block;       /* --cgn: its port block, or -1 */
    int64_t block_since; /* seconds */
    uint32_t nas_port;
    double rate_in, rate_out;
    char uname[40], csid[48], sid[24], uid[36], portid[64], connect_info[40];
} session;

typedef struct proc {
    int pid;
    int64_t busy;
    int count;
} proc;

typedef struct procpool {
    proc p[48];
    int n;
} procpool;

typedef struct mta {
    const char *name; /* syslog host / truth mta_host */
    const char *fqdn;
    int long_ids;       /* Postfix enable_long_queue_ids */
    int local_port_log; /* 10025 smtpd logs client port */
    int add_msgid;      /* cleanup adds a missing Message-Id */
    const char *amavis_smtpd;
    int qmgr_pid, anvil_pid;
    procpool smtpd, smtpd2, smtp, cleanup, amavis;
    char last_ip[64];
    int64_t last_conn;
    int anvil_count;
} mta;

typedef struct stats {
    uint64_t rec_start, rec_interim, rec_stop, rec_onoff, dup_exact, dup_retrans, disorder, delayed,
        preexisting, sessions_new, ip_changes, reboot_closed, pool_full, intervals, open_intervals,
        msgs[3], amavis, deferred, ipv6_msgs, external_msgs, other_sasl, msgid_missing, msgid_dup,
        noise, rcpts, unseen_sessions;
} stats;

/* ------------------------------------------------------------------ global state */

static struct {
    const char *outdir, *zone;
    int nsubs, exim_new_ids;
    int64_t t0, t_end; /* microseconds */
    double hours, mal_rate, mails_per_hour;
    uint64_t seed;
    rng r, rm;
    uint64_t seq;
    event *ev;
    size_t nev, cap_ev;
    outfile out[F_NFILES + 1];
    FILE *t_sess, *t_mail, *t_mal, *t_cgn;
    int cgn_on;
    cgn *cgns;
    int ncgn;
    uint64_t cgn_allocs, cgn_releases, cgn_msgs;
    nas *nas;
    int nnas, ndsl_nas, reboot_nas;
    sub *subs;
    session *sess;
    int *free_slots, nfree;
    int *online, nonline;
    mta mta[2];
    int exim_qrun_pid;
    int64_t exim_qrun_dur;
    char recent_mid[16][112];
    int nrecent_mid;
    arena ar;
    stats st;
} G;

/* ------------------------------------------------------------------ randomness helpers */

static uint64_t rb(uint64_t n) {
    return rng_below(&G.r, n);
}
static int64_t rr(int64_t lo, int64_t hi) {
    return lo + (int64_t)rb((uint64_t)(hi - lo + 1));
}
static double ru(void) {
    return rng_unit(&G.r);
}
static int rc(double p) {
    return rng_unit(&G.r) < p;
}
static double rexpo(double mean) {
    return -mean * log1p(-rng_unit(&G.r));
}
static double rlognorm(double median, double sigma) {
    double u1 = rng_unit(&G.r), u2 = rng_unit(&G.r);
    double z = sqrt(-2.0 * log1p(-u1)) * cos(2 * M_PI * u2);
    return median * exp(sigma * z);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("spoor-gen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* ------------------------------------------------------------------ text helpers */

static inline char *put(char *p, const char *s) {
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

static char *put_u64(char *p, uint64_t v) {
    char t[24];
    int n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = t[--n];
    return p;
}

static inline char *put_2d(char *p, int v) {
    *p++ = (char)('0' + v / 10);
    *p++ = (char)('0' + v % 10);
    return p;
}

static char *put_ip4(char *p, uint32_t ip) {
    for (int i = 3; i >= 0; i--) {
        p = put_u64(p, (ip >> (8 * i)) & 255);
        if (i)
            *p++ = '.';
    }
    return p;
}

static void ip4_str(uint32_t ip, char *buf) {
    *put_ip4(buf, ip) = '\0';
}

static void ip6_str(const uint8_t a[16], char *buf, size_t len) {
    if (!inet_ntop(AF_INET6, a, buf, (socklen_t)len))
        die("inet_ntop: %s", strerror(errno));
}

static uint32_t ip4(int a, int b, int c, int d) {
    return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | (uint32_t)d;
}

/* Postfix safe_ultostr: most significant digit first, zero-padded to PAD. */
static char *put_base(char *p, uint64_t v, const char *alpha, unsigned base, int pad) {
    char t[32];
    int n = 0;
    do {
        t[n++] = alpha[v % base];
        v /= base;
    } while (v);
    while (n < pad)
        t[n++] = alpha[0];
    while (n)
        *p++ = t[--n];
    return p;
}

static const char SAFE52[] = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";
static const char B62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static void rand_chars(char *p, int n, const char *alpha) {
    size_t k = strlen(alpha);
    for (int i = 0; i < n; i++)
        p[i] = alpha[rb(k)];
    p[n] = '\0';
}

/* ------------------------------------------------------------------ time */

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

typedef struct tzent {
    int64_t key;
    int off;
    char abbr[16];
} tzent;
static tzent tzc[1024];

/* Offset and abbreviation of --zone at SEC, cached per 15-minute UTC bucket (all
 * current tz rules change on a quarter hour). */
static const tzent *tz_at(int64_t sec) {
    int64_t b = floor_div(sec, 900);
    tzent *e = &tzc[(uint64_t)b & 1023];
    if (e->key != b) {
        error err;
        int off;
        if (timeutil_zone_offset(G.zone, b * 900 * US, &off, &err) < 0)
            die("%s", err.msg);
        if (timeutil_zone_abbrev(G.zone, b * 900 * US, e->abbr, sizeof e->abbr, &err) < 0)
            die("%s", err.msg);
        e->key = b;
        e->off = off;
    }
    return e;
}

typedef struct ltime {
    timeutil_civil c;
    int wday;
    const char *abbr;
} ltime;

static void local_time(int64_t sec, ltime *l) {
    const tzent *e = tz_at(sec);
    int64_t ls = sec + e->off;
    timeutil_utc_to_civil(ls * US, &l->c);
    int64_t days = floor_div(ls, 86400);
    l->wday = (int)(((days + 4) % 7 + 7) % 7);
    l->abbr = e->abbr;
}

static int local_hour(int64_t sec) {
    int64_t ls = sec + tz_at(sec)->off;
    return (int)(((ls % 86400) + 86400) % 86400 / 3600);
}

static char *put_hms(char *p, const timeutil_civil *c) {
    p = put_2d(p, c->hour);
    *p++ = ':';
    p = put_2d(p, c->minute);
    *p++ = ':';
    return put_2d(p, c->second);
}

/* ctime(3) without the newline: "Sun Nov 22 00:00:03 2026" */
static char *put_ctime(char *p, int64_t sec) {
    ltime l;
    local_time(sec, &l);
    p = put(p, WDAY[l.wday]);
    *p++ = ' ';
    p = put(p, MON[l.c.month - 1]);
    *p++ = ' ';
    *p++ = l.c.day < 10 ? ' ' : (char)('0' + l.c.day / 10);
    *p++ = (char)('0' + l.c.day % 10);
    *p++ = ' ';
    p = put_hms(p, &l.c);
    *p++ = ' ';
    return put_u64(p, (uint64_t)l.c.year);
}

/* FreeRADIUS date value: "%b %e %Y %H:%M:%S %Z" */
static char *put_evts(char *p, int64_t sec) {
    ltime l;
    local_time(sec, &l);
    p = put(p, MON[l.c.month - 1]);
    *p++ = ' ';
    *p++ = l.c.day < 10 ? ' ' : (char)('0' + l.c.day / 10);
    *p++ = (char)('0' + l.c.day % 10);
    *p++ = ' ';
    p = put_u64(p, (uint64_t)l.c.year);
    *p++ = ' ';
    p = put_hms(p, &l.c);
    *p++ = ' ';
    return put(p, l.abbr);
}

/* RFC 3164: "Nov 22 13:15:02" (day space-padded) */
static char *put_syslog_ts(char *p, int64_t sec) {
    ltime l;
    local_time(sec, &l);
    p = put(p, MON[l.c.month - 1]);
    *p++ = ' ';
    *p++ = l.c.day < 10 ? ' ' : (char)('0' + l.c.day / 10);
    *p++ = (char)('0' + l.c.day % 10);
    *p++ = ' ';
    return put_hms(p, &l.c);
}

/* Exim: "2026-11-22 13:15:02" */
static char *put_exim_ts(char *p, int64_t sec) {
    ltime l;
    local_time(sec, &l);
    p = put_u64(p, (uint64_t)l.c.year);
    *p++ = '-';
    p = put_2d(p, l.c.month);
    *p++ = '-';
    p = put_2d(p, l.c.day);
    *p++ = ' ';
    return put_hms(p, &l.c);
}

static const char *rfc3339(int64_t sec, char *buf) {
    return timeutil_format(sec * US, buf);
}

/* Relative activity by local hour (mail, dial-in), mean about 1. */
static const double DAY_CURVE[24] = {0.30, 0.18, 0.12, 0.10, 0.10, 0.15, 0.35, 0.70,
                                     1.10, 1.45, 1.55, 1.55, 1.45, 1.45, 1.55, 1.55,
                                     1.45, 1.35, 1.30, 1.40, 1.45, 1.25, 0.90, 0.55};

/* ------------------------------------------------------------------ MD5 */

static void md5_hex(const char *s, char out[33]) {
    uint8_t d[16];
    EVP_Digest(s, strlen(s), d, NULL, EVP_md5(), NULL);
    static const char hx[] = "0123456789abcdef";
    for (int k = 0; k < 16; k++) {
        out[2 * k] = hx[d[k] >> 4];
        out[2 * k + 1] = hx[d[k] & 15];
    }
    out[32] = '\0';
}

/* ------------------------------------------------------------------ heaps */

static inline int key_less(int64_t ta, uint64_t sa, int64_t tb, uint64_t sb) {
    return ta < tb || (ta == tb && sa < sb);
}

static void ev_push(int64_t t, int type, int a, uint32_t gen) {
    if (G.nev == G.cap_ev) {
        G.cap_ev = G.cap_ev ? G.cap_ev * 2 : 1024;
        G.ev = mem_realloc(G.ev, G.cap_ev * sizeof *G.ev);
    }
    event e = {t, G.seq++, type, a, gen};
    size_t i = G.nev++;
    while (i) {
        size_t p = (i - 1) / 2;
        if (!key_less(e.t, e.seq, G.ev[p].t, G.ev[p].seq))
            break;
        G.ev[i] = G.ev[p];
        i = p;
    }
    G.ev[i] = e;
}

static event ev_pop(void) {
    event top = G.ev[0], last = G.ev[--G.nev];
    size_t i = 0, n = G.nev;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && key_less(G.ev[c + 1].t, G.ev[c + 1].seq, G.ev[c].t, G.ev[c].seq))
            c++;
        if (!key_less(G.ev[c].t, G.ev[c].seq, last.t, last.seq))
            break;
        G.ev[i] = G.ev[c];
        i = c;
    }
    if (n)
        G.ev[i] = last;
    return top;
}

static void item_push(int fi, int64_t t, const char *text, size_t len) {
    outfile *o = &G.out[fi];
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 1024;
        o->h = mem_realloc(o->h, o->cap * sizeof *o->h);
    }
    item it = {t, G.seq++, mem_strndup(text, len), (uint32_t)len, 0};
    for (size_t k = 0; k < len; k++)
        it.nlines += text[k] == '\n';
    size_t i = o->n++;
    while (i) {
        size_t p = (i - 1) / 2;
        if (!key_less(it.t, it.seq, o->h[p].t, o->h[p].seq))
            break;
        o->h[i] = o->h[p];
        i = p;
    }
    o->h[i] = it;
}

static item item_pop(outfile *o) {
    item top = o->h[0], last = o->h[--o->n];
    size_t i = 0, n = o->n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && key_less(o->h[c + 1].t, o->h[c + 1].seq, o->h[c].t, o->h[c].seq))
            c++;
        if (!key_less(o->h[c].t, o->h[c].seq, last.t, last.seq))
            break;
        o->h[i] = o->h[c];
        i = c;
    }
    if (n)
        o->h[i] = last;
    return top;
}

/* ------------------------------------------------------------------ output + malformed */

static void out_write(outfile *o, const char *s, size_t len, uint32_t nlines) {
    if (fwrite(s, 1, len, o->f) != len)
        die("writing %s: %s", o->name, strerror(errno));
    o->bytes += len;
    o->lines += nlines;
}

static uint32_t count_nl(const char *s, size_t len) {
    uint32_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += s[i] == '\n';
    return n;
}

static uint64_t mb(uint64_t n) {
    return rng_below(&G.rm, n);
}

/* Writes one extra broken block after IT, of a kind drawn from the malformed stream. */
static void malformed_one(int fi, const item *it) {
    static const int weight[MK_N] = {30, 25, 20, 5, 20};
    outfile *o = &G.out[fi];
    int kind = 0, w = (int)mb(100);
    while (w >= weight[kind])
        w -= weight[kind++];
    int radius = fi == F_RADIUS;
    const char *s = it->text;
    size_t len = it->len, n = 0;
    size_t hdr = radius ? (size_t)(strchr(s, '\n') - s) + 1 : (fi == F_MAILLOG ? 16 : 20);
    char *b = mem_alloc(len + 40000);
    switch (kind) {
    case MK_TRUNC: { /* a copy cut mid-line */
        size_t lo = radius ? hdr + 2 : hdr + 4, hi = len - (radius ? 3 : 2);
        size_t cut = lo < hi ? lo + mb(hi - lo) : len / 2;
        if (radius && s[cut - 1] == '\n')
            cut += 3;
        memcpy(b, s, cut);
        n = cut;
        b[n++] = '\n';
        if (radius)
            b[n++] = '\n';
        break;
    }
    case MK_GARBAGE: {
        size_t k = 16 + mb(160);
        for (size_t i = 0; i < k; i++) {
            unsigned char c = (unsigned char)(1 + mb(255));
            b[n++] = (char)(c == '\n' ? 0xff : c);
        }
        b[n++] = '\n';
        if (radius)
            b[n++] = '\n';
        break;
    }
    case MK_NOTS: /* the copy without its timestamp (header line for RADIUS) */
        memcpy(b, s + hdr, len - hdr);
        n = len - hdr;
        break;
    case MK_LONG: {
        size_t k = 8193 + mb(24576);
        static const char fill[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        if (radius)
            n = (size_t)(put(b, "\tCisco-AVPair = \"") - b);
        else {
            /* a real line's prefix, then an endless header or command */
            const char *q = fi == F_MAILLOG ? strstr(s, "]: ") : NULL;
            size_t pre = q ? (size_t)(q - s) + 3 : hdr;
            memcpy(b, s, pre);
            n = (size_t)(put(b + pre, fi == F_MAILLOG ? "warning: header Subject: "
                                                      : "SMTP syntax error in \"") -
                         b);
        }
        for (size_t i = 0; i < k; i++)
            b[n++] = fill[mb(64)];
        if (radius)
            b[n++] = '"';
        b[n++] = '\n';
        if (radius)
            b[n++] = '\n';
        break;
    }
    default: { /* MK_NUL: the copy with a NUL byte inserted after the timestamp */
        size_t at = hdr + mb(len - hdr - 2);
        memcpy(b, s, at);
        b[at] = '\0';
        memcpy(b + at + 1, s + at, len - at);
        n = len + 1;
        break;
    }
    }
    uint64_t lineno = o->lines + 1;
    out_write(o, b, n, count_nl(b, n));
    o->malformed++;
    fprintf(G.t_mal, "%s\t%" PRIu64 "\t%s\n", o->name, lineno, MK_NAME[kind]);
    free(b);
}

static void out_flush(int fi, int64_t until) {
    outfile *o = &G.out[fi];
    while (o->n && o->h[0].t <= until) {
        item it = item_pop(o);
        out_write(o, it.text, it.len, it.nlines);
        o->units++;
        if (G.mal_rate > 0 && fi != F_CGN) {
            double p = G.mal_rate * it.nlines;
            int k = (int)p;
            if (rng_unit(&G.rm) < p - k)
                k++;
            while (k-- > 0)
                malformed_one(fi, &it);
        }
        free(it.text);
    }
}

static void flush_all(int64_t until) {
    for (int i = 0; i < F_NFILES + G.cgn_on; i++)
        out_flush(i, until);
}

/* ------------------------------------------------------------------ pools */

static void ring_init(ring *r, uint32_t cap) {
    r->v = arena_alloc(&G.ar, (cap ? cap : 1) * sizeof *r->v);
    r->cap = cap;
    r->head = r->count = 0;
}

static void ring_put(ring *r, uint32_t x) {
    r->v[(r->head + r->count) % r->cap] = x;
    r->count++;
}

static uint32_t ring_get(ring *r) {
    uint32_t x = r->v[r->head];
    r->head = (r->head + 1) % r->cap;
    r->count--;
    return x;
}

/* ------------------------------------------------------------------ subscribers */

static const char *const PHONE_SP[] = {"01632 960",  "0113 496 0", "0114 496 0", "0115 496 0",
                                       "0116 496 0", "0117 496 0", "0118 496 0", "0121 496 0",
                                       "0131 496 0", "0141 496 0", "0151 496 0", "0161 496 0",
                                       "0191 498 0", "020 7946 0", "028 9649 6", "029 2018 0"};

static void phone_str(uint32_t idx, int spaced, char *buf) {
    const char *pre = PHONE_SP[(idx / 1000) % 16];
    char *p = buf;
    for (const char *q = pre; *q; q++)
        if (spaced || *q != ' ')
            *p++ = *q;
    sprintf(p, "%03u", idx % 1000);
}

static void account_name(int si, char *buf) {
    sprintf(buf, "u%06d@" ISP_DOMAIN, si + 1);
}

static void user_name_for(const sub *s, int si, char *buf) {
    if (s->kind == SK_DSL && s->dsl_name)
        sprintf(buf, "dsl-%06d", si + 1);
    else
        account_name(si, buf);
}

static void calling_station(const sub *s, const nas *n, char *buf) {
    const uint8_t *m = s->mac;
    switch (n->type) {
    case NT_CISCO:
        sprintf(buf, "%02x%02x.%02x%02x.%02x%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
        break;
    case NT_JUNIPER: {
        char city[8];
        int i = 0;
        for (; n->city[i]; i++)
            city[i] = (char)(n->city[i] - 32);
        city[i] = '\0';
        sprintf(buf, "%s-DSLAM-%02u eth 1/1/%02u/%02u:3001", city, s->circuit / 1536 % 100,
                s->circuit / 48 % 32, s->circuit % 48);
        break;
    }
    case NT_HUAWEI:
        sprintf(buf, "%02X-%02X-%02X-%02X-%02X-%02X", m[0], m[1], m[2], m[3], m[4], m[5]);
        break;
    default:
        phone_str(s->phone, n->phone_spaced, buf);
    }
}

static void make_helo(sub *s) {
    char r[20];
    switch (rb(10)) {
    case 0:
    case 1:
    case 2:
        rand_chars(r, 7, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
        sprintf(s->helo, "DESKTOP-%s", r);
        s->os = 0;
        break;
    case 3:
        sprintf(s->helo, "[192.168.%d.%d]", rb(2) ? 1 : 0, (int)rr(2, 250));
        s->os = 0;
        break;
    case 4:
    case 5: {
        static const char *const mac[] = {"MacBook-Pro.local", "MacBook-Air.local", "iMac.local",
                                          "Mac-mini.local"};
        sprintf(s->helo, "%s", mac[rb(4)]);
        s->os = 1;
        break;
    }
    case 6:
        sprintf(s->helo, "[127.0.0.1]");
        s->os = 2;
        break;
    case 7:
        sprintf(s->helo, "pc%02d.home", (int)rr(1, 20));
        s->os = 0;
        break;
    default:
        rand_chars(r, 16, "0123456789abcdef");
        sprintf(s->helo, "android-%s", r);
        s->os = 2;
    }
}

/* ------------------------------------------------------------------ truth */

static void truth_row(const session *ss, const char *addr, int64_t start, int64_t stop,
                      const char *reason) {
    char a[TIMEUTIL_RFC3339_MAX], b[TIMEUTIL_RFC3339_MAX], nip[16];
    ip4_str(G.nas[ss->nas].ip, nip);
    fprintf(G.t_sess, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ss->uname, ss->csid, nip, ss->sid, addr,
            rfc3339(start, a), stop >= 0 ? rfc3339(stop, b) : "", reason);
    G.st.intervals++;
    if (stop < 0)
        G.st.open_intervals++;
}

static void v6_wan(const session *ss, uint8_t a[16]) {
    memset(a, 0, 16);
    a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8;
    a[4] = 0x01, a[5] = (uint8_t)ss->nas;
    a[6] = (uint8_t)(ss->pool6 >> 8), a[7] = (uint8_t)ss->pool6;
}

static void v6_delegated(int si, uint8_t a[16]) {
    uint32_t id = (uint32_t)si + 1;
    memset(a, 0, 16);
    a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8;
    uint32_t hi = 0x4000 + (id >> 8);
    a[4] = (uint8_t)(hi >> 8), a[5] = (uint8_t)hi, a[6] = (uint8_t)id;
}

static void v6_prefix_str(const uint8_t a[16], int plen, char *buf) {
    ip6_str(a, buf, 64);
    sprintf(buf + strlen(buf), "/%d", plen);
}

static void truth_close(const session *ss, int64_t stop, const char *reason, int v4_only) {
    char addr[72];
    ip4_str(ss->ip, addr);
    truth_row(ss, addr, ss->ip_since, stop, reason);
    if (ss->has6 && !v4_only) {
        uint8_t a[16];
        v6_wan(ss, a);
        v6_prefix_str(a, 64, addr);
        truth_row(ss, addr, ss->start, stop, reason);
        v6_delegated(ss->sub, a);
        v6_prefix_str(a, 56, addr);
        truth_row(ss, addr, ss->start, stop, reason);
    }
}

/* ------------------------------------------------------------------ carrier-grade NAT */

static void cgn_block(const cgn *c, int32_t b, uint32_t *pub, int *lo, int *hi) {
    *pub = c->pub0 + (uint32_t)b / CGN_BLOCKS_PER_ADDR;
    *lo = 1024 + (b % CGN_BLOCKS_PER_ADDR) * CGN_BLOCK;
    *hi = *lo + CGN_BLOCK - 1;
}

/* One allocation (ALLOC) or release line of C's vendor at T (seconds, UTC). */
static void cgn_log(const cgn *c, int alloc, uint32_t inside, int32_t b, int64_t t) {
    char in[16], pub_s[16], when[TIMEUTIL_RFC3339_MAX], line[512];
    uint32_t pub;
    int lo, hi, n;
    cgn_block(c, b, &pub, &lo, &hi);
    ip4_str(inside, in);
    ip4_str(pub, pub_s);
    timeutil_format(t * US, when);
    if (c->vendor == 0)
        n = snprintf(line, sizeof line,
                     "<14>1 %s %s RT_NAT - RT_SRC_NAT_PBA_%s [junos@2636.1.1.1.2.129 "
                     "internal-ip=\"%s\" block-used=\"1\" block-max-per-host=\"4\" "
                     "block-port-low=\"%d\" block-port-high=\"%d\" reflexive-ip=\"%s\" "
                     "nat-pool-name=\"cgn\" logical-system-id=\"0\" epoch-time-64=\"%llx\"]\n",
                     when, c->name, alloc ? "ALLOC" : "RELEASE", in, lo, hi, pub_s,
                     (unsigned long long)t);
    else if (c->vendor == 1) {
        timeutil_civil cv;
        timeutil_utc_to_civil(t * US, &cv);
        n = snprintf(line, sizeof line,
                     "<134> 1 %04d %s %d %02d:%02d:%02d %s - - NAT44 - [Userbased%c - %s 1 - %s - "
                     "%d %d - - ]\n",
                     cv.year, MON[cv.month - 1], cv.day, cv.hour, cv.minute, cv.second, c->name,
                     alloc ? 'A' : 'W', in, pub_s, lo, hi);
    } else
        n = snprintf(line, sizeof line, "<134>1 %s %s vcgnat - - - %c VRF 0 INT %s EXT %s:%d-%d\n",
                     when, c->name, alloc ? 'A' : 'D', in, pub_s, lo, hi);
    item_push(F_CGN, t * US, line, (size_t)n);
}

static void cgn_alloc(session *ss, int64_t t) {
    ss->block = -1;
    const nas *n = &G.nas[ss->nas];
    if (n->cgn < 0)
        return;
    cgn *c = &G.cgns[n->cgn];
    if (!c->free.count)
        die("%s: no free port block (the public pool is too small)", c->name);
    ss->block = (int32_t)ring_get(&c->free);
    ss->block_since = t;
    cgn_log(c, 1, ss->ip, ss->block, t);
    G.cgn_allocs++;
}

static void cgn_truth(const session *ss, int64_t stop) {
    const cgn *c = &G.cgns[G.nas[ss->nas].cgn];
    uint32_t pub;
    int lo, hi;
    char in[16], pub_s[16], a[TIMEUTIL_RFC3339_MAX], b[TIMEUTIL_RFC3339_MAX];
    cgn_block(c, ss->block, &pub, &lo, &hi);
    ip4_str(ss->ip, in);
    ip4_str(pub, pub_s);
    fprintf(G.t_cgn, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\n", c->name, pub_s, lo, hi, in, ss->uname,
            rfc3339(ss->block_since, a), stop >= 0 ? rfc3339(stop, b) : "");
}

/* The session gives its block back at T (its address ends). */
static void cgn_release(session *ss, int64_t t) {
    if (ss->block < 0)
        return;
    cgn *c = &G.cgns[G.nas[ss->nas].cgn];
    cgn_log(c, 0, ss->ip, ss->block, t);
    cgn_truth(ss, t);
    ring_put(&c->free, (uint32_t)ss->block);
    ss->block = -1;
    G.cgn_releases++;
}

/* ------------------------------------------------------------------ RADIUS records */

static char *attr_q(char *p, const char *name, const char *v) {
    *p++ = '\t';
    p = put(p, name);
    p = put(p, " = \"");
    p = put(p, v);
    *p++ = '"';
    *p++ = '\n';
    return p;
}

static char *attr_r(char *p, const char *name, const char *v) {
    *p++ = '\t';
    p = put(p, name);
    p = put(p, " = ");
    p = put(p, v);
    *p++ = '\n';
    return p;
}

static char *attr_u(char *p, const char *name, uint64_t v) {
    *p++ = '\t';
    p = put(p, name);
    p = put(p, " = ");
    p = put_u64(p, v);
    *p++ = '\n';
    return p;
}

static char *attr_ip(char *p, const char *name, uint32_t ip) {
    *p++ = '\t';
    p = put(p, name);
    p = put(p, " = ");
    p = put_ip4(p, ip);
    *p++ = '\n';
    return p;
}

static char *attr_evts(char *p, int64_t sec) {
    p = put(p, "\tEvent-Timestamp = \"");
    p = put_evts(p, sec);
    *p++ = '"';
    *p++ = '\n';
    return p;
}

static const char *status_name(int st) {
    static const char *const n[] = {"Start", "Stop", "Interim-Update", "Accounting-On",
                                    "Accounting-Off"};
    return n[st];
}

static char *attr_counters(char *p, const session *ss, int64_t ev) {
    int64_t el = ev - ss->start;
    if (el < 0)
        el = 0;
    uint64_t in = (uint64_t)(ss->rate_in * (double)el), out = (uint64_t)(ss->rate_out * (double)el);
    p = attr_u(p, "Acct-Session-Time", (uint64_t)el);
    p = attr_u(p, "Acct-Input-Octets", in & 0xffffffffu);
    p = attr_u(p, "Acct-Output-Octets", out & 0xffffffffu);
    p = attr_u(p, "Acct-Input-Gigawords", in >> 32);
    p = attr_u(p, "Acct-Output-Gigawords", out >> 32);
    p = attr_u(p, "Acct-Input-Packets", in / 120);
    return attr_u(p, "Acct-Output-Packets", out / 900);
}

static char *attr_v6(char *p, const session *ss) {
    if (!ss->has6)
        return p;
    uint8_t a[16];
    char buf[72];
    v6_wan(ss, a);
    v6_prefix_str(a, 64, buf);
    p = attr_r(p, "Framed-IPv6-Prefix", buf);
    v6_delegated(ss->sub, a);
    v6_prefix_str(a, 56, buf);
    return attr_r(p, "Delegated-IPv6-Prefix", buf);
}

/* Builds one rlm_detail record (header .. blank line) into BUF; returns its length. */
static size_t radius_build(char *buf, const nas *n, const session *ss, int st, int64_t ev,
                           int64_t recv, int delay, int cause) {
    char *p = put_ctime(buf, recv);
    *p++ = '\n';
    const char *stn = status_name(st);
    int acct = st == RS_INTERIM || st == RS_STOP;
    if (st == RS_ON || st == RS_OFF) {
        p = attr_q(p, "Acct-Session-Id", "00000000");
        p = attr_r(p, "Acct-Status-Type", stn);
        p = attr_ip(p, "NAS-IP-Address", n->ip);
        p = attr_q(p, "NAS-Identifier", n->ident);
        if (st == RS_OFF)
            p = attr_r(p, "Acct-Terminate-Cause", "NAS-Reboot");
        p = attr_u(p, "Acct-Delay-Time", (uint64_t)delay);
        if (n->event_ts)
            p = attr_evts(p, ev);
        p = attr_q(p, "Tmp-String-9", "ai:");
        char key[128], uid[33], nip[16];
        ip4_str(n->ip, nip);
        snprintf(key, sizeof key, ",00000000,%s,%s,,", nip, n->ident);
        md5_hex(key, uid);
        p = attr_q(p, "Acct-Unique-Session-Id", uid);
        p = attr_u(p, "Timestamp", (uint64_t)recv);
        *p++ = '\n';
        return (size_t)(p - buf);
    }
    switch (n->type) {
    case NT_CISCO:
        p = attr_q(p, "Acct-Session-Id", ss->sid);
        p = attr_r(p, "Framed-Protocol", "PPP");
        p = attr_ip(p, "Framed-IP-Address", ss->ip);
        p = attr_v6(p, ss);
        p = attr_q(p, "User-Name", ss->uname);
        p = attr_q(p, "Cisco-AVPair", "connect-progress=LAN Ses Up");
        if (st == RS_STOP)
            p = attr_q(p, "Cisco-AVPair",
                       cause == TC_CARRIER ? "disc-cause-ext=PPP Receive Term"
                                           : "disc-cause-ext=PPP Maximum Retry");
        p = attr_r(p, "Acct-Authentic", "RADIUS");
        p = attr_r(p, "Acct-Status-Type", stn);
        if (acct)
            p = attr_counters(p, ss, ev);
        if (st == RS_STOP)
            p = attr_r(p, "Acct-Terminate-Cause", TERM_CAUSE[cause]);
        p = attr_r(p, "NAS-Port-Type", "Virtual");
        p = attr_u(p, "NAS-Port", ss->nas_port);
        p = attr_q(p, "NAS-Port-Id", ss->portid);
        p = attr_r(p, "Service-Type", "Framed-User");
        p = attr_q(p, "Calling-Station-Id", ss->csid);
        p = attr_ip(p, "NAS-IP-Address", n->ip);
        p = attr_q(p, "NAS-Identifier", n->ident);
        p = attr_u(p, "Acct-Delay-Time", (uint64_t)delay);
        p = attr_evts(p, ev);
        break;
    case NT_JUNIPER:
        p = attr_q(p, "User-Name", ss->uname);
        p = attr_r(p, "Acct-Status-Type", stn);
        p = attr_q(p, "Acct-Session-Id", ss->sid);
        p = attr_evts(p, ev);
        p = attr_u(p, "Acct-Delay-Time", (uint64_t)delay);
        p = attr_r(p, "Service-Type", "Framed-User");
        p = attr_r(p, "Framed-Protocol", "PPP");
        p = attr_r(p, "Acct-Authentic", "RADIUS");
        p = attr_ip(p, "Framed-IP-Address", ss->ip);
        p = attr_r(p, "Framed-IP-Netmask", "255.255.255.255");
        p = attr_v6(p, ss);
        if (acct)
            p = attr_counters(p, ss, ev);
        if (st == RS_STOP)
            p = attr_r(p, "Acct-Terminate-Cause", TERM_CAUSE[cause]);
        p = attr_q(p, "Calling-Station-Id", ss->csid);
        p = attr_u(p, "NAS-Port", ss->nas_port);
        p = attr_q(p, "NAS-Port-Id", ss->portid);
        p = attr_r(p, "NAS-Port-Type", "Ethernet");
        p = attr_ip(p, "NAS-IP-Address", n->ip);
        p = attr_q(p, "NAS-Identifier", n->ident);
        break;
    case NT_HUAWEI:
        p = attr_r(p, "Acct-Status-Type", stn);
        p = attr_q(p, "User-Name", ss->uname);
        p = attr_q(p, "Acct-Session-Id", ss->sid);
        p = attr_ip(p, "Framed-IP-Address", ss->ip);
        p = attr_v6(p, ss);
        p = attr_q(p, "Calling-Station-Id", ss->csid);
        p = attr_ip(p, "NAS-IP-Address", n->ip);
        p = attr_u(p, "NAS-Port", ss->nas_port);
        p = attr_q(p, "NAS-Port-Id", ss->portid);
        p = attr_q(p, "NAS-Identifier", n->ident);
        p = attr_r(p, "NAS-Port-Type", "Ethernet");
        p = attr_r(p, "Service-Type", "Framed-User");
        p = attr_r(p, "Framed-Protocol", "PPP");
        if (acct)
            p = attr_counters(p, ss, ev);
        if (st == RS_STOP)
            p = attr_r(p, "Acct-Terminate-Cause", TERM_CAUSE[cause]);
        p = attr_u(p, "Acct-Delay-Time", (uint64_t)delay);
        break;
    default: /* dial-in RAS */
        p = attr_q(p, "Acct-Session-Id", ss->sid);
        p = attr_r(p, "Framed-Protocol", "PPP");
        p = attr_ip(p, "Framed-IP-Address", ss->ip);
        p = attr_q(p, "User-Name", ss->uname);
        p = attr_r(p, "Acct-Authentic", "RADIUS");
        p = attr_q(p, "Connect-Info", ss->connect_info);
        p = attr_r(p, "Acct-Status-Type", stn);
        if (acct)
            p = attr_counters(p, ss, ev);
        if (st == RS_STOP)
            p = attr_r(p, "Acct-Terminate-Cause", TERM_CAUSE[cause]);
        p = attr_r(p, "NAS-Port-Type", "Async");
        p = attr_u(p, "NAS-Port", ss->nas_port);
        p = attr_q(p, "NAS-Port-Id", ss->portid);
        p = attr_q(p, "Called-Station-Id", "08081570123");
        if (ss->csid[0])
            p = attr_q(p, "Calling-Station-Id", ss->csid);
        p = attr_r(p, "Service-Type", "Framed-User");
        p = attr_ip(p, "NAS-IP-Address", n->ip);
        p = attr_q(p, "NAS-Identifier", n->ident);
        p = attr_u(p, "Acct-Delay-Time", (uint64_t)delay);
        if (n->event_ts)
            p = attr_evts(p, ev);
    }
    p = attr_q(p, "Tmp-String-9", "ai:");
    p = attr_q(p, "Acct-Unique-Session-Id", ss->uid);
    p = attr_u(p, "Timestamp", (uint64_t)recv);
    *p++ = '\n';
    return (size_t)(p - buf);
}

static int sample_delay(void) {
    uint64_t u = rb(1000);
    if (u < 880)
        return 0;
    if (u < 980)
        return (int)rr(1, 5);
    if (u < 995)
        return (int)rr(6, 60);
    return (int)rr(61, 900);
}

/* Emits one accounting record for an event at EV (seconds), with the transport quirks. */
static void radius_emit(const nas *n, session *ss, int st, int64_t ev, int cause) {
    char buf[8192];
    int delay = (st == RS_ON || st == RS_OFF) ? 0 : sample_delay();
    int64_t recv = ev + delay;
    size_t len = radius_build(buf, n, ss, st, ev, recv, delay, cause);
    int64_t key = recv * US;
    if (delay)
        G.st.delayed++;
    if (rc(0.002)) {
        key += rr(2, 40) * US;
        G.st.disorder++;
    }
    item_push(F_RADIUS, key, buf, len);
    if (ss)
        ss->records++;
    if (rc(0.002)) {
        item_push(F_RADIUS, key, buf, len);
        G.st.dup_exact++;
    } else if (rc(0.002)) {
        int gap = (int)rr(3, 30);
        len = radius_build(buf, n, ss, st, ev, recv + gap, delay + gap, cause);
        item_push(F_RADIUS, (recv + gap) * US, buf, len);
        G.st.dup_retrans++;
    }
    switch (st) {
    case RS_START:
        G.st.rec_start++;
        break;
    case RS_STOP:
        G.st.rec_stop++;
        break;
    case RS_INTERIM:
        G.st.rec_interim++;
        break;
    default:
        G.st.rec_onoff++;
    }
}

/* ------------------------------------------------------------------ sessions */

static void online_add(int slot) {
    G.sess[slot].online_idx = G.nonline;
    G.online[G.nonline++] = slot;
}

static void online_del(int slot) {
    int i = G.sess[slot].online_idx, last = G.online[--G.nonline];
    G.online[i] = last;
    G.sess[last].online_idx = i;
}

static int dsl_cause(void) {
    uint64_t u = rb(100);
    return u < 55 ? TC_CARRIER : u < 92 ? TC_USER : TC_IDLE;
}

static int64_t dsl_duration(void) {
    double u = ru();
    if (u < 0.25)
        return 30 + (int64_t)rexpo(2400);
    if (u < 0.70)
        return rr(2 * 3600, 36 * 3600);
    return rr(36 * 3600, 10 * 86400);
}

static void schedule_interim(session *ss, int slot, int64_t t) {
    const nas *n = &G.nas[ss->nas];
    if (!n->interim || t >= ss->end)
        return;
    /* an address change only once the old address has appeared in a record */
    if (ss->change_at == INT64_MAX && ss->records > 0 && rc(0.0005))
        ss->change_at = t;
    ev_push(t * US, EV_INTERIM, slot, ss->gen);
}

/* Opens a session for subscriber SI on NAS NI that started at START (seconds); PRE means
 * it was already open at --start (no Start record).  Returns -1 if the pool is empty. */
static int session_open(int si, int ni, int64_t start, int pre) {
    sub *s = &G.subs[si];
    nas *n = &G.nas[ni];
    if (!n->free4.count)
        return -1;
    int slot = G.free_slots[--G.nfree];
    session *ss = &G.sess[slot];
    uint32_t gen = ss->gen + 1;
    memset(ss, 0, sizeof *ss);
    ss->gen = gen;
    ss->sub = si;
    ss->nas = ni;
    ss->active = 1;
    ss->pool4 = ring_get(&n->free4);
    ss->ip = n->addr4[ss->pool4];
    if (s->v6 && n->v6 && n->free6.count) {
        ss->has6 = 1;
        ss->pool6 = ring_get(&n->free6);
    }
    ss->start = ss->ip_since = start;
    ss->change_at = INT64_MAX;
    int64_t t0s = G.t0 / US;

    user_name_for(s, si, ss->uname);
    if (s->kind == SK_DIAL && rc(0.005))
        for (char *q = ss->uname; *q; q++)
            *q = (char)(*q >= 'a' && *q <= 'z' ? *q - 32 : *q);
    if (s->kind == SK_DIAL && rc(0.03))
        ss->csid[0] = '\0'; /* CLI withheld */
    else
        calling_station(s, n, ss->csid);

    n->sid_counter++;
    switch (n->type) {
    case NT_CISCO:
        sprintf(ss->sid, "%08" PRIX64, n->sid_counter & 0xffffffffu);
        ss->nas_port = 0x03000000u + s->circuit % 0x40000;
        sprintf(ss->portid, "0/0/%u/%u.%u", s->circuit / 4000 % 4, s->circuit / 100 % 48,
                100 + s->circuit % 3900);
        break;
    case NT_JUNIPER:
        sprintf(ss->sid, "%" PRIu64, n->sid_counter);
        ss->nas_port = s->circuit % 4096;
        sprintf(ss->portid, "ge-%u/%u/%u.%u:%u-%u", s->circuit / 8000 % 4, s->circuit / 2000 % 4,
                s->circuit / 500 % 4, 1000 + s->circuit % 3000, 100 + s->circuit % 7,
                1000 + s->circuit % 3000);
        break;
    case NT_HUAWEI:
        sprintf(ss->sid, "%08" PRIX64 "-%08" PRIX64, (uint64_t)start, n->sid_counter);
        ss->nas_port = s->circuit;
        sprintf(ss->portid, "slot=%u;subslot=0;port=%u;vlanid=%u;vlanid2=%u;",
                s->circuit / 4000 % 8, s->circuit / 1000 % 4, 100 + s->circuit % 1000,
                200 + s->circuit % 3000);
        break;
    default: {
        static const char *const mod[] = {"V90/V42bis/LAPM", "V34+/V42bis/LAPM", "V90/V44/LAPM"};
        sprintf(ss->sid, "%08" PRIX64, n->sid_counter & 0xffffffffu);
        ss->nas_port = 100 * (1 + ss->pool4 / 24) + ss->pool4 % 24;
        sprintf(ss->portid, "Async%u/%02u", 1 + ss->pool4 / 24, ss->pool4 % 24);
        sprintf(ss->connect_info, "%d/%d %s", (int)rr(40, 53) * 1000, (int)rr(24, 33) * 1200,
                mod[rb(3)]);
    }
    }
    char key[256], nip[16];
    ip4_str(n->ip, nip);
    snprintf(key, sizeof key, "%s,%s,%s,%s,%s,%u", ss->uname, ss->sid, nip, n->ident, ss->portid,
             ss->nas_port);
    md5_hex(key, ss->uid);

    if (s->kind == SK_DSL) {
        ss->rate_in = rr(200, 20000);
        ss->rate_out = ss->rate_in * (3 + 12 * ru());
    } else {
        ss->rate_in = rr(100, 800);
        ss->rate_out = rr(500, 5000);
    }

    /* planned end */
    int64_t from = pre ? t0s : start;
    if (s->kind == SK_DSL) {
        ss->end = from + dsl_duration();
        ss->cause = dsl_cause();
    } else {
        int64_t d = pre ? rr(60, 3000) : (int64_t)rlognorm(900, 1.0) + 30;
        uint64_t u = rb(100);
        ss->cause = u < 60 ? TC_USER : u < 85 ? TC_IDLE : TC_CARRIER;
        if (ss->cause == TC_IDLE)
            d += 1200;
        ss->end = from + d;
    }
    if (n->sess_timeout && ss->end >= start + n->sess_timeout) {
        ss->end = start + n->sess_timeout;
        ss->cause = TC_SESSTO;
    }
    cgn_alloc(ss, start);
    ev_push(ss->end * US, EV_STOP, slot, ss->gen);
    if (n->interim) {
        int64_t first = pre ? t0s + rr(1, n->interim) : start + n->interim + rr(-5, 5);
        schedule_interim(ss, slot, first);
    }
    online_add(slot);
    s->sess = slot;
    if (!pre) {
        G.st.sessions_new++;
        radius_emit(n, ss, RS_START, start, 0);
    } else
        G.st.preexisting++;
    return slot;
}

static void session_free(int slot) {
    session *ss = &G.sess[slot];
    nas *n = &G.nas[ss->nas];
    ring_put(&n->free4, ss->pool4);
    if (ss->has6)
        ring_put(&n->free6, ss->pool6);
    online_del(slot);
    G.subs[ss->sub].sess = -1;
    ss->active = 0;
    ss->gen++;
    G.free_slots[G.nfree++] = slot;
}

static int64_t dial_offline(int64_t t) {
    int64_t next = t + 60 + (int64_t)rexpo(5 * 3600);
    int h = local_hour(next);
    if (h >= 1 && h < 7 && rc(0.8))
        next += (7 - h) * 3600 + rr(0, 2 * 3600);
    return next;
}

static void sub_reconnect(int si, int64_t t, int cause) {
    int64_t d;
    if (G.subs[si].kind == SK_DIAL) {
        ev_push(dial_offline(t) * US, EV_CONNECT, si, 0);
        return;
    }
    switch (cause) {
    case TC_CARRIER:
        d = rc(0.8) ? rr(3, 120) : rr(600, 6 * 3600);
        break;
    case TC_USER:
        d = rc(0.9) ? rr(40, 300) : rr(3600, 10 * 3600);
        break;
    case TC_IDLE:
        d = rr(60, 3600);
        break;
    default:
        d = rr(1, 5);
    }
    ev_push((t + d) * US, EV_CONNECT, si, 0);
}

static void on_connect(int si, int64_t t) {
    sub *s = &G.subs[si];
    if (s->sess >= 0)
        return;
    if (s->kind == SK_DSL) {
        nas *n = &G.nas[s->home];
        if (n->down) {
            ev_push((n->up_at + rr(5, 900)) * US, EV_CONNECT, si, 0);
            return;
        }
        if (session_open(si, s->home, t, 0) < 0) {
            G.st.pool_full++;
            ev_push((t + rr(30, 300)) * US, EV_CONNECT, si, 0);
        }
        return;
    }
    int first = G.ndsl_nas + (int)rb(2);
    for (int k = 0; k < 2; k++) {
        int ni = G.ndsl_nas + (first - G.ndsl_nas + k) % 2;
        if (!G.nas[ni].down && session_open(si, ni, t, 0) >= 0)
            return;
    }
    G.st.pool_full++;
    ev_push((t + rr(60, 600)) * US, EV_CONNECT, si, 0);
}

static void on_interim(int slot, uint32_t gen, int64_t t) {
    session *ss = &G.sess[slot];
    if (!ss->active || ss->gen != gen)
        return;
    nas *n = &G.nas[ss->nas];
    if (ss->change_at == t && n->free4.count) {
        truth_close(ss, t, "Address-Change", 1);
        cgn_release(ss, t);
        uint32_t old = ss->pool4;
        ss->pool4 = ring_get(&n->free4);
        ring_put(&n->free4, old);
        ss->ip = n->addr4[ss->pool4];
        ss->ip_since = t;
        cgn_alloc(ss, t);
        G.st.ip_changes++;
    }
    if (ss->change_at <= t)
        ss->change_at = INT64_MAX - 1; /* at most one change per session */
    radius_emit(n, ss, RS_INTERIM, t, 0);
    schedule_interim(ss, slot, t + n->interim + rr(-5, 5));
}

static void on_stop(int slot, uint32_t gen, int64_t t) {
    session *ss = &G.sess[slot];
    if (!ss->active || ss->gen != gen)
        return;
    radius_emit(&G.nas[ss->nas], ss, RS_STOP, t, ss->cause);
    truth_close(ss, t, TERM_CAUSE[ss->cause], 0);
    cgn_release(ss, t);
    int si = ss->sub, cause = ss->cause;
    session_free(slot);
    sub_reconnect(si, t, cause);
}

static void on_acct_off(int ni, int64_t t) {
    nas *n = &G.nas[ni];
    radius_emit(n, NULL, RS_OFF, t, TC_REBOOT);
    n->down = 1;
    n->up_at = t + rr(120, 300);
    for (int i = G.nonline - 1; i >= 0; i--) {
        int slot = G.online[i];
        session *ss = &G.sess[slot];
        if (ss->nas != ni)
            continue;
        truth_close(ss, t, "NAS-Reboot", 0);
        cgn_release(ss, t);
        int si = ss->sub;
        session_free(slot);
        G.st.reboot_closed++;
        ev_push((n->up_at + rr(5, 900)) * US, EV_CONNECT, si, 0);
    }
    ev_push(n->up_at * US, EV_ACCT_ON, ni, 0);
}

static void on_acct_on(int ni, int64_t t) {
    nas *n = &G.nas[ni];
    n->down = 0;
    if (n->type == NT_CISCO || n->type == NT_DIAL)
        n->sid_counter = 0;
    radius_emit(n, NULL, RS_ON, t, 0);
}

/* ------------------------------------------------------------------ ISP set-up */

static void setup_isp(void) {
    int n = G.nsubs;
    G.ndsl_nas = (int)ceil(n * 0.85 / 4000.0);
    if (G.ndsl_nas < 3)
        G.ndsl_nas = 3;
    if (G.ndsl_nas > 10)
        G.ndsl_nas = 10;
    G.nnas = G.ndsl_nas + 2;
    G.nas = arena_zalloc(&G.ar, (size_t)G.nnas * sizeof *G.nas);
    static const char *const city[] = {"lon", "man", "gla", "bir", "lds", "bri",
                                       "edi", "car", "bel", "nwc", "shf", "not"};
    static const int cycle[] = {NT_CISCO, NT_JUNIPER, NT_HUAWEI, NT_CISCO, NT_JUNIPER, NT_HUAWEI};
    static const int interim[] = {600, 900, 0, 300, 600, 0};
    for (int i = 0; i < G.nnas; i++) {
        nas *x = &G.nas[i];
        if (i < G.ndsl_nas) {
            x->type = cycle[i % 6];
            x->interim = interim[i % 6];
            x->event_ts = x->type != NT_HUAWEI;
            x->sess_timeout = x->type == NT_JUNIPER ? 48 * 3600 : 0;
            x->v6 = 1;
            snprintf(x->city, sizeof x->city, "%s", city[i % 12]);
            snprintf(x->ident, sizeof x->ident, "bng%d-%s", i + 1, x->city);
            x->ip = ip4(198, 51, 100, 1 + i);
            x->sid_counter =
                x->type == NT_JUNIPER ? 100000000 + rb(50000000) : 0x10000000 + rb(0x30000000);
            x->cgn = G.cgn_on && i > 0 ? i - 1 : -1;
        } else {
            int k = i - G.ndsl_nas;
            x->type = NT_DIAL;
            x->interim = k ? 900 : 0;
            x->event_ts = k;
            x->sess_timeout = 4 * 3600;
            x->phone_spaced = !k;
            snprintf(x->city, sizeof x->city, "%s", k ? "bir" : "lon");
            snprintf(x->ident, sizeof x->ident, "ras%d-%s", k + 1, x->city);
            x->ip = ip4(198, 51, 100, 101 + k);
            x->sid_counter = rb(0x10000000);
            x->cgn = -1;
        }
    }
    G.reboot_nas = 0;

    G.subs = mem_zalloc((size_t)n * sizeof *G.subs);
    int ndial = 0;
    for (int i = 0; i < n; i++) {
        sub *s = &G.subs[i];
        s->sess = -1;
        s->kind = rc(0.15) ? SK_DIAL : SK_DSL;
        if (s->kind == SK_DSL) {
            /* unequal NAS sizes */
            double w = 0, tot = 0;
            for (int k = 0; k < G.ndsl_nas; k++)
                tot += 1.0 / (1 + 0.3 * k);
            double u = ru() * tot;
            int k = 0;
            for (; k < G.ndsl_nas - 1; k++) {
                w += 1.0 / (1 + 0.3 * k);
                if (u < w)
                    break;
            }
            s->home = (int16_t)k;
            G.nas[k].nsubs++;
            s->v6 = rc(0.7);
            s->dsl_name = rc(0.5);
        } else {
            s->phone = (uint32_t)ndial++ * 7919u % 16000u;
            G.nas[G.ndsl_nas + (ndial & 1)].nsubs++;
        }
        s->circuit = (uint32_t)rb(1u << 20);
        for (int k = 0; k < 6; k++)
            s->mac[k] = (uint8_t)rb(256);
        s->mac[0] &= 0xfc;
        make_helo(s);
    }

    /* pools: DSL fits everyone homed plus a little; dial-in about the busy-hour peak */
    uint32_t next = ip4(198, 18, 0, 0), next64 = ip4(100, 64, 0, 0), nextpub = ip4(198, 19, 240, 1);
    if (G.cgn_on) {
        G.ncgn = G.ndsl_nas - 1;
        G.cgns = arena_zalloc(&G.ar, (size_t)G.ncgn * sizeof *G.cgns);
    }
    for (int i = 0; i < G.nnas; i++) {
        nas *x = &G.nas[i];
        uint32_t save = next;
        if (x->cgn >= 0) { /* inside addresses: RFC 6598 shared space */
            save = next;
            next = next64;
        }
        uint32_t size = x->type == NT_DIAL ? (uint32_t)ceil(0.15 * x->nsubs) + 3
                                           : (uint32_t)x->nsubs + 1 + (uint32_t)x->nsubs / 200;
        x->addr4 = arena_alloc(&G.ar, size * sizeof *x->addr4);
        ring_init(&x->free4, size);
        uint32_t *perm = mem_alloc(size * sizeof *perm);
        for (uint32_t k = 0; k < size; k++) {
            while ((next & 255) == 0 || (next & 255) == 255)
                next++;
            x->addr4[k] = next++;
            perm[k] = k;
        }
        for (uint32_t k = size; k > 1; k--) {
            uint32_t j = (uint32_t)rb(k), tmp = perm[k - 1];
            perm[k - 1] = perm[j];
            perm[j] = tmp;
        }
        for (uint32_t k = 0; k < size; k++)
            ring_put(&x->free4, perm[k]);
        free(perm);
        next = (next + 255) & ~255u; /* next pool on a fresh /24 */
        if (x->cgn >= 0) {
            next64 = next;
            next = save;
            cgn *c = &G.cgns[x->cgn];
            snprintf(c->name, sizeof c->name, "cgn%d", i + 1);
            c->vendor = x->cgn % 3;
            c->npub = size / CGN_BLOCKS_PER_ADDR + 2;
            c->pub0 = nextpub;
            nextpub += c->npub;
            ring_init(&c->free, c->npub * CGN_BLOCKS_PER_ADDR);
            for (uint32_t k = 0; k < c->npub * CGN_BLOCKS_PER_ADDR; k++)
                ring_put(&c->free, (k * 7919u) % (c->npub * CGN_BLOCKS_PER_ADDR));
        }
        if (x->v6) {
            ring_init(&x->free6, size);
            for (uint32_t k = 0; k < size; k++)
                ring_put(&x->free6, (k * 40503u + 17) & 0xffff);
        } else
            ring_init(&x->free6, 0);
    }
    if (next > ip4(198, 19, G.cgn_on ? 239 : 255, 255))
        die("address pools overflow 198.18.0.0/15");
    if (nextpub > ip4(198, 19, 255, 255))
        die("CGN public pools overflow 198.19.240.0/20");

    G.sess = mem_zalloc((size_t)(n + 8) * sizeof *G.sess);
    G.free_slots = mem_alloc((size_t)(n + 8) * sizeof *G.free_slots);
    G.online = mem_alloc((size_t)(n + 8) * sizeof *G.online);
    for (int i = n + 7; i >= 0; i--)
        G.free_slots[G.nfree++] = i;

    /* state at --start */
    int64_t t0 = G.t0 / US;
    double dial_p = 0.01 + 0.05 * DAY_CURVE[local_hour(t0)];
    for (int i = 0; i < n; i++) {
        sub *s = &G.subs[i];
        if (s->kind == SK_DSL) {
            nas *x = &G.nas[s->home];
            if (rc(0.985)) {
                int64_t age;
                if (x->sess_timeout)
                    age = rr(60, x->sess_timeout - 60);
                else {
                    double u = ru();
                    age = u < 0.35   ? rr(60, 12 * 3600)
                          : u < 0.80 ? rr(12 * 3600, 5 * 86400)
                                     : rr(5 * 86400, 30 * 86400);
                }
                if (session_open(i, s->home, t0 - age, 1) >= 0)
                    continue;
            }
            ev_push((t0 + rr(10, 6 * 3600)) * US, EV_CONNECT, i, 0);
        } else {
            int ni = G.ndsl_nas + (int)rb(2);
            if (rc(dial_p) && session_open(i, ni, t0 - rr(60, 3600), 1) >= 0)
                continue;
            ev_push(dial_offline(t0) * US, EV_CONNECT, i, 0);
        }
    }
}

/* ------------------------------------------------------------------ mail: common */

typedef struct mx {
    const char *dom, *host, *ip;
    int resp; /* 0 Postfix, 1 Exim, 2 Google-like, 3 Exchange-like */
    int tls;
} mx;

static const mx MXS[] = {
    {"example.com", "mx1.example.com", "203.0.113.10", 0, 1},
    {"example.net", "mail.example.net", "203.0.113.20", 1, 1},
    {"example.org", "aspmx.example.org", "203.0.113.30", 2, 1},
    {"mail.example", "mx.mail.example", "203.0.113.40", 3, 1},
    {"shop.example", "mx0.shop.example", "203.0.113.50", 0, 0},
    {"club.example", "smtp.club.example", "203.0.113.60", 1, 0},
    {ISP_DOMAIN, "mailstore.isp.example", "198.51.100.40", 0, 0},
};
#define NMX ((int)(sizeof MXS / sizeof MXS[0]))

static const char *const NAMES[] = {
    "alice", "bob",  "carol",  "dave",  "erin",   "frank", "grace", "heidi",  "ivan",   "judy",
    "mike",  "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yasmin"};

typedef struct rcpt {
    char addr[64];
    int mx;
} rcpt;

typedef struct msg {
    int64_t t; /* connect, microseconds */
    char ip[64];
    int v6, port, ext;
    char name[72]; /* PTR name or "unknown" */
    const char *helo;
    char sasl[48], from[64];
    int login; /* AUTH LOGIN instead of PLAIN */
    rcpt r[5];
    int nr, size;
    char mid[112];
    int mid_state; /* 0 normal, 1 missing */
    const char *uname, *csid;
} msg;

static void gen_msgid(msg *m, const char *helo, int64_t t) {
    char a[26], b[14], c[14];
    switch (rb(7)) {
    case 0: /* Thunderbird */
        rand_chars(a, 8, "0123456789abcdef");
        rand_chars(b, 4, "0123456789abcdef");
        rand_chars(c, 12, "0123456789abcdef");
        snprintf(m->mid, sizeof m->mid, "%s-%s-4%03x-a%03x-%s@" ISP_DOMAIN, a, b,
                 (unsigned)rb(4096), (unsigned)rb(4096), c);
        break;
    case 1: /* Outlook */
        rand_chars(a, 8, "0123456789abcdef");
        rand_chars(b, 8, "0123456789abcdef");
        rand_chars(c, 8, "0123456789abcdef");
        snprintf(m->mid, sizeof m->mid, "000001da%s$%s$%s$@" ISP_DOMAIN, a, b, c);
        break;
    case 2: /* Apple Mail */
        rand_chars(a, 8, "0123456789ABCDEF");
        rand_chars(b, 12, "0123456789ABCDEF");
        snprintf(m->mid, sizeof m->mid, "%s-%04X-%04X-%04X-%s@" ISP_DOMAIN, a, (unsigned)rb(65536),
                 (unsigned)rb(65536), (unsigned)rb(65536), b);
        break;
    case 3: /* Android */
        rand_chars(a, 24, "0123456789abcdefghijklmnopqrstuvwxyz");
        snprintf(m->mid, sizeof m->mid, "%s@email.android.com", a);
        break;
    case 4: { /* a script on the PC: host part in mixed case */
        timeutil_civil cv;
        timeutil_utc_to_civil(t, &cv);
        const char *h = helo[0] != '[' ? helo : "localhost.localdomain";
        snprintf(m->mid, sizeof m->mid, "%04d%02d%02d%02d%02d%02d.%05d@%s", cv.year, cv.month,
                 cv.day, cv.hour, cv.minute, cv.second, (int)rr(1000, 99999), h);
        break;
    }
    case 5: /* upper-case domain */
        rand_chars(a, 16, "0123456789abcdefghijklmnopqrstuvwxyz");
        snprintf(m->mid, sizeof m->mid, "%s@ISP.Example", a);
        break;
    default: /* JavaMail-style webmail */
        snprintf(m->mid, sizeof m->mid, "%u.%u.%" PRId64 ".JavaMail.www@webmail." ISP_DOMAIN,
                 (unsigned)rr(100000000, 999999999), (unsigned)rr(1, 99), t / 1000);
    }
}

static int pick_mx(void) {
    uint64_t u = rb(100);
    if (u < 15)
        return NMX - 1; /* local */
    return (int)rb((uint64_t)NMX - 1);
}

/* Fills the client side of a message at time T (microseconds): a subscriber's address
 * then, or a client outside the ISP.  Returns 0 if it found none. */
static int pick_client(msg *m, int64_t t, int for_mail) {
    int64_t ts = t / US;
    const session *ss = NULL;
    m->ext = rc(0.03) || !G.nonline;
    for (int k = 0; !m->ext && k < 8; k++) {
        const session *c = &G.sess[G.online[rb((uint64_t)G.nonline)]];
        if (c->ip_since + 3 <= ts && ts + 15 < c->end && ts + 15 < c->change_at) {
            ss = c;
            break;
        }
    }
    if (!ss)
        m->ext = 1;
    const sub *s = ss ? &G.subs[ss->sub] : &G.subs[rb((uint64_t)G.nsubs)];
    int si = ss ? ss->sub : (int)(s - G.subs);
    m->helo = s->helo;
    m->port = s->os == 2 ? (int)rr(32768, 60999) : (int)rr(49152, 65535);
    m->uname = ss ? ss->uname : "";
    m->csid = ss ? ss->csid : "";
    if (ss) {
        if (ss->has6 && rc(0.15)) {
            uint8_t a[16];
            v6_delegated(ss->sub, a);
            a[7] = (uint8_t)rb(4);
            for (int k = 8; k < 16; k++)
                a[k] = (uint8_t)rb(256);
            ip6_str(a, m->ip, sizeof m->ip);
            m->v6 = 1;
            snprintf(m->name, sizeof m->name, "unknown");
        } else if (ss->block >= 0) { /* behind the CGN: its public address, a port of the block */
            uint32_t pub;
            int lo, hi;
            cgn_block(&G.cgns[G.nas[ss->nas].cgn], ss->block, &pub, &lo, &hi);
            ip4_str(pub, m->ip);
            m->port = lo + (int)rb(CGN_BLOCK);
            snprintf(m->name, sizeof m->name, "unknown");
            G.cgn_msgs += for_mail;
        } else {
            ip4_str(ss->ip, m->ip);
            if (G.nas[ss->nas].type == NT_DIAL)
                snprintf(m->name, sizeof m->name, "unknown");
            else
                snprintf(m->name, sizeof m->name, "host-%u-%u-%u-%u.dsl." ISP_DOMAIN, ss->ip >> 24,
                         ss->ip >> 16 & 255, ss->ip >> 8 & 255, ss->ip & 255);
        }
    } else {
        if (rc(0.1)) {
            sprintf(m->ip, "2001:db8:ffff:%x::%x", (unsigned)rb(65536), (unsigned)rr(1, 65535));
            m->v6 = 1;
        } else
            sprintf(m->ip, "192.0.2.%d", (int)rr(1, 254));
        snprintf(m->name, sizeof m->name, "unknown");
    }
    if (for_mail) {
        if (rc(0.05) && !m->ext) {
            account_name((int)rb((uint64_t)G.nsubs), m->sasl);
            G.st.other_sasl++;
        } else
            account_name(si, m->sasl);
    }
    return 1;
}

static void make_message(msg *m, int64_t t) {
    memset(m, 0, sizeof *m);
    m->t = t;
    pick_client(m, t, 1);
    m->login = rc(0.3);
    if (rc(0.1))
        sprintf(m->from, "%s.%s%d@" ISP_DOMAIN, NAMES[rb(20)], NAMES[rb(20)], (int)rr(1, 99));
    else
        sprintf(m->from, "%s", m->sasl);
    m->nr = rc(0.75) ? 1 : (int)rr(2, 5);
    for (int i = 0; i < m->nr; i++) {
        m->r[i].mx = pick_mx();
        if (m->r[i].mx == NMX - 1)
            sprintf(m->r[i].addr, "u%06d@" ISP_DOMAIN, (int)rr(1, G.nsubs));
        else
            sprintf(m->r[i].addr, "%s%d@%s", NAMES[rb(20)], (int)rr(1, 999), MXS[m->r[i].mx].dom);
    }
    m->size = (int)rlognorm(4000, 1.3) + 600;
    if (m->size > 20000000)
        m->size = 20000000;
    if (rc(0.005)) {
        m->mid_state = 1;
        G.st.msgid_missing++;
    } else if (G.nrecent_mid && rc(0.003)) {
        snprintf(m->mid, sizeof m->mid, "%s", G.recent_mid[rb((uint64_t)G.nrecent_mid)]);
        G.st.msgid_dup++;
    } else {
        gen_msgid(m, m->helo, t);
        memcpy(G.recent_mid[G.nrecent_mid < 16 ? G.nrecent_mid++ : (int)rb(16)], m->mid,
               sizeof m->mid);
    }
    if (m->v6)
        G.st.ipv6_msgs++;
    if (m->ext)
        G.st.external_msgs++;
    G.st.rcpts += (uint64_t)m->nr;
}

static void truth_mail(const msg *m, const char *host, const char *qids, int64_t t) {
    char ts[TIMEUTIL_RFC3339_MAX];
    fprintf(G.t_mail, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", m->mid, host, qids,
            rfc3339(t / US, ts), m->ip, m->port, m->sasl, m->uname, m->csid);
}

static int proc_claim(procpool *pp, int64_t from, int64_t until, int cap) {
    int start = pp->n ? (int)rb((uint64_t)pp->n) : 0;
    for (int k = 0; k < pp->n; k++) {
        proc *p = &pp->p[(start + k) % pp->n];
        if (p->busy <= from) {
            p->busy = until;
            p->count++;
            return p->pid;
        }
    }
    if (pp->n < cap && pp->n < 48) {
        proc *p = &pp->p[pp->n++];
        p->pid = (int)rr(1000, 99999);
        p->busy = until;
        p->count = 1;
        return p->pid;
    }
    proc *p = &pp->p[start];
    p->busy = until;
    p->count++;
    return p->pid;
}

static int proc_any(procpool *pp, int cap) {
    if (pp->n < cap) {
        proc *p = &pp->p[pp->n++];
        p->pid = (int)rr(1000, 99999);
        return p->pid;
    }
    return pp->p[rb((uint64_t)pp->n)].pid;
}

/* ------------------------------------------------------------------ Postfix */

static void ml(const mta *h, int64_t t, const char *tag, int pid, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void ml(const mta *h, int64_t t, const char *tag, int pid, const char *fmt, ...) {
    char buf[4096];
    char *p = put_syslog_ts(buf, t / US);
    *p++ = ' ';
    p = put(p, h->name);
    *p++ = ' ';
    p = put(p, tag);
    *p++ = '[';
    p = put_u64(p, (uint64_t)pid);
    p = put(p, "]: ");
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(p, sizeof buf - (size_t)(p - buf) - 2, fmt, ap);
    va_end(ap);
    if (n < 0)
        die("vsnprintf failed");
    size_t room = sizeof buf - (size_t)(p - buf) - 2;
    p += (size_t)n < room ? (size_t)n : room - 1;
    *p++ = '\n';
    item_push(F_MAILLOG, t, buf, (size_t)(p - buf));
}

static void pf_qid(const mta *h, int64_t t, char *out) {
    uint64_t inode = (uint64_t)rr(0x20000, 0x3fffff);
    int64_t sec = t / US, usec = t % US;
    char *p = out;
    if (h->long_ids) {
        p = put_base(p, (uint64_t)sec, SAFE52, 52, 6);
        p = put_base(p, (uint64_t)usec, SAFE52, 52, 4);
        *p++ = 'z';
        p = put_base(p, inode, SAFE52, 51, 0);
        *p = '\0';
    } else
        sprintf(out, "%05X%" PRIX64, (unsigned)usec, inode);
}

/* Postfix delay formatting: 0, 0.xx, x.x, or whole seconds. */
static char *pf_dt(double x, char *buf) {
    if (x < 0.01)
        return strcpy(buf, "0");
    if (x < 1)
        sprintf(buf, "%.2f", x);
    else if (x < 10)
        sprintf(buf, "%.1f", x);
    else {
        sprintf(buf, "%.0f", x);
        return buf;
    }
    size_t n = strlen(buf);
    while (buf[n - 1] == '0')
        buf[--n] = '\0';
    if (buf[n - 1] == '.')
        buf[--n] = '\0';
    return buf;
}

static void exim_id(int64_t t, int pid, char *out);

static void remote_reply(const mx *x, int64_t t, const char *mid, char *out, size_t len) {
    char id[40];
    switch (x->resp) {
    case 0:
        rand_chars(id, 11, "0123456789ABCDEF");
        snprintf(out, len, "250 2.0.0 Ok: queued as %s", id);
        break;
    case 1:
        exim_id(t - rr(0, 900000), (int)rr(2000, 4000000), id);
        snprintf(out, len, "250 OK id=%s", id);
        break;
    case 2:
        rand_chars(id, 13, "abcdefghijklmnopqrstuvwxyz0123456789");
        snprintf(out, len, "250 2.0.0 OK  %" PRId64 " %s.%d - gsmtp", (int64_t)(t / US), id,
                 (int)rr(10, 999));
        break;
    default:
        snprintf(out, len,
                 "250 2.6.0 <%s> [InternalId=%" PRIu64 ", Hostname=EX%02d.mail.example] "
                 "Queued mail for delivery",
                 mid[0] ? mid : "unknown@mail.example", rb(1000000000000ULL), (int)rr(1, 9));
    }
}

/* Final delivery of queue file QID that arrived at ARR and became active at ACT.
 * Returns the time of the last line ("removed"). */
static int64_t pf_deliver(mta *h, const char *qid, const msg *m, int size, int64_t arr,
                          int64_t act) {
    int done[5] = {0};
    int64_t last = act, retry = 0;
    int deferred_any = 0;
    char d0[16], d1[16], d2[16], d3[16], d4[16], reply[256];
    for (int pass = 0; pass < 2; pass++) {
        int64_t base = pass ? retry : act;
        if (pass) {
            if (!deferred_any)
                break;
            ml(h, retry, "postfix/qmgr", h->qmgr_pid,
               "%s: from=<%s>, size=%d, nrcpt=%d (queue active)", qid, m->from, size, m->nr);
        }
        for (int i = 0; i < m->nr; i++) {
            if (done[i])
                continue;
            const mx *x = &MXS[m->r[i].mx];
            int pid = proc_any(&h->smtp, 24);
            double b = 0.001 * (double)rr(0, 12), c = 0.01 * (double)rr(2, 60),
                   d = 0.01 * (double)rr(3, 80) + (double)size / 4e6;
            int defer = !pass && m->r[i].mx != NMX - 1 && rc(0.03);
            /* the rest of this domain's recipients go in the same session */
            int64_t tl = base + (int64_t)((b + c + d) * US) + (int64_t)i * rr(100, 3000);
            for (int j = i; j < m->nr; j++) {
                if (done[j] || m->r[j].mx != m->r[i].mx)
                    continue;
                double a = (double)(act - arr) / US;
                double total = (double)(tl - arr) / US;
                double dd = total - a - b - c;
                if (pass)
                    a = total - b - c - d, dd = d;
                if (defer)
                    ml(h, tl, "postfix/smtp", pid,
                       "%s: to=<%s>, relay=%s[%s]:25, delay=%s, delays=%s/%s/%s/%s, dsn=4.2.0, "
                       "status=deferred (host %s[%s] said: 450 4.2.0 <%s>: Recipient address "
                       "rejected: Greylisted, see http://postgrey.%s/ (in reply to RCPT TO "
                       "command))",
                       qid, m->r[j].addr, x->host, x->ip, pf_dt(total, d0), pf_dt(a, d1),
                       pf_dt(b, d2), pf_dt(c, d3), pf_dt(dd, d4), x->host, x->ip, m->r[j].addr,
                       x->dom);
                else {
                    remote_reply(x, tl, m->mid, reply, sizeof reply);
                    ml(h, tl, "postfix/smtp", pid,
                       "%s: to=<%s>, relay=%s[%s]:25, delay=%s, delays=%s/%s/%s/%s, dsn=2.0.0, "
                       "status=sent (%s)",
                       qid, m->r[j].addr, x->host, x->ip, pf_dt(total, d0), pf_dt(a, d1),
                       pf_dt(b, d2), pf_dt(c, d3), pf_dt(dd, d4), reply);
                    done[j] = 1;
                }
                if (tl > last)
                    last = tl;
                tl += rr(1000, 20000);
            }
            if (defer) {
                deferred_any = 1;
                G.st.deferred++;
                if (!retry)
                    retry = tl + rr(300, 900) * US;
                for (int j = i; j < m->nr; j++)
                    if (m->r[j].mx == m->r[i].mx)
                        done[j] = -1; /* deferred this pass */
            }
        }
        for (int i = 0; i < m->nr; i++)
            if (done[i] < 0)
                done[i] = 0;
    }
    last += rr(200, 20000);
    ml(h, last, "postfix/qmgr", h->qmgr_pid, "%s: removed", qid);
    return last;
}

static void postfix_message(int hi, msg *m) {
    mta *h = &G.mta[hi];
    char qid[32], nid[32], qids[80], mid_log[128], names[160];
    int64_t t = m->t;
    int64_t t_tls = t + rr(40000, 400000);
    int64_t t_cl = t_tls + rr(300000, 2500000);
    int64_t t_cu = t_cl + rr(30000, 1500000) + (int64_t)m->size * 2;
    int64_t t_qa = t_cu + rr(1000, 50000);
    int64_t t_dc = t_qa + rr(10000, 300000);
    int pid = proc_claim(&h->smtpd, t, t_dc, 40);
    int cln = proc_any(&h->cleanup, 4);
    snprintf(names, sizeof names, "%s[%s]:%d", m->name, m->ip, m->port);
    pf_qid(h, t_cl, qid);

    if (m->mid_state == 1 && h->add_msgid) {
        timeutil_civil cv;
        timeutil_utc_to_civil(t_cl, &cv);
        snprintf(m->mid, sizeof m->mid, "%04d%02d%02d%02d%02d%02d.%s@%s", cv.year, cv.month, cv.day,
                 cv.hour, cv.minute, cv.second, qid, h->fqdn);
    }
    snprintf(mid_log, sizeof mid_log, "<%s>", m->mid);

    ml(h, t, "postfix/submission/smtpd", pid, "connect from %s", names);
    ml(h, t_tls, "postfix/submission/smtpd", pid,
       "Anonymous TLS connection established from %s: TLSv1.3 with cipher "
       "TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS "
       "(2048 bits) server-digest SHA256",
       names);
    ml(h, t_cl, "postfix/submission/smtpd", pid, "%s: client=%s, sasl_method=%s, sasl_username=%s",
       qid, names, m->login ? "LOGIN" : "PLAIN", m->sasl);
    ml(h, t_cu, "postfix/cleanup", cln, "%s: message-id=%s", qid, mid_log);
    ml(h, t_qa, "postfix/qmgr", h->qmgr_pid, "%s: from=<%s>, size=%d, nrcpt=%d (queue active)", qid,
       m->from, m->size, m->nr);
    ml(h, t_dc, "postfix/submission/smtpd", pid,
       "disconnect from %s ehlo=2 starttls=1 auth=1 mail=1 rcpt=%d data=1 quit=1 commands=%d",
       names, m->nr, 7 + m->nr);
    h->last_conn = t;
    snprintf(h->last_ip, sizeof h->last_ip, "%s", m->ip);
    h->anvil_count++;

    if (rc(0.3)) { /* through amavis */
        G.st.amavis++;
        int64_t t_s0 = t_qa + rr(5000, 100000);
        double proc_s = 0.3 + 3.5 * ru();
        int64_t t_r = t_s0 + (int64_t)(proc_s * 0.8 * US);
        int64_t t_ncl = t_r + rr(1000, 10000);
        int64_t t_ncu = t_ncl + rr(2000, 20000);
        int64_t t_nqa = t_ncu + rr(1000, 10000);
        int64_t t_ndc = t_nqa + rr(10000, 50000);
        int64_t t_fwd = t_ndc + rr(500, 5000);
        int64_t t_pass = t_fwd + rr(500, 5000);
        int64_t t_sent = t_pass + rr(1000, 8000);
        int lport = (int)rr(32768, 60999);
        int pid2 = proc_claim(&h->smtpd2, t_r, t_ndc, 12);
        char lname[64];
        if (h->local_port_log)
            snprintf(lname, sizeof lname, "localhost[127.0.0.1]:%d", lport);
        else
            snprintf(lname, sizeof lname, "localhost[127.0.0.1]");
        pf_qid(h, t_ncl, nid);
        int nsize = m->size + (int)rr(450, 900);
        ml(h, t_r, h->amavis_smtpd, pid2, "connect from %s", lname);
        ml(h, t_ncl, h->amavis_smtpd, pid2, "%s: client=%s", nid, lname);
        ml(h, t_ncu, "postfix/cleanup", cln, "%s: message-id=%s", nid, mid_log);
        ml(h, t_nqa, "postfix/qmgr", h->qmgr_pid, "%s: from=<%s>, size=%d, nrcpt=%d (queue active)",
           nid, m->from, nsize, m->nr);
        ml(h, t_ndc, h->amavis_smtpd, pid2,
           "disconnect from %s ehlo=1 mail=1 rcpt=%d data=1 quit=1 commands=%d", lname, m->nr,
           4 + m->nr);
        /* amavis child "(PID-NN)": a child serves 20 tasks, then is replaced */
        proc *ap = &h->amavis.p[rb(5)];
        if (!ap->pid || ap->count >= 20) {
            ap->pid = (int)rr(1000, 99999);
            ap->count = 0;
        }
        ap->count++;
        char rlist[400], mailid[16], *rp = rlist;
        for (int i = 0; i < m->nr; i++)
            rp += sprintf(rp, "%s<%s>", i ? "," : "", m->r[i].addr);
        rand_chars(mailid, 12, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-");
        char msgpart[150] = "";
        if (m->mid[0])
            snprintf(msgpart, sizeof msgpart, " Message-ID: <%s>,", m->mid);
        ml(h, t_fwd, "amavis", ap->pid,
           "(%05d-%02d) %s FWD from <%s> -> %s,BODY=7BIT 250 2.0.0 from "
           "MTA(smtp:[127.0.0.1]:10025): "
           "250 2.0.0 Ok: queued as %s",
           ap->pid, ap->count, mailid, m->from, rlist, nid);
        ml(h, t_pass, "amavis", ap->pid,
           "(%05d-%02d) Passed CLEAN {RelayedOutbound}, ORIGINATING LOCAL [%s]:%d [%s] <%s> -> %s, "
           "Queue-ID: %s,%s mail_id: %s, Hits: -, size: %d, queued_as: %s, %d ms",
           ap->pid, ap->count, m->ip, m->port, m->ip, m->from, rlist, qid, msgpart, mailid, m->size,
           nid, (int)(proc_s * 1000));
        int spid = proc_any(&h->smtp, 24);
        char d0[16], d1[16], d2[16], d3[16], d4[16];
        for (int i = 0; i < m->nr; i++) {
            int64_t tl = t_sent + i * rr(100, 1000);
            double total = (double)(tl - t_cl) / US, a = (double)(t_qa - t_cl) / US, b = 0,
                   c = 0.001 * (double)rr(0, 5), d = total - a - b - c;
            ml(h, tl, "postfix/smtp", spid,
               "%s: to=<%s>, relay=127.0.0.1[127.0.0.1]:10024, delay=%s, delays=%s/%s/%s/%s, "
               "dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 "
               "Ok: queued as %s)",
               qid, m->r[i].addr, pf_dt(total, d0), pf_dt(a, d1), pf_dt(b, d2), pf_dt(c, d3),
               pf_dt(d, d4), nid);
        }
        ml(h, t_sent + m->nr * 1000 + rr(200, 5000), "postfix/qmgr", h->qmgr_pid, "%s: removed",
           qid);
        pf_deliver(h, nid, m, nsize, t_ncl, t_nqa);
        snprintf(qids, sizeof qids, "%s,%s", qid, nid);
    } else {
        pf_deliver(h, qid, m, m->size, t_cl, t_qa);
        snprintf(qids, sizeof qids, "%s", qid);
    }
    truth_mail(m, h->name, qids, t_cl);
}

/* ------------------------------------------------------------------ Exim */

static void xl(int64_t t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void xl(int64_t t, const char *fmt, ...) {
    char buf[4096];
    char *p = put_exim_ts(buf, t / US);
    *p++ = ' ';
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(p, sizeof buf - (size_t)(p - buf) - 2, fmt, ap);
    va_end(ap);
    if (n < 0)
        die("vsnprintf failed");
    size_t room = sizeof buf - (size_t)(p - buf) - 2;
    p += (size_t)n < room ? (size_t)n : room - 1;
    *p++ = '\n';
    item_push(F_MAINLOG, t, buf, (size_t)(p - buf));
}

static void exim_id(int64_t t, int pid, char *out) {
    char *p = out;
    p = put_base(p, (uint64_t)(t / US), B62, 62, 6);
    *p++ = '-';
    if (G.exim_new_ids) {
        p = put_base(p, (uint64_t)pid, B62, 62, 11);
        *p++ = '-';
        p = put_base(p, (uint64_t)(t % US), B62, 62, 4);
    } else {
        p = put_base(p, (uint64_t)pid, B62, 62, 6);
        *p++ = '-';
        p = put_base(p, (uint64_t)(t % US / 500), B62, 62, 2);
    }
    *p = '\0';
}

static const char *const SUBJECTS[] = {"Re: Saturday",
                                       "Invoice INV-2026-0412",
                                       "Photos from the weekend",
                                       "Fwd: Quote \"best price\"",
                                       "Meeting notes",
                                       "Re: Re: broadband fault",
                                       "Caf\xc3\xa9 booking",
                                       "Path C:\\Users\\Public",
                                       "",
                                       "Tea at 4?",
                                       "Your order #10442",
                                       "Re: school run"};

/* Exim string_printing() of a subject, quoted and with " and \ escaped. */
static void exim_subject(const char *s, char *out) {
    char *p = out;
    *p++ = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = (char)c;
        } else if (c < 0x20 || c >= 0x7f)
            p += sprintf(p, "\\%03o", c);
        else
            *p++ = (char)c;
    }
    *p++ = '"';
    *p = '\0';
}

static int64_t exim_next_qrun(int64_t t) {
    int64_t k = (t - G.t0 - 7 * US + 1800 * US - 1) / (1800 * US);
    if (k < 0)
        k = 0;
    return G.t0 + 7 * US + k * 1800 * US;
}

static void exim_message(msg *m) {
    char id[40], hpart[200], subj[300] = "", reply[256];
    int pid = (int)rr(2000, 4000000);
    int64_t t_r = m->t + rr(500000, 3000000);
    exim_id(t_r, pid, id);
    if (m->mid_state == 1)
        snprintf(m->mid, sizeof m->mid, "E%s@smtp3." ISP_DOMAIN, id);
    const char *ifc = m->v6 ? "2001:db8:fff0::27" : "198.51.100.27";
    if (strcmp(m->name, "unknown") != 0)
        snprintf(hpart, sizeof hpart, "%s (%s) [%s]:%d", m->name, m->helo, m->ip, m->port);
    else
        snprintf(hpart, sizeof hpart, "(%s) [%s]:%d", m->helo, m->ip, m->port);
    uint64_t si = rb(sizeof SUBJECTS / sizeof SUBJECTS[0] + 1);
    if (si < sizeof SUBJECTS / sizeof SUBJECTS[0]) {
        char e[200];
        exim_subject(SUBJECTS[si], e);
        snprintf(subj, sizeof subj, " T=%s", e);
    }
    char idpart[140] = "";
    if (m->mid[0])
        snprintf(idpart, sizeof idpart, " id=%s", m->mid);
    int tls13 = rc(0.8);
    xl(t_r, "%s <= %s H=%s I=[%s]:587 P=esmtpsa X=%s CV=no A=%s:%s S=%d%s%s", id, m->from, hpart,
       ifc, tls13 ? "TLS1.3:TLS_AES_256_GCM_SHA384:256" : "TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256",
       m->login ? "login" : "plain", m->sasl, m->size, idpart, subj);

    int done[5] = {0};
    int64_t last = t_r, t = t_r + rr(200000, 3000000);
    int64_t retry = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass) {
            int pending = 0;
            for (int i = 0; i < m->nr; i++)
                pending |= !done[i];
            if (!pending)
                break;
            t = retry;
        }
        for (int i = 0; i < m->nr; i++) {
            if (done[i])
                continue;
            const mx *x = &MXS[m->r[i].mx];
            int local = m->r[i].mx == NMX - 1;
            int defer = !pass && !local && rc(0.03);
            char xpart[80] = "";
            if (x->tls)
                snprintf(xpart, sizeof xpart, " X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes");
            const char *router = local ? "mailstore" : "dnslookup";
            int first = 1;
            for (int j = i; j < m->nr; j++) {
                if (done[j] || m->r[j].mx != m->r[i].mx)
                    continue;
                if (defer) {
                    xl(t,
                       "%s == %s R=%s T=remote_smtp defer (-44) H=%s [%s]: SMTP error from "
                       "remote mail server after RCPT TO:<%s>: 451 4.7.1 Greylisting in "
                       "action, please come back later",
                       id, m->r[j].addr, router, x->host, x->ip, m->r[j].addr);
                    done[j] = -1;
                } else {
                    if (first)
                        remote_reply(x, t, m->mid, reply, sizeof reply);
                    xl(t, "%s %s %s R=%s T=remote_smtp H=%s [%s]%s C=\"%s\"", id,
                       first ? "=>" : "->", m->r[j].addr, router, x->host, x->ip, xpart, reply);
                    done[j] = 1;
                }
                first = 0;
                if (t > last)
                    last = t;
                t += rr(1000, 30000);
            }
            if (defer && !retry) {
                G.st.deferred++;
                retry = exim_next_qrun(t + 300 * US) + rr(1, 25) * US;
            }
            t += rr(100000, 2000000);
        }
        for (int i = 0; i < m->nr; i++)
            if (done[i] < 0)
                done[i] = 0;
    }
    xl(last + rr(500, 20000), "%s Completed", id);
    truth_mail(m, "smtp3", id, t_r);
}

/* ------------------------------------------------------------------ mail events */

static void on_mail(int64_t t) {
    msg m;
    make_message(&m, t);
    uint64_t u = rb(100);
    int hi = u < 40 ? 0 : u < 75 ? 1 : 2;
    G.st.msgs[hi]++;
    if (hi < 2)
        postfix_message(hi, &m);
    else
        exim_message(&m);
    double rate = G.mails_per_hour * DAY_CURVE[local_hour(t / US)] / 3600.0 / US;
    ev_push(t + 1 + (int64_t)rexpo(1.0 / rate), EV_MAIL, 0, 0);
}

static void on_noise(int64_t t) {
    msg m;
    memset(&m, 0, sizeof m);
    pick_client(&m, t, 0);
    G.st.noise++;
    int hi = (int)rb(3);
    char rcptaddr[64], names[160];
    sprintf(rcptaddr, "%s%d@example.%s", NAMES[rb(20)], (int)rr(1, 999), rb(2) ? "com" : "net");
    int auth_fail = m.ext ? rc(0.8) : rc(0.2);
    char user[48];
    account_name((int)rb((uint64_t)G.nsubs), user);
    if (hi < 2) {
        mta *h = &G.mta[hi];
        snprintf(names, sizeof names, "%s[%s]:%d", m.name, m.ip, m.port);
        int64_t t1 = t + rr(200000, 2000000), t2 = t1 + rr(10000, 3000000);
        int pid = proc_claim(&h->smtpd, t, t2, 40);
        ml(h, t, "postfix/submission/smtpd", pid, "connect from %s", names);
        if (auth_fail) {
            ml(h, t1, "postfix/submission/smtpd", pid,
               "warning: %s: SASL LOGIN authentication failed: UGFzc3dvcmQ6", names);
            ml(h, t2, "postfix/submission/smtpd", pid, "lost connection after AUTH from %s", names);
            ml(h, t2 + 100, "postfix/submission/smtpd", pid,
               "disconnect from %s ehlo=2 starttls=1 auth=0/1 commands=3/4", names);
        } else {
            ml(h, t1, "postfix/submission/smtpd", pid,
               "NOQUEUE: reject: RCPT from %s: 554 5.7.1 <%s>: Relay access denied; from=<%s> "
               "to=<%s> proto=ESMTP helo=<%s>",
               names, rcptaddr, user, rcptaddr, m.helo);
            ml(h, t2, "postfix/submission/smtpd", pid,
               "disconnect from %s ehlo=2 starttls=1 mail=1 rcpt=0/1 quit=1 commands=5/6", names);
        }
    } else {
        const char *ifc = m.v6 ? "2001:db8:fff0::27" : "198.51.100.27";
        if (auth_fail)
            xl(t,
               "%s authenticator failed for (%s) [%s]:%d I=[%s]:587: 535 Incorrect "
               "authentication data (set_id=%s)",
               rc(0.5) ? "login" : "plain", m.helo, m.ip, m.port, ifc, user);
        else
            xl(t, "H=(%s) [%s]:%d I=[%s]:587 F=<%s> rejected RCPT <%s>: relay not permitted",
               m.helo, m.ip, m.port, ifc, user, rcptaddr);
    }
    double rate = (G.mails_per_hour * 0.03 + 2) / 3600.0 / US;
    ev_push(t + 1 + (int64_t)rexpo(1.0 / rate), EV_NOISE, 0, 0);
}

static void on_anvil(int hi, int64_t t) {
    mta *h = &G.mta[hi];
    if (h->anvil_count && h->last_conn > t - 600 * US) {
        char at[32];
        *put_syslog_ts(at, h->last_conn / US) = '\0';
        ml(h, t, "postfix/anvil", h->anvil_pid,
           "statistics: max connection rate %d/60s for (submission:%s) at %s", 1 + (int)rb(3),
           h->last_ip, at);
        ml(h, t, "postfix/anvil", h->anvil_pid,
           "statistics: max connection count 1 for (submission:%s) at %s", h->last_ip, at);
        ml(h, t, "postfix/anvil", h->anvil_pid, "statistics: max cache size %d at %s",
           1 + h->anvil_count / 4, at);
    }
    h->anvil_count = 0;
    ev_push(t + 600 * US, EV_ANVIL, hi, 0);
}

static void on_qrun(int64_t t) {
    int pid = (int)rr(2000, 4000000);
    xl(t, "Start queue run: pid=%d", pid);
    xl(t + rr(30, 50) * US, "End queue run: pid=%d", pid);
    ev_push(t + 1800 * US, EV_QRUN, 0, 0);
}

/* ------------------------------------------------------------------ main */

static void usage(void) {
    fputs("usage: spoor-gen --out DIR --subscribers N --start 2026-11-22T00:00:00Z --hours H\n"
          "                 [--seed S] [--zone Europe/London] [--malformed-rate 0.001]\n"
          "                 [--mails-per-hour R] [--exim-ids old|new] [--cgn]\n",
          stderr);
    exit(2);
}

static FILE *open_out(const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", G.outdir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        die("%s: %s", path, strerror(errno));
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    return f;
}

static double parse_num(const char *opt, const char *v, double lo, double hi) {
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || !(x >= lo && x <= hi))
        die("%s: '%s' is not a number in [%g, %g]", opt, v, lo, hi);
    return x;
}

static void write_summary(double wall) {
    (void)wall;
    FILE *f = open_out("summary.txt");
    const stats *s = &G.st;
    char a[TIMEUTIL_RFC3339_MAX], b[TIMEUTIL_RFC3339_MAX];
    fprintf(f, "seed: %" PRIu64 "\nsubscribers: %d\nstart: %s\nend: %s\nhours: %g\nzone: %s\n",
            G.seed, G.nsubs, timeutil_format(G.t0, a), timeutil_format(G.t_end, b), G.hours,
            G.zone);
    fprintf(f, "malformed_rate: %g\nmails_per_hour: %g\nexim_ids: %s\n", G.mal_rate,
            G.mails_per_hour, G.exim_new_ids ? "new" : "old");
    int ndsl = 0;
    for (int i = 0; i < G.nsubs; i++)
        ndsl += G.subs[i].kind == SK_DSL;
    fprintf(f, "subscribers_dsl: %d\nsubscribers_dial: %d\nnases: %d\n", ndsl, G.nsubs - ndsl,
            G.nnas);
    for (int i = 0; i < F_NFILES; i++)
        fprintf(f, "%s_lines: %" PRIu64 "\n%s_bytes: %" PRIu64 "\n%s_malformed: %" PRIu64 "\n",
                G.out[i].name, G.out[i].lines, G.out[i].name, G.out[i].bytes, G.out[i].name,
                G.out[i].malformed);
    fprintf(f, "radius_records: %" PRIu64 "\n", G.out[F_RADIUS].units);
    fprintf(f,
            "records_start: %" PRIu64 "\nrecords_interim: %" PRIu64 "\nrecords_stop: %" PRIu64
            "\nrecords_accounting_on_off: %" PRIu64 "\nrecords_delayed: %" PRIu64
            "\nrecords_duplicate_exact: %" PRIu64 "\nrecords_duplicate_retransmit: %" PRIu64
            "\nrecords_out_of_order: %" PRIu64 "\n",
            s->rec_start, s->rec_interim, s->rec_stop, s->rec_onoff, s->delayed, s->dup_exact,
            s->dup_retrans, s->disorder);
    char nip[16];
    ip4_str(G.nas[G.reboot_nas].ip, nip);
    fprintf(f,
            "sessions_open_at_start: %" PRIu64 "\nsessions_started: %" PRIu64
            "\nsessions_closed_by_reboot: %" PRIu64 "\nreboot_nas: %s %s\naddress_changes: %" PRIu64
            "\npool_full_retries: %" PRIu64 "\ntruth_intervals: %" PRIu64
            "\ntruth_intervals_open_at_end: %" PRIu64 "\nsessions_without_any_record: %" PRIu64
            "\n",
            s->preexisting, s->sessions_new, s->reboot_closed, G.nas[G.reboot_nas].ident, nip,
            s->ip_changes, s->pool_full, s->intervals, s->open_intervals, s->unseen_sessions);
    fprintf(f,
            "messages: %" PRIu64 "\nmessages_smtp1: %" PRIu64 "\nmessages_smtp2: %" PRIu64
            "\nmessages_smtp3: %" PRIu64 "\nrecipients: %" PRIu64 "\nmessages_amavis: %" PRIu64
            "\ndeferrals: %" PRIu64 "\nmessages_ipv6: %" PRIu64
            "\nmessages_external_client: %" PRIu64 "\nmessages_other_sasl_account: %" PRIu64
            "\nmessages_msgid_missing: %" PRIu64 "\nmessages_msgid_duplicate: %" PRIu64
            "\nrejects_and_auth_failures: %" PRIu64 "\n",
            s->msgs[0] + s->msgs[1] + s->msgs[2], s->msgs[0], s->msgs[1], s->msgs[2], s->rcpts,
            s->amavis, s->deferred, s->ipv6_msgs, s->external_msgs, s->other_sasl, s->msgid_missing,
            s->msgid_dup, s->noise);
    fprintf(f, "malformed: %" PRIu64 "\n",
            G.out[0].malformed + G.out[1].malformed + G.out[2].malformed);
    if (G.cgn_on)
        fprintf(f,
                "cgn_nases: %d\ncgn_log_lines: %" PRIu64 "\ncgn_log_bytes: %" PRIu64
                "\ncgn_blocks_allocated: %" PRIu64 "\ncgn_blocks_released: %" PRIu64
                "\nmessages_via_cgn: %" PRIu64 "\n",
                G.ncgn, G.out[F_CGN].lines, G.out[F_CGN].bytes, G.cgn_allocs, G.cgn_releases,
                G.cgn_msgs);
    fclose(f);
}

int main(int argc, char **argv) {
    const char *start = NULL;
    G.zone = "Europe/London";
    G.seed = 1;
    G.mal_rate = 0.001;
    G.mails_per_hour = -1;
    G.hours = -1;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--cgn")) {
            G.cgn_on = 1;
            continue;
        }
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (!strcmp(o, "--out"))
            G.outdir = v;
        else if (!strcmp(o, "--subscribers"))
            G.nsubs = (int)parse_num(o, v, 1, MAX_SUBS);
        else if (!strcmp(o, "--start"))
            start = v;
        else if (!strcmp(o, "--hours"))
            G.hours = parse_num(o, v, 0.01, 24 * 366);
        else if (!strcmp(o, "--seed"))
            G.seed = strtoull(v, NULL, 0);
        else if (!strcmp(o, "--zone"))
            G.zone = v;
        else if (!strcmp(o, "--malformed-rate"))
            G.mal_rate = parse_num(o, v, 0, 0.5);
        else if (!strcmp(o, "--mails-per-hour"))
            G.mails_per_hour = parse_num(o, v, 0, 1e7);
        else if (!strcmp(o, "--exim-ids")) {
            if (strcmp(v, "old") && strcmp(v, "new"))
                usage();
            G.exim_new_ids = !strcmp(v, "new");
        } else
            usage();
    }
    if (!G.outdir || !G.nsubs || !start || G.hours < 0)
        usage();
    if (!timeutil_zone_valid(G.zone))
        die("unknown time zone '%s'", G.zone);
    error err;
    if (timeutil_parse(start, G.zone, &G.t0, &err) < 0)
        die("--start: %s", err.msg);
    G.t0 -= G.t0 % US;
    G.t_end = G.t0 + (int64_t)(G.hours * 3600.0) * US;
    if (G.mails_per_hour < 0)
        G.mails_per_hour = G.nsubs / 4.0 < 10 ? 10 : G.nsubs / 4.0;
    for (int i = 0; i < 1024; i++)
        tzc[i].key = INT64_MIN;

    if (mkdir(G.outdir, 0777) < 0 && errno != EEXIST)
        die("%s: %s", G.outdir, strerror(errno));
    struct timespec w0, w1;
    clock_gettime(CLOCK_MONOTONIC, &w0);

    arena_init(&G.ar, 1 << 16);
    rng_seed(&G.r, G.seed, 1);
    rng_seed(&G.rm, G.seed, 2);
    static const char *const fname[F_NFILES] = {"radius.detail", "maillog", "mainlog"};
    for (int i = 0; i < F_NFILES; i++) {
        G.out[i].name = fname[i];
        G.out[i].f = open_out(fname[i]);
    }
    G.t_sess = open_out("truth_sessions.tsv");
    G.t_mail = open_out("truth_mail.tsv");
    G.t_mal = open_out("truth_malformed.tsv");
    if (G.cgn_on) {
        G.out[F_CGN].name = "cgn.log";
        G.out[F_CGN].f = open_out("cgn.log");
        G.t_cgn = open_out("truth_cgn.tsv");
        fputs("cgn\tpublic_ip\tport_lo\tport_hi\tinside_ip\tuser_name\tstart\tstop\n", G.t_cgn);
    }
    fputs("user_name\tcalling_station_id\tnas_ip\tacct_session_id\taddress_or_prefix\tstart\tstop"
          "\tstop_reason\n",
          G.t_sess);
    fputs("message_id\tmta_host\tqueue_ids\ttime\tclient_ip\tclient_port\tsasl_username\tuser_"
          "name\tcalling_station_id\n",
          G.t_mail);
    fputs("file\tline\tkind\n", G.t_mal);

    static const char *const amavis_smtpd[] = {"postfix/smtpd", "postfix/amavis/smtpd"};
    for (int i = 0; i < 2; i++) {
        mta *h = &G.mta[i];
        h->name = i ? "smtp2" : "smtp1";
        h->fqdn = i ? "smtp2." ISP_DOMAIN : "smtp1." ISP_DOMAIN;
        h->long_ids = i;
        h->local_port_log = !i;
        h->add_msgid = !i;
        h->amavis_smtpd = amavis_smtpd[i];
        h->qmgr_pid = (int)rr(500, 3000);
        h->anvil_pid = (int)rr(3000, 99999);
    }

    setup_isp();

    int64_t t0s = G.t0 / US, span = G.t_end / US - t0s;
    if (span > 7200)
        ev_push((t0s + (int64_t)(span * (0.35 + 0.3 * ru()))) * US, EV_ACCT_OFF, G.reboot_nas, 0);
    if (G.mails_per_hour > 0)
        ev_push(G.t0 + rr(0, 60) * US, EV_MAIL, 0, 0);
    ev_push(G.t0 + rr(0, 600) * US, EV_NOISE, 0, 0);
    ev_push(G.t0 + 600 * US, EV_ANVIL, 0, 0);
    ev_push(G.t0 + 613 * US, EV_ANVIL, 1, 0);
    ev_push(G.t0 + 7 * US, EV_QRUN, 0, 0);

    while (G.nev) {
        event e = ev_pop();
        if (e.t >= G.t_end)
            break;
        flush_all(e.t);
        int64_t ts = e.t / US;
        switch (e.type) {
        case EV_CONNECT:
            on_connect(e.a, ts);
            break;
        case EV_INTERIM:
            on_interim(e.a, e.gen, ts);
            break;
        case EV_STOP:
            on_stop(e.a, e.gen, ts);
            break;
        case EV_ACCT_OFF:
            on_acct_off(e.a, ts);
            break;
        case EV_ACCT_ON:
            on_acct_on(e.a, ts);
            break;
        case EV_MAIL:
            on_mail(e.t);
            break;
        case EV_NOISE:
            on_noise(e.t);
            break;
        case EV_ANVIL:
            on_anvil(e.a, e.t);
            break;
        default:
            on_qrun(e.t);
        }
    }
    for (int i = 0; i < G.nonline; i++) {
        const session *ss = &G.sess[G.online[i]];
        truth_close(ss, -1, "", 0);
        if (ss->block >= 0)
            cgn_truth(ss, -1);
        G.st.unseen_sessions += !ss->records;
    }
    flush_all(INT64_MAX);

    clock_gettime(CLOCK_MONOTONIC, &w1);
    double wall = (double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) / 1e9;
    write_summary(wall);
    for (int i = 0; i < F_NFILES; i++)
        if (fclose(G.out[i].f) != 0)
            die("closing %s: %s", G.out[i].name, strerror(errno));
    if (fclose(G.t_sess) || fclose(G.t_mail) || fclose(G.t_mal))
        die("closing truth files: %s", strerror(errno));
    if (G.cgn_on && (fclose(G.out[F_CGN].f) || fclose(G.t_cgn)))
        die("closing cgn files: %s", strerror(errno));

    uint64_t lines = 0, bytes = 0;
    for (int i = 0; i < F_NFILES; i++) {
        lines += G.out[i].lines;
        bytes += G.out[i].bytes;
        free(G.out[i].h);
    }
    fprintf(stderr, "spoor-gen: %" PRIu64 " lines, %.1f MB in %.2f s (%.0f lines/s, %.1f MB/s)\n",
            lines, (double)bytes / 1e6, wall, (double)lines / (wall > 0 ? wall : 1),
            (double)bytes / 1e6 / (wall > 0 ? wall : 1));
    free(G.ev);
    free(G.subs);
    free(G.sess);
    free(G.free_slots);
    free(G.online);
    arena_close(&G.ar);
    return 0;
}
