#include "lookup_call.h"
#include "mem.h"
#include "pg.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

char *lookup_call(PGconn *conn, const char *sql, int n, const char *const *v, char *err,
                  size_t errlen) {
    PGresult *r = pg_query(conn, sql, n, v, NULL, err, errlen);
    if (!r)
        return NULL;
    json_t *j = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    PQclear(r);
    json_t *t = j ? json_object_get(j, "ticket") : NULL;
    if (!json_is_integer(t)) {
        snprintf(err, errlen, "XX000: the lookup returned no ticket");
        json_decref(j);
        return NULL;
    }
    char ticket[32];
    snprintf(ticket, sizeof ticket, "%lld", (long long)json_integer_value(t));
    json_decref(j);
    /* A new statement, so a new transaction: the record above has committed. */
    const char *tv[] = {ticket};
    r = pg_query(conn, "SELECT spoor.lookup_answer($1)", 1, tv, NULL, err, errlen);
    if (!r)
        return NULL;
    char *out = mem_strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return out;
}
