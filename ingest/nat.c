#include "nat.h"
#include "nat_kinds.h"
#include "timeutil.h"

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

static int word(const char **p, const char *end, const char **w, size_t *wl);

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
    if (memfind(p, len, "RT_SRC_NAT_PBA_ALLOC") ||
        memfind(p, len, "JSERVICES_NAT_PORT_BLOCK_ALLOC"))
        return NAT_KIND_ALLOCATED;
    if (memfind(p, len, "RT_SRC_NAT_PBA_INTERIM") ||
        memfind(p, len, "JSERVICES_NAT_PORT_BLOCK_ACTIVE"))
        return NAT_KIND_INTERIM;
    if (memfind(p, len, "RT_SRC_NAT_PBA_RELEASE") ||
        memfind(p, len, "JSERVICES_NAT_PORT_BLOCK_RELEASE"))
        return NAT_KIND_RELEASED;
    return 0;
}

/* Hex seconds since the epoch (Junos writes epoch-time-64="624b0492" and
 * "epoch 0x6a44007a"), as microseconds; INT64_MIN if not that. */
static int64_t hex_epoch(const char *p, size_t len) {
    if (len > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        p += 2;
        len -= 2;
    }
    if (len == 0 || len > 16)
        return INT64_MIN;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return INT64_MIN;
        v = v * 16 + d;
    }
    /* seconds: before 2200, after 1990 */
    return v > 631152000 && v < 7258118400LL ? v * 1000000 : INT64_MIN;
}

/* "ADDRESS:FIRST-LAST" (an IPv6 address in brackets) into R; 0 if it is not. */
static int addr_range(arena *a, const char *w, size_t wl, nat_record *r) {
    const char *colon = w + wl;
    while (colon > w && colon[-1] != ':')
        colon--;
    if (colon == w)
        return 0;
    const char *dash = memchr(colon, '-', (size_t)(w + wl - colon));
    const char *as = w, *ae = colon - 1;
    if (*as == '[' && ae > as && ae[-1] == ']') {
        as++;
        ae--;
    }
    const char *ad = addr_dup(a, as, (size_t)(ae - as));
    int lo = port_of(colon, (size_t)((dash ? dash : w + wl) - colon));
    int hi = dash ? port_of(dash + 1, (size_t)(w + wl - dash - 1)) : lo;
    if (!ad || lo < 0 || hi < 0)
        return 0;
    r->outside = ad;
    r->port_lo = lo;
    r->port_hi = hi;
    return 1;
}

/* The next word at *P (before END), without the brackets and punctuation
 * around it: "[24064-24191]" -> "24064-24191", "1.2.3.4," -> "1.2.3.4". */
