#include "nat.h"
#include "nat_kinds.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small scanning helpers over (pointer, length) ---------------------- */

static const char *memfind(const char *h, size_t hl, const char *n) {
    size_t nl = strlen(n);
    if (nl == 0 || nl > hl)
        return NULL;
    for (size_t i = 0; i + nl <= hl; i++)
        if (h[i] == n[0] && !memcmp(h + i, n, nl))
            return h + i;
    return NULL;
}

static int fail(error *err, size_t pos, const char *fmt, const char *what) {
    return error_set(err, "bad_nat", pos, fmt, what);
}

/* An IPv4 or IPv6 address of LEN bytes at P, copied into the arena; NULL
 * if it is not one. */
static const char *addr_dup(arena *a, const char *p, size_t len) {
    char tmp[64];
    unsigned char bin[16];
    if (len == 0 || len >= sizeof tmp)
        return NULL;
    memcpy(tmp, p, len);
    tmp[len] = '\0';
    if (inet_pton(AF_INET, tmp, bin) != 1 && inet_pton(AF_INET6, tmp, bin) != 1)
        return NULL;
    return arena_strndup(a, p, len);
}

/* A port (0..65535) of LEN bytes at P, or -1. */
static int port_of(const char *p, size_t len) {
    if (len == 0 || len > 5)
        return -1;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v <= 65535 ? v : -1;
}

static nat_record blank(const char *vendor, int kind) {
    return (nat_record){.kind = kind,
                        .vendor = vendor,
                        .ts = INT64_MIN,
                        .inside_port = -1,
                        .port_lo = -1,
                        .port_hi = -1,
                        .proto = -1};
}

/* A record is complete: addresses, and a port range in order. */
static int check(const nat_record *r, size_t pos, error *err) {
    if (!r->inside)
        return fail(err, pos, "%s: no inside address", r->vendor);
    if (!r->outside)
        return fail(err, pos, "%s: no outside (public) address", r->vendor);
    if (r->port_lo < 0 || r->port_hi < r->port_lo)
        return fail(err, pos, "%s: no port range, or its last port before its first", r->vendor);
    return 0;
}

/* ---- Juniper: RT_SRC_NAT_PBA_ALLOC / _INTERIM / _RELEASE ---------------- */

/* The value of PARAM="..." in STRUCTURED-DATA (RFC 5424 escapes \" \\ \]
 * are kept as written: the values Spoor reads hold none). */
static int sd_param(const char *sd, size_t len, const char *param, const char **v, size_t *vl) {
    size_t pl = strlen(param);
    for (const char *p = sd; p && p < sd + len;) {
        const char *q = memfind(p, (size_t)(sd + len - p), param);
        if (!q)
            return 0;
        if ((q == sd || q[-1] == ' ') && q + pl + 1 < sd + len && q[pl] == '=' &&
            q[pl + 1] == '"') {
            const char *s = q + pl + 2, *e = s;
            while (e < sd + len && *e != '"') {
                if (*e == '\\' && e + 1 < sd + len)
                    e++;
                e++;
            }
            *v = s;
            *vl = (size_t)(e - s);
            return 1;
        }
        p = q + 1;
    }
    return 0;
}

static int juniper_kind(const char *p, size_t len) {
    if (memfind(p, len, "RT_SRC_NAT_PBA_ALLOC"))
        return NAT_KIND_ALLOCATED;
    if (memfind(p, len, "RT_SRC_NAT_PBA_INTERIM"))
        return NAT_KIND_INTERIM;
    if (memfind(p, len, "RT_SRC_NAT_PBA_RELEASE"))
        return NAT_KIND_RELEASED;
    return 0;
}

