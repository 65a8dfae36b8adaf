/*
 * conf: table-driven "key = value" configuration (in the manner of Postfix's
 * main.cf and Redis's config table).
 *
 * A program describes its settings once, as an array of conf_def (name, type,
 * default, bounds, where the value lives in the caller's struct, help).  The
 * file format is one "key = value" per line; '#' starts a comment; blank
 * lines are ignored; values may be quoted with "" to keep spaces.  An unknown
 * key, a value of the wrong type or out of bounds is an error naming the file
 * and line.  Durations take s/m/h/d suffixes (stored as seconds), sizes
 * k/M/G (stored as bytes).
 *
 * Ownership: string values are heap copies owned by the caller's struct and
 * released by conf_free().  All functions return 0 or -1 with the failure in
 * an error (lib/error.h: code "bad_config", or "io" for a file that cannot be
 * read, and the message).
 */
#ifndef SPOOR_CONF_H
#define SPOOR_CONF_H

#include "error.h"

#include <stddef.h>
#include <stdio.h>

typedef enum conf_type { CONF_STR, CONF_INT, CONF_BOOL, CONF_DURATION, CONF_SIZE } conf_type;

typedef struct conf_def {
    const char *name;
    conf_type type;
    const char *def;    /* default, in file syntax */
    long long min, max; /* bounds for numeric types */
    size_t offset;      /* offsetof the field: char * (STR), long long (others), int (BOOL) */
    int secret;         /* 1: value may hold a password: conf_print redacts it */
    const char *help;
} conf_def;

int conf_defaults(const conf_def *defs, void *obj, error *err);
int conf_set(const conf_def *defs, void *obj, const char *name, const char *value,
             const char *where, error *err);
int conf_load_file(const conf_def *defs, void *obj, const char *path, error *err);
/* Applies SPOOR_<NAME> environment variables (dots become underscores, upper case). */
int conf_load_env(const conf_def *defs, void *obj, error *err);
void conf_print(const conf_def *defs, const void *obj, FILE *out);
void conf_free(const conf_def *defs, void *obj);

/* Removes a password from a libpq connection string or URI (for logs and prints). */
void conf_redact_dsn(const char *dsn, char *out, size_t outlen);

#endif
