/*
 * Tests for collect/radius_pkt: header and attribute validation (table of hex
 * datagrams), every truncation of a real packet, VSA splitting, and the
 * authenticators against a packet captured from FreeRADIUS's radclient.
 */
#include "check.h"
#include "radius_pkt.h"

#include <stdlib.h>

/* Hex text (spaces ignored) to bytes; returns the length. */
static size_t unhex(const char *h, uint8_t *out, size_t max) {
    size_t n = 0;
    for (; *h; h++) {
        if (*h == ' ')
            continue;
        unsigned v;
        if (n >= max || sscanf(h, "%2x", &v) != 1)
            abort();
        out[n++] = (uint8_t)v;
        h++;
    }
    return n;
}

/*
 * A real Accounting-Request: radclient 3.2.1 (Debian freeradius-utils
 * 3.2.1+dfsg-4+deb12u1) sent it with secret "s3cr3t-spoor" to a 20-line
 * Python UDP listener on 127.0.0.1 that saved the datagram:
 *
 *   printf 'Acct-Status-Type = Start\nUser-Name = "dsl-000111@isp.example"\n...' |
 *     radclient -x -d /usr/share/freeradius 127.0.0.1:51813 acct s3cr3t-spoor
 *
 * radclient computed the Request Authenticator (6ad664e6...); Python's
 * hashlib.md5 over code+id+length+16 zeros+attributes+secret agrees, and the
 * Response Authenticator below is hashlib.md5(05 da 0014 + request
 * authenticator + secret), which radclient accepted ("Received
 * Accounting-Response Id 218").  17 attributes, as radclient printed them:
 * Acct-Status-Type = Start, User-Name, Acct-Session-Id, NAS-IP-Address,
 * NAS-Identifier, NAS-Port, NAS-Port-Type = Ethernet, NAS-Port-Id,
 * Framed-IP-Address, Calling-Station-Id, Event-Timestamp = 1795604400,
 * Acct-Delay-Time, Acct-Authentic, Service-Type, Framed-Protocol,
 * Delegated-IPv6-Prefix = 2001:db8:1200::/56, Cisco-AVPair.
 */
static const char captured_hex[] =
    "04da00e26ad664e62f7dfac829e9091576196fff280600000001011864736c2d303030313131406973702e65"
    "78616d706c652c0b3130313538363833390406c6336402200a626e67322d6d616e0506000004773d060000"
    "000f571867652d322f322f332e313632333a3130302d313632330806c612042a1f10333030382e30363434"
    "2e6136626437066b06bfb02906000000002d06000000010606000000020706000000017b14003820010db8"
    "1200000000000000000000001a29000000090123636c69656e742d6d61632d616464726573733d33303038"
    "2e303634342e61366264";
static const char captured_secret[] = "s3cr3t-spoor";
static const char captured_response_hex[] = "05da0014db697d3567507278fc352ce3ae0a298b";

typedef struct parse_case {
    const char *name;
    const char *hex;
    radius_pkt_err want;
    size_t n_attrs, trailing;
} parse_case;

#define AUTH0 "00000000000000000000000000000000"

static const parse_case parse_cases[] = {
    {"empty datagram", "", RADIUS_PKT_E_SHORT, 0, 0},
    {"19 bytes",
     "04010013"
     "000000000000000000000000000000",
     RADIUS_PKT_E_SHORT, 0, 0},
    {"header only", "04010014" AUTH0, RADIUS_PKT_OK, 0, 0},
    {"accounting response", "05010014" AUTH0, RADIUS_PKT_OK, 0, 0},
    {"access-request refused", "01010014" AUTH0, RADIUS_PKT_E_CODE, 0, 0},
    {"code 0 refused", "00010014" AUTH0, RADIUS_PKT_E_CODE, 0, 0},
    {"Length 19", "04010013" AUTH0, RADIUS_PKT_E_LENGTH, 0, 0},
    {"Length 0", "04010000" AUTH0, RADIUS_PKT_E_LENGTH, 0, 0},
    {"Length 4097", "04011001" AUTH0, RADIUS_PKT_E_LENGTH, 0, 0},
    {"Length beyond datagram (truncated)", "04010020" AUTH0 "2806000000", RADIUS_PKT_E_LENGTH, 0,
     0},
    {"octets after Length ignored", "04010014" AUTH0 "2806000000ff", RADIUS_PKT_OK, 0, 6},
    {"one attribute", "0401001a" AUTH0 "280600000001", RADIUS_PKT_OK, 1, 0},
    {"attribute of length 2 (empty)", "04010016" AUTH0 "0102", RADIUS_PKT_OK, 1, 0},
    {"attribute length 0", "04010016" AUTH0 "0100", RADIUS_PKT_E_ATTR, 0, 0},
    {"attribute length 1", "04010016" AUTH0 "0101", RADIUS_PKT_E_ATTR, 0, 0},
    {"attribute overruns Length", "04010018" AUTH0 "01066162", RADIUS_PKT_E_ATTR, 0, 0},
    {"attribute overruns Length, datagram has the bytes", "04010018" AUTH0 "010661626364",
     RADIUS_PKT_E_ATTR, 0, 0},
    {"one stray byte after the attributes", "0401001b" AUTH0 "28060000000101", RADIUS_PKT_E_ATTR, 0,
     0},
    {"two attributes", "0401001d" AUTH0 "280600000002010361", RADIUS_PKT_OK, 2, 0},
    /* FreeRADIUS's rad_packet_ok drops these (RFC 2865 §5: no type 0; RFC 3579
     * §3.2: Message-Authenticator is 18 bytes). */
    {"attribute type 0", "04010017" AUTH0 "000341", RADIUS_PKT_E_ATTR, 0, 0},
    {"Message-Authenticator of 17 bytes",
     "04010025" AUTH0 "5011"
     "00000000000000000000000000000000"
     "00",
     RADIUS_PKT_E_ATTR, 0, 0},
    {"Message-Authenticator of 18 bytes",
     "04010026" AUTH0 "5012"
     "00000000000000000000000000000000",
     RADIUS_PKT_OK, 1, 0},
    {"two attributes and padding", "0401001d" AUTH0 "2806000000020103610000", RADIUS_PKT_OK, 2, 2},
};

