/*
 * radius_pkt: the RADIUS accounting packet codec (RFC 2865 §3 and §5,
 * RFC 2866 §3-4) for spoor-collect: validate an Accounting-Request datagram,
 * walk its attributes, split Vendor-Specific attributes, check the Request
 * Authenticator, and build the Accounting-Response.
 *
 * Ownership: pure (no I/O, no allocation, no globals).  A radius_pkt, its
 * attributes and VSAs point into the caller's datagram, which must outlive
 * them.  Input may hold anything: every length is checked before use.
 *
 * Errors: radius_pkt_parse and radius_pkt_verify_acct return RADIUS_PKT_OK
 * (0) or a stable reason code (RADIUS_PKT_E_*, named by radius_pkt_reason()
 * for quarantine and metrics); radius_pkt_parse also fills the caller's
 * error (lib/error.h): that name as its code and a human message (printable
 * ASCII only: input bytes appear as \xHH).
 *
 * Decisions:
 *  - Length (RFC 2865 §3): 20..4096, and not more than the datagram
 *    ("bad_length": a truncated datagram).  Octets beyond Length are padding
 *    the RFC says to ignore; they are counted in `trailing`, never parsed.
 *  - Codes: only Accounting-Request (4) and Accounting-Response (5) parse;
 *    anything else is "bad_code" (a collector answers nothing else).
 *  - Attributes: Length >= 2 and inside the packet, type not 0, and a
 *    Message-Authenticator exactly 18 bytes long (as FreeRADIUS's
 *    rad_packet_ok, which drops the packet otherwise), else "bad_attribute"
 *    naming the offset.  Length 2 (no value) is accepted here, as FreeRADIUS
 *    does; whether an empty value is meaningful is the renderer's business.
 *  - Vendor-Specific (26): split in the RFC 2865 §5.26 recommended format
 *    (4-byte vendor id with a zero high-order octet, then sub-attributes of 1-byte type and 1-byte
 * length
 *    >= 2 that exactly fill the value).  Vendors known (from the FreeRADIUS
 *    dictionaries' `format=`) to use another layout -- USR 4,0; Lucent,
 *    Alcatel-ESAM and Kineto 2,1; Starent 2,2; WiMAX and Telrad 1,1,c; and
 *    FreeRADIUS's internal DHCP 54 -- are refused like malformed ones, so the
 *    caller keeps the whole attribute as hex rather than mis-splitting it.
 *  - The Request Authenticator of an Accounting-Request is
 *    MD5(Code + Identifier + Length + 16 zero octets + attributes + secret)
 *    (RFC 2866 §3); it is compared in constant time.  A Message-Authenticator
 *    (80), optional in accounting, is checked when present (RFC 3579 §3.2:
 *    HMAC-MD5 under the secret, over the packet with the Request
 *    Authenticator and its own value zeroed), as FreeRADIUS does.
 */
#ifndef SPOOR_RADIUS_PKT_H
#define SPOOR_RADIUS_PKT_H

#include "error.h"

#include <stddef.h>
#include <stdint.h>

#define RADIUS_PKT_HDR 20   /* code, identifier, length, authenticator */
#define RADIUS_PKT_MAX 4096 /* RFC 2865 §3 */
#define RADIUS_AUTH_LEN 16
#define RADIUS_ACCOUNTING_REQUEST 4
#define RADIUS_ACCOUNTING_RESPONSE 5
#define RADIUS_ATTR_VENDOR_SPECIFIC 26
#define RADIUS_ATTR_MESSAGE_AUTHENTICATOR 80
#define RADIUS_VSA_MAX 125 /* (253 - 4) / 2 sub-attributes at most */

typedef enum radius_pkt_err {
    RADIUS_PKT_OK = 0,
    RADIUS_PKT_E_SHORT,    /* "short_packet": datagram shorter than the 20-byte header */
    RADIUS_PKT_E_LENGTH,   /* "bad_length": Length < 20, > 4096, or more than the datagram */
    RADIUS_PKT_E_CODE,     /* "bad_code": not Accounting-Request or -Response */
    RADIUS_PKT_E_ATTR,     /* "bad_attribute": length < 2 or past Length, type 0, bad MA length */
    RADIUS_PKT_E_AUTH,     /* "bad_authenticator": Request Authenticator does not match */
    RADIUS_PKT_E_MSG_AUTH, /* "bad_message_authenticator": Message-Authenticator does not match */
} radius_pkt_err;

typedef struct radius_pkt {
    uint8_t code, id;
    uint16_t length;      /* the Length field: bytes that belong to the packet */
    const uint8_t *auth;  /* the 16-byte authenticator, inside the datagram */
    const uint8_t *attrs; /* the attribute area: length - 20 bytes */
    size_t attrs_len;
    size_t n_attrs;  /* attributes in the area, all well-formed */
    size_t trailing; /* datagram bytes after Length, ignored (RFC 2865 §3) */
} radius_pkt;

/* One attribute as it appears in the packet. */
typedef struct radius_attr {
    uint8_t type;
    const uint8_t *value; /* LEN value bytes (after type and length) */
    size_t len;
    size_t off; /* offset of the type byte from the start of the packet */
} radius_attr;

/* One sub-attribute of a Vendor-Specific attribute. */
typedef struct radius_vsa {
    uint32_t vendor;
    uint8_t type;
    const uint8_t *value;
    size_t len;
} radius_vsa;

/* Stable name of a reason code ("short_packet", "bad_length", ...). */
const char *radius_pkt_reason(radius_pkt_err e);

/* Validates the datagram [P, P + N) and fills *OUT.  Returns RADIUS_PKT_OK,
 * or a reason code with a message in ERR (*OUT then unspecified). */
radius_pkt_err radius_pkt_parse(const uint8_t *p, size_t n, radius_pkt *out, error *err);

/* Walks the attributes of a parsed packet: *POS starts at 0; returns 1 with
 * *A filled and *POS advanced, or 0 after the last one. */
int radius_pkt_next_attr(const radius_pkt *pk, size_t *pos, radius_attr *a);

/* Splits a Vendor-Specific attribute's value into up to RADIUS_VSA_MAX
 * sub-attributes in OUT.  Returns how many (>= 1), or -1 if the value is not
 * in the standard format (see the header comment): keep it raw. */
int radius_vsa_split(const uint8_t *value, size_t len, radius_vsa out[RADIUS_VSA_MAX]);

/* Checks the Request Authenticator of an Accounting-Request datagram [P, P +
 * N) against SECRET.  Only the Length field's bytes count.  Returns
 * RADIUS_PKT_OK, RADIUS_PKT_E_AUTH on a mismatch, or the parse error of a
 * datagram too malformed to check (short, bad length, not code 4). */
radius_pkt_err radius_pkt_verify_acct(const uint8_t *p, size_t n, const uint8_t *secret,
                                      size_t secret_len);

/* Writes the Request Authenticator into P[4..20) of the Accounting-Request
 * [P, P + N), whose Length field must already say N (for clients and tests;
 * the collector only verifies). */
void radius_pkt_sign_acct(uint8_t *p, size_t n, const uint8_t *secret, size_t secret_len);

/* Builds the Accounting-Response to the parsed request REQ: code 5, the same
 * identifier, Length 20, no attributes, and the Response Authenticator
 * MD5(5 + ID + 20 + Request Authenticator + secret) (RFC 2866 §3).
 * Returns the number of bytes written to OUT (RADIUS_PKT_HDR). */
size_t radius_pkt_response(const radius_pkt *req, const uint8_t *secret, size_t secret_len,
                           uint8_t out[RADIUS_PKT_HDR]);

#endif
