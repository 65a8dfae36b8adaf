#include "token_cmd.h"
#include "pg.h"

#include <jansson.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void token_row(json_t *j) {
    printf("%-6lld %-16s %-8s %-26s %s\n",
           (long long)json_integer_value(json_object_get(j, "token_id")),
           json_string_value(json_object_get(j, "person")),
           json_string_value(json_object_get(j, "state")),
           json_string_value(json_object_get(j, "created_at")),
           json_string_value(json_object_get(j, "expires_at")));
}

/* spoor token list: your tokens (an admin's: everyone's), never the tokens. */
static int token_list(cli *c) {
    PGconn *conn = cli_connect(c);
    if (!conn)
        return 1;
    int rc = cli_rows(c, conn, "SELECT spoor.token_list()",
                      "id     person           state    created                    expires\n",
                      token_row);
    PQfinish(conn);
    return rc;
}

/* spoor token revoke ID: your own token, or (admin) anyone's; audited. */
static int token_revoke(cli *c, const char *id) {
    PGconn *conn = cli_connect(c);
    if (!conn)
        return 1;
    int rc;
    json_t *j = cli_op_call(c, conn, "token.revoke", json_pack("{s:s}", "id", id), &rc);
    PQfinish(conn);
    if (!j)
        return rc;
    if (c->json)
        cli_print_json(j);
    else
        printf("token %s revoked\n", id);
    json_decref(j);
    return 0;
}

int token_cmd_run(cli *c, int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "list"))
        return token_list(c);
    if (argc >= 3 && !strcmp(argv[1], "revoke"))
        return token_revoke(c, argv[2]);
    if (argc < 2 || cli_is_help(argv[1]) || strcmp(argv[1], "create")) {
        fprintf(argc >= 2 && cli_is_help(argv[1]) ? stdout : stderr,
                "usage: spoor token create [--days N]   a spoor-api bearer token for you "
                "(shown once)\n"
                "       spoor token list                 your tokens (an admin: everyone's)\n"
                "       spoor token revoke ID            revoke one (yours, or as an admin)\n");
        return argc >= 2 && cli_is_help(argv[1]) ? 0 : 2;
    }
    const char *days = "30";
    for (int i = 2; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--days"))
            days = argv[++i];
    unsigned char raw[32], h[32];
    randombytes_buf(raw, sizeof raw);
    char token[8 + 2 * sizeof raw + 1] = "spoor_";
    sodium_bin2hex(token + 6, sizeof token - 6, raw, sizeof raw);
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    PGconn *conn = cli_connect(c);
    if (!conn)
        return 1;
    const char *v[] = {(const char *)h, days};
    int lens[] = {32, 0}, fmts[] = {1, 0};
    PGresult *r = PQexecParams(conn, "SELECT spoor.api_token_create($1, $2::integer)", 2, NULL, v,
                               lens, fmts, 0);
    int rc = 0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        error err;
        pg_error(conn, r, &err);
        cli_error(c, "%s", err.msg);
        rc = 1;
    } else if (c->json)
        printf("{\"token\":\"%s\",\"expires_at\":\"%s\"}\n", token, PQgetvalue(r, 0, 0));
    else
        printf("%s\n(expires %s; shown only now, stored only as its SHA-256)\n", token,
               PQgetvalue(r, 0, 0));
    sodium_memzero(token, sizeof token);
    PQclear(r);
    PQfinish(conn);
    return rc;
}
