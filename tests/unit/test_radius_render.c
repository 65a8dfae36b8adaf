/*
 * Tests for collect/radius_render: packets built here are rendered as detail
 * records and read back with radius_detail_parse (the round trip is the
 * contract: whatever spoor-collect writes, the ingest parser must read with
 * the same meaning), the exact text of each case, and the radclient capture
 * of test_radius_pkt rendered line for line as radclient printed it.
 */
#include "buf.h"
#include "check.h"
#include "radius_detail.h"
#include "radius_render.h"
#include "timeutil.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>

/* ---- building packets --------------------------------------------------- */

/*
 * SPEC lists attributes separated by '|': "TYPE=KIND:VALUE" with TYPE a
 * number or "26.VENDOR.TYPE" (one VSA), and KIND one of
 *   s  string as written;      x  hex bytes;        u  32-bit integer;
 *   a  IPv4 address;           6  IPv6 address;     p  IPv6 prefix "addr/len"
 *   t  tag byte, then a string "TAG,TEXT";  e  empty value.
 * Returns the packet length; the packet is an Accounting-Request, id 7.
 */
static size_t build(const char *spec, uint8_t *pkt) {
    size_t n = RADIUS_PKT_HDR;
    memset(pkt, 0, RADIUS_PKT_HDR);
    pkt[0] = RADIUS_ACCOUNTING_REQUEST;
    pkt[1] = 7;
    char *copy = strdup(spec), *save = NULL;
    for (char *item = strtok_r(copy, "|", &save); item; item = strtok_r(NULL, "|", &save)) {
        unsigned type, vendor = 0, vtype = 0;
        char kind;
        int used = 0, vsa = 0;
        if (sscanf(item, "26.%u.%u=%c:%n", &vendor, &vtype, &kind, &used) == 3)
            type = 26, vsa = 1;
        else if (sscanf(item, "%u=%c:%n", &type, &kind, &used) != 2)
            abort();
        const char *v = item + used;
        uint8_t val[256];
        size_t vn = 0;
        switch (kind) {
        case 's':
            vn = strlen(v);
            memcpy(val, v, vn);
            break;
        case 'x':
            for (; v[0] && v[1]; v += 2) {
                unsigned b;
                sscanf(v, "%2x", &b);
                val[vn++] = (uint8_t)b;
            }
            break;
        case 'u': {
            uint32_t u = (uint32_t)strtoul(v, NULL, 10);
            val[0] = (uint8_t)(u >> 24), val[1] = (uint8_t)(u >> 16), val[2] = (uint8_t)(u >> 8),
            val[3] = (uint8_t)u;
            vn = 4;
            break;
        }
        case 'a':
            if (inet_pton(AF_INET, v, val) != 1)
                abort();
            vn = 4;
            break;
        case '6':
            if (inet_pton(AF_INET6, v, val) != 1)
                abort();
            vn = 16;
            break;
        case 'p': {
            char a[64];
            unsigned len;
            if (sscanf(v, "%63[^/]/%u", a, &len) != 2 || inet_pton(AF_INET6, a, val + 2) != 1)
                abort();
            val[0] = 0;
            val[1] = (uint8_t)len;
            vn = 2 + (len + 7) / 8; /* only the bytes the prefix needs, as RFC 3162 allows */
            break;
        }
        case 't': {
            unsigned tag;
            int k = 0;
            sscanf(v, "%u,%n", &tag, &k);
            val[0] = (uint8_t)tag;
            vn = 1 + strlen(v + k);
            memcpy(val + 1, v + k, vn - 1);
            break;
        }
        case 'e':
            break;
        default:
            abort();
        }
        if (vsa) {
            pkt[n++] = 26;
            pkt[n++] = (uint8_t)(vn + 8);
            pkt[n++] = (uint8_t)(vendor >> 24), pkt[n++] = (uint8_t)(vendor >> 16);
            pkt[n++] = (uint8_t)(vendor >> 8), pkt[n++] = (uint8_t)vendor;
            pkt[n++] = (uint8_t)vtype;
            pkt[n++] = (uint8_t)(vn + 2);
        } else {
            pkt[n++] = (uint8_t)type;
            pkt[n++] = (uint8_t)(vn + 2);
        }
        memcpy(pkt + n, val, vn);
        n += vn;
    }
    free(copy);
    pkt[2] = (uint8_t)(n >> 8);
    pkt[3] = (uint8_t)n;
    return n;
}

