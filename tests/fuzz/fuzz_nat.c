/* libFuzzer target: ingest/nat over syslog lines and conntrack lines.  Every
 * record returned must be complete (addresses, ports in order) and every
 * error must carry a code. */
#include "arena.h"
#include "nat.h"
#include "syslog.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *line = (const char *)data;
    arena a;
    arena_init(&a, 0);
    nat_record r[NAT_MAX_RECORDS];
    error e;
    error_clear(&e);
    int n;
    int64_t ts;
    const char *host, *rest;
    size_t hl;
    if (nat_is_conntrack(line, size)) {
        n = nat_parse_conntrack(line, size, &a, r, &e);
    } else if (nat_cisco_header(line, size, &ts, &host, &hl, &rest)) {
        nat_line l = {NULL, 0, NULL, 0, NULL, 0, rest, (size_t)(line + size - rest)};
        n = nat_parse(&l, &a, r, NAT_MAX_RECORDS, &e);
    } else {
        syslog_ctx ctx = {1795262400000000LL, "UTC", NULL, NULL};
        syslog_record sr;
        if (syslog_parse(line, size, &ctx, &sr, &e) < 0) {
            arena_close(&a);
            return 0;
        }
        nat_line l = {sr.app.p, sr.app.len, sr.msgid.p, sr.msgid.len,
                      sr.sd.p,  sr.sd.len,  sr.msg.p,   sr.msg.len};
        n = nat_parse(&l, &a, r, NAT_MAX_RECORDS, &e);
    }
    if (n < 0 && !e.code[0])
        abort();
    for (int i = 0; i < n; i++)
        if (!r[i].inside || !r[i].outside || r[i].port_lo < 0 || r[i].port_hi < r[i].port_lo ||
            r[i].port_hi > 65535)
            abort();
    arena_close(&a);
    return 0;
}
