/*
 * detail_split: finds the records of a FreeRADIUS detail file (blank-line
 * separated, each a ctime header and indented attribute lines) in a buffer,
 * without parsing them.  Shared by the collector, which follows detail files
 * into Kafka, and the ingest side, which splits imported files; parsing a
 * record is ingest/radius_detail's job.
 *
 * Pure: no allocation, no I/O; borrows BUF.  No errors: text that is not a
 * record is handed over as one, for the parser to refuse.
 */
#ifndef SPOOR_DETAIL_SPLIT_H
#define SPOOR_DETAIL_SPLIT_H

#include <stddef.h>

#define DETAIL_SPLIT_MAX_RECORD (64 * 1024) /* a RADIUS packet is <= 4096 bytes */

/* A record found by detail_split_next, relative to the buffer passed in. */
typedef struct detail_split_span {
    size_t off;     /* first byte of the record (its header line) */
    size_t len;     /* record bytes, through the newline of its last line */
    size_t next;    /* bytes the caller may consume (drop) now */
    int terminated; /* 1: ended by a blank line; 0: by the next header or end of input */
} detail_split_span;

/*
 * Finds the first record in BUF.  A record starts at a non-blank line and
 * ends at a blank line, or before the next unindented line (a header written
 * without the separating blank line, e.g. after a writer crashed mid-record:
 * terminated = 0, worth a note in quarantine).
 *
 * Returns 1 with *SP set, or 0 when no complete record is there yet; in both
 * cases the caller drops SP->next bytes and calls again with the rest.
 * AT_EOF = 0 is for following a growing file: a record is complete only once
 * the line after it is seen, and an unfinished line is never judged (but a
 * run of more than DETAIL_SPLIT_MAX_RECORD bytes is returned anyway, so
 * garbage cannot stall the follower).  AT_EOF = 1 (whole file, rotated file)
 * returns the remaining text as a last record, terminated = 0 if it had no
 * blank line after it.
 */
int detail_split_next(const char *buf, size_t len, int at_eof, detail_split_span *sp);

#endif
