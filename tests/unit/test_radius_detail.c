/*
 * Tests for ingest/radius_detail: table-driven parse cases (each record
 * rendered as one canonical "key=value ..." line), value decoding, the
 * splitter, error messages, and the golden files in tests/golden/radius_detail
 * (NAME.detail holds records, NAME.want one canonical line per record; a
 * "# zone=ZONE" line in NAME.want names the RADIUS server's zone, default
 * UTC).  Run from the repository root.  SPOOR_GOLDEN_UPDATE=1 rewrites the
 * .want files from the current output (review the diff before keeping it).
 */
#include "check.h"
#include "golden.h"
#include "radius_detail.h"
#include "timeutil.h"

#include <stdlib.h>

/* ---- canonical rendering ------------------------------------------------ */

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_putc(sbuf *b, char c) {
    if (b->n + 2 > b->cap) {
        b->cap = b->cap ? b->cap * 2 : 256;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    b->p[b->n++] = c;
    b->p[b->n] = '\0';
}

static void sb_puts(sbuf *b, const char *s) {
    while (*s)
        sb_putc(b, *s++);
}

/* Bare if plain printable ASCII, else quoted with \" \\ and \xHH. */
static void sb_val(sbuf *b, const char *s, size_t n) {
    int bare = n > 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\')
            bare = 0;
    }
    if (!bare)
        sb_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!bare && (c == '"' || c == '\\')) {
            sb_putc(b, '\\');
            sb_putc(b, (char)c);
        } else if (c < 0x20 || c >= 0x7f) {
            char x[8];
            snprintf(x, sizeof x, "\\x%02x", c);
            sb_puts(b, x);
        } else {
            sb_putc(b, (char)c);
        }
    }
    if (!bare)
        sb_putc(b, '"');
}

static void kv_str(sbuf *b, const char *k, const char *v) {
    if (!v)
        return;
    if (b->n)
        sb_putc(b, ' ');
    sb_puts(b, k);
    sb_putc(b, '=');
    sb_val(b, v, strlen(v));
}

static void kv_int(sbuf *b, const char *k, int64_t v) {
    if (v == RADIUS_DETAIL_ABSENT)
        return;
    char x[32];
    snprintf(x, sizeof x, "%" PRId64, v);
    kv_str(b, k, x);
}

static void kv_time(sbuf *b, const char *k, int64_t t) {
    if (t == RADIUS_DETAIL_ABSENT)
        return;
    char x[TIMEUTIL_RFC3339_MAX];
    kv_str(b, k, timeutil_format(t, x));
}

static void kv_list(sbuf *b, const char *k, const char **v, size_t n) {
    if (!n)
        return;
    sbuf j = {0};
    for (size_t i = 0; i < n; i++) {
        if (i)
            sb_putc(&j, ',');
        sb_puts(&j, v[i]);
    }
    kv_str(b, k, j.p);
    free(j.p);
}

/* The canonical line for one parse result; caller frees. */
static char *canon(int rc, const radius_detail_rec *r, const error *e) {
    sbuf b = {0};
    if (rc < 0) {
        kv_str(&b, "error", e->code);
        if (e->line > 0)
            kv_int(&b, "line", e->line);
        return b.p;
    }
    static const char *const src[] = {"event_timestamp", "timestamp", "ctime"};
    kv_str(&b, "status", radius_detail_status_name(r->status));
    kv_str(&b, "session", r->acct_session_id);
    kv_str(&b, "unique", r->acct_unique_session_id);
    kv_str(&b, "multi", r->acct_multi_session_id);
    kv_str(&b, "user", r->user_name);
    kv_str(&b, "framed_ip", r->framed_ip_address);
    kv_str(&b, "framed_ipv6", r->framed_ipv6_address);
    kv_list(&b, "framed_prefix", r->framed_ipv6_prefix, r->n_framed_ipv6_prefix);
    kv_list(&b, "delegated", r->delegated_ipv6_prefix, r->n_delegated_ipv6_prefix);
    kv_str(&b, "ifid", r->framed_interface_id);
    kv_str(&b, "calling", r->calling_station_id);
    kv_str(&b, "called", r->called_station_id);
    kv_str(&b, "nas_ip", r->nas_ip_address);
    kv_str(&b, "nas_ipv6", r->nas_ipv6_address);
    kv_str(&b, "nas_id", r->nas_identifier);
    kv_int(&b, "nas_port", r->nas_port);
    kv_str(&b, "nas_port_id", r->nas_port_id);
    kv_str(&b, "nas_port_type", r->nas_port_type);
    kv_str(&b, "cause", r->terminate_cause);
    kv_int(&b, "session_time", r->session_time);
    kv_int(&b, "in_bytes", r->input_bytes);
    kv_int(&b, "out_bytes", r->output_bytes);
    kv_int(&b, "delay", r->delay_time);
    kv_str(&b, "src_ip", r->packet_src_ip_address);
    kv_str(&b, "src_ipv6", r->packet_src_ipv6_address);
    kv_str(&b, "client_ip", r->client_ip_address);
    kv_time(&b, "header", r->header_time);
    kv_time(&b, "timestamp", r->timestamp);
    kv_time(&b, "event_ts", r->event_timestamp);
    kv_time(&b, "received", r->received);
    kv_time(&b, "event", r->event);
    kv_str(&b, "event_src", src[r->event_source]);
    if (r->event_timestamp_ignored)
        kv_str(&b, "event_ts_ignored", "1");
    if (r->done)
        kv_str(&b, "done", "1");
    kv_int(&b, "attrs", (int64_t)r->n_attrs);
    return b.p;
}

