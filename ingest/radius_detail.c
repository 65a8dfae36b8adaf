#include "radius_detail.h"
#include "timeutil.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- errors ------------------------------------------------------------ */

static int fail(error *err, const char *reason, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(error *err, const char *reason, int line, const char *fmt, ...) {
    snprintf(err->code, sizeof err->code, "%s", reason);
    err->pos = 0;
    err->line = line;
    int k = line > 0 ? snprintf(err->msg, sizeof err->msg, "line %d: ", line) : 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg + k, sizeof err->msg - (size_t)k, fmt, ap);
    va_end(ap);
    return -1;
}

/* Input bytes quoted into messages: printable ASCII as is, everything else
 * as \xHH, cut at 48 bytes.  Messages end up in logs and the quarantine
 * table, so they must never carry raw control bytes or broken UTF-8. */
#define EXCERPT_MAX 48
#define EXCERPT_BUF (EXCERPT_MAX * 4 + 4)

static const char *excerpt(const char *s, size_t n, char *buf) {
    size_t o = 0;
    for (size_t i = 0; i < n && i < EXCERPT_MAX; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
            buf[o++] = (char)c;
        } else {
            snprintf(buf + o, 5, "\\x%02x", c);
            o += 4;
        }
    }
    if (n > EXCERPT_MAX) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

/* ---- small lexical helpers ---------------------------------------------- */

static int is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\r';
}
static int is_digit(char c) {
    return c >= '0' && c <= '9';
}
static int is_alnum(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
/* strchr() would also "find" the terminating NUL. */
static int in_set(char c, const char *set) {
    return c != '\0' && strchr(set, c) != NULL;
}

/* Unsigned decimal of 1..20 digits, no sign, at most MAX. */
static int parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out) {
    if (n == 0 || n > 20)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int digits_n(const char *s, size_t n, int *out) {
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Splits [s, e) into whitespace-separated tokens; returns how many (capped
 * at MAXT + 1 so the caller can tell "too many"). */
typedef struct tok {
    const char *s;
    size_t n;
} tok;

static int tokenize(const char *s, const char *e, tok *t, int maxt) {
    int nt = 0;
    while (s < e) {
        while (s < e && is_ws(*s))
            s++;
        if (s == e)
            break;
        const char *b = s;
        while (s < e && !is_ws(*s))
            s++;
        if (nt == maxt)
            return maxt + 1;
        t[nt].s = b;
        t[nt].n = (size_t)(s - b);
        nt++;
    }
    return nt;
}

static const char *const month_names[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const wday_names[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

static int month_of(const tok *t) {
    if (t->n != 3)
        return 0;
    for (int i = 0; i < 12; i++)
        if (strncasecmp(t->s, month_names[i], 3) == 0)
            return i + 1;
    return 0;
}

static int wday_of(const tok *t) {
    if (t->n != 3)
        return -1;
    for (int i = 0; i < 7; i++)
        if (strncasecmp(t->s, wday_names[i], 3) == 0)
            return i;
    return -1;
}

/* "hh:mm:ss" exactly, as ctime and strftime print it. */
static int parse_hms(const tok *t, timeutil_civil *c) {
    if (t->n != 8 || t->s[2] != ':' || t->s[5] != ':')
        return -1;
    if (digits_n(t->s, 2, &c->hour) || digits_n(t->s + 3, 2, &c->minute) ||
        digits_n(t->s + 6, 2, &c->second))
        return -1;
    return 0;
}

static int parse_day(const tok *t, int *day) {
    if (t->n < 1 || t->n > 2)
        return -1;
    return digits_n(t->s, t->n, day);
}

static int parse_year(const tok *t, int *year) {
    if (t->n != 4)
        return -1;
    return digits_n(t->s, 4, year);
}

/* ---- byte-level validation --------------------------------------------- */

/* Returns 0 if BUF is clean text.  Otherwise -1 with the offending offset
 * and whether it was a control byte (1) or invalid UTF-8 (0).  CR is allowed
 * only right before LF (CRLF files); tab and LF are the only other controls
 * FreeRADIUS writes raw. */
static int check_bytes(const unsigned char *s, size_t n, size_t *at, int *is_ctl) {
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\n' &&
                 !(c == '\r' && i + 1 < n && s[i + 1] == '\n')) ||
                c == 0x7f) {
                *at = i;
                *is_ctl = 1;
                return -1;
            }
            i++;
            continue;
        }
        size_t need;
        unsigned lo = 0x80, hi = 0xbf; /* range of the first continuation byte */
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            if (c == 0xe0)
                lo = 0xa0; /* no overlongs */
            if (c == 0xed)
                hi = 0x9f; /* no surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            if (c == 0xf0)
                lo = 0x90;
            if (c == 0xf4)
                hi = 0x8f; /* <= U+10FFFF */
        } else {
            *at = i;
            *is_ctl = 0;
            return -1;
        }
        if (n - i <= need) {
            *at = i;
            *is_ctl = 0;
            return -1;
        }
        for (size_t k = 1; k <= need; k++) {
            unsigned b = s[i + k];
            unsigned l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xbf;
            if (b < l || b > h) {
                *at = i;
                *is_ctl = 0;
                return -1;
            }
        }
        i += need + 1;
    }
    return 0;
}

