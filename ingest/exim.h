/*
 * exim: parse one Exim 4 main-log line, either bare as in the mainlog file
 *   "2026-11-22 13:15:02[.123][ +0100][ [pid]] 1tEXYZ-000ABC-1A <= ..."
 * (milliseconds with log_selector +millisec, offset with log_timezone,
 * [pid] with +pid) or as the message part of a syslog line, which has no
 * timestamp of its own ("[pid] 1tEXYZ-000ABC-1A => ...").
 *
 * Extracted: the message ID (old 6-6-2 and 4.97+ 6-11-4 base-62 forms);
 * arrivals "<=" with sender, H=name (helo) [ip]:port, I=[ip]:port, U=, P=,
 * X=, A=authenticator:id[:sender], S=, id= (the Message-ID, also given
 * msgid_normalize()d), T="subject" (escapes decoded), R= and "for rcpts";
 * deliveries "=>", "->", "*>", "**", "==" with recipient, (parent), <original
 * recipient>, F=, P=, R=, T=, H=, X=, A=, C="confirmation" and, on failures
 * and deferrals, the error text, and the next hop's queue ID taken from
 * C= ("250 2.0.0 Ok: queued as 4F3A2B1C0D", "250 OK id=1tEXYZ-000ABC-1A");
 * "Completed"; cutthrough deliveries ">>" are deliveries flagged
 * EXIM_F_CUTTHROUGH.  Every other line is EXIM_OTHER (a success), with its
 * time, pid and message ID if present.
 *
 * Exim cuts a line longer than 870 bytes that it sends to syslog into parts
 * "[1/3] ...", "[2/3] ...", and a line with newlines at them ("[1\2]").  The
 * first part is parsed as far as it goes (a field cut at its end is not an
 * error) and flagged EXIM_F_SPLIT; the later parts are EXIM_OTHER flagged
 * EXIM_F_SPLIT (their text is evidence only).
 *
 * Ownership: strings in exim_record are NUL-terminated copies allocated from
 * the caller's arena, or NULL when absent.  NUL bytes in the input become
 * '?'; other bytes pass through (no UTF-8 validation).  Quoted values are
 * unquoted: T= fully (\" \\ \n \t \ooo ...), C= one level (\" and \\ only,
 * because Exim applies its printable-escaping before quoting C=).
 *
 * Time: a timestamp with an offset is exact.  Without one it is wall-clock
 * time in ctx->zone, converted with timeutil_local_to_utc; an ambiguous
 * (fall-back) time takes the candidate nearest ctx->ref_us (the earlier one
 * without a reference) and sets EXIM_F_AMBIGUOUS, a non-existent one takes
 * the earlier candidate and sets EXIM_F_NONEXISTENT.  A line without a
 * timestamp (the syslog form) is not an error: EXIM_F_TIME stays clear and
 * the caller uses the syslog time.
 *
 * Errors: exim_parse returns 0, or -1 with err->reason one of
 *   "empty"          nothing on the line
 *   "bad_timestamp"  a timestamp with an impossible date or time or offset
 *   "bad_zone"       ctx->zone cannot be used
 *   "truncated"      an arrival/delivery line cut short (no sender or
 *                    recipient, unterminated "quote" or <address>)
 *   "bad_host"       H= or I= is not of the logged form
 * plus err->pos (byte offset in the line) and err->msg.
 */
#ifndef SPOOR_EXIM_H
#define SPOOR_EXIM_H

#include "error.h"
#include "arena.h"

#include <stddef.h>
#include <stdint.h>

typedef enum exim_kind {
    EXIM_OTHER = 0,
    EXIM_ARRIVAL,    /* <=  message arrival ("(=" fake-reject too, flagged) */
    EXIM_DELIVERY,   /* =>  normal delivery */
    EXIM_ADDITIONAL, /* ->  additional address in the same delivery */
    EXIM_SUPPRESSED, /* *>  delivery suppressed by -N */
    EXIM_BOUNCE,     /* **  delivery failed, address bounced */
    EXIM_DEFER,      /* ==  delivery deferred */
    EXIM_COMPLETED,  /* Completed */
} exim_kind;

