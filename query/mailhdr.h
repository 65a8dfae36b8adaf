/*
 * mailhdr: the headers of a raw message (.eml, or headers only), as an
 * analyst receives them: Message-ID (canonical form, lib/msgid.c), Date,
 * From, Subject and the Received: chain (newest first), each Received: split
 * into its "from", "by", "id" and date parts (RFC 5321 section 4.4, RFC 5322
 * section 3.6.7).  A bounce — an RFC 3464 DSN (multipart/report with a
 * message/rfc822 or text/rfc822-headers part) or a plain "Undeliverable"
 * text quoting the original headers — is recognised, and the original
 * message's headers are parsed too.
 *
 * Ownership: everything is allocated from the caller's arena.  The input
 * need not be NUL-terminated.  Errors: -1 with an error (lib/error.h: code
 * "no_header", and the message) when the input has no header section at
 * all; unparseable fields are left NULL / INT64_MIN.
 */
#ifndef SPOOR_MAILHDR_H
#define SPOOR_MAILHDR_H

#include "arena.h"
#include "error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct mailhdr_received {
    const char *raw;       /* the unfolded value */
    const char *from_helo; /* "from HELO" */
    const char *from_rdns; /* the name inside "( ... [ip])" */
    const char *from_ip;   /* the address inside [ ] (without "IPv6:") */
    const char *by;        /* "by HOST" */
    const char *id;        /* "id QUEUEID" */
    const char *with;      /* "with PROTOCOL" */
    int64_t time;          /* after ';', or INT64_MIN */
} mailhdr_received;

typedef struct mailhdr_msg {
    const char *message_id; /* canonical, NULL if none */
    const char *from, *to, *subject;
    int64_t date; /* Date:, or INT64_MIN */
    mailhdr_received *received;
    size_t n_received;
    int is_bounce;
    struct mailhdr_msg *original; /* a bounce's original message, or NULL */
} mailhdr_msg;

int mailhdr_parse(const char *buf, size_t len, arena *a, mailhdr_msg *out, error *err);

/* RFC 5322 date-time ("Sat, 22 Nov 2026 13:15:02 +0000 (UTC)", obsolete zones too). */
int mailhdr_parse_date(const char *s, int64_t *out);

#endif
