/*
 * ops: the one table of what a person can ask Spoor to do — each operation's
 * name (spoor.api_op's, sql/016), the SQL call the CLI makes, and its
 * arguments with their types.  The CLI (`spoor ...`) and spoor-api (the
 * route table) both check a call's arguments here, so the rule for an
 * argument (what a request id, an instant, a port or a Message-ID must look
 * like) exists once, and both refuse the same things with the same words.
 * The rules that decide whether the person may do it stay in PostgreSQL.
 *
 * Arguments come as a JSON object (the API's body; the CLI builds one from
 * its options).  Each is named as JSON names it; an argument may also have
 * the CLI's option name ("--at"), which messages use when the CLI calls.
 *
 * Ownership: an ops_call owns its checked arguments and parameter texts
 * until ops_call_close; ARGS is borrowed.  Errors: -1 with ERR set, code
 * "bad_argument" (the message names the argument) or "no_operation".
 */
#ifndef SPOOR_OPS_H
#define SPOOR_OPS_H

#include "error.h"

#include <jansson.h>

#define OPS_MAX_ARGS 12

typedef enum ops_type {
    OPS_ID = 1,    /* a positive whole number (request, hold, change, token) */
    OPS_INT,       /* a whole number from lo to hi */
    OPS_TEXT,      /* text of at most hi bytes (0: 8192) */
    OPS_BOOL,      /* true or false */
    OPS_INSTANT,   /* RFC 3339, or a local time in the call's zone; kept as RFC 3339 UTC */
    OPS_ADDRESS,   /* one IPv4 or IPv6 address */
    OPS_PORT,      /* 0..65535 */
    OPS_TOLERANCE, /* seconds 0..3600; kept as "N seconds" */
    OPS_MSGID,     /* a Message-ID; kept in canonical form (lib/msgid) */
    OPS_JSON,      /* a JSON object or array, checked by the SQL function */
} ops_type;

enum { OPS_REQUIRED = 1 };

typedef struct ops_arg {
    const char *name; /* the JSON member */
    const char *flag; /* the CLI's option, or NULL (a positional argument: NAME) */
    ops_type type;
    int flags;
    long long lo, hi;
} ops_arg;

typedef struct ops_op {
    const char *name; /* spoor.api_op's name */
    const char *sql;  /* the CLI's call: $1.. in the order of ARGS */
    /* A bool argument that, when false (a rejection), makes "note" required;
     * or NULL. */
    const char *note_unless;
    int n_args;
    ops_arg args[OPS_MAX_ARGS];
} ops_op;

/* The operation NAME, or NULL. */
const ops_op *ops_find(const char *name);
/* Every operation, for tests: *N of them. */
const ops_op *ops_all(int *n);

/* Who is calling: messages name the CLI's options or the JSON members. */
typedef enum ops_caller { OPS_CLI, OPS_API } ops_caller;

typedef struct ops_call {
    const ops_op *op;
    json_t *checked;             /* the arguments in their kept forms */
    const char *v[OPS_MAX_ARGS]; /* the SQL call's parameters (text, or NULL) */
    char *own[OPS_MAX_ARGS];     /* texts made here for V */
} ops_call;

/* Checks ARGS for operation NAME: every argument against its type, the
 * required ones present; ZONE (or NULL) is the zone of local times.  Members
 * ARGS has that the operation does not know are refused. */
int ops_call_init(ops_call *k, const char *name, json_t *args, ops_caller who, const char *zone,
                  error *err);
void ops_call_close(ops_call *k);

/* Fills in what the caller may leave out: a lookup's tolerance, TOLERANCE
 * seconds (the configuration's), where operation NAME has one. */
void ops_defaults(const char *name, json_t *args, long long tolerance);

/* trace.headers: the person's arguments (PERSON: request_id, tolerance)
 * with the message's own (its Message-ID, its hops as JSON text), checked
 * into K.  Both callers run headers_check, which calls this per lookup. */
int ops_headers_call(ops_call *k, json_t *person, const char *message_id, const char *hops,
                     ops_caller who, error *err);

#endif
