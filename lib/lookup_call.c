#include "lookup_call.h"
#include "mem.h"
#include "pg.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

int lookup_call_ticket(const char *record, long long *ticket, error *err) {
    json_t *j = json_loads(record, 0, NULL);
    json_t *t = j ? json_object_get(j, "ticket") : NULL;
    int ok = json_is_integer(t);
    if (ok)
        *ticket = (long long)json_integer_value(t);
    else
        error_set(err, "XX000", 0, "XX000: the lookup returned no ticket");
    json_decref(j);
    return ok ? 0 : -1;
}

int lookup_call_is_record(const char *answer, long long *ticket) {
    json_t *j = answer ? json_loads(answer, 0, NULL) : NULL;
    json_t *t = json_object_get(j, "ticket");
    int rec = json_is_integer(t) && json_is_string(json_object_get(j, "outcome"));
    if (rec)
        *ticket = (long long)json_integer_value(t);
    json_decref(j);
    return rec;
}

/* The second step for TICKET: a new statement, so a new transaction, in
 * which the record's has committed. */
static PGresult *answer(PGconn *conn, long long ticket, error *err) {
    char t[32];
    snprintf(t, sizeof t, "%lld", ticket);
    const char *tv[] = {t};
    return pg_query(conn, "SELECT spoor.lookup_answer($1)", 1, tv, NULL, err);
}

PGresult *lookup_call_answered(PGconn *conn, PGresult *first, error *err) {
    long long t;
    if (PQntuples(first) != 1 || PQnfields(first) != 1 || PQgetisnull(first, 0, 0) ||
        !lookup_call_is_record(PQgetvalue(first, 0, 0), &t))
        return first;
    PQclear(first);
    return answer(conn, t, err);
}

char *lookup_call(PGconn *conn, const char *sql, int n, const char *const *v, error *err) {
    PGresult *r = pg_query(conn, sql, n, v, NULL, err);
    if (!r)
        return NULL;
    long long t;
    int rc = lookup_call_ticket(PQgetvalue(r, 0, 0), &t, err);
    PQclear(r);
    if (rc < 0)
        return NULL;
    r = answer(conn, t, err);
    if (!r)
        return NULL;
    char *out = mem_strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return out;
}
