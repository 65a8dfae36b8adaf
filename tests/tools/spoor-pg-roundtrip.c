/*
 * spoor-pg-roundtrip: integration probe.  Writes a row with awkward values
 * (quotes, a backslash, non-ASCII text, bytes including NUL) through libpq
 * parameters, reads it back and compares.  Connection from PG* variables.
 */
#include "pg.h"

#include <stdio.h>
#include <string.h>

int main(void) {
    error err;
    PGconn *c = pg_connect("", "spoor-pg-roundtrip", &err);
    if (!c) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    const char *text = "it's a \"test\" \\ with é and ✓";
    const char bytes[] = {'a', 0, 'b', (char)0xff};
    if (pg_exec(c, "CREATE TEMP TABLE rt (t text, b bytea)", 0, NULL, &err) != PG_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    const char *vals[] = {text, bytes};
    int lens[] = {0, sizeof bytes}, fmts[] = {0, 1};
    PGresult *r = PQexecParams(c, "INSERT INTO rt VALUES ($1, $2)", 2, NULL, vals, lens, fmts, 0);
    if (pg_result_class(c, r) != PG_OK) {
        pg_error(c, r, &err);
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    PQclear(r);
    r = PQexecParams(c, "SELECT t, b FROM rt", 0, NULL, NULL, NULL, NULL, 1);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
             PQgetlength(r, 0, 0) == (int)strlen(text) &&
             memcmp(PQgetvalue(r, 0, 0), text, strlen(text)) == 0 &&
             PQgetlength(r, 0, 1) == (int)sizeof bytes &&
             memcmp(PQgetvalue(r, 0, 1), bytes, sizeof bytes) == 0;
    PQclear(r);
    PQfinish(c);
    printf("pg roundtrip %s\n", ok ? "ok" : "MISMATCH");
    return ok ? 0 : 1;
}