/* ---- values ------------------------------------------------------------- */

/* Fills AT from the value text [v, v + n): raw copy plus the decoded value.
 * FreeRADIUS 3 (fr_prints) escapes the quote, backslash, \n \r \t, and writes
 * control bytes and invalid UTF-8 as \NNN octal; single-quoted strings (early
 * 3.0) only escape \' and \\. */
static int decode_value(arena *a, const char *v, size_t n, radius_detail_attr *at, error *err,
                        int line) {
    char ex[EXCERPT_BUF];
    at->raw = arena_strndup(a, v, n);
    if (v[0] != '"' && v[0] != '\'') {
        at->quoted = 0;
        at->value = at->raw;
        at->value_len = n;
        return 0;
    }
    char q = v[0];
    at->quoted = q;
    if (n < 2 || v[n - 1] != q)
        return fail(err, RADIUS_DETAIL_E_BAD_STRING, line, "%s: unterminated quoted string %s",
                    at->name, excerpt(v, n, ex));
    char *o = arena_alloc(a, n);
    size_t k = 0;
    const char *p = v + 1, *e = v + n - 1;
    while (p < e) {
        char c = *p;
        if (c == q)
            return fail(err, RADIUS_DETAIL_E_BAD_STRING, line, "%s: unescaped %c inside %s",
                        at->name, q, excerpt(v, n, ex));
        if (c != '\\') {
            o[k++] = c;
            p++;
            continue;
        }
        if (p + 1 == e)
            return fail(err, RADIUS_DETAIL_E_BAD_STRING, line,
                        "%s: string ends in a lone backslash", at->name);
        char d = p[1];
        if (d == '\\' || d == q) {
            o[k++] = d;
            p += 2;
            continue;
        }
        if (q == '"' && (d == 'n' || d == 'r' || d == 't')) {
            o[k++] = d == 'n' ? '\n' : d == 'r' ? '\r' : '\t';
            p += 2;
            continue;
        }
        if (q == '"' && d >= '0' && d <= '7') {
            unsigned x = 0;
            const char *s = p + 1;
            while (s < e && s < p + 4 && *s >= '0' && *s <= '7')
                x = x * 8 + (unsigned)(*s++ - '0');
            if (x > 0377)
                return fail(err, RADIUS_DETAIL_E_BAD_STRING, line,
                            "%s: octal escape above \\377 in %s", at->name, excerpt(v, n, ex));
            o[k++] = (char)x;
            p = s;
            continue;
        }
        /* Never written by FreeRADIUS; keeping both bytes loses nothing. */
        o[k++] = '\\';
        o[k++] = d;
        p += 2;
    }
    o[k] = '\0';
    at->value = o;
    at->value_len = k;
    return 0;
}

/* ---- the attributes we interpret --------------------------------------- */

typedef enum kind {
    K_STR,
    K_U32,
    K_V4,
    K_V6,
    K_V46,
    K_PREFIX6,
    K_IFID,
    K_STATUS,
    K_EVENT_TS,
    K_TIMESTAMP,
    K_PACKET_TYPE,
} kind;

#define F_MULTI 1 /* may repeat: collected into an array */
#define F_DONE 2  /* Donestamp */
#define NO_FIELD ((size_t)-1)

typedef struct spec {
    const char *name;
    size_t len; /* strlen(name): most attribute lines name none of these */
    kind k;
    int slot; /* duplicates are checked per slot (Timestamp and Donestamp share one) */
    size_t off;
    int flags;
} spec;

#define STR(f) offsetof(radius_detail_rec, f)
#define NAME(s) s, sizeof s - 1

enum {
    S_STATUS,
    S_PACKET_TYPE,
    S_SESSION,
    S_UNIQUE,
    S_MULTI,
    S_USER,
    S_FRAMED_IP,
    S_FRAMED_IPV6,
    S_IFID,
    S_FRAMED_PREFIX,
    S_DELEGATED,
    S_CALLING,
    S_CALLED,
    S_NAS_IP,
    S_NAS_IPV6,
    S_NAS_ID,
    S_NAS_PORT,
    S_NAS_PORT_ID,
    S_NAS_PORT_TYPE,
    S_EVENT_TS,
    S_DELAY,
    S_SESSION_TIME,
    S_CAUSE,
    S_IN_OCT,
    S_OUT_OCT,
    S_IN_GIGA,
    S_OUT_GIGA,
    S_TIMESTAMP,
    S_SRC_IP,
    S_SRC_IPV6,
    S_DST_IP,
    S_DST_IPV6,
    S_CLIENT_IP,
    S_N
};

