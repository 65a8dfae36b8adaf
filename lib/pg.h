/*
 * pg: PostgreSQL connections and error classification, written once.
 *
 * pg_connect() honours libpq's defaults and PG* environment variables; the
 * DSN may be empty.  Errors are classified by SQLSTATE, as FreeRADIUS's SQL
 * driver does, into: PG_RETRY (the same transaction may succeed if run again:
 * serialization failure, deadlock, lock timeout), PG_RECONNECT (the
 * connection is gone or the server is going away: reconnect with backoff,
 * then retry), PG_FATAL (a bug, a constraint or a privilege: retrying will not
 * help).  Every PGresult is cleared by the function that obtained it; the
 * helpers below either return a PGresult the caller must PQclear, or clear it
 * themselves and return a code.
 */
#ifndef SPOOR_PG_H
#define SPOOR_PG_H

#include "error.h"

#include <libpq-fe.h>
#include <stddef.h>

typedef enum pg_class { PG_OK = 0, PG_RETRY, PG_RECONNECT, PG_FATAL } pg_class;

/* Returns NULL on failure, E set (code 08001; the message never includes
 * the password). */
PGconn *pg_connect(const char *dsn, const char *application_name, error *e);

pg_class pg_classify(const char *sqlstate);
/* Classifies a failed result (or a NULL result on a broken connection). */
pg_class pg_result_class(PGconn *conn, const PGresult *res);

/* Runs a parameterised command; on failure sets E (see pg_error). */
pg_class pg_exec(PGconn *conn, const char *sql, int nparams, const char *const *params, error *e);
/* Same, returning the result (caller PQclears) or NULL on failure. */
PGresult *pg_query(PGconn *conn, const char *sql, int nparams, const char *const *params,
                   pg_class *cls, error *e);

/* Sets E from a failed result: code = the SQLSTATE from libpq's field (08006
 * when the connection is gone), msg = "SQLSTATE: primary message[: detail]". */
void pg_error(PGconn *conn, const PGresult *res, error *e);

#endif
