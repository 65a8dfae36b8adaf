/*
 * Tests for ingest/syslog: table-driven cases, edge cases of time inference
 * (New Year, DST in Europe/London and America/New_York), robustness on
 * exact-size buffers (ASan catches any read past the end), and the golden
 * files tests/golden/syslog/NAME.log -> NAME.want.
 *
 * Golden format: one input line per .log line, one canonical "key=value ..."
 * (or "error=REASON pos=N") per .want line.  A .log line starting with '#'
 * is a directive copied verbatim to the .want: "#ctx ref=RFC3339 zone=IANA
 * host.NAME=IANA ..." sets the context for the lines below it.
 * SPOOR_GOLDEN_UPDATE=1 rewrites the .want files (review the diff!).
 */
#include "check.h"
#include "golden.h"
#include "syslog.h"
#include "timeutil.h"

#include <stdlib.h>

/* ---- canonical rendering ------------------------------------------------ */

static void kvs(out_buf *b, const char *key, syslog_slice s) {
    if (s.len)
        out_kvn(b, key, s.p, s.len);
}

static const char *const flag_names[] = {
    "pri",          "rfc5424", "rfc3339", "year_inferred", "local",    "ambiguous", "nonexistent",
    "default_zone", "no_host", "no_tag",  "bom",           "repeated", "level_word"};

static void render(out_buf *b, int rc, const syslog_record *r, const error *e) {
    if (rc < 0) {
        out_err(b, e->code[0] ? e->code : NULL, e->pos);
        return;
    }
    out_reset(b);
    char t[TIMEUTIL_RFC3339_MAX];
    out_kv(b, "time", timeutil_format(r->time_us, t));
    if (r->pri >= 0)
        out_kvi(b, "pri", r->pri);
    kvs(b, "host", r->host);
    kvs(b, "app", r->app);
    if (r->pid >= 0)
        out_kvi(b, "pid", r->pid);
    else
        kvs(b, "procid", r->procid);
    kvs(b, "msgid", r->msgid);
    kvs(b, "sd", r->sd);
    out_kvn(b, "msg", r->msg.p, r->msg.len);
    if (r->repeat != 1)
        out_kvi(b, "repeat", r->repeat);
    if (r->zone)
        out_kv(b, "zone", r->zone);
    out_flags(b, "flags", r->flags, flag_names, sizeof flag_names / sizeof flag_names[0]);
}

/* ---- context with a small host->zone table ------------------------------ */

typedef struct test_ctx {
    syslog_ctx c;
    char zone[64];
    char hosts[8][64], zones[8][64];
    int nhosts;
} test_ctx;

static const char *lookup(void *arg, const char *host, size_t len) {
    test_ctx *t = arg;
    for (int k = 0; k < t->nhosts; k++)
        if (strlen(t->hosts[k]) == len && memcmp(t->hosts[k], host, len) == 0)
            return t->zones[k];
    return NULL;
}

static void ctx_init(test_ctx *t, const char *ref, const char *zone) {
    memset(t, 0, sizeof *t);
    t->c.ref_us = ref ? golden_at_time(ref) : 0;
    snprintf(t->zone, sizeof t->zone, "%s", zone ? zone : "UTC");
    t->c.default_zone = t->zone;
    t->c.zone_for_host = lookup;
    t->c.zone_arg = t;
}

/* "#ctx ref=... zone=... host.NAME=ZONE" */
static void ctx_directive(test_ctx *t, const char *line) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", line);
    for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " ")) {
        if (strncmp(tok, "ref=", 4) == 0)
            t->c.ref_us = golden_at_time(tok + 4);
        else if (strncmp(tok, "zone=", 5) == 0)
            snprintf(t->zone, sizeof t->zone, "%s", tok + 5);
        else if (strncmp(tok, "host.", 5) == 0 && strchr(tok, '=') && t->nhosts < 8) {
            char *eqs = strchr(tok, '=');
            *eqs = '\0';
            snprintf(t->hosts[t->nhosts], 64, "%s", tok + 5);
            snprintf(t->zones[t->nhosts], 64, "%s", eqs + 1);
            t->nhosts++;
        }
    }
}

