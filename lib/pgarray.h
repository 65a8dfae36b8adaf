/*
 * pgarray: one-dimensional PostgreSQL arrays in the binary wire format, to
 * pass as query parameters (paramFormats[i] = 1, paramTypes may be 0: the
 * statement's cast names the type).  Binary, not text literals: timestamps
 * go as the server's own integer (no parsing on either side) and strings
 * need no quoting.  The element type is fixed at pgarray_init and must be
 * the array's declared element type (array_recv refuses any other).
 *
 * Text elements are stored as pgcopy stores a text field: invalid UTF-8 and
 * NUL bytes become U+FFFD, so a value equals the one COPY wrote beside it.
 *
 * The pgarray owns its buffer; pgarray_data is valid until the next append
 * or pgarray_close.  Allocation failure aborts (lib/mem.h); nothing fails.
 */
#ifndef SPOOR_PGARRAY_H
#define SPOOR_PGARRAY_H

#include "buf.h"

#include <stdint.h>

#define PGARRAY_BOOL 16
#define PGARRAY_INT8 20
#define PGARRAY_INT2 21
#define PGARRAY_TEXT 25
#define PGARRAY_TIMESTAMPTZ 1184

typedef struct pgarray {
    buf b;
    uint32_t elem_oid;
    int32_t n;
} pgarray;

void pgarray_init(pgarray *a, uint32_t elem_oid);
void pgarray_close(pgarray *a);
void pgarray_null(pgarray *a);
void pgarray_bool(pgarray *a, int v);
void pgarray_int8(pgarray *a, int64_t v);
void pgarray_int2(pgarray *a, int16_t v);
void pgarray_str(pgarray *a, const char *s);                   /* NULL → a NULL element */
void pgarray_time(pgarray *a, int64_t us);                     /* timestamptz, µs since 1970 UTC */
void pgarray_opt_time(pgarray *a, int64_t us, int64_t absent); /* absent → NULL */
/* The array as sent: its bytes and length (the header is completed here). */
const char *pgarray_data(pgarray *a, int *len);

#endif
