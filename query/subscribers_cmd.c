#include "subscribers_cmd.h"
#include "arena.h"
#include "csv.h"
#include "fileio.h"
#include "mem.h"
#include "pg.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Columns the customer-system export may carry; account is required. */
static const char *const columns[] = {"account", "full_name", "postal_address", "billing_contact",
                                      "customer_ref"};
#define NCOL (sizeof columns / sizeof columns[0])

static void usage(FILE *out) {
    fprintf(out, "usage: spoor subscribers import FILE.csv\n"
                 "Loads subscriber identities (account,full_name,postal_address,billing_contact,\n"
                 "customer_ref; a header row names the columns, account is required) into the\n"
                 "separate identity schema, replacing earlier rows of the same accounts, in one\n"
                 "transaction.  Needs the admin role.  Identities are revealed only to a request\n"
                 "approved with --subscriber-data.\n");
}

/* Fields left out of a row: the empty ones (a field that is not UTF-8 is
 * left out too, by json_string, and makes the counts differ). */
static size_t empty_fields(char **f, size_t n) {
    size_t e = 0;
    for (size_t i = 0; i < n; i++)
        e += !*f[i];
    return e;
}

static int send_chunk(cli *c, PGconn *conn, json_t *rows, const char *sha, const char *path,
                      long long *total) {
    char *js = json_dumps(rows, JSON_COMPACT);
    const char *v[] = {js, sha, path};
    json_t *j =
        cli_call(c, conn, "SELECT spoor_identity.subscriber_import($1, $2, $3)", 3, v, NULL);
    free(js);
    if (!j)
        return -1;
    *total += json_integer_value(json_object_get(j, "rows"));
    /* Changes to stored identities wait for a second admin. */
    if (json_integer_value(json_object_get(j, "pending_overwrites")) > 0)
        fprintf(stderr, "spoor subscribers: %lld stored identities would change: change %lld %s\n",
                (long long)json_integer_value(json_object_get(j, "pending_overwrites")),
                (long long)json_integer_value(json_object_get(j, "change_id")),
                json_string_value(json_object_get(j, "reason"))
                    ? json_string_value(json_object_get(j, "reason"))
                    : "awaits a second admin");
    json_decref(j);
    json_array_clear(rows);
    return 0;
}

int subscribers_cmd_run(cli *c, int argc, char **argv) {
    if (argc >= 2 && cli_is_help(argv[1])) {
        usage(stdout);
        return 0;
    }
    if (argc < 3 || strcmp(argv[1], "import")) {
        usage(stderr);
        return 2;
    }
    const char *path = argv[2];
    error err;
    size_t len;
    char *data = fileio_read(path, 0, &len, &err);
    if (!data) {
        cli_error(c, "%s", err.msg);
        return 1;
    }
    unsigned char h[32];
    char sha[65];
    crypto_hash_sha256(h, (const unsigned char *)data, len);
    sodium_bin2hex(sha, sizeof sha, h, sizeof h);

    arena a;
    arena_init(&a, 0);
    csv r;
    csv_init(&r, data, len);
    char **f;
    size_t n;
    long line;
    int map[16], rc = 1;
    size_t ncols = 0;
    json_t *rows = json_array(), *seen = json_object();
    PGconn *conn = NULL;
    error ce;
    error_clear(&ce);
    int got = csv_next(&r, &a, &f, &n, &line, &ce);
    if (got < 0) {
        cli_error(c, "%s:%d: %s", path, ce.line, ce.msg);
        goto out;
    }
    if (got == 0) {
        cli_error(c, "%s: empty file (a header row is required)", path);
        goto out;
    }
    /* The header names the columns, in any order. */
    int have_account = 0;
    for (size_t i = 0; i < n; i++) {
        map[i] = -1;
        if (i >= 16) {
            cli_error(c, "%s:%ld: more than 16 columns", path, line);
            goto out;
        }
        for (size_t k = 0; k < NCOL; k++)
            if (!strcmp(f[i], columns[k]))
                map[i] = (int)k;
        if (map[i] < 0) {
            cli_error(c,
                      "%s:%ld: unknown column '%s' (known: account, full_name, "
                      "postal_address, billing_contact, customer_ref)",
                      path, line, f[i]);
            goto out;
        }
        have_account |= map[i] == 0;
    }
    ncols = n;
    if (!have_account) {
        cli_error(c, "%s:%ld: the header has no 'account' column", path, line);
        goto out;
    }
    conn = cli_connect(c);
    if (!conn)
        goto out;
    /* All rows go in one call, one statement: all or nothing, and audited
     * calls run on their own, never inside BEGIN ... COMMIT (sql/013).  One
     * call takes up to 1 GB of JSON, some five million subscribers. */
    long long total = 0;
    while ((got = csv_next(&r, &a, &f, &n, &line, &ce)) > 0) {
        if (n != ncols) {
            cli_error(c, "%s:%ld: %zu fields, the header has %zu", path, line, n, ncols);
            goto out;
        }
        json_t *row = json_object();
        for (size_t i = 0; i < n; i++)
            if (*f[i])
                json_object_set_new(row, columns[map[i]], json_string(f[i]));
        const char *acct = json_string_value(json_object_get(row, "account"));
        if (json_object_size(row) != (size_t)n - (size_t)empty_fields(f, n) || !acct) {
            cli_error(c, "%s:%ld: an empty account, or a field that is not UTF-8", path, line);
            json_decref(row);
            goto out;
        }
        json_t *first = json_object_get(seen, acct);
        if (first) {
            cli_error(c, "%s:%ld: account '%s' appears twice (first on line %lld)", path, line,
                      acct, (long long)json_integer_value(first));
            json_decref(row);
            goto out;
        }
        json_object_set_new(seen, acct, json_integer(line));
        json_array_append_new(rows, row);
        arena_reset(&a);
    }
    if (got < 0) {
        cli_error(c, "%s:%d: %s", path, ce.line, ce.msg);
        goto out;
    }
    if (json_array_size(rows) && send_chunk(c, conn, rows, sha, path, &total) < 0)
        goto out;
    if (c->json)
        printf("{\"status\":\"ok\",\"rows\":%lld,\"sha256\":\"%s\"}\n", total, sha);
    else
        printf("imported %lld subscribers from %s (sha256 %s)\n", total, path, sha);
    rc = 0;
out:
    if (conn)
        PQfinish(conn); /* an open transaction is rolled back: all or nothing */
    json_decref(rows);
    json_decref(seen);
    arena_close(&a);
    free(data);
    return rc;
}
