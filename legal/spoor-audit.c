/*
 * spoor-audit: the audit trail, for auditors and regulators.  Run as
 * `spoor audit ...`; it acts with the person's database role (a member of
 * spoor_auditor reads the trail through spoor.audit_list).
 *
 *   spoor audit verify [--checkpoint FILE --key PUBLIC_KEY_FILE]
 *   spoor audit checkpoint --key SECRET_KEY_FILE [--out FILE]
 *   spoor audit keygen DIR          (DIR/audit.key 0400, DIR/audit.pub)
 *   spoor audit list [--request ID] [--json]
 *
 * verify recomputes every entry's SHA-256 here, trusting neither the server
 * nor its functions, and names the first broken link.  A checkpoint is the
 * head (sequence number and hash) signed with the ISP's Ed25519 key; checking
 * against one also detects a trail cut off after it.
 */
#include "audit_chain.h"
#include "config.h"
#include "mem.h"
#include "pg.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *out) {
    fprintf(out, "usage: spoor audit verify [--checkpoint FILE --key PUBLIC_KEY_FILE]\n"
                 "       spoor audit checkpoint --key SECRET_KEY_FILE [--out FILE]\n"
                 "       spoor audit keygen DIR\n"
                 "       spoor audit list [--request ID] [--json]\n");
}

static int die(const char *fmt, const char *a) {
    fprintf(stderr, "spoor audit: ");
    fprintf(stderr, fmt, a);
    fputc('\n', stderr);
    return 1;
}

static PGresult *load(PGconn *c, const char *request) {
    const char *v[] = {request};
    PGresult *r = PQexecParams(
        c,
        "SELECT seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), actor, "
        "action, coalesce(request_id::text, ''), params::text, outcome, coalesce(result_digest, "
        "''), "
        "encode(prev_hash, 'hex'), encode(hash, 'hex') FROM spoor.audit_list($1) ORDER BY seq",
        1, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        error err;
        pg_error(c, r, &err);
        fprintf(stderr, "spoor audit: reading the trail: %s\n", err.msg);
        PQclear(r);
        return NULL;
    }
    return r;
}

static audit_entry *entries(PGresult *r, size_t *n) {
    *n = (size_t)PQntuples(r);
    audit_entry *e = mem_zalloc(sizeof *e * (*n + 1));
    for (size_t i = 0; i < *n; i++) {
        int k = (int)i;
        e[i].seq = atoll(PQgetvalue(r, k, 0));
        e[i].at = PQgetvalue(r, k, 1);
        e[i].actor = PQgetvalue(r, k, 2);
        e[i].action = PQgetvalue(r, k, 3);
        e[i].request = PQgetvalue(r, k, 4);
        e[i].params = PQgetvalue(r, k, 5);
        e[i].outcome = PQgetvalue(r, k, 6);
        e[i].digest = PQgetvalue(r, k, 7);
        size_t len = 0;
        sodium_hex2bin(e[i].prev, 32, PQgetvalue(r, k, 8), strlen(PQgetvalue(r, k, 8)), NULL, &len,
                       NULL);
        e[i].prev_len = len;
        sodium_hex2bin(e[i].hash, 32, PQgetvalue(r, k, 9), 64, NULL, &len, NULL);
    }
    return e;
}

