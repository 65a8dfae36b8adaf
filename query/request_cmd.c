#include "request_cmd.h"
#include "pg.h"
#include "timeutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: spoor request create --case REF --authority NAME --basis LAW --from TIME --to "
            "TIME\n"
            "                            [--kind disclosure|preservation] [--contact C] "
            "[--received TIME]\n"
            "                            [--deadline TIME] [--max-lookups N] [--zone ZONE]\n"
            "                            [--ip ADDRESS[/LEN] [--port N]]... [--message-id ID]... "
            "[--user NAME]...\n"
            "                            [--subscriber-data] [--hold-mode records|days] "
            "[--hold-days N]\n"
            "       spoor request approve ID [--note TEXT]     (someone other than the recorder)\n"
            "       spoor request assign ID PERSON             (its approver puts an analyst on "
            "the case)\n"
            "       spoor request reject ID --note TEXT\n"
            "       spoor request list [--json]\n"
            "       spoor request show ID [--json]\n"
            "       spoor request cancel|disclosed|close ID [--note TEXT]\n"
            "       spoor request export ID DIR [--key SECRET_KEY_FILE]   (a signed disclosure "
            "package)\n"
            "--subscriber-data: the order covers subscriber identity (name, address), revealed\n"
            "with each result.  A preservation request becomes a legal hold when approved\n"
            "(--hold-days, default 90; --hold-mode days holds whole days).\n");
}

static int print_status(cli *c, const char *text) {
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    const char *st = j ? json_string_value(json_object_get(j, "status")) : NULL;
    int ok = st && !strcmp(st, "ok");
    if (c->json)
        puts(text);
    else if (ok)
        printf("request %lld is now %s\n",
               (long long)json_integer_value(json_object_get(j, "request_id")),
               json_string_value(json_object_get(j, "state")));
    if (!ok)
        cli_error(c, "refused: %s",
                  j ? json_string_value(json_object_get(j, "reason")) : "unreadable answer");
    json_decref(j);
    return ok ? 0 : 1;
}

/* The options of `request create` and their members in query/ops's
 * request.create. */
static const char *const create_opts[][2] = {
    {"--case", "case_ref"},     {"--authority", "authority"},
    {"--basis", "legal_basis"}, {"--contact", "contact"},
    {"--kind", "kind"},         {"--from", "window_lo"},
    {"--to", "window_hi"},      {"--received", "received_at"},
    {"--deadline", "deadline"}, {"--max-lookups", "max_lookups"},
};

static int create(cli *c, PGconn *conn, int argc, char **argv) {
    const char *zone = NULL;
    json_t *args = json_object(), *scope = json_array(), *opts = json_object();
    json_object_set(args, "scope", scope);
    json_object_set(args, "options", opts);
    int rc = 2;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--subscriber-data")) {
            json_object_set_new(opts, "subscriber_data", json_true());
            continue;
        }
        if (!strcmp(a, "--json"))
            continue;
        if (!v) {
            cli_error(c, "%s needs a value", a);
            goto out;
        }
        i++;
        const char *member = NULL;
        for (size_t k = 0; k < sizeof create_opts / sizeof create_opts[0] && !member; k++)
            if (!strcmp(a, create_opts[k][0]))
                member = create_opts[k][1];
        if (member)
            json_object_set_new(args, member, json_string(v));
        else if (!strcmp(a, "--zone"))
            zone = v;
        else if (!strcmp(a, "--hold-mode"))
            json_object_set_new(opts, "hold_mode", json_string(v));
        else if (!strcmp(a, "--hold-days"))
            json_object_set_new(opts, "hold_days", json_integer(atoi(v)));
        else if (!strcmp(a, "--ip"))
            json_array_append_new(scope, json_pack("{s:s,s:s}", "kind", "ip", "value", v));
        else if (!strcmp(a, "--port")) {
            json_t *last = json_array_get(scope, json_array_size(scope) - 1);
            if (!last || strcmp(json_string_value(json_object_get(last, "kind")), "ip")) {
                cli_error(c, "--port belongs after an --ip");
                goto out;
            }
            json_object_set_new(last, "port", json_integer(atoi(v)));
        } else if (!strcmp(a, "--message-id"))
            json_array_append_new(scope, json_pack("{s:s,s:s}", "kind", "message_id", "value", v));
        else if (!strcmp(a, "--user"))
            json_array_append_new(scope, json_pack("{s:s,s:s}", "kind", "user_name", "value", v));
        else {
            cli_error(c, "unknown option '%s'", a);
            goto out;
        }
    }
    PGresult *r = cli_op_query(c, conn, "request.create", json_incref(args), zone, &rc);
    if (!r)
        goto out;
    if (c->json)
        printf("{\"request_id\":%s,\"state\":\"received\"}\n", PQgetvalue(r, 0, 0));
    else
        printf("request %s recorded (state received); it needs approval by another person\n",
               PQgetvalue(r, 0, 0));
    PQclear(r);
    rc = 0;
