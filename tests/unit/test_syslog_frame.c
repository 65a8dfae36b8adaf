/*
 * Tests for collect/syslog_frame: a table of streams and the messages they
 * frame into, each stream fed whole, one byte at a time, and split in two at
 * every byte position (all must agree); the oversize policy and its
 * counters; and a long random stream fed in random chunks.
 */
#include "buf.h"
#include "check.h"
#include "syslog_frame.h"

#include <stdlib.h>

/* Messages as "[flags]text|..." with flags o(ctet) t(runcated) u(nterminated)
 * and bytes outside printable ASCII as \xHH. */
static void collect(void *arg, const char *msg, size_t len, int flags) {
    buf *b = arg;
    if (msg[len] != '\0')
        buf_adds(b, "(no NUL)");
    buf_addc(b, '[');
    if (flags & SYSLOG_FRAME_OCTET_COUNTED)
        buf_addc(b, 'o');
    if (flags & SYSLOG_FRAME_TRUNCATED)
        buf_addc(b, 't');
    if (flags & SYSLOG_FRAME_UNTERMINATED)
        buf_addc(b, 'u');
    buf_addc(b, ']');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)msg[i];
        if (c < 0x20 || c >= 0x7f || c == '|' || c == '\\')
            buf_printf(b, "\\x%02x", c);
        else
            buf_addc(b, (char)c);
    }
    buf_addc(b, '|');
}

static void stats_text(buf *b, const syslog_frame_stats *s) {
    buf_printf(b, " msgs=%llu oc=%llu trunc=%llu skipped=%llu empty=%llu",
               (unsigned long long)s->messages, (unsigned long long)s->octet_counted,
               (unsigned long long)s->truncated, (unsigned long long)s->skipped_bytes,
               (unsigned long long)s->empty);
}

/* Frames IN fed as the chunks that CUTS (ascending offsets, the last one its
 * length) make, then finishes; returns the messages and counters. */
static char *frame(const char *in, size_t max, const size_t *cuts, size_t ncuts) {
    syslog_frame f;
    syslog_frame_init(&f, max);
    buf b;
    buf_init(&b);
    buf_adds(&b, "");
    size_t off = 0;
    for (size_t i = 0; i < ncuts; i++) {
        syslog_frame_feed(&f, in + off, cuts[i] - off, collect, &b);
        off = cuts[i];
    }
    syslog_frame_finish(&f, collect, &b);
    stats_text(&b, &f.stats);
    syslog_frame_close(&f);
    return b.p;
}

typedef struct frame_case {
    const char *name;
    const char *in;
    size_t len; /* 0: strlen(in) */
    size_t max;
    const char *want;
} frame_case;

