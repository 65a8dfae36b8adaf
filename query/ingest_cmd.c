#include "ingest_cmd.h"
#include "pg.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ingest_status(cli *c, PGconn *conn) {
    error err;
    PGresult *r = pg_query(conn,
                           "SELECT source, part, next_pos, consumed, stored, quarantined, "
                           "coalesce(label, ''), to_char(updated_at AT TIME ZONE 'UTC', "
                           "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
                           "FROM spoor.source_position ORDER BY source, part",
                           0, NULL, NULL, &err);
    if (!r) {
        cli_error(c, "%s", err.msg);
        return 1;
    }
    PGresult *q = pg_query(conn, "SELECT source, part, reason, n FROM spoor.quarantine_summary()",
                           0, NULL, NULL, &err);
    if (!q) {
        cli_error(c, "%s", err.msg);
        PQclear(r);
        return 1;
    }
    int rc = 0;
    if (c->json) {
        json_t *arr = json_array();
        for (int i = 0; i < PQntuples(r); i++) {
            json_t *reasons = json_object();
            for (int k = 0; k < PQntuples(q); k++)
                if (!strcmp(PQgetvalue(q, k, 0), PQgetvalue(r, i, 0)) &&
                    !strcmp(PQgetvalue(q, k, 1), PQgetvalue(r, i, 1)))
                    json_object_set_new(reasons, PQgetvalue(q, k, 2),
                                        json_integer(atoll(PQgetvalue(q, k, 3))));
            json_array_append_new(
                arr, json_pack("{s:s,s:i,s:I,s:I,s:I,s:I,s:s,s:s,s:o}", "source",
                               PQgetvalue(r, i, 0), "part", atoi(PQgetvalue(r, i, 1)), "next_pos",
                               (json_int_t)atoll(PQgetvalue(r, i, 2)), "consumed",
                               (json_int_t)atoll(PQgetvalue(r, i, 3)), "stored",
                               (json_int_t)atoll(PQgetvalue(r, i, 4)), "quarantined",
                               (json_int_t)atoll(PQgetvalue(r, i, 5)), "label", PQgetvalue(r, i, 6),
                               "updated_at", PQgetvalue(r, i, 7), "quarantine_reasons", reasons));
        }
        json_t *o = json_pack("{s:o}", "sources", arr);
        char *s = json_dumps(o, JSON_COMPACT);
        puts(s);
        free(s);
        json_decref(o);
    } else {
        printf("%-24s %4s %12s %12s %12s %11s  %s\n", "source", "part", "next", "consumed",
               "stored", "quarantined", "label");
        long long tc = 0, ts = 0, tq = 0;
        for (int i = 0; i < PQntuples(r); i++) {
            const char *src = PQgetvalue(r, i, 0);
            char shown[32];
            /* Files are named by content hash; show its start, the label says which file. */
            snprintf(shown, sizeof shown, "%.24s", src);
            printf("%-24s %4s %12s %12s %12s %11s  %s\n", shown, PQgetvalue(r, i, 1),
                   PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4),
                   PQgetvalue(r, i, 5), PQgetvalue(r, i, 6));
            tc += atoll(PQgetvalue(r, i, 3));
            ts += atoll(PQgetvalue(r, i, 4));
            tq += atoll(PQgetvalue(r, i, 5));
        }
        printf("total: consumed %lld = stored %lld + quarantined %lld\n", tc, ts, tq);
        if (PQntuples(q)) {
            printf("\nquarantined by reason:\n");
            for (int k = 0; k < PQntuples(q); k++)
                printf("  %-24.24s %4s  %-24s %s\n", PQgetvalue(q, k, 0), PQgetvalue(q, k, 1),
                       PQgetvalue(q, k, 2), PQgetvalue(q, k, 3));
        }
        if (tc != ts + tq)
            rc = 1;
    }
    PQclear(q);
    PQclear(r);
    return rc;
}

int ingest_cmd_run(cli *c, int argc, char **argv) {
    if (argc < 2 || cli_is_help(argv[1])) {
        fprintf(argc < 2 ? stderr : stdout,
                "usage: spoor ingest status [--json]   positions and counts per source\n");
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "status") != 0) {
        cli_error(c, "unknown subcommand '%s' (try: spoor ingest --help)", argv[1]);
        return 2;
    }
    PGconn *conn = cli_connect(c);
    if (!conn)
        return 1;
    int rc = ingest_status(c, conn);
    PQfinish(conn);
    return rc;
}