static char *parse_canon(const char *in, size_t len, const char *zone) {
    arena a;
    arena_init(&a, 0);
    radius_detail_rec r;
    error e;
    int rc = radius_detail_parse(in, len, zone, &a, &r, &e);
    char *s = canon(rc, &r, &e);
    arena_close(&a);
    return s;
}

/* ---- parse cases -------------------------------------------------------- */

typedef struct parse_case {
    const char *name;
    const char *zone;
    const char *in;
    const char *want;
} parse_case;

#define HDR "Wed Nov 25 12:00:00 2026\n"
#define TS "\tTimestamp = 1795604400\n" /* 2026-11-25T11:00:00Z = 12:00 CET */

static const parse_case parse_cases[] = {
    {"minimal start, no blank line at end", "Europe/Berlin",
     HDR "\tAcct-Status-Type = Start\n\tAcct-Session-Id = \"s1\"",
     "status=Start session=s1 header=2026-11-25T11:00:00Z received=2026-11-25T11:00:00Z "
     "event=2026-11-25T11:00:00Z event_src=ctime attrs=2"},
    {"leading and trailing blank lines, CRLF", "Europe/Berlin",
     "\r\n\nWed Nov 25 12:00:00 2026\r\n\tAcct-Status-Type = Stop\r\n" TS "\r\n\r\n",
     "status=Stop header=2026-11-25T11:00:00Z timestamp=2026-11-25T11:00:00Z "
     "received=2026-11-25T11:00:00Z event=2026-11-25T11:00:00Z event_src=timestamp attrs=2"},
    {"space indentation (other writers)", "UTC",
     "Wed Nov 25 12:00:00 2026\n    Acct-Status-Type = Interim-Update\n        User-Name = u\n",
     "status=Interim-Update user=u header=2026-11-25T12:00:00Z received=2026-11-25T12:00:00Z "
     "event=2026-11-25T12:00:00Z event_src=ctime attrs=2"},
    {"Alive is Interim-Update", "UTC", HDR "\tAcct-Status-Type = Alive\n",
     "status=Interim-Update header=2026-11-25T12:00:00Z received=2026-11-25T12:00:00Z "
     "event=2026-11-25T12:00:00Z event_src=ctime attrs=1"},
    {"numeric status 7 and lower case names", "UTC",
     HDR "\tacct-status-type = 7\n\tnas-ip-address = 192.0.2.1\n",
     "status=Accounting-On nas_ip=192.0.2.1 header=2026-11-25T12:00:00Z "
     "received=2026-11-25T12:00:00Z event=2026-11-25T12:00:00Z event_src=ctime attrs=2"},
    {"status 8", "UTC", HDR "\tAcct-Status-Type = 8\n",
     "status=Accounting-Off header=2026-11-25T12:00:00Z received=2026-11-25T12:00:00Z "
     "event=2026-11-25T12:00:00Z event_src=ctime attrs=1"},
    {"delay subtracted from Timestamp", "Europe/Berlin",
     HDR "\tAcct-Status-Type = Stop\n\tAcct-Delay-Time = 30\n" TS,
     "status=Stop delay=30 header=2026-11-25T11:00:00Z timestamp=2026-11-25T11:00:00Z "
     "received=2026-11-25T11:00:00Z event=2026-11-25T10:59:30Z event_src=timestamp attrs=3"},
    {"delay subtracted from ctime", "Europe/Berlin",
     HDR "\tAcct-Status-Type = Stop\n\tAcct-Delay-Time = 5\n",
     "status=Stop delay=5 header=2026-11-25T11:00:00Z received=2026-11-25T11:00:00Z "
     "event=2026-11-25T10:59:55Z event_src=ctime attrs=2"},
    {"Event-Timestamp wins over delay", "Europe/Berlin",
     HDR "\tAcct-Status-Type = Start\n\tAcct-Delay-Time = 30\n"
         "\tEvent-Timestamp = \"Nov 25 2026 11:59:00 CET\"\n" TS,
     "status=Start delay=30 header=2026-11-25T11:00:00Z timestamp=2026-11-25T11:00:00Z "
     "event_ts=2026-11-25T10:59:00Z received=2026-11-25T11:00:00Z event=2026-11-25T10:59:00Z "
     "event_src=event_timestamp attrs=4"},
    {"Event-Timestamp as integer (dates_as_integer)", "Europe/Berlin",
     HDR "\tAcct-Status-Type = Start\n\tEvent-Timestamp = 1795604390\n" TS,
     "status=Start header=2026-11-25T11:00:00Z timestamp=2026-11-25T11:00:00Z "
     "event_ts=2026-11-25T10:59:50Z received=2026-11-25T11:00:00Z event=2026-11-25T10:59:50Z "
     "event_src=event_timestamp attrs=3"},
    {"Event-Timestamp unquoted, UTC, padded day", "Europe/Berlin",
     "Thu Nov  5 12:00:00 2026\n\tAcct-Status-Type = Start\n"
     "\tEvent-Timestamp = Nov  5 2026 10:59:59 UTC\n",
     "status=Start header=2026-11-05T11:00:00Z event_ts=2026-11-05T10:59:59Z "
     "received=2026-11-05T11:00:00Z event=2026-11-05T10:59:59Z event_src=event_timestamp attrs=2"},
    {"Event-Timestamp numeric offset", "Asia/Kolkata",
     "Wed Nov 25 16:30:00 2026\n\tAcct-Status-Type = Start\n"
     "\tEvent-Timestamp = \"Nov 25 2026 13:45:00 +0245\"\n",
     "status=Start header=2026-11-25T11:00:00Z event_ts=2026-11-25T11:00:00Z "
     "received=2026-11-25T11:00:00Z event=2026-11-25T11:00:00Z event_src=event_timestamp attrs=2"},
    {"Event-Timestamp zone abbreviation must match", "Europe/Berlin",
     HDR "\tAcct-Status-Type = Start\n\tEvent-Timestamp = \"Nov 25 2026 11:59:00 EST\"\n",
     "error=zone_mismatch line=3"},
    {"Event-Timestamp CEST in winter is a mismatch", "Europe/Berlin",
     HDR "\tAcct-Status-Type = Start\n\tEvent-Timestamp = \"Nov 25 2026 11:59:00 CEST\"\n",
     "error=zone_mismatch line=3"},
    {"Event-Timestamp garbage", "UTC",
     HDR "\tAcct-Status-Type = Start\n\tEvent-Timestamp = \"yesterday\"\n",
     "error=bad_attribute line=3"},
    {"Event-Timestamp Feb 30", "UTC",
     HDR "\tAcct-Status-Type = Start\n\tEvent-Timestamp = \"Feb 30 2026 10:00:00 UTC\"\n",
     "error=bad_attribute line=3"},
    {"Event-Timestamp years off is ignored", "UTC",
     HDR "\tAcct-Status-Type = Interim-Update\n\tAcct-Delay-Time = 2\n"
         "\tEvent-Timestamp = \"Jan  1 2008 08:44:59 UTC\"\n",
     "status=Interim-Update delay=2 header=2026-11-25T12:00:00Z event_ts=2008-01-01T08:44:59Z "
     "received=2026-11-25T12:00:00Z event=2026-11-25T11:59:58Z event_src=ctime "
     "event_ts_ignored=1 attrs=3"},
    {"Event-Timestamp a little after received is kept (NAS clock ahead)", "UTC",
     HDR "\tAcct-Status-Type = Start\n\tEvent-Timestamp = \"Nov 25 2026 12:00:07 UTC\"\n",
     "status=Start header=2026-11-25T12:00:00Z event_ts=2026-11-25T12:00:07Z "
     "received=2026-11-25T12:00:00Z event=2026-11-25T12:00:07Z event_src=event_timestamp attrs=2"},
    {"Donestamp counts as Timestamp", "Europe/Berlin",
     HDR "\tAcct-Status-Type = Start\n\tDonestamp = 1795604400\n",
     "status=Start header=2026-11-25T11:00:00Z timestamp=2026-11-25T11:00:00Z "
     "received=2026-11-25T11:00:00Z event=2026-11-25T11:00:00Z event_src=timestamp done=1 "
     "attrs=2"},
    {"gigawords", "UTC",
     HDR "\tAcct-Status-Type = Stop\n\tAcct-Input-Octets = 5\n\tAcct-Input-Gigawords = 2\n"
         "\tAcct-Output-Octets = 4294967295\n",
     "status=Stop in_bytes=8589934597 out_bytes=4294967295 header=2026-11-25T12:00:00Z "
     "received=2026-11-25T12:00:00Z event=2026-11-25T12:00:00Z event_src=ctime attrs=4"},
    {"gigawords without octets and absurd gigawords", "UTC",
     HDR "\tAcct-Status-Type = Stop\n\tAcct-Input-Gigawords = 2\n\tAcct-Output-Octets = 1\n"
         "\tAcct-Output-Gigawords = 4294967295\n",
     "status=Stop header=2026-11-25T12:00:00Z received=2026-11-25T12:00:00Z "
     "event=2026-11-25T12:00:00Z event_src=ctime attrs=4"},
    {"ipv6 fields", "UTC",
     HDR "\tAcct-Status-Type = Start\n\tFramed-IPv6-Prefix = 2001:db8:0:1::/64\n"
         "\tDelegated-IPv6-Prefix = 2001:db8:1::/48\n\tFramed-IPv6-Prefix = 2001:db8:0:2::/64\n"
         "\tFramed-Interface-Id = 21e:bff:fe4e:c2d1\n\tFramed-IPv6-Address = 2001:db8:0:1::5\n"
         "\tNAS-IPv6-Address = ::\n\tPacket-Src-IPv6-Address = 2001:db8::1\n",
     "status=Start framed_ipv6=2001:db8:0:1::5 framed_prefix=2001:db8:0:1::/64,2001:db8:0:2::/64 "
     "delegated=2001:db8:1::/48 ifid=21e:bff:fe4e:c2d1 nas_ipv6=:: src_ipv6=2001:db8::1 "
     "header=2026-11-25T12:00:00Z received=2026-11-25T12:00:00Z event=2026-11-25T12:00:00Z "
     "event_src=ctime attrs=8"},
    {"quoted address is accepted", "UTC",
     HDR "\tAcct-Status-Type = Start\n\tFramed-IP-Address = \"192.0.2.7\"\n",
     "status=Start framed_ip=192.0.2.7 header=2026-11-25T12:00:00Z received=2026-11-25T12:00:00Z "
     "event=2026-11-25T12:00:00Z event_src=ctime attrs=2"},
    {"identical duplicate is fine, equal meaning too", "UTC",
     HDR "\tAcct-Status-Type = Start\n\tFramed-IP-Address = 192.0.2.7\n\tNAS-Port = 7\n"
         "\tFramed-IP-Address = 192.0.2.7\n\tNAS-Port = 07\n\tNAS-IPv6-Address = ::1\n"
         "\tNAS-IPv6-Address = 0::1\n",
     "status=Start framed_ip=192.0.2.7 nas_ipv6=::1 nas_port=7 header=2026-11-25T12:00:00Z "
     "received=2026-11-25T12:00:00Z event=2026-11-25T12:00:00Z event_src=ctime attrs=7"},
    {"conflicting duplicate", "UTC",
     HDR "\tAcct-Status-Type = Start\n\tFramed-IP-Address = 192.0.2.7\n"
         "\tFramed-IP-Address = 192.0.2.8\n",
     "error=conflicting_attribute line=4"},
    {"conflicting status", "UTC", HDR "\tAcct-Status-Type = Start\n\tAcct-Status-Type = Stop\n",
     "error=conflicting_attribute line=3"},
    {"Timestamp and Donestamp disagree", "UTC",
     HDR "\tAcct-Status-Type = Start\n\tTimestamp = 1795608000\n\tDonestamp = 1795608001\n",
     "error=conflicting_attribute line=4"},
    {"bad IPv4", "UTC", HDR "\tAcct-Status-Type = Start\n\tFramed-IP-Address = 10.0.0.300\n",
     "error=bad_address line=3"},
    {"IPv6 in an IPv4 attribute", "UTC",
     HDR "\tAcct-Status-Type = Start\n\tNAS-IP-Address = 2001:db8::1\n",
     "error=bad_address line=3"},
    {"prefix length 129", "UTC",
     HDR "\tAcct-Status-Type = Start\n\tDelegated-IPv6-Prefix = 2001:db8::/129\n",
     "error=bad_address line=3"},
    {"prefix without length", "UTC",
     HDR "\tAcct-Status-Type = Start\n\tFramed-IPv6-Prefix = 2001:db8::\n",
     "error=bad_address line=3"},
    {"bad interface id", "UTC", HDR "\tAcct-Status-Type = Start\n\tFramed-Interface-Id = 1:2:3\n",
     "error=bad_address line=3"},
    {"bad packet source", "UTC",
     HDR "\tAcct-Status-Type = Start\n\tPacket-Src-IP-Address = localhost\n",
     "error=bad_address line=3"},
    {"negative NAS-Port", "UTC", HDR "\tAcct-Status-Type = Start\n\tNAS-Port = -1\n",
     "error=bad_attribute line=3"},
    {"session time too big", "UTC",
     HDR "\tAcct-Status-Type = Stop\n\tAcct-Session-Time = 4294967296\n",
     "error=bad_attribute line=3"},
    {"NUL in User-Name", "UTC", HDR "\tAcct-Status-Type = Start\n\tUser-Name = \"a\\000b\"\n",
     "error=bad_attribute line=3"},
    {"missing status", "UTC", HDR "\tUser-Name = \"x\"\n", "error=no_status_type"},
    {"Failed is not supported", "UTC", HDR "\tAcct-Status-Type = Failed\n",
     "error=bad_status_type line=2"},
    {"Tunnel-Start is not supported", "UTC", HDR "\tAcct-Status-Type = 9\n",
     "error=bad_status_type line=2"},
    {"auth log record", "UTC", HDR "\tPacket-Type = Access-Request\n\tUser-Name = \"bob\"\n",
     "error=not_accounting line=2"},
    {"Packet-Type Accounting-Request is fine", "UTC",
     HDR "\tPacket-Type = Accounting-Request\n\tAcct-Status-Type = Start\n",
     "status=Start header=2026-11-25T12:00:00Z received=2026-11-25T12:00:00Z "
     "event=2026-11-25T12:00:00Z event_src=ctime attrs=2"},
    {"empty", "UTC", " \n\n\t\n", "error=empty"},
    {"nothing at all", "UTC", "", "error=empty"},
    {"no header", "UTC", "\tAcct-Status-Type = Start\n", "error=no_ctime line=1"},
    {"header without year", "UTC", "Wed Nov 25 12:00:00\n\tAcct-Status-Type = Start\n",
     "error=no_ctime line=1"},
    {"header with extra field", "UTC", "Wed Nov 25 12:00:00 2026 CET\n\tAcct-Status-Type = Start\n",
     "error=no_ctime line=1"},
    {"header weekday wrong", "UTC", "Thu Nov 25 12:00:00 2026\n\tAcct-Status-Type = Start\n",
     "error=bad_ctime line=1"},
    {"header Nov 31", "UTC", "Tue Nov 31 12:00:00 2026\n\tAcct-Status-Type = Start\n",
     "error=bad_ctime line=1"},
    {"header hour 24", "UTC", "Wed Nov 25 24:00:00 2026\n\tAcct-Status-Type = Start\n",
     "error=bad_ctime line=1"},
    {"unknown zone", "Mars/Olympus", HDR "\tAcct-Status-Type = Start\n", "error=bad_zone"},
    {"header and Timestamp disagree: wrong zone", "UTC", HDR "\tAcct-Status-Type = Start\n" TS,
     "error=zone_mismatch line=1"},
    {"header within tolerance of Timestamp", "UTC",
     HDR "\tAcct-Status-Type = Start\n\tTimestamp = 1795608299\n",
     "status=Start header=2026-11-25T12:00:00Z timestamp=2026-11-25T12:04:59Z "
     "received=2026-11-25T12:04:59Z event=2026-11-25T12:04:59Z event_src=timestamp attrs=2"},
    {"DST overlap settled by Timestamp", "Europe/Berlin",
     "Sun Oct 25 02:30:00 2026\n\tAcct-Status-Type = Start\n\tTimestamp = 1792891800\n",
     "status=Start header=2026-10-25T01:30:00Z timestamp=2026-10-25T01:30:00Z "
     "received=2026-10-25T01:30:00Z event=2026-10-25T01:30:00Z event_src=timestamp attrs=2"},
    {"DST overlap settled by Event-Timestamp abbreviation", "Europe/Berlin",
     "Sun Oct 25 02:30:00 2026\n\tAcct-Status-Type = Start\n"
     "\tEvent-Timestamp = \"Oct 25 2026 02:29:58 CEST\"\n",
     "status=Start header=2026-10-25T00:30:00Z event_ts=2026-10-25T00:29:58Z "
     "received=2026-10-25T00:30:00Z event=2026-10-25T00:29:58Z event_src=event_timestamp attrs=2"},
    {"DST overlap, nothing to decide", "Europe/Berlin",
     "Sun Oct 25 02:30:00 2026\n\tAcct-Status-Type = Start\n", "error=ambiguous_ctime line=1"},
    {"DST gap header", "Europe/Berlin", "Sun Mar 29 02:30:00 2026\n\tAcct-Status-Type = Start\n",
     "error=bad_ctime line=1"},
    {"text after the blank line", "UTC", HDR "\tAcct-Status-Type = Start\n\n\tUser-Name = x\n",
     "error=trailing_data line=4"},
    {"two records glued (caller should split)", "UTC",
     HDR "\tAcct-Status-Type = Start\n" HDR "\tAcct-Status-Type = Stop\n", "error=bad_line line=3"},
    {"line without operator", "UTC", HDR "\tAcct-Status-Type = Start\n\tAcct-Sess\n",
     "error=bad_line line=3"},
    {"line without value", "UTC", HDR "\tAcct-Status-Type = Start\n\tUser-Name =\n",
     "error=bad_line line=3"},
    {"bad operator", "UTC", HDR "\tAcct-Status-Type = Start\n\tUser-Name => x\n",
     "error=bad_line line=3"},
    {"name must start alphanumeric", "UTC", HDR "\tAcct-Status-Type = Start\n\t-x = 1\n",
     "error=bad_line line=3"},
    {"unterminated string", "UTC", HDR "\tAcct-Status-Type = Start\n\tUser-Name = \"abc\n",
     "error=bad_string line=3"},
    {"lone backslash", "UTC", HDR "\tAcct-Status-Type = Start\n\tUser-Name = \"abc\\\"\n",
     "error=bad_string line=3"},
    {"octal above 255", "UTC", HDR "\tAcct-Status-Type = Start\n\tUser-Name = \"\\400\"\n",
     "error=bad_string line=3"},
    {"unescaped quote inside", "UTC", HDR "\tAcct-Status-Type = Start\n\tUser-Name = \"a\"b\"\n",
     "error=bad_string line=3"},
    {"raw control byte", "UTC", HDR "\tAcct-Status-Type = Start\n\tUser-Name = \"a\x01\"\n",
     "error=bad_byte line=3"},
    {"lone CR", "UTC", HDR "\tAcct-Status-Type = Start\r\tUser-Name = x\n",
     "error=bad_byte line=2"},
    {"DEL byte", "UTC", HDR "\tAcct-Status-Type = Start\n\tUser-Name = \x7f\n",
     "error=bad_byte line=3"},
    {"invalid UTF-8", "UTC", HDR "\tAcct-Status-Type = Start\n\tUser-Name = \"\xc3(\"\n",
     "error=bad_utf8 line=3"},
    {"UTF-8 surrogate", "UTC", HDR "\tAcct-Status-Type = Start\n\tUser-Name = \"\xed\xa0\x80\"\n",
     "error=bad_utf8 line=3"},
    {"overlong UTF-8", "UTC", HDR "\tAcct-Status-Type = Start\n\tUser-Name = \"\xc0\xaf\"\n",
     "error=bad_utf8 line=3"},
    {"truncated UTF-8 at end", "UTC", HDR "\tAcct-Status-Type = Start\n\tUser-Name = \xe2\x82",
     "error=bad_utf8 line=3"},
    {"valid UTF-8 passes", "UTC",
     HDR "\tAcct-Status-Type = Start\n\tUser-Name = \"Z\xc3\xbcrich-\xf0\x9f\x98\x80\"\n",
     "status=Start user=\"Z\\xc3\\xbcrich-\\xf0\\x9f\\x98\\x80\" header=2026-11-25T12:00:00Z "
     "received=2026-11-25T12:00:00Z event=2026-11-25T12:00:00Z event_src=ctime attrs=2"},
};

