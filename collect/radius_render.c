#include "radius_render.h"
#include "radius_dict.h"
#include "timeutil.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static const char hexdigits[] = "0123456789abcdef";

static void put_hex(buf *b, const uint8_t *p, size_t n) {
    buf_reserve(b, 2 + 2 * n);
    buf_adds(b, "0x");
    for (size_t i = 0; i < n; i++) {
        b->p[b->len++] = hexdigits[p[i] >> 4];
        b->p[b->len++] = hexdigits[p[i] & 15];
    }
    b->p[b->len] = '\0';
}

/* Length of the printable UTF-8 character at S (RFC 3629, no overlongs or
 * surrogates), or 0 for a control byte, DEL or invalid UTF-8: FreeRADIUS's
 * fr_utf8_char, and what radius_detail accepts raw. */
static size_t utf8_char(const uint8_t *s, size_t n) {
    uint8_t c = s[0];
    if (c < 0x20 || c == 0x7f)
        return 0;
    if (c < 0x80)
        return 1;
    size_t need;
    uint8_t lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        need = 1;
    else if (c >= 0xe0 && c <= 0xef)
        need = 2, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    else if (c >= 0xf0 && c <= 0xf4)
        need = 3, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    else
        return 0;
    if (n <= need || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k <= need; k++)
        if (s[k] < 0x80 || s[k] > 0xbf)
            return 0;
    return need + 1;
}

/* A quoted string as FreeRADIUS's fr_prints writes it. */
static void put_string(buf *b, const uint8_t *p, size_t n) {
    if (n > 0 && p[n - 1] == '\0')
        n--; /* FreeRADIUS never prints one trailing NUL (NAS padding) */
    buf_addc(b, '"');
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        const char *esc = c == '"'    ? "\\\""
                          : c == '\\' ? "\\\\"
                          : c == '\n' ? "\\n"
                          : c == '\r' ? "\\r"
                          : c == '\t' ? "\\t"
                                      : NULL;
        if (esc) {
            buf_adds(b, esc);
            i++;
            continue;
        }
        size_t k = utf8_char(p + i, n - i);
        if (k == 0) {
            buf_printf(b, "\\%03o", c);
            i++;
        } else {
            buf_add(b, p + i, k);
            i += k;
        }
    }
    buf_addc(b, '"');
}

static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Writes the value of dictionary attribute A from [P, P + N) and returns 0,
 * or -1 (nothing written) if the length does not fit the type. */
static int put_value(buf *b, const radius_dict_attr *a, const uint8_t *p, size_t n,
                     const radius_render_opts *o) {
    char s[INET6_ADDRSTRLEN + 8];
    switch (a->type) {
    case RADIUS_T_STRING:
        put_string(b, p, n);
        return 0;
    case RADIUS_T_OCTETS:
        put_hex(b, p, n);
        return 0;
    case RADIUS_T_IPADDR:
        if (n != 4)
            return -1;
        inet_ntop(AF_INET, p, s, sizeof s);
        buf_adds(b, s);
        return 0;
    case RADIUS_T_IPV6ADDR:
        if (n != 16)
            return -1;
        inet_ntop(AF_INET6, p, s, sizeof s);
        buf_adds(b, s);
        return 0;
    case RADIUS_T_IPV6PREFIX: {
        /* RFC 3162 §2.3: reserved, prefix length, then only as many address
         * bytes as the sender chose (FreeRADIUS takes 0..16, any reserved). */
        if (n < 2 || n > 18 || p[1] > 128)
            return -1;
        uint8_t addr[16] = {0};
        memcpy(addr, p + 2, n - 2);
        inet_ntop(AF_INET6, addr, s, sizeof s);
        buf_printf(b, "%s/%u", s, p[1]);
        return 0;
    }
    case RADIUS_T_IFID:
        if (n != 8)
            return -1;
        buf_printf(b, "%x:%x:%x:%x", (unsigned)(p[0] << 8 | p[1]), (unsigned)(p[2] << 8 | p[3]),
                   (unsigned)(p[4] << 8 | p[5]), (unsigned)(p[6] << 8 | p[7]));
        return 0;
    case RADIUS_T_INTEGER: {
        if (n != 4)
            return -1;
        uint32_t v = get32(p);
        const char *name = radius_dict_value_name(a, v);
        if (name)
            buf_adds(b, name);
        else
            buf_printf(b, "%" PRIu32, v);
        return 0;
    }
    case RADIUS_T_INTEGER64:
        if (n != 8)
            return -1;
        buf_printf(b, "%" PRIu64, (uint64_t)get32(p) << 32 | get32(p + 4));
        return 0;
    case RADIUS_T_DATE: {
        if (n != 4)
            return -1;
        uint32_t v = get32(p);
        char d[64];
        if (o->dates_as_integer || timeutil_strftime(o->zone, (int64_t)v * TIMEUTIL_US,
                                                     "%b %e %Y %H:%M:%S %Z", d, sizeof d, NULL) < 0)
            buf_printf(b, "%" PRIu32, v);
        else
            buf_printf(b, "\"%s\"", d);
        return 0;
    }
    case RADIUS_T_BYTE:
        if (n != 1)
            return -1;
        buf_printf(b, "%u", p[0]);
        return 0;
    case RADIUS_T_SHORT:
        if (n != 2)
            return -1;
        buf_printf(b, "%u", (unsigned)(p[0] << 8 | p[1]));
        return 0;
    case RADIUS_T_SIGNED:
        if (n != 4)
            return -1;
        buf_printf(b, "%" PRId32, (int32_t)get32(p));
        return 0;
    case RADIUS_T_ETHER:
        if (n != 6)
            return -1;
        buf_printf(b, "%02x:%02x:%02x:%02x:%02x:%02x", p[0], p[1], p[2], p[3], p[4], p[5]);
        return 0;
    }
    return -1;
}

