/*
 * pgcopy: rows in PostgreSQL's COPY text format, built in a buf and sent
 * with PQputCopyData.  Values are escaped here (backslash, tab, newline,
 * carriage return), so any bytes a log line carries reach the table intact;
 * text must be valid in the database encoding (UTF-8): pgcopy_text replaces
 * invalid UTF-8 and NUL bytes with U+FFFD — the verbatim bytes live in the
 * evidence blocks, not in these columns.
 *
 * Each function appends one field, with the tab before it when it does not
 * start a row; pgcopy_end ends the row.  A row is recognised as started by
 * the buffer being empty or ending in '\n', so its first field must not be an
 * empty string (every Spoor row starts with a time or a date).
 *
 * pgcopy_send runs "COPY table (cols) FROM STDIN" and streams the buffer
 * (which it empties); returns 0, or -1 with "SQLSTATE: message" in ERR and
 * the pg_class in *CLS.  To overlap building rows with the server storing
 * them: pgcopy_begin, then pgcopy_put whenever the buffer has grown (sends
 * and empties it; -1 if the connection failed, to be passed to
 * pgcopy_finish as OK = 0), then pgcopy_finish (sends the rest, ends the
 * COPY, returns like pgcopy_send).
 */
#ifndef SPOOR_PGCOPY_H
#define SPOOR_PGCOPY_H

#include "buf.h"
#include "pg.h"

#include <stddef.h>
#include <stdint.h>

void pgcopy_text(buf *b, const char *s, size_t len); /* a text field */
/* The text pgcopy_text stores, unescaped and without a field separator: S
 * with invalid UTF-8 and NUL bytes replaced by U+FFFD (for lib/pgarray). */
void pgcopy_utf8(buf *b, const char *s, size_t len);
void pgcopy_str(buf *b, const char *s); /* NULL → \N */
void pgcopy_null(buf *b);
void pgcopy_int(buf *b, long long v);
void pgcopy_bytea(buf *b, const void *p, size_t len);
void pgcopy_time(buf *b, int64_t us); /* timestamptz, UTC */
void pgcopy_end(buf *b);              /* end of row */

int pgcopy_send(PGconn *conn, const char *copy_sql, buf *rows, pg_class *cls, error *err);
int pgcopy_begin(PGconn *conn, const char *copy_sql, pg_class *cls, error *err);
int pgcopy_put(PGconn *conn, buf *rows);
int pgcopy_finish(PGconn *conn, buf *rows, int ok, pg_class *cls, error *err);

#endif
