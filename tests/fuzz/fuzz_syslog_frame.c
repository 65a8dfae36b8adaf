/*
 * libFuzzer target for collect/syslog_frame.  The first two input bytes pick
 * max_msg and a chunking seed; the rest is a TCP stream.  The stream is
 * decoded whole and again in pseudo-random chunks: both must give the same
 * messages and counters, every message at most max_msg bytes and
 * NUL-terminated, and the decoder's buffer never beyond max_msg + 1.
 */
#include "buf.h"
#include "syslog_frame.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct sink {
    buf out;
    size_t max;
} sink;

static void on_msg(void *arg, const char *msg, size_t len, int flags) {
    sink *s = arg;
    if (len > s->max || msg[len] != '\0' || (len == 0 && !(flags & SYSLOG_FRAME_OCTET_COUNTED)))
        abort();
    buf_printf(&s->out, "%d:%zu:", flags, len);
    buf_add(&s->out, msg, len);
}

static void run(const uint8_t *p, size_t n, size_t max, uint32_t seed, sink *s,
                syslog_frame_stats *st) {
    syslog_frame f;
    syslog_frame_init(&f, max);
    buf_init(&s->out);
    s->max = max;
    size_t off = 0;
    while (off < n) {
        size_t k = n - off;
        if (seed) {
            seed = seed * 1103515245u + 12345u;
            k = 1 + (seed >> 16) % 17;
            if (k > n - off)
                k = n - off;
        }
        syslog_frame_feed(&f, p + off, k, on_msg, s);
        if (f.cap > max + 1)
            abort();
        off += k;
    }
    syslog_frame_finish(&f, on_msg, s);
    *st = f.stats;
    syslog_frame_close(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2)
        return 0;
    size_t max = 1 + data[0] % 64;
    uint32_t seed = data[1] | 1u;
    size_t n = size - 2;
    uint8_t *p = malloc(n ? n : 1);
    memcpy(p, data + 2, n);
    sink a, b;
    syslog_frame_stats sa, sb;
    run(p, n, max, 0, &a, &sa);
    run(p, n, max, seed, &b, &sb);
    if (a.out.len != b.out.len || (a.out.len && memcmp(a.out.p, b.out.p, a.out.len) != 0) ||
        memcmp(&sa, &sb, sizeof sa) != 0)
        abort();
    /* Every input byte is accounted for: delivered, skipped, or framing. */
    if (sa.messages > n || sa.skipped_bytes > n)
        abort();
    buf_close(&a.out);
    buf_close(&b.out);
    free(p);
    return 0;
}
