#include "detail_split.h"

#include <string.h>

/* Blank: only spaces, tabs and CRs between S and the newline at E. */
static int blank_line(const char *s, const char *e) {
    for (; s < e; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r')
            return 0;
    return 1;
}

int detail_split_next(const char *buf, size_t len, int at_eof, detail_split_span *sp) {
    memset(sp, 0, sizeof *sp);
    size_t p = 0;
    /* Skip blank lines before the record. */
    for (;;) {
        if (p >= len) {
            sp->next = len;
            return 0;
        }
        const char *nl = memchr(buf + p, '\n', len - p);
        if (!nl) {
            if (!at_eof) {
                /* An unfinished line might still become an indented or a
                 * header line: do not judge it yet. */
                sp->next = p;
                if (len - p > DETAIL_SPLIT_MAX_RECORD)
                    goto oversize;
                return 0;
            }
            if (blank_line(buf + p, buf + len)) {
                sp->next = len;
                return 0;
            }
            sp->off = p;
            sp->len = len - p;
            sp->next = len;
            return 1;
        }
        if (!blank_line(buf + p, nl))
            break;
        p = (size_t)(nl - buf) + 1;
    }
    size_t start = p;
    sp->next = start; /* what may be dropped if the record is incomplete */
    p = (size_t)((const char *)memchr(buf + p, '\n', len - p) - buf) + 1;
    for (;;) {
        if (p >= len) {
            if (!at_eof) {
                if (len - start > DETAIL_SPLIT_MAX_RECORD)
                    goto oversize;
                return 0;
            }
            sp->off = start;
            sp->len = len - start;
            sp->next = len;
            return 1;
        }
        if (buf[p] != ' ' && buf[p] != '\t' && buf[p] != '\r' && buf[p] != '\n') {
            /* The next header, without the blank line in between. */
            sp->off = start;
            sp->len = p - start;
            sp->next = p;
            return 1;
        }
        const char *nl = memchr(buf + p, '\n', len - p);
        if (!nl) {
            if (!at_eof) {
                if (len - start > DETAIL_SPLIT_MAX_RECORD)
                    goto oversize;
                return 0;
            }
            int b = blank_line(buf + p, buf + len);
            sp->off = start;
            sp->len = (b ? p : len) - start;
            sp->next = len;
            sp->terminated = b;
            return 1;
        }
        if (blank_line(buf + p, nl)) {
            sp->off = start;
            sp->len = p - start;
            sp->next = (size_t)(nl - buf) + 1;
            sp->terminated = 1;
            return 1;
        }
        p = (size_t)(nl - buf) + 1;
    }
oversize:
    /* No end in sight after more than a record's worth of bytes: hand it over
     * so the parser refuses it (too_long) and the follower moves on. */
    sp->off = sp->next;
    sp->len = len - sp->next;
    sp->next = len;
    sp->terminated = 0;
    return 1;
}
