/* Unit tests for lib/: time, Message-ID canonical form, configuration, arena, SQLSTATE classes. */
#include "arena.h"
#include "check.h"
#include "conf.h"
#include "config.h"
#include "csv.h"
#include "fileio.h"
#include "msgid.h"
#include "pg.h"
#include "pgarray.h"
#include "pgcopy.h"
#include "timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_parse_rfc3339(void) {
    static const struct {
        const char *in, *zone, *want; /* want NULL: error */
    } cases[] = {
        {"2026-11-22T13:15:02Z", NULL, "2026-11-22T13:15:02Z"},
        {"2026-11-22T13:15:02+01:00", NULL, "2026-11-22T12:15:02Z"},
        {"2026-11-22 13:15:02.5-0500", NULL, "2026-11-22T18:15:02.500000Z"},
        {"2024-02-29T00:00:00Z", NULL, "2024-02-29T00:00:00Z"},
        {"2023-02-29T00:00:00Z", NULL, NULL},
        {"2026-11-22T13:15:02", NULL, NULL}, /* no offset, no zone */
        {"2026-11-22T13:15:02", "Europe/London", "2026-11-22T13:15:02Z"},
        {"2026-07-01T13:15:02", "Europe/London", "2026-07-01T12:15:02Z"},
        {"2026-10-25T01:30:00", "Europe/London", NULL}, /* fall back: ambiguous */
        {"2026-03-29T01:30:00", "Europe/London", NULL}, /* spring forward: does not exist */
        {"2026-03-08T02:30:00", "America/New_York", NULL},
        {"2026-11-22T13:15:02", "Mars/Olympus", NULL},
        {"yesterday", NULL, NULL},
        {"2026-11-22T13:15:02Zjunk", NULL, NULL},
        {"2026-11-22T13:15Z", NULL, "2026-11-22T13:15:00Z"},
        {"2026-11-22T13:15:0Z", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t t;
        char out[TIMEUTIL_RFC3339_MAX];
        error err;
        int rc = timeutil_parse(cases[i].in, cases[i].zone, &t, &err);
        CHECK_STR(rc == 0 ? timeutil_format(t, out) : NULL, cases[i].want);
    }
}

/* Offsets are cached by exact second and zone: a transition second and the
 * one before it, asked twice, and the same instant in other zones in turn. */
static void test_zone_offset_cache(void) {
    static const struct {
        const char *zone;
        int64_t secs;
        int want;
    } cases[] = {
        {"Europe/London", 1774746000 - 1, 0},     /* 2026-03-29 00:59:59Z: GMT */
        {"Europe/London", 1774746000, 3600},      /* 01:00:00Z: BST from this second */
        {"America/New_York", 1774746000, -14400}, /* EDT since 8 March */
        {"Europe/London", 1774746000, 3600},
        {"Europe/London", 1774746000 - 1, 0},
        {"UTC", 1774746000, 0},
        {"Asia/Kolkata", 1774746000 - 1, 19800},
        {"Europe/London", 1774746000 - 1, 0},
    };
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            int off = 12345;
            error err;
            CHECK_INT(timeutil_zone_offset(cases[i].zone, cases[i].secs * TIMEUTIL_US, &off, &err),
                      0);
            CHECK_INT(off, cases[i].want);
        }
}

static void test_ambiguity_names_both(void) {
    int64_t t;
    error err;
    CHECK_INT(timeutil_parse("2026-10-25T01:30:00", "Europe/London", &t, &err), -1);
    CHECK(strstr(err.msg, "ambiguous") && strstr(err.msg, "2026-10-25T00:30:00Z") &&
          strstr(err.msg, "2026-10-25T01:30:00Z"));
    CHECK_INT(timeutil_parse("2026-03-29T01:30:00", "Europe/London", &t, &err), -1);
    CHECK(strstr(err.msg, "does not exist") && strstr(err.msg, "2026-03-29T00:30:00Z") &&
          strstr(err.msg, "2026-03-29T01:30:00Z"));
}

