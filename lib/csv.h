/*
 * csv: a reader for RFC 4180 comma-separated values, as customer systems
 * export them: fields separated by ',', optionally quoted with '"' (a quote
 * inside a quoted field doubled), records ended by CRLF or LF, quoted fields
 * may span lines.  A UTF-8 byte-order mark at the start is skipped.
 *
 * Ownership: the reader borrows the input buffer (which must outlive it);
 * every field returned is a NUL-terminated copy from the caller's arena.
 * Errors: csv_next returns -1 with ERR (lib/error: code "bad_csv", the byte
 * offset, the line, what) for a quote in an unquoted field, text after a
 * closing quote, or an unterminated quoted field (its line is where it
 * opened); a field containing a NUL byte is refused too.
 */
#ifndef SPOOR_CSV_H
#define SPOOR_CSV_H

#include "arena.h"
#include "error.h"

#include <stddef.h>

typedef struct csv {
    const char *p;
    size_t len, pos;
    long line; /* line the next record starts on (1-based) */
} csv;

void csv_init(csv *r, const char *p, size_t len);
/* Reads the next record into *FIELDS (arena array of N strings).  Returns 1,
 * 0 at the end of input, or -1 on error.  Blank lines are skipped.  *LINE
 * gets the line the record started on. */
int csv_next(csv *r, arena *a, char ***fields, size_t *n, long *line, error *err);

#endif