static void test_parse_cases(void) {
    for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
        const parse_case *c = &parse_cases[i];
        char *got = parse_canon(c->in, strlen(c->in), c->zone);
        if (strcmp(got, c->want) != 0)
            fprintf(stderr, "case: %s\n", c->name);
        CHECK_STR(got, c->want);
        free(got);
    }
}

/* The buffer is not NUL-terminated and its length is what counts. */
static void test_length_not_nul(void) {
    const char rec[] = HDR "\tAcct-Status-Type = Start\n\tUser-Name = \"abc\"\n";
    char *buf = malloc(sizeof rec - 1);
    memcpy(buf, rec, sizeof rec - 1);
    char *got = parse_canon(buf, sizeof rec - 1, "UTC");
    CHECK_STR(got,
              "status=Start user=abc header=2026-11-25T12:00:00Z received=2026-11-25T12:00:00Z "
              "event=2026-11-25T12:00:00Z event_src=ctime attrs=2");
    free(got);
    /* Cut inside the string: an unterminated value, not a read past the end. */
    got = parse_canon(buf, sizeof rec - 4, "UTC");
    CHECK_STR(got, "error=bad_string line=3");
    free(got);
    free(buf);
    /* A NUL tail (what a crash leaves in a detail file). */
    char nul[64] = HDR "\tAcct-Status-Type = Start\n";
    got = parse_canon(nul, sizeof nul, "UTC");
    CHECK_STR(got, "error=bad_byte line=3");
    free(got);
}