static int token(const char **p, const char *end, const char **w, size_t *wl) {
    while (*p < end && (**p == ' ' || **p == '\t'))
        (*p)++;
    const char *s = *p;
    while (*p < end && **p != ' ' && **p != '\t')
        (*p)++;
    const char *e = *p;
    while (s < e && (*s == '[' || *s == '(' || *s == '"'))
        s++;
    while (e > s && (e[-1] == ']' || e[-1] == ')' || e[-1] == ',' || e[-1] == '"'))
        e--;
    *w = s;
    *wl = (size_t)(e - s);
    return *p > s || *wl > 0;
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
        if (sd_param(l->sd, l->sd_len, "logical-system-id", &v, &vl) && vl &&
            !(vl == 1 && *v == '0'))
            r.inside_vrf = arena_strndup(a, v, vl);
        /* epoch-time-64: the block's allocation time, in hex seconds, UTC
         * (an interim repeats the allocation's: its own time is the header's). */
        if (kind != NAT_KIND_INTERIM && sd_param(l->sd, l->sd_len, "epoch-time-64", &v, &vl))
            r.ts = hex_epoch(v, vl);
        if (check(&r, 0, err) < 0)
            return -1;
        out[0] = r;
        return 1;
    }
    /* The plain forms: "RT_SRC_NAT_PBA_ALLOC: Subscriber 100.64.60.74
     * used/maximum [10/15] blocks, allocates port block [24064-24191] from
     * 203.0.113.100 in source pool POOL lsys_id: 0 epoch 0x6a44007a", and
     * MX's "JSERVICES_NAT_PORT_BLOCK_ALLOC: 10.0.0.5 -> 203.0.113.5:1024-2047":
     * the first address is the subscriber's, the next the public one. */
    const char *m = l->msg, *end = l->msg + l->msg_len, *w;
    size_t wl;
    for (const char *p = m; token(&p, end, &w, &wl);) {
        if (wl == 0)
            continue;
        const char *ad = addr_dup(a, w, wl);
        if (ad) {
            if (!r.inside)
                r.inside = ad;
            else if (!r.outside)
                r.outside = ad;
            continue;
        }
        if (r.inside && !r.outside && addr_range(a, w, wl, &r))
            continue;
        const char *dash = memchr(w, '-', wl);
        if (dash && r.port_lo < 0 && port_of(w, (size_t)(dash - w)) >= 0 &&
            port_of(dash + 1, (size_t)(w + wl - dash - 1)) >= 0) {
            r.port_lo = port_of(w, (size_t)(dash - w));
            r.port_hi = port_of(dash + 1, (size_t)(w + wl - dash - 1));
        } else if (wl == 4 && !memcmp(w, "pool", 4)) {
            const char *pw;
            size_t pl;
            if (token(&p, end, &pw, &pl) && pl)
                r.pool = arena_strndup(a, pw, pl);
        } else if (wl == 5 && !memcmp(w, "epoch", 5) && kind != NAT_KIND_INTERIM) {
            const char *ew;
            size_t el;
            if (token(&p, end, &ew, &el))
                r.ts = hex_epoch(ew, el);
        }
    }
    if (check(&r, 0, err) < 0)
        return -1;
    out[0] = r;
    return 1;
}

/* ---- Cisco IOS XR CGN: "Userbased" records ------------------------------
 *
 * [EVENT L4 INSIDE VRF INSIDE6 OUTSIDE ORIGPORT FIRST LAST DST DSTPORT], the
 * fields by position, "-" where they do not apply, trailing ones possibly
 * left out; several records per message, "][" between them (Cisco's CGN
 * configuration guide, External Logging; its vCGN source for the bytes). */
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
        const char *f[11];
        size_t fl[11];
        int nf = 0;
        for (const char *q = p + 1; nf < 11 && word(&q, close, &f[nf], &fl[nf]);)
            nf++;
        if (nf < 9)
            return fail(err, pos,
                        "%s: a record needs its inside and translated addresses and "
                        "its first and last ports",
                        "cisco");
        if (n == max)
            return fail(err, pos, "%s: more records in one message than Spoor takes", "cisco");
        nat_record r = blank("cisco", kind == 'A' ? NAT_KIND_ALLOCATED : NAT_KIND_RELEASED);
        /* DS-Lite puts the subscriber's B4 address in INSIDE6 */
        int v6 = fl[2] == 1 && f[2][0] == '-';
        r.inside = addr_dup(a, v6 ? f[4] : f[2], v6 ? fl[4] : fl[2]);
        if (!(fl[3] == 1 && f[3][0] == '-'))
            r.inside_vrf = arena_strndup(a, f[3], fl[3]);
        r.outside = addr_dup(a, f[5], fl[5]);
        r.port_lo = port_of(f[7], fl[7]);
        r.port_hi = port_of(f[8], fl[8]);
        if (check(&r, pos, err) < 0)
            return -1;
        out[n++] = r;
        p = close;
    }
    return n;
}