/* ---- reading back ------------------------------------------------------- */

static void kv(buf *b, const char *k, const char *v) {
    if (!v)
        return;
    if (b->len)
        buf_addc(b, ' ');
    buf_printf(b, "%s=", k);
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        if (c < 0x20 || c >= 0x7f || c == '\\')
            buf_printf(b, "\\x%02x", c);
        else
            buf_addc(b, (char)c);
    }
}

static void kv_int(buf *b, const char *k, int64_t v) {
    char x[32];
    if (v == RADIUS_DETAIL_ABSENT)
        return;
    snprintf(x, sizeof x, "%" PRId64, v);
    kv(b, k, x);
}

static void kv_list(buf *b, const char *k, const char **v, size_t n) {
    for (size_t i = 0; i < n; i++)
        kv(b, k, v[i]);
}

/* The fields tracing relies on, as one "key=value ..." line. */
static char *canon(const radius_detail_rec *r) {
    buf b;
    buf_init(&b);
    kv(&b, "status", radius_detail_status_name(r->status));
    kv(&b, "session", r->acct_session_id);
    kv(&b, "user", r->user_name);
    kv(&b, "framed_ip", r->framed_ip_address);
    kv(&b, "framed_ipv6", r->framed_ipv6_address);
    kv(&b, "ifid", r->framed_interface_id);
    kv_list(&b, "framed_prefix", r->framed_ipv6_prefix, r->n_framed_ipv6_prefix);
    kv_list(&b, "delegated", r->delegated_ipv6_prefix, r->n_delegated_ipv6_prefix);
    kv(&b, "calling", r->calling_station_id);
    kv(&b, "nas_ip", r->nas_ip_address);
    kv(&b, "nas_ipv6", r->nas_ipv6_address);
    kv(&b, "nas_id", r->nas_identifier);
    kv_int(&b, "nas_port", r->nas_port);
    kv(&b, "nas_port_id", r->nas_port_id);
    kv(&b, "nas_port_type", r->nas_port_type);
    kv(&b, "cause", r->terminate_cause);
    kv_int(&b, "session_time", r->session_time);
    kv_int(&b, "in_bytes", r->input_bytes);
    kv_int(&b, "out_bytes", r->output_bytes);
    kv(&b, "src_ip", r->packet_src_ip_address);
    kv(&b, "src_ipv6", r->packet_src_ipv6_address);
    kv_int(&b, "event_ts",
           r->event_timestamp == RADIUS_DETAIL_ABSENT ? RADIUS_DETAIL_ABSENT
                                                      : r->event_timestamp / TIMEUTIL_US);
    kv_int(&b, "received", r->received / TIMEUTIL_US);
    kv_int(&b, "header", r->header_time / TIMEUTIL_US);
    kv_int(&b, "attrs", (int64_t)r->n_attrs);
    return b.p;
}

typedef struct rt_case {
    const char *name;
    const char *spec;     /* attributes, see build() */
    const char *src;      /* source address text or NULL */
    const char *zone;     /* server zone */
    int dates_as_integer; /* 1: Event-Timestamp as seconds */
    const char *want;     /* the rendered record, exactly */
    const char *canon;    /* what radius_detail_parse reads back (NULL: check the reason) */
    const char *reason;   /* the parse error wanted when canon is NULL */
} rt_case;

#define RECEIVED 1795604400 /* 2026-11-25T11:00:00Z */