static void test_too_long(void) {
    size_t n = RADIUS_DETAIL_MAX_RECORD + 1;
    char *buf = malloc(n);
    memset(buf, ' ', n);
    char *got = parse_canon(buf, n, "UTC");
    CHECK_STR(got, "error=too_long");
    free(got);
    free(buf);
}

/* ---- value decoding ----------------------------------------------------- */

typedef struct value_case {
    const char *line; /* the attribute line */
    const char *name, *op, *raw;
    const char *value; /* decoded, compared over value_len bytes */
    size_t value_len;
    int quoted;
} value_case;

static const value_case value_cases[] = {
    {"\tCisco-AVPair = \"dhcp-client-id=\\001\"", "Cisco-AVPair", "=", "\"dhcp-client-id=\\001\"",
     "dhcp-client-id=\001", 16, '"'},
    {"\tReply-Message = \"a\\\"b\\\\c\\nd\\te\\rf\"", "Reply-Message", "=",
     "\"a\\\"b\\\\c\\nd\\te\\rf\"", "a\"b\\c\nd\te\rf", 11, '"'},
    {"\tUser-Name = \"caf\\303\\251\"", "User-Name", "=", "\"caf\\303\\251\"", "caf\xc3\xa9", 5,
     '"'},
    {"\tReply-Message = \"a\\000b\\0c\"", "Reply-Message", "=", "\"a\\000b\\0c\"", "a\0b\0c", 5,
     '"'},
    {"\tConnect-Info = \"unknown \\q escape\"", "Connect-Info", "=", "\"unknown \\q escape\"",
     "unknown \\q escape", 17, '"'},
    {"\tUser-Name = 'anon1337'", "User-Name", "=", "'anon1337'", "anon1337", 8, '\''},
    {"\tUser-Name = 'it\\'s \\\\ \\n'", "User-Name", "=", "'it\\'s \\\\ \\n'", "it's \\ \\n", 9,
     '\''},
    {"\tUser-Name = \"\"", "User-Name", "=", "\"\"", "", 0, '"'},
    {"\tClass = 0x61693a6565", "Class", "=", "0x61693a6565", "0x61693a6565", 12, 0},
    {"\tTunnel-Private-Group-Id:0 = \"882\"", "Tunnel-Private-Group-Id:0", "=", "\"882\"", "882", 3,
     '"'},
    {"\tAttr-26.9.1 = 0x6170", "Attr-26.9.1", "=", "0x6170", "0x6170", 6, 0},
    {"\tFramed-IP-Address := 192.0.2.1   ", "Framed-IP-Address", ":=", "192.0.2.1", "192.0.2.1", 9,
     0},
    {"\tNAS-Port-Id = ATM 1/0/0:1.33", "NAS-Port-Id", "=", "ATM 1/0/0:1.33", "ATM 1/0/0:1.33", 14,
     0},
    {"   Tmp-String-0  +=   \"x y\"", "Tmp-String-0", "+=", "\"x y\"", "x y", 3, '"'},
    {"\tUser-Name=\"tight\"", "User-Name", "=", "\"tight\"", "tight", 5, '"'},
};

