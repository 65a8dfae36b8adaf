/* Tests for lib/md5: the RFC 1321 §A.5 test suite, incremental updates split
 * at every position, and inputs around the 56/64-byte padding boundaries
 * (digests from Python's hashlib). */
#include "check.h"
#include "md5.h"

static void hex(const uint8_t d[MD5_DIGEST_LEN], char out[33]) {
    for (int i = 0; i < MD5_DIGEST_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void test_rfc1321(void) {
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"", "d41d8cd98f00b204e9800998ecf8427e"},
        {"a", "0cc175b9c0f1b6a831c399e269772661"},
        {"abc", "900150983cd24fb0d6963f7d28e17f72"},
        {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
        {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
         "d174ab98d277d9f5a5611c2c9f419d9f"},
        {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
         "57edf4a22be3c955ac49da2e2107b67a"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t d[MD5_DIGEST_LEN];
        char got[33];
        md5(cases[i].in, strlen(cases[i].in), d);
        hex(d, got);
        CHECK_STR(got, cases[i].want);
    }
}

/* Lengths 55, 56, 63, 64, 65 and 119..121 cross the padding cases. */
static void test_boundaries(void) {
    static const struct {
        size_t n;
        const char *want;
    } cases[] = {
        {55, "ef1772b6dff9a122358552954ad0df65"},  {56, "3b0c8ac703f828b04c6c197006d17218"},
        {63, "b06521f39153d618550606be297466d5"},  {64, "014842d480b571495a4a0363793f7367"},
        {65, "c743a45e0d2e6a95cb859adae0248435"},  {119, "8a7bd0732ed6a28ce75f6dabc90e1613"},
        {120, "5f61c0ccad4cac44c75ff505e1f1e537"}, {121, "f6acfca2d47c87f2b14ca038234d3614"},
    };
    char in[128];
    memset(in, 'a', sizeof in);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t d[MD5_DIGEST_LEN];
        char got[33];
        md5(in, cases[i].n, d);
        hex(d, got);
        CHECK_STR(got, cases[i].want);
    }
}

/* Feeding the input in two pieces, split anywhere, gives the same digest. */
static void test_incremental(void) {
    const char *in = "The quick brown fox jumps over the lazy dog, then over it again, and once "
                     "more for good measure so the input spans three blocks.....";
    size_t n = strlen(in);
    uint8_t whole[MD5_DIGEST_LEN];
    md5(in, n, whole);
    for (size_t cut = 0; cut <= n; cut++) {
        md5_ctx c;
        uint8_t d[MD5_DIGEST_LEN];
        md5_init(&c);
        md5_update(&c, in, cut);
        md5_update(&c, in + cut, n - cut);
        md5_final(&c, d);
        CHECK(memcmp(d, whole, sizeof d) == 0);
    }
    char got[33];
    hex(whole, got);
    CHECK_STR(got, "088641c5127e1f2227bab28a5d3a4289");
}

/* RFC 2202 §2: HMAC-MD5 test cases 1, 2, 3, 5 and 6 (6: a key longer than
 * the block, hashed first). */
static void test_hmac_rfc2202(void) {
    uint8_t k16[16], k80[80], dd[50];
    memset(dd, 0xdd, sizeof dd);
    memset(k80, 0xaa, sizeof k80);
    static const char t6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
    static const char t5[] = "Test With Truncation";
    struct {
        const void *key;
        size_t klen;
        const void *data;
        size_t dlen;
        const char *want;
    } cases[] = {
        {k16, 16, "Hi There", 8, "9294727a3638bb1c13f48ef8158bfc9d"},
        {"Jefe", 4, "what do ya want for nothing?", 28, "750c783e6ab0b503eaa86e310a5db738"},
        {k16, 16, dd, sizeof dd, "56be34521d144c88dbb8c733f0e8b3f6"},
        {k16, 16, t5, sizeof t5 - 1, "56461ef2342edc00f9bab995690efd4c"},
        {k80, 80, t6, sizeof t6 - 1, "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (i == 0)
            memset(k16, 0x0b, sizeof k16);
        if (i == 2)
            memset(k16, 0xaa, sizeof k16);
        if (i == 3)
            memset(k16, 0x0c, sizeof k16);
        uint8_t d[MD5_DIGEST_LEN];
        char got[33];
        md5_hmac(cases[i].key, cases[i].klen, cases[i].data, cases[i].dlen, d);
        hex(d, got);
        CHECK_STR(got, cases[i].want);
    }
}

static const check_test tests[] = {
    {"rfc1321", test_rfc1321},
    {"hmac_rfc2202", test_hmac_rfc2202},
    {"boundaries", test_boundaries},
    {"incremental", test_incremental},
    {0},
};

int main(void) {
    return check_main("md5", tests);
}