static int juniper(const nat_line *l, arena *a, nat_record *out, error *err) {
    int kind = juniper_kind(l->msgid, l->msgid_len);
    if (!kind)
        kind = juniper_kind(l->msg, l->msg_len);
    if (!kind)
        kind = juniper_kind(l->app, l->app_len);
    if (!kind)
        return 0;
    nat_record r = blank("juniper", kind);
    const char *v;
    size_t vl;
    if (l->sd_len && sd_param(l->sd, l->sd_len, "internal-ip", &v, &vl)) {
        /* Structured syslog: the parameters name every field. */
        r.inside = addr_dup(a, v, vl);
        if (sd_param(l->sd, l->sd_len, "reflexive-ip", &v, &vl))
            r.outside = addr_dup(a, v, vl);
        if (sd_param(l->sd, l->sd_len, "block-port-low", &v, &vl))
            r.port_lo = port_of(v, vl);
        if (sd_param(l->sd, l->sd_len, "block-port-high", &v, &vl))
            r.port_hi = port_of(v, vl);
        if (sd_param(l->sd, l->sd_len, "nat-pool-name", &v, &vl) && vl)
            r.pool = arena_strndup(a, v, vl);
        if (sd_param(l->sd, l->sd_len, "epoch-time-64", &v, &vl) && vl && vl < 20) {
            char t[24];
            memcpy(t, v, vl);
            t[vl] = '\0';
            char *end;
            long long s = strtoll(t, &end, 10);
            if (*end == '\0' && s > 0)
                /* seconds (10 digits) or milliseconds (13) since the epoch */
                r.ts = vl >= 13 ? s * 1000 : s * 1000000;
        }
        if (check(&r, 0, err) < 0)
            return -1;
        out[0] = r;
        return 1;
    }
    /* The plain form: "RT_SRC_NAT_PBA_ALLOC: Subscriber 100.64.0.5 used/released
     * port range 1024-2047 of public IP 203.0.113.10 in pool pool1": the
     * first address is the subscriber's, the last the public one. */
    const char *m = l->msg, *end = l->msg + l->msg_len;
    const char *addrs[2] = {NULL, NULL};
    for (const char *p = m; p < end;) {
        while (p < end && !((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || *p == ':'))
            p++;
        const char *s = p;
        while (p < end && ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
                           (*p >= 'A' && *p <= 'F') || *p == '.' || *p == ':'))
            p++;
        if (p == s) {
            p++;
            continue;
        }
        const char *ad = addr_dup(a, s, (size_t)(p - s));
        if (ad) {
            if (!addrs[0])
                addrs[0] = ad;
            else
                addrs[1] = ad;
        } else if (p < end && *p == '-' && r.port_lo < 0) {
            const char *t = p + 1, *u = t;
            while (u < end && *u >= '0' && *u <= '9')
                u++;
            r.port_lo = port_of(s, (size_t)(p - s));
            r.port_hi = port_of(t, (size_t)(u - t));
            p = u;
        }
    }
    r.inside = addrs[0];
    r.outside = addrs[1];
    const char *pool = memfind(m, l->msg_len, " pool ");
    if (pool) {
        const char *s = pool + 6, *e = s;
        while (e < end && *e != ' ')
            e++;
        if (e > s)
            r.pool = arena_strndup(a, s, (size_t)(e - s));
    }
    if (check(&r, 0, err) < 0)
        return -1;
    out[0] = r;
    return 1;
}

/* ---- Cisco IOS XR CGN: [UserbasedA - VRF - INSIDE - OUTSIDE - LO - HI] -- */

static int cisco(const nat_line *l, arena *a, nat_record *out, int max, error *err) {
    const char *m = l->msg, *end = l->msg + l->msg_len;
    int n = 0;
    for (const char *p = memfind(m, l->msg_len, "[Userbased"); p;
         p = memfind(p + 1, (size_t)(end - p - 1), "[Userbased")) {
        size_t pos = (size_t)(p - m);
        const char *close = memchr(p, ']', (size_t)(end - p));
        if (!close)
            return fail(err, pos, "%s: a record without its closing ']'", "cisco");
        char kind = p[10];
        if (kind != 'A' && kind != 'W')
            return fail(err, pos, "%s: neither UserbasedA nor UserbasedW", "cisco");
        /* Fields separated by " - " after the record type. */
        const char *f[6];
        size_t fl[6];
        int nf = 0;
        const char *s = p + 11;
        while (s < close && nf < 6) {
            while (s < close && (*s == ' ' || *s == '-'))
                s++;
            const char *e = s;
            while (e < close && *e != ' ')
                e++;
            if (e > s) {
                f[nf] = s;
                fl[nf++] = (size_t)(e - s);
            }
            s = e;
        }
        if (nf != 5)
            return fail(err, pos, "%s: a record needs VRF, inside, outside and two ports", "cisco");
        if (n == max)
            return fail(err, pos, "%s: more records in one message than Spoor takes", "cisco");
        nat_record r = blank("cisco", kind == 'A' ? NAT_KIND_ALLOCATED : NAT_KIND_RELEASED);
        r.inside_vrf = arena_strndup(a, f[0], fl[0]);
        r.inside = addr_dup(a, f[1], fl[1]);
        r.outside = addr_dup(a, f[2], fl[2]);
        r.port_lo = port_of(f[3], fl[3]);
        r.port_hi = port_of(f[4], fl[4]);
        if (check(&r, pos, err) < 0)
            return -1;
        out[n++] = r;
        p = close;
    }
    return n;
}

