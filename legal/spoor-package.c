/*
 * spoor-package: disclosure packages.
 *
 *   spoor request export ID DIR [--key SECRET_KEY_FILE]   (runs spoor-package export)
 *   spoor verify-package DIR --key PUBLIC_KEY_FILE        (runs spoor-package verify)
 *
 * export builds the package from what the database kept of an executed
 * request (spoor.request_export, which the person's role must be allowed to
 * call; the export itself is audited): request.json, one results/SEQ-ACTION.json
 * per allowed lookup holding the answer byte for byte as its audit entry's
 * result digest was taken, results.csv, evidence.json (the verbatim lines
 * with their evidence blocks' SHA-256), audit.json (the request's audit
 * entries with their hashes), retained-data.xml (ETSI TS 102 657), then a
 * manifest with every file's SHA-256 signed with the ISP's Ed25519 key (the
 * same kind of key file as `spoor audit keygen` makes, mode 0400, never in
 * argv or the database).
 *
 * verify needs no database: the signature, every file, files added, every
 * audit entry's hash recomputed, and every result file against the digest
 * its audit entry recorded.  It names each problem and exits 1 if any.
 */
#include "audit_chain.h"
#include "config.h"
#include "disclosure.h"
#include "etsi_rd.h"
#include "lookup_call.h"
#include "mem.h"
#include "package.h"
#include "pg.h"
#include "timeutil.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_help(const char *a) {
    return !strcmp(a, "-h") || !strcmp(a, "--help");
}

static void usage(FILE *out) {
    fprintf(out, "usage: spoor request export ID DIR [--key SECRET_KEY_FILE]\n"
                 "       spoor verify-package DIR --key PUBLIC_KEY_FILE\n"
                 "The secret key defaults to legal.signing_key in spoor.conf.\n");
}

static const char *str(json_t *o, const char *k) {
    return json_string_value(json_object_get(o, k));
}

static int export(spoor_config *cfg, const char *id, const char *dir, const char *key_path) {
    error err;
    unsigned char sk[64];
    if (!key_path || !*key_path) {
        fprintf(stderr, "spoor request export: a signing key is required (--key FILE, or "
                        "legal.signing_key in spoor.conf)\n");
        return 2;
    }
    if (audit_key_read(key_path, sk, sizeof sk, 1, &err) < 0) {
        fprintf(stderr, "spoor request export: %s\n", err.msg);
        return 1;
    }
    PGconn *c = pg_connect(cfg->dsn, "spoor-package", &err);
    if (!c) {
        fprintf(stderr, "spoor request export: %s\n", err.msg);
        sodium_memzero(sk, sizeof sk);
        return 1;
    }
    PQclear(PQexec(c, "SET TIME ZONE 'UTC'"));
    /* Audited calls refuse to run without a bounded statement (sql/013). */
    PQclear(PQexec(c, "SET statement_timeout = '60s'"));
    const char *v[] = {id};
    PGresult *r = pg_query(c, "SELECT spoor.request_export($1)", 1, v, NULL, &err);
    if (r) /* recorded first; the data once the record has committed */
        r = lookup_call_answered(c, r, &err);
    if (!r) {
        fprintf(stderr, "spoor request export: %s\n", err.msg);
        PQfinish(c);
        sodium_memzero(sk, sizeof sk);
        return 1;
    }
    json_t *x = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    PQclear(r);
    PQfinish(c);
    const char *why;
    if (!disclosure_ok(x, &why)) {
        fprintf(stderr, "spoor request export: refused: %s\n", why);
        json_decref(x);
        sodium_memzero(sk, sizeof sk);
        return 1;
    }
    package p;
    if (package_open(&p, dir, &err) < 0) {
        fprintf(stderr, "spoor request export: %s\n", err.msg);
        json_decref(x);
        sodium_memzero(sk, sizeof sk);
        return 1;
    }
    disclosure_opts o = {cfg->legal_country, cfg->legal_csp_id, cfg->legal_mta_addresses};
    disclosure_stats st;
    int rc = disclosure_build(&p, x, &o, sk, &st, &err);
    sodium_memzero(sk, sizeof sk);
    if (rc == 0)
        printf("wrote %s: %zu files, %zu results, %zu evidence lines, signed by key %.16s...\n",
               dir, st.files, st.results, st.evidence, st.public_key);
    else
        fprintf(stderr, "spoor request export: %s\n", err.msg);
    json_decref(x);
    package_close(&p);
    return rc == 0 ? 0 : 1;
}