static const spec specs[] = {
    {NAME("Acct-Status-Type"), K_STATUS, S_STATUS, NO_FIELD, 0},
    {NAME("Packet-Type"), K_PACKET_TYPE, S_PACKET_TYPE, NO_FIELD, 0},
    {NAME("Acct-Session-Id"), K_STR, S_SESSION, STR(acct_session_id), 0},
    {NAME("Acct-Unique-Session-Id"), K_STR, S_UNIQUE, STR(acct_unique_session_id), 0},
    {NAME("Acct-Multi-Session-Id"), K_STR, S_MULTI, STR(acct_multi_session_id), 0},
    {NAME("User-Name"), K_STR, S_USER, STR(user_name), 0},
    {NAME("Framed-IP-Address"), K_V4, S_FRAMED_IP, STR(framed_ip_address), 0},
    {NAME("Framed-IPv6-Address"), K_V6, S_FRAMED_IPV6, STR(framed_ipv6_address), 0},
    {NAME("Framed-Interface-Id"), K_IFID, S_IFID, STR(framed_interface_id), 0},
    {NAME("Framed-IPv6-Prefix"), K_PREFIX6, S_FRAMED_PREFIX, NO_FIELD, F_MULTI},
    {NAME("Delegated-IPv6-Prefix"), K_PREFIX6, S_DELEGATED, NO_FIELD, F_MULTI},
    {NAME("Calling-Station-Id"), K_STR, S_CALLING, STR(calling_station_id), 0},
    {NAME("Called-Station-Id"), K_STR, S_CALLED, STR(called_station_id), 0},
    {NAME("NAS-IP-Address"), K_V4, S_NAS_IP, STR(nas_ip_address), 0},
    {NAME("NAS-IPv6-Address"), K_V6, S_NAS_IPV6, STR(nas_ipv6_address), 0},
    {NAME("NAS-Identifier"), K_STR, S_NAS_ID, STR(nas_identifier), 0},
    {NAME("NAS-Port"), K_U32, S_NAS_PORT, STR(nas_port), 0},
    {NAME("NAS-Port-Id"), K_STR, S_NAS_PORT_ID, STR(nas_port_id), 0},
    {NAME("NAS-Port-Type"), K_STR, S_NAS_PORT_TYPE, STR(nas_port_type), 0},
    {NAME("Event-Timestamp"), K_EVENT_TS, S_EVENT_TS, NO_FIELD, 0},
    {NAME("Acct-Delay-Time"), K_U32, S_DELAY, STR(delay_time), 0},
    {NAME("Acct-Session-Time"), K_U32, S_SESSION_TIME, STR(session_time), 0},
    {NAME("Acct-Terminate-Cause"), K_STR, S_CAUSE, STR(terminate_cause), 0},
    {NAME("Acct-Input-Octets"), K_U32, S_IN_OCT, STR(input_octets), 0},
    {NAME("Acct-Output-Octets"), K_U32, S_OUT_OCT, STR(output_octets), 0},
    {NAME("Acct-Input-Gigawords"), K_U32, S_IN_GIGA, STR(input_gigawords), 0},
    {NAME("Acct-Output-Gigawords"), K_U32, S_OUT_GIGA, STR(output_gigawords), 0},
    {NAME("Timestamp"), K_TIMESTAMP, S_TIMESTAMP, NO_FIELD, 0},
    {NAME("Donestamp"), K_TIMESTAMP, S_TIMESTAMP, NO_FIELD, F_DONE},
    {NAME("Packet-Src-IP-Address"), K_V4, S_SRC_IP, STR(packet_src_ip_address), 0},
    {NAME("Packet-Src-IPv6-Address"), K_V6, S_SRC_IPV6, STR(packet_src_ipv6_address), 0},
    {NAME("Packet-Dst-IP-Address"), K_V4, S_DST_IP, NO_FIELD, 0},
    {NAME("Packet-Dst-IPv6-Address"), K_V6, S_DST_IPV6, NO_FIELD, 0},
    {NAME("Client-IP-Address"), K_V46, S_CLIENT_IP, STR(client_ip_address), 0},
};
#define N_SPECS (sizeof specs / sizeof specs[0])

static const spec *spec_of(const char *name) {
    size_t len = strlen(name);
    for (size_t i = 0; i < N_SPECS; i++)
        if (specs[i].len == len && strcasecmp(name, specs[i].name) == 0)
            return &specs[i];
    return NULL;
}

/* A parsed value, in a form where equal meanings compare equal ("0::1" and
 * "::1", "07" and "7"), for the duplicate check. */
typedef struct val {
    int64_t n;
    unsigned char bin[16];
    int blen;
    int plen;
} val;

static int val_eq(kind k, const radius_detail_attr *a, const val *x, const radius_detail_attr *b,
                  const val *y) {
    if (k == K_STR)
        return a->value_len == b->value_len && memcmp(a->value, b->value, a->value_len) == 0;
    return x->n == y->n && x->blen == y->blen && x->plen == y->plen &&
           memcmp(x->bin, y->bin, (size_t)x->blen) == 0;
}

static int parse_status(const char *v, int64_t *st) {
    static const struct {
        const char *name;
        int code;
    } names[] = {{"Start", 1},
                 {"Stop", 2},
                 {"Interim-Update", 3},
                 {"Alive", 3},
                 {"Accounting-On", 7},
                 {"Accounting-Off", 8},
                 {"1", 1},
                 {"2", 2},
                 {"3", 3},
                 {"7", 7},
                 {"8", 8}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(v, names[i].name) == 0) {
            *st = names[i].code;
            return 0;
        }
    return -1;
}

