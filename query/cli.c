#include "cli.h"
#include "lookup_call.h"
#include "pg.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_error(const cli *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "spoor%s%s: ", c->command ? " " : "", c->command ? c->command : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

PGconn *cli_connect(cli *c) {
    error err;
    PGconn *conn = pg_connect(c->cfg.dsn, "spoor", &err);
    if (!conn) {
        cli_error(c, "%s", err.msg);
        return NULL;
    }
    /* NOTICEs ("already exists, skipping") are noise for a person; warnings are not. */
    PQclear(PQexec(conn, "SET client_min_messages TO warning"));
    /* Times in answers are RFC 3339 UTC, whatever the person's locale. */
    PQclear(PQexec(conn, "SET TIME ZONE 'UTC'"));
    /* Audited calls refuse to run without a bounded statement (sql/013). */
    PQclear(PQexec(conn, "SET statement_timeout = '60s'"));
    return conn;
}

int cli_is_help(const char *arg) {
    return !strcmp(arg, "-h") || !strcmp(arg, "--help");
}

json_t *cli_call(cli *c, PGconn *conn, const char *sql, int n, const char *const *v,
                 const char *missing) {
    error err;
    PGresult *r = pg_query(conn, sql, n, v, NULL, &err);
    if (r) /* an audited read answers in its second step */
        r = lookup_call_answered(conn, r, &err);
    if (!r) {
        cli_error(c, "%s", err.msg);
        return NULL;
    }
    if (PQntuples(r) < 1 || PQgetisnull(r, 0, 0)) {
        cli_error(c, "%s", missing ? missing : "no answer");
        PQclear(r);
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loads(PQgetvalue(r, 0, 0), 0, &je);
    PQclear(r);
    const char *st = json_string_value(json_object_get(j, "status"));
    if (!st || (strcmp(st, "ok") && strcmp(st, "pending"))) {
        const char *why = json_string_value(json_object_get(j, "reason"));
        cli_error(c, "refused: %s", why ? why : "unreadable answer");
        json_decref(j);
        return NULL;
    }
    return j;
}

int cli_op_check(cli *c, ops_call *k, const char *op, json_t *args, const char *zone) {
    error err;
    if (ops_call_init(k, op, args, OPS_CLI, zone, &err) < 0) {
        cli_error(c, "%s", err.msg);
        return 2;
    }
    return 0;
}

PGresult *cli_op_query(cli *c, PGconn *conn, const char *op, json_t *args, const char *zone,
                       int *rc) {
    ops_call k;
    *rc = cli_op_check(c, &k, op, args, zone);
    json_decref(args);
    if (*rc)
        return NULL;
    error err;
    PGresult *r = pg_query(conn, k.op->sql, k.op->n_args, k.v, NULL, &err);
    if (r) /* an audited read answers in its second step */
        r = lookup_call_answered(conn, r, &err);
    ops_call_close(&k);
    *rc = r ? 0 : 1;
    if (!r)
        cli_error(c, "%s", err.msg);
    return r;
}

json_t *cli_op_call(cli *c, PGconn *conn, const char *op, json_t *args, int *rc) {
    ops_call k;
    *rc = cli_op_check(c, &k, op, args, NULL);
    json_decref(args);
    if (*rc)
        return NULL;
    json_t *j = cli_call(c, conn, k.op->sql, k.op->n_args, k.v, NULL);
    ops_call_close(&k);
    *rc = j ? 0 : 1;
    return j;
}

int cli_pending(const cli *c, const json_t *j) {
    const char *st = json_string_value(json_object_get(j, "status"));
    if (!st || strcmp(st, "pending"))
        return 0;
    if (c->json)
        cli_print_json(j);
    else
        printf("change %lld recorded: %s\n",
               (long long)json_integer_value(json_object_get(j, "change_id")),
               json_string_value(json_object_get(j, "reason")));
    return 1;
}

void cli_print_json(const json_t *j) {
    char *t = json_dumps(j, JSON_COMPACT);
    puts(t ? t : "null");
    free(t);
}

int cli_rows(cli *c, PGconn *conn, const char *sql, const char *header, void (*row)(json_t *j)) {
    error err;
    PGresult *r = pg_query(conn, sql, 0, NULL, NULL, &err);
    if (!r) {
        cli_error(c, "%s", err.msg);
        return 1;
    }
    if (c->json)
        putchar('[');
    else
        fputs(header, stdout);
    for (int i = 0; i < PQntuples(r); i++) {
        if (c->json) {
            printf("%s%s", i ? "," : "", PQgetvalue(r, i, 0));
            continue;
        }
        json_t *j = json_loads(PQgetvalue(r, i, 0), 0, NULL);
        row(j);
        json_decref(j);
    }
    if (c->json)
        puts("]");
    PQclear(r);
    return 0;
}

int cli_exec_sub(cli *c, const char *program, const char *first, int argc, char **argv) {
    char **av = calloc((size_t)argc + 2, sizeof *av);
    int n = 0;
    av[n++] = (char *)program;
    if (first)
        av[n++] = (char *)first;
    for (int i = 1; i < argc; i++)
        av[n++] = argv[i];
    int rc = cli_exec(c, program, av);
    free(av);
    return rc;
}

int cli_program_path(const char *program, char *path, size_t n) {
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0 || strchr(program, '/'))
        return -1;
    exe[len] = '\0';
    *strrchr(exe, '/') = '\0';
    snprintf(path, n, "%s/%s", exe, program);
    return access(path, X_OK) == 0 ? 0 : -1;
}

int cli_exec(cli *c, const char *program, char **argv) {
    char path[PATH_MAX + 64];
    if (cli_program_path(program, path, sizeof path) < 0) {
        cli_error(c, "%s is not installed beside spoor", program);
        return 2;
    }
    if (c->config_path)
        setenv("SPOOR_CONFIG", c->config_path, 1);
    if (c->cfg.dsn && *c->cfg.dsn)
        setenv("SPOOR_DSN", c->cfg.dsn, 1);
    execv(path, argv);
    cli_error(c, "cannot run %s", path);
    return 1;
}
