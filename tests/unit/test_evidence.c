/* Tests for ingest/evidence: SHA-256 of the frame against the FIPS 180-2
 * examples and against libsodium (the digest the database module checks
 * with), over lengths around the 64-byte block; and a block packed,
 * compressed and unpacked again, which must refuse an altered payload. */
#include "check.h"
#include "evidence.h"

#include <sodium.h>
#include <stdlib.h>

static void hex(const unsigned char d[32], char out[65]) {
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void test_sha256_fips(void) {
    static const struct {
        const char *in;
        size_t repeat;
        const char *want;
    } cases[] = {
        {"", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i].in) * cases[i].repeat;
        char *in = malloc(n + 1);
        for (size_t r = 0; r < cases[i].repeat; r++)
            memcpy(in + r * strlen(cases[i].in), cases[i].in, strlen(cases[i].in));
        unsigned char d[32];
        char got[65];
        evidence_sha256(in, n, d);
        hex(d, got);
        CHECK_STR(got, cases[i].want);
        free(in);
    }
}

static void test_sha256_matches_sodium(void) {
    unsigned char data[4096];
    randombytes_buf(data, sizeof data);
    static const size_t lens[] = {0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 1000, 4095, 4096};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        unsigned char a[32], b[32];
        char ga[65], gb[65];
        evidence_sha256(data, lens[i], a);
        crypto_hash_sha256(b, data, lens[i]);
        hex(a, ga);
        hex(b, gb);
        CHECK_STR(ga, gb);
    }
}

static void test_block_roundtrip(void) {
    static const char *lines[] = {"Nov 22 13:15:02 mx postfix/smtpd[1]: 4F1: client=a[192.0.2.1]",
                                  "", "line with \x01 control and \xff byte"};
    evidence_block b;
    evidence_block_init(&b, "smtp", 0);
    for (int i = 0; i < 3; i++)
        CHECK_INT(evidence_block_add(&b, lines[i], strlen(lines[i]), 100 + i), i);
    CHECK_INT(b.first_pos, 100);
    CHECK_INT(b.last_pos, 102);
    unsigned char sha[32];
    evidence_sha256(b.frame.p, b.frame.len, sha);
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    error err;
    error_clear(&err);
    CHECK_INT(evidence_compress(cctx, NULL, 3, b.frame.p, b.frame.len, &b.z, &err), 0);
    buf frame;
    buf_init(&frame);
    CHECK_INT(evidence_unpack(b.z.p, b.z.len, NULL, sha, &frame, &err), 0);
    CHECK_INT(frame.len, b.frame.len);
    CHECK(frame.len == b.frame.len && memcmp(frame.p, b.frame.p, frame.len) == 0);
    /* The frame's digest no longer matches: refused, with a reason. */
    sha[0] ^= 1;
    error_clear(&err);
    CHECK_INT(evidence_unpack(b.z.p, b.z.len, NULL, sha, &frame, &err), -1);
    CHECK(err.msg[0] != '\0');
    buf_close(&frame);
    ZSTD_freeCCtx(cctx);
    evidence_block_close(&b);
}

static const check_test tests[] = {
    {"sha256_fips", test_sha256_fips},
    {"sha256_matches_sodium", test_sha256_matches_sodium},
    {"block_roundtrip", test_block_roundtrip},
    {NULL, NULL},
};

int main(void) {
    if (sodium_init() < 0)
        return 2;
    return check_main("evidence", tests);
}