static int parse_prefix6(const char *v, val *out) {
    const char *slash = strrchr(v, '/');
    if (!slash || slash == v || (size_t)(slash - v) >= INET6_ADDRSTRLEN)
        return -1;
    char addr[INET6_ADDRSTRLEN];
    memcpy(addr, v, (size_t)(slash - v));
    addr[slash - v] = '\0';
    uint64_t len;
    if (inet_pton(AF_INET6, addr, out->bin) != 1 ||
        parse_uint(slash + 1, strlen(slash + 1), 128, &len) < 0 || strlen(slash + 1) > 3)
        return -1;
    out->blen = 16;
    out->plen = (int)len;
    return 0;
}

/* "x:x:x:x", each group 1-4 hex digits: how FreeRADIUS prints an ifid. */
static int parse_ifid(const char *v, val *out) {
    const char *p = v;
    for (int g = 0; g < 4; g++) {
        unsigned x = 0;
        int nd = 0;
        for (;; p++, nd++) {
            char c = *p;
            unsigned d;
            if (c >= '0' && c <= '9')
                d = (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f')
                d = (unsigned)(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                d = (unsigned)(c - 'A' + 10);
            else
                break;
            if (nd == 4)
                return -1;
            x = x * 16 + d;
        }
        if (nd == 0 || (g < 3 ? *p != ':' : *p != '\0'))
            return -1;
        if (g < 3)
            p++;
        out->bin[2 * g] = (unsigned char)(x >> 8);
        out->bin[2 * g + 1] = (unsigned char)x;
    }
    out->blen = 8;
    return 0;
}

/* The abbreviation ZONE uses at instant T. */
static int zone_abbrev(const char *zone, int64_t t, char *buf, size_t n) {
    return timeutil_zone_abbrev(zone, t, buf, n, NULL);
}

#define MAX_UNIX_S 253402300799ULL /* 9999-12-31T23:59:59Z, timeutil's range */

/* Event-Timestamp: unix seconds (3.2 dates_as_integer) or "Mon DD YYYY
 * hh:mm:ss ZONE" (strftime "%b %e %Y %H:%M:%S %Z", local time of the server). */
static int parse_event_ts(const radius_detail_attr *at, const char *zone, int64_t *out,
                          error *err) {
    char ex[EXCERPT_BUF];
    error m;
    const char *v = at->value;
    size_t n = at->value_len;
    uint64_t secs;
    if (n > 0 && is_digit(v[0])) {
        if (parse_uint(v, n, MAX_UNIX_S, &secs) < 0)
            return fail(err, RADIUS_DETAIL_E_BAD_ATTRIBUTE, at->line,
                        "Event-Timestamp: %s is not unix seconds", excerpt(v, n, ex));
        *out = (int64_t)secs * TIMEUTIL_US;
        return 0;
    }
    tok t[6];
    int nt = tokenize(v, v + n, t, 5);
    timeutil_civil c = {0};
    if ((nt != 4 && nt != 5) || !(c.month = month_of(&t[0])) || parse_day(&t[1], &c.day) ||
        parse_year(&t[2], &c.year) || parse_hms(&t[3], &c))
        return fail(err, RADIUS_DETAIL_E_BAD_ATTRIBUTE, at->line,
                    "Event-Timestamp: %s is neither unix seconds nor \"Mon DD YYYY hh:mm:ss ZONE\"",
                    excerpt(v, n, ex));
    int64_t raw;
    if (timeutil_civil_to_utc(&c, &raw, &m) < 0)
        return fail(err, RADIUS_DETAIL_E_BAD_ATTRIBUTE, at->line, "Event-Timestamp: %s", m.msg);

    const tok *z = nt == 5 ? &t[4] : NULL;
    if (z && ((z->n == 3 && (!strncmp(z->s, "UTC", 3) || !strncmp(z->s, "GMT", 3) ||
                             !strncmp(z->s, "UCT", 3))) ||
              (z->n == 2 && !strncmp(z->s, "UT", 2)) || (z->n == 1 && z->s[0] == 'Z'))) {
        *out = raw;
        return 0;
    }
    if (z && (z->s[0] == '+' || z->s[0] == '-')) {
        /* glibc prints numeric abbreviations ("+03", "+0545") for zones without
         * a name: the offset is right there. */
        int hh = 0, mm = 0;
        const char *d = z->s + 1;
        size_t dn = z->n - 1;
        int ok = (dn == 2 && !digits_n(d, 2, &hh)) ||
                 (dn == 4 && !digits_n(d, 2, &hh) && !digits_n(d + 2, 2, &mm)) ||
                 (dn == 5 && d[2] == ':' && !digits_n(d, 2, &hh) && !digits_n(d + 3, 2, &mm));
        if (!ok || hh > 23 || mm > 59)
            return fail(err, RADIUS_DETAIL_E_BAD_ATTRIBUTE, at->line,
                        "Event-Timestamp: bad UTC offset %s", excerpt(z->s, z->n, ex));
        int64_t off = (int64_t)(hh * 3600 + mm * 60) * TIMEUTIL_US;
        *out = z->s[0] == '-' ? raw + off : raw - off;
        return 0;
    }
    timeutil_local l;
    if (timeutil_local_to_utc(zone, &c, &l, &m) < 0)
        return fail(err, RADIUS_DETAIL_E_BAD_ATTRIBUTE, at->line, "Event-Timestamp: %s", m.msg);
    int64_t cand[2];
    int nc = l.n == 1 ? 1 : l.n == 2 ? 2 : 0;
    cand[0] = l.cand[0];
    cand[1] = l.cand[1];
    if (!z) {
        if (nc == 1) {
            *out = cand[0];
            return 0;
        }
        return fail(err, RADIUS_DETAIL_E_BAD_ATTRIBUTE, at->line,
                    "Event-Timestamp: %s has no zone and %s in %s", excerpt(v, n, ex),
                    nc ? "is ambiguous" : "does not exist", zone);
    }
    int hits = 0;
    int64_t hit = 0;
    char ab[16] = "";
    for (int i = 0; i < nc; i++) {
        if (zone_abbrev(zone, cand[i], ab, sizeof ab) == 0 && strlen(ab) == z->n &&
            memcmp(ab, z->s, z->n) == 0) {
            hits++;
            hit = cand[i];
        }
    }
    if (hits == 1) {
        *out = hit;
        return 0;
    }
    if (hits == 2)
        return fail(err, RADIUS_DETAIL_E_BAD_ATTRIBUTE, at->line,
                    "Event-Timestamp: %s is ambiguous in %s", excerpt(v, n, ex), zone);
    char ab2[16] = "", exz[EXCERPT_BUF];
    if (nc > 0)
        zone_abbrev(zone, cand[0], ab2, sizeof ab2);
    return fail(err, RADIUS_DETAIL_E_ZONE_MISMATCH, at->line,
                "Event-Timestamp: %s: zone %s is not what %s uses then (%s)", excerpt(v, n, ex),
                excerpt(z->s, z->n, exz), zone, nc ? ab2 : "time does not exist");
}

/* Parses a known attribute's value into V (and checks it). */
static int parse_known(const spec *sp, const radius_detail_attr *at, const char *zone, val *v,
                       error *err) {
    char ex[EXCERPT_BUF];
    const char *s = at->value;
    size_t n = at->value_len;
    memset(v, 0, sizeof *v);
    /* Everything we interpret is text; a decoded NUL would silently cut the
     * C string we hand on. */
    if (memchr(s, '\0', n))
        return fail(err, RADIUS_DETAIL_E_BAD_ATTRIBUTE, at->line, "%s: value contains a NUL byte",
                    sp->name);
    uint64_t u;
    switch (sp->k) {
    case K_STR:
        return 0;
    case K_U32:
        if (parse_uint(s, n, 4294967295ULL, &u) < 0)
            return fail(err, RADIUS_DETAIL_E_BAD_ATTRIBUTE, at->line,
                        "%s: %s is not an unsigned 32-bit number", sp->name, excerpt(s, n, ex));
        v->n = (int64_t)u;
        return 0;
    case K_TIMESTAMP:
        if (parse_uint(s, n, MAX_UNIX_S, &u) < 0)
            return fail(err, RADIUS_DETAIL_E_BAD_ATTRIBUTE, at->line, "%s: %s is not unix seconds",
                        sp->name, excerpt(s, n, ex));
        v->n = (int64_t)u * TIMEUTIL_US;
        return 0;
    case K_V4:
    case K_V6:
    case K_V46: {
        int ok = 0;
        if (sp->k != K_V6 && inet_pton(AF_INET, s, v->bin) == 1) {
            v->blen = 4;
            ok = 1;
        } else if (sp->k != K_V4 && inet_pton(AF_INET6, s, v->bin) == 1) {
            v->blen = 16;
            ok = 1;
        }
        if (!ok)
            return fail(err, RADIUS_DETAIL_E_BAD_ADDRESS, at->line, "%s: %s is not an %s address",
                        sp->name, excerpt(s, n, ex),
                        sp->k == K_V4   ? "IPv4"
                        : sp->k == K_V6 ? "IPv6"
                                        : "IP");
        return 0;
    }
    case K_PREFIX6:
        if (parse_prefix6(s, v) < 0)
            return fail(err, RADIUS_DETAIL_E_BAD_ADDRESS, at->line,
                        "%s: %s is not an IPv6 prefix (address/0..128)", sp->name,
                        excerpt(s, n, ex));
        return 0;
    case K_IFID:
        if (parse_ifid(s, v) < 0)
            return fail(err, RADIUS_DETAIL_E_BAD_ADDRESS, at->line,
                        "%s: %s is not an interface id (x:x:x:x)", sp->name, excerpt(s, n, ex));
        return 0;
    case K_STATUS:
        if (parse_status(s, &v->n) < 0)
            return fail(err, RADIUS_DETAIL_E_BAD_STATUS, at->line,
                        "Acct-Status-Type %s is not Start, Stop, Interim-Update, Accounting-On "
                        "or Accounting-Off",
                        excerpt(s, n, ex));
        return 0;
    case K_PACKET_TYPE:
        if (strcasecmp(s, "Accounting-Request") != 0 && strcmp(s, "4") != 0)
            return fail(err, RADIUS_DETAIL_E_NOT_ACCOUNTING, at->line,
                        "Packet-Type %s is not Accounting-Request", excerpt(s, n, ex));
        v->n = 4;
        return 0;
    case K_EVENT_TS:
        return parse_event_ts(at, zone, &v->n, err);
    }
    return 0;
}

/* ---- the ctime header --------------------------------------------------- */

/* "Www Mmm dd hh:mm:ss yyyy" (ctime; the day may be space-padded). */
static int parse_header(const char *s, const char *e, timeutil_civil *c, error *err, int line) {
    char ex[EXCERPT_BUF];
    error m;
    tok t[6];
    int nt = tokenize(s, e, t, 5);
    int wd;
    memset(c, 0, sizeof *c);
    if (nt != 5 || (wd = wday_of(&t[0])) < 0 || !(c->month = month_of(&t[1])) ||
        parse_day(&t[2], &c->day) || parse_hms(&t[3], c) || parse_year(&t[4], &c->year))
        return fail(err, RADIUS_DETAIL_E_NO_CTIME, line,
                    "first line %s is not a ctime date like \"Wed Nov 25 12:00:00 2026\"",
                    excerpt(s, (size_t)(e - s), ex));
    int64_t t0;
    if (timeutil_civil_to_utc(c, &t0, &m) < 0)
        return fail(err, RADIUS_DETAIL_E_BAD_CTIME, line, "header: %s", m.msg);
    int64_t days = timeutil_days_from_civil(c->year, c->month, c->day);
    int real = (int)(((days % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
    if (real != wd)
        return fail(err, RADIUS_DETAIL_E_BAD_CTIME, line, "header %s: that date is a %s",
                    excerpt(s, (size_t)(e - s), ex), wday_names[real]);
    return 0;
}

static int64_t absdiff(int64_t a, int64_t b) {
    return a > b ? a - b : b - a;
}

/* gigawords * 2^32 + octets, or ABSENT without octets.  A gigawords count of
 * 2^31 or more (9 EiB) is garbage that int64 cannot hold: the total is then
 * left ABSENT rather than refusing the record over a counter. */
static int64_t total_bytes(int64_t giga, int64_t octets) {
    if (octets == RADIUS_DETAIL_ABSENT)
        return RADIUS_DETAIL_ABSENT;
    if (giga == RADIUS_DETAIL_ABSENT)
        return octets;
    if (giga > INT32_MAX)
        return RADIUS_DETAIL_ABSENT;
    return giga * ((int64_t)1 << 32) + octets;
}

/* ---- the record --------------------------------------------------------- */

const char *radius_detail_status_name(radius_detail_status s) {
    switch (s) {
    case RADIUS_DETAIL_START:
        return "Start";
    case RADIUS_DETAIL_STOP:
        return "Stop";
    case RADIUS_DETAIL_INTERIM:
        return "Interim-Update";
    case RADIUS_DETAIL_ACCT_ON:
        return "Accounting-On";
    case RADIUS_DETAIL_ACCT_OFF:
        return "Accounting-Off";
    }
    return "?";
}

static void rec_init(radius_detail_rec *r) {
    memset(r, 0, sizeof *r);
    r->nas_port = r->session_time = r->delay_time = RADIUS_DETAIL_ABSENT;
    r->input_octets = r->output_octets = RADIUS_DETAIL_ABSENT;
    r->input_gigawords = r->output_gigawords = RADIUS_DETAIL_ABSENT;
    r->input_bytes = r->output_bytes = RADIUS_DETAIL_ABSENT;
    r->header_time = r->timestamp = r->event_timestamp = RADIUS_DETAIL_ABSENT;
    r->received = r->event = RADIUS_DETAIL_ABSENT;
}

/* Parses "Name op value" at [s, e) (indent already skipped, trailing blanks
 * trimmed) into AT. */
static int parse_attr_line(arena *a, const char *s, const char *e, radius_detail_attr *at,
                           error *err, int line) {
    char ex[EXCERPT_BUF];
    const char *p = s;
    /* Dictionary names: letters, digits, - _ . / and a ":tag" suffix. */
    if (!is_alnum(*p))
        return fail(err, RADIUS_DETAIL_E_BAD_LINE, line, "%s is not \"Name = value\"",
                    excerpt(s, (size_t)(e - s), ex));
    while (p < e && (is_alnum(*p) || in_set(*p, "-_./:")))
        p++;
    const char *ne = p;
    while (p < e && is_ws(*p))
        p++;
    const char *os = p;
    while (p < e && in_set(*p, "=:+-!<>~*"))
        p++;
    size_t on = (size_t)(p - os);
    /* The operators FreeRADIUS writes: "=" and eleven of two characters
     * (compared without strlen: this runs for every attribute line). */
    static const char ops2[][2] = {{':', '='}, {'+', '='}, {'-', '='}, {'=', '='},
                                   {'!', '='}, {'>', '='}, {'<', '='}, {'=', '~'},
                                   {'!', '~'}, {'=', '*'}, {'!', '*'}};
    int opok = on == 1 && os[0] == '=';
    for (size_t i = 0; on == 2 && !opok && i < sizeof ops2 / sizeof ops2[0]; i++)
        opok = os[0] == ops2[i][0] && os[1] == ops2[i][1];
    if (!opok)
        return fail(err, RADIUS_DETAIL_E_BAD_LINE, line, "%s is not \"Name = value\"",
                    excerpt(s, (size_t)(e - s), ex));
    while (p < e && is_ws(*p))
        p++;
    if (p == e)
        return fail(err, RADIUS_DETAIL_E_BAD_LINE, line, "%s has no value",
                    excerpt(s, (size_t)(e - s), ex));
    at->name = arena_strndup(a, s, (size_t)(ne - s));
    at->op = arena_strndup(a, os, on);
    at->line = line;
    return decode_value(a, p, (size_t)(e - p), at, err, line);
}

int radius_detail_parse(const char *buf, size_t len, const char *zone, arena *a,
                        radius_detail_rec *out, error *err) {
    char ex[EXCERPT_BUF];
    error m;
    memset(err, 0, sizeof *err);
    rec_init(out);
    if (len > RADIUS_DETAIL_MAX_RECORD)
        return fail(err, RADIUS_DETAIL_E_TOO_LONG, 0, "record of %zu bytes exceeds %d", len,
                    RADIUS_DETAIL_MAX_RECORD);
    /* timeutil_zone_offset validates ZONE once and then answers from the zone
     * it has loaded, so steady-state parsing does no filesystem access
     * (timeutil_zone_valid would stat() the tz file for every record). */
    int zoff;
    if (!zone || timeutil_zone_offset(zone, 0, &zoff, &m) < 0)
        return fail(err, RADIUS_DETAIL_E_BAD_ZONE, 0, "unknown time zone %s",
                    zone ? excerpt(zone, strlen(zone), ex) : "(null)");
    size_t at_off;
    int is_ctl;
    if (check_bytes((const unsigned char *)buf, len, &at_off, &is_ctl) < 0) {
        int line = 1;
        for (size_t i = 0; i < at_off; i++)
            line += buf[i] == '\n';
        return fail(err, is_ctl ? RADIUS_DETAIL_E_BAD_BYTE : RADIUS_DETAIL_E_BAD_UTF8, line,
                    "%s byte 0x%02x at offset %zu", is_ctl ? "control" : "invalid UTF-8",
                    (unsigned char)buf[at_off], at_off);
    }

    size_t max_attrs = 1;
    for (size_t i = 0; i < len; i++)
        max_attrs += buf[i] == '\n';
    radius_detail_attr *attrs = arena_alloc(a, max_attrs * sizeof *attrs);
    const spec **aspec = arena_alloc(a, max_attrs * sizeof *aspec);
    size_t nattrs = 0;

    /* Lines: 0 = before the header, 1 = attributes, 2 = after the blank line. */
    int state = 0, lineno = 0;
    timeutil_civil hc;
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        lineno++;
        const char *s = p, *e = le;
        p = nl ? nl + 1 : end;
        while (e > s && is_ws(e[-1]))
            e--;
        const char *ls = s;
        while (ls < e && is_ws(*ls))
            ls++;
        int blank = ls == e;
        if (state == 0) {
            if (blank)
                continue;
            if (ls != s)
                return fail(err, RADIUS_DETAIL_E_NO_CTIME, lineno,
                            "record starts with an indented line %s, not a ctime header",
                            excerpt(s, (size_t)(e - s), ex));
            if (parse_header(s, e, &hc, err, lineno) < 0)
                return -1;
            out->header = arena_strndup(a, s, (size_t)(e - s));
            state = 1;
            continue;
        }
        if (blank) {
            state = 2;
            continue;
        }
        if (state == 2)
            return fail(err, RADIUS_DETAIL_E_TRAILING, lineno,
                        "%s after the blank line that ends the record",
                        excerpt(s, (size_t)(e - s), ex));
        if (ls == s)
            return fail(err, RADIUS_DETAIL_E_BAD_LINE, lineno,
                        "unindented line %s inside the record (missing blank line?)",
                        excerpt(s, (size_t)(e - s), ex));
        radius_detail_attr *at = &attrs[nattrs];
        memset(at, 0, sizeof *at);
        if (parse_attr_line(a, ls, e, at, err, lineno) < 0)
            return -1;
        aspec[nattrs] = spec_of(at->name);
        nattrs++;
    }
    if (state == 0)
        return fail(err, RADIUS_DETAIL_E_EMPTY, 0, "no record: input is blank");
    out->attrs = attrs;
    out->n_attrs = nattrs;

    /* Interpret the known attributes; the first of each slot fills the field. */
    int first[S_N];
    val firstv[S_N];
    size_t nmulti[S_N] = {0};
    for (int i = 0; i < S_N; i++)
        first[i] = -1;
    for (size_t i = 0; i < nattrs; i++) {
        const spec *sp = aspec[i];
        if (!sp)
            continue;
        const radius_detail_attr *at = &attrs[i];
        val v;
        if (parse_known(sp, at, zone, &v, err) < 0)
            return -1;
        if (sp->flags & F_DONE)
            out->done = 1;
        if (sp->flags & F_MULTI) {
            nmulti[sp->slot]++;
            continue;
        }
        if (first[sp->slot] >= 0) {
            const radius_detail_attr *f = &attrs[first[sp->slot]];
            if (!val_eq(sp->k, f, &firstv[sp->slot], at, &v)) {
                char ex2[EXCERPT_BUF];
                return fail(err, RADIUS_DETAIL_E_CONFLICT, at->line,
                            "%s %s conflicts with %s %s on line %d", at->name,
                            excerpt(at->raw, strlen(at->raw), ex), f->name,
                            excerpt(f->raw, strlen(f->raw), ex2), f->line);
            }
            continue;
        }
        first[sp->slot] = (int)i;
        firstv[sp->slot] = v;
        switch (sp->k) {
        case K_STATUS:
            out->status = (radius_detail_status)v.n;
            out->status_text = at->value;
            break;
        case K_EVENT_TS:
            out->event_timestamp = v.n;
            break;
        case K_TIMESTAMP:
            out->timestamp = v.n;
            break;
        case K_U32:
            *(int64_t *)((char *)out + sp->off) = v.n;
            break;
        case K_PACKET_TYPE:
            break;
        default:
            if (sp->off != NO_FIELD)
                *(const char **)((char *)out + sp->off) = at->value;
            break;
        }
    }
    if (nmulti[S_FRAMED_PREFIX] || nmulti[S_DELEGATED]) {
        out->framed_ipv6_prefix = arena_alloc(a, (nmulti[S_FRAMED_PREFIX] + 1) * sizeof(char *));
        out->delegated_ipv6_prefix = arena_alloc(a, (nmulti[S_DELEGATED] + 1) * sizeof(char *));
        for (size_t i = 0; i < nattrs; i++) {
            if (aspec[i] && aspec[i]->slot == S_FRAMED_PREFIX)
                out->framed_ipv6_prefix[out->n_framed_ipv6_prefix++] = attrs[i].value;
            else if (aspec[i] && aspec[i]->slot == S_DELEGATED)
                out->delegated_ipv6_prefix[out->n_delegated_ipv6_prefix++] = attrs[i].value;
        }
    }
    if (first[S_STATUS] < 0)
        return fail(err, RADIUS_DETAIL_E_NO_STATUS, 0, "no Acct-Status-Type");

    out->input_bytes = total_bytes(out->input_gigawords, out->input_octets);
    out->output_bytes = total_bytes(out->output_gigawords, out->output_octets);

    /* Resolve the header in the zone; see the header comment for why
     * Timestamp must agree with it. */
    int64_t delay = out->delay_time == RADIUS_DETAIL_ABSENT ? 0 : out->delay_time * TIMEUTIL_US;
    timeutil_local l;
    if (timeutil_local_to_utc(zone, &hc, &l, &m) < 0)
        return fail(err, RADIUS_DETAIL_E_BAD_CTIME, 1, "header: %s", m.msg);
    int nc = l.n == 1 ? 1 : l.n == 2 ? 2 : 0;
    const int64_t tol = (int64_t)RADIUS_DETAIL_CTIME_TOLERANCE_S * TIMEUTIL_US;
    if (out->timestamp != RADIUS_DETAIL_ABSENT) {
        int best = -1;
        for (int i = 0; i < nc; i++)
            if (absdiff(l.cand[i], out->timestamp) <= tol &&
                (best < 0 ||
                 absdiff(l.cand[i], out->timestamp) < absdiff(l.cand[best], out->timestamp)))
                best = i;
        if (best < 0) {
            char h[TIMEUTIL_RFC3339_MAX], t[TIMEUTIL_RFC3339_MAX];
            if (nc == 0)
                return fail(err, RADIUS_DETAIL_E_ZONE_MISMATCH, 1,
                            "header %s does not exist in %s (DST gap) but Timestamp is %s",
                            out->header, zone, timeutil_format(out->timestamp, t));
            return fail(err, RADIUS_DETAIL_E_ZONE_MISMATCH, 1,
                        "header %s is %s in %s but Timestamp is %s: wrong zone?", out->header,
                        timeutil_format(l.cand[0], h), zone, timeutil_format(out->timestamp, t));
        }
        out->header_time = l.cand[best];
        out->received = out->timestamp;
    } else {
        if (nc == 0)
            return fail(err, RADIUS_DETAIL_E_BAD_CTIME, 1,
                        "header %s does not exist in %s (DST gap)", out->header, zone);
        if (nc == 2) {
            if (out->event_timestamp == RADIUS_DETAIL_ABSENT)
                return fail(err, RADIUS_DETAIL_E_AMBIGUOUS_CTIME, 1,
                            "header %s is ambiguous in %s and there is no Timestamp or "
                            "Event-Timestamp to decide",
                            out->header, zone);
            int64_t want = out->event_timestamp + delay;
            out->header_time =
                absdiff(l.cand[0], want) <= absdiff(l.cand[1], want) ? l.cand[0] : l.cand[1];
        } else {
            out->header_time = l.cand[0];
        }
        out->received = out->header_time;
    }

    const int64_t skew = (int64_t)RADIUS_DETAIL_MAX_CLOCK_SKEW_S * TIMEUTIL_US;
    if (out->event_timestamp != RADIUS_DETAIL_ABSENT &&
        out->event_timestamp >= out->received - delay - skew &&
        out->event_timestamp <= out->received + skew) {
        out->event = out->event_timestamp;
        out->event_source = RADIUS_DETAIL_EVENT_FROM_EVENT_TIMESTAMP;
    } else {
        out->event_timestamp_ignored = out->event_timestamp != RADIUS_DETAIL_ABSENT;
        out->event = out->received - delay;
        out->event_source = out->timestamp != RADIUS_DETAIL_ABSENT
                                ? RADIUS_DETAIL_EVENT_FROM_TIMESTAMP
                                : RADIUS_DETAIL_EVENT_FROM_CTIME;
    }
    return 0;
}