out:
    json_decref(scope);
    json_decref(opts);
    json_decref(args);
    return rc;
}

/* Runs operation OP with ARGS (taken), checked as query/ops says; prints the
 * answer with PRINT.  The exit status. */
static int call_op(cli *c, PGconn *conn, const char *op, json_t *args,
                   int (*print)(cli *c, const char *text)) {
    int rc;
    PGresult *r = cli_op_query(c, conn, op, args, NULL, &rc);
    if (!r)
        return rc;
    rc = print(c, PQgetvalue(r, 0, 0));
    PQclear(r);
    return rc;
}

/* The --note of ARGV[FIRST..]. */
static const char *note_of(int argc, char **argv, int first) {
    const char *note = NULL;
    for (int i = first; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--note"))
            note = argv[++i];
    return note;
}

static int decide(cli *c, PGconn *conn, int argc, char **argv, int approve) {
    if (argc < 3) {
        usage(stderr);
        return 2;
    }
    json_t *args = json_pack("{s:s,s:b,s:s?}", "id", argv[2], "approve", approve, "note",
                             note_of(argc, argv, 3));
    return call_op(c, conn, "request.decide", args, print_status);
}

static void list_row(json_t *j) {
    printf("%-5lld %-10s %-12s %-20s %-24s %lld/%lld\n",
           (long long)json_integer_value(json_object_get(j, "request_id")),
           json_string_value(json_object_get(j, "state")),
           json_string_value(json_object_get(j, "kind")),
           /* A case one is not on shows only that it exists. */
           json_string_value(json_object_get(j, "case_ref"))
               ? json_string_value(json_object_get(j, "case_ref"))
               : "(not on this case)",
           json_string_value(json_object_get(j, "authority"))
               ? json_string_value(json_object_get(j, "authority"))
               : "-",
           (long long)json_integer_value(json_object_get(j, "lookups_done")),
           (long long)json_integer_value(json_object_get(j, "max_lookups")));
}

static int list(cli *c, PGconn *conn) {
    return cli_rows(c, conn, "SELECT spoor.request_list()",
                    "id    state      kind         case                 authority                "
                    "lookups\n",
                    list_row);
}

static int transition(cli *c, PGconn *conn, int argc, char **argv) {
    if (argc < 3) {
        usage(stderr);
        return 2;
    }
    const char *to = !strcmp(argv[1], "cancel")  ? "cancelled"
                     : !strcmp(argv[1], "close") ? "closed"
                                                 : argv[1];
    json_t *args =
        json_pack("{s:s,s:s,s:s?}", "id", argv[2], "to", to, "note", note_of(argc, argv, 3));
    return call_op(c, conn, "request.transition", args, print_status);
}

/* spoor request assign ID PERSON: the approver puts an analyst on the case. */
static int assign(cli *c, PGconn *conn, int argc, char **argv) {
    if (argc < 4) {
        usage(stderr);
        return 2;
    }
    int rc;
    json_t *j = cli_op_call(c, conn, "request.assign",
                            json_pack("{s:s,s:s}", "id", argv[2], "person", argv[3]), &rc);
    if (!j)
        return rc;
    if (c->json)
        cli_print_json(j);
    else
        printf("%s is now on request %s\n", argv[3], argv[2]);
    json_decref(j);
    return 0;
}

static int show(cli *c, PGconn *conn, int argc, char **argv) {
    if (argc < 3) {
        usage(stderr);
        return 2;
    }
    int rc;
    PGresult *r =
        cli_op_query(c, conn, "request.show", json_pack("{s:s}", "id", argv[2]), NULL, &rc);
    if (!r)
        return rc;
    if (PQgetisnull(r, 0, 0)) {
        cli_error(c, "no request %s", argv[2]);
        rc = 1;
    } else if (c->json)
        puts(PQgetvalue(r, 0, 0));
    else {
        json_t *j = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
        const char *keys[] = {"request_id",  "state",       "kind",       "case_ref",
                              "authority",   "legal_basis", "contact",    "received_at",
                              "deadline",    "window_lo",   "window_hi",  "lookups_done",
                              "max_lookups", "created_by",  "decided_by", "decided_at"};
        for (size_t n = 0; n < sizeof keys / sizeof keys[0]; n++) {
            json_t *x = json_object_get(j, keys[n]);
            if (json_is_string(x))
                printf("%-14s %s\n", keys[n], json_string_value(x));
            else if (json_is_integer(x))
                printf("%-14s %lld\n", keys[n], (long long)json_integer_value(x));
        }
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(j, "scope"), i, e) {
            json_t *port = json_object_get(e, "port");
            printf("scope          %s %s", json_string_value(json_object_get(e, "kind")),
                   json_string_value(json_object_get(e, "value")));
            if (json_is_integer(port))
                printf(" port %lld", (long long)json_integer_value(port));
            putchar('\n');
        }
        json_array_foreach(json_object_get(j, "audit"), i, e)
            printf("audit          %lld %s %s %s %s\n",
                   (long long)json_integer_value(json_object_get(e, "seq")),
                   json_string_value(json_object_get(e, "at")),
                   json_string_value(json_object_get(e, "actor")),
                   json_string_value(json_object_get(e, "action")),
                   json_string_value(json_object_get(e, "outcome")));
        json_decref(j);
    }
    PQclear(r);
    return rc;
}

