/*
 * trace_cmd: `spoor trace ip|message-id` — the court-ordered lookups.  Each
 * runs one SECURITY DEFINER function that checks the legal request and
 * writes the audit entry in the same transaction as the read; this command
 * parses arguments (times with explicit offsets or an explicit --zone: an
 * ambiguous or non-existent local time is refused naming both candidates)
 * and renders the answer as text, or passes the JSON through with --json.
 * Exit status: 0 answered, 1 refused or failed, 2 usage.
 */
#ifndef SPOOR_TRACE_CMD_H
#define SPOOR_TRACE_CMD_H

#include "cli.h"

int trace_cmd_run(cli *c, int argc, char **argv);

#endif
