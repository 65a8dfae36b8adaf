/*
 * radius_detail: parse FreeRADIUS `detail` accounting records (rlm_detail's
 * text format, one record per Kafka message or many per file) and find the
 * record boundaries in a whole detail file.
 *
 * Ownership: the parser is pure (no I/O, no globals of its own).  Every
 * string and array in a radius_detail_rec is a NUL-terminated copy allocated
 * from the caller's arena and lives as long as that arena; the input buffer
 * may be freed right after the call.  Input is a byte buffer with a length:
 * it need not be NUL-terminated and may hold anything.
 *
 * Errors: radius_detail_parse returns 0, or -1 with a stable machine reason
 * code (RADIUS_DETAIL_E_*, used as the quarantine reason) and a human message
 * in the caller's error.  Running out of memory aborts (see
 * mem.h).  Time zone conversion goes through timeutil, which is not
 * thread-safe; neither is this module.
 *
 * Format (what FreeRADIUS 3.x writes, checked against rlm_detail.c and
 * src/lib/print.c):
 *
 *   Wed Nov 25 12:00:00 2026                <- header "%t": ctime, server's local zone
 *   \tAcct-Status-Type = Start              <- "\tName = value", one per line
 *   \tUser-Name = "a\"b\\c\303\251"         <- strings quoted, \" \\ \n \r \t, \NNN octal
 *   \tEvent-Timestamp = "Nov 25 2026 12:00:00 CET"   <- dates: strftime "%b %e %Y %H:%M:%S %Z"
 *   \tClass = 0x6169                        <- octets as hex (kept verbatim)
 *   \tTunnel-Type:0 = VLAN                  <- tagged attributes keep ":tag" in the name
 *   \tTimestamp = 1795604400                <- added by rlm_detail: unix time received
 *                                          <- blank line ends the record
 *
 * Decisions (why the parser does what it does):
 *
 *  - Event-Timestamp: FreeRADIUS 2.x/3.x print dates as a quoted local-time
 *    string with the zone abbreviation ("Jun  9 2015 00:03:47 CEST", %e pads
 *    the day with a space); 3.2 with `dates_as_integer = yes` prints unix
 *    seconds.  Both are accepted, quoted or bare.  "UTC"/"GMT" and numeric
 *    abbreviations ("+03", "-0330") are exact.  A named abbreviation is taken
 *    in the caller's zone and must be the abbreviation that zone uses at that
 *    instant: this picks the right hour in the autumn DST overlap (CEST vs
 *    CET) and refuses a record whose zone is not the configured one
 *    ("zone_mismatch") instead of storing it hours off.
 *  - The ctime header and Timestamp are the same instant in rlm_detail (both
 *    are the request's receive time), so when both are present the header
 *    must lie within RADIUS_DETAIL_CTIME_TOLERANCE_S of Timestamp in the
 *    caller's zone ("zone_mismatch" otherwise): that catches a wrong zone
 *    setting on the first record.  Timestamp also settles a header in the DST
 *    overlap.  Without Timestamp, an overlap header is settled by
 *    Event-Timestamp + Acct-Delay-Time, else it is "ambiguous_ctime".
 *  - received = Timestamp, else the header.  event (RFC 2869 / RFC 2866) =
 *    Event-Timestamp, else received - Acct-Delay-Time.  Exception: NASes with
 *    an unset clock send Event-Timestamps years off (seen in the wild: a
 *    Huawei BRAS sending "Jan  1 2008 ..." in 2022).  An Event-Timestamp
 *    outside [received - delay - RADIUS_DETAIL_MAX_CLOCK_SKEW_S,
 *    received + RADIUS_DETAIL_MAX_CLOCK_SKEW_S] is kept in event_timestamp
 *    but not used: event falls back to received - delay and
 *    event_timestamp_ignored is set, so tracing queries stay correct.
 *  - "Donestamp" is what FreeRADIUS's detail reader leaves when `track = yes`
 *    overwrites "\tTime" of "\tTimestamp" with "\tDone": it is read as
 *    Timestamp and sets `done`.
 *  - Acct-Status-Type must be Start, Stop, Interim-Update (Alive),
 *    Accounting-On or Accounting-Off, by name (any case) or number 1, 2, 3,
 *    7, 8.  Others (Tunnel-*, Failed) are "bad_status_type"; a record without
 *    it is "no_status_type"; a Packet-Type other than Accounting-Request
 *    (auth/post-auth logs) is "not_accounting".
 *  - Known address attributes are validated with inet_pton (prefixes: IPv6
 *    address "/" 0..128; Framed-Interface-Id: four hex groups as FreeRADIUS
 *    prints it); a bad one is "bad_address" naming the attribute.  Known
 *    numeric attributes must be unsigned 32-bit decimals ("bad_attribute").
 *  - Repeated attributes are all kept in attrs.  A repeated known singleton
 *    with the same value is fine; with a different value it is
 *    "conflicting_attribute", because picking one would be a guess.
 *    Framed-IPv6-Prefix and Delegated-IPv6-Prefix may repeat (RFC 3162,
 *    RFC 4818) and are returned as arrays.
 *  - Attributes are matched by name case-insensitively (as FreeRADIUS's
 *    dictionary does).  Unknown and vendor attributes (Cisco-AVPair,
 *    ERX-..., Attr-26.9.1, Tmp-...) are only kept, never interpreted.
 *  - A record must be well-formed text: raw NUL/control bytes ("bad_byte")
 *    and invalid UTF-8 ("bad_utf8") are refused, since FreeRADIUS escapes
 *    both and their presence means corruption (e.g. the NUL tail of a detail
 *    file after a crash).  So attr.raw and names are always valid UTF-8;
 *    attr.value is the decoded bytes and may hold anything (use value_len).
 *    A decoded NUL in an extracted identity field is "bad_attribute".
 *  - Lines may be indented by tabs or spaces, end in CRLF, and carry any of
 *    FreeRADIUS's operators (=, :=, += ...; 3.x always writes "=").
 *    Single-quoted values (early 3.0) are accepted.  Unknown backslash
 *    escapes are kept literally rather than guessed at.
 */
