/*
 * syslog: parse ONE syslog line, as rsyslog or syslog-ng write it to a file
 * or forward it to Kafka, into its header fields and its message.
 *
 * Accepted shapes (an optional "<PRI>" may precede each):
 *   RFC 3164  "Nov 22 13:15:02 host prog[pid]: msg"  (day may be "Nov  2")
 *   RFC 3164 header with an RFC 3339 timestamp (rsyslog ForwardFormat and
 *             FileFormat): "2026-11-22T13:15:02.123456+01:00 host prog[pid]: msg"
 *   RFC 5424  "<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD...]|- MSG"
 * The host may be missing (a local line whose first word is already the
 * tag), and so may the tag ("host free text"): both are flagged, not errors.
 * A "facility.severity" word between host and tag (busybox syslogd,
 * syslog-ng templates with $FACILITY.$LEVEL) is skipped.
 * rsyslog's "message repeated N times: [ msg]" is unwrapped (repeat = N).
 *
 * Ownership: every string in syslog_record is a syslog_slice, a pointer and
 * a length INTO THE CALLER'S LINE.  Nothing is allocated or copied, so the
 * record lives exactly as long as the line; slices are not NUL-terminated
 * and may hold any byte (NUL, invalid UTF-8).  The parser is pure apart
 * from time-zone conversion (timeutil reads the system tz database).
 *
 * Time: an RFC 3164 timestamp has neither year nor zone.  The caller's
 * syslog_ctx gives a reference instant (the Kafka message timestamp) and
 * the IANA zone of the sending host (a callback by host name, with a default
 * zone).  Of the candidate years around the reference, the one whose instant
 * lies closest to the reference wins, so "Dec 31 23:59:59" read with a
 * reference of Jan 1 00:00:05 lands in the previous year, and the reverse.
 * Wall-clock times are converted with timeutil_local_to_utc: an ambiguous
 * (fall-back) time takes the candidate closest to the reference and sets
 * SYSLOG_F_AMBIGUOUS; a non-existent (spring-forward) time takes the earlier
 * candidate and sets SYSLOG_F_NONEXISTENT.  A line without a usable time is
 * an error: it is never stamped with "now".
 *
 * Errors: syslog_parse returns 0, or -1 with err filled in:
 *   reason  one of "empty", "bad_pri", "no_timestamp", "bad_timestamp",
 *           "bad_zone", "no_reference", "truncated", "bad_sd"
 *   pos     byte offset in the line where the problem was found
 *   msg     a short human explanation (never contains input bytes)
 * The reason strings are static; compare them with strcmp.
 */
#ifndef SPOOR_SYSLOG_H
#define SPOOR_SYSLOG_H

#include "error.h"
#include <stddef.h>
#include <stdint.h>

/* A byte range inside the caller's input line. */
typedef struct syslog_slice {
    const char *p;
    size_t len;
} syslog_slice;

/* Returns the IANA zone for HOST (HOSTLEN bytes, not NUL-terminated), or NULL
 * if unknown.  The returned string must outlive the syslog_record. */
typedef const char *(*syslog_zone_fn)(void *arg, const char *host, size_t hostlen);

typedef struct syslog_ctx {
    int64_t ref_us;               /* reference instant, µs UTC (the Kafka timestamp);
                                     <= 0 means none: RFC 3164 times then fail */
    const char *default_zone;     /* zone for unknown hosts; NULL means "UTC" */
    syslog_zone_fn zone_for_host; /* optional */
    void *zone_arg;               /* passed to zone_for_host */
} syslog_ctx;

enum {
    SYSLOG_F_PRI = 1u << 0,           /* the line began with <PRI> */
    SYSLOG_F_RFC5424 = 1u << 1,       /* RFC 5424 line */
    SYSLOG_F_RFC3339 = 1u << 2,       /* RFC 3164 header with an RFC 3339 timestamp */
    SYSLOG_F_YEAR_INFERRED = 1u << 3, /* RFC 3164 timestamp: year taken from the reference */
    SYSLOG_F_LOCAL_TIME = 1u << 4,    /* wall-clock time converted in `zone` */
    SYSLOG_F_AMBIGUOUS = 1u << 5,     /* fall-back overlap: candidate closest to ref */
    SYSLOG_F_NONEXISTENT = 1u << 6,   /* spring-forward gap: earlier candidate */
    SYSLOG_F_DEFAULT_ZONE = 1u << 7,  /* host unknown to the zone lookup */
    SYSLOG_F_NO_HOST = 1u << 8,       /* no hostname field (or 5424 "-") */
    SYSLOG_F_NO_TAG = 1u << 9,        /* RFC 3164 line without "tag:" */
    SYSLOG_F_BOM = 1u << 10,          /* RFC 5424 MSG began with a UTF-8 BOM (stripped) */
    SYSLOG_F_REPEATED = 1u << 11,     /* "message repeated N times: [ ...]" unwrapped */
    SYSLOG_F_LEVEL_WORD = 1u << 12,   /* a "mail.info" word before the tag was skipped */
};

typedef struct syslog_record {
    int64_t time_us;        /* instant, µs since the epoch, UTC */
    int pri;                /* 0..191, or -1 without <PRI> */
    int facility, severity; /* pri / 8 and pri % 8, or -1 */
    syslog_slice timestamp; /* the timestamp as written */
    syslog_slice host;      /* empty with SYSLOG_F_NO_HOST */
    syslog_slice app;       /* 3164 tag without "[pid]:", e.g. "postfix/smtpd"; 5424 APP-NAME */
    syslog_slice procid;    /* 3164 text inside [...]; 5424 PROCID; empty if none */
    int64_t pid;            /* procid as a number, or -1 */
    syslog_slice msgid;     /* 5424 MSGID; empty otherwise or for "-" */
    syslog_slice sd;        /* 5424 STRUCTURED-DATA, raw "[...][...]"; empty for "-" */
    syslog_slice msg;       /* the message, leading spaces and trailing CR/LF removed */
    long repeat;            /* 1, or N for "message repeated N times" */
    const char *zone;       /* zone used for a wall-clock time, else NULL */
    unsigned flags;         /* SYSLOG_F_* */
} syslog_record;

/* Failures are lib/error's: code = one of the reasons above, pos / line
 * where in the input. */

/* Parses LINE (LEN bytes, need not be NUL-terminated).  CTX may be NULL
 * (then RFC 3164 timestamps fail with "no_reference").  ERR may be NULL. */
int syslog_parse(const char *line, size_t len, const syslog_ctx *ctx, syslog_record *out,
                 error *err);

#endif