static const frame_case cases[] = {
    {"one line", "<13>Nov 21 00:00:16 smtp1 postfix/smtpd[1]: x\n", 0, 100,
     "[]<13>Nov 21 00:00:16 smtp1 postfix/smtpd[1]: x| msgs=1 oc=0 trunc=0 skipped=0 empty=0"},
    {"two lines, CRLF", "<13>a\r\n<14>b\r\n", 0, 100,
     "[]<13>a|[]<14>b| msgs=2 oc=0 trunc=0 skipped=0 empty=0"},
    {"NUL trailer", "<13>a\0<14>b\0", 12, 100,
     "[]<13>a|[]<14>b| msgs=2 oc=0 trunc=0 skipped=0 empty=0"},
    {"lone CR stays, CR before NUL stays", "a\rb\nc\r\0", 7, 100,
     "[]a\\x0db|[]c\\x0d| msgs=2 oc=0 trunc=0 skipped=0 empty=0"},
    {"blank lines skipped and counted", "\n\r\n<1>a\n\n", 0, 100,
     "[]<1>a| msgs=1 oc=0 trunc=0 skipped=0 empty=3"},
    {"octet counting", "11 <13>hello w5 <1>ab", 0, 100,
     "[o]<13>hello w|[o]<1>ab| msgs=2 oc=2 trunc=0 skipped=0 empty=0"},
    {"octet counting carries LF and NUL", "7 a\nb\0c\r\n", 9, 100,
     "[o]a\\x0ab\\x00c\\x0d\\x0a| msgs=1 oc=1 trunc=0 skipped=0 empty=0"},
    {"mixed framings per message", "3 abc<1>x\n1 y<2>z\n", 0, 100,
     "[o]abc|[]<1>x|[o]y|[]<2>z| msgs=4 oc=2 trunc=0 skipped=0 empty=0"},
    {"LF after an octet-counted frame is an empty message", "3 abc\n3 def\n", 0, 100,
     "[o]abc|[o]def| msgs=2 oc=2 trunc=0 skipped=0 empty=2"},
    {"digits without a space are text", "2026-11-21T00:00:16Z host x\n", 0, 100,
     "[]2026-11-21T00:00:16Z host x| msgs=1 oc=0 trunc=0 skipped=0 empty=0"},
    {"leading zero is not a MSG-LEN", "05 hello\n", 0, 100,
     "[]05 hello| msgs=1 oc=0 trunc=0 skipped=0 empty=0"},
    {"ten digits are text", "1234567890 x\n", 0, 100,
     "[]1234567890 x| msgs=1 oc=0 trunc=0 skipped=0 empty=0"},
    {"a MSG-LEN over the frame limit is text", "123456789 abc", 0, 100,
     "[u]123456789 abc| msgs=1 oc=0 trunc=0 skipped=0 empty=0"},
    {"a PRI-less line starting with a date number is text, and the next line too",
     "20231121 10:00:01 link up\n<13>next\n", 0, 100,
     "[]20231121 10:00:01 link up|[]<13>next| msgs=2 oc=0 trunc=0 skipped=0 empty=0"},
    {"MSG-LEN at the frame limit is a frame (oversize)", "200000 abc", 0, 100,
     "[ou]abc| msgs=1 oc=1 trunc=0 skipped=0 empty=0"},
    {"MSG-LEN one over the frame limit is text", "200001 abc\n", 0, 100,
     "[]200001 abc| msgs=1 oc=0 trunc=0 skipped=0 empty=0"},
    {"leading space: non-transparent", " 5 hello\n", 0, 100,
     "[] 5 hello| msgs=1 oc=0 trunc=0 skipped=0 empty=0"},
    {"MSG-LEN equal to max is whole", "4 abcd4 efgh", 0, 4,
     "[o]abcd|[o]efgh| msgs=2 oc=2 trunc=0 skipped=0 empty=0"},
    {"octet-counted oversize: first max bytes, rest skipped, stream stays in sync",
     "12 abcdefghijkl<1>x\n", 0, 8, "[ot]abcdefgh|[]<1>x| msgs=2 oc=1 trunc=1 skipped=4 empty=0"},
    {"line oversize: first max bytes, rest skipped to the LF", "abcdefg\nxy\n", 0, 4,
     "[t]abcd|[]xy| msgs=2 oc=0 trunc=1 skipped=3 empty=0"},
    {"line of exactly max with CRLF is whole", "abcd\r\nxy\n", 0, 4,
     "[]abcd|[]xy| msgs=2 oc=0 trunc=0 skipped=0 empty=0"},
    {"max 1", "ab\n1 c12 de", 0, 1, "[t]a|[o]c|[otu]d| msgs=3 oc=2 trunc=2 skipped=2 empty=0"},
    {"unterminated line at the end", "<1>a\n<2>b", 0, 100,
     "[]<1>a|[u]<2>b| msgs=2 oc=0 trunc=0 skipped=0 empty=0"},
    {"unterminated octet frame at the end", "10 abc", 0, 100,
     "[ou]abc| msgs=1 oc=1 trunc=0 skipped=0 empty=0"},
    {"stream ends after MSG-LEN", "12 ", 0, 100, " msgs=0 oc=0 trunc=0 skipped=0 empty=1"},
    {"stream ends inside MSG-LEN: digits are text", "<1>a\n12", 0, 100,
     "[]<1>a|[u]12| msgs=2 oc=0 trunc=0 skipped=0 empty=0"},
    {"stream ends after a CR", "ab\r", 0, 100, "[u]ab\\x0d| msgs=1 oc=0 trunc=0 skipped=0 empty=0"},
    {"binary garbage", "\xff\xfe\x01\x02\x00\x80\n\x7f", 8, 100,
     "[]\\xff\\xfe\\x01\\x02|[]\\x80|[u]\\x7f| msgs=3 oc=0 trunc=0 skipped=0 empty=0"},
    {"empty stream", "", 0, 100, " msgs=0 oc=0 trunc=0 skipped=0 empty=0"},
};

