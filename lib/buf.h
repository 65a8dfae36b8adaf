/*
 * buf: a growable byte buffer (heap), for building COPY data, JSON, blocks.
 * Embedded in its owner (buf_init/buf_close).  Allocation failure aborts.
 */
#ifndef SPOOR_BUF_H
#define SPOOR_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

void buf_init(buf *b);
void buf_close(buf *b);
void buf_reset(buf *b); /* len = 0, keeps the memory */
void buf_reserve(buf *b, size_t extra);
void buf_add(buf *b, const void *p, size_t n);
void buf_addc(buf *b, char c);
void buf_adds(buf *b, const char *s);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_add_u32le(buf *b, uint32_t v);

#endif