static void test_civil_roundtrip(void) {
    int64_t bad = 0;
    for (int64_t d = -800000; d < 800000; d += 997) {
        int y, m, dd;
        timeutil_civil_from_days(d, &y, &m, &dd);
        if (timeutil_days_from_civil(y, m, dd) != d)
            bad++;
    }
    CHECK_INT(bad, 0);
    timeutil_civil c;
    timeutil_utc_to_civil(-1, &c); /* one microsecond before the epoch */
    CHECK_INT(c.year, 1969);
    CHECK_INT(c.second, 59);
    CHECK_INT(c.usec, 999999);
}

static void test_strftime(void) {
    static const struct {
        const char *zone, *fmt, *want; /* want NULL: error */
        int64_t t;
    } cases[] = {
        {"UTC", "%a %b %e %H:%M:%S %Y", "Thu Nov  5 11:00:00 2026", 1793876400},
        {"Europe/Berlin", "%a %b %e %H:%M:%S %Y", "Wed Nov 25 12:00:00 2026", 1795604400},
        {"Europe/Berlin", "%b %e %Y %H:%M:%S %Z", "Nov 25 2026 12:00:00 CET", 1795604400},
        {"Europe/Berlin", "%b %e %Y %H:%M:%S %Z", "Jul  1 2026 14:00:00 CEST", 1782907200},
        {"Asia/Kathmandu", "%H:%M %Z", "16:45 +0545", 1795604400},
        {"Mars/Olympus", "%H", NULL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[64];
        error err;
        int rc = timeutil_strftime(cases[i].zone, cases[i].t * TIMEUTIL_US, cases[i].fmt, out,
                                   sizeof out, &err);
        CHECK_STR(rc == 0 ? out : NULL, cases[i].want);
    }
    char small[4];
    error err;
    CHECK_INT(timeutil_strftime("UTC", 0, "%Y-%m", small, sizeof small, &err), -1);
}

/* tests/golden/msgid/normalize.tsv: IN<TAB>WANT, shared with the SQL side
 * (tests/integration/48_gate.sh runs the same lines through
 * spoor.msgid_normalize), so C and SQL fold alike, non-ASCII included. */
static void test_msgid(void) {
    FILE *f = fopen("tests/golden/msgid/normalize.tsv", "r");
    CHECK(f != NULL);
    if (!f)
        return;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *tab = strchr(line, '\t');
        CHECK(tab != NULL);
        if (!tab)
            continue;
        *tab = '\0';
        char out[512];
        msgid_normalize(line, strlen(line), out);
        CHECK_STR(out, tab + 1);
        n++;
    }
    fclose(f);
    CHECK(n >= 10);
}

static void test_redact(void) {
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"host=/x password=hunter2 user=a", "host=/x password=*** user=a"},
        {"password = 'se cr\\'et' dbname=s", "password=*** dbname=s"},
        {"postgresql://bob:hunter2@db/spoor", "postgresql://bob:***@db/spoor"},
        {"postgresql://db/spoor", "postgresql://db/spoor"},
        {"postgresql://db/spoor?password=hunter2", "postgresql://db/spoor?password=***"},
        {"postgres://db?sslmode=require&password=hunter2&user=a",
         "postgres://db?sslmode=require&password=***&user=a"},
        {"postgresql://bob:pw@db:5432/s?password=x2",
         "postgresql://bob:***@db:5432/s?password=***"},
        {"postgresql://bob@db/s?application_name=a:b",
         "postgresql://bob@db/s?application_name=a:b"},
        {"host=x", "host=x"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[256];
        conf_redact_dsn(cases[i].in, out, sizeof out);
        CHECK_STR(out, cases[i].want);
    }
}

static void test_config_defaults_and_set(void) {
    spoor_config c;
    error cerr;
    unsetenv("SPOOR_TRACE_TOLERANCE");
    CHECK_INT(config_load(&c, NULL, &cerr), 0);
    CHECK_INT(c.trace_tolerance, 60);
    CHECK_INT(c.evidence_block_bytes, 256 * 1024);
    CHECK_INT(config_set(&c, "trace.tolerance", "2m", &cerr), 0);
    CHECK_INT(c.trace_tolerance, 120);
    CHECK_INT(config_set(&c, "trace.tolerance", "2y", &cerr), -1);
    CHECK_INT(config_set(&c, "no.such", "1", &cerr), -1);
    CHECK(strstr(cerr.msg, "unknown setting 'no.such'") != NULL);
    CHECK_STR(cerr.code, "config");
    config_free(&c);
}