/* Recomputes every audit entry's hash and checks result files against their digests. */
static int verify_contents(const char *dir, json_t *manifest, buf *problems, size_t *n_audit,
                           size_t *n_results) {
    error err;
    size_t len;
    int n = 0;
    char *text = package_read(dir, "audit.json", &len, &err);
    json_t *audit = text ? json_loadb(text, len, 0, NULL) : NULL;
    free(text);
    if (!json_is_array(audit)) {
        buf_printf(problems, "audit.json: missing or unreadable\n");
        json_decref(audit);
        return 1;
    }
    json_t *digests = json_object();
    size_t i;
    json_t *e;
    json_array_foreach(audit, i, e) {
        audit_entry a = {0};
        char req[32] = "";
        unsigned char prev[32];
        size_t pl = 0, hl = 0;
        const char *ph = str(e, "prev_hash"), *hh = str(e, "hash");
        a.seq = (long long)json_integer_value(json_object_get(e, "seq"));
        a.at = str(e, "at");
        a.actor = str(e, "actor");
        a.action = str(e, "action");
        if (json_is_integer(json_object_get(e, "request_id")))
            snprintf(req, sizeof req, "%lld",
                     (long long)json_integer_value(json_object_get(e, "request_id")));
        a.request = req;
        a.params = str(e, "params");
        a.outcome = str(e, "outcome");
        a.digest = str(e, "result_digest") ? str(e, "result_digest") : "";
        if (!a.at || !a.actor || !a.action || !a.params || !a.outcome || !ph || !hh ||
            sodium_hex2bin(prev, sizeof prev, ph, strlen(ph), NULL, &pl, NULL) ||
            sodium_hex2bin(a.hash, sizeof a.hash, hh, strlen(hh), NULL, &hl, NULL) || hl != 32 ||
            (pl != 0 && pl != 32)) {
            buf_printf(problems, "audit.json: entry %zu is malformed\n", i);
            n++;
            continue;
        }
        unsigned char h[32];
        audit_chain_hash(&a, prev, pl, h);
        if (memcmp(h, a.hash, 32)) {
            buf_printf(problems, "audit.json: entry %lld (%s) does not match its hash\n", a.seq,
                       a.action);
            n++;
        }
        char key[32];
        snprintf(key, sizeof key, "%lld", a.seq);
        json_object_set_new(digests, key, json_string(a.digest));
    }
    *n_audit = json_array_size(audit);
    json_array_foreach(json_object_get(manifest, "files"), i, e) {
        const char *name = str(e, "name");
        long long seq;
        if (!name || strncmp(name, "results/", 8) || sscanf(name + 8, "%lld-", &seq) != 1)
            continue;
        (*n_results)++;
        char key[32];
        snprintf(key, sizeof key, "%lld", seq);
        const char *want = json_string_value(json_object_get(digests, key));
        char *d = package_read(dir, name, &len, &err);
        if (!d)
            continue; /* already reported as missing */
        unsigned char hb[32];
        char hex[65];
        crypto_hash_sha256(hb, (const unsigned char *)d, len);
        sodium_bin2hex(hex, sizeof hex, hb, 32);
        free(d);
        if (!want)
            buf_printf(problems, "%s: no audit entry %lld in audit.json\n", name, seq), n++;
        else if (strcmp(want, hex))
            buf_printf(problems, "%s: does not match the result digest of audit entry %lld\n", name,
                       seq),
                n++;
    }
    json_decref(digests);
    json_decref(audit);
    return n;
}

static int verify(const char *dir, const char *key_path) {
    error err;
    unsigned char pk[32];
    if (!key_path) {
        fprintf(stderr, "spoor verify-package: --key PUBLIC_KEY_FILE is required\n");
        return 2;
    }
    if (audit_key_read(key_path, pk, sizeof pk, 0, &err) < 0) {
        fprintf(stderr, "spoor verify-package: %s\n", err.msg);
        return 2;
    }
    buf problems;
    buf_init(&problems);
    json_t *man = NULL;
    int n = package_verify(dir, pk, &man, &problems);
    size_t n_audit = 0, n_results = 0;
    /* Contents are checked only under a good signature (their names come
     * from the manifest). */
    if (man && n == 0)
        n += verify_contents(dir, man, &problems, &n_audit, &n_results);
    if (n) {
        fprintf(stderr, "spoor verify-package: %s: %d problem%s\n%.*s", dir, n, n == 1 ? "" : "s",
                (int)problems.len, problems.p ? problems.p : "");
    } else
        printf("%s: intact — signature good, %zu files, %zu audit entries and %zu results "
               "check out (request %lld, %s)\n",
               dir, json_array_size(json_object_get(man, "files")), n_audit, n_results,
               (long long)json_integer_value(json_object_get(man, "request_id")),
               str(man, "case_ref") ? str(man, "case_ref") : "");
    json_decref(man);
    buf_close(&problems);
    return n ? 1 : 0;
}

int main(int argc, char **argv) {
    if (sodium_init() < 0)
        return 1;
    if (argc < 3 || is_help(argv[1])) {
        usage(argc < 3 && !(argc == 2 && is_help(argv[1])) ? stderr : stdout);
        return argc < 3 && !(argc == 2 && is_help(argv[1])) ? 2 : 0;
    }
    spoor_config cfg;
    error err;
    if (config_load(&cfg, NULL, &err) < 0) {
        fprintf(stderr, "spoor-package: %s\n", err.msg);
        return 1;
    }
    const char *key = NULL;
    int pos = 0;
    const char *args[2] = {NULL, NULL};
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--key") && i + 1 < argc)
            key = argv[++i];
        else if (!strcmp(argv[i], "--json"))
            continue;
        else if (argv[i][0] != '-' && pos < 2)
            args[pos++] = argv[i];
        else {
            fprintf(stderr, "spoor-package: unexpected argument '%s'\n", argv[i]);
            config_free(&cfg);
            return 2;
        }
    }
    int rc;
    if (!strcmp(argv[1], "export") && pos == 2)
        rc = export(&cfg, args[0], args[1], key ? key : cfg.legal_signing_key);
    else if (!strcmp(argv[1], "verify") && pos == 1)
        rc = verify(args[0], key);
    else {
        usage(stderr);
        rc = 2;
    }
    config_free(&cfg);
    return rc;
}
