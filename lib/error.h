/*
 * error: the one error type of Spoor's C code.
 *
 * A failure is a code, where it happened, and a message for people:
 *   code  a parser's reason ("no_timestamp", "too_long", see each parser's
 *         header), or a PostgreSQL SQLSTATE ("22P02"), which lib/pg takes
 *         from libpq's PG_DIAG_SQLSTATE field, never from message text;
 *         "" when there is none
 *   pos   byte offset in the input, 0 when none
 *   line  1-based line in the input, 0 when none
 *   msg   what went wrong, in words; input quoted in it is escaped by the
 *         caller
 * Parsers, the database layer, the CLI and the API all use it, so a rule
 * such as "a data exception is the caller's fault" is written once
 * (error_sqlstate_class).
 *
 * Ownership: an error is the caller's, usually on the stack; nothing here
 * allocates.  Every function accepts a NULL error (the caller did not ask).
 */
#ifndef SPOOR_ERROR_H
#define SPOOR_ERROR_H

#include <stdarg.h>
#include <stddef.h>

typedef struct error {
    char code[32];
    size_t pos;
    int line;
    char msg[256];
} error;

void error_clear(error *e);
/* Sets all of E (FMT is printf's); returns -1, for "return error_set(...)". */
int error_set(error *e, const char *code, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int error_setv(error *e, const char *code, size_t pos, const char *fmt, va_list ap);
/* True if E's code is CODE. */
int error_is(const error *e, const char *code);
/* True if E's code is a SQLSTATE of class CLS (its first two characters,
 * e.g. "22" data exception, "23" integrity constraint, "42" access rule). */
int error_sqlstate_class(const error *e, const char *cls);

#endif
