/*
 * postfix: recognise one Postfix log record (the syslog tag and message of
 * one line, as split by syslog_parse) and extract what sender tracing needs:
 * who connected and authenticated (smtpd client=), the Message-ID (cleanup),
 * the envelope sender (qmgr from=), each delivery and the queue ID it was
 * handed to next (e.g. "queued as NEWID" after an amavis/content-filter
 * hop), removal, smtpd rejections, and bounce notifications.
 *
 * A tag is Postfix's if it is "postfix" or "postfix/..." (any service name),
 * or any multi-instance syslog_name "a/b/.../X" whose last part X is a
 * Postfix daemon (postfix-out/smtp, postfix/submission/smtpd, ...).  Records
 * are recognised by their text, not by the daemon, because services in
 * master.cf may log under their own names.  Short (hex) and long
 * (enable_long_queue_ids) queue IDs are both accepted.
 *
 * Ownership: every string in postfix_record is a NUL-terminated copy
 * allocated from the caller's arena A (so it lives until arena_reset), or
 * NULL when the field is absent.  Envelope addresses are given without
 * their angle brackets ("" for the null sender <>).  NUL bytes in the input
 * are copied as '?', since PostgreSQL text cannot hold them; other bytes are
 * passed through unchanged (no UTF-8 validation).
 *
 * Results: 0 with out->kind set.  A Postfix line of no interesting shape is
 * POSTFIX_OTHER; a tag that is not Postfix's is POSTFIX_NOT_POSTFIX.  Both
 * are successes.  -1 only for a line of a recognised shape whose contents
 * are broken; err->reason is then one of
 *   "bad_client"   client=/orig_client=/"from NAME[IP]" is not NAME[IP][:PORT]
 *   "bad_address"  an <address> is not terminated
 *   "bad_number"   size= or nrcpt= is not a number
 * with err->pos the byte offset in MSG and err->msg a human explanation.
 */
#ifndef SPOOR_POSTFIX_H
#define SPOOR_POSTFIX_H

#include "error.h"
#include "arena.h"

#include <stddef.h>

typedef enum postfix_kind {
    POSTFIX_NOT_POSTFIX = 0, /* the tag is not a Postfix daemon */
    POSTFIX_OTHER,           /* a Postfix line of no extracted shape */
    POSTFIX_CLIENT,          /* smtpd  QUEUEID: client=NAME[IP][:PORT][, sasl_...] */
    POSTFIX_MESSAGE_ID,      /* cleanup QUEUEID: [resent-]message-id=... */
    POSTFIX_QMGR_FROM,       /* qmgr   QUEUEID: from=<...>, size=N, nrcpt=N (queue active) */
    POSTFIX_DELIVERY,        /* smtp/lmtp/local/...  QUEUEID: to=<...>, ..., status=...;
                                qmgr QUEUEID: from=<...>, status=expired, returned to sender
                                (no recipient: from, status and response set) */
    POSTFIX_REMOVED,         /* qmgr   QUEUEID: removed */
    POSTFIX_REJECT,          /* smtpd  NOQUEUE: reject: RCPT from NAME[IP]: ...; from=<> ... */
    POSTFIX_BOUNCE,          /* bounce QUEUEID: sender non-delivery notification: NEWID */
} postfix_kind;

enum {
    POSTFIX_F_NOQUEUE = 1u << 0,   /* the record said NOQUEUE (queue_id is NULL) */
    POSTFIX_F_RESENT = 1u << 1,    /* resent-message-id= rather than message-id= */
    POSTFIX_F_FORWARDED = 1u << 2, /* next_queue_id from local(8) "forwarded as ID" */
    POSTFIX_F_NEXT_EXIM = 1u << 3, /* next_queue_id is an Exim "id=" in the reply */
    POSTFIX_F_IPV6_TAG = 1u << 4,  /* a client address carried an "IPv6:" prefix (stripped) */
};

typedef struct postfix_record {
    postfix_kind kind;
    unsigned flags;       /* POSTFIX_F_* */
    const char *instance; /* syslog_name less the daemon: "postfix", "postfix-out" */
    const char *daemon;   /* last tag component: "smtpd", "cleanup", ...; NULL if none */
    const char *queue_id; /* NULL for NOQUEUE */

    /* CLIENT and REJECT: the SMTP client ("unknown" name when unresolved) */
    const char *client_name, *client_ip;
    int client_port; /* -1 unless smtpd_client_port_logging */
    /* CLIENT */
    const char *sasl_method, *sasl_username, *sasl_sender;
    const char *orig_queue_id; /* XFORWARD from a content filter: the previous queue ID */
    const char *orig_client_name, *orig_client_ip;
    int orig_client_port;

    /* MESSAGE_ID: as logged, and msgid_normalize()d ("" when empty) */
    const char *message_id, *message_id_norm;

    /* QMGR_FROM and REJECT: envelope sender; QMGR_FROM: size and recipients */
    const char *from;
    long long size;         /* -1 if absent */
    long nrcpt;             /* -1 if absent */
    const char *queue_name; /* "active" from "(queue active)" */

    /* DELIVERY and REJECT: recipient; DELIVERY: the rest */
    const char *to, *orig_to;
    const char *relay;                 /* as logged: "mx.example[192.0.2.1]:25", "local" */
    const char *relay_name, *relay_ip; /* relay split, when it has [IP] */
    int relay_port;                    /* -1 if none */
    const char *delay, *delays, *dsn;  /* dsn also for REJECT ("5.7.1") */
    const char *status;                /* sent, deferred, bounced, expired, ... */
    const char *response;              /* text inside status=... (...) */
    const char *next_queue_id;         /* DELIVERY: "queued as ID"; BOUNCE: the notification's ID */

    /* REJECT */
    const char *action; /* reject, milter-reject, reject_warning, hold, discard, ... */
    const char *stage;  /* CONNECT, HELO, MAIL, RCPT, DATA, END-OF-MESSAGE, ... */
    const char *reply;  /* the reply text, e.g. "554 5.7.1 <x@y>: Relay access denied" */
    int reply_code;     /* 554, or -1 */
    const char *proto, *helo;

    /* BOUNCE: e.g. "sender non-delivery notification" */
    const char *notification;
} postfix_record;

/* Failures are lib/error's: code = one of the reasons above, pos / line
 * where in the input. */

/* TAG/TAGLEN is the syslog tag without "[pid]" (e.g. "postfix/smtpd");
 * MSG/MSGLEN the message after "tag[pid]: ".  Neither need be
 * NUL-terminated.  ERR may be NULL. */
int postfix_parse(const char *tag, size_t taglen, const char *msg, size_t msglen, arena *a,
                  postfix_record *out, error *err);

/* True if S/LEN is a Postfix queue ID: short form (5 hex digits of
 * microseconds + hex inode, upper case) or long form (>= 10 characters of
 * the vowel-free base-52 alphabet, 'z', inode in base 51). */
int postfix_queue_id_valid(const char *s, size_t len);

/* "client", "delivery", ...: a stable name for golden files and metrics. */
const char *postfix_kind_name(postfix_kind k);

#endif