/* Parses from an exact-size heap copy so ASan sees any overread. */
static void run(const char *line, size_t len, const syslog_ctx *c, out_buf *b) {
    char *copy = malloc(len ? len : 1);
    memcpy(copy, line, len);
    syslog_record r;
    error e;
    int rc = syslog_parse(copy, len, c, &r, &e);
    if (rc == 0 && r.msg.len)
        CHECK(r.msg.p >= copy && r.msg.p + r.msg.len <= copy + len);
    render(b, rc, &r, &e);
    free(copy);
}

/* ---- table-driven cases -------------------------------------------------- */

typedef struct tcase {
    const char *name, *line, *ref, *zone, *want;
} tcase;

static const tcase cases[] = {
    {"rfc3164 basic",
     "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
     "2026-10-11T22:15:00Z", "UTC",
     "time=2026-10-11T22:14:15Z pri=34 host=mymachine app=su msg=\"'su root' failed for lonvick "
     "on /dev/pts/8\" zone=UTC flags=pri,year_inferred,local,default_zone"},
    {"space padded day", "Nov  2 03:04:05 mx1 postfix/smtpd[4242]: connect from x[192.0.2.1]",
     "2026-11-02T03:00:00Z", "UTC",
     "time=2026-11-02T03:04:05Z host=mx1 app=postfix/smtpd pid=4242 msg=\"connect from "
     "x[192.0.2.1]\" zone=UTC flags=year_inferred,local,default_zone"},
    {"multi-instance tag", "Nov 22 13:15:02 mx1 postfix-out/submission/smtpd[7]: hello",
     "2026-11-22T13:15:00Z", "UTC",
     "time=2026-11-22T13:15:02Z host=mx1 app=postfix-out/submission/smtpd pid=7 msg=hello "
     "zone=UTC flags=year_inferred,local,default_zone"},
    {"rfc3339 forward format",
     "<22>2026-11-22T13:15:02.123456+01:00 mx1 postfix/qmgr[99]: 4F3A2B1C0D: removed",
     "2026-11-22T12:15:03Z", "America/New_York",
     "time=2026-11-22T12:15:02.123456Z pri=22 host=mx1 app=postfix/qmgr pid=99 msg=\"4F3A2B1C0D: "
     "removed\" flags=pri,rfc3339"},
    {"rfc3339 offset without colon", "2015-12-14T00:06:12+0000 011.lax.mailroute.net x[1]: y", NULL,
     NULL,
     "time=2015-12-14T00:06:12Z host=011.lax.mailroute.net app=x pid=1 msg=y "
     "flags=rfc3339"},
    {"rfc5424 with BOM",
     "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - "
     "\xEF\xBB\xBF'su root' failed",
     NULL, NULL,
     "time=2003-10-11T22:14:15.003000Z pri=34 host=mymachine.example.com app=su msgid=ID47 "
     "msg=\"'su root' failed\" flags=pri,rfc5424,bom"},
    {"rfc5424 structured data escapes",
     "<165>1 2003-10-11T22:14:15.003Z h evntslog - ID47 [ex@32473 iut=\"3\" a=\"x\\]y\\\"z\\\\\"]"
     "[p@1 class=\"high\"] msg",
     NULL, NULL,
     "time=2003-10-11T22:14:15.003000Z pri=165 host=h app=evntslog msgid=ID47 sd=\"[ex@32473 "
     "iut=\\\"3\\\" a=\\\"x\\\\]y\\\\\\\"z\\\\\\\\\\\"][p@1 class=\\\"high\\\"]\" msg=msg "
     "flags=pri,rfc5424"},
    {"rfc5424 no msg", "<13>1 2026-01-01T00:00:00Z - - - - -", NULL, NULL,
     "time=2026-01-01T00:00:00Z pri=13 msg=\"\" flags=pri,rfc5424,no_host"},
    {"rfc5424 nil timestamp", "<13>1 - host app - - - msg", NULL, NULL, "error=no_timestamp pos=6"},
    {"rfc5424 bad sd", "<13>1 2026-01-01T00:00:00Z h a - - [x y=3] m", NULL, NULL,
     "error=bad_sd pos=39"},
    {"rfc5424 unterminated sd", "<13>1 2026-01-01T00:00:00Z h a - - [x y=\"3] m", NULL, NULL,
     "error=bad_sd pos=45"},
    {"no host, tag first", "Nov 22 13:15:02 postfix/smtpd[1]: x", "2026-11-22T13:00:00Z", "UTC",
     "time=2026-11-22T13:15:02Z app=postfix/smtpd pid=1 msg=x zone=UTC "
     "flags=year_inferred,local,default_zone,no_host"},
    {"no tag", "<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!", "2026-02-05T17:32:20Z", "UTC",
     "time=2026-02-05T17:32:18Z pri=13 host=10.0.0.99 msg=\"Use the BFG!\" zone=UTC "
     "flags=pri,year_inferred,local,default_zone,no_tag"},
    {"rsyslog truncated tag", "Nov 22 13:15:02 h postfix-xxxxxx/submission/smtpd[123 msg",
     "2026-11-22T13:00:00Z", "UTC",
     "time=2026-11-22T13:15:02Z host=h app=postfix-xxxxxx/submission/smtpd pid=123 msg=msg "
     "zone=UTC flags=year_inferred,local,default_zone"},
    {"repeated message",
     "Sep 30 17:01:03 z postfix/smtpd[11557]: message repeated 2 times: [ "
     "535721E1E6C: client=a[192.0.0.135]]",
     "2026-09-30T17:01:04Z", "UTC",
     "time=2026-09-30T17:01:03Z host=z app=postfix/smtpd pid=11557 msg=\"535721E1E6C: "
     "client=a[192.0.0.135]\" repeat=2 zone=UTC flags=year_inferred,local,default_zone,repeated"},
    {"crlf stripped", "Nov 22 13:15:02 h p: m\r\n", "2026-11-22T13:15:02Z", "UTC",
     "time=2026-11-22T13:15:02Z host=h app=p msg=m zone=UTC "
     "flags=year_inferred,local,default_zone"},
    {"empty", "", NULL, NULL, "error=empty pos=0"},
    {"only newline", "\n", NULL, NULL, "error=empty pos=0"},
    {"bad pri", "<192>Nov 22 13:15:02 h p: m", NULL, NULL, "error=bad_pri pos=4"},
    {"pri not closed", "<13 Nov 22 13:15:02 h p: m", NULL, NULL, "error=bad_pri pos=3"},
    {"no timestamp", "hello world", "2026-01-01T00:00:00Z", "UTC", "error=no_timestamp pos=0"},
    {"bad month day", "Feb 30 01:02:03 h p: m", "2026-01-01T00:00:00Z", "UTC",
     "error=bad_timestamp pos=15"},
    {"bad hour", "Nov 22 25:15:02 h p: m", "2026-01-01T00:00:00Z", "UTC",
     "error=bad_timestamp pos=15"},
    {"bad rfc3339", "2026-13-22T13:15:02Z h p: m", NULL, NULL, "error=bad_timestamp pos=0"},
    {"timestamp only", "Nov 22 13:15:02", "2026-11-22T13:15:02Z", "UTC", "error=truncated pos=15"},
    {"no reference", "Nov 22 13:15:02 h p: m", NULL, "UTC", "error=no_reference pos=0"},
    {"bad zone", "Nov 22 13:15:02 h p: m", "2026-11-22T13:15:02Z", "Not/AZone",
     "error=bad_zone pos=0"},
    {"feb 29 picks leap year", "Feb 29 12:00:00 h p: m", "2029-01-10T00:00:00Z", "UTC",
     "time=2028-02-29T12:00:00Z host=h app=p msg=m zone=UTC "
     "flags=year_inferred,local,default_zone"},
    {"rfc3339 without offset is local", "2026-07-01T12:00:00 h p: m", "2026-07-01T11:00:00Z",
     "Europe/London",
     "time=2026-07-01T11:00:00Z host=h app=p msg=m zone=Europe/London "
     "flags=rfc3339,local,default_zone"},
    {NULL, NULL, NULL, NULL, NULL},
};