static int verify(PGconn *c, const char *cp_path, const char *key_path) {
    PGresult *r = load(c, NULL);
    if (!r)
        return 1;
    size_t n;
    audit_entry *e = entries(r, &n);
    error err;
    int rc = 0;
    if (audit_chain_verify(e, n, &err) < 0) {
        fprintf(stderr, "spoor audit: BROKEN: %s\n", err.msg);
        rc = 1;
    } else if (cp_path) {
        unsigned char pk[crypto_sign_PUBLICKEYBYTES];
        json_error_t je;
        json_t *cp = json_load_file(cp_path, 0, &je);
        const char *hh = cp ? json_string_value(json_object_get(cp, "hash")) : NULL;
        const char *sh = cp ? json_string_value(json_object_get(cp, "signature")) : NULL;
        long long seq = cp ? (long long)json_integer_value(json_object_get(cp, "seq")) : 0;
        unsigned char hash[32], sig[64];
        size_t l1 = 0, l2 = 0;
        if (!hh || !sh || sodium_hex2bin(hash, 32, hh, strlen(hh), NULL, &l1, NULL) || l1 != 32 ||
            sodium_hex2bin(sig, 64, sh, strlen(sh), NULL, &l2, NULL) || l2 != 64) {
            fprintf(stderr, "spoor audit: %s: not a checkpoint\n", cp_path);
            rc = 1;
        } else if (audit_key_read(key_path, pk, sizeof pk, 0, &err) < 0) {
            fprintf(stderr, "spoor audit: %s\n", err.msg);
            rc = 1;
        } else {
            char msg[200];
            audit_checkpoint_message(seq, hash, msg, sizeof msg);
            if (crypto_sign_verify_detached(sig, (const unsigned char *)msg, strlen(msg), pk) !=
                0) {
                fprintf(stderr, "spoor audit: BROKEN: the checkpoint's signature is not valid for "
                                "this key\n");
                rc = 1;
            } else if ((size_t)seq > n) {
                fprintf(stderr,
                        "spoor audit: BROKEN: the trail ends at entry %zu but the signed "
                        "checkpoint names entry %lld: entries were cut off\n",
                        n, seq);
                rc = 1;
            } else if (seq < 1 || memcmp(e[seq - 1].hash, hash, 32) != 0) {
                fprintf(stderr,
                        "spoor audit: BROKEN: entry %lld differs from the signed checkpoint\n",
                        seq);
                rc = 1;
            }
        }
        json_decref(cp);
    }
    if (rc == 0)
        printf("audit trail intact: %zu entries%s%s\n", n,
               cp_path ? ", consistent with checkpoint " : "", cp_path ? cp_path : "");
    free(e);
    PQclear(r);
    return rc;
}

static int checkpoint(PGconn *c, const char *key_path, const char *out_path) {
    unsigned char sk[crypto_sign_SECRETKEYBYTES], pk[crypto_sign_PUBLICKEYBYTES];
    error err;
    if (audit_key_read(key_path, sk, sizeof sk, 1, &err) < 0)
        return die("%s", err.msg);
    crypto_sign_ed25519_sk_to_pk(pk, sk);
    PGresult *r = load(c, NULL);
    if (!r)
        return 1;
    size_t n;
    audit_entry *e = entries(r, &n);
    int rc = 1;
    if (n == 0)
        fprintf(stderr, "spoor audit: the trail is empty\n");
    else if (audit_chain_verify(e, n, &err) < 0)
        fprintf(stderr, "spoor audit: refusing to sign a broken trail: %s\n", err.msg);
    else {
        char msg[200], hh[65], sh[129], ph[65];
        audit_checkpoint_message(e[n - 1].seq, e[n - 1].hash, msg, sizeof msg);
        unsigned char sig[64];
        crypto_sign_detached(sig, NULL, (const unsigned char *)msg, strlen(msg), sk);
        sodium_bin2hex(hh, sizeof hh, e[n - 1].hash, 32);
        sodium_bin2hex(sh, sizeof sh, sig, 64);
        sodium_bin2hex(ph, sizeof ph, pk, sizeof pk);
        json_t *j =
            json_pack("{s:I,s:s,s:s,s:s,s:s,s:s}", "seq", (json_int_t)e[n - 1].seq, "hash", hh,
                      "at", e[n - 1].at, "signed_message", msg, "signature", sh, "public_key", ph);
        char *s = json_dumps(j, JSON_INDENT(2));
        if (out_path) {
            FILE *f = fopen(out_path, "w");
            if (f) {
                fprintf(f, "%s\n", s);
                fclose(f);
                printf("checkpoint of entry %lld written to %s\n", e[n - 1].seq, out_path);
                rc = 0;
            } else
                fprintf(stderr, "spoor audit: %s: %s\n", out_path, strerror(errno));
        } else {
            puts(s);
            rc = 0;
        }
        free(s);
        json_decref(j);
    }
    sodium_memzero(sk, sizeof sk);
    free(e);
    PQclear(r);
    return rc;
}