/* ---- A10 Thunder CGN, CEF ---------------------------------------------- */

/* The value of KEY= in a CEF extension (values end where the next " key="
 * begins; "\=" and "\\" are escapes). */
static int cef_value(const char *ext, size_t len, const char *key, const char **v, size_t *vl) {
    size_t kl = strlen(key);
    for (size_t i = 0; i + kl < len; i++) {
        if ((i == 0 || ext[i - 1] == ' ') && !memcmp(ext + i, key, kl) && ext[i + kl] == '=') {
            size_t s = i + kl + 1, e = s;
            while (e < len) {
                if (ext[e] == '\\' && e + 1 < len) {
                    e += 2;
                    continue;
                }
                if (ext[e] == ' ') {
                    /* the next "key=" ends this value */
                    size_t k = e + 1;
                    while (k < len &&
                           ((ext[k] >= 'a' && ext[k] <= 'z') || (ext[k] >= 'A' && ext[k] <= 'Z') ||
                            (ext[k] >= '0' && ext[k] <= '9') || ext[k] == '_'))
                        k++;
                    if (k < len && ext[k] == '=' && k > e + 1)
                        break;
                }
                e++;
            }
            *v = ext + s;
            *vl = e - s;
            return 1;
        }
    }
    return 0;
}

static int a10(const nat_line *l, arena *a, nat_record *out, error *err) {
    const char *m = l->msg, *end = l->msg + l->msg_len;
    const char *cef = memfind(m, l->msg_len, "CEF:");
    /* "host CEF:0|A10|...": a syslog parser takes "CEF" for the tag, and
     * the message begins after it with the version. */
    if (!cef && l->app_len == 3 && !memcmp(l->app, "CEF", 3))
        cef = m;
    if (!cef || !memfind(cef, (size_t)(end - cef), "|A10|"))
        return 0;
    /* Seven '|' separate the header (CEF:Version|Vendor|Product|Version|
     * Signature|Name|Severity|) from the extension; "\|" is an escape. */
    const char *fld[8];
    size_t fl[8];
    int nf = 0;
    const char *s = cef;
    for (const char *p = cef; p < end && nf < 7; p++) {
        if (*p == '\\' && p + 1 < end) {
            p++;
            continue;
        }
        if (*p == '|') {
            fld[nf] = s;
            fl[nf++] = (size_t)(p - s);
            s = p + 1;
        }
    }
    if (nf < 7)
        return fail(err, (size_t)(cef - m), "%s: a CEF header has seven fields", "a10");
    const char *ext = s;
    size_t el = (size_t)(end - s);
    const char *name = fld[5];
    size_t nl = fl[5];
    int kind = memfind(name, nl, "Allocated") ? NAT_KIND_ALLOCATED
               : memfind(name, nl, "Freed")   ? NAT_KIND_RELEASED
                                              : 0;
    if (!kind || !memfind(name, nl, "Port Batch"))
        return 0; /* other A10 events (sessions, alerts): evidence only */
    nat_record r = blank("a10", kind);
    const char *v;
    size_t vl;
    if (cef_value(ext, el, "src", &v, &vl))
        r.inside = addr_dup(a, v, vl);
    if (cef_value(ext, el, "sourceTranslatedAddress", &v, &vl))
        r.outside = addr_dup(a, v, vl);
    if (cef_value(ext, el, "sourceTranslatedPort", &v, &vl))
        r.port_lo = port_of(v, vl);
    if (cef_value(ext, el, "cn3", &v, &vl))
        r.port_hi = port_of(v, vl);
    if (cef_value(ext, el, "rt", &v, &vl) && vl == 13) {
        char t[16];
        memcpy(t, v, vl);
        t[vl] = '\0';
        r.ts = strtoll(t, NULL, 10) * 1000; /* milliseconds since the epoch */
    }
    if (check(&r, (size_t)(ext - m), err) < 0)
        return -1;
    out[0] = r;
    return 1;
}

/* ---- 6WIND and NFWare text lines ---------------------------------------- */

/* The next whitespace-separated word at *P (before END). */
static int word(const char **p, const char *end, const char **w, size_t *wl) {
    while (*p < end && (**p == ' ' || **p == '\t'))
        (*p)++;
    const char *s = *p;
    while (*p < end && **p != ' ' && **p != '\t')
        (*p)++;
    *w = s;
    *wl = (size_t)(*p - s);
    return *wl > 0;
}

