#include "csv.h"
#include "buf.h"
#include "error.h"

#include <stdio.h>
#include <string.h>

void csv_init(csv *r, const char *p, size_t len) {
    r->p = p;
    r->len = len;
    r->pos = len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3) ? 3 : 0;
    r->line = 1;
}

/* The one error type: code "bad_csv", the byte offset and line of the
 * fault. */
static int fail(error *err, const csv *r, long line, const char *what) {
    error_set(err, "bad_csv", r->pos, "%s", what);
    if (err)
        err->line = (int)line;
    return -1;
}

int csv_next(csv *r, arena *a, char ***fields, size_t *n, long *line, error *err) {
    /* Blank lines carry no record. */
    while (r->pos < r->len && (r->p[r->pos] == '\n' || r->p[r->pos] == '\r')) {
        if (r->p[r->pos] == '\n')
            r->line++;
        r->pos++;
    }
    if (r->pos >= r->len)
        return 0;
    *line = r->line;
    size_t cap = 8, cnt = 0;
    char **out = arena_alloc(a, cap * sizeof *out);
    buf f;
    buf_init(&f);
    int rc = 1;
    for (;;) {
        buf_reset(&f);
        if (r->pos < r->len && r->p[r->pos] == '"') {
            long opened = r->line;
            r->pos++;
            for (;;) {
                if (r->pos >= r->len) {
                    rc = fail(err, r, opened, "quoted field opened here is never closed");
                    goto done;
                }
                char ch = r->p[r->pos++];
                if (ch == '"') {
                    if (r->pos < r->len && r->p[r->pos] == '"') {
                        buf_addc(&f, '"');
                        r->pos++;
                        continue;
                    }
                    break;
                }
                if (ch == '\n')
                    r->line++;
                if (ch == '\0') {
                    rc = fail(err, r, r->line, "NUL byte in a field");
                    goto done;
                }
                buf_addc(&f, ch);
            }
        } else {
            while (r->pos < r->len && r->p[r->pos] != ',' && r->p[r->pos] != '\n' &&
                   r->p[r->pos] != '\r') {
                char ch = r->p[r->pos];
                if (ch == '"' || ch == '\0') {
                    rc = fail(err, r, r->line,
                              ch ? "a quote inside an unquoted field"
                                 : "a NUL byte inside an unquoted field");
                    goto done;
                }
                buf_addc(&f, ch);
                r->pos++;
            }
        }
        if (cnt == cap) {
            char **bigger = arena_alloc(a, 2 * cap * sizeof *bigger);
            memcpy(bigger, out, cap * sizeof *out);
            out = bigger;
            cap *= 2;
        }
        out[cnt++] = arena_strndup(a, f.p ? f.p : "", f.len);
        if (r->pos >= r->len)
            break;
        char ch = r->p[r->pos];
        if (ch == ',') {
            r->pos++;
            continue;
        }
        if (ch == '\r' && r->pos + 1 < r->len && r->p[r->pos + 1] == '\n')
            r->pos++;
        if (ch == '\r' || ch == '\n') {
            r->pos++;
            r->line++;
            break;
        }
        rc = fail(err, r, r->line, "text after a closing quote");
        goto done;
    }
    *fields = out;
    *n = cnt;
done:
    buf_close(&f);
    return rc;
}