static void test_cases(void) {
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const frame_case *c = &cases[i];
        check_current = c->name;
        size_t n = c->len ? c->len : strlen(c->in);
        size_t whole[1] = {n};
        char *want = frame(c->in, c->max, whole, 1);
        CHECK_STR(want, c->want);

        /* One byte at a time. */
        size_t *cuts = malloc((n + 1) * sizeof *cuts);
        for (size_t k = 0; k < n; k++)
            cuts[k] = k + 1;
        char *got = frame(c->in, c->max, cuts, n);
        CHECK_STR(got, want);
        free(got);

        /* Two pieces, split at every position. */
        for (size_t cut = 0; cut <= n; cut++) {
            size_t two[2] = {cut, n};
            got = frame(c->in, c->max, two, 2);
            if (strcmp(got, want) != 0)
                fprintf(stderr, "split at %zu\n", cut);
            CHECK_STR(got, want);
            free(got);
        }
        free(cuts);
        free(want);
    }
    check_current = "cases";
}

/* A decoder is reusable after finish; stats accumulate. */
static void test_finish_resets(void) {
    syslog_frame f;
    syslog_frame_init(&f, 16);
    buf b;
    buf_init(&b);
    syslog_frame_feed(&f, "5 ab", 4, collect, &b);
    syslog_frame_finish(&f, collect, &b);
    syslog_frame_feed(&f, "x\n", 2, collect, &b);
    syslog_frame_finish(&f, collect, &b);
    CHECK_STR(b.p, "[ou]ab|[]x|");
    CHECK_INT(f.stats.messages, 2);
    syslog_frame_close(&f);
    buf_close(&b);
}

/* Memory stays bounded by max_msg however long a line runs. */
static void test_bounded(void) {
    syslog_frame f;
    syslog_frame_init(&f, 1000);
    buf b;
    buf_init(&b);
    char chunk[4096];
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 1000; i++)
        syslog_frame_feed(&f, chunk, sizeof chunk, collect, &b);
    CHECK(f.cap <= 1001);
    CHECK_INT(b.len, 0);
    syslog_frame_feed(&f, "\n", 1, collect, &b);
    CHECK_INT(f.stats.truncated, 1);
    CHECK_INT(f.stats.skipped_bytes, 4096 * 1000 - 1000);
    syslog_frame_close(&f);
    buf_close(&b);
}

/* A long stream of random messages in both framings, fed in random chunks,
 * gives back exactly the messages sent. */
static void test_random_chunks(void) {
    srand(12345);
    buf in, want;
    buf_init(&in);
    buf_init(&want);
    for (int i = 0; i < 2000; i++) {
        char m[300];
        size_t len = 1 + (size_t)rand() % 200;
        int oc = rand() % 2;
        for (size_t k = 0; k < len; k++) {
            int c = oc ? rand() % 256 : 0x20 + rand() % 0x5f;
            m[k] = (char)c;
        }
        m[len] = '\0';
        if (!oc && m[0] >= '0' && m[0] <= '9')
            m[0] = '<'; /* a line starting "NNN " would read as octet-counted */
        if (oc)
            buf_printf(&in, "%zu ", len);
        buf_add(&in, m, len);
        if (!oc)
            buf_adds(&in, rand() % 2 ? "\n" : "\r\n");
        collect(&want, m, len, oc ? SYSLOG_FRAME_OCTET_COUNTED : 0);
    }
    syslog_frame f;
    syslog_frame_init(&f, 256);
    buf got;
    buf_init(&got);
    for (size_t off = 0; off < in.len;) {
        size_t n = (size_t)rand() % 700;
        if (n > in.len - off)
            n = in.len - off;
        syslog_frame_feed(&f, in.p + off, n, collect, &got);
        off += n;
    }
    syslog_frame_finish(&f, collect, &got);
    CHECK(got.len == want.len && memcmp(got.p, want.p, got.len) == 0);
    for (size_t i = 0; i < got.len && i < want.len; i++)
        if (got.p[i] != want.p[i]) {
            fprintf(stderr, "differs at %zu:\n  got:  %.200s\n  want: %.200s\n", i,
                    got.p + (i > 100 ? i - 100 : 0), want.p + (i > 100 ? i - 100 : 0));
            break;
        }
    CHECK_INT(f.stats.messages, 2000);
    CHECK_INT(f.stats.truncated, 0);
    syslog_frame_close(&f);
    buf_close(&in);
    buf_close(&want);
    buf_close(&got);
}

static const check_test tests[] = {
    {"cases", test_cases},
    {"finish_resets", test_finish_resets},
    {"bounded", test_bounded},
    {"random_chunks", test_random_chunks},
    {0},
};

int main(void) {
    return check_main("syslog_frame", tests);
}
