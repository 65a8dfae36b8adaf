/*
 * syslog_frame: RFC 6587 framing of syslog over TCP, as an incremental
 * decoder for spoor-collect: feed the bytes of one connection in whatever
 * chunks recv() returns, get back whole messages (each then goes to
 * syslog_parse, one line at a time).
 *
 * Framing is detected per message, as rsyslog does:
 *  - Octet counting (RFC 6587 §3.4.1): "MSG-LEN SP SYSLOG-MSG", MSG-LEN a
 *    decimal of 1..SYSLOG_FRAME_MAX_DIGITS digits without a leading zero.
 *    The message may contain any byte, LF and NUL included.
 *  - Non-transparent (§3.4.2): anything else, ended by LF (a CR right
 *    before the LF is dropped: CRLF senders) or by NUL (rsyslog accepts it
 *    as a trailer too).  Empty messages (blank lines, the LF some senders put
 *    after an octet-counted frame) are skipped and counted.
 *  A message that starts with digits not followed by a space ("2026-11-21T..."
 *  without a PRI, "05 ..." with a leading zero, eleven digits) is
 *  non-transparent; the digits are part of it, and so are they when
 *  followed by a space but larger than SYSLOG_FRAME_MAX_FRAME.  A PRI-less
 *  message that happens to start with "NNN " (NNN at most that) is taken as
 *  octet-counted: RFC 6587 framing is ambiguous there, and rsyslog decides
 *  the same way.
 *
 * Oversize policy: memory per decoder is bounded by max_msg.  A message
 * longer than max_msg (octet-counted with MSG-LEN > max_msg, or a line with
 * no trailer within max_msg bytes) is delivered with its first max_msg bytes
 * and SYSLOG_FRAME_TRUNCATED set, so the caller can quarantine it as
 * "too_long" with what evidence there is; its remaining bytes are skipped up
 * to the frame's end (MSG-LEN, or the next trailer) and counted in
 * stats.skipped_bytes.  Nothing is dropped silently.
 *
 * Ownership: a syslog_frame is embedded in its owner (init/close) and owns
 * one buffer of at most max_msg + 1 bytes.  The message handed to the
 * callback lives until the callback returns; it is NUL-terminated for
 * convenience but may contain NULs (use len).  Allocation failure aborts
 * (mem.h); no function here fails otherwise: any input is a stream of
 * messages.  Not thread-safe per decoder; decoders are independent.
 */
#ifndef SPOOR_SYSLOG_FRAME_H
#define SPOOR_SYSLOG_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define SYSLOG_FRAME_MAX_DIGITS 9 /* MSG-LEN < 1e9: longer digit runs are text */
/* A larger MSG-LEN is text, as in rsyslog's imtcp (MaxFrameSize, default
 * 200000): "20231121 10:00:01 link up" from a PRI-less LF sender must not
 * swallow the next 20 MB of the stream as one frame. */
#define SYSLOG_FRAME_MAX_FRAME 200000

/* Flags of a delivered message. */
#define SYSLOG_FRAME_OCTET_COUNTED 1 /* framed "LEN SP MSG"; else non-transparent */
#define SYSLOG_FRAME_TRUNCATED 2     /* bytes past the first max_msg were skipped */
#define SYSLOG_FRAME_UNTERMINATED 4  /* the stream ended inside it (syslog_frame_finish) */

typedef struct syslog_frame_stats {
    uint64_t messages;      /* delivered */
    uint64_t octet_counted; /* of which octet-counted */
    uint64_t truncated;     /* of which cut to max_msg */
    uint64_t skipped_bytes; /* bytes of oversize messages not delivered */
    uint64_t empty;         /* empty non-transparent messages skipped */
} syslog_frame_stats;

typedef struct syslog_frame {
    size_t max_msg;
    unsigned char *msg; /* the message being assembled */
    size_t len, cap;
    int state;
    char digits[SYSLOG_FRAME_MAX_DIGITS]; /* MSG-LEN as read so far */
    size_t ndigits;
    uint64_t count; /* octet counting: MSG-LEN, then bytes still to come */
    int cr;         /* non-transparent: a CR held back (dropped if LF follows) */
    int truncated;  /* the current message overflowed max_msg */
    syslog_frame_stats stats;
} syslog_frame;

/* Called once per message; MSG has LEN bytes (NUL-terminated beyond them). */
typedef void (*syslog_frame_fn)(void *arg, const char *msg, size_t len, int flags);

/* MAX_MSG: the longest message delivered whole (>= 1; e.g. ingest.max_line). */
void syslog_frame_init(syslog_frame *f, size_t max_msg);
void syslog_frame_close(syslog_frame *f);

/* Decodes [P, P + N), calling FN for every message completed by these bytes. */
void syslog_frame_feed(syslog_frame *f, const void *p, size_t n, syslog_frame_fn fn, void *arg);

/* The connection ended: a message in progress (not an empty one) is
 * delivered with SYSLOG_FRAME_UNTERMINATED, and the decoder is ready for a
 * new stream (stats are kept). */
void syslog_frame_finish(syslog_frame *f, syslog_frame_fn fn, void *arg);

#endif
