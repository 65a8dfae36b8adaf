/*
 * libFuzzer target for ingest/syslog.  The input is one syslog line; its
 * length picks one of a few contexts (reference near New Year or a DST
 * change, zones London/New York/UTC) so year and DST inference are
 * exercised too.  Checks the contract: slices stay inside the input, a
 * failure always has a reason and a position within the line.
 */
#include "syslog.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *zone_for(void *arg, const char *host, size_t len) {
    (void)arg;
    if (len == 6 && memcmp(host, "mx-nyc", 6) == 0)
        return "America/New_York";
    if (len == 6 && memcmp(host, "mx-lon", 6) == 0)
        return "Europe/London";
    return NULL;
}

static int inside(syslog_slice s, const char *p, size_t n) {
    return s.len == 0 || (s.p >= p && s.p + s.len <= p + n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const int64_t refs[] = {
        1798761605000000LL, /* 2027-01-01T00:00:05Z */
        1792891860000000LL, /* 2026-10-25T01:31:00Z */
        1774746000000000LL, /* 2026-03-29T01:00:00Z */
        0,                  /* no reference */
    };
    static const char *const zones[] = {"UTC", "Europe/London", "America/New_York", NULL};
    syslog_ctx ctx = {refs[size % 4], zones[(size / 4) % 4], zone_for, NULL};
    const char *line = (const char *)data;
    syslog_record r;
    error e;
    if (syslog_parse(line, size, &ctx, &r, &e) < 0) {
        if (!e.code[0] || e.pos > size)
            abort();
        return 0;
    }
    if (!inside(r.timestamp, line, size) || !inside(r.host, line, size) ||
        !inside(r.app, line, size) || !inside(r.procid, line, size) ||
        !inside(r.msgid, line, size) || !inside(r.sd, line, size) || !inside(r.msg, line, size))
        abort();
    if (r.pri > 191 || r.repeat < 1)
        abort();
    return 0;
}
