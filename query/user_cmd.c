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
    int rc;
    json_t *j = cli_op_call(c, conn, "user.add",
                            json_pack("{s:s,s:s}", "name", argv[2], "role", role), &rc);
    if (j && !cli_pending(c, j)) { /* pending: two admins, a second one confirms */
        if (c->json)
            cli_print_json(j);
        else
            printf("user %s is now in spoor_%s\n", argv[2], role);
    }
    json_decref(j);
    PQfinish(conn);
    return rc;
}