int request_cmd_run(cli *c, int argc, char **argv) {
    if (argc < 2 || cli_is_help(argv[1])) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "export")) {
        /* Signing and writing files is spoor-package's job (legal/). */
        return cli_exec_sub(c, "spoor-package", NULL, argc, argv);
    }
    if (strcmp(sub, "create") && strcmp(sub, "approve") && strcmp(sub, "reject") &&
        strcmp(sub, "list") && strcmp(sub, "show") && strcmp(sub, "cancel") &&
        strcmp(sub, "disclosed") && strcmp(sub, "close") && strcmp(sub, "assign")) {
        cli_error(c, "unknown subcommand '%s' (try: spoor request --help)", sub);
        return 2;
    }
    PGconn *conn = cli_connect(c);
    if (!conn)
        return 1;
    int rc;
    if (!strcmp(sub, "create"))
        rc = create(c, conn, argc, argv);
    else if (!strcmp(sub, "approve"))
        rc = decide(c, conn, argc, argv, 1);
    else if (!strcmp(sub, "reject"))
        rc = decide(c, conn, argc, argv, 0);
    else if (!strcmp(sub, "show"))
        rc = show(c, conn, argc, argv);
    else if (!strcmp(sub, "list"))
        rc = list(c, conn);
    else if (!strcmp(sub, "assign"))
        rc = assign(c, conn, argc, argv);
    else
        rc = transition(c, conn, argc, argv);
    PQfinish(conn);
    return rc;
}
