/*
 * libFuzzer target for collect/radius_pkt and collect/radius_render.  The
 * first input byte picks the options (zone, date style, source family); the
 * rest is one UDP datagram.  Checks the contracts: a parsed packet's
 * attributes and VSAs stay inside it and add up to n_attrs; signing then
 * verifying succeeds; the response parses; the rendered record is clean text
 * (printable UTF-8, tabs and newlines only), one terminated record for the
 * splitter, and never a syntax error for radius_detail_parse.
 */
#include "radius_detail.h"
#include "radius_pkt.h"
#include "radius_render.h"
#include "timeutil.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const zones[] = {"UTC", "Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata"};

static void check_attrs(const radius_pkt *pk, const uint8_t *p) {
    radius_attr a;
    size_t pos = 0, count = 0;
    while (radius_pkt_next_attr(pk, &pos, &a)) {
        if (a.value < p + RADIUS_PKT_HDR || a.value + a.len > p + pk->length ||
            a.off + 2 + a.len > pk->length || p[a.off] != a.type)
            abort();
        if (a.type == RADIUS_ATTR_VENDOR_SPECIFIC) {
            radius_vsa s[RADIUS_VSA_MAX];
            int k = radius_vsa_split(a.value, a.len, s);
            size_t sum = 4;
            for (int i = 0; i < k; i++) {
                if (s[i].value < a.value || s[i].value + s[i].len > a.value + a.len)
                    abort();
                sum += s[i].len + 2;
            }
            if (k > 0 && sum != a.len)
                abort();
        }
        count++;
    }
    if (count != pk->n_attrs || pos != pk->attrs_len)
        abort();
}

/* Rendered text: only tab, LF and printable UTF-8 (what radius_detail accepts). */
static void check_text(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
            abort();
    }
    if (n < 2 || s[n - 1] != '\n' || s[n - 2] != '\n')
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    uint8_t opt = data[0];
    size_t n = size - 1;
    uint8_t *p = malloc(n ? n : 1); /* exact size, so ASan sees overreads */
    memcpy(p, data + 1, n);
    static const uint8_t secret[] = "fuzz-secret";

    radius_pkt pk;
    error err;
    radius_pkt_err rc = radius_pkt_parse(p, n, &pk, &err);
    radius_pkt_err vrc = radius_pkt_verify_acct(p, n, secret, sizeof secret - 1);
    if (rc != RADIUS_PKT_OK) {
        if (err.msg[0] == '\0' || strcmp(radius_pkt_reason(rc), "unknown") == 0)
            abort();
        free(p);
        return 0;
    }
    if (pk.length < RADIUS_PKT_HDR || pk.length > n || pk.trailing != n - pk.length ||
        pk.attrs_len != (size_t)pk.length - RADIUS_PKT_HDR)
        abort();
    check_attrs(&pk, p);
    if (pk.code == RADIUS_ACCOUNTING_REQUEST) {
        if (vrc != RADIUS_PKT_OK && vrc != RADIUS_PKT_E_AUTH && vrc != RADIUS_PKT_E_MSG_AUTH)
            abort();
        uint8_t *q = malloc(pk.length);
        memcpy(q, p, pk.length);
        radius_pkt_sign_acct(q, pk.length, secret, sizeof secret - 1);
        /* Signing fixes the Request Authenticator only: a Message-Authenticator
         * the input carried is still checked (and almost surely wrong). */
        radius_pkt_err src = radius_pkt_verify_acct(q, pk.length, secret, sizeof secret - 1);
        int has_ma = 0;
        radius_attr a;
        for (size_t pos = 0; radius_pkt_next_attr(&pk, &pos, &a);)
            has_ma |= a.type == RADIUS_ATTR_MESSAGE_AUTHENTICATOR;
        if (src != RADIUS_PKT_OK && !(src == RADIUS_PKT_E_MSG_AUTH && has_ma))
            abort();
        free(q);
    } else if (vrc != RADIUS_PKT_E_CODE) {
        abort();
    }
    uint8_t resp[RADIUS_PKT_HDR];
    radius_pkt rp;
    radius_pkt_response(&pk, secret, sizeof secret - 1, resp);
    if (radius_pkt_parse(resp, sizeof resp, &rp, &err) != RADIUS_PKT_OK || rp.id != pk.id ||
        rp.code != RADIUS_ACCOUNTING_RESPONSE)
        abort();

    const char *zone = zones[opt & 3];
    radius_render_opts o = {zone, (opt >> 2) & 1};
    struct sockaddr_in in4 = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0xc6336402)};
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
    in6.sin6_addr.s6_addr[0] = 0x20, in6.sin6_addr.s6_addr[15] = opt;
    const struct sockaddr *src = (opt >> 3) & 1   ? (const struct sockaddr *)&in4
                                 : (opt >> 4) & 1 ? (const struct sockaddr *)&in6
                                                  : NULL;
    int64_t received = (1795604400LL + (int64_t)opt * 7919) * TIMEUTIL_US;
    buf b;
    buf_init(&b);
    error rerr;
    int r = radius_render_detail(&pk, received, src, &o, &b, &rerr);
    if (pk.code != RADIUS_ACCOUNTING_REQUEST) {
        if (r != -1 || b.len != 0)
            abort();
    } else {
        if (r != 0)
            abort();
        check_text(b.p, b.len);
        detail_split_span sp;
        if (detail_split_next(b.p, b.len, 0, &sp) != 1 || !sp.terminated || sp.next != b.len ||
            sp.off != 0)
            abort();
        arena a;
        arena_init(&a, 0);
        radius_detail_rec rec;
        error e;
        if (radius_detail_parse(b.p, b.len, zone, &a, &rec, &e) < 0) {
            /* Semantic refusals are fine (no status, conflicting values,
             * a NUL in an identity); a syntax error means bad rendering. */
            static const char *const syntax[] = {
                RADIUS_DETAIL_E_EMPTY,         RADIUS_DETAIL_E_BAD_BYTE,
                RADIUS_DETAIL_E_BAD_UTF8,      RADIUS_DETAIL_E_NO_CTIME,
                RADIUS_DETAIL_E_BAD_CTIME,     RADIUS_DETAIL_E_BAD_LINE,
                RADIUS_DETAIL_E_BAD_STRING,    RADIUS_DETAIL_E_TRAILING,
                RADIUS_DETAIL_E_ZONE_MISMATCH, RADIUS_DETAIL_E_AMBIGUOUS_CTIME};
            for (size_t i = 0; i < sizeof syntax / sizeof syntax[0]; i++)
                if (strcmp(e.code, syntax[i]) == 0)
                    abort();
        } else if (rec.received != received / TIMEUTIL_US * TIMEUTIL_US) {
            abort();
        }
        arena_close(&a);
    }
    buf_close(&b);
    free(p);
    return 0;
}