static void test_parse_cases(void) {
    for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
        const parse_case *c = &parse_cases[i];
        uint8_t p[4200];
        size_t n = unhex(c->hex, p, sizeof p);
        /* A heap copy of exactly N bytes so ASan catches reads past the end. */
        uint8_t *q = malloc(n ? n : 1);
        memcpy(q, p, n);
        radius_pkt pk;
        error err;
        radius_pkt_err rc = radius_pkt_parse(q, n, &pk, &err);
        check_current = c->name;
        CHECK_STR(radius_pkt_reason(rc), radius_pkt_reason(c->want));
        if (rc == RADIUS_PKT_OK) {
            CHECK_INT(pk.n_attrs, c->n_attrs);
            CHECK_INT(pk.trailing, c->trailing);
            CHECK_INT(pk.attrs_len, pk.length - RADIUS_PKT_HDR);
        } else {
            CHECK(err.msg[0] != '\0');
            CHECK_STR(err.code, radius_pkt_reason(rc));
            for (const char *m = err.msg; *m; m++)
                CHECK((unsigned char)*m >= 0x20 && (unsigned char)*m < 0x7f);
        }
        free(q);
    }
    check_current = "parse_cases";
}

static void test_messages(void) {
    static const struct {
        const char *hex, *want;
    } cases[] = {
        {"0401", "datagram of 2 bytes is shorter than the 20-byte RADIUS header"},
        {"0c010014" AUTH0, "code 12 is not Accounting-Request (4) or Accounting-Response (5)"},
        {"04010030" AUTH0, "Length field 48 exceeds the 20-byte datagram (truncated)"},
        {"04010018" AUTH0 "01066162",
         "attribute 1 at offset 20 has length 6, past the packet's 24 bytes"},
        {"04010016" AUTH0 "1f00", "attribute 31 at offset 20 has length 0 (< 2)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t p[64];
        size_t n = unhex(cases[i].hex, p, sizeof p);
        radius_pkt pk;
        error err;
        radius_pkt_parse(p, n, &pk, &err);
        CHECK_STR(err.msg, cases[i].want);
    }
}

static void test_captured(void) {
    uint8_t p[512];
    size_t n = unhex(captured_hex, p, sizeof p);
    const uint8_t *secret = (const uint8_t *)captured_secret;
    size_t slen = strlen(captured_secret);
    radius_pkt pk;
    error err;
    CHECK_INT(radius_pkt_parse(p, n, &pk, &err), RADIUS_PKT_OK);
    CHECK_INT(pk.code, RADIUS_ACCOUNTING_REQUEST);
    CHECK_INT(pk.id, 218);
    CHECK_INT(pk.length, 226);
    CHECK_INT(pk.n_attrs, 17);

    static const uint8_t types[] = {40, 1, 44, 4, 32, 5, 61, 87, 8, 31, 55, 41, 45, 6, 7, 123, 26};
    radius_attr a;
    size_t pos = 0, k = 0;
    while (radius_pkt_next_attr(&pk, &pos, &a)) {
        if (k < sizeof types)
            CHECK_INT(a.type, types[k]);
        k++;
    }
    CHECK_INT(k, 17);
    pos = 0;
    radius_pkt_next_attr(&pk, &pos, &a);
    radius_pkt_next_attr(&pk, &pos, &a);
    CHECK_INT(a.len, 22);
    CHECK(memcmp(a.value, "dsl-000111@isp.example", 22) == 0);
    CHECK_INT(a.off, 26);

    CHECK_INT(radius_pkt_verify_acct(p, n, secret, slen), RADIUS_PKT_OK);
    CHECK_INT(radius_pkt_verify_acct(p, n, (const uint8_t *)"testing123", 10), RADIUS_PKT_E_AUTH);
    CHECK_INT(radius_pkt_verify_acct(p, n, secret, slen - 1), RADIUS_PKT_E_AUTH);

    /* Padding after Length is not covered by the authenticator. */
    uint8_t padded[600];
    memcpy(padded, p, n);
    memset(padded + n, 0xee, 7);
    CHECK_INT(radius_pkt_verify_acct(padded, n + 7, secret, slen), RADIUS_PKT_OK);
    CHECK_INT(radius_pkt_verify_acct(p, n - 1, secret, slen), RADIUS_PKT_E_LENGTH);

    /* Any flipped bit in header or attributes breaks it. */
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || i == 2 || i == 3)
            continue; /* code/length changes are other errors */
        p[i] ^= 0x01;
        CHECK_INT(radius_pkt_verify_acct(p, n, secret, slen), RADIUS_PKT_E_AUTH);
        p[i] ^= 0x01;
    }

    uint8_t resp[RADIUS_PKT_HDR], want[RADIUS_PKT_HDR];
    unhex(captured_response_hex, want, sizeof want);
    CHECK_INT(radius_pkt_response(&pk, secret, slen, resp), RADIUS_PKT_HDR);
    CHECK(memcmp(resp, want, RADIUS_PKT_HDR) == 0);
    radius_pkt rp;
    CHECK_INT(radius_pkt_parse(resp, sizeof resp, &rp, &err), RADIUS_PKT_OK);
    CHECK_INT(rp.code, RADIUS_ACCOUNTING_RESPONSE);
    CHECK_INT(rp.id, 218);
    CHECK_INT(radius_pkt_verify_acct(resp, sizeof resp, secret, slen), RADIUS_PKT_E_CODE);

    /* Signing reproduces radclient's authenticator. */
    uint8_t copy[512];
    memcpy(copy, p, n);
    memset(copy + 4, 0, RADIUS_AUTH_LEN);
    radius_pkt_sign_acct(copy, n, secret, slen);
    CHECK(memcmp(copy, p, n) == 0);
}

