#include "ingest_db.h"
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static void backoff_sleep(int *ms) {
    struct timespec ts = {*ms / 1000, (long)(*ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    *ms = *ms * 2 > 10000 ? 10000 : *ms * 2;
}

static int yield_nice;

void ingest_db_yield(int nice) {
    yield_nice = nice;
}

/* Lowers C's backend's CPU priority (see ingest_db_yield). */
static void session_yield(PGconn *c) {
    static int warned;
    if (yield_nice <= 0)
        return;
    char v0[16];
    snprintf(v0, sizeof v0, "%d", yield_nice);
    const char *v[] = {v0};
    error err;
    PGresult *r = pg_query(c, "SELECT spoor.session_yield($1)", 1, v, NULL, &err);
    if (r)
        PQclear(r);
    else if (!warned++)
        log_warn("database session keeps its CPU priority: %s", err.msg);
}

PGconn *ingest_db_connect(const char *dsn, const char *app, volatile sig_atomic_t *stop) {
    int ms = 100;
    for (;;) {
        error err;
        PGconn *c = pg_connect(dsn, app, &err);
        if (c) {
            session_yield(c);
            return c;
        }
        log_warn("%s; retrying in %d ms", err.msg, ms);
        if (stop && *stop)
            return NULL;
        backoff_sleep(&ms);
    }
}

int ingest_db_commit(batch *b, PGconn **conn, const char *dsn, const char *app,
                     volatile sig_atomic_t *stop, error *err) {
    int ms = 100, retries = 0;
    for (;;) {
        if (!*conn) {
            *conn = ingest_db_connect(dsn, app, stop);
            if (!*conn)
                return -1;
        }
        int rc = batch_commit(b, *conn, err);
        /* Bad content (data exception 22, integrity 23: the SQLSTATE libpq
         * reported) must not stop the pipeline: record by record.  Anything
         * else (a missing function, a privilege) is a fault of the
         * installation: stop, quarantine nothing. */
        if (rc == PG_FATAL &&
            (error_sqlstate_class(err, "22") || error_sqlstate_class(err, "23"))) {
            log_warn("batch refused (%s); storing its records one by one", err->msg);
            rc = batch_salvage(b, *conn, err);
        }
        if (rc == PG_OK || rc == PG_FATAL)
            return rc;
        if (rc == PG_RETRY && ++retries < 10) {
            log_info("transient database error, retrying: %s", err->msg);
            continue;
        }
        /* The connection is gone or the server is going away: start afresh. */
        log_warn("database unavailable (%s); reconnecting in %d ms", err->msg, ms);
        PQfinish(*conn);
        *conn = NULL;
        if (stop && *stop)
            return -1;
        backoff_sleep(&ms);
    }
}
