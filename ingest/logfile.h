/*
 * logfile: read a log file as bytes, whether plain, gzip or zstd compressed
 * (detected by magic number, not by name), in chunks, and split it into
 * records: lines for syslog and Exim files, blank-line separated records for
 * FreeRADIUS detail files.
 *
 * Ownership: a logfile is heap-allocated (logfile_open / logfile_close) and
 * owns its buffers; a record returned by logfile_next points into them and is
 * valid until the next call.  Errors: NULL / -1 with a message naming the
 * file (and, for corrupt compressed data, the byte offset).
 */
#ifndef SPOOR_LOGFILE_H
#define SPOOR_LOGFILE_H

#include "error.h"
#include <stddef.h>
#include <stdint.h>

typedef struct logfile logfile;

enum { LOGFILE_LINES = 1, LOGFILE_DETAIL = 2 };

logfile *logfile_open(const char *path, int mode, error *err);
/* Returns 1 with a record, 0 at the end, -1 on a read error. */
int logfile_next(logfile *f, const char **rec, size_t *len, error *err);
void logfile_close(logfile *f);

/* SHA-256 (hex, 65 bytes) of the whole decompressed content. */
int logfile_sha256(const char *path, char out[65], error *err);

#endif
