#include "report_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out, "usage: spoor report [--year Y] [--risk-days N] [--hold-warn-days N] [--json]\n"
                 "Open requests and deadlines at risk (due within --risk-days, default 3), holds\n"
                 "expiring within --hold-warn-days (default 14), and the year's figures: requests\n"
                 "received, approved, rejected, by authority, kind and legal basis.\n");
}

static void print_counts(const char *title, json_t *obj) {
    const char *k;
    json_t *v;
    printf("  %s:\n", title);
    if (!json_object_size(obj))
        printf("    (none)\n");
    json_object_foreach(obj, k, v) printf("    %-40s %lld\n", k, (long long)json_integer_value(v));
}

int report_cmd_run(cli *c, int argc, char **argv) {
    const char *year = NULL;
    char risk[32] = "3 days", warn[32] = "14 days";
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--json"))
            continue;
        if (i + 1 >= argc) {
            cli_error(c, "%s needs a value", argv[i]);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(argv[i - 1], "--year"))
            year = v;
        else if (!strcmp(argv[i - 1], "--risk-days"))
            snprintf(risk, sizeof risk, "%d days", atoi(v));
        else if (!strcmp(argv[i - 1], "--hold-warn-days"))
            snprintf(warn, sizeof warn, "%d days", atoi(v));
        else {
            cli_error(c, "unknown option '%s'", argv[i - 1]);
            return 2;
        }
    }
    PGconn *conn = cli_connect(c);
    if (!conn)
        return 1;
    const char *v[] = {year, risk, warn};
    json_t *j = cli_call(c, conn, "SELECT spoor.report($1, $2, $3)", 3, v, NULL);
    PQfinish(conn);
    if (!j)
        return 1;
    if (c->json) {
        char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        puts(s);
        free(s);
        json_decref(j);
        return 0;
    }
    size_t i;
    json_t *e;
    printf("Spoor report, generated %s\n\nOpen requests:\n",
           json_string_value(json_object_get(j, "generated_at")));
    if (!json_array_size(json_object_get(j, "open_requests")))
        printf("  (none)\n");
    json_array_foreach(json_object_get(j, "open_requests"), i, e) {
        const char *dl = json_string_value(json_object_get(e, "deadline"));
        printf("  %-5lld %-10s %-12s %-20s %-24s deadline %s%s\n",
               (long long)json_integer_value(json_object_get(e, "request_id")),
               json_string_value(json_object_get(e, "state")),
               json_string_value(json_object_get(e, "kind")),
               json_string_value(json_object_get(e, "case_ref")),
               json_string_value(json_object_get(e, "authority")), dl ? dl : "none",
               json_is_true(json_object_get(e, "at_risk")) ? "  AT RISK" : "");
    }
    printf("\nHolds expiring soon (%lld active in all):\n",
           (long long)json_integer_value(json_object_get(j, "active_holds")));
    if (!json_array_size(json_object_get(j, "holds_expiring")))
        printf("  (none)\n");
    json_array_foreach(json_object_get(j, "holds_expiring"), i, e)
        printf("  hold %-5lld request %-5lld expires %s (renewed %lld times)\n",
               (long long)json_integer_value(json_object_get(e, "hold_id")),
               (long long)json_integer_value(json_object_get(e, "request_id")),
               json_string_value(json_object_get(e, "expires_at")),
               (long long)json_integer_value(json_object_get(e, "renewals")));
    json_t *f = json_object_get(j, "figures");
    printf("\nFigures for %lld (requests by the time they were received):\n",
           (long long)json_integer_value(json_object_get(j, "year")));
    const char *keys[] = {"received",  "approved", "rejected",       "cancelled",         "expired",
                          "disclosed", "lookups",  "lookups_denied", "subscriber_reveals"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        printf("  %-42s %lld\n", keys[k],
               (long long)json_integer_value(json_object_get(f, keys[k])));
    print_counts("by authority", json_object_get(f, "by_authority"));
    print_counts("by kind", json_object_get(f, "by_kind"));
    print_counts("by legal basis", json_object_get(f, "by_legal_basis"));
    printf("\nSubscriber identities loaded: %lld\n",
           (long long)json_integer_value(json_object_get(j, "subscribers_loaded")));
    json_decref(j);
    return 0;
}
