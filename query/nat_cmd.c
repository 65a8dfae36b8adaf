#include "nat_cmd.h"

#include "fileio.h"
#include "timeutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(
        out,
        "usage: spoor nat config add FILE --valid-from TIME   record a version of a CGN's\n"
        "                                                   deterministic configuration (admin;\n"
        "                                                   a second admin confirms)\n"
        "       spoor nat config list                       every version (admin, auditor)\n"
        "\n"
        "FILE holds KEY = VALUE lines (RFC 7422's variables; README.md, Carrier-grade NAT):\n"
        "  cgn = NAME            the CGN, named as in its logs\n"
        "  algorithm = sequential | none\n"
        "  inside = PREFIX | FIRST-LAST     outside = PREFIX | FIRST-LAST\n"
        "  ratio = C  [dynamic_factor = D]  or  ports_per_user = N\n"
        "  [reserved = 0-1023,5060]  [inside_vrf = NAME]  [max_ports = M]\n");
}

static void row(json_t *j) {
    const char *until = json_string_value(json_object_get(j, "valid_until"));
    const char *in = json_string_value(json_object_get(j, "inside"));
    const char *out = json_string_value(json_object_get(j, "outside"));
    const char *conf = json_string_value(json_object_get(j, "confirmed_by"));
    printf("%-5lld %-16s %-25s %-25s %-10s %-31s %-15s ports/user %-5lld %s/%s %.16s…\n",
           (long long)json_integer_value(json_object_get(j, "config_id")),
           json_string_value(json_object_get(j, "cgn")),
           json_string_value(json_object_get(j, "valid_from")), until ? until : "-",
           json_string_value(json_object_get(j, "algorithm")), in ? in : "-", out ? out : "-",
           (long long)json_integer_value(json_object_get(j, "ports_per_user")),
           json_string_value(json_object_get(j, "recorded_by")), conf ? conf : "-",
           json_string_value(json_object_get(j, "sha256")));
}

int nat_cmd_run(cli *c, int argc, char **argv) {
    if (argc >= 2 && cli_is_help(argv[1])) {
        usage(stdout);
        return 0;
    }
    int list = argc == 3 && !strcmp(argv[1], "config") && !strcmp(argv[2], "list");
    int add = argc >= 4 && !strcmp(argv[1], "config") && !strcmp(argv[2], "add");
    if (!list && !add) {
        usage(stderr);
        return 2;
    }
    const char *valid_from = NULL;
    if (add) {
        for (int i = 4; i < argc; i++) {
            if (!strcmp(argv[i], "--valid-from") && i + 1 < argc)
                valid_from = argv[++i];
            else {
                cli_error(c, "nat config add: unexpected argument '%s'", argv[i]);
                return 2;
            }
        }
        if (!valid_from) {
            cli_error(c, "nat config add: --valid-from TIME is required (when the CGN began to "
                         "use this configuration)");
            return 2;
        }
        int64_t t;
        error err;
        if (timeutil_parse(valid_from, NULL, &t, &err)) {
            cli_error(c, "nat config add: --valid-from: %s", err.msg);
            return 2;
        }
    }
    char *text = NULL;
    if (add) {
        error err;
        size_t len;
        text = fileio_read(argv[3], 0, &len, &err);
        if (!text) {
            cli_error(c, "%s", err.msg);
            return 1;
        }
        if (strlen(text) != len) {
            cli_error(c, "%s: a NUL byte in a configuration file", argv[3]);
            free(text);
            return 1;
        }
    }
    PGconn *conn = cli_connect(c);
    if (!conn) {
        free(text);
        return 1;
    }
    int rc;
    if (list)
        rc = cli_rows(c, conn, "SELECT spoor.nat_config_list()",
                      "id    cgn              valid from                valid until"
                      "               algorithm  inside                          outside\n",
                      row);
    else {
        const char *v[] = {text, valid_from};
        json_t *j =
            cli_call(c, conn, "SELECT spoor.nat_config_add($1, $2::timestamptz)", 2, v, NULL);
        rc = j ? 0 : 1;
        if (j && !cli_pending(c, j)) {
            if (c->json)
                cli_print_json(j);
            else
                printf("nat configuration %lld recorded for CGN %s, in force from %s\n",
                       (long long)json_integer_value(json_object_get(j, "config_id")),
                       json_string_value(json_object_get(j, "cgn")),
                       json_string_value(json_object_get(j, "valid_from")));
        }
        json_decref(j);
    }
    free(text);
    PQfinish(conn);
    return rc;
}
