#include "syslog_frame.h"
#include "mem.h"

#include <stdlib.h>
#include <string.h>

enum {
    ST_START, /* at the first byte of a message */
    ST_LEN,   /* reading MSG-LEN digits (kept in msg, in case they are text) */
    ST_OCTET, /* inside an octet-counted message: count bytes to go */
    ST_LINE,  /* inside a non-transparent message */
};

void syslog_frame_init(syslog_frame *f, size_t max_msg) {
    memset(f, 0, sizeof *f);
    f->max_msg = max_msg ? max_msg : 1;
}

void syslog_frame_close(syslog_frame *f) {
    free(f->msg);
    f->msg = NULL;
    f->len = f->cap = 0;
}

/* Appends [P, P + N) as far as max_msg allows; the rest marks the message
 * truncated and is counted as skipped.  The buffer grows on demand, never
 * beyond max_msg + 1 (room for the NUL). */
static void put(syslog_frame *f, const unsigned char *p, size_t n) {
    size_t room = f->max_msg - f->len;
    if (n > room) {
        f->truncated = 1;
        f->stats.skipped_bytes += n - room;
        n = room;
    }
    if (n == 0)
        return;
    if (f->len + n + 1 > f->cap) {
        size_t cap = f->cap ? f->cap : 256;
        while (cap < f->len + n + 1)
            cap *= 2;
        if (cap > f->max_msg + 1)
            cap = f->max_msg + 1;
        f->msg = mem_realloc(f->msg, cap);
        f->cap = cap;
    }
    memcpy(f->msg + f->len, p, n);
    f->len += n;
}

static void putc1(syslog_frame *f, unsigned char c) {
    put(f, &c, 1);
}

/* The digits read as a would-be MSG-LEN turn out to be message text. */
static void digits_to_text(syslog_frame *f) {
    put(f, (const unsigned char *)f->digits, f->ndigits);
    f->ndigits = 0;
    f->state = ST_LINE;
}

static void deliver(syslog_frame *f, int flags, syslog_frame_fn fn, void *arg) {
    if (f->truncated)
        flags |= SYSLOG_FRAME_TRUNCATED;
    if (f->len == 0) {
        /* A blank line, or an octet-counted message whose stream ended
         * before its first byte (MSG-LEN >= 1 and max_msg >= 1 put at least
         * one byte into any other). */
        f->stats.empty++;
    } else {
        f->msg[f->len] = '\0';
        f->stats.messages++;
        if (flags & SYSLOG_FRAME_OCTET_COUNTED)
            f->stats.octet_counted++;
        if (flags & SYSLOG_FRAME_TRUNCATED)
            f->stats.truncated++;
        fn(arg, (const char *)f->msg, f->len, flags);
    }
    f->len = 0;
    f->truncated = 0;
    f->cr = 0;
    f->count = 0;
    f->state = ST_START;
}

/* One byte of a non-transparent message. */
static void line_byte(syslog_frame *f, unsigned char c, syslog_frame_fn fn, void *arg) {
    if (c == '\n' || c == '\0') {
        if (f->cr && c == '\0')
            putc1(f, '\r');
        f->cr = 0; /* CRLF: the CR is part of the trailer */
        deliver(f, 0, fn, arg);
        return;
    }
    if (f->cr) {
        putc1(f, '\r');
        f->cr = 0;
    }
    if (c == '\r')
        f->cr = 1;
    else
        putc1(f, c);
}

void syslog_frame_feed(syslog_frame *f, const void *p, size_t n, syslog_frame_fn fn, void *arg) {
    const unsigned char *s = p, *e = s + n;
    while (s < e) {
        switch (f->state) {
        case ST_START:
            f->state = *s >= '1' && *s <= '9' ? ST_LEN : ST_LINE;
            break;
        case ST_LEN:
            if (*s >= '0' && *s <= '9' && f->ndigits < SYSLOG_FRAME_MAX_DIGITS) {
                f->count = f->count * 10 + (uint64_t)(*s - '0');
                f->digits[f->ndigits++] = (char)*s++;
            } else if (*s == ' ' && f->count > SYSLOG_FRAME_MAX_FRAME) {
                f->count = 0;
                digits_to_text(f); /* a number, not a MSG-LEN; the space is text next */
            } else if (*s == ' ') {
                s++;
                f->ndigits = 0;
                f->state = ST_OCTET;
            } else {
                f->count = 0;
                digits_to_text(f); /* not a MSG-LEN; *s is read as text next */
            }
            break;
        case ST_OCTET: {
            size_t avail = (size_t)(e - s);
            size_t take = (uint64_t)avail < f->count ? avail : (size_t)f->count;
            put(f, s, take);
            s += take;
            f->count -= take;
            if (f->count == 0)
                deliver(f, SYSLOG_FRAME_OCTET_COUNTED, fn, arg);
            break;
        }
        case ST_LINE:
            line_byte(f, *s++, fn, arg);
            break;
        }
    }
}

void syslog_frame_finish(syslog_frame *f, syslog_frame_fn fn, void *arg) {
    if (f->state == ST_LEN)
        digits_to_text(f);
    if (f->cr) {
        putc1(f, '\r');
        f->cr = 0;
    }
    if (f->state == ST_OCTET)
        deliver(f, SYSLOG_FRAME_OCTET_COUNTED | SYSLOG_FRAME_UNTERMINATED, fn, arg);
    else if (f->state == ST_LINE && f->len > 0)
        deliver(f, SYSLOG_FRAME_UNTERMINATED, fn, arg);
    f->len = 0;
    f->truncated = 0;
    f->count = 0;
    f->ndigits = 0;
    f->state = ST_START;
}
