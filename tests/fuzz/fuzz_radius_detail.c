/*
 * libFuzzer target for ingest/radius_detail: the whole input as one record
 * (a Kafka message), then split as a detail file (read whole, and followed
 * in two pieces) with every record parsed.  The first byte picks the zone, so
 * DST and abbreviation paths are reached.  Checks the splitter's contract:
 * spans stay inside the buffer and every record found makes progress.
 */
#include "radius_detail.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const zones[] = {"UTC", "Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata"};

static void check_span(const detail_split_span *sp, size_t len, int rc) {
    if (sp->next > len || (rc && (sp->off + sp->len > len || sp->next == 0 || sp->len == 0)))
        abort();
}

static void parse_one(const char *p, size_t n, const char *zone, arena *a) {
    radius_detail_rec r;
    error e;
    if (radius_detail_parse(p, n, zone, a, &r, &e) == 0) {
        /* Touch what the caller would read. */
        for (size_t i = 0; i < r.n_attrs; i++)
            if (strlen(r.attrs[i].name) == 0 || r.attrs[i].value[r.attrs[i].value_len] != '\0')
                abort();
        if (r.received == RADIUS_DETAIL_ABSENT || r.event == RADIUS_DETAIL_ABSENT)
            abort();
    } else if (e.code[0] == '\0' || e.msg[0] == '\0') {
        abort();
    }
    arena_reset(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    const char *zone = zones[data[0] % 4];
    /* A private copy so reads past the end are caught by ASan. */
    size_t len = size - 1;
    char *buf = malloc(len ? len : 1);
    memcpy(buf, data + 1, len);

    arena a;
    arena_init(&a, 0);
    parse_one(buf, len, zone, &a);

    detail_split_span sp;
    for (int pass = 0; pass < 2; pass++) {
        /* pass 0: whole file; pass 1: followed, the first half arriving first. */
        size_t off = 0, have = pass ? len / 2 : len;
        for (int guard = 0; guard < 100000; guard++) {
            int at_eof = have == len;
            int rc = detail_split_next(buf + off, have - off, at_eof, &sp);
            check_span(&sp, have - off, rc);
            if (rc)
                parse_one(buf + off + sp.off, sp.len, zone, &a);
            off += sp.next;
            if (!rc) {
                if (have == len)
                    break;
                have = len;
            }
        }
    }
    arena_close(&a);
    free(buf);
    return 0;
}