static void test_table(void) {
    for (const tcase *c = cases; c->name; c++) {
        test_ctx t;
        ctx_init(&t, c->ref, c->zone);
        out_buf b;
        run(c->line, strlen(c->line), c->ref || c->zone ? &t.c : NULL, &b);
        check_current = c->name;
        CHECK_STR(b.s, c->want);
    }
    check_current = "table";
}

/* ---- time inference across New Year and DST ------------------------------ */

typedef struct tcase_time {
    const char *name, *line, *ref, *zone, *want_time, *want_flags;
} tcase_time;

static const tcase_time time_cases[] = {
    /* New Year, both ways: the candidate year closest to the reference wins. */
    {"dec 31 read on jan 1", "Dec 31 23:59:59 h p: m", "2027-01-01T00:00:05Z", "UTC",
     "2026-12-31T23:59:59Z", "year_inferred,local"},
    {"jan 1 read on dec 31", "Jan  1 00:00:01 h p: m", "2026-12-31T23:59:58Z", "UTC",
     "2027-01-01T00:00:01Z", "year_inferred,local"},
    {"new year in london winter", "Dec 31 23:59:59 h p: m", "2027-01-01T00:00:05Z", "Europe/London",
     "2026-12-31T23:59:59Z", "year_inferred,local"},
    {"new year in new york", "Dec 31 23:59:59 h p: m", "2027-01-01T05:00:05Z", "America/New_York",
     "2027-01-01T04:59:59Z", "year_inferred,local"},
    {"new year new york read early", "Jan  1 00:00:10 h p: m", "2027-01-01T04:59:50Z",
     "America/New_York", "2027-01-01T05:00:10Z", "year_inferred,local"},
    /* London falls back 2026-10-25 02:00 BST -> 01:00 GMT: 01:30 happens twice. */
    {"london fall-back first", "Oct 25 01:30:00 h p: m", "2026-10-25T00:31:00Z", "Europe/London",
     "2026-10-25T00:30:00Z", "year_inferred,local,ambiguous"},
    {"london fall-back second", "Oct 25 01:30:00 h p: m", "2026-10-25T01:31:00Z", "Europe/London",
     "2026-10-25T01:30:00Z", "year_inferred,local,ambiguous"},
    /* London springs forward 2026-03-29 01:00 GMT -> 02:00 BST: 01:30 never happens. */
    {"london spring gap", "Mar 29 01:30:00 h p: m", "2026-03-29T01:00:00Z", "Europe/London",
     "2026-03-29T00:30:00Z", "year_inferred,local,nonexistent"},
    /* New York: fall back 2026-11-01 02:00 EDT -> 01:00 EST. */
    {"new york fall-back first", "Nov  1 01:30:00 h p: m", "2026-11-01T05:29:00Z",
     "America/New_York", "2026-11-01T05:30:00Z", "year_inferred,local,ambiguous"},
    {"new york fall-back second", "Nov  1 01:30:00 h p: m", "2026-11-01T06:31:00Z",
     "America/New_York", "2026-11-01T06:30:00Z", "year_inferred,local,ambiguous"},
    /* New York: spring forward 2026-03-08 02:00 EST -> 03:00 EDT. */
    {"new york spring gap", "Mar  8 02:30:00 h p: m", "2026-03-08T07:00:00Z", "America/New_York",
     "2026-03-08T06:30:00Z", "year_inferred,local,nonexistent"},
    {"summer time london", "Jul  4 12:00:00 h p: m", "2026-07-04T11:00:01Z", "Europe/London",
     "2026-07-04T11:00:00Z", "year_inferred,local"},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};

