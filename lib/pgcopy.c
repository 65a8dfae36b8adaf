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

/* Fields are separated here, not by callers: a field that does not start a
 * row (the buffer is empty or ends in the row's '\n') is preceded by a tab.
 * Escaping guarantees no field text ends in a raw newline. */
static void field_start(buf *b) {
    if (b->len && b->p[b->len - 1] != '\n')
        buf_addc(b, '\t');
}

void pgcopy_text(buf *b, const char *s, size_t len) {
    field_start(b);
    buf_reserve(b, len + 16);
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
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
        size_t n = utf8_len(p + i, len - i);
        if (n == 0) {
            buf_add(b, "\xef\xbf\xbd", 3);
            i++;
        } else {
            buf_add(b, p + i, n);
            i += n;
        }
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
void pgcopy_int(buf *b, long long v) {
    field_start(b);
    buf_printf(b, "%lld", v);
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
    buf_printf(b, "%04d-%02d-%02d %02d:%02d:%02d.%06d+00", c.year, c.month, c.day, c.hour, c.minute,
               c.second, c.usec);
}

int pgcopy_send(PGconn *conn, const char *copy_sql, const buf *rows, pg_class *cls, char *err,
                size_t errlen) {
    PGresult *r = PQexec(conn, copy_sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        *cls = pg_result_class(conn, r);
        if (*cls == PG_OK)
            *cls = PG_FATAL;
        pg_error(conn, r, err, errlen);
        PQclear(r);
        return -1;
    }
    PQclear(r);
    /* Send in pieces: libpq copies each call into its output buffer. */
    size_t off = 0;
    int ok = 1;
    while (ok && off < rows->len) {
        size_t n = rows->len - off > 1 << 20 ? 1 << 20 : rows->len - off;
        ok = PQputCopyData(conn, rows->p + off, (int)n) == 1;
        off += n;
    }
    if (PQputCopyEnd(conn, ok ? NULL : "client failed to send") != 1)
        ok = 0;
    r = PQgetResult(conn);
    *cls = pg_result_class(conn, r);
    if (*cls != PG_OK || !ok) {
        if (*cls == PG_OK)
            *cls = PG_RECONNECT;
        pg_error(conn, r, err, errlen);
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