static void test_values(void) {
    for (size_t i = 0; i < sizeof value_cases / sizeof value_cases[0]; i++) {
        const value_case *c = &value_cases[i];
        char in[512];
        snprintf(in, sizeof in, "%s\tAcct-Status-Type = Start\n%s\n", HDR, c->line);
        arena a;
        arena_init(&a, 0);
        radius_detail_rec r;
        error e;
        int rc = radius_detail_parse(in, strlen(in), "UTC", &a, &r, &e);
        if (rc < 0)
            fprintf(stderr, "value case %s: %s %s\n", c->line, e.code, e.msg);
        CHECK_INT(rc, 0);
        if (rc == 0) {
            CHECK_INT(r.n_attrs, 2);
            const radius_detail_attr *at = &r.attrs[1];
            CHECK_STR(at->name, c->name);
            CHECK_STR(at->op, c->op);
            CHECK_STR(at->raw, c->raw);
            CHECK_INT(at->value_len, c->value_len);
            CHECK(at->value_len == c->value_len && memcmp(at->value, c->value, c->value_len) == 0);
            CHECK_INT(at->value[at->value_len], 0);
            CHECK_INT(at->quoted, c->quoted);
            CHECK_INT(at->line, 3);
        }
        arena_close(&a);
    }
}

/* All attributes come back in order, unknown ones verbatim. */
static void test_all_attrs_kept(void) {
    const char in[] = "Mon Sep 17 00:02:21 2018\n"
                      "\tAcct-Status-Type = Start\n"
                      "\tCisco-AVPair = \"a=1\"\n"
                      "\tCisco-AVPair = \"a=2\"\n"
                      "\tERX-Dhcp-Mac-Addr = \"0050.56ab.0001\"\n"
                      "\tUnisphere-Attr-210 = 0x00000004\n"
                      "\tTmp-String-9 = \"ai:\"\n"
                      "\tTimestamp = 1537135341\n\n";
    static const char *const names[] = {"Acct-Status-Type",  "Cisco-AVPair",       "Cisco-AVPair",
                                        "ERX-Dhcp-Mac-Addr", "Unisphere-Attr-210", "Tmp-String-9",
                                        "Timestamp"};
    static const char *const raws[] = {"Start",      "\"a=1\"", "\"a=2\"",   "\"0050.56ab.0001\"",
                                       "0x00000004", "\"ai:\"", "1537135341"};
    arena a;
    arena_init(&a, 0);
    radius_detail_rec r;
    error e;
    CHECK_INT(radius_detail_parse(in, sizeof in - 1, "Europe/Paris", &a, &r, &e), 0);
    CHECK_INT(r.n_attrs, 7);
    for (size_t i = 0; i < r.n_attrs && i < 7; i++) {
        CHECK_STR(r.attrs[i].name, names[i]);
        CHECK_STR(r.attrs[i].raw, raws[i]);
        CHECK_INT(r.attrs[i].line, (int)i + 2);
    }
    CHECK_STR(r.header, "Mon Sep 17 00:02:21 2018");
    CHECK_STR(r.status_text, "Start");
    arena_close(&a);
}