static void test_time_inference(void) {
    for (const tcase_time *c = time_cases; c->name; c++) {
        test_ctx t;
        ctx_init(&t, c->ref, c->zone);
        t.nhosts = 1;
        snprintf(t.hosts[0], 64, "h");
        snprintf(t.zones[0], 64, "%s", c->zone);
        syslog_record r;
        error e;
        check_current = c->name;
        int rc = syslog_parse(c->line, strlen(c->line), &t.c, &r, &e);
        CHECK_INT(rc, 0);
        if (rc < 0) {
            fprintf(stderr, "  error %s: %s\n", e.code, e.msg);
            continue;
        }
        char got[TIMEUTIL_RFC3339_MAX];
        CHECK_STR(timeutil_format(r.time_us, got), c->want_time);
        out_buf b;
        render(&b, rc, &r, &e);
        const char *f = strstr(b.s, "flags=");
        CHECK_STR(f ? f + 6 : "", c->want_flags);
        CHECK_STR(r.zone, c->zone);
    }
    check_current = "time_inference";
}

/* ---- robustness ------------------------------------------------------------ */

static void test_nul_and_binary(void) {
    static const char line[] = "Nov 22 13:15:02 h\0st p[1]: a\0b\xff\xfe";
    test_ctx t;
    ctx_init(&t, "2026-11-22T13:15:02Z", "UTC");
    out_buf b;
    run(line, sizeof line - 1, &t.c, &b);
    CHECK_STR(b.s, "time=2026-11-22T13:15:02Z host=\"h\\x00st\" app=p pid=1 "
                   "msg=\"a\\x00b\\xff\\xfe\" zone=UTC flags=year_inferred,local,default_zone");
}

