#include "cli.h"
#include "pg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void cli_error(const cli *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "spoor%s%s: ", c->command ? " " : "", c->command ? c->command : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

PGconn *cli_connect(cli *c) {
    char err[1024];
    PGconn *conn = pg_connect(c->cfg.dsn, "spoor", err, sizeof err);
    if (!conn) {
        cli_error(c, "%s", err);
        return NULL;
    }
    /* NOTICEs ("already exists, skipping") are noise for a person; warnings are not. */
    PQclear(PQexec(conn, "SET client_min_messages TO warning"));
    /* Times in answers are RFC 3339 UTC, whatever the person's locale. */
    PQclear(PQexec(conn, "SET TIME ZONE 'UTC'"));
    return conn;
}

int cli_is_help(const char *arg) {
    return !strcmp(arg, "-h") || !strcmp(arg, "--help");
}