#ifndef SPOOR_RADIUS_DETAIL_H
#define SPOOR_RADIUS_DETAIL_H

#include "error.h"
#include "arena.h"
#include "detail_split.h"

#include <stddef.h>
#include <stdint.h>

#define RADIUS_DETAIL_ABSENT INT64_MIN /* optional number not present */
#define RADIUS_DETAIL_MAX_RECORD DETAIL_SPLIT_MAX_RECORD
#define RADIUS_DETAIL_CTIME_TOLERANCE_S 300 /* header vs Timestamp; zones differ by >= 15 min */
#define RADIUS_DETAIL_MAX_CLOCK_SKEW_S (7 * 86400) /* beyond this Event-Timestamp is ignored */
#define RADIUS_DETAIL_REASON_MAX 32
#define RADIUS_DETAIL_MSG_MAX 256

/* Reason codes (error.code). */
#define RADIUS_DETAIL_E_EMPTY "empty"         /* no non-blank line */
#define RADIUS_DETAIL_E_TOO_LONG "too_long"   /* > RADIUS_DETAIL_MAX_RECORD */
#define RADIUS_DETAIL_E_BAD_BYTE "bad_byte"   /* raw NUL/control/DEL byte */
#define RADIUS_DETAIL_E_BAD_UTF8 "bad_utf8"   /* raw invalid UTF-8 */
#define RADIUS_DETAIL_E_NO_CTIME "no_ctime"   /* first line is not a ctime date */
#define RADIUS_DETAIL_E_BAD_CTIME "bad_ctime" /* impossible date, or in a DST gap */
#define RADIUS_DETAIL_E_AMBIGUOUS_CTIME "ambiguous_ctime"
#define RADIUS_DETAIL_E_BAD_ZONE "bad_zone"           /* caller's zone unknown */
#define RADIUS_DETAIL_E_ZONE_MISMATCH "zone_mismatch" /* record's times disagree with zone */
#define RADIUS_DETAIL_E_BAD_LINE "bad_line"           /* not "\tName op value" */
#define RADIUS_DETAIL_E_BAD_STRING "bad_string"       /* bad quoting or escape */
#define RADIUS_DETAIL_E_TRAILING "trailing_data"      /* text after the ending blank line */
#define RADIUS_DETAIL_E_BAD_ATTRIBUTE "bad_attribute" /* malformed known value */
#define RADIUS_DETAIL_E_BAD_ADDRESS "bad_address"     /* bad IP address/prefix/ifid */
#define RADIUS_DETAIL_E_CONFLICT "conflicting_attribute"
#define RADIUS_DETAIL_E_NO_STATUS "no_status_type"
#define RADIUS_DETAIL_E_BAD_STATUS "bad_status_type"
#define RADIUS_DETAIL_E_NOT_ACCOUNTING "not_accounting"

/* Failures are lib/error's: code = one of the reasons above, pos / line
 * where in the input. */

