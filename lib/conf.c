#include "conf.h"
#include "mem.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const conf_def *conf_find(const conf_def *defs, const char *name) {
    for (; defs->name; defs++)
        if (strcmp(defs->name, name) == 0)
            return defs;
    return NULL;
}

static int parse_number(const conf_def *d, const char *v, long long *out, error *err) {
    errno = 0;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (end == v || errno) {
        error_set(err, "bad_config", 0, "%s: '%s' is not a number", d->name, v);
        return -1;
    }
    long long mult = 1;
    if (d->type == CONF_DURATION) {
        switch (*end) {
        case '\0':
        case 's':
            mult = 1;
            break;
        case 'm':
            mult = 60;
            break;
        case 'h':
            mult = 3600;
            break;
        case 'd':
            mult = 86400;
            break;
        default:
            mult = 0;
        }
        if (*end)
            end++;
    } else if (d->type == CONF_SIZE) {
        switch (*end) {
        case '\0':
            mult = 1;
            break;
        case 'k':
        case 'K':
            mult = 1024;
            break;
        case 'M':
            mult = 1024 * 1024;
            break;
        case 'G':
            mult = 1024LL * 1024 * 1024;
            break;
        default:
            mult = 0;
        }
        if (*end)
            end++;
    }
    if (*end || mult == 0) {
        error_set(err, "bad_config", 0, "%s: '%s' has an unknown unit", d->name, v);
        return -1;
    }
    x *= mult;
    if (x < d->min || x > d->max) {
        error_set(err, "bad_config", 0, "%s: %s is out of bounds [%lld, %lld]", d->name, v, d->min,
                  d->max);
        return -1;
    }
    *out = x;
    return 0;
}

static int conf_apply(const conf_def *d, void *obj, const char *v, error *err) {
    char *field = (char *)obj + d->offset;
    switch (d->type) {
    case CONF_STR: {
        char **s = (char **)field;
        free(*s);
        *s = mem_strdup(v);
        return 0;
    }
    case CONF_BOOL: {
        int b;
        if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "1"))
            b = 1;
        else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "0"))
            b = 0;
        else {
            error_set(err, "bad_config", 0, "%s: '%s' is not yes or no", d->name, v);
            return -1;
        }
        *(int *)field = b;
        return 0;
    }
    default:
        return parse_number(d, v, (long long *)field, err);
    }
}

int conf_defaults(const conf_def *defs, void *obj, error *err) {
    for (const conf_def *d = defs; d->name; d++)
        if (conf_apply(d, obj, d->def, err) < 0)
            return -1;
    return 0;
}

int conf_set(const conf_def *defs, void *obj, const char *name, const char *value,
             const char *where, error *err) {
    const conf_def *d = conf_find(defs, name);
    if (!d) {
        error_set(err, "bad_config", 0, "%s: unknown setting '%s'", where, name);
        return -1;
    }
    error e;
    if (conf_apply(d, obj, value, &e) < 0) {
        error_set(err, e.code, 0, "%s: %s", where, e.msg);
        return -1;
    }
    return 0;
}

static char *trim(char *s) {
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

int conf_load_file(const conf_def *defs, void *obj, const char *path, error *err) {
    FILE *f = fopen(path, "r");
    if (!f) {
        error_set(err, "io", 0, "cannot read configuration %s: %s", path, strerror(errno));
        return -1;
    }
    char line[4096], where[4200];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        if (!strchr(line, '\n') && !feof(f)) {
            error_set(err, "bad_config", 0, "%s: line too long", where);
            rc = -1;
            break;
        }
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            error_set(err, "bad_config", 0, "%s: expected 'key = value'", where);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        size_t vl = strlen(val);
        if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
            val[vl - 1] = '\0';
            val++;
        }
        if (conf_set(defs, obj, key, val, where, err) < 0) {
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

int conf_load_env(const conf_def *defs, void *obj, error *err) {
    for (const conf_def *d = defs; d->name; d++) {
        char env[128] = "SPOOR_";
        size_t n = strlen(env);
        for (const char *p = d->name; *p && n < sizeof env - 1; p++)
            env[n++] = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
        env[n] = '\0';
        const char *v = getenv(env);
        if (v && conf_set(defs, obj, d->name, v, env, err) < 0)
            return -1;
    }
    return 0;
}

void conf_redact_dsn(const char *dsn, char *out, size_t outlen) {
    /* URI form: postgresql://user:secret@host/... */
    const char *scheme = strstr(dsn, "://");
    if (scheme) {
        /* postgresql://user:secret@host/db?password=secret&...: the userinfo's
         * password and a password parameter are both secrets. */
        size_t o = 0;
        const char *auth = scheme + 3, *end = auth + strcspn(auth, "/?");
        const char *at = memchr(auth, '@', (size_t)(end - auth));
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        const char *p = dsn;
        while (*p && o + 1 < outlen) {
            if (p == colon) {
                o += (size_t)snprintf(out + o, outlen - o, ":***");
                p = at;
            } else if ((*p == '?' || *p == '&') && p >= end &&
                       strncmp(p + 1, "password=", 9) == 0) {
                o += (size_t)snprintf(out + o, outlen - o, "%cpassword=***", *p);
                p += 10;
                p += strcspn(p, "&");
            } else {
                out[o++] = *p++;
                continue;
            }
            if (o >= outlen)
                o = outlen - 1;
        }
        out[o] = '\0';
        return;
    }
    /* key=value form: blank out password=... (quoted or not). */
    size_t o = 0;
    const char *p = dsn;
    while (*p && o + 1 < outlen) {
        if ((p == dsn || isspace((unsigned char)p[-1])) && strncmp(p, "password", 8) == 0) {
            const char *q = p + 8;
            while (isspace((unsigned char)*q))
                q++;
            if (*q == '=') {
                q++;
                while (isspace((unsigned char)*q))
                    q++;
                if (*q == '\'') {
                    for (q++; *q && *q != '\''; q++)
                        if (*q == '\\' && q[1])
                            q++;
                    if (*q)
                        q++;
                } else
                    while (*q && !isspace((unsigned char)*q))
                        q++;
                o += (size_t)snprintf(out + o, outlen - o, "password=***");
                if (o >= outlen)
                    o = outlen - 1;
                p = q;
                continue;
            }
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
}

void conf_print(const conf_def *defs, const void *obj, FILE *out) {
    for (const conf_def *d = defs; d->name; d++) {
        const char *field = (const char *)obj + d->offset;
        switch (d->type) {
        case CONF_STR: {
            const char *v = *(char *const *)field;
            if (d->secret && v) {
                char r[1024];
                conf_redact_dsn(v, r, sizeof r);
                fprintf(out, "%s = \"%s\"\n", d->name, r);
            } else
                fprintf(out, "%s = \"%s\"\n", d->name, v ? v : "");
            break;
        }
        case CONF_BOOL:
            fprintf(out, "%s = %s\n", d->name, *(const int *)field ? "yes" : "no");
            break;
        case CONF_DURATION:
            fprintf(out, "%s = %llds\n", d->name, *(const long long *)field);
            break;
        default:
            fprintf(out, "%s = %lld\n", d->name, *(const long long *)field);
        }
    }
}

void conf_free(const conf_def *defs, void *obj) {
    for (const conf_def *d = defs; d->name; d++)
        if (d->type == CONF_STR) {
            char **s = (char **)((char *)obj + d->offset);
            free(*s);
            *s = NULL;
        }
}
