#include "retention_cmd.h"
#include "pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: spoor retention policy [--json]\n"
            "       spoor retention policy set CLASS KEEP [--note TEXT]   (admin; KEEP e.g. "
            "'365 days', '6 months')\n"
            "       spoor retention run [--dry-run] [--now TIME] | maintain | plan | compact   "
            "(runs spoor-retention)\n"
            "Classes: radius, smtp, evidence, quarantine, audit.\n");
}

static int show(cli *c, PGconn *conn) {
    error err;
    PGresult *r = pg_query(conn, "SELECT spoor.retention_policy_list()", 0, NULL, NULL, &err);
    if (!r) {
        cli_error(c, "%s", err.msg);
        return 1;
    }
    if (c->json)
        putchar('[');
    else
        printf("%-11s %-12s %-12s %-12s %s\n", "class", "keep", "horizon", "changed by", "note");
    for (int i = 0; i < PQntuples(r); i++) {
        if (c->json) {
            printf("%s%s", i ? "," : "", PQgetvalue(r, i, 0));
            continue;
        }
        json_t *j = json_loads(PQgetvalue(r, i, 0), 0, NULL);
        const char *note = json_string_value(json_object_get(j, "note"));
        printf("%-11s %-12s %-12s %-12s %s\n", json_string_value(json_object_get(j, "class")),
               json_string_value(json_object_get(j, "keep")),
               json_string_value(json_object_get(j, "horizon")),
               json_string_value(json_object_get(j, "changed_by")), note ? note : "");
        json_decref(j);
    }
    if (c->json)
        puts("]");
    PQclear(r);
    return 0;
}

int retention_cmd_run(cli *c, int argc, char **argv) {
    if (argc < 2 || cli_is_help(argv[1])) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "run") || !strcmp(argv[1], "maintain") || !strcmp(argv[1], "plan") ||
        !strcmp(argv[1], "compact")) {
        return cli_exec_sub(c, "spoor-retention", NULL, argc, argv);
    }
    if (strcmp(argv[1], "policy")) {
        cli_error(c, "unknown subcommand '%s' (try: spoor retention --help)", argv[1]);
        return 2;
    }
    int set = argc >= 3 && !strcmp(argv[2], "set");
    const char *note = NULL;
    for (int i = set ? 5 : 2; i < argc; i++) {
        if (!strcmp(argv[i], "--note") && i + 1 < argc)
            note = argv[++i];
        else if (strcmp(argv[i], "--json")) {
            cli_error(c, "unexpected argument '%s'", argv[i]);
            return 2;
        }
    }
    if (set && argc < 5) {
        usage(stderr);
        return 2;
    }
    PGconn *conn = cli_connect(c);
    if (!conn)
        return 1;
    int rc = 0;
    if (!set)
        rc = show(c, conn);
    else {
        json_t *j = cli_op_call(
            c, conn, "retention.policy_set",
            json_pack("{s:s,s:s,s:s?}", "class", argv[3], "keep", argv[4], "note", note), &rc);
        if (!j)
            ;
        else if (!cli_pending(c, j)) /* shortening takes two admins */
            printf("%s data is now kept for %s\n", argv[3],
                   json_string_value(json_object_get(j, "keep")));
        json_decref(j);
    }
    PQfinish(conn);
    return rc;
}
