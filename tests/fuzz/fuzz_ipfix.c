/*
 * libFuzzer target for collect/ipfix and ingest/nat's reader of its lines.
 * The input is a sequence of datagrams from one exporter (first byte: the
 * profile; then each datagram as u16be length + bytes), decoded with one
 * state, so templates from earlier datagrams meet data in later ones.
 * Checks the contracts: every line is one line of printable ASCII (the
 * Kafka record and the evidence line), and ingest's reader either refuses
 * it with a reason or gives a record whose addresses are set and whose
 * port range is in order.
 */
#include "arena.h"
#include "ipfix.h"
#include "nat.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void line_cb(void *arg, const char *line, size_t len) {
    (void)arg;
    if (len == 0)
        abort();
    for (size_t i = 0; i < len; i++)
        if (line[i] < 0x20 || line[i] > 0x7e)
            abort();
    arena a;
    arena_init(&a, 0);
    nat_record r;
    const char *host;
    error e;
    int n = nat_parse_ipfix(line, len, &a, &r, &host, &e);
    if (n < 0 && !e.code[0])
        abort();
    if (n > 0 && (!r.inside || !r.outside || !host || r.port_lo < 0 || r.port_hi < r.port_lo ||
                  r.port_hi > 65535))
        abort();
    arena_close(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    ipfix_state *s = ipfix_state_new();
    ipfix_profile prof = data[0] & 1 ? IPFIX_PROFILE_JUNOS : IPFIX_PROFILE_IANA;
    size_t off = 1;
    while (off + 2 <= size) {
        size_t n = (size_t)data[off] << 8 | data[off + 1];
        off += 2;
        if (n > size - off)
            n = size - off;
        /* A copy of exactly N bytes, so ASan sees any read past the datagram. */
        uint8_t *m = malloc(n ? n : 1);
        memcpy(m, data + off, n);
        ipfix_decode(s, "192.0.2.50:4739", "cgn-f", prof, m, n, line_cb, NULL);
        free(m);
        off += n;
    }
    ipfix_state_free(s);
    return 0;
}