static const rt_case rt_cases[] = {
    {"start",
     "40=u:1|1=s:dsl-000111|44=s:101586839|4=a:198.51.100.2|5=u:1143|61=u:15|8=a:198.18.4.42",
     "198.51.100.2", "UTC", 1,
     "Wed Nov 25 11:00:00 2026\n"
     "\tPacket-Src-IP-Address = 198.51.100.2\n"
     "\tAcct-Status-Type = Start\n"
     "\tUser-Name = \"dsl-000111\"\n"
     "\tAcct-Session-Id = \"101586839\"\n"
     "\tNAS-IP-Address = 198.51.100.2\n"
     "\tNAS-Port = 1143\n"
     "\tNAS-Port-Type = Ethernet\n"
     "\tFramed-IP-Address = 198.18.4.42\n"
     "\tTimestamp = 1795604400\n\n",
     "status=Start session=101586839 user=dsl-000111 framed_ip=198.18.4.42 nas_ip=198.51.100.2 "
     "nas_port=1143 nas_port_type=Ethernet src_ip=198.51.100.2 received=1795604400 "
     "header=1795604400 attrs=9",
     NULL},
    {"interim update with a new address and counters",
     "40=u:3|44=s:s1|8=a:198.18.9.1|46=u:3600|42=u:5|52=u:2|43=u:4294967295|55=u:1795604390", NULL,
     "Europe/Berlin", 1,
     "Wed Nov 25 12:00:00 2026\n"
     "\tAcct-Status-Type = Interim-Update\n"
     "\tAcct-Session-Id = \"s1\"\n"
     "\tFramed-IP-Address = 198.18.9.1\n"
     "\tAcct-Session-Time = 3600\n"
     "\tAcct-Input-Octets = 5\n"
     "\tAcct-Input-Gigawords = 2\n"
     "\tAcct-Output-Octets = 4294967295\n"
     "\tEvent-Timestamp = 1795604390\n"
     "\tTimestamp = 1795604400\n\n",
     "status=Interim-Update session=s1 framed_ip=198.18.9.1 session_time=3600 "
     "in_bytes=8589934597 out_bytes=4294967295 event_ts=1795604390 received=1795604400 "
     "header=1795604400 attrs=9",
     NULL},
    {"stop with terminate cause, quoted date in the server's zone",
     "40=u:2|44=s:s1|49=u:2|55=u:1795604399|41=u:1", NULL, "Europe/Berlin", 0,
     "Wed Nov 25 12:00:00 2026\n"
     "\tAcct-Status-Type = Stop\n"
     "\tAcct-Session-Id = \"s1\"\n"
     "\tAcct-Terminate-Cause = Lost-Carrier\n"
     "\tEvent-Timestamp = \"Nov 25 2026 11:59:59 CET\"\n"
     "\tAcct-Delay-Time = 1\n"
     "\tTimestamp = 1795604400\n\n",
     "status=Stop session=s1 cause=Lost-Carrier event_ts=1795604399 received=1795604400 "
     "header=1795604400 attrs=6",
     NULL},
    {"stop with an unnamed terminate cause", "40=u:2|49=u:77", NULL, "UTC", 1,
     "Wed Nov 25 11:00:00 2026\n"
     "\tAcct-Status-Type = Stop\n"
     "\tAcct-Terminate-Cause = 77\n"
     "\tTimestamp = 1795604400\n\n",
     "status=Stop cause=77 received=1795604400 header=1795604400 attrs=3", NULL},
    {"accounting-on from an IPv6 NAS", "40=u:7|95=6:2001:db8::1|32=s:bng1", "2001:db8::1", "UTC", 1,
     "Wed Nov 25 11:00:00 2026\n"
     "\tPacket-Src-IPv6-Address = 2001:db8::1\n"
     "\tAcct-Status-Type = Accounting-On\n"
     "\tNAS-IPv6-Address = 2001:db8::1\n"
     "\tNAS-Identifier = \"bng1\"\n"
     "\tTimestamp = 1795604400\n\n",
     "status=Accounting-On nas_ipv6=2001:db8::1 nas_id=bng1 src_ipv6=2001:db8::1 "
     "received=1795604400 header=1795604400 attrs=5",
     NULL},
    {"IPv6 session: prefix, interface id, framed address, two delegated prefixes",
     "40=u:1|97=p:2001:db8:1:2::/64|96=x:020c29fffe3b0001|168=6:2001:db8:1:2::7|"
     "123=p:2001:db8:1200::/56|123=x:003020010db8aa0000000000000000000000",
     "::ffff:192.0.2.9", "UTC", 1,
     "Wed Nov 25 11:00:00 2026\n"
     "\tPacket-Src-IP-Address = 192.0.2.9\n"
     "\tAcct-Status-Type = Start\n"
     "\tFramed-IPv6-Prefix = 2001:db8:1:2::/64\n"
     "\tFramed-Interface-Id = 20c:29ff:fe3b:1\n"
     "\tFramed-IPv6-Address = 2001:db8:1:2::7\n"
     "\tDelegated-IPv6-Prefix = 2001:db8:1200::/56\n"
     "\tDelegated-IPv6-Prefix = 2001:db8:aa00::/48\n"
     "\tTimestamp = 1795604400\n\n",
     "status=Start framed_ipv6=2001:db8:1:2::7 ifid=20c:29ff:fe3b:1 "
     "framed_prefix=2001:db8:1:2::/64 delegated=2001:db8:1200::/56 delegated=2001:db8:aa00::/48 "
     "src_ip=192.0.2.9 received=1795604400 header=1795604400 attrs=8",
     NULL},
    {"unknown attribute, unknown vendor, malformed values are kept as hex",
     "40=u:1|21=x:0102ff|26.9999.1=s:A|5=x:010203|4=x:0a00|97=x:0081|26.9.1=e:|1=e:", NULL, "UTC",
     1,
     "Wed Nov 25 11:00:00 2026\n"
     "\tAcct-Status-Type = Start\n"
     "\tAttr-21 = 0x0102ff\n"
     "\tAttr-26.9999.1 = 0x41\n"
     "\tAttr-5 = 0x010203\n"
     "\tAttr-4 = 0x0a00\n"
     "\tAttr-97 = 0x0081\n"
     "\tCisco-AVPair = \"\"\n"
     "\tUser-Name = \"\"\n"
     "\tTimestamp = 1795604400\n\n",
     "status=Start user= received=1795604400 header=1795604400 attrs=9", NULL},
    {"vendor attributes",
     "40=u:3|26.9.1=s:client-mac-address=3008.0644.a6bd|26.4874.56=s:0050.56ab.0001|"
     "26.2352.128=x:0000010000000005|26.3561.1=s:eth 1/1/02/23:3001|26.14988.8=s:10M/10M",
     NULL, "UTC", 1,
     "Wed Nov 25 11:00:00 2026\n"
     "\tAcct-Status-Type = Interim-Update\n"
     "\tCisco-AVPair = \"client-mac-address=3008.0644.a6bd\"\n"
     "\tERX-Dhcp-Mac-Addr = \"0050.56ab.0001\"\n"
     "\tAcct-Input-Octets-64 = 1099511627781\n"
     "\tADSL-Agent-Circuit-Id = 0x6574682031"
     "2f312f30322f32333a33303031\n"
     "\tMikrotik-Rate-Limit = \"10M/10M\"\n"
     "\tTimestamp = 1795604400\n\n",
     "status=Interim-Update received=1795604400 header=1795604400 attrs=7", NULL},
    {"malformed VSA kept whole", "40=u:1|26=x:0000000901096162", NULL, "UTC", 1,
     "Wed Nov 25 11:00:00 2026\n"
     "\tAcct-Status-Type = Start\n"
     "\tAttr-26 = 0x0000000901096162\n"
     "\tTimestamp = 1795604400\n\n",
     "status=Start received=1795604400 header=1795604400 attrs=3", NULL},
    {"string escapes: quote, backslash, UTF-8, controls, invalid UTF-8, DEL",
     "40=u:1|1=s:a\"b\\c\xc3\xa9\xe2\x82\xac\x01\t\n\r\xff\x7f~", NULL, "UTC", 1,
     "Wed Nov 25 11:00:00 2026\n"
     "\tAcct-Status-Type = Start\n"
     "\tUser-Name = \"a\\\"b\\\\c\xc3\xa9\xe2\x82\xac\\001\\t\\n\\r\\377\\177~\"\n"
     "\tTimestamp = 1795604400\n\n",
     "status=Start user=a\"b\\x5cc\\xc3\\xa9\\xe2\\x82\\xac\\x01\\x09\\x0a\\x0d\\xff\\x7f~ "
     "received=1795604400 header=1795604400 attrs=3",
     NULL},
    {"one trailing NUL is padding, an inner NUL is kept (and refused as identity)",
     "40=u:1|32=x:6e617300|1=x:6100620000", NULL, "UTC", 1,
     "Wed Nov 25 11:00:00 2026\n"
     "\tAcct-Status-Type = Start\n"
     "\tNAS-Identifier = \"nas\"\n"
     "\tUser-Name = \"a\\000b\\000\"\n"
     "\tTimestamp = 1795604400\n\n",
     NULL, RADIUS_DETAIL_E_BAD_ATTRIBUTE},
    {"tagged attributes", "40=u:1|64=x:0000000d|65=x:01000006|81=t:1,vlan100|81=s:vlan200", NULL,
     "UTC", 1,
     "Wed Nov 25 11:00:00 2026\n"
     "\tAcct-Status-Type = Start\n"
     "\tTunnel-Type:0 = VLAN\n"
     "\tTunnel-Medium-Type:1 = IEEE-802\n"
     "\tTunnel-Private-Group-Id:1 = \"vlan100\"\n"
     "\tTunnel-Private-Group-Id:0 = \"vlan200\"\n"
     "\tTimestamp = 1795604400\n\n",
     "status=Start received=1795604400 header=1795604400 attrs=6", NULL},
    /* FreeRADIUS takes a tag only from a value longer than one byte (data2vp:
     * datalen > 1), so a one-byte control character is the value, tag :0. */
    {"one-byte tagged string is its value, not a tag", "40=u:1|81=x:05", NULL, "UTC", 1,
     "Wed Nov 25 11:00:00 2026\n"
     "\tAcct-Status-Type = Start\n"
     "\tTunnel-Private-Group-Id:0 = \"\\005\"\n"
     "\tTimestamp = 1795604400\n\n",
     "status=Start received=1795604400 header=1795604400 attrs=3", NULL},
    {"no Acct-Status-Type: rendered, refused by the parser", "1=s:u", NULL, "UTC", 1,
     "Wed Nov 25 11:00:00 2026\n"
     "\tUser-Name = \"u\"\n"
     "\tTimestamp = 1795604400\n\n",
     NULL, RADIUS_DETAIL_E_NO_STATUS},
    {"header padded day, DST zone", "40=u:2", NULL, "America/Los_Angeles", 1,
     "Wed Nov 25 03:00:00 2026\n"
     "\tAcct-Status-Type = Stop\n"
     "\tTimestamp = 1795604400\n\n",
     "status=Stop received=1795604400 header=1795604400 attrs=2", NULL},
};

