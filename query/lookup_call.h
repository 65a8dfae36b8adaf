/*
 * lookup_call: a gated lookup in its two steps (sql/functions/lookups.sql).  The
 * first call (spoor.trace_ip, trace_message_id, trace_headers, trace_user)
 * checks the gate, computes and keeps the answer, writes the audit entry and
 * returns only a ticket; it must commit before spoor.lookup_answer(ticket)
 * gives the answer.  Both run here as separate statements on a connection in
 * autocommit mode (the CLI's and spoor-api's), so the record commits before
 * the answer is asked for.
 *
 * Ownership: returns the answer's JSON text (malloc'd; the caller frees), or
 * NULL with ERR set (its code PostgreSQL's SQLSTATE).  CONN and the
 * arguments are borrowed.
 */
#ifndef SPOOR_LOOKUP_CALL_H
#define SPOOR_LOOKUP_CALL_H

#include "error.h"

#include <libpq-fe.h>
#include <stddef.h>

char *lookup_call(PGconn *conn, const char *sql, int n, const char *const *v, error *err);

/* The ticket in a first step's answer (RECORD, JSON text): 0, or -1 with ERR
 * set (code XX000).  spoor-api, whose steps go through spoor.api_call, uses it. */
int lookup_call_ticket(const char *record, long long *ticket, error *err);

#endif