static int keygen(const char *dir) {
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    char path[4096], hex[2 * crypto_sign_SECRETKEYBYTES + 2];
    snprintf(path, sizeof path, "%s/audit.key", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
    if (fd < 0)
        return die("cannot create %s (it must not exist yet)", path);
    sodium_bin2hex(hex, sizeof hex, sk, sizeof sk);
    strcat(hex, "\n");
    ssize_t w = write(fd, hex, strlen(hex));
    close(fd);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(hex, sizeof hex);
    if (w <= 0)
        return die("cannot write %s", path);
    snprintf(path, sizeof path, "%s/audit.pub", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return die("cannot create %s", path);
    sodium_bin2hex(hex, sizeof hex, pk, sizeof pk);
    fprintf(f, "%s\n", hex);
    fclose(f);
    chmod(path, 0444);
    printf("wrote %s/audit.key (secret, 0400) and %s/audit.pub\n", dir, dir);
    return 0;
}

static int list(PGconn *c, const char *request, int json) {
    PGresult *r = load(c, request);
    if (!r)
        return 1;
    for (int i = 0; i < PQntuples(r); i++) {
        if (json)
            printf("{\"seq\":%s,\"at\":\"%s\",\"actor\":\"%s\",\"action\":\"%s\",\"request_id\":%s,"
                   "\"params\":%s,\"outcome\":\"%s\",\"hash\":\"%s\"}\n",
                   PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
                   PQgetvalue(r, i, 3), *PQgetvalue(r, i, 4) ? PQgetvalue(r, i, 4) : "null",
                   PQgetvalue(r, i, 5), PQgetvalue(r, i, 6), PQgetvalue(r, i, 9));
        else
            printf("%5s %s %-10s %-18s req %-4s %-7s %s\n", PQgetvalue(r, i, 0),
                   PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3),
                   *PQgetvalue(r, i, 4) ? PQgetvalue(r, i, 4) : "-", PQgetvalue(r, i, 6),
                   PQgetvalue(r, i, 5));
    }
    PQclear(r);
    return 0;
}

int main(int argc, char **argv) {
    if (sodium_init() < 0)
        return die("%s", "libsodium failed to initialise");
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cp = NULL, *key = NULL, *out = NULL, *request = NULL;
    int json = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--checkpoint") && i + 1 < argc)
            cp = argv[++i];
        else if (!strcmp(argv[i], "--key") && i + 1 < argc)
            key = argv[++i];
        else if (!strcmp(argv[i], "--out") && i + 1 < argc)
            out = argv[++i];
        else if (!strcmp(argv[i], "--request") && i + 1 < argc)
            request = argv[++i];
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (strcmp(argv[1], "keygen") != 0 || i != 2) {
            fprintf(stderr, "spoor audit: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!strcmp(argv[1], "keygen")) {
        if (argc != 3) {
            usage(stderr);
            return 2;
        }
        return keygen(argv[2]);
    }
    if ((!strcmp(argv[1], "checkpoint") && !key) || (cp && !key)) {
        fprintf(stderr, "spoor audit: --key KEY_FILE is required\n");
        return 2;
    }
    spoor_config cfg;
    error err;
    if (config_load(&cfg, NULL, &err) < 0)
        return die("%s", err.msg);
    PGconn *c = pg_connect(cfg.dsn, "spoor-audit", &err);
    config_free(&cfg);
    if (!c)
        return die("%s", err.msg);
    int rc;
    if (!strcmp(argv[1], "verify"))
        rc = verify(c, cp, key);
    else if (!strcmp(argv[1], "checkpoint"))
        rc = checkpoint(c, key, out);
    else if (!strcmp(argv[1], "list"))
        rc = list(c, request, json);
    else {
        fprintf(stderr, "spoor audit: unknown subcommand '%s'\n", argv[1]);
        usage(stderr);
        rc = 2;
    }
    PQfinish(c);
    return rc;
}
