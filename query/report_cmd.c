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
    json_t *args = json_object();
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--json"))
            continue;
        if (i + 1 >= argc) {
            cli_error(c, "%s needs a value", argv[i]);
            json_decref(args);
            return 2;
        }
        const char *v = argv[++i];
        const char *member = !strcmp(argv[i - 1], "--year")             ? "year"
                             : !strcmp(argv[i - 1], "--risk-days")      ? "risk_days"
                             : !strcmp(argv[i - 1], "--hold-warn-days") ? "hold_warn_days"
                                                                        : NULL;
        if (!member) {
            cli_error(c, "unknown option '%s'", argv[i - 1]);
            json_decref(args);
            return 2;
        }
        json_object_set_new(args, member, json_string(v));
    }
    ops_call k;
    int rc = cli_op_check(c, &k, "report", args, NULL);
    json_decref(args);
    if (rc)
        return rc;
    PGconn *conn = cli_connect(c);
    json_t *j = conn ? cli_call(c, conn, k.op->sql, k.op->n_args, k.v, NULL) : NULL;
    ops_call_close(&k);
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
        /* A case the reader is not on has no reference or authority here. */
        const char *ref = json_string_value(json_object_get(e, "case_ref"));
        const char *auth = json_string_value(json_object_get(e, "authority"));
        printf("  %-5lld %-10s %-12s %-20s %-24s deadline %s%s\n",
               (long long)json_integer_value(json_object_get(e, "request_id")),
               json_string_value(json_object_get(e, "state")),
               json_string_value(json_object_get(e, "kind")), ref ? ref : "-", auth ? auth : "-",
               dl ? dl : "none", json_is_true(json_object_get(e, "at_risk")) ? "  AT RISK" : "");
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
    for (size_t n = 0; n < sizeof keys / sizeof keys[0]; n++)
        printf("  %-42s %lld\n", keys[n],
               (long long)json_integer_value(json_object_get(f, keys[n])));
    print_counts("by authority", json_object_get(f, "by_authority"));
    print_counts("by kind", json_object_get(f, "by_kind"));
    print_counts("by legal basis", json_object_get(f, "by_legal_basis"));
    printf("\nSubscriber identities loaded: %lld\n",
           (long long)json_integer_value(json_object_get(j, "subscribers_loaded")));
    json_decref(j);
    return 0;
}
