#include "pg.h"

#include <stdio.h>
#include <string.h>

/* Trailing newlines and spaces of libpq's messages go. */
static void trim(char *s) {
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
}

PGconn *pg_connect(const char *dsn, const char *application_name, error *e) {
    /* expand_dbname=1: DSN may be a whole connection string or URI; whatever
     * it leaves unset falls back to PG* variables and libpq defaults. */
    const char *keys[3] = {"fallback_application_name", NULL, NULL};
    const char *vals[3] = {application_name, NULL, NULL};
    if (dsn && *dsn) {
        keys[1] = "dbname";
        vals[1] = dsn;
    }
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(conn) != CONNECTION_OK) {
        /* libpq's message names host and user but never the password. */
        error_set(e, "08001", 0, "cannot connect to PostgreSQL: %s", PQerrorMessage(conn));
        if (e)
            trim(e->msg);
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

pg_class pg_classify(const char *s) {
    if (!s || strlen(s) != 5)
        return PG_RECONNECT;
    if (!strcmp(s, "40001") || !strcmp(s, "40P01") || !strcmp(s, "55P03") || !strcmp(s, "57014"))
        return PG_RETRY;
    /* Class 08: connection exception; 57P0x: admin/crash shutdown, cannot connect now;
     * 53xxx: insufficient resources (too many connections, disk full, out of memory). */
    if (!strncmp(s, "08", 2) || !strncmp(s, "57P", 3) || !strncmp(s, "53", 2) ||
        !strcmp(s, "58030"))
        return PG_RECONNECT;
    return PG_FATAL;
}

pg_class pg_result_class(PGconn *conn, const PGresult *res) {
    if (res) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_COPY_IN ||
            st == PGRES_COPY_OUT || st == PGRES_EMPTY_QUERY)
            return PG_OK;
    }
    if (PQstatus(conn) != CONNECTION_OK)
        return PG_RECONNECT;
    return pg_classify(res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL);
}

void pg_error(PGconn *conn, const PGresult *res, error *e) {
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    if (!msg)
        msg = PQerrorMessage(conn);
    /* The code is libpq's SQLSTATE field; without one (the connection went
     * away mid-call) it is 08006, connection failure. */
    error_set(e, state ? state : "08006", 0, "%s: %s%s%s", state ? state : "connection", msg,
              detail ? ": " : "", detail ? detail : "");
    if (e)
        trim(e->msg);
}

PGresult *pg_query(PGconn *conn, const char *sql, int nparams, const char *const *params,
                   pg_class *cls, error *e) {
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    pg_class c = pg_result_class(conn, res);
    if (cls)
        *cls = c;
    if (c != PG_OK) {
        pg_error(conn, res, e);
        PQclear(res);
        return NULL;
    }
    return res;
}

pg_class pg_exec(PGconn *conn, const char *sql, int nparams, const char *const *params, error *e) {
    pg_class c;
    PGresult *res = pg_query(conn, sql, nparams, params, &c, e);
    PQclear(res);
    return c;
}