static void test_arena(void) {
    arena a;
    arena_init(&a, 64);
    char *s = arena_strdup(&a, "hello");
    void *big = arena_alloc(&a, 1000);
    CHECK(((uintptr_t)big & 15) == 0);
    char *f = arena_printf(&a, "%s-%d", s, 42);
    CHECK_STR(f, "hello-42");
    arena_reset(&a);
    CHECK_INT(a.used_total, 0);
    CHECK_STR(arena_strndup(&a, "abcdef", 3), "abc");
    arena_close(&a);
    /* A reset keeps its chunks for the next unit of work: the same memory
     * again, a large chunk found among the kept ones, nothing handed out twice. */
    arena_init(&a, 64);
    void *p1 = arena_alloc(&a, 200);
    void *p2 = arena_alloc(&a, 40);
    arena_reset(&a);
    void *q1 = arena_alloc(&a, 200);
    void *q2 = arena_alloc(&a, 40);
    CHECK(q1 == p1);
    CHECK(q2 == p2);
    CHECK(q1 != q2);
    void *q3 = arena_alloc(&a, 40); /* no kept chunk is left: a new one */
    CHECK(q3 != q1 && q3 != q2);
    CHECK_INT(a.used_total, 208 + 48 + 48);
    arena_close(&a);
}

