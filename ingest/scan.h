/*
 * scan: the small lexing steps the log-line parsers (syslog, postfix, exim)
 * share, written once: a digit, a literal at a position, a field equal to a
 * literal, a fixed count of digits, a field copied into the batch's arena.
 *
 * Ownership: scan_dup's copy is in the caller's arena; the rest read the
 * caller's bytes and keep nothing.  Errors: scan_digits returns -1 (no
 * message: its caller says what was expected where).
 */
#ifndef SPOOR_SCAN_H
#define SPOOR_SCAN_H

#include "arena.h"

#include <stddef.h>

/* True if C is an ASCII digit (never locale-dependent, unlike isdigit). */
static inline int scan_is_digit(char c) {
    return c >= '0' && c <= '9';
}

/* LINE (LEN bytes, or NULL) without its trailing CR and LF: its start,
 * and its length in *N. */
const char *scan_line(const char *line, size_t len, size_t *n);
/* LEN bytes at P copied into A, NUL-terminated; a NUL inside becomes '?' so
 * that a field is never cut short by a byte the line carried. */
const char *scan_dup(arena *a, const char *p, size_t len);
/* True if LIT stands at offset I of S (N bytes). */
int scan_at(const char *s, size_t n, size_t i, const char *lit);
/* True if S (LEN bytes) is exactly LIT. */
int scan_eq(const char *s, size_t len, const char *lit);
/* COUNT digits at *I of S (N bytes) into *V, *I moved past them; -1 if
 * there are not COUNT digits there. */
int scan_digits(const char *s, size_t n, size_t *i, int count, int *v);

#endif
