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

PGconn *ingest_db_connect(const char *dsn, const char *app, volatile sig_atomic_t *stop) {
    int ms = 100;
    for (;;) {
        char err[1024];
        PGconn *c = pg_connect(dsn, app, err, sizeof err);
        if (c)
            return c;
        log_warn("%s; retrying in %d ms", err, ms);
        if (stop && *stop)
            return NULL;
        backoff_sleep(&ms);
    }
}

/* The SQLSTATE in a message "what: SQLSTATE: text", or "" if none. */
static void sqlstate_of(const char *err, char out[6]) {
    out[0] = '\0';
    for (const char *p = err; p; p = strstr(p + 1, ": ")) {
        const char *s = p == err ? p : p + 2;
        int ok = 1;
        for (int i = 0; i < 5; i++)
            if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z')))
                ok = 0;
        if (ok && s[5] == ':') {
            memcpy(out, s, 5);
            out[5] = '\0';
            return;
        }
    }
}

int ingest_db_commit(batch *b, PGconn **conn, const char *dsn, const char *app,
                     volatile sig_atomic_t *stop, char *err, size_t errlen) {
    int ms = 100, retries = 0;
    for (;;) {
        if (!*conn) {
            *conn = ingest_db_connect(dsn, app, stop);
            if (!*conn)
                return -1;
        }
        int rc = batch_commit(b, *conn, err, errlen);
        char state[6] = "";
        if (rc == PG_FATAL)
            sqlstate_of(err, state);
        /* Bad content (data exception 22, integrity 23) must not stop the
         * pipeline: record by record.  Anything else (a missing function, a
         * privilege) is a fault of the installation: stop, quarantine nothing. */
        if (rc == PG_FATAL && (!strncmp(state, "22", 2) || !strncmp(state, "23", 2))) {
            log_warn("batch refused (%s); storing its records one by one", err);
            rc = batch_salvage(b, *conn, err, errlen);
        }
        if (rc == PG_OK || rc == PG_FATAL || rc == BATCH_FENCED)
            return rc;
        if (rc == PG_RETRY && ++retries < 10) {
            log_info("transient database error, retrying: %s", err);
            continue;
        }
        /* The connection is gone or the server is going away: start afresh. */
        log_warn("database unavailable (%s); reconnecting in %d ms", err, ms);
        PQfinish(*conn);
        *conn = NULL;
        if (stop && *stop)
            return -1;
        backoff_sleep(&ms);
    }
}
