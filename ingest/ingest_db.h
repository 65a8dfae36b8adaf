/*
 * ingest_db: the commit loop spoor-ingest and spoor-import share — commit a
 * batch, and when PostgreSQL is down, restarting or briefly refusing (the
 * RECONNECT and RETRY classes), wait with exponential backoff and try again,
 * for as long as it takes (or until *STOP is set).  A FATAL error or a fenced
 * batch is returned to the caller, never retried blindly.
 *
 * *CONN may be replaced by a new connection (the old one is finished).
 * Returns PG_OK, PG_FATAL (batch_fenced tells a fence), or -1 if *STOP was
 * set while waiting.
 */
#ifndef SPOOR_INGEST_DB_H
#define SPOOR_INGEST_DB_H

#include "batch.h"
#include "pg.h"

#include <signal.h>

int ingest_db_commit(batch *b, PGconn **conn, const char *dsn, const char *app,
                     volatile sig_atomic_t *stop, error *err);

/* Sessions made from now on lower their backend's CPU priority to NICE
 * (spoor.session_yield; 0: leave it), so lookups are scheduled before
 * ingest when the cores are busy.  A database without the function (or a
 * role without the right) is warned about once and used as it is. */
void ingest_db_yield(int nice);

/* Connects, retrying with backoff until it works or *STOP is set. */
PGconn *ingest_db_connect(const char *dsn, const char *app, volatile sig_atomic_t *stop);

#endif