typedef struct exim_ctx {
    const char *zone; /* IANA zone of timestamps without an offset; NULL: "UTC" */
    int64_t ref_us;   /* reference instant (Kafka timestamp) for ambiguous times; 0: none */
} exim_ctx;

enum {
    EXIM_F_TIME = 1u << 0,        /* the line had a timestamp: time_us is set */
    EXIM_F_OFFSET = 1u << 1,      /* ... with its own UTC offset (log_timezone) */
    EXIM_F_LOCAL_TIME = 1u << 2,  /* ... converted from wall-clock time in ctx->zone */
    EXIM_F_AMBIGUOUS = 1u << 3,   /* fall-back overlap resolved */
    EXIM_F_NONEXISTENT = 1u << 4, /* spring-forward gap: earlier candidate */
    EXIM_F_NEW_ID = 1u << 5,      /* message ID in the 4.97+ 6-11-4 form */
    EXIM_F_FAKE_REJECT = 1u << 6, /* "(=": accepted, but the client was told it failed */
    EXIM_F_CUTTHROUGH = 1u << 7,  /* ">>": a cutthrough delivery (logged before "<=") */
    EXIM_F_SPLIT = 1u << 8,       /* part of a syslog line Exim split: "[1/2] ..." */
};

typedef struct exim_record {
    exim_kind kind;
    unsigned flags;  /* EXIM_F_* */
    int64_t time_us; /* µs UTC, valid with EXIM_F_TIME */
    long pid;        /* [pid], or -1 */
    const char *id;  /* Exim message ID, NULL if the line has none */

    const char *sender;    /* arrival: envelope sender ("" for <>); delivery: F=<...> */
    const char *bounce_of; /* arrival R=: ID of the message this bounce is about */

    /* H=: arrival: the client; delivery: the server used */
    const char *host_name, *helo, *host_ip;
    int host_port;        /* -1 unless +incoming_port / +outgoing_port */
    const char *iface_ip; /* I=[ip]:port (+incoming_interface) */
    int iface_port;
    const char *ident;                             /* U= (local user or RFC 1413 identity) */
    const char *proto;                             /* P= on arrivals: smtp, esmtpsa, local, ... */
    const char *tls;                               /* X= cipher suite */
    const char *auth_name, *auth_id, *auth_sender; /* A=name[:id[:sender]] */
    long long size;                                /* S=, or -1 */
    const char *message_id, *message_id_norm;      /* id= */
    const char *subject;                           /* T= on arrivals, unescaped */
    const char *recipients;                        /* arrival "for a@b c@d" */

    const char *rcpt;         /* delivery: the address delivered to */
    const char *parent;       /* "(intermediate parent)" */
    const char *orig_rcpt;    /* "<original recipient>" */
    const char *router;       /* R= */
    const char *transport;    /* T= on deliveries */
    const char *return_path;  /* P=<...> on deliveries */
    const char *confirmation; /* C= */
    const char *next_id;      /* the next hop's queue ID from C=: Postfix "queued as ID"
                                 or Exim "id=ID" -- ties this hop to the next one */
    const char *error;        /* ** and ==: the text after ": " (or "defer (...)...") */
} exim_record;

/* Failures are lib/error's: code = one of the reasons above, pos / line
 * where in the input. */

/* Parses LINE (LEN bytes, need not be NUL-terminated).  CTX and ERR may be
 * NULL. */
int exim_parse(const char *line, size_t len, const exim_ctx *ctx, arena *a, exim_record *out,
               error *err);

/* True if S/LEN is an Exim message ID (6-6-2 or 6-11-4, base 62). */
int exim_id_valid(const char *s, size_t len);

/* "arrival", "delivery", ...: a stable name for golden files and metrics. */
const char *exim_kind_name(exim_kind k);

#endif