static int set_src(const char *text, struct sockaddr_storage *ss) {
    memset(ss, 0, sizeof *ss);
    if (!text)
        return 0;
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, text, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        return 1;
    }
    if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        return 1;
    }
    abort();
}

static void test_round_trip(void) {
    for (size_t i = 0; i < sizeof rt_cases / sizeof rt_cases[0]; i++) {
        const rt_case *c = &rt_cases[i];
        check_current = c->name;
        uint8_t p[RADIUS_PKT_MAX];
        size_t n = build(c->spec, p);
        radius_pkt pk;
        error err;
        CHECK_INT(radius_pkt_parse(p, n, &pk, &err), RADIUS_PKT_OK);
        struct sockaddr_storage ss;
        int have_src = set_src(c->src, &ss);
        radius_render_opts o = {c->zone, c->dates_as_integer};
        buf b;
        buf_init(&b);
        int rc = radius_render_detail(&pk, (int64_t)RECEIVED * TIMEUTIL_US,
                                      have_src ? (struct sockaddr *)&ss : NULL, &o, &b, &err);
        CHECK_INT(rc, 0);
        CHECK_STR(b.p, c->want);

        arena a;
        arena_init(&a, 0);
        radius_detail_rec r;
        error e;
        int prc = radius_detail_parse(b.p, b.len, c->zone, &a, &r, &e);
        if (c->canon) {
            if (prc < 0)
                fprintf(stderr, "parse error %s: %s\n", e.code, e.msg);
            CHECK_INT(prc, 0);
            if (prc == 0) {
                char *got = canon(&r);
                CHECK_STR(got, c->canon);
                free(got);
            }
        } else {
            CHECK_INT(prc, -1);
            CHECK_STR(e.code, c->reason);
        }
        /* The splitter finds exactly this one terminated record. */
        detail_split_span sp;
        CHECK_INT(detail_split_next(b.p, b.len, 0, &sp), 1);
        CHECK_INT(sp.terminated, 1);
        CHECK_INT(sp.next, b.len);
        arena_close(&a);
        buf_close(&b);
    }
    check_current = "round_trip";
}