/* One "\tName = value\n" line for attribute VENDOR/TYPE with value [P, P +
 * N); RAWNAME is the Attr-... name used when the dictionary does not know it
 * or the value does not fit. */
static void put_attr(buf *b, uint32_t vendor, unsigned type, const uint8_t *p, size_t n,
                     const char *rawname, const radius_render_opts *o) {
    const radius_dict_attr *a = radius_dict_find(vendor, type);
    if (a && (n > 0 || a->type == RADIUS_T_STRING || a->type == RADIUS_T_OCTETS)) {
        size_t mark = b->len;
        const uint8_t *v = p;
        size_t vn = n;
        unsigned tag = 0;
        int ok = 1;
        if (a->has_tag) {
            /* RFC 2868 §3: the first byte is a tag if it is 0x00..0x1f;
             * otherwise there is none (FreeRADIUS prints :0) and, for an
             * integer, all four bytes are the value. */
            if (a->type == RADIUS_T_INTEGER) {
                if (n != 4)
                    ok = 0;
                else if (p[0] <= 0x1f)
                    tag = p[0];
            } else if (n > 1 && p[0] <= 0x1f) { /* FreeRADIUS: a 1-byte value has no tag */
                tag = p[0];
                v++, vn--;
            }
        }
        if (ok) {
            buf_addc(b, '\t');
            buf_adds(b, a->name);
            if (a->has_tag)
                buf_printf(b, ":%u", tag);
            buf_adds(b, " = ");
            uint8_t masked[4];
            if (a->has_tag && a->type == RADIUS_T_INTEGER && p[0] <= 0x1f) {
                memcpy(masked, p, 4);
                masked[0] = 0;
                v = masked;
            }
            if (put_value(b, a, v, vn, o) == 0) {
                buf_addc(b, '\n');
                return;
            }
            b->len = mark; /* does not fit its type: write it raw */
            b->p[mark] = '\0';
        }
    }
    buf_printf(b, "\t%s = ", rawname);
    put_hex(b, p, n);
    buf_addc(b, '\n');
}

static void put_vsa(buf *b, const radius_attr *at, const radius_render_opts *o) {
    radius_vsa s[RADIUS_VSA_MAX];
    int k = radius_vsa_split(at->value, at->len, s);
    if (k < 0) {
        buf_adds(b, "\tAttr-26 = ");
        put_hex(b, at->value, at->len);
        buf_addc(b, '\n');
        return;
    }
    for (int i = 0; i < k; i++) {
        char raw[48];
        snprintf(raw, sizeof raw, "Attr-26.%" PRIu32 ".%u", s[i].vendor, s[i].type);
        put_attr(b, s[i].vendor, s[i].type, s[i].value, s[i].len, raw, o);
    }
}

static void put_src(buf *b, const struct sockaddr *src) {
    char s[INET6_ADDRSTRLEN];
    if (src->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)src;
        inet_ntop(AF_INET, &in->sin_addr, s, sizeof s);
        buf_printf(b, "\tPacket-Src-IP-Address = %s\n", s);
    } else if (src->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)src;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            inet_ntop(AF_INET, in6->sin6_addr.s6_addr + 12, s, sizeof s);
            buf_printf(b, "\tPacket-Src-IP-Address = %s\n", s);
        } else {
            inet_ntop(AF_INET6, &in6->sin6_addr, s, sizeof s);
            buf_printf(b, "\tPacket-Src-IPv6-Address = %s\n", s);
        }
    }
}

int radius_render_detail(const radius_pkt *pk, int64_t received, const struct sockaddr *src,
                         const radius_render_opts *opts, buf *out, error *err) {
    if (pk->code != RADIUS_ACCOUNTING_REQUEST) {
        error_set(err, "bad_code", 0, "packet code %u is not an Accounting-Request", pk->code);
        return -1;
    }
    char hdr[64];
    if (timeutil_strftime(opts->zone, received, "%a %b %e %H:%M:%S %Y", hdr, sizeof hdr, err) < 0)
        return -1;
    buf_adds(out, hdr);
    buf_addc(out, '\n');
    if (src)
        put_src(out, src);
    radius_attr at;
    size_t pos = 0;
    while (radius_pkt_next_attr(pk, &pos, &at)) {
        if (at.type == RADIUS_ATTR_VENDOR_SPECIFIC) {
            put_vsa(out, &at, opts);
        } else {
            char raw[16];
            snprintf(raw, sizeof raw, "Attr-%u", at.type);
            put_attr(out, 0, at.type, at.value, at.len, raw, opts);
        }
    }
    int64_t secs =
        received >= 0 ? received / TIMEUTIL_US : -((-received + TIMEUTIL_US - 1) / TIMEUTIL_US);
    buf_printf(out, "\tTimestamp = %" PRId64 "\n\n", secs);
    return 0;
}