/* Every truncation of the real packet is an error (never a crash); with the
 * Length field patched to the truncated size, every cut that falls inside an
 * attribute is bad_attribute and every cut on a boundary parses. */
static void test_truncations(void) {
    uint8_t p[512];
    size_t n = unhex(captured_hex, p, sizeof p);
    size_t boundaries = 0;
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *q = malloc(cut ? cut : 1);
        memcpy(q, p, cut);
        radius_pkt pk;
        error err;
        radius_pkt_err rc = radius_pkt_parse(q, cut, &pk, &err);
        CHECK_INT(rc, cut < RADIUS_PKT_HDR ? RADIUS_PKT_E_SHORT : RADIUS_PKT_E_LENGTH);
        if (cut >= RADIUS_PKT_HDR) {
            q[2] = (uint8_t)(cut >> 8);
            q[3] = (uint8_t)cut;
            rc = radius_pkt_parse(q, cut, &pk, &err);
            CHECK(rc == RADIUS_PKT_OK || rc == RADIUS_PKT_E_ATTR);
            boundaries += rc == RADIUS_PKT_OK;
        }
        free(q);
    }
    CHECK_INT(boundaries, 17); /* after 0..16 attributes */
}

typedef struct vsa_case {
    const char *name;
    const char *hex;  /* the value of attribute 26 */
    const char *want; /* "vendor.type=hexvalue;..." or "raw" */
} vsa_case;

static const vsa_case vsa_cases[] = {
    {"Cisco-AVPair", "000000090107613d623d63", "9.1=613d623d63;"},
    {"two sub-attributes", "0000000901036102046263", "9.1=61;9.2=6263;"},
    {"empty sub-attribute", "000000090102", "9.1=;"},
    {"vendor id only", "00000009", "raw"},
    {"too short for vendor id", "000009", "raw"},
    {"sub-attribute length 0", "000000090100", "raw"},
    {"sub-attribute length 1", "00000009010161", "raw"},
    {"sub-attribute overruns", "000000090109613d623d63", "raw"},
    {"trailing byte", "00000009010361ff", "raw"},
    {"USR format 4,0 kept raw", "000001ad00000001ff", "raw"},
    {"WiMAX format 1,1,c kept raw", "000060b5010400ff", "raw"},
    {"Lucent format 2,1 kept raw", "000012ee00010561", "raw"},
    {"unknown vendor in standard format", "0000270f010341", "9999.1=41;"},
    {"vendor id high octet not zero", "ad6b7ab4dc02", "raw"},
};

