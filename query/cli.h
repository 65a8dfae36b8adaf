/*
 * cli: what every `spoor` subcommand shares — the effective configuration,
 * the output mode, and a database connection made as the person running the
 * command (libpq defaults, PG* variables, or the configured DSN).  `spoor`
 * has no power of its own: whatever it does, the person's PostgreSQL role
 * does.
 *
 * Errors: cli_error() prints "spoor COMMAND: message" to stderr; commands
 * return their exit status (0 ok, 1 failure, 2 usage).  With --json, only JSON
 * goes to stdout.
 */
#ifndef SPOOR_CLI_H
#define SPOOR_CLI_H

#include "config.h"
#include "ops.h"

#include <jansson.h>
#include <libpq-fe.h>

typedef struct cli {
    spoor_config cfg;
    const char *command;     /* the subcommand, for messages */
    const char *argv0;       /* path of the spoor executable */
    const char *config_path; /* --config, or NULL */
    int json;
} cli;

typedef struct cli_command {
    const char *name;
    int (*run)(cli *c, int argc, char **argv);
    const char *summary;
} cli_command;

void cli_error(const cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Connects as the person; prints the error and returns NULL on failure. */
PGconn *cli_connect(cli *c);
/* True if ARG is -h or --help. */
int cli_is_help(const char *arg);
/* Runs SQL (one row, one jsonb column holding {"status": ...}) with N text
 * parameters.  Returns the parsed answer (caller json_decref's) when its
 * status is "ok" or "pending" (see cli_pending); else prints the error or
 * "refused: REASON" and returns NULL.  A NULL answer is reported as MISSING. */
json_t *cli_call(cli *c, PGconn *conn, const char *sql, int n, const char *const *v,
                 const char *missing);
/* True if J is a change recorded for a second admin ({"status": "pending"},
 * sql/015): then it has said so ("change N recorded: REASON", or J itself
 * with --json) and the caller prints nothing more. */
int cli_pending(const cli *c, const json_t *j);
/* Checks ARGS (borrowed) for operation OP (query/ops: the rules the API
 * uses too) into K, local times in ZONE (or NULL): 0, or 2 (the usage exit
 * status) after printing why.  The caller runs K->op->sql with K->v and
 * closes K (ops_call_close). */
int cli_op_check(cli *c, ops_call *k, const char *op, json_t *args, const char *zone);
/* cli_op_check, then the operation's SQL call: its result (the caller
 * clears it), or NULL with *RC the exit status (2 a bad argument, 1 a
 * failure, printed).  ARGS is taken. */
PGresult *cli_op_query(cli *c, PGconn *conn, const char *op, json_t *args, const char *zone,
                       int *rc);
/* cli_op_check, then cli_call with the operation's SQL call: the answer,
 * or NULL with *RC the exit status (2 a bad argument, 1 a failure or a
 * refusal, printed).  ARGS is taken. */
json_t *cli_op_call(cli *c, PGconn *conn, const char *op, json_t *args, int *rc);
/* Prints J as one line of compact JSON. */
void cli_print_json(const json_t *j);
/* Prints the rows of SQL (a set of jsonb): a JSON array with --json, else
 * HEADER and ROW for each.  0, or 1 after printing the error. */
int cli_rows(cli *c, PGconn *conn, const char *sql, const char *header, void (*row)(json_t *j));
/* The path of PROGRAM in the folder of this executable, if it is there and
 * executable (0), else -1. */
int cli_program_path(const char *program, char *path, size_t n);
/* Replaces this process with spoor-PROGRAM from the folder of this
 * executable, handing on the configuration file and DSN (through the
 * environment, never argv).  Returns only on failure. */
int cli_exec(cli *c, const char *program, char **argv);
/* The same, for a subcommand handed on: runs PROGRAM [FIRST] ARGV[1..ARGC). */
int cli_exec_sub(cli *c, const char *program, const char *first, int argc, char **argv);

#endif
