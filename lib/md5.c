#include "md5.h"

#include <string.h>

/* Per-round shift amounts and the sine-derived constants T[i] =
 * floor(2^32 * |sin(i + 1)|), both from RFC 1321 §3.4. */
static const unsigned char S[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                                    5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                                    4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                                    6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

static const uint32_t T[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};

static uint32_t rotl(uint32_t x, unsigned n) {
    return (x << n) | (x >> (32 - n));
}

/* One 64-byte block; words are little-endian (RFC 1321 §2). */
static void md5_block(uint32_t st[4], const unsigned char *b) {
    uint32_t X[16];
    for (int i = 0; i < 16; i++)
        X[i] = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 | (uint32_t)b[4 * i + 2] << 16 |
               (uint32_t)b[4 * i + 3] << 24;
    uint32_t a = st[0], bb = st[1], c = st[2], d = st[3];
    for (int i = 0; i < 64; i++) {
        uint32_t f;
        int k;
        if (i < 16) {
            f = (bb & c) | (~bb & d);
            k = i;
        } else if (i < 32) {
            f = (bb & d) | (c & ~d);
            k = (5 * i + 1) % 16;
        } else if (i < 48) {
            f = bb ^ c ^ d;
            k = (3 * i + 5) % 16;
        } else {
            f = c ^ (bb | ~d);
            k = (7 * i) % 16;
        }
        uint32_t tmp = d;
        d = c;
        c = bb;
        bb = bb + rotl(a + f + T[i] + X[k], S[i]);
        a = tmp;
    }
    st[0] += a;
    st[1] += bb;
    st[2] += c;
    st[3] += d;
}

void md5_init(md5_ctx *c) {
    c->state[0] = 0x67452301;
    c->state[1] = 0xefcdab89;
    c->state[2] = 0x98badcfe;
    c->state[3] = 0x10325476;
    c->bytes = 0;
}

void md5_update(md5_ctx *c, const void *p, size_t n) {
    if (n == 0)
        return; /* P may be NULL */
    const unsigned char *s = p;
    size_t have = (size_t)(c->bytes % 64);
    c->bytes += n;
    if (have) {
        size_t take = 64 - have < n ? 64 - have : n;
        memcpy(c->block + have, s, take);
        s += take;
        n -= take;
        if (have + take < 64)
            return;
        md5_block(c->state, c->block);
    }
    for (; n >= 64; s += 64, n -= 64)
        md5_block(c->state, s);
    if (n)
        memcpy(c->block, s, n);
}

void md5_final(md5_ctx *c, uint8_t out[MD5_DIGEST_LEN]) {
    /* Pad with 0x80, zeros to 56 mod 64, then the bit length (RFC 1321 §3.1-3.2). */
    uint64_t bits = c->bytes * 8;
    static const unsigned char pad[64] = {0x80};
    size_t have = (size_t)(c->bytes % 64);
    md5_update(c, pad, have < 56 ? 56 - have : 120 - have);
    unsigned char len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)(bits >> (8 * i));
    md5_update(c, len, 8);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            out[4 * i + j] = (uint8_t)(c->state[i] >> (8 * j));
}

void md5(const void *p, size_t n, uint8_t out[MD5_DIGEST_LEN]) {
    md5_ctx c;
    md5_init(&c);
    md5_update(&c, p, n);
    md5_final(&c, out);
}

void md5_hmac(const void *key, size_t key_len, const void *p, size_t n,
              uint8_t out[MD5_DIGEST_LEN]) {
    uint8_t k[64] = {0}, pad[64], inner[MD5_DIGEST_LEN];
    if (key_len > sizeof k)
        md5(key, key_len, k);
    else if (key_len)
        memcpy(k, key, key_len);
    md5_ctx c;
    for (size_t i = 0; i < sizeof pad; i++)
        pad[i] = k[i] ^ 0x36;
    md5_init(&c);
    md5_update(&c, pad, sizeof pad);
    md5_update(&c, p, n);
    md5_final(&c, inner);
    for (size_t i = 0; i < sizeof pad; i++)
        pad[i] = k[i] ^ 0x5c;
    md5_init(&c);
    md5_update(&c, pad, sizeof pad);
    md5_update(&c, inner, sizeof inner);
    md5_final(&c, out);
}