static void test_null_ctx_and_err(void) {
    syslog_record r;
    CHECK_INT(syslog_parse("Nov 22 13:15:02 h p: m", 22, NULL, &r, NULL), -1);
    CHECK_INT(syslog_parse(NULL, 5, NULL, &r, NULL), -1);
    CHECK_INT(syslog_parse("<13>1 2026-01-01T00:00:00Z h a - - - m", 38, NULL, &r, NULL), 0);
    CHECK_INT(r.time_us, golden_at_time("2026-01-01T00:00:00Z"));
}

/* Every prefix of valid lines must parse or fail cleanly, reading nothing
 * past its length (exact-size heap copies, run under ASan). */
static void test_prefixes(void) {
    static const char *const lines[] = {
        "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 "
        "iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] \xEF\xBB\xBFmsg",
        "<22>2026-11-22T13:15:02.123456+01:00 mx1 postfix/qmgr[99]: 4F3A2B1C0D: removed",
        "Nov  2 03:04:05 mx1 postfix/smtpd[4242]: message repeated 2 times: [ x]",
    };
    test_ctx t;
    ctx_init(&t, "2026-11-22T13:15:02Z", "Europe/London");
    for (size_t k = 0; k < sizeof lines / sizeof lines[0]; k++) {
        size_t len = strlen(lines[k]);
        for (size_t p = 0; p <= len; p++) {
            char *copy = malloc(p ? p : 1);
            memcpy(copy, lines[k], p);
            syslog_record r;
            error e;
            int rc = syslog_parse(copy, p, &t.c, &r, &e);
            CHECK(rc == 0 || (rc == -1 && e.code[0] && e.pos <= p));
            free(copy);
        }
    }
}

/* ---- golden files ---------------------------------------------------------- */

static void golden_begin(void *arg) {
    ctx_init(arg, "2026-11-25T12:00:00Z", "UTC");
}

static void golden_directive(void *arg, const char *line) {
    ctx_directive(arg, line);
}

static void golden_line(void *arg, const char *line, size_t len, out_buf *b) {
    const test_ctx *t = arg;
    run(line, len, &t->c, b);
}

static const golden_spec golden = {"tests/golden/syslog", ".log",           ".want",
                                   golden_begin,          golden_directive, golden_line};

static void test_golden(void) {
    test_ctx t;
    golden_run(&golden, &t);
}

static const check_test tests[] = {
    {"table", test_table},
    {"time_inference", test_time_inference},
    {"nul_and_binary", test_nul_and_binary},
    {"null_ctx_and_err", test_null_ctx_and_err},
    {"prefixes", test_prefixes},
    {"golden", test_golden},
    {0},
};

int main(void) {
    return check_main("syslog", tests);
}
