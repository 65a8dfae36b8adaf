/*
 * spoor: the person's command-line tool.  It has no power of its own: it
 * connects to PostgreSQL as the person running it, so every right it uses is
 * that person's role (and every audit entry names them).
 *
 * Built-in commands live in this folder; `spoor NAME` for any other NAME
 * runs the program spoor-NAME installed beside this one (git-style), so
 * commands that parse untrusted input (`spoor import`) run in their own
 * small program.
 */
#include "cli.h"
#include "db.h"
#include "hold_cmd.h"
#include "ingest_cmd.h"
#include "nat_cmd.h"
#include "report_cmd.h"
#include "request_cmd.h"
#include "retention_cmd.h"
#include "subscribers_cmd.h"
#include "token_cmd.h"
#include "trace_cmd.h"
#include "user_cmd.h"
#include "admin_cmd.h"

#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SPOOR_VERSION
#define SPOOR_VERSION "0.1.0"
#endif

static int cmd_help(cli *c, int argc, char **argv);
static int cmd_verify_package(cli *c, int argc, char **argv);

static int cmd_version(cli *c, int argc, char **argv) {
    (void)c, (void)argc, (void)argv;
    printf("spoor %s\n", SPOOR_VERSION);
    return 0;
}

static int cmd_config(cli *c, int argc, char **argv) {
    if (argc > 1 && cli_is_help(argv[1])) {
        printf("usage: spoor config   print the effective configuration (passwords redacted)\n");
        return 0;
    }
    config_print(&c->cfg, stdout);
    return 0;
}

static const cli_command commands[] = {
    {"help", cmd_help, "show this help, or a command's (spoor help COMMAND)"},
    {"version", cmd_version, "print the version"},
    {"config", cmd_config, "print the effective configuration"},
    {"db", db_run, "migrate | status: the database schema"},
    {"ingest", ingest_cmd_run, "status: positions and counts per source"},
    {"request", request_cmd_run,
     "create | approve | reject | assign | list | show | cancel | disclosed | close | export: "
     "requests"},
    {"hold", hold_cmd_run, "list | renew | release: legal holds from preservation requests"},
    {"report", report_cmd_run, "open requests, deadlines at risk, holds, yearly figures"},
    {"retention", retention_cmd_run, "policy [set CLASS KEEP] | run | maintain | plan"},
    {"subscribers", subscribers_cmd_run, "import FILE.csv: subscriber identities (admin)"},
    {"verify-package", cmd_verify_package, "DIR --key PUBLIC_KEY: check a disclosure package"},
    {"trace", trace_cmd_run, "ip | message-id: lookups under an approved request"},
    {"user", user_cmd_run, "add NAME --role ROLE: a person in one of Spoor's groups"},
    {"token", token_cmd_run, "create | list | revoke: bearer tokens for spoor-api"},
    {"nat", nat_cmd_run, "config add | list: deterministic carrier-grade NAT configurations"},
    {"admin", admin_cmd_run, "list | confirm | reject: changes that take two admins"},
    {"import", NULL, "load historical log files (runs spoor-import)"},
    {"audit", NULL, "verify | checkpoint | keygen | list: the audit trail (runs spoor-audit)"},
    {NULL, NULL, NULL},
};

static void usage(FILE *out) {
    fprintf(out,
            "usage: spoor [--config FILE] [--dsn DSN] [--set KEY=VALUE] [--json] COMMAND [ARGS]\n\n"
            "commands:\n");
    for (const cli_command *k = commands; k->name; k++)
        fprintf(out, "  %-10s %s\n", k->name, k->summary);
    fprintf(out, "\nThe database connection follows libpq: PGHOST, PGPORT, PGUSER, PGDATABASE,\n"
                 "or SPOOR_DSN / --dsn.  `spoor COMMAND --help` describes a command.\n");
}

static int cmd_help(cli *c, int argc, char **argv) {
    (void)c;
    if (argc > 1) {
        char *sub[] = {argv[1], "--help", NULL};
        for (const cli_command *k = commands; k->name; k++)
            if (!strcmp(k->name, argv[1]) && k->run && k->run != cmd_help)
                return k->run(c, 2, sub);
    }
    usage(stdout);
    return 0;
}

/* Runs spoor-NAME from the folder this executable is in (git-style). */
static int run_external(cli *c, int argc, char **argv) {
    (void)argc;
    char prog[256];
    snprintf(prog, sizeof prog, "spoor-%s", argv[0]);
    char path[PATH_MAX + 300];
    if (cli_program_path(prog, path, sizeof path) < 0) {
        cli_error(c, "unknown command '%s' (try: spoor help)", argv[0]);
        return 2;
    }
    return cli_exec(c, prog, argv);
}

/* `spoor verify-package DIR --key PUB` is `spoor-package verify ...`. */
static int cmd_verify_package(cli *c, int argc, char **argv) {
    return cli_exec_sub(c, "spoor-package", "verify", argc, argv);
}

int main(int argc, char **argv) {
    cli c = {0};
    c.argv0 = argv[0];
    if (sodium_init() < 0) {
        fprintf(stderr, "spoor: libsodium failed to initialise\n");
        return 1;
    }
    const char *config_path = NULL;
    int i = 1;
    /* Global options come before the command; the file is read first so that
     * --dsn and --set override it. */
    for (int j = 1; j < argc && argv[j][0] == '-'; j++)
        if (!strcmp(argv[j], "--config") && j + 1 < argc)
            config_path = argv[++j];
    error e;
    c.config_path = config_path;
    if (config_load(&c.cfg, config_path, &e) < 0) {
        fprintf(stderr, "spoor: %s\n", e.msg);
        return 1;
    }
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            i++;
        else if (!strcmp(argv[i], "--dsn") && i + 1 < argc) {
            if (config_set(&c.cfg, "dsn", argv[++i], &e) < 0)
                goto bad;
        } else if (!strcmp(argv[i], "--set") && i + 1 < argc) {
            char *kv = argv[++i], *eq = strchr(kv, '=');
            if (!eq) {
                error_set(&e, "bad_argument", 0, "--set wants KEY=VALUE, got '%s'", kv);
                goto bad;
            }
            *eq = '\0';
            int r = config_set(&c.cfg, kv, eq + 1, &e);
            *eq = '=';
            if (r < 0)
                goto bad;
        } else if (!strcmp(argv[i], "--json"))
            c.json = 1;
        else if (cli_is_help(argv[i])) {
            usage(stdout);
            config_free(&c.cfg);
            return 0;
        } else {
            error_set(&e, "bad_argument", 0, "unknown option '%s' (try: spoor help)", argv[i]);
            goto bad;
        }
    }
    if (i >= argc) {
        usage(stderr);
        config_free(&c.cfg);
        return 2;
    }
    c.command = argv[i];
    /* A command's own --json is accepted too. */
    for (int j = i + 1; j < argc; j++)
        if (!strcmp(argv[j], "--json"))
            c.json = 1;
    int rc = -1;
    for (const cli_command *k = commands; k->name; k++)
        if (!strcmp(k->name, argv[i]) && k->run)
            rc = k->run(&c, argc - i, argv + i);
    if (rc < 0)
        rc = run_external(&c, argc - i, argv + i);
    config_free(&c.cfg);
    return rc;
bad:
    fprintf(stderr, "spoor: %s\n", e.msg);
    config_free(&c.cfg);
    return 2;
}
