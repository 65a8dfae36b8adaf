#include "radius_pkt.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static radius_pkt_err fail(error *err, radius_pkt_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ERR gets E's stable name (radius_pkt_reason) as its code. */
static radius_pkt_err fail(error *err, radius_pkt_err e, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    error_setv(err, radius_pkt_reason(e), 0, fmt, ap);
    va_end(ap);
    return e;
}

const char *radius_pkt_reason(radius_pkt_err e) {
    switch (e) {
    case RADIUS_PKT_OK:
        return "ok";
    case RADIUS_PKT_E_SHORT:
        return "short_packet";
    case RADIUS_PKT_E_LENGTH:
        return "bad_length";
    case RADIUS_PKT_E_CODE:
        return "bad_code";
    case RADIUS_PKT_E_ATTR:
        return "bad_attribute";
    case RADIUS_PKT_E_AUTH:
        return "bad_authenticator";
    case RADIUS_PKT_E_MSG_AUTH:
        return "bad_message_authenticator";
    }
    return "unknown";
}

static unsigned get16(const uint8_t *p) {
    return (unsigned)p[0] << 8 | p[1];
}

radius_pkt_err radius_pkt_parse(const uint8_t *p, size_t n, radius_pkt *out, error *err) {
    memset(out, 0, sizeof *out);
    error_clear(err);
    if (n < RADIUS_PKT_HDR)
        return fail(err, RADIUS_PKT_E_SHORT,
                    "datagram of %zu bytes is shorter than the %d-byte RADIUS header", n,
                    RADIUS_PKT_HDR);
    unsigned len = get16(p + 2);
    if (p[0] != RADIUS_ACCOUNTING_REQUEST && p[0] != RADIUS_ACCOUNTING_RESPONSE)
        return fail(err, RADIUS_PKT_E_CODE,
                    "code %u is not Accounting-Request (4) or Accounting-Response (5)", p[0]);
    if (len < RADIUS_PKT_HDR || len > RADIUS_PKT_MAX)
        return fail(err, RADIUS_PKT_E_LENGTH, "Length field %u is outside %d..%d", len,
                    RADIUS_PKT_HDR, RADIUS_PKT_MAX);
    if (len > n)
        return fail(err, RADIUS_PKT_E_LENGTH,
                    "Length field %u exceeds the %zu-byte datagram (truncated)", len, n);
    size_t count = 0;
    for (size_t off = RADIUS_PKT_HDR; off < len;) {
        if (len - off < 2)
            return fail(err, RADIUS_PKT_E_ATTR,
                        "attribute at offset %zu: 1 byte left, a header needs 2", off);
        unsigned alen = p[off + 1];
        if (alen < 2)
            return fail(err, RADIUS_PKT_E_ATTR, "attribute %u at offset %zu has length %u (< 2)",
                        p[off], off, alen);
        if (alen > len - off)
            return fail(err, RADIUS_PKT_E_ATTR,
                        "attribute %u at offset %zu has length %u, past the packet's %u bytes",
                        p[off], off, alen, len);
        /* As FreeRADIUS's rad_packet_ok, which drops such packets: type 0 is
         * not an attribute (RFC 2865 §5), and a Message-Authenticator is 16
         * octets (RFC 3579 §3.2). */
        if (p[off] == 0)
            return fail(err, RADIUS_PKT_E_ATTR, "attribute type 0 at offset %zu", off);
        if (p[off] == RADIUS_ATTR_MESSAGE_AUTHENTICATOR && alen != 2 + RADIUS_AUTH_LEN)
            return fail(err, RADIUS_PKT_E_ATTR,
                        "Message-Authenticator at offset %zu has length %u (not 18)", off, alen);
        off += alen;
        count++;
    }
    out->code = p[0];
    out->id = p[1];
    out->length = (uint16_t)len;
    out->auth = p + 4;
    out->attrs = p + RADIUS_PKT_HDR;
    out->attrs_len = len - RADIUS_PKT_HDR;
    out->n_attrs = count;
    out->trailing = n - len;
    return RADIUS_PKT_OK;
}

int radius_pkt_next_attr(const radius_pkt *pk, size_t *pos, radius_attr *a) {
    /* The walk was validated by radius_pkt_parse; the checks only keep a
     * misused iterator (wrong POS) inside the area. */
    size_t o = *pos;
    if (o + 2 > pk->attrs_len)
        return 0;
    size_t alen = pk->attrs[o + 1];
    if (alen < 2 || alen > pk->attrs_len - o)
        return 0;
    a->type = pk->attrs[o];
    a->value = pk->attrs + o + 2;
    a->len = alen - 2;
    a->off = RADIUS_PKT_HDR + o;
    *pos = o + alen;
    return 1;
}

/* Vendors whose VSAs are not 1-byte type / 1-byte length (FreeRADIUS
 * dictionaries, VENDOR ... format=). */
static int vendor_nonstandard(uint32_t v) {
    static const uint32_t list[] = {54, 429, 637, 4846, 5323, 8164, 16445, 24757};
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        if (list[i] == v)
            return 1;
    return 0;
}

