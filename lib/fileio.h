/*
 * fileio: reading a whole file into memory, the one way Spoor does it.
 *
 * Only regular files are read: a directory, a FIFO (opened without blocking)
 * or a device is refused rather than read forever.  With FILEIO_NOFOLLOW a
 * symbolic link is refused too (a package must not point out of itself).
 *
 * Ownership: the returned buffer is the caller's (free()), NUL-terminated
 * one byte past *LEN so text can be read as a string.
 * Errors: NULL with the failure in an error (lib/error.h): code "io", message
 * "PATH: why" (errno's text, or "not a regular file").
 */
#ifndef SPOOR_FILEIO_H
#define SPOOR_FILEIO_H

#include "error.h"

#include <stddef.h>

enum { FILEIO_NOFOLLOW = 1 };

char *fileio_read(const char *path, int flags, size_t *len, error *err);

#endif