/* The radclient capture (see test_radius_pkt.c) renders exactly as radclient
 * printed the packet it sent, run with TZ=Europe/Berlin. */
static void test_radclient_capture(void) {
    static const char hex[] =
        "04da00e26ad664e62f7dfac829e9091576196fff280600000001011864736c2d303030313131406973702e"
        "6578616d706c652c0b3130313538363833390406c6336402200a626e67322d6d616e0506000004773d0600"
        "00000f571867652d322f322f332e313632333a3130302d313632330806c612042a1f10333030382e303634"
        "342e6136626437066b06bfb02906000000002d06000000010606000000020706000000017b14003820010d"
        "b81200000000000000000000001a29000000090123636c69656e742d6d61632d616464726573733d333030"
        "382e303634342e61366264";
    static const char want[] = "Wed Nov 25 12:00:05 2026\n"
                               "\tAcct-Status-Type = Start\n"
                               "\tUser-Name = \"dsl-000111@isp.example\"\n"
                               "\tAcct-Session-Id = \"101586839\"\n"
                               "\tNAS-IP-Address = 198.51.100.2\n"
                               "\tNAS-Identifier = \"bng2-man\"\n"
                               "\tNAS-Port = 1143\n"
                               "\tNAS-Port-Type = Ethernet\n"
                               "\tNAS-Port-Id = \"ge-2/2/3.1623:100-1623\"\n"
                               "\tFramed-IP-Address = 198.18.4.42\n"
                               "\tCalling-Station-Id = \"3008.0644.a6bd\"\n"
                               "\tEvent-Timestamp = \"Nov 25 2026 12:00:00 CET\"\n"
                               "\tAcct-Delay-Time = 0\n"
                               "\tAcct-Authentic = RADIUS\n"
                               "\tService-Type = Framed-User\n"
                               "\tFramed-Protocol = PPP\n"
                               "\tDelegated-IPv6-Prefix = 2001:db8:1200::/56\n"
                               "\tCisco-AVPair = \"client-mac-address=3008.0644.a6bd\"\n"
                               "\tTimestamp = 1795604405\n\n";
    uint8_t p[512];
    size_t n = 0;
    for (const char *h = hex; h[0]; h += 2) {
        unsigned v;
        sscanf(h, "%2x", &v);
        p[n++] = (uint8_t)v;
    }
    radius_pkt pk;
    error err;
    CHECK_INT(radius_pkt_parse(p, n, &pk, &err), RADIUS_PKT_OK);
    radius_render_opts o = {"Europe/Berlin", 0};
    buf b;
    buf_init(&b);
    CHECK_INT(radius_render_detail(&pk, (int64_t)(RECEIVED + 5) * TIMEUTIL_US + 999999, NULL, &o,
                                   &b, &err),
              0);
    CHECK_STR(b.p, want);
    arena a;
    arena_init(&a, 0);
    radius_detail_rec r;
    error e;
    CHECK_INT(radius_detail_parse(b.p, b.len, "Europe/Berlin", &a, &r, &e), 0);
    char *got = canon(&r);
    CHECK_STR(got, "status=Start session=101586839 user=dsl-000111@isp.example "
                   "framed_ip=198.18.4.42 delegated=2001:db8:1200::/56 calling=3008.0644.a6bd "
                   "nas_ip=198.51.100.2 nas_id=bng2-man nas_port=1143 "
                   "nas_port_id=ge-2/2/3.1623:100-1623 nas_port_type=Ethernet "
                   "event_ts=1795604400 received=1795604405 header=1795604405 attrs=18");
    free(got);
    arena_close(&a);
    buf_close(&b);
}

