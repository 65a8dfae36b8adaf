#include "pgarray.h"

#include "pgcopy.h"

#include <string.h>

/* Header: ndim, has-null flag, element type, then per dimension its length
 * and lower bound (PostgreSQL's array_send). */
#define HDR 20

static void put32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void add32(buf *b, uint32_t v) {
    unsigned char x[4];
    put32(x, v);
    buf_add(b, x, 4);
}

static void add64(buf *b, uint64_t v) {
    add32(b, (uint32_t)(v >> 32));
    add32(b, (uint32_t)v);
}

void pgarray_init(pgarray *a, uint32_t elem_oid) {
    buf_init(&a->b);
    a->elem_oid = elem_oid;
    a->n = 0;
    unsigned char h[HDR] = {0};
    buf_add(&a->b, h, HDR);
}

void pgarray_close(pgarray *a) {
    buf_close(&a->b);
}

void pgarray_null(pgarray *a) {
    add32(&a->b, 0xffffffffu);
    a->n++;
}

void pgarray_bool(pgarray *a, int v) {
    add32(&a->b, 1);
    buf_addc(&a->b, v ? 1 : 0);
    a->n++;
}

void pgarray_int8(pgarray *a, int64_t v) {
    add32(&a->b, 8);
    add64(&a->b, (uint64_t)v);
    a->n++;
}

void pgarray_int2(pgarray *a, int16_t v) {
    add32(&a->b, 2);
    buf_addc(&a->b, (char)((uint16_t)v >> 8));
    buf_addc(&a->b, (char)(uint16_t)v);
    a->n++;
}

void pgarray_str(pgarray *a, const char *s) {
    if (!s) {
        pgarray_null(a);
        return;
    }
    size_t at = a->b.len;
    add32(&a->b, 0);
    pgcopy_utf8(&a->b, s, strlen(s));
    put32((unsigned char *)a->b.p + at, (uint32_t)(a->b.len - at - 4));
    a->n++;
}

/* PostgreSQL counts microseconds from 2000-01-01 00:00:00 UTC. */
#define PG_EPOCH_US (INT64_C(946684800) * 1000000)

void pgarray_time(pgarray *a, int64_t us) {
    pgarray_int8(a, us - PG_EPOCH_US);
}

void pgarray_opt_time(pgarray *a, int64_t us, int64_t absent) {
    if (us == absent)
        pgarray_null(a);
    else
        pgarray_time(a, us);
}

const char *pgarray_data(pgarray *a, int *len) {
    unsigned char *h = (unsigned char *)a->b.p;
    put32(h, 1);                   /* ndim */
    put32(h + 4, 1);               /* may hold NULLs */
    put32(h + 8, a->elem_oid);     /* element type */
    put32(h + 12, (uint32_t)a->n); /* length */
    put32(h + 16, 1);              /* lower bound */
    *len = (int)a->b.len;
    return a->b.p;
}