static void test_vsa(void) {
    for (size_t i = 0; i < sizeof vsa_cases / sizeof vsa_cases[0]; i++) {
        const vsa_case *c = &vsa_cases[i];
        uint8_t v[300];
        size_t n = unhex(c->hex, v, sizeof v);
        radius_vsa s[RADIUS_VSA_MAX];
        int k = radius_vsa_split(v, n, s);
        char got[512] = "";
        if (k < 0) {
            snprintf(got, sizeof got, "raw");
        } else {
            size_t o = 0;
            for (int j = 0; j < k; j++) {
                o += (size_t)snprintf(got + o, sizeof got - o, "%u.%u=", (unsigned)s[j].vendor,
                                      s[j].type);
                for (size_t b = 0; b < s[j].len; b++)
                    o += (size_t)snprintf(got + o, sizeof got - o, "%02x", s[j].value[b]);
                o += (size_t)snprintf(got + o, sizeof got - o, ";");
            }
        }
        check_current = c->name;
        CHECK_STR(got, c->want);
    }
    check_current = "vsa";
    /* The most sub-attributes a VSA can carry: 124 empty ones plus one byte
     * short of another is raw; 124 fit. */
    uint8_t v[4 + 2 * 124];
    memset(v, 0, sizeof v);
    v[3] = 9;
    for (size_t i = 4; i < sizeof v; i += 2)
        v[i] = 1, v[i + 1] = 2;
    radius_vsa s[RADIUS_VSA_MAX];
    CHECK_INT(radius_vsa_split(v, sizeof v, s), 124);
}

/* Sign then verify, for a packet built here. */
static void test_sign(void) {
    uint8_t p[64];
    size_t n = unhex("0407001e" AUTH0 "28060000000201046162", p, sizeof p);
    radius_pkt_sign_acct(p, n, (const uint8_t *)"x", 1);
    CHECK_INT(radius_pkt_verify_acct(p, n, (const uint8_t *)"x", 1), RADIUS_PKT_OK);
    CHECK_INT(radius_pkt_verify_acct(p, n, (const uint8_t *)"", 0), RADIUS_PKT_E_AUTH);
    CHECK_INT(radius_pkt_verify_acct(p, 5, (const uint8_t *)"x", 1), RADIUS_PKT_E_SHORT);
}

/* Message-Authenticator (RFC 3579 §3.2): an Accounting-Request radclient
 * (FreeRADIUS 3.2, freeradius-utils) sent with "Message-Authenticator =
 * 0x00" in its input, which makes it compute one, secret "s3cret". */
static const char captured_ma_hex[] =
    "04f10041d3d4d3a0f1214a9eb0472546930ef63828060000000101096d612d757365722c066d612d310806c000"
    "0209501282bc3657ecbbac8a5fba9e801025a477";

static void test_message_authenticator(void) {
    const uint8_t *secret = (const uint8_t *)"s3cret";
    uint8_t p[128];
    size_t n = unhex(captured_ma_hex, p, sizeof p);
    CHECK_INT(n, 65);
    radius_pkt pk;
    error err;
    CHECK_INT(radius_pkt_parse(p, n, &pk, &err), RADIUS_PKT_OK);
    CHECK_INT(radius_pkt_verify_acct(p, n, secret, 6), RADIUS_PKT_OK);
    /* A wrong Message-Authenticator under a right Request Authenticator (the
     * packet re-signed after the change): refused, as FreeRADIUS does. */
    p[0x31] ^= 0x01;
    CHECK_INT(radius_pkt_verify_acct(p, n, secret, 6), RADIUS_PKT_E_AUTH);
    radius_pkt_sign_acct(p, n, secret, 6);
    CHECK_INT(radius_pkt_verify_acct(p, n, secret, 6), RADIUS_PKT_E_MSG_AUTH);
    CHECK_STR(radius_pkt_reason(RADIUS_PKT_E_MSG_AUTH), "bad_message_authenticator");
    p[0x31] ^= 0x01;
    radius_pkt_sign_acct(p, n, secret, 6);
    CHECK_INT(radius_pkt_verify_acct(p, n, secret, 6), RADIUS_PKT_OK);
}

static const check_test tests[] = {
    {"message_authenticator", test_message_authenticator},
    {"parse_cases", test_parse_cases},
    {"messages", test_messages},
    {"captured", test_captured},
    {"truncations", test_truncations},
    {"vsa", test_vsa},
    {"sign", test_sign},
    {0},
};

int main(void) {
    return check_main("radius_pkt", tests);
}