static void test_pg_classify(void) {
    static const struct {
        const char *state;
        pg_class want;
    } cases[] = {{"40001", PG_RETRY},     {"40P01", PG_RETRY},     {"08006", PG_RECONNECT},
                 {"57P01", PG_RECONNECT}, {"53300", PG_RECONNECT}, {"23505", PG_FATAL},
                 {"42501", PG_FATAL},     {NULL, PG_RECONNECT}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_INT(pg_classify(cases[i].state), cases[i].want);
}

/* CSV as customer systems write it: every record joined with '|' per field. */
static void test_csv(void) {
    static const struct {
        const char *in, *want, *err;
    } cases[] = {
        {"a,b,c\n1,2,3\n", "a|b|c/1|2|3/", NULL},
        {"\xEF\xBB\xBF"
         "a,b\r\n1,2\r\n",
         "a|b/1|2/", NULL},                 /* BOM, CRLF */
        {"a,b\n\n\n1,2", "a|b/1|2/", NULL}, /* blank lines, no final LF */
        {"\"Doe, Jane\",\"say \"\"hi\"\"\"\n", "Doe, Jane|say \"hi\"/", NULL}, /* quotes */
        {"\"line1\nline2\",x\n", "line1\nline2|x/", NULL}, /* newline in a field */
        {"a,,c\n,\n", "a||c/|/", NULL},                    /* empty fields */
        {"a,b\"c\n", NULL, "bad_csv line 1: a quote inside an unquoted field"},
        {"x\n\"abc\n", NULL, "bad_csv line 2: quoted field opened here is never closed"},
        {"\"a\"b,c\n", NULL, "bad_csv line 1: text after a closing quote"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        arena a;
        arena_init(&a, 0);
        csv r;
        csv_init(&r, cases[i].in, strlen(cases[i].in));
        char got[256] = "", errs[400] = "", **f;
        error err;
        error_clear(&err);
        size_t n;
        long line;
        int rc;
        while ((rc = csv_next(&r, &a, &f, &n, &line, &err)) > 0) {
            for (size_t k = 0; k < n; k++) {
                strcat(got, f[k]);
                strcat(got, k + 1 < n ? "|" : "/");
            }
        }
        if (cases[i].want) {
            CHECK_INT(rc, 0);
            CHECK_STR(got, cases[i].want);
        } else {
            CHECK_INT(rc, -1);
            snprintf(errs, sizeof errs, "%s line %d: %s", err.code, err.line, err.msg);
            CHECK_STR(errs, cases[i].err);
        }
        arena_close(&a);
    }
}

static void test_fileio(void) {
    char dir[] = "/tmp/spoor-fileio-XXXXXX", path[256], link[256];
    error err;
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/f", dir);
    snprintf(link, sizeof link, "%s/l", dir);
    FILE *f = fopen(path, "wb");
    fwrite("a\0b\n", 1, 4, f);
    fclose(f);
    CHECK_INT(symlink(path, link), 0);
    size_t len = 0;
    char *d = fileio_read(path, 0, &len, &err);
    CHECK_INT((long)len, 4);
    CHECK(d && !memcmp(d, "a\0b\n", 5)); /* NUL-terminated past the end */
    free(d);
    d = fileio_read(link, 0, &len, &err); /* followed unless asked not to */
    CHECK(d != NULL);
    free(d);
    CHECK(fileio_read(link, FILEIO_NOFOLLOW, &len, &err) == NULL);
    CHECK(strstr(err.msg, "/l: ") != NULL);
    CHECK(fileio_read(dir, 0, &len, &err) == NULL);
    CHECK(strstr(err.msg, "not a regular file") != NULL);
    snprintf(link, sizeof link, "%s/missing", dir);
    CHECK(fileio_read(link, 0, &len, &err) == NULL);
    CHECK(strstr(err.msg, "No such file") != NULL);
    snprintf(link, sizeof link, "%s/l", dir);
    unlink(link);
    unlink(path);
    rmdir(dir);
}

/* COPY text format: escapes, invalid UTF-8 and NUL replaced, numbers and
 * times, NULL, bytea, and the tab between fields of one row only. */
/* Binary arrays as array_recv reads them: the header, then per element a
 * big-endian length (-1 for NULL) and the value's binary form. */
static void test_pgarray(void) {
    static const struct {
        const char *name;
        uint32_t oid;
        int kind; /* 0 int2, 1 int8, 2 bool, 3 time, 4 text */
        int64_t v;
        const char *s;
        int null;
        const char *want; /* hex of the element after the 20-byte header */
    } cases[] = {
        {"int2", PGARRAY_INT2, 0, -2, NULL, 0, "00000002fffe"},
        {"int8", PGARRAY_INT8, 1, INT64_C(0x0102030405060708), NULL, 0, "000000080102030405060708"},
        {"bool", PGARRAY_BOOL, 2, 1, NULL, 0, "0000000101"},
        {"time at PostgreSQL's epoch", PGARRAY_TIMESTAMPTZ, 3, INT64_C(946684800000000), NULL, 0,
         "000000080000000000000000"},
        {"time at 1970", PGARRAY_TIMESTAMPTZ, 3, 0, NULL, 0, "00000008fffca2fec4c82000"},
        {"text", PGARRAY_TEXT, 4, 0, "ab", 0, "000000026162"},
        {"text with an invalid UTF-8 byte", PGARRAY_TEXT, 4, 0, "a\xff", 0, "0000000461efbfbd"},
        {"text NULL", PGARRAY_TEXT, 4, 0, NULL, 0, "ffffffff"},
        {"null", PGARRAY_INT8, 1, 0, NULL, 1, "ffffffff"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_current = cases[i].name;
        pgarray a;
        pgarray_init(&a, cases[i].oid);
        for (int rep = 0; rep < 2; rep++) {
            if (cases[i].null)
                pgarray_null(&a);
            else if (cases[i].kind == 0)
                pgarray_int2(&a, (int16_t)cases[i].v);
            else if (cases[i].kind == 1)
                pgarray_int8(&a, cases[i].v);
            else if (cases[i].kind == 2)
                pgarray_bool(&a, (int)cases[i].v);
            else if (cases[i].kind == 3)
                pgarray_time(&a, cases[i].v);
            else
                pgarray_str(&a, cases[i].s);
        }
        int len;
        const unsigned char *p = (const unsigned char *)pgarray_data(&a, &len);
        char hdr[41], got[128] = "";
        for (int k = 0; k < 20; k++)
            snprintf(hdr + 2 * k, 3, "%02x", p[k]);
        char want_hdr[41];
        snprintf(want_hdr, sizeof want_hdr, "000000010000000100%06x0000000200000001",
                 (unsigned)cases[i].oid);
        CHECK_STR(hdr, want_hdr);
        int el = (len - 20) / 2;
        CHECK_INT(len, 20 + 2 * (int)strlen(cases[i].want) / 2);
        for (int k = 0; k < el && k < 60; k++)
            snprintf(got + 2 * k, 3, "%02x", p[20 + el + k]);
        CHECK_STR(got, cases[i].want);
        pgarray_close(&a);
    }
}

static void test_pgcopy(void) {
    static const struct {
        const char *in;
        size_t len;
        const char *want;
    } texts[] = {
        {"plain text", 10, "plain text"},
        {"a\tb\nc\rd\\e", 9, "a\\tb\\nc\\rd\\\\e"},
        {"caf\xc3\xa9 \xe2\x82\xac", 9, "caf\xc3\xa9 \xe2\x82\xac"},
        {"bad \xff byte", 10, "bad \xef\xbf\xbd byte"},
        {"nul\0x", 5, "nul\xef\xbf\xbdx"},
        {"cut \xe2\x82", 6, "cut \xef\xbf\xbd\xef\xbf\xbd"},
        {"surrogate \xed\xa0\x80", 13, "surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"ctl \x01\x1f ok", 9, "ctl \x01\x1f ok"},
        {"", 0, ""},
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        buf b;
        buf_init(&b);
        pgcopy_text(&b, texts[i].in, texts[i].len);
        char got[128];
        snprintf(got, sizeof got, "%.*s", (int)b.len, b.len ? b.p : "");
        CHECK_STR(got, texts[i].want);
        buf_close(&b);
    }
    static const struct {
        long long v;
        const char *want;
    } ints[] = {{0, "0"},
                {7, "7"},
                {-42, "-42"},
                {1234567890123LL, "1234567890123"},
                {9223372036854775807LL, "9223372036854775807"},
                {-9223372036854775807LL - 1, "-9223372036854775808"}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        buf b;
        buf_init(&b);
        pgcopy_int(&b, ints[i].v);
        CHECK_STR(b.p, ints[i].want);
        buf_close(&b);
    }
    static const struct {
        int64_t us;
        const char *want;
    } times[] = {{0, "1970-01-01 00:00:00.000000+00"},
                 {1795219202123456LL, "2026-11-21 00:00:02.123456+00"},
                 {-1, "1969-12-31 23:59:59.999999+00"},
                 {253402300799999999LL, "9999-12-31 23:59:59.999999+00"}};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        buf b;
        buf_init(&b);
        pgcopy_time(&b, times[i].us);
        CHECK_STR(b.p, times[i].want);
        buf_close(&b);
    }
    buf b;
    buf_init(&b);
    pgcopy_str(&b, "2026-11-21");
    pgcopy_null(&b);
    pgcopy_str(&b, NULL);
    pgcopy_int(&b, 5);
    pgcopy_bytea(&b, "\x00\xff\x10", 3);
    pgcopy_end(&b);
    pgcopy_str(&b, "next");
    pgcopy_end(&b);
    CHECK_STR(b.p, "2026-11-21\t\\N\t\\N\t5\t\\\\x00ff10\nnext\n");
    buf_close(&b);
}

static const check_test tests[] = {
    {"fileio", test_fileio},
    {"csv", test_csv},
    {"strftime", test_strftime},
    {"parse_rfc3339", test_parse_rfc3339},
    {"zone_offset_cache", test_zone_offset_cache},
    {"ambiguity_names_both", test_ambiguity_names_both},
    {"civil_roundtrip", test_civil_roundtrip},
    {"msgid", test_msgid},
    {"redact", test_redact},
    {"config_defaults_and_set", test_config_defaults_and_set},
    {"arena", test_arena},
    {"pg_classify", test_pg_classify},
    {"pgcopy", test_pgcopy},
    {"pgarray", test_pgarray},
    {NULL, NULL},
};

int main(void) {
    return check_main("lib", tests);
}
