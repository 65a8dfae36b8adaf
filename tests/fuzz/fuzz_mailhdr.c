/* libFuzzer target: raw message headers, bounces included (query/mailhdr.c). */
#include "arena.h"
#include "mailhdr.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    arena a;
    arena_init(&a, 0);
    mailhdr_msg m;
    error err;
    if (mailhdr_parse((const char *)data, size, &a, &m, &err) == 0 && m.original)
        (void)m.original->n_received;
    arena_close(&a);
    return 0;
}