typedef enum radius_detail_status {
    RADIUS_DETAIL_START = 1,
    RADIUS_DETAIL_STOP = 2,
    RADIUS_DETAIL_INTERIM = 3, /* Interim-Update, alias Alive */
    RADIUS_DETAIL_ACCT_ON = 7,
    RADIUS_DETAIL_ACCT_OFF = 8,
} radius_detail_status;

typedef enum radius_detail_event_source {
    RADIUS_DETAIL_EVENT_FROM_EVENT_TIMESTAMP, /* Event-Timestamp */
    RADIUS_DETAIL_EVENT_FROM_TIMESTAMP,       /* Timestamp - Acct-Delay-Time */
    RADIUS_DETAIL_EVENT_FROM_CTIME,           /* header - Acct-Delay-Time */
} radius_detail_event_source;

/* One "Name op value" line, in record order. */
typedef struct radius_detail_attr {
    const char *name;  /* as written, with any ":tag" */
    const char *op;    /* "=" from FreeRADIUS 3.x */
    const char *raw;   /* value text as written: quotes and escapes kept */
    const char *value; /* decoded: quotes removed, escapes resolved (hex 0x.. kept as text) */
    size_t value_len;  /* bytes in value; value may contain NUL */
    int quoted;        /* 0 bare, '"' or '\'' */
    int line;          /* 1-based line within the record */
} radius_detail_attr;

typedef struct radius_detail_rec {
    const char *header; /* the ctime line as written */
    radius_detail_status status;
    const char *status_text; /* Acct-Status-Type as written, e.g. "Alive" or "3" */

    /* Strings: NULL when absent.  Addresses are validated, kept as written. */
    const char *acct_session_id;
    const char *acct_unique_session_id;
    const char *acct_multi_session_id;
    const char *user_name;
    const char *framed_ip_address;
    const char *framed_ipv6_address; /* RFC 6911; DHCPv6 IA_NA addresses */
    const char *framed_interface_id;
    const char **framed_ipv6_prefix; /* every Framed-IPv6-Prefix, in order */
    size_t n_framed_ipv6_prefix;
    const char **delegated_ipv6_prefix; /* every Delegated-IPv6-Prefix, in order */
    size_t n_delegated_ipv6_prefix;
    const char *calling_station_id;
    const char *called_station_id;
    const char *nas_ip_address;
    const char *nas_ipv6_address;
    const char *nas_identifier;
    const char *nas_port_id;
    const char *nas_port_type;   /* text, e.g. "Ethernet" or "40" */
    const char *terminate_cause; /* text, e.g. "User-Request", "Lost-Carrier", "1" */
    const char *packet_src_ip_address;
    const char *packet_src_ipv6_address;
    const char *client_ip_address;

    /* Numbers: RADIUS_DETAIL_ABSENT when absent. */
    int64_t nas_port;
    int64_t session_time;                      /* Acct-Session-Time, seconds */
    int64_t delay_time;                        /* Acct-Delay-Time, seconds */
    int64_t input_octets, output_octets;       /* Acct-Input/Output-Octets */
    int64_t input_gigawords, output_gigawords; /* Acct-Input/Output-Gigawords */
    int64_t input_bytes, output_bytes; /* gigawords * 2^32 + octets; ABSENT if unrepresentable */

    /* Instants in microseconds since the epoch (timeutil.h). */
    int64_t header_time;     /* the ctime header, resolved in the zone */
    int64_t timestamp;       /* Timestamp/Donestamp, or ABSENT */
    int64_t event_timestamp; /* Event-Timestamp as sent, or ABSENT */
    int64_t received;        /* Timestamp, else header_time */
    int64_t event;           /* when it happened; see event_source */
    radius_detail_event_source event_source;
    int event_timestamp_ignored; /* Event-Timestamp present but beyond the skew bound */
    int done;                    /* "Donestamp" seen: a tracked reader already sent it */

    radius_detail_attr *attrs; /* every attribute line, in order */
    size_t n_attrs;
} radius_detail_rec;

/*
 * Parses one record: optional leading blank lines, the ctime header, the
 * attribute lines, then optionally blank lines only.  ZONE is the RADIUS
 * server's IANA zone ("Europe/Berlin", "UTC").  On success fills *OUT and
 * returns 0; on failure returns -1 with *ERR filled and *OUT unspecified.
 */
int radius_detail_parse(const char *buf, size_t len, const char *zone, arena *a,
                        radius_detail_rec *out, error *err);

/* "Start", "Stop", "Interim-Update", "Accounting-On", "Accounting-Off". */
const char *radius_detail_status_name(radius_detail_status s);

#endif
