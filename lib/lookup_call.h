/*
 * lookup_call: a gated lookup, or another audited read, in its two steps
 * (sql/functions/lookups.sql).  The first call (spoor.trace_ip,
 * trace_message_id, trace_headers, trace_user; request_export, an auditor's
 * request_show, report) checks the gate, writes the audit entry and returns
 * only a record: {"status": "recorded", "ticket": N, "outcome": ...}; it must
 * commit before spoor.lookup_answer(ticket) gives the answer.  Both run here
 * as separate statements on a connection in autocommit mode (the CLI's,
 * spoor-api's, spoor-package's), so the record commits before the answer is
 * asked for.  No rollback, pipeline or failing statement can then keep an
 * answer whose audit entry is lost.
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

/* A lookup: SQL must return a record; its answer. */
char *lookup_call(PGconn *conn, const char *sql, int n, const char *const *v, error *err);

/* The ticket in a first step's answer (RECORD, JSON text): 0, or -1 with ERR
 * set (code XX000). */
int lookup_call_ticket(const char *record, long long *ticket, error *err);

/* 1 if ANSWER (JSON text) is a record to be answered (an object with an
 * integer "ticket" and an "outcome"), its ticket in *TICKET; else 0. */
int lookup_call_is_record(const char *answer, long long *ticket);

/* FIRST (a one-value result, taken) as the caller should read it: itself,
 * or, if it is a record, the result of spoor.lookup_answer for its ticket
 * (a new statement, so the record has committed).  NULL with ERR set if
 * that fails. */
PGresult *lookup_call_answered(PGconn *conn, PGresult *first, error *err);

#endif
