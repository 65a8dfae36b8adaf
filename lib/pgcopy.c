#include "pgcopy.h"
#include "timeutil.h"

#include <stdio.h>
#include <string.h>

/* Length of a valid UTF-8 sequence at S (max N bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    size_t need;
    uint32_t cp;
    if (c < 0x80)
        return c ? 1 : 0;
    if (c >= 0xc2 && c <= 0xdf)
        need = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        need = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        need = 4, cp = c & 0x07;
    else
        return 0;
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return need;
}

/* Appends the character at P (N bytes left) if it is valid UTF-8, else U+FFFD
 * for its first byte; returns the bytes consumed. */
static size_t add_char(buf *b, const unsigned char *p, size_t n) {
    size_t k = utf8_len(p, n);
    if (k == 0) {
        buf_add(b, "\xef\xbf\xbd", 3);
        return 1;
    }
    buf_add(b, p, k);
    return k;
}

/* Fields are separated here, not by callers: a field that does not start a
 * row (the buffer is empty or ends in the row's '\n') is preceded by a tab.
 * Escaping guarantees no field text ends in a raw newline. */
static void field_start(buf *b) {
    if (b->len && b->p[b->len - 1] != '\n')
        buf_addc(b, '\t');
}

/* Bytes COPY takes as they are: ASCII but NUL, backslash, tab, newline and
 * carriage return.  Log lines are almost all such bytes, so they are copied
 * a run at a time. */
static int plain(unsigned char c) {
    return c >= 0x20 ? c < 0x80 && c != '\\' : c != 0 && c != '\t' && c != '\n' && c != '\r';
}

void pgcopy_text(buf *b, const char *s, size_t len) {
    field_start(b);
    buf_reserve(b, len + 16);
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        while (run < len && plain(p[run]))
            run++;
        if (run > i) {
            buf_add(b, p + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = p[i];
        switch (c) {
        case '\\':
            buf_add(b, "\\\\", 2);
            i++;
            continue;
        case '\t':
            buf_add(b, "\\t", 2);
            i++;
            continue;
        case '\n':
            buf_add(b, "\\n", 2);
            i++;
            continue;
        case '\r':
            buf_add(b, "\\r", 2);
            i++;
            continue;
        default:
            break;
        }
        i += add_char(b, p + i, len - i);
    }
}

void pgcopy_str(buf *b, const char *s) {
    if (s)
        pgcopy_text(b, s, strlen(s));
    else
        pgcopy_null(b);
}

void pgcopy_null(buf *b) {
    field_start(b);
    buf_add(b, "\\N", 2);
}
/* Decimal digits of V, right-aligned to END; returns the first. */
static char *digits(char *end, unsigned long long v) {
    do
        *--end = (char)('0' + v % 10);
    while (v /= 10);
    return end;
}

/* By hand, not printf: one call per column of every row. */
void pgcopy_int(buf *b, long long v) {
    field_start(b);
    char tmp[24], *end = tmp + sizeof tmp;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    char *d = digits(end, u);
    if (v < 0)
        *--d = '-';
    buf_add(b, d, (size_t)(end - d));
}
void pgcopy_end(buf *b) {
    buf_addc(b, '\n');
}

void pgcopy_bytea(buf *b, const void *p, size_t len) {
    static const char hex[] = "0123456789abcdef";
    field_start(b);
    buf_reserve(b, 3 + 2 * len);
    buf_add(b, "\\\\x", 3); /* "\x" escaped once for COPY */
    const unsigned char *s = p;
    char *o = b->p + b->len;
    for (size_t i = 0; i < len; i++) {
        *o++ = hex[s[i] >> 4];
        *o++ = hex[s[i] & 15];
    }
    b->len += 2 * len;
    b->p[b->len] = '\0';
}

void pgcopy_time(buf *b, int64_t us) {
    timeutil_civil c;
    timeutil_utc_to_civil(us, &c);
    field_start(b);
    if (c.year < 0 || c.year > 9999) { /* outside what timeutil parses: keep printf's form */
        buf_printf(b, "%04d-%02d-%02d %02d:%02d:%02d.%06d+00", c.year, c.month, c.day, c.hour,
                   c.minute, c.second, c.usec);
        return;
    }
    /* "YYYY-MM-DD hh:mm:ss.uuuuuu+00", by hand (see pgcopy_int). */
    char t[29];
    const int v[] = {c.year, c.month, c.day, c.hour, c.minute, c.second, c.usec};
    const int width[] = {4, 2, 2, 2, 2, 2, 6};
    const char sep[] = "-- ::.";
    char *o = t;
    for (int i = 0; i < 7; i++) {
        int x = v[i];
        for (int k = width[i] - 1; k >= 0; k--, x /= 10)
            o[k] = (char)('0' + x % 10);
        o += width[i];
        if (i < 6)
            *o++ = sep[i];
    }
    memcpy(o, "+00", 3);
    buf_add(b, t, sizeof t);
}

int pgcopy_begin(PGconn *conn, const char *copy_sql, pg_class *cls, error *err) {
    PGresult *r = PQexec(conn, copy_sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        *cls = pg_result_class(conn, r);
        if (*cls == PG_OK)
            *cls = PG_FATAL;
        pg_error(conn, r, err);
        PQclear(r);
        return -1;
    }
    PQclear(r);
    return 0;
}

int pgcopy_put(PGconn *conn, buf *rows) {
    /* In pieces: libpq copies each call into its output buffer. */
    size_t off = 0;
    int ok = 1;
    while (ok && off < rows->len) {
        size_t n = rows->len - off > 1 << 20 ? 1 << 20 : rows->len - off;
        ok = PQputCopyData(conn, rows->p + off, (int)n) == 1;
        off += n;
    }
    buf_reset(rows);
    return ok ? 0 : -1;
}

int pgcopy_finish(PGconn *conn, buf *rows, int ok, pg_class *cls, error *err) {
    if (ok && pgcopy_put(conn, rows) < 0)
        ok = 0;
    buf_reset(rows);
    if (PQputCopyEnd(conn, ok ? NULL : "client failed to send") != 1)
        ok = 0;
    PGresult *r = PQgetResult(conn);
    *cls = pg_result_class(conn, r);
    if (*cls != PG_OK || !ok) {
        if (*cls == PG_OK)
            *cls = PG_RECONNECT;
        pg_error(conn, r, err);
        PQclear(r);
        while ((r = PQgetResult(conn)))
            PQclear(r);
        return -1;
    }
    PQclear(r);
    while ((r = PQgetResult(conn)))
        PQclear(r);
    return 0;
}

int pgcopy_send(PGconn *conn, const char *copy_sql, buf *rows, pg_class *cls, error *err) {
    if (pgcopy_begin(conn, copy_sql, cls, err) < 0)
        return -1;
    return pgcopy_finish(conn, rows, 1, cls, err);
}

void pgcopy_utf8(buf *b, const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        while (run < len && p[run] && p[run] < 0x80)
            run++;
        if (run > i) {
            buf_add(b, p + i, run - i);
            i = run;
            continue;
        }
        i += add_char(b, p + i, len - i);
    }
}
