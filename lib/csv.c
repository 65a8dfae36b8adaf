#include "csv.h"
#include "buf.h"

#include <stdio.h>
#include <string.h>

void csv_init(csv *r, const char *p, size_t len) {
    r->p = p;
    r->len = len;
    r->pos = len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3) ? 3 : 0;
    r->line = 1;
}

int csv_next(csv *r, arena *a, char ***fields, size_t *n, long *line, char *err, size_t errlen) {
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
                    snprintf(err, errlen, "line %ld: quoted field opened here is never closed",
                             opened);
                    rc = -1;
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
                    snprintf(err, errlen, "line %ld: NUL byte in a field", r->line);
                    rc = -1;
                    goto done;
                }
                buf_addc(&f, ch);
            }
        } else {
            while (r->pos < r->len && r->p[r->pos] != ',' && r->p[r->pos] != '\n' &&
                   r->p[r->pos] != '\r') {
                char ch = r->p[r->pos];
                if (ch == '"' || ch == '\0') {
                    snprintf(err, errlen, "line %ld: %s inside an unquoted field", r->line,
                             ch ? "a quote" : "a NUL byte");
                    rc = -1;
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
        snprintf(err, errlen, "line %ld: text after a closing quote", r->line);
        rc = -1;
        goto done;
    }
    *fields = out;
    *n = cnt;
done:
    buf_close(&f);
    return rc;
}