/* "A VRF 0 INT 100.64.0.5 EXT 203.0.113.10:1024-1535" (A allocates, D frees) */
static int nfware(const nat_line *l, arena *a, nat_record *out, error *err) {
    const char *m = l->msg, *end = l->msg + l->msg_len;
    const char *vrf = memfind(m, l->msg_len, " VRF ");
    const char *ext = memfind(m, l->msg_len, " EXT ");
    const char *in = memfind(m, l->msg_len, " INT ");
    if (!vrf || !ext || !in || vrf == m)
        return 0;
    char t = vrf[-1];
    if (t != 'A' && t != 'D' && t != 'F')
        return 0;
    nat_record r = blank("nfware", t == 'A' ? NAT_KIND_ALLOCATED : NAT_KIND_RELEASED);
    const char *p = vrf + 5, *w;
    size_t wl;
    if (word(&p, end, &w, &wl))
        r.inside_vrf = arena_strndup(a, w, wl);
    p = in + 5;
    if (word(&p, end, &w, &wl))
        r.inside = addr_dup(a, w, wl);
    p = ext + 5;
    if (word(&p, end, &w, &wl)) {
        /* ADDRESS:FIRST-LAST (an IPv6 address in brackets) */
        const char *colon = w + wl;
        while (colon > w && colon[-1] != ':')
            colon--;
        const char *dash = colon ? memchr(colon, '-', (size_t)(w + wl - colon)) : NULL;
        if (colon > w && dash) {
            const char *as = w, *ae = colon - 1;
            if (*as == '[' && ae > as && ae[-1] == ']') {
                as++;
                ae--;
            }
            r.outside = addr_dup(a, as, (size_t)(ae - as));
            r.port_lo = port_of(colon, (size_t)(dash - colon));
            r.port_hi = port_of(dash + 1, (size_t)(w + wl - dash - 1));
        }
    }
    if (check(&r, (size_t)(ext - m), err) < 0)
        return -1;
    out[0] = r;
    return 1;
}

/* "NEW BLOCK proto 6 inside 100.64.0.5 outside 203.0.113.10 port 1024 - 1535"
 * and "DEL BLOCK ..." (a word after each field's name). */
static int sixwind(const nat_line *l, arena *a, nat_record *out, error *err) {
    const char *m = l->msg, *end = l->msg + l->msg_len;
    const char *nb = memfind(m, l->msg_len, "NEW BLOCK");
    const char *db = memfind(m, l->msg_len, "DEL BLOCK");
    const char *fb = memfind(m, l->msg_len, "FREE BLOCK");
    if (!nb && !db && !fb)
        return 0;
    nat_record r = blank("6wind", nb ? NAT_KIND_ALLOCATED : NAT_KIND_RELEASED);
    const char *w;
    size_t wl;
    for (const char *p = m; word(&p, end, &w, &wl);) {
        const char *v;
        size_t vl;
        if ((wl == 6 && !memcmp(w, "inside", 6)) || (wl == 3 && !memcmp(w, "src", 3))) {
            if (word(&p, end, &v, &vl))
                r.inside = addr_dup(a, v, vl);
        } else if ((wl == 7 && !memcmp(w, "outside", 7)) || (wl == 3 && !memcmp(w, "nat", 3))) {
            if (word(&p, end, &v, &vl))
                r.outside = addr_dup(a, v, vl);
        } else if (wl == 3 && !memcmp(w, "vrf", 3)) {
            if (word(&p, end, &v, &vl))
                r.inside_vrf = arena_strndup(a, v, vl);
        } else if (wl == 4 && !memcmp(w, "port", 4)) {
            /* "port 1024 - 1535" or "port 1024-1535" */
            if (word(&p, end, &v, &vl)) {
                const char *dash = memchr(v, '-', vl);
                if (dash) {
                    r.port_lo = port_of(v, (size_t)(dash - v));
                    r.port_hi = port_of(dash + 1, (size_t)(v + vl - dash - 1));
                } else {
                    r.port_lo = port_of(v, vl);
                    const char *q = p;
                    if (word(&q, end, &v, &vl) && vl == 1 && *v == '-' && word(&q, end, &v, &vl)) {
                        r.port_hi = port_of(v, vl);
                        p = q;
                    }
                }
            }
        }
    }
    if (check(&r, 0, err) < 0)
        return -1;
    out[0] = r;
    return 1;
}

