#include "hold_cmd.h"
#include "pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: spoor hold list [--json]\n"
            "       spoor hold renew HOLD_ID [--days N] [--note TEXT]   (1..90 days, default 90)\n"
            "       spoor hold release HOLD_ID [--note TEXT]\n"
            "A hold is created when a preservation request is approved.  An early release\n"
            "takes two people: the first `release` asks, a second person's confirms.\n");
}

/* A field of J, or "-" (a hold of a case one is not on has no case reference). */
static const char *field(json_t *j, const char *k) {
    const char *s = json_string_value(json_object_get(j, k));
    return s ? s : "-";
}

static void list_row(json_t *j) {
    printf("%-5lld %-8lld %-8s %-8s %-20s %-22.22s %s\n",
           (long long)json_integer_value(json_object_get(j, "hold_id")),
           (long long)json_integer_value(json_object_get(j, "request_id")), field(j, "state"),
           field(j, "mode"), field(j, "case_ref"), field(j, "expires_at"),
           field(j, "release_requested_by"));
}

static int list(cli *c, PGconn *conn) {
    return cli_rows(c, conn, "SELECT spoor.hold_list()",
                    "hold  request  state    mode     case                 expires                "
                    "release asked by\n",
                    list_row);
}

int hold_cmd_run(cli *c, int argc, char **argv) {
    if (argc < 2 || cli_is_help(argv[1])) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1], *days = NULL, *note = NULL;
    int is_list = !strcmp(sub, "list");
    if (!is_list && strcmp(sub, "renew") && strcmp(sub, "release")) {
        cli_error(c, "unknown subcommand '%s' (try: spoor hold --help)", sub);
        return 2;
    }
    if (!is_list && argc < 3) {
        usage(stderr);
        return 2;
    }
    for (int i = is_list ? 2 : 3; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            continue;
        if (i + 1 >= argc) {
            cli_error(c, "%s needs a value", argv[i]);
            return 2;
        }
        if (!strcmp(argv[i], "--days") && !strcmp(sub, "renew"))
            days = argv[++i];
        else if (!strcmp(argv[i], "--note"))
            note = argv[++i];
        else {
            cli_error(c, "unknown option '%s'", argv[i]);
            return 2;
        }
    }
    PGconn *conn = cli_connect(c);
    if (!conn)
        return 1;
    int rc = 0;
    if (is_list)
        rc = list(c, conn);
    else {
        json_t *j;
        if (!strcmp(sub, "renew"))
            j = cli_op_call(c, conn, "hold.renew",
                            json_pack("{s:s,s:s?,s:s?}", "id", argv[2], "days", days, "note", note),
                            &rc);
        else
            j = cli_op_call(c, conn, "hold.release",
                            json_pack("{s:s,s:s?}", "id", argv[2], "note", note), &rc);
        if (!j)
            ;
        else if (c->json)
            cli_print_json(j);
        else if (!strcmp(sub, "renew"))
            printf("hold %s now expires at %s\n", argv[2],
                   json_string_value(json_object_get(j, "expires_at")));
        else if (json_object_get(j, "release"))
            printf("hold %s: release %s\n", argv[2],
                   json_string_value(json_object_get(j, "release")));
        else
            printf("hold %s is now released\n", argv[2]);
        json_decref(j);
    }
    PQfinish(conn);
    return rc;
}