static void test_errors(void) {
    uint8_t p[64];
    size_t n = build("40=u:1", p);
    radius_pkt pk;
    error err;
    radius_pkt_parse(p, n, &pk, &err);
    buf b;
    buf_init(&b);
    buf_adds(&b, "kept");
    radius_render_opts bad = {"Mars/Olympus", 1};
    CHECK_INT(radius_render_detail(&pk, 0, NULL, &bad, &b, &err), -1);
    CHECK_STR(b.p, "kept");
    CHECK(strstr(err.msg, "Mars/Olympus") != NULL);
    p[0] = RADIUS_ACCOUNTING_RESPONSE;
    radius_pkt_parse(p, n, &pk, &err);
    radius_render_opts ok = {"UTC", 1};
    CHECK_INT(radius_render_detail(&pk, 0, NULL, &ok, &b, &err), -1);
    CHECK_STR(b.p, "kept");
    CHECK_STR(err.msg, "packet code 5 is not an Accounting-Request");
    buf_close(&b);
}

/* Records rendered one after another form a detail file the splitter and
 * parser read back record by record. */
static void test_file_of_records(void) {
    static const char *const specs[] = {"40=u:1|1=s:a", "40=u:3|1=s:b", "40=u:2|1=s:c|49=u:1"};
    buf b;
    buf_init(&b);
    radius_render_opts o = {"UTC", 1};
    for (size_t i = 0; i < 3; i++) {
        uint8_t p[128];
        size_t n = build(specs[i], p);
        radius_pkt pk;
        error err;
        radius_pkt_parse(p, n, &pk, &err);
        CHECK_INT(radius_render_detail(&pk, (int64_t)(RECEIVED + (int64_t)i) * TIMEUTIL_US, NULL,
                                       &o, &b, &err),
                  0);
    }
    static const char *const users[] = {"a", "b", "c"};
    size_t off = 0, k = 0;
    detail_split_span sp;
    while (detail_split_next(b.p + off, b.len - off, 1, &sp)) {
        arena a;
        arena_init(&a, 0);
        radius_detail_rec r;
        error e;
        CHECK_INT(radius_detail_parse(b.p + off + sp.off, sp.len, "UTC", &a, &r, &e), 0);
        if (k < 3)
            CHECK_STR(r.user_name, users[k]);
        CHECK_INT(sp.terminated, 1);
        k++;
        off += sp.next;
        arena_close(&a);
    }
    CHECK_INT(k, 3);
    buf_close(&b);
}

static const check_test tests[] = {
    {"round_trip", test_round_trip},
    {"radclient_capture", test_radclient_capture},
    {"errors", test_errors},
    {"file_of_records", test_file_of_records},
    {0},
};

int main(void) {
    return check_main("radius_render", tests);
}
