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

/* Parses TIME (RFC 3339, or local in ZONE) into OUT as RFC 3339 UTC text. */
static int time_arg(cli *c, const char *opt, const char *s, const char *zone, char *out) {
    int64_t t;
    error err;
    if (timeutil_parse(s, zone, &t, &err) < 0) {
        cli_error(c, "%s: %s", opt, err.msg);
        return -1;
    }
    timeutil_format(t, out);
    return 0;
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

static int create(cli *c, PGconn *conn, int argc, char **argv) {
    const char *ref = NULL, *auth = NULL, *basis = NULL, *contact = NULL, *kind = "disclosure";
    const char *from = NULL, *to = NULL, *received = NULL, *deadline = NULL, *zone = NULL;
    int max_lookups = 20;
    json_t *scope = json_array(), *opts = json_object();
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--subscriber-data")) {
            json_object_set_new(opts, "subscriber_data", json_true());
            continue;
        }
        if (!v && strcmp(a, "--json")) {
            cli_error(c, "%s needs a value", a);
            json_decref(scope);
            json_decref(opts);
            return 2;
        }
        if (!strcmp(a, "--json"))
            continue;
        i++;
        if (!strcmp(a, "--case"))
            ref = v;
        else if (!strcmp(a, "--authority"))
            auth = v;
        else if (!strcmp(a, "--basis"))
            basis = v;
        else if (!strcmp(a, "--contact"))
            contact = v;
        else if (!strcmp(a, "--kind"))
            kind = v;
        else if (!strcmp(a, "--from"))
            from = v;
        else if (!strcmp(a, "--to"))
            to = v;
        else if (!strcmp(a, "--received"))
            received = v;
        else if (!strcmp(a, "--deadline"))
            deadline = v;
        else if (!strcmp(a, "--zone"))
            zone = v;
        else if (!strcmp(a, "--max-lookups"))
            max_lookups = atoi(v);
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
                json_decref(scope);
                json_decref(opts);
                return 2;
            }
            json_object_set_new(last, "port", json_integer(atoi(v)));
        } else if (!strcmp(a, "--message-id"))
            json_array_append_new(scope, json_pack("{s:s,s:s}", "kind", "message_id", "value", v));
        else if (!strcmp(a, "--user"))
            json_array_append_new(scope, json_pack("{s:s,s:s}", "kind", "user_name", "value", v));
        else {
            cli_error(c, "unknown option '%s'", a);
            json_decref(scope);
            json_decref(opts);
            return 2;
        }
    }
    if (!ref || !auth || !basis || !from || !to) {
        cli_error(c, "--case, --authority, --basis, --from and --to are required");
        json_decref(scope);
        json_decref(opts);
        return 2;
    }
    char tf[TIMEUTIL_RFC3339_MAX], tt[TIMEUTIL_RFC3339_MAX], tr[TIMEUTIL_RFC3339_MAX],
        td[TIMEUTIL_RFC3339_MAX], ml[16];
    if (time_arg(c, "--from", from, zone, tf) || time_arg(c, "--to", to, zone, tt) ||
        (received && time_arg(c, "--received", received, zone, tr)) ||
        (deadline && time_arg(c, "--deadline", deadline, zone, td))) {
        json_decref(scope);
        json_decref(opts);
        return 2;
    }
    if (!received)
        timeutil_format(timeutil_now(), tr);
    snprintf(ml, sizeof ml, "%d", max_lookups);
    char *sj = json_dumps(scope, JSON_COMPACT), *oj = json_dumps(opts, JSON_COMPACT);
    json_decref(scope);
    json_decref(opts);
    const char *v[] = {ref, auth, basis, contact, kind, tr, deadline ? td : NULL,
                       tf,  tt,   ml,    sj,      oj};
    error err;
    PGresult *r = pg_query(
        conn, "SELECT spoor.request_create($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)", 12,
        v, NULL, &err);
    free(sj);
    free(oj);
    if (!r) {
        cli_error(c, "%s", err.msg);
        return 1;
    }
    if (c->json)
        printf("{\"request_id\":%s,\"state\":\"received\"}\n", PQgetvalue(r, 0, 0));
    else
        printf("request %s recorded (state received); it needs approval by another person\n",
               PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

static int decide(cli *c, PGconn *conn, int argc, char **argv, int approve) {
    if (argc < 3) {
        usage(stderr);
        return 2;
    }
    const char *note = NULL;
    for (int i = 3; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--note"))
            note = argv[++i];
    if (!approve && !note) {
        cli_error(c, "a rejection needs --note with the reason");
        return 2;
    }
    const char *v[] = {argv[2], approve ? "true" : "false", note};
    error err;
    PGresult *r = pg_query(conn, "SELECT spoor.request_decide($1, $2, $3)", 3, v, NULL, &err);
    if (!r) {
        cli_error(c, "%s", err.msg);
        return 1;
    }
    int rc = print_status(c, PQgetvalue(r, 0, 0));
    PQclear(r);
    return rc;
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
    const char *note = NULL;
    for (int i = 3; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--note"))
            note = argv[++i];
    const char *to = !strcmp(argv[1], "cancel")  ? "cancelled"
                     : !strcmp(argv[1], "close") ? "closed"
                                                 : argv[1];
    const char *v[] = {argv[2], to, note};
    error err;
    PGresult *r = pg_query(conn, "SELECT spoor.request_transition($1, $2, $3)", 3, v, NULL, &err);
    if (!r) {
        cli_error(c, "%s", err.msg);
        return 1;
    }
    int rc = print_status(c, PQgetvalue(r, 0, 0));
    PQclear(r);
    return rc;
}

/* spoor request assign ID PERSON: the approver puts an analyst on the case. */
static int assign(cli *c, PGconn *conn, int argc, char **argv) {
    if (argc < 4) {
        usage(stderr);
        return 2;
    }
    const char *v[] = {argv[2], argv[3]};
    json_t *j = cli_call(c, conn, "SELECT spoor.request_assign($1, $2)", 2, v, NULL);
    if (!j)
        return 1;
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
    const char *v[] = {argv[2]};
    error err;
    PGresult *r = pg_query(conn, "SELECT spoor.request_show($1)", 1, v, NULL, &err);
    if (!r) {
        cli_error(c, "%s", err.msg);
        return 1;
    }
    int rc = 0;
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
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            json_t *x = json_object_get(j, keys[k]);
            if (json_is_string(x))
                printf("%-14s %s\n", keys[k], json_string_value(x));
            else if (json_is_integer(x))
                printf("%-14s %lld\n", keys[k], (long long)json_integer_value(x));
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
