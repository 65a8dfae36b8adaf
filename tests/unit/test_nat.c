/* ingest/nat: the records in CGN log lines, against golden files
 * (tests/golden/nat: one input line each, the records it gives as a line of
 * key=value, or its error), and the syslog header parsed by lib/syslog. */
#include "arena.h"
#include "check.h"
#include "golden.h"
#include "nat.h"
#include "nat_kinds.h"
#include "syslog.h"

#include <stdio.h>
#include <string.h>

static const char *kind_name(int k) {
    static const char *const n[] = {"?",        "allocated",    "interim",
                                    "released", "session_open", "session_close"};
    return k >= 1 && k <= 5 ? n[k] : n[0];
}

static void render(const nat_record *r, int n, out_buf *out) {
    for (int i = 0; i < n; i++) {
        if (i)
            out_puts(out, " |");
        out_kv(out, "kind", kind_name(r[i].kind));
        out_kv(out, "vendor", r[i].vendor);
        out_kvi(out, "ts", r[i].ts == INT64_MIN ? -1 : r[i].ts);
        out_kv(out, "inside", r[i].inside);
        out_kv(out, "vrf", r[i].inside_vrf);
        out_kvi(out, "inside_port", r[i].inside_port);
        out_kv(out, "outside", r[i].outside);
        out_kvi(out, "ports", r[i].port_lo);
        out_kvi(out, "to", r[i].port_hi);
        out_kvi(out, "proto", r[i].proto);
        out_kv(out, "pool", r[i].pool);
    }
}

static void golden_line(void *arg, const char *line, size_t len, out_buf *out) {
    (void)arg;
    arena a;
    arena_init(&a, 0);
    nat_record r[NAT_MAX_RECORDS];
    error e;
    error_clear(&e);
    int n;
    out_reset(out);
    int64_t ts;
    const char *host, *rest;
    size_t hl;
    if (nat_is_conntrack(line, len)) {
        n = nat_parse_conntrack(line, len, &a, r, &e);
    } else if (nat_cisco_header(line, len, &ts, &host, &hl, &rest)) {
        nat_line l = {NULL, 0, NULL, 0, NULL, 0, rest, (size_t)(line + len - rest)};
        n = nat_parse(&l, &a, r, NAT_MAX_RECORDS, &e);
        out_kvi(out, "header_ts", ts);
        out_kvn(out, "host", host, hl);
        out_puts(out, " :");
    } else {
        syslog_ctx ctx = {golden_at_time("2026-11-21T12:00:00Z"), "UTC", NULL, NULL};
        syslog_record sr;
        if (syslog_parse(line, len, &ctx, &sr, &e) < 0) {
            out_kv(out, "syslog_error", e.code);
            arena_close(&a);
            return;
        }
        nat_line l = {sr.app.p, sr.app.len, sr.msgid.p, sr.msgid.len,
                      sr.sd.p,  sr.sd.len,  sr.msg.p,   sr.msg.len};
        n = nat_parse(&l, &a, r, NAT_MAX_RECORDS, &e);
    }
    if (n < 0) {
        out_kv(out, "error", e.code);
        out_kvi(out, "pos", (long long)e.pos);
        out_kv(out, "msg", e.msg);
    } else if (n == 0)
        out_puts(out, "none");
    else
        render(r, n, out);
    arena_close(&a);
}

static const golden_spec golden = {"tests/golden/nat", ".log", ".want", NULL, NULL, golden_line};

static void test_golden(void) {
    golden_run(&golden, NULL);
}

/* The generated kinds are the ones the SQL defines (sql/functions/nat.sql). */
static void test_kinds(void) {
    CHECK_INT(NAT_KIND_ALLOCATED, 1);
    CHECK_INT(NAT_KIND_RELEASED, 3);
    CHECK_INT(NAT_KIND_SESSION_CLOSE, 5);
}

/* More records in one Cisco message than the caller has room for: refused,
 * not cut short silently. */
static void test_too_many(void) {
    char line[4096];
    size_t n = (size_t)snprintf(line, sizeof line, "Nov 21 10:00:05 cgn2 NAT44:");
    for (int i = 0; i < 3; i++)
        n += (size_t)snprintf(line + n, sizeof line - n,
                              "[UserbasedA - 100.64.2.%d 1 - 203.0.113.20 - %d %d - - ]", i,
                              1024 + i * 512, 1535 + i * 512);
    syslog_ctx ctx = {golden_at_time("2026-11-21T12:00:00Z"), "UTC", NULL, NULL};
    syslog_record sr;
    error e;
    CHECK_INT(syslog_parse(line, n, &ctx, &sr, &e), 0);
    nat_line l = {sr.app.p, sr.app.len, sr.msgid.p, sr.msgid.len,
                  sr.sd.p,  sr.sd.len,  sr.msg.p,   sr.msg.len};
    arena a;
    arena_init(&a, 0);
    nat_record r[2];
    CHECK_INT(nat_parse(&l, &a, r, 2, &e), -1);
    CHECK(strstr(e.msg, "more records") != NULL);
    nat_record r3[3];
    CHECK_INT(nat_parse(&l, &a, r3, 3, &e), 3);
    arena_close(&a);
}

static const check_test tests[] = {
    {"golden", test_golden},
    {"kinds", test_kinds},
    {"too_many", test_too_many},
    {0},
};

int main(void) {
    return check_main("nat", tests);
}
