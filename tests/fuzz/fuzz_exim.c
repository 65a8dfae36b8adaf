/*
 * libFuzzer target for ingest/exim.  The input is one mainlog line (or the
 * message part of a syslog line); its length picks the zone and whether a
 * reference instant is given, so local-time and DST paths run too.  Checks
 * that returned strings are C strings and failures carry a reason and a
 * position within the line.
 */
#include "exim.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void touch(const char *s) {
    if (s && strlen(s) > (1u << 24))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static arena a;
    static int init;
    if (!init) {
        arena_init(&a, 0);
        init = 1;
    }
    static const char *const zones[] = {NULL, "Europe/London", "America/New_York"};
    exim_ctx ctx = {zones[size % 3], (size & 4) ? 1792891860000000LL : 0};
    exim_record r;
    error e;
    if (exim_parse((const char *)data, size, &ctx, &a, &r, &e) < 0) {
        if (!e.code[0] || e.pos > size)
            abort();
    } else {
        if (r.kind > EXIM_COMPLETED || !exim_kind_name(r.kind))
            abort();
        const char *const s[] = {r.id,          r.sender,     r.bounce_of,       r.host_name,
                                 r.helo,        r.host_ip,    r.iface_ip,        r.ident,
                                 r.proto,       r.tls,        r.auth_name,       r.auth_id,
                                 r.auth_sender, r.message_id, r.message_id_norm, r.subject,
                                 r.recipients,  r.rcpt,       r.parent,          r.orig_rcpt,
                                 r.router,      r.transport,  r.return_path,     r.confirmation,
                                 r.next_id,     r.error};
        for (size_t k = 0; k < sizeof s / sizeof s[0]; k++)
            touch(s[k]);
        if (r.id && !exim_id_valid(r.id, strlen(r.id)))
            abort();
    }
    arena_reset(&a);
    return 0;
}