int nat_cisco_header(const char *line, size_t len, int64_t *ts, const char **host, size_t *host_len,
                     const char **rest) {
    /* "<134> 1 2011 May 31 10:30:45 HOST - - NAT44 - [..." (UTC) */
    const char *p = line, *end = line + len, *w;
    size_t wl;
    if (p < end && *p == '<') {
        const char *gt = memchr(p, '>', (size_t)(end - p) < 6 ? (size_t)(end - p) : 6);
        if (!gt)
            return 0;
        p = gt + 1;
    }
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    timeutil_civil c = {0};
    if (!word(&p, end, &w, &wl) || wl != 1 || *w != '1' || !word(&p, end, &w, &wl) || wl != 4)
        return 0;
    c.year = port_of(w, wl);
    if (c.year < 0 || !word(&p, end, &w, &wl) || wl != 3)
        return 0;
    for (int i = 0; i < 12; i++)
        if (!memcmp(w, mon[i], 3))
            c.month = i + 1;
    if (!c.month || !word(&p, end, &w, &wl) || wl > 2 || (c.day = port_of(w, wl)) < 0)
        return 0;
    /* port_of reads exactly the digits it is given: the line is not
     * NUL-terminated, so atoi would read past it */
    if (!word(&p, end, &w, &wl) || wl != 8 || w[2] != ':' || w[5] != ':' ||
        (c.hour = port_of(w, 2)) < 0 || (c.minute = port_of(w + 3, 2)) < 0 ||
        (c.second = port_of(w + 6, 2)) < 0)
        return 0;
    if (timeutil_civil_to_utc(&c, ts, NULL) < 0 || !word(&p, end, host, host_len))
        return 0;
    *rest = p;
    return memfind(p, (size_t)(end - p), "[Userbased") != NULL;
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
    /* CGN 106/107 "Nat Port Batch Pool Allocated/Freed": a block (first
     * port sourceTranslatedPort, last cn3); CGN 100/101 "Nat Port
     * Allocated/Freed": one port of one inside address and port. */
    int batch = memfind(name, nl, "Port Batch") != NULL;
    int port1 = !batch && memfind(name, nl, "Nat Port ") != NULL;
    int alloc = memfind(name, nl, "Allocated") != NULL, freed = memfind(name, nl, "Freed") != NULL;
    if ((!batch && !port1) || (!alloc && !freed))
        return 0; /* other A10 events (sessions, alerts): evidence only */
    nat_record r = blank("a10", batch ? (alloc ? NAT_KIND_ALLOCATED : NAT_KIND_RELEASED)
                                      : (alloc ? NAT_KIND_SESSION_OPEN : NAT_KIND_SESSION_CLOSE));
    const char *v;
    size_t vl;
    if (cef_value(ext, el, "src", &v, &vl))
        r.inside = addr_dup(a, v, vl);
    if (cef_value(ext, el, "sourceTranslatedAddress", &v, &vl))
        r.outside = addr_dup(a, v, vl);
    if (cef_value(ext, el, "sourceTranslatedPort", &v, &vl))
        r.port_lo = r.port_hi = port_of(v, vl);
    if (batch && cef_value(ext, el, "cn3", &v, &vl))
        r.port_hi = port_of(v, vl);
    if (!batch && cef_value(ext, el, "spt", &v, &vl))
        r.inside_port = port_of(v, vl);
    if (cef_value(ext, el, "proto", &v, &vl))
        r.proto = vl == 3 && !memcmp(v, "TCP", 3)    ? 6
                  : vl == 3 && !memcmp(v, "UDP", 3)  ? 17
                  : vl == 4 && !memcmp(v, "ICMP", 4) ? 1
                                                     : -1;
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

/* NFWare vCGNAT: "A VRF 0 INT 10.0.0.1 EXT 100.64.0.1:1024-1535" (a port
 * block), "A VRF 0 6 INT 10.0.0.1:57938 EXT 100.64.0.1:28475" (one port),
 * "A VRF 0 INT 10.0.0.1 EXT 100.64.0.1" (the whole address); A allocates,
 * D frees (docs.nfware.com, NAT logging). */
static int nfware(const nat_line *l, arena *a, nat_record *out, error *err) {
    const char *m = l->msg, *end = l->msg + l->msg_len;
    const char *vrf = memfind(m, l->msg_len, "VRF ");
    const char *ext = memfind(m, l->msg_len, " EXT ");
    const char *in = memfind(m, l->msg_len, " INT ");
    if (!vrf || !ext || !in || vrf < m + 2 || vrf[-1] != ' ')
        return 0;
    char t = vrf[-2];
    if ((t != 'A' && t != 'D') || (vrf > m + 2 && vrf[-3] != ' ' && vrf[-3] != ':'))
        return 0;
    int alloc = t == 'A';
    nat_record r = blank("nfware", alloc ? NAT_KIND_ALLOCATED : NAT_KIND_RELEASED);
    const char *p = vrf + 4, *w;
    size_t wl;
    if (word(&p, end, &w, &wl))
        r.inside_vrf = arena_strndup(a, w, wl);
    if (word(&p, end, &w, &wl) && w < in && port_of(w, wl) >= 0 && port_of(w, wl) <= 255)
        r.proto = port_of(w, wl); /* a port map names its protocol */
    p = in + 5;
    if (word(&p, end, &w, &wl)) {
        const char *colon = memchr(w, ':', wl);
        if (colon && !memchr(colon + 1, ':', (size_t)(w + wl - colon - 1))) { /* IPv4:port */
            r.inside = addr_dup(a, w, (size_t)(colon - w));
            r.inside_port = port_of(colon + 1, (size_t)(w + wl - colon - 1));
        } else
            r.inside = addr_dup(a, w, wl);
    }
    p = ext + 5;
    if (word(&p, end, &w, &wl) && !addr_range(a, w, wl, &r)) {
        r.outside = addr_dup(a, w, wl); /* the whole address */
        r.port_lo = 0;
        r.port_hi = 65535;
    }
    if (r.inside_port >= 0 && r.port_lo == r.port_hi)
        r.kind = alloc ? NAT_KIND_SESSION_OPEN : NAT_KIND_SESSION_CLOSE;
    if (check(&r, (size_t)(ext - m), err) < 0)
        return -1;
    out[0] = r;
    return 1;
}

/* 6WIND: "USER 100.64.0.1 (matching rule 1): NEW BLOCK (pool "mypool", ip
 * public 192.0.2.33, proto 6, port 1 - 512)" and "DESTROY BLOCK (...)";
 * the range as written (the documentation's examples leave open whether
 * its end is inclusive: taken as inclusive, a port on the boundary shows
 * both blocks, never neither).  "NEW CONN: fwd proto 6 IN:P -> DST:P, back
 * proto 6 DST:P --> PUBLIC:P" and "DESTROY CONN" are single translations
 * (doc.6wind.com, CG-NAT logging). */
static int sixwind(const nat_line *l, arena *a, nat_record *out, error *err) {
    const char *m = l->msg, *end = l->msg + l->msg_len;
    const char *nb = memfind(m, l->msg_len, "NEW BLOCK"),
               *db = memfind(m, l->msg_len, "DESTROY BLOCK");
    const char *nc = memfind(m, l->msg_len, "NEW CONN"),
               *dc = memfind(m, l->msg_len, "DESTROY CONN");
    if (!nb && !db && !nc && !dc)
        return 0;
    const char *w;
    size_t wl;
    if (nc || dc) {
        nat_record r = blank("6wind", nc ? NAT_KIND_SESSION_OPEN : NAT_KIND_SESSION_CLOSE);
        const char *fwd = memfind(m, l->msg_len, "fwd proto ");
        const char *back = memfind(m, l->msg_len, "back proto ");
        if (!fwd || !back)
            return fail(err, 0, "%s: a connection needs its fwd and back parts", "6wind");
        const char *p = fwd + 10;
        if (word(&p, end, &w, &wl))
            r.proto = port_of(w, wl);
        if (word(&p, end, &w, &wl)) {
            const char *colon = w + wl;
            while (colon > w && colon[-1] != ':')
                colon--;
            if (colon > w) {
                r.inside = addr_dup(a, w, (size_t)(colon - 1 - w));
                r.inside_port = port_of(colon, (size_t)(w + wl - colon));
            }
        }
        /* the back direction's destination: the public address and port */
        const char *arrow = memfind(back, (size_t)(end - back), "-->");
        if (!arrow)
            arrow = memfind(back, (size_t)(end - back), "->");
        if (arrow) {
            p = arrow + (arrow[1] == '-' ? 3 : 2);
            if (word(&p, end, &w, &wl)) {
                while (wl && (w[wl - 1] == ',' || w[wl - 1] == ')'))
                    wl--;
                addr_range(a, w, wl, &r);
            }
        }
        if (check(&r, (size_t)(fwd - m), err) < 0)
            return -1;
        out[0] = r;
        return 1;
    }
    nat_record r = blank("6wind", nb ? NAT_KIND_ALLOCATED : NAT_KIND_RELEASED);
    const char *user = memfind(m, l->msg_len, "USER ");
    if (user) {
        const char *p = user + 5;
        if (word(&p, end, &w, &wl))
            r.inside = addr_dup(a, w, wl);
    }
    const char *pool = memfind(m, l->msg_len, "pool \"");
    if (pool) {
        const char *s = pool + 6, *e = memchr(s, '"', (size_t)(end - s));
        if (e && e > s)
            r.pool = arena_strndup(a, s, (size_t)(e - s));
    }
    const char *pub = memfind(m, l->msg_len, "ip public ");
    if (pub) {
        const char *p = pub + 10;
        if (word(&p, end, &w, &wl)) {
            while (wl && w[wl - 1] == ',')
                wl--;
            r.outside = addr_dup(a, w, wl);
        }
    }
    const char *proto = memfind(m, l->msg_len, "proto ");
    if (proto) {
        const char *p = proto + 6;
        if (word(&p, end, &w, &wl)) {
            while (wl && w[wl - 1] == ',')
                wl--;
            r.proto = port_of(w, wl);
        }
    }
    const char *port = memfind(m, l->msg_len, "port ");
    if (port) {
        /* "port 1 - 512" */
        const char *p = port + 5, *w2, *w3;
        size_t l2, l3;
        if (word(&p, end, &w, &wl) && word(&p, end, &w2, &l2) && l2 == 1 && *w2 == '-' &&
            word(&p, end, &w3, &l3)) {
            while (l3 && (w3[l3 - 1] == ')' || w3[l3 - 1] == ','))
                l3--;
            r.port_lo = port_of(w, wl);
            r.port_hi = port_of(w3, l3);
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
    while (p < close && *p >= '0' && *p <= '9' && digits <= 12) {
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
    if (p != close)
        return error_set(err, "bad_nat", (size_t)(p - line),
                         "conntrack: the timestamp is not [seconds.micros]");
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
    /* -o extended puts "ipv4     2" before "tcp      6" */
    int have = word(&q, end, &w, &wl);
    if (have && wl == 4 && (!memcmp(w, "ipv4", 4) || !memcmp(w, "ipv6", 4))) {
        have = word(&q, end, &w, &wl);         /* the l3 number */
        have = have && word(&q, end, &w, &wl); /* the l4 name */
    }
    if (have && word(&q, end, &w, &wl))
        r.proto = port_of(w, wl) <= 255 ? port_of(w, wl) : -1;
    /* The original tuple, then the reply tuple (from its second "src="). */
    const char *orig = memfind(t, (size_t)(end - t), "src=");
    const char *reply = orig ? memfind(orig + 4, (size_t)(end - orig - 4), "src=") : NULL;
    if (!orig || !reply)
        return error_set(err, "bad_nat", (size_t)(t - line),
                         "conntrack: an event needs its original and reply tuples");
    size_t sl;
    if (!tuple_val(orig, reply, "sport=", &sl))
        return 0; /* ICMP and other protocols without ports: no port to answer for */
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
    if (!r.inside)
        return error_set(err, "bad_nat", (size_t)(orig - line),
                         "conntrack: the original source is not an address");
    /* Not translated (the reply comes back to the inside address itself):
     * no NAT session. */
    if (!odst || (odl == strlen(r.inside) && !memcmp(odst, r.inside, odl)))
        return 0;
    r.outside = addr_dup(a, odst, odl);
    r.port_lo = r.port_hi = oport;
    if (check(&r, (size_t)(reply - line), err) < 0)
        return -1;
    out[0] = r;
    return 1;
}

/* ---- IPFIX / NetFlow v9 NAT event records, as collect/ipfix renders them - */

int nat_is_ipfix(const char *line, size_t len) {
    return (len >= 6 && !memcmp(line, "IPFIX ", 6)) ||
           (len >= 14 && !memcmp(line, "IPFIX-INVALID ", 14));
}

/* An unsigned decimal of LEN bytes at P (at most 19 digits) into *V. */
static int u64_of(const char *p, size_t len, unsigned long long *v) {
    if (len == 0 || len > 19)
        return -1;
    unsigned long long x = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        x = x * 10 + (unsigned)(p[i] - '0');
    }
    *v = x;
    return 0;
}

/* collect/ipfix's \xHH escapes undone (a VRF or pool name). */
static int hexval(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static const char *unescape_dup(arena *a, const char *p, size_t len) {
    char *o = arena_alloc(a, len + 1), *q = o;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\\' && i + 3 < len && p[i + 1] == 'x' && hexval(p[i + 2]) >= 0 &&
            hexval(p[i + 3]) >= 0 && (hexval(p[i + 2]) | hexval(p[i + 3]))) {
            *q++ = (char)(hexval(p[i + 2]) * 16 + hexval(p[i + 3]));
            i += 3;
            continue;
        }
        *q++ = p[i];
    }
    *q = '\0';
    return o;
}

int nat_parse_ipfix(const char *line, size_t len, arena *a, nat_record *out, const char **host,
                    error *err) {
    const char *end = line + len, *p = line;
    *host = NULL;
    if (len >= 14 && !memcmp(line, "IPFIX-INVALID ", 14)) {
        const char *r = memfind(line, len, " reason=");
        int rl = r ? (int)(end - r - 8) : 0;
        return error_set(err, "bad_ipfix", 0,
                         "ipfix: the collector could not decode a message: %.*s",
                         rl > 200 ? 200 : rl, r ? r + 8 : "");
    }
    nat_record r = blank("ipfix", 0);
    const char *ev = NULL;
    size_t evl = 0;
    unsigned long long start = 0, stop = 0, num = 0, step = 1, ms = 0, sec = 0, exp = 0, v;
    int have_start = 0, have_end = 0, have_num = 0, have_ms = 0, have_sec = 0, xport = -1;
    unsigned long long fstart = 0,
                       fend = 0; /* flowStart/EndMilliseconds, when no observation time */
    const char *vrf_name = NULL, *vrf_id = NULL, *pool = NULL;
    size_t vnl = 0, vil = 0, pl = 0;
    const char *w;
    size_t wl;
    p += 6;
    while (word(&p, end, &w, &wl)) {
        const char *eq = memchr(w, '=', wl);
        if (!eq)
            continue;
        size_t kl = (size_t)(eq - w), vl = wl - kl - 1;
        const char *val = eq + 1;
        size_t pos = (size_t)(w - line);
#define KEY(s) (kl == sizeof(s) - 1 && !memcmp(w, s, kl))
        if (KEY("cgn"))
            *host = arena_strndup(a, val, vl);
        else if (KEY("event"))
            ev = val, evl = vl;
        else if (KEY("export")) {
            if (u64_of(val, vl, &exp) < 0)
                return fail(err, pos, "%s: export time is not a number", "ipfix");
        } else if (KEY("sourceIPv4Address") || KEY("sourceIPv6Address")) {
            if (!(r.inside = addr_dup(a, val, vl)))
                return fail(err, pos, "%s: the inside address is not an address", "ipfix");
        } else if (KEY("postNATSourceIPv4Address")) {
            if (!(r.outside = addr_dup(a, val, vl)))
                return fail(err, pos, "%s: the outside address is not an address", "ipfix");
        } else if (KEY("sourceTransportPort"))
            r.inside_port = port_of(val, vl);
        else if (KEY("postNAPTSourceTransportPort"))
            xport = port_of(val, vl);
        else if (KEY("protocolIdentifier"))
            r.proto = u64_of(val, vl, &v) == 0 && v < 256 ? (int)v : -1;
        else if (KEY("portRangeStart"))
            have_start = u64_of(val, vl, &start) == 0;
        else if (KEY("portRangeEnd"))
            have_end = u64_of(val, vl, &stop) == 0;
        else if (KEY("portRangeNumPorts"))
            have_num = u64_of(val, vl, &num) == 0;
        else if (KEY("portRangeStepSize")) {
            if (u64_of(val, vl, &step) < 0)
                step = 0;
        } else if (KEY("observationTimeMilliseconds"))
            have_ms = u64_of(val, vl, &ms) == 0;
        else if (KEY("observationTimeSeconds"))
            have_sec = u64_of(val, vl, &sec) == 0;
        else if (KEY("flowStartMilliseconds")) {
            if (u64_of(val, vl, &fstart) < 0)
                fstart = 0;
        } else if (KEY("flowEndMilliseconds")) {
            if (u64_of(val, vl, &fend) < 0)
                fend = 0;
        } else if (KEY("VRFname"))
            vrf_name = val, vnl = vl;
        else if (KEY("ingressVRFID"))
            vrf_id = val, vil = vl;
        else if (KEY("natPoolName") || (KEY("natPoolId") && !pool))
            pool = val, pl = vl;
#undef KEY
    }
    if (!*host)
        return fail(err, 0, "%s: the line names no CGN (cgn=)", "ipfix");
    /* The CGN's own time of the event, else the message's export time. */
    if (have_ms && ms < 253402300800000ULL)
        r.ts = (int64_t)ms * 1000;
    else if (have_sec && sec < 253402300800ULL)
        r.ts = (int64_t)sec * 1000000;
    else {
        /* A session's create carries its start, its delete its end. */
        int closing = ev && evl >= 13 && !memcmp(ev, "session_close", 13);
        unsigned long long f = closing && fend ? fend : fstart ? fstart : fend;
        if (f && f < 253402300800000ULL)
            r.ts = (int64_t)f * 1000;
        else if (exp && exp < 253402300800ULL)
            r.ts = (int64_t)exp * 1000000;
    }
    out[0] = r;
#define EV(s) (evl == sizeof(s) - 1 && !memcmp(ev, s, evl))
    if (!ev)
        return fail(err, 0, "%s: no event", "ipfix");
    if (EV("none"))
        return fail(
            err, (size_t)(ev - line),
            "%s: a NAT record without natEvent (allocation and release cannot be told apart)",
            "ipfix");
    r.kind = EV("allocated")       ? NAT_KIND_ALLOCATED
             : EV("released")      ? NAT_KIND_RELEASED
             : EV("interim")       ? NAT_KIND_INTERIM
             : EV("session_open")  ? NAT_KIND_SESSION_OPEN
             : EV("session_close") ? NAT_KIND_SESSION_CLOSE
                                   : 0;
#undef EV
    if (!r.kind)
        return 0; /* addresses or ports exhausted, quota...: evidence only */
    if (have_start) {
        if (step != 1)
            return error_set(err, "bad_nat", 0,
                             "ipfix: a scattered port set (portRangeStepSize %llu) is not modelled",
                             step);
        r.port_lo = start <= 65535 ? (int)start : -1;
        r.port_hi = have_end && stop <= 65535                     ? (int)stop
                    : have_num && num && start + num - 1 <= 65535 ? (int)(start + num - 1)
                                                                  : -1;
    } else if (xport >= 0)
        r.port_lo = r.port_hi = xport;
    if (r.kind == NAT_KIND_SESSION_OPEN || r.kind == NAT_KIND_SESSION_CLOSE) {
        if (xport >= 0)
            r.port_lo = r.port_hi = xport;
    } else
        r.inside_port = -1;
    if (vrf_name)
        r.inside_vrf = unescape_dup(a, vrf_name, vnl);
    else if (vrf_id)
        r.inside_vrf = arena_strndup(a, vrf_id, vil);
    if (pool)
        r.pool = unescape_dup(a, pool, pl);
    if (check(&r, 0, err) < 0)
        return -1;
    out[0] = r;
    return 1;
}
