/* collect/ipfix: IPFIX and NetFlow v9 NAT event messages (made by
 * tests/tools/spoor-ipfix-send from tests/ipfix/NAME.script, one message a
 * hex line in tests/golden/ipfix) against the lines the collector sends
 * to Kafka; then those lines through ingest/nat's reader: the decoder and
 * the parser agree on one format.  "# profile junos" switches the
 * exporter's natEvent numbering. */
#include "arena.h"
#include "check.h"
#include "golden.h"
#include "ipfix.h"
#include "nat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct run {
    ipfix_state *s;
    ipfix_profile profile;
    out_buf *out;
} run;

static void begin(void *arg) {
    run *r = arg;
    ipfix_state_free(r->s);
    r->s = ipfix_state_new();
    r->profile = IPFIX_PROFILE_IANA;
}

static void directive(void *arg, const char *line) {
    run *r = arg;
    if (!strcmp(line, "# profile junos"))
        r->profile = IPFIX_PROFILE_JUNOS;
}

static const char *kind_name(int k) {
    static const char *const n[] = {"?",        "allocated",    "interim",
                                    "released", "session_open", "session_close"};
    return k >= 1 && k <= 5 ? n[k] : n[0];
}

/* Each line the collector would send, and what ingest reads in it. */
static void line_cb(void *arg, const char *line, size_t len) {
    run *r = arg;
    out_puts(r->out, " << ");
    out_put(r->out, line, len);
    out_puts(r->out, " >>");
    arena a;
    arena_init(&a, 0);
    nat_record rec;
    const char *host;
    error e;
    error_clear(&e);
    int n = nat_parse_ipfix(line, len, &a, &rec, &host, &e);
    if (n < 0) {
        out_kv(r->out, "error", e.code);
        out_kv(r->out, "msg", e.msg);
    } else if (n == 0)
        out_puts(r->out, " none");
    else {
        out_kv(r->out, "host", host);
        out_kv(r->out, "kind", kind_name(rec.kind));
        out_kvi(r->out, "ts", rec.ts);
        out_kv(r->out, "inside", rec.inside);
        out_kv(r->out, "vrf", rec.inside_vrf);
        out_kvi(r->out, "inside_port", rec.inside_port);
        out_kv(r->out, "outside", rec.outside);
        out_kvi(r->out, "ports", rec.port_lo);
        out_kvi(r->out, "to", rec.port_hi);
        out_kvi(r->out, "proto", rec.proto);
        out_kv(r->out, "pool", rec.pool);
    }
    arena_close(&a);
}

static int hexval(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void golden_line(void *arg, const char *line, size_t len, out_buf *out) {
    run *r = arg;
    unsigned char msg[65536];
    size_t n = 0;
    for (size_t i = 0; i + 1 < len && n < sizeof msg; i += 2)
        msg[n++] = (unsigned char)(hexval(line[i]) * 16 + hexval(line[i + 1]));
    out_reset(out);
    r->out = out;
    ipfix_stats before = *ipfix_state_stats(r->s);
    int lines = ipfix_decode(r->s, "192.0.2.50:4739", "cgn-x", r->profile, msg, n, line_cb, r);
    const ipfix_stats *st = ipfix_state_stats(r->s);
    out_kvi(out, "lines", lines);
    out_kvi(out, "records", st->records - before.records);
    out_kvi(out, "templates", st->templates - before.templates);
    out_kvi(out, "no_template", st->no_template - before.no_template);
    out_kvi(out, "lost", st->lost - before.lost);
    out_kvi(out, "invalid", st->invalid - before.invalid);
}

static void test_golden(void) {
    run r = {0};
    golden_spec g = {"tests/golden/ipfix", ".hex", ".want", begin, directive, golden_line};
    golden_run(&g, &r);
    ipfix_state_free(r.s);
}

static void ignore_cb(void *arg, const char *line, size_t len) {
    (void)arg, (void)line, (void)len;
}

/* An exporter may not make the collector keep templates without bound. */
static void test_template_bound(void) {
    ipfix_state *s = ipfix_state_new();
    unsigned char m[16 + 4 + 8];
    int invalid = 0;
    for (int id = 256; id < 256 + IPFIX_MAX_TEMPLATES + 10; id++) {
        unsigned char h[] = {0,
                             10,
                             0,
                             sizeof m,
                             0,
                             0,
                             0,
                             0,
                             0,
                             0,
                             0,
                             0,
                             0,
                             0,
                             0,
                             1,
                             0,
                             2,
                             0,
                             12,
                             (unsigned char)(id >> 8),
                             (unsigned char)id,
                             0,
                             1,
                             0,
                             8,
                             0,
                             4};
        memcpy(m, h, sizeof m);
        ipfix_decode(s, "192.0.2.51:1", "x", IPFIX_PROFILE_IANA, m, sizeof m, ignore_cb, NULL);
        invalid = (int)ipfix_state_stats(s)->invalid;
        if (invalid)
            break;
    }
    CHECK_INT(invalid, 1);
    CHECK_INT((int)ipfix_state_stats(s)->templates, IPFIX_MAX_TEMPLATES + 1);
    ipfix_state_free(s);
}

/* …nor by sending from ever new source ports. */
static void test_template_bound_ports(void) {
    ipfix_state *s = ipfix_state_new();
    unsigned char m[16 + 4 + 8];
    for (int port = 1; port <= IPFIX_MAX_TEMPLATES + 10; port++) {
        char ex[32];
        snprintf(ex, sizeof ex, "192.0.2.52:%d", port);
        unsigned char h[] = {0, 10, 0, sizeof m, 0, 0,  0, 0, 0, 0, 0, 0, 0, 0,
                             0, 1,  0, 2,        0, 12, 1, 0, 0, 1, 0, 8, 0, 4};
        memcpy(m, h, sizeof m);
        ipfix_decode(s, ex, "x", IPFIX_PROFILE_IANA, m, sizeof m, ignore_cb, NULL);
    }
    /* every template read; each one past the bound refused as invalid */
    CHECK_INT((int)ipfix_state_stats(s)->templates, IPFIX_MAX_TEMPLATES + 10);
    CHECK_INT((int)ipfix_state_stats(s)->invalid, 10);
    ipfix_state_free(s);
}

static void test_exporters(void) {
    ipfix_exporter *e;
    int n;
    error err;
    CHECK_INT(ipfix_exporters_parse("192.0.2.50=cgn1:iana, 2001:db8::5=mx1:junos", &e, &n, &err),
              0);
    CHECK_INT(n, 2);
    CHECK(ipfix_exporters_find(e, n, "2001:db8:0::5") != NULL);
    CHECK_STR(ipfix_exporters_find(e, n, "2001:db8::5")->name, "mx1");
    CHECK(ipfix_exporters_find(e, n, "192.0.2.51") == NULL);
    free(e);
    CHECK_INT(ipfix_exporters_parse("192.0.2.50=cgn1:cisco", &e, &n, &err), -1);
    CHECK(strstr(err.msg, "profile 'cisco'") != NULL);
    CHECK_INT(ipfix_exporters_parse("192.0.2.50=cg n:iana", &e, &n, &err), -1);
    CHECK_INT(ipfix_exporters_parse("192.0.2.50=a:iana,192.0.2.50=b:iana", &e, &n, &err), -1);
    CHECK(strstr(err.msg, "twice") != NULL);
}

static const check_test tests[] = {
    {"golden", test_golden},
    {"template_bound", test_template_bound},
    {"template_bound_ports", test_template_bound_ports},
    {"exporters", test_exporters},
    {0},
};

int main(void) {
    return check_main("ipfix", tests);
}
