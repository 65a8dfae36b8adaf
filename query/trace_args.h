/*
 * trace_args: the rules for a lookup's arguments, written once for the CLI
 * (`spoor trace ...`) and spoor-api (POST /v1/trace/...), so both refuse the
 * same things with the same words.
 *
 *   address    an IPv4 or IPv6 address (a single one: scopes are the
 *              request's business, in the database)
 *   instant    RFC 3339 with an offset, or a local time in ZONE; written
 *              back as RFC 3339 UTC
 *   port       0..65535
 *   tolerance  0..3600 seconds, written as "N seconds" (an interval)
 *   message-id canonical form (lib/msgid), at most 998 bytes (RFC 5322's
 *              line limit), not empty once canonical
 *
 * Ownership: outputs go into the caller's buffers; trace_args_msgid returns
 * a malloc'd string the caller frees.  Errors: -1 (NULL) with ERR set, code
 * "bad_argument", its message naming the argument.
 */
#ifndef SPOOR_TRACE_ARGS_H
#define SPOOR_TRACE_ARGS_H

#include "error.h"
#include "timeutil.h"

#include <stddef.h>

#define TRACE_ARGS_MSGID_MAX 998

int trace_args_address(const char *name, const char *s, error *err);
int trace_args_instant(const char *name, const char *s, const char *zone,
                       char out[TIMEUTIL_RFC3339_MAX], error *err);
int trace_args_port(const char *name, long long v, char out[8], error *err);
int trace_args_tolerance(const char *name, long long seconds, char out[32], error *err);
char *trace_args_msgid(const char *name, const char *raw, error *err);

#endif