/* Messages name the problem, carry the line, and never raw bytes. */
static void test_messages(void) {
    static const struct {
        const char *in;
        const char *reason, *needle;
    } cases[] = {
        {HDR "\tAcct-Status-Type = Start\n\tFramed-IP-Address = 10.0.0.300\n", "bad_address",
         "line 3: Framed-IP-Address: 10.0.0.300 is not an IPv4 address"},
        {HDR "\tAcct-Status-Type = Start\n\tNAS-Port = \"\xe2\x82\xac\x01\"\n", "bad_byte",
         "control byte 0x01"},
        {HDR "\tAcct-Status-Type = Start\n\tNAS-Port = \"\xe2\x82\xac\"\n", "bad_attribute",
         "NAS-Port: \\xe2\\x82\\xac is not"},
        {HDR "\tAcct-Status-Type = Start\n" TS, "zone_mismatch",
         "is 2026-11-25T12:00:00Z in UTC but Timestamp is 2026-11-25T11:00:00Z"},
        {HDR "\tAcct-Status-Type = Start\n\tFramed-IP-Address = 192.0.2.7\n"
             "\tFramed-IP-Address = 192.0.2.8\n",
         "conflicting_attribute", "192.0.2.8 conflicts with Framed-IP-Address 192.0.2.7 on line 3"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        arena a;
        arena_init(&a, 0);
        radius_detail_rec r;
        error e;
        int rc = radius_detail_parse(cases[i].in, strlen(cases[i].in), "UTC", &a, &r, &e);
        CHECK_INT(rc, -1);
        CHECK_STR(e.code, cases[i].reason);
        if (!strstr(e.msg, cases[i].needle))
            fprintf(stderr, "message: %s\n  want part: %s\n", e.msg, cases[i].needle);
        CHECK(strstr(e.msg, cases[i].needle) != NULL);
        for (const char *m = e.msg; *m; m++)
            CHECK((unsigned char)*m >= 0x20 && (unsigned char)*m < 0x7f);
        arena_close(&a);
    }
}

/* ---- splitter ----------------------------------------------------------- */

typedef struct split_case {
    const char *name;
    const char *in;
    int at_eof;
    const char *want; /* "off+len/term;..." per record, then "|rest" left unconsumed */
} split_case;

static const split_case split_cases[] = {
    {"two records", "A\n\tx = 1\n\nB\n\ty = 2\n\n", 1, "0+9/1;10+9/1;|0"},
    {"blank lines around, CRLF, whitespace-only separator", "\r\n\nA\r\n\tx = 1\r\n \t\r\nB\n", 1,
     "3+11/1;18+2/0;|0"},
    {"missing separator: next header ends the record", "A\n\tx = 1\nB\n\ty = 2\n", 1,
     "0+9/0;9+9/0;|0"},
    {"following: last record not yet terminated", "A\n\tx = 1\n\nB\n\ty = 2\n", 0, "0+9/1;|9"},
    {"following: unfinished line", "A\n\tx = 1\n\nB\n\ty = ", 0, "0+9/1;|7"},
    {"following: unfinished blank-looking line is not judged", "A\n\tx = 1\n  ", 0, "|11"},
    {"following: terminated by blank line", "A\n\tx = 1\n\n", 0, "0+9/1;|0"},
    {"following: next header seen", "A\n\tx = 1\nB", 0, "0+9/0;|1"},
    {"at eof: no newline at the end", "A\n\tx = 1", 1, "0+8/0;|0"},
    {"at eof: trailing blank without newline", "A\n\tx = 1\n  ", 1, "0+9/1;|0"},
    {"only blank lines", "\n \n\t\n", 1, "|0"},
    {"only blank lines, following", "\n \n\t\n", 0, "|0"},
    {"header only", "A\n", 1, "0+2/0;|0"},
    {"empty", "", 1, "|0"},
};

static char *split_all(const char *in, size_t len, int at_eof) {
    sbuf b = {0};
    sb_puts(&b, "");
    size_t off = 0;
    detail_split_span sp;
    for (int guard = 0; guard < 100; guard++) {
        int rc = detail_split_next(in + off, len - off, at_eof, &sp);
        if (rc) {
            char x[64];
            snprintf(x, sizeof x, "%zu+%zu/%d;", off + sp.off, sp.len, sp.terminated);
            sb_puts(&b, x);
            CHECK(sp.next > 0);
        }
        CHECK(sp.next <= len - off);
        off += sp.next;
        if (!rc)
            break;
    }
    char x[32];
    snprintf(x, sizeof x, "|%zu", len - off);
    sb_puts(&b, x);
    return b.p;
}

static void test_split(void) {
    for (size_t i = 0; i < sizeof split_cases / sizeof split_cases[0]; i++) {
        const split_case *c = &split_cases[i];
        char *got = split_all(c->in, strlen(c->in), c->at_eof);
        if (strcmp(got, c->want) != 0)
            fprintf(stderr, "split case: %s\n", c->name);
        CHECK_STR(got, c->want);
        free(got);
    }
}

/* Garbage without newlines cannot stall a follower forever. */
static void test_split_oversize(void) {
    size_t n = RADIUS_DETAIL_MAX_RECORD + 10;
    char *buf = malloc(n);
    memset(buf, 0, n);
    detail_split_span sp;
    CHECK_INT(detail_split_next(buf, 100, 0, &sp), 0);
    CHECK_INT(sp.next, 0);
    CHECK_INT(detail_split_next(buf, n, 0, &sp), 1);
    CHECK_INT(sp.off, 0);
    CHECK_INT(sp.len, n);
    CHECK_INT(sp.next, n);
    free(buf);
}

/* Feeding a file in small pieces finds the same records as reading it whole. */
static void test_split_incremental(void) {
    const char *in = "Wed Nov 25 12:00:00 2026\n\tAcct-Status-Type = Start\n\n\n"
                     "Wed Nov 25 12:00:05 2026\n\tAcct-Status-Type = Stop\n"
                     "Wed Nov 25 12:00:09 2026\n\tAcct-Status-Type = Alive\n\n";
    size_t len = strlen(in);
    char *whole = split_all(in, len, 1);
    sbuf b = {0};
    sb_puts(&b, "");
    size_t off = 0;
    detail_split_span sp;
    for (size_t avail = 0;; avail += 3) {
        size_t have = avail < len ? avail : len;
        while (off <= have) {
            int rc = detail_split_next(in + off, have - off, have == len, &sp);
            if (rc) {
                char x[64];
                snprintf(x, sizeof x, "%zu+%zu/%d;", off + sp.off, sp.len, sp.terminated);
                sb_puts(&b, x);
            }
            off += sp.next;
            if (!rc)
                break;
        }
        if (have == len)
            break;
    }
    char x[32];
    snprintf(x, sizeof x, "|%zu", len - off);
    sb_puts(&b, x);
    CHECK_STR(b.p, whole);
    free(b.p);
    free(whole);
}

/* ---- golden files ------------------------------------------------------- */

#define GOLDEN_DIR "tests/golden/radius_detail"

static void golden_one(const char *base, int update, int *records) {
    char path[512];
    size_t dlen, wlen = 0;
    snprintf(path, sizeof path, "%s/%s.detail", GOLDEN_DIR, base);
    char *detail = golden_slurp(path, &dlen);
    snprintf(path, sizeof path, "%s/%s.want", GOLDEN_DIR, base);
    char *want = golden_slurp(path, &wlen);
    CHECK(detail != NULL);
    if (!detail)
        return;
    if (!want && !update) {
        fprintf(stderr, "FAIL golden %s: no %s\n", base, path);
        check_failed++;
        free(detail);
        return;
    }

    /* Split the .want file into the zone and the expected lines. */
    char zone[128] = "UTC";
    const char *wl[1024];
    int nw = 0;
    sbuf comments = {0};
    sb_puts(&comments, "");
    for (char *p = want, *nl; p && *p; p = nl ? nl + 1 : NULL) {
        nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        if (p[0] == '#') {
            sb_puts(&comments, p);
            sb_putc(&comments, '\n');
            if (strncmp(p, "# zone=", 7) == 0)
                snprintf(zone, sizeof zone, "%s", p + 7);
        } else if (*p && nw < 1024) {
            wl[nw++] = p;
        }
    }

    sbuf out = {0};
    sb_puts(&out, comments.p);
    size_t off = 0;
    detail_split_span sp;
    int n = 0;
    while (detail_split_next(detail + off, dlen - off, 1, &sp)) {
        char *got = parse_canon(detail + off + sp.off, sp.len, zone);
        if (!sp.terminated) {
            size_t l = strlen(got);
            got = realloc(got, l + 7);
            memcpy(got + l, " sep=0", 7);
        }
        if (update) {
            sb_puts(&out, got);
            sb_putc(&out, '\n');
        } else {
            const char *w = n < nw ? wl[n] : "(no line in .want)";
            if (strcmp(got, w) != 0) {
                fprintf(stderr, "FAIL golden %s record %d (byte %zu)\n  got:  %s\n  want: %s\n",
                        base, n + 1, off + sp.off, got, w);
                check_failed++;
            } else {
                check_passed++;
            }
        }
        free(got);
        n++;
        off += sp.next;
    }
    if (!update && n != nw) {
        fprintf(stderr, "FAIL golden %s: %d records but %d lines in .want\n", base, n, nw);
        check_failed++;
    }
    if (update) {
        FILE *f = fopen(path, "w");
        if (f) {
            fputs(out.p, f);
            fclose(f);
        }
    }
    *records += n;
    free(out.p);
    free(comments.p);
    free(detail);
    free(want);
}

static void test_golden(void) {
    int update = getenv("SPOOR_GOLDEN_UPDATE") != NULL;
    char *names[256];
    int nn = golden_list(GOLDEN_DIR, ".detail", names, 256);
    if (nn < 0)
        return;
    int records = 0;
    for (int i = 0; i < nn; i++) {
        golden_one(names[i], update, &records);
        free(names[i]);
    }
    CHECK(nn >= 5);
    CHECK(records >= 30);
}

static const check_test tests[] = {
    {"parse_cases", test_parse_cases},
    {"length_not_nul", test_length_not_nul},
    {"too_long", test_too_long},
    {"values", test_values},
    {"all_attrs_kept", test_all_attrs_kept},
    {"messages", test_messages},
    {"split", test_split},
    {"split_oversize", test_split_oversize},
    {"split_incremental", test_split_incremental},
    {"golden", test_golden},
    {0},
};

int main(void) {
    return check_main("radius_detail", tests);
}
