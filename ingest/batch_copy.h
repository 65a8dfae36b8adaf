/*
 * batch_copy: a batch's commit statements: its evidence blocks sealed and
 * sent, its rows encoded in COPY text format and streamed as they are
 * formatted (COPY_CHUNK at a time, so PostgreSQL stores the first while
 * the next are built), its source positions checked (fencing) and moved,
 * the MTA hosts recorded, the lease merge called (batch_lease).
 *
 * Ownership: borrows the batch and the connection.  Errors: a pg_class
 * (PG_OK, PG_RETRY, PG_RECONNECT, PG_FATAL), with ERR set: its code the
 * SQLSTATE PostgreSQL reported, or BATCH_FENCE_CODE for a fence (PG_FATAL).
 */
#ifndef SPOOR_BATCH_COPY_H
#define SPOOR_BATCH_COPY_H

#include "batch_state.h"
#include "error.h"

#include <libpq-fe.h>

/* Everything of B inside the caller's open transaction. */
/* The partitions the batch needs, made in a transaction of its own before
 * the batch's (spoor.ingest_prepare): made inside it, their lock on the
 * parent table would hold every lookup for the whole batch.  PG_OK or a
 * pg_class code. */
int batch_copy_prepare(batch *b, PGconn *conn, error *err);
int batch_copy_commit(batch *b, PGconn *conn, error *err);
/* The trained dictionaries, once per process (batch_reload_dicts resets). */
void batch_copy_load_dicts(batch *b, PGconn *conn);
/* A statement without parameters; its class. */
int batch_copy_exec(PGconn *conn, const char *sql, error *err);
/* Statement WHAT failed with R (cleared here): ERR keeps the SQLSTATE. */
int batch_copy_fail(PGconn *conn, PGresult *r, error *err, const char *what);

#endif
