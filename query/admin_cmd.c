#include "admin_cmd.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out, "usage: spoor admin list                    changes waiting for a second admin\n"
                 "       spoor admin confirm ID [--note TEXT] carry out another admin's change\n"
                 "       spoor admin reject ID --note TEXT    refuse it\n"
                 "(granting a role other than analyst, shortening a retention policy,\n"
                 " overwriting subscriber identities, a deterministic NAT configuration)\n");
}

static void row(json_t *j) {
    char *what = json_dumps(json_object_get(j, "params"), JSON_COMPACT);
    printf("%-5lld %-9s %-9s %-14s %s\n",
           (long long)json_integer_value(json_object_get(j, "change_id")),
           json_string_value(json_object_get(j, "kind")),
           json_string_value(json_object_get(j, "state")),
           json_string_value(json_object_get(j, "requested_by")), what ? what : "");
    free(what);
}

int admin_cmd_run(cli *c, int argc, char **argv) {
    if (argc >= 2 && cli_is_help(argv[1])) {
        usage(stdout);
        return 0;
    }
    int confirm = argc >= 3 && !strcmp(argv[1], "confirm");
    int reject = argc >= 3 && !strcmp(argv[1], "reject");
    if (!(argc >= 2 && !strcmp(argv[1], "list")) && !confirm && !reject) {
        usage(stderr);
        return 2;
    }
    const char *note = NULL;
    for (int i = 3; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--note"))
            note = argv[++i];
    PGconn *conn = cli_connect(c);
    if (!conn)
        return 1;
    int rc;
    if (!confirm && !reject)
        rc = cli_rows(c, conn, "SELECT spoor.admin_changes()",
                      "id    kind      state     asked by       what\n", row);
    else {
        json_t *j = cli_op_call(
            c, conn, "admin.decide",
            json_pack("{s:s,s:b,s:s?}", "id", argv[2], "confirm", confirm, "note", note), &rc);
        if (j && c->json)
            cli_print_json(j);
        else if (j)
            printf("change %s %s\n", argv[2], confirm ? "carried out" : "rejected");
        json_decref(j);
    }
    PQfinish(conn);
    return rc;
}