int nat_parse(const nat_line *l, arena *a, nat_record *out, int max, error *err) {
    if (max < 1)
        return 0;
    int n = juniper(l, a, out, err);
    if (n == 0 && memfind(l->msg, l->msg_len, "[Userbased"))
        n = cisco(l, a, out, max, err);
    if (n == 0)
        n = a10(l, a, out, err);
    if (n == 0)
        n = nfware(l, a, out, err);
    if (n == 0)
        n = sixwind(l, a, out, err);
    return n;
}

/* ---- conntrack -E -o timestamp ------------------------------------------ */

int nat_is_conntrack(const char *line, size_t len) {
    return len > 4 && line[0] == '[' && line[1] >= '0' && line[1] <= '9' &&
           (memfind(line, len, "[NEW]") || memfind(line, len, "[DESTROY]") ||
            memfind(line, len, "[UPDATE]"));
}

/* The value of KEY= in the tuple starting at P (before END): the word after. */
static const char *tuple_val(const char *p, const char *end, const char *key, size_t *vl) {
    size_t kl = strlen(key);
    for (const char *q = p; q + kl < end; q++)
        if ((q == p || q[-1] == ' ' || q[-1] == '\t') && !memcmp(q, key, kl)) {
            const char *s = q + kl, *e = s;
            while (e < end && *e != ' ' && *e != '\t')
                e++;
            *vl = (size_t)(e - s);
            return s;
        }
    return NULL;
}

int nat_parse_conntrack(const char *line, size_t len, arena *a, nat_record *out, error *err) {
    const char *end = line + len;
    const char *close = memchr(line, ']', len);
    if (!close)
        return error_set(err, "bad_nat", 0, "conntrack: no ']' after the timestamp");
    /* [SECONDS.MICROS] */
    long long sec = 0, us = 0;
    const char *p = line + 1;
    int digits = 0;
    while (p < close && *p >= '0' && *p <= '9') {
        sec = sec * 10 + (*p++ - '0');
        digits++;
    }
    if (!digits || digits > 12)
        return error_set(err, "bad_nat", 1, "conntrack: the timestamp is not [seconds.micros]");
    if (p < close && *p == '.') {
        int k = 0;
        for (p++; p < close && *p >= '0' && *p <= '9' && k < 6; p++, k++)
            us = us * 10 + (*p - '0');
        for (; k < 6; k++)
            us *= 10;
    }
    int kind = memfind(close, (size_t)(end - close), "[NEW]")       ? NAT_KIND_SESSION_OPEN
               : memfind(close, (size_t)(end - close), "[DESTROY]") ? NAT_KIND_SESSION_CLOSE
                                                                    : 0;
    out[0] = blank("conntrack", kind);
    out[0].ts = sec * 1000000 + us; /* the line's time, also when it holds no record */
    if (!kind)
        return 0; /* UPDATE: the session's state changed, not who held it */
    /* "tcp      6 120 SYN_SENT src=... dst=... sport=... dport=... [..] src=..." */
    const char *t = close + 1;
    while (t < end && *t != ']')
        t++;
    t++;
    nat_record r = blank("conntrack", kind);
    r.ts = sec * 1000000 + us;
    const char *w;
    size_t wl;
    const char *q = t;
    if (word(&q, end, &w, &wl) && word(&q, end, &w, &wl))
        r.proto = port_of(w, wl) <= 255 ? port_of(w, wl) : -1;
    /* The original tuple, then the reply tuple (from its second "src="). */
    const char *orig = memfind(t, (size_t)(end - t), "src=");
    const char *reply = orig ? memfind(orig + 4, (size_t)(end - orig - 4), "src=") : NULL;
    if (!orig || !reply)
        return error_set(err, "bad_nat", (size_t)(t - line),
                         "conntrack: an event needs its original and reply tuples");
    size_t vl;
    const char *v;
    const char *isrc = tuple_val(orig, reply, "src=", &vl);
    r.inside = isrc ? addr_dup(a, isrc, vl) : NULL;
    v = tuple_val(orig, reply, "sport=", &vl);
    r.inside_port = v ? port_of(v, vl) : -1;
    const char *odst = tuple_val(reply, end, "dst=", &vl);
    size_t odl = vl;
    v = tuple_val(reply, end, "dport=", &vl);
    int oport = v ? port_of(v, vl) : -1;
    /* Not translated (the reply comes back to the inside address itself):
     * no NAT session. */
    if (!isrc || !odst || (odl == strlen(r.inside) && !memcmp(odst, r.inside, odl)))
        return 0;
    r.outside = addr_dup(a, odst, odl);
    r.port_lo = r.port_hi = oport;
    if (check(&r, (size_t)(reply - line), err) < 0)
        return -1;
    out[0] = r;
    return 1;
}
