#include "golden.h"
#include "check.h"
#include "timeutil.h"

#include <dirent.h>
#include <stdlib.h>

/* ---- canonical rendering ------------------------------------------------ */

void out_reset(out_buf *b) {
    b->n = 0;
    b->s[0] = '\0';
}

void out_put(out_buf *b, const char *p, size_t len) {
    if (b->n + len >= sizeof b->s)
        len = sizeof b->s - 1 - b->n;
    memcpy(b->s + b->n, p, len);
    b->n += len;
    b->s[b->n] = '\0';
}

void out_puts(out_buf *b, const char *p) {
    out_put(b, p, strlen(p));
}

void out_kvn(out_buf *b, const char *key, const char *v, size_t len) {
    int quote = len == 0;
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)v[k];
        if (c <= ' ' || c >= 0x7f || c == '"' || c == '\\')
            quote = 1;
    }
    if (b->n)
        out_puts(b, " ");
    out_puts(b, key);
    out_puts(b, "=");
    if (!quote) {
        out_put(b, v, len);
        return;
    }
    out_puts(b, "\"");
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)v[k];
        char e[8];
        if (c == '"' || c == '\\')
            snprintf(e, sizeof e, "\\%c", c);
        else if (c < ' ' || c >= 0x7f)
            snprintf(e, sizeof e, "\\x%02x", c);
        else
            snprintf(e, sizeof e, "%c", c);
        out_puts(b, e);
    }
    out_puts(b, "\"");
}

void out_kv(out_buf *b, const char *key, const char *v) {
    if (v)
        out_kvn(b, key, v, strlen(v));
}

void out_kvi(out_buf *b, const char *key, long long v) {
    if (v < 0)
        return;
    char t[32];
    snprintf(t, sizeof t, "%lld", v);
    out_kv(b, key, t);
}

void out_flags(out_buf *b, const char *key, unsigned flags, const char *const *names, size_t n) {
    char fl[256] = "";
    size_t len = 0;
    for (size_t k = 0; k < n && len < sizeof fl; k++)
        if (flags & (1u << k))
            len += (size_t)snprintf(fl + len, sizeof fl - len, "%s%s", len ? "," : "", names[k]);
    if (fl[0])
        out_kv(b, key, fl);
}

void out_err(out_buf *b, const char *reason, size_t pos) {
    out_reset(b);
    out_kv(b, "error", reason);
    out_kvi(b, "pos", (long long)pos);
}

/* ---- files ------------------------------------------------------------------ */

int64_t golden_at_time(const char *rfc3339) {
    int64_t t = 0;
    error e;
    if (timeutil_parse(rfc3339, NULL, &t, &e) < 0) {
        fprintf(stderr, "bad test time %s: %s\n", rfc3339, e.msg);
        abort();
    }
    return t;
}

char *golden_slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0, r;
    char *b = malloc(cap);
    if (!b)
        abort();
    /* n < cap after every round, so there is room for the NUL. */
    while ((r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap && !(b = realloc(b, cap *= 2)))
            abort();
    }
    fclose(f);
    b[n] = '\0';
    *len = n;
    return b;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int golden_list(const char *dir, const char *ext, char **names, int max) {
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (!d)
        return -1;
    size_t el = strlen(ext);
    int nn = 0;
    struct dirent *de;
    while ((de = readdir(d)) && nn < max) {
        size_t l = strlen(de->d_name);
        if (l <= el || strcmp(de->d_name + l - el, ext) != 0)
            continue;
        if (!(names[nn++] = strdup(de->d_name)))
            abort();
    }
    closedir(d);
    qsort(names, (size_t)nn, sizeof names[0], cmp_names);
    for (int k = 0; k < nn; k++)
        names[k][strlen(names[k]) - el] = '\0';
    return nn;
}

/* ---- the line-by-line runner ---------------------------------------------- */

/* Splits at '\n' in place; returns the number of lines. */
static size_t split(char *b, size_t n, char **lines, size_t *lens, size_t max) {
    size_t count = 0, start = 0;
    for (size_t k = 0; k <= n && count < max; k++)
        if (k == n || b[k] == '\n') {
            if (k == n && k == start)
                break;
            lines[count] = b + start;
            lens[count] = k - start;
            count++;
            start = k + 1;
        }
    return count;
}

void golden_run(const golden_spec *g, void *arg) {
    char *names[64];
    int nn = golden_list(g->dir, g->in_ext, names, 64);
    if (nn < 0)
        return;
    CHECK(nn > 0);
    int update = getenv("SPOOR_GOLDEN_UPDATE") != NULL;
    for (int f = 0; f < nn; f++) {
        char lp[512], wp[512];
        snprintf(lp, sizeof lp, "%s/%s%s", g->dir, names[f], g->in_ext);
        snprintf(wp, sizeof wp, "%s/%s%s", g->dir, names[f], g->want_ext);
        size_t ln = 0, wn = 0;
        char *lb = golden_slurp(lp, &ln), *wb = update ? NULL : golden_slurp(wp, &wn);
        static char *ll[4096], *wl[4096];
        static size_t lll[4096], wll[4096];
        size_t nl = split(lb, ln, ll, lll, 4096);
        size_t nw = wb ? split(wb, wn, wl, wll, 4096) : 0;
        FILE *uf = update ? fopen(wp, "w") : NULL;
        if (!update)
            CHECK_INT(nw, nl);
        if (g->begin)
            g->begin(arg);
        for (size_t k = 0; k < nl; k++) {
            out_buf b;
            if (lll[k] && ll[k][0] == '#') {
                snprintf(b.s, sizeof b.s, "%.*s", (int)lll[k], ll[k]);
                b.n = strlen(b.s);
                if (g->directive)
                    g->directive(arg, b.s);
            } else {
                g->line(arg, ll[k], lll[k], &b);
            }
            if (uf) {
                fprintf(uf, "%s\n", b.s);
                continue;
            }
            char want[8192];
            snprintf(want, sizeof want, "%.*s", k < nw ? (int)wll[k] : 0, k < nw ? wl[k] : "");
            if (strcmp(b.s, want) != 0) {
                check_failed++;
                fprintf(stderr, "FAIL golden %s:%zu\n  line: %.*s\n  got:  %s\n  want: %s\n", lp,
                        k + 1, (int)lll[k], ll[k], b.s, want);
            } else {
                check_passed++;
            }
        }
        if (uf)
            fclose(uf);
        free(lb);
        free(wb);
        free(names[f]);
    }
}
