#include "syslog_sources.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void trim(char **s, char **e) {
    while (*s < *e && isspace((unsigned char)**s))
        (*s)++;
    while (*e > *s && isspace((unsigned char)(*e)[-1]))
        (*e)--;
}

/* "ADDR" or "ADDR/BITS" into a v4-mapped 128-bit prefix. */
static int parse_prefix(const char *text, uint8_t *addr, int *bits) {
    char a[64];
    const char *slash = strchr(text, '/');
    size_t n = slash ? (size_t)(slash - text) : strlen(text);
    if (n == 0 || n >= sizeof a)
        return -1;
    memcpy(a, text, n);
    a[n] = '\0';
    struct in_addr v4;
    struct in6_addr v6;
    int maxbits, offset;
    memset(addr, 0, 16);
    if (inet_pton(AF_INET, a, &v4) == 1) {
        addr[10] = addr[11] = 0xff;
        memcpy(addr + 12, &v4, 4);
        maxbits = 32;
        offset = 96;
    } else if (inet_pton(AF_INET6, a, &v6) == 1) {
        memcpy(addr, &v6, 16);
        maxbits = 128;
        offset = 0;
    } else
        return -1;
    int b = maxbits;
    if (slash) {
        char *end;
        long v = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || v < 0 || v > maxbits)
            return -1;
        b = (int)v;
    }
    *bits = offset + b;
    return 0;
}

int syslog_sources_parse(const char *spec, syslog_sources *out, error *err) {
    memset(out, 0, sizeof *out);
    const char *p = spec ? spec : "";
    while (*p) {
        const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
        char item[1024];
        size_t n = (size_t)(end - p);
        if (n >= sizeof item) {
            error_set(err, "too_long", 0, "collect.syslog_sources: entry too long");
            return -1;
        }
        memcpy(item, p, n);
        item[n] = '\0';
        p = comma ? comma + 1 : end;
        char *s = item, *e = item + n;
        trim(&s, &e);
        *e = '\0';
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            error_set(err, "bad_entry", 0,
                      "collect.syslog_sources: '%s' is not ADDRESS[/BITS]=HOST|HOST... or =*", s);
            return -1;
        }
        *eq = '\0';
        char *as = s, *ae = eq;
        trim(&as, &ae);
        *ae = '\0';
        if (out->n == SYSLOG_SOURCES_MAX) {
            error_set(err, "too_many", 0, "collect.syslog_sources: more than %d entries",
                      SYSLOG_SOURCES_MAX);
            return -1;
        }
        syslog_source *src = &out->s[out->n];
        if (parse_prefix(as, src->addr, &src->bits) < 0) {
            error_set(err, "bad_address", 0,
                      "collect.syslog_sources: '%s' is not an address or CIDR prefix", as);
            return -1;
        }
        char *names = eq + 1, *save = NULL;
        for (char *t = strtok_r(names, "|", &save); t; t = strtok_r(NULL, "|", &save)) {
            char *ts = t, *te = t + strlen(t);
            trim(&ts, &te);
            *te = '\0';
            if (!*ts)
                continue;
            if (!strcmp(ts, "*")) {
                src->any = 1;
                continue;
            }
            if (src->n_names == SYSLOG_SOURCES_NAMES || strlen(ts) >= sizeof src->names[0]) {
                error_set(err, "bad_names", 0,
                          "collect.syslog_sources: %s: too many or too long host names", as);
                return -1;
            }
            snprintf(src->names[src->n_names++], sizeof src->names[0], "%s", ts);
        }
        if (!src->any && src->n_names == 0) {
            error_set(err, "no_host", 0, "collect.syslog_sources: %s names no host (use * for any)",
                      as);
            return -1;
        }
        out->n++;
    }
    return 0;
}

const syslog_source *syslog_sources_find(const syslog_sources *s, const struct sockaddr *peer) {
    uint8_t a[16] = {0};
    if (peer->sa_family == AF_INET) {
        a[10] = a[11] = 0xff;
        memcpy(a + 12, &((const struct sockaddr_in *)peer)->sin_addr, 4);
    } else if (peer->sa_family == AF_INET6)
        memcpy(a, &((const struct sockaddr_in6 *)peer)->sin6_addr, 16);
    else
        return NULL;
    for (int i = 0; i < s->n; i++) {
        const syslog_source *e = &s->s[i];
        int full = e->bits / 8, rest = e->bits % 8;
        if (memcmp(a, e->addr, (size_t)full))
            continue;
        if (rest && ((a[full] ^ e->addr[full]) & (0xff << (8 - rest)) & 0xff))
            continue;
        return e;
    }
    return NULL;
}

/* Equal ignoring case, or equal up to the first dot of the longer one. */
static int name_match(const char *a, const char *b) {
    if (!strcasecmp(a, b))
        return 1;
    size_t la = strcspn(a, "."), lb = strcspn(b, ".");
    if (a[la] == '.' && b[lb] == '\0')
        return la == strlen(b) && !strncasecmp(a, b, la);
    if (b[lb] == '.' && a[la] == '\0')
        return lb == strlen(a) && !strncasecmp(a, b, lb);
    return 0;
}

int syslog_sources_may_speak(const syslog_source *src, const char *host) {
    if (!src)
        return 0;
    if (src->any)
        return 1;
    if (!host || !*host)
        return 0;
    for (int i = 0; i < src->n_names; i++)
        if (name_match(host, src->names[i]))
            return 1;
    return 0;
}
