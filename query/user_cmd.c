#include "user_cmd.h"
#include "pg.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

int user_cmd_run(cli *c, int argc, char **argv) {
    const char *role = NULL;
    for (int i = 3; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--role"))
            role = argv[++i];
    if (argc < 3 || strcmp(argv[1], "add") || !role) {
        int help = argc >= 2 && cli_is_help(argv[1]);
        fprintf(
            help ? stdout : stderr,
            "usage: spoor user add NAME --role analyst|approver|auditor|retention|admin|ingest\n");
        return help ? 0 : 2;
    }
    PGconn *conn = cli_connect(c);
    if (!conn)
        return 1;
    char err[1024];
    const char *v[] = {argv[2], role};
    PGresult *r = pg_query(conn, "SELECT spoor.user_add($1, $2)", 2, v, NULL, err, sizeof err);
    int rc = 1;
    if (!r)
        cli_error(c, "%s", err);
    else {
        json_t *j = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
        json_t *st = j ? json_object_get(j, "status") : NULL;
        if (st && !strcmp(json_string_value(st), "ok")) {
            rc = 0;
            if (c->json)
                puts(PQgetvalue(r, 0, 0));
            else
                printf("user %s is now in spoor_%s\n", argv[2], role);
        } else if (st && !strcmp(json_string_value(st), "pending")) {
            /* Two admins: recorded, not done; a second admin confirms. */
            rc = 0;
            if (c->json)
                puts(PQgetvalue(r, 0, 0));
            else
                printf("change %lld recorded: %s\n",
                       (long long)json_integer_value(json_object_get(j, "change_id")),
                       json_string_value(json_object_get(j, "reason")));
        } else {
            json_t *why = j ? json_object_get(j, "reason") : NULL;
            cli_error(c, "refused: %s", why ? json_string_value(why) : "unreadable answer");
        }
        json_decref(j);
        PQclear(r);
    }
    PQfinish(conn);
    return rc;
}
