#include "pg.h"

#include <stdio.h>
#include <string.h>

PGconn *pg_connect(const char *dsn, const char *application_name, char *err, size_t errlen) {
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
        snprintf(err, errlen, "cannot connect to PostgreSQL: %s", PQerrorMessage(conn));
        size_t n = strlen(err);
        while (n && (err[n - 1] == '\n' || err[n - 1] == ' '))
            err[--n] = '\0';
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

void pg_error(PGconn *conn, const PGresult *res, char *err, size_t errlen) {
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    if (!msg)
        msg = PQerrorMessage(conn);
    snprintf(err, errlen, "%s: %s%s%s", state ? state : "connection", msg, detail ? ": " : "",
             detail ? detail : "");
    size_t n = strlen(err);
    while (n && (err[n - 1] == '\n' || err[n - 1] == ' '))
        err[--n] = '\0';
}

PGresult *pg_query(PGconn *conn, const char *sql, int nparams, const char *const *params,
                   pg_class *cls, char *err, size_t errlen) {
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    pg_class c = pg_result_class(conn, res);
    if (cls)
        *cls = c;
    if (c != PG_OK) {
        pg_error(conn, res, err, errlen);
        PQclear(res);
        return NULL;
    }
    return res;
}

pg_class pg_exec(PGconn *conn, const char *sql, int nparams, const char *const *params, char *err,
                 size_t errlen) {
    pg_class c;
    PGresult *res = pg_query(conn, sql, nparams, params, &c, err, errlen);
    PQclear(res);
    return c;
}
