/*
 * batch_lease: the lease index's input from a batch: its RADIUS records
 * grouped by session and address (first and last seen, start, stop,
 * interim, cause), passed to spoor.lease_merge_rows as binary arrays
 * (lib/pgarray), so the server never reads the batch back to group it.
 *
 * Ownership: borrows the batch and the connection.  Errors: a pg_class with
 * ERR set (its code the SQLSTATE).
 */
#ifndef SPOOR_BATCH_LEASE_H
#define SPOOR_BATCH_LEASE_H

#include "batch_state.h"
#include "error.h"

#include <libpq-fe.h>
#include <stdint.h>

/* Merges B's sessions into the lease index; TLO: the earliest event time. */
int batch_lease_merge(batch *b, PGconn *conn, int64_t tlo, error *err);

#endif