int radius_vsa_split(const uint8_t *value, size_t len, radius_vsa out[RADIUS_VSA_MAX]) {
    /* RFC 2865 §5.26: the vendor id's high-order octet is 0 (SMI codes are
     * 24-bit); FreeRADIUS keeps other values raw too. */
    if (len < 6 || value[0] != 0)
        return -1;
    uint32_t vendor =
        (uint32_t)value[0] << 24 | (uint32_t)value[1] << 16 | (uint32_t)value[2] << 8 | value[3];
    if (vendor_nonstandard(vendor))
        return -1;
    int n = 0;
    for (size_t off = 4; off < len;) {
        if (len - off < 2 || n == RADIUS_VSA_MAX)
            return -1;
        size_t slen = value[off + 1];
        if (slen < 2 || slen > len - off)
            return -1;
        out[n].vendor = vendor;
        out[n].type = value[off];
        out[n].value = value + off + 2;
        out[n].len = slen - 2;
        n++;
        off += slen;
    }
    return n;
}

/* MD5(P[0..4) + AUTH + P[20..N) + SECRET): the authenticator computation
 * shared by requests (AUTH = zeros) and responses (AUTH = the request's). */
static void authenticator(const uint8_t *hdr4, const uint8_t *auth, const uint8_t *attrs,
                          size_t attrs_len, const uint8_t *secret, size_t secret_len,
                          uint8_t out[RADIUS_AUTH_LEN]) {
    /* MD5 because RFC 2865 §3 and RFC 2866 §3 define the authenticators
     * with it; OpenSSL's, as Spoor uses OpenSSL for every digest. */
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c || EVP_DigestInit_ex(c, EVP_md5(), NULL) != 1 || EVP_DigestUpdate(c, hdr4, 4) != 1 ||
        EVP_DigestUpdate(c, auth, RADIUS_AUTH_LEN) != 1 ||
        EVP_DigestUpdate(c, attrs, attrs_len) != 1 ||
        EVP_DigestUpdate(c, secret, secret_len) != 1 || EVP_DigestFinal_ex(c, out, NULL) != 1)
        abort(); /* only allocation can fail here */
    EVP_MD_CTX_free(c);
}

static const uint8_t zero_auth[RADIUS_AUTH_LEN];

/* Nonzero if two authenticators differ, in constant time: a timing oracle
 * would let a forger learn one byte by byte. */
static unsigned auth_differ(const uint8_t *a, const uint8_t *b) {
    unsigned diff = 0;
    for (int i = 0; i < RADIUS_AUTH_LEN; i++)
        diff |= (unsigned)(a[i] ^ b[i]);
    return diff;
}

radius_pkt_err radius_pkt_verify_acct(const uint8_t *p, size_t n, const uint8_t *secret,
                                      size_t secret_len) {
    if (n < RADIUS_PKT_HDR)
        return RADIUS_PKT_E_SHORT;
    if (p[0] != RADIUS_ACCOUNTING_REQUEST)
        return RADIUS_PKT_E_CODE;
    size_t len = get16(p + 2);
    if (len < RADIUS_PKT_HDR || len > RADIUS_PKT_MAX || len > n)
        return RADIUS_PKT_E_LENGTH;
    uint8_t want[RADIUS_AUTH_LEN];
    authenticator(p, zero_auth, p + RADIUS_PKT_HDR, len - RADIUS_PKT_HDR, secret, secret_len, want);
    if (auth_differ(want, p + 4))
        return RADIUS_PKT_E_AUTH;
    /* A Message-Authenticator, when the NAS sent one, must be right too, as
     * FreeRADIUS requires (it silently drops the packet otherwise, RFC 3579
     * §3.2): HMAC-MD5 under the secret over the packet with the
     * Message-Authenticator's value and, for an Accounting-Request, the
     * Request Authenticator as 16 zero octets (the NAS computes it first). */
    radius_pkt pk = {.attrs = p + RADIUS_PKT_HDR, .attrs_len = len - RADIUS_PKT_HDR};
    radius_attr a;
    size_t pos = 0;
    while (radius_pkt_next_attr(&pk, &pos, &a)) {
        if (a.type != RADIUS_ATTR_MESSAGE_AUTHENTICATOR)
            continue;
        if (a.len != RADIUS_AUTH_LEN)
            return RADIUS_PKT_E_ATTR;
        uint8_t copy[RADIUS_PKT_MAX], mac[RADIUS_AUTH_LEN];
        memcpy(copy, p, len);
        memset(copy + 4, 0, RADIUS_AUTH_LEN);
        memset(copy + a.off + 2, 0, RADIUS_AUTH_LEN);
        if (!HMAC(EVP_md5(), secret, (int)secret_len, copy, len, mac, NULL))
            abort();
        return auth_differ(mac, a.value) ? RADIUS_PKT_E_MSG_AUTH : RADIUS_PKT_OK;
    }
    /* The walk stopped at a malformed attribute, not at the end. */
    return pos + 2 <= pk.attrs_len ? RADIUS_PKT_E_ATTR : RADIUS_PKT_OK;
}

void radius_pkt_sign_acct(uint8_t *p, size_t n, const uint8_t *secret, size_t secret_len) {
    uint8_t a[RADIUS_AUTH_LEN];
    authenticator(p, zero_auth, p + RADIUS_PKT_HDR, n - RADIUS_PKT_HDR, secret, secret_len, a);
    memcpy(p + 4, a, RADIUS_AUTH_LEN);
}

size_t radius_pkt_response(const radius_pkt *req, const uint8_t *secret, size_t secret_len,
                           uint8_t out[RADIUS_PKT_HDR]) {
    out[0] = RADIUS_ACCOUNTING_RESPONSE;
    out[1] = req->id;
    out[2] = 0;
    out[3] = RADIUS_PKT_HDR;
    uint8_t a[RADIUS_AUTH_LEN];
    authenticator(out, req->auth, NULL, 0, secret, secret_len, a);
    memcpy(out + 4, a, RADIUS_AUTH_LEN);
    return RADIUS_PKT_HDR;
}
