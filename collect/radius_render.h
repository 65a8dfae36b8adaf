/*
 * radius_render: writes a received Accounting-Request as one FreeRADIUS
 * `detail` record, the text rlm_detail would have written for it, so
 * spoor-collect's output goes through the same parser (radius_detail),
 * storage and evidence as detail files from a FreeRADIUS server.
 *
 * Ownership: pure apart from timeutil's zone switching (not thread-safe, see
 * timeutil.h).  The record is appended to the caller's buf; nothing else is
 * allocated.  Errors: radius_render_detail returns 0, or -1 with an error
 * (lib/error.h: code "bad_code" for a packet that is not an
 * Accounting-Request, timeutil's code for an unknown zone, and the message)
 * and OUT left as it was.  Running out of memory aborts (mem.h).
 *
 * The record (what radius_detail.h documents as the format):
 *
 *   Wed Nov 25 12:00:00 2026                 <- ctime of the receive time in ZONE
 *   \tPacket-Src-IP-Address = 198.51.100.2   <- the datagram's source, if given
 *   \tAcct-Status-Type = Start               <- every attribute, in packet order
 *   ...
 *   \tTimestamp = 1795604400                 <- receive time, unix seconds
 *                                            <- blank line
 *
 * Values are printed as FreeRADIUS 3.2 prints them (checked against radclient
 * -x on the same bytes): strings quoted with \" \\ \n \r \t escaped and bytes
 * that are not printable UTF-8 as \NNN octal (a single trailing NUL dropped,
 * as FreeRADIUS does: NASes pad NAS-Identifier that way); octets as 0x<hex>;
 * IPv4/IPv6 addresses and prefixes in inet_ntop form ("2001:db8::/56");
 * Framed-Interface-Id as four hex groups; integers as their dictionary name
 * (Start, Lost-Carrier, Ethernet) or decimal; tagged attributes as Name:TAG.
 *
 * Nothing is ever dropped:
 *  - An attribute not in radius_dict is "Attr-N = 0x<hex>"; a vendor
 *    sub-attribute "Attr-26.VENDOR.N = 0x<hex>"; a Vendor-Specific attribute
 *    that does not split (radius_vsa_split) "Attr-26 = 0x<hex>" whole; an
 *    extended attribute (RFC 6929, types 241..246) "Attr-241 = 0x<hex>"
 *    whole, as FreeRADIUS does for those its dictionary does not name.
 *  - A known attribute whose length does not fit its type (a 3-byte NAS-Port,
 *    a prefix length above 128) is written as unknown, "Attr-5 = 0x010203",
 *    as FreeRADIUS does, so its bytes are kept verbatim (FreeRADIUS zeroes
 *    the tag byte of a malformed tagged integer first; we do not).
 *  - An empty attribute (length 2), which FreeRADIUS silently discards, is
 *    kept: `Name = ""` for strings, "0x" for octets, else as a malformed one.
 *
 * Known differences from FreeRADIUS (found by rendering random packets with
 * both; each keeps every byte the NAS sent): consecutive "concat" attributes
 * (EAP-Message, PKM-*-Cert) stay one line each instead of being joined;
 * NAS-Filter-Rule is not split at NULs; RFC 6929 extended attributes and
 * TLVs that FreeRADIUS names (Frag-Status, Operator-NAS-Identifier) stay
 * Attr-241 hex; a malformed tagged integer keeps its tag byte.
 *
 * Decisions:
 *  - Dates (Event-Timestamp): FreeRADIUS 3.2.1 writes the quoted local time
 *    with the zone abbreviation ("Nov 25 2026 12:00:00 CET").  With
 *    dates_as_integer they are unix seconds instead, which is exact and needs
 *    no abbreviation lookup; radius_detail reads both.  Spoor-collect should
 *    use integers; the quoted form is for byte-compatibility with FreeRADIUS.
 *  - Packet-Src-IP-Address (or Packet-Src-IPv6-Address; an IPv4-mapped IPv6
 *    source is written as IPv4) is written when the caller gives the source,
 *    like rlm_detail's `log_packet_header` (which would also add the
 *    destination and ports, useless for tracing).  It tells which NAS really
 *    sent the packet, whatever the packet claims.
 *  - Nothing is synthesised: FreeRADIUS's preprocess module adds
 *    NAS-IP-Address and Event-Timestamp when they are missing and acct_unique
 *    adds Acct-Unique-Session-Id; evidence must show only what the NAS sent,
 *    so the source address goes under its own name and radius_detail derives
 *    the event time from Timestamp - Acct-Delay-Time itself.
 *  - Only Accounting-Requests are rendered; the Request Authenticator is the
 *    caller's to check first (radius_pkt_verify_acct).
 */
#ifndef SPOOR_RADIUS_RENDER_H
#define SPOOR_RADIUS_RENDER_H

#include "buf.h"
#include "error.h"
#include "radius_pkt.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct radius_render_opts {
    const char *zone;     /* IANA zone of the ctime header and quoted dates ("UTC") */
    int dates_as_integer; /* 1: Event-Timestamp = 1795604400; 0: quoted local time */
} radius_render_opts;

/*
 * Appends the detail record of Accounting-Request PK, received at RECEIVED
 * (microseconds since the epoch, timeutil.h) from SRC (AF_INET or AF_INET6
 * sockaddr; NULL or another family: no Packet-Src line), to OUT.
 */
int radius_render_detail(const radius_pkt *pk, int64_t received, const struct sockaddr *src,
                         const radius_render_opts *opts, buf *out, error *err);

#endif
