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
#include "etsi_rd.h"
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

/* A field a spreadsheet would run as a formula (= + - @ first) is opened
 * with a quote mark (OWASP's CSV-injection advice); results.json and the
 * result files keep the value as it is. */
static void csv_field(buf *o, const char *v, int last) {
    if (v && (*v == '=' || *v == '+' || *v == '-' || *v == '@')) {
        buf_addc(o, '\'');
    }
    if (v) {
        int q = strpbrk(v, ",\"\r\n") != NULL;
        if (q)
            buf_addc(o, '"');
        for (const char *p = v; *p; p++) {
            if (*p == '"')
                buf_addc(o, '"');
            buf_addc(o, *p);
        }
        if (q)
            buf_addc(o, '"');
    }
    buf_adds(o, last ? "\r\n" : ",");
}

static const char *intstr(json_t *v, char *tmp) {
    if (!json_is_integer(v))
        return NULL;
    sprintf(tmp, "%lld", (long long)json_integer_value(v));
    return tmp;
}

static const char *csv_cols[] = {"audit_seq",
                                 "action",
                                 "record",
                                 "queried",
                                 "user_name",
                                 "calling_station_id",
                                 "called_station_id",
                                 "nas_ip",
                                 "nas_identifier",
                                 "nas_port_id",
                                 "assigned_address",
                                 "session_start",
                                 "session_stop",
                                 "stop_reason",
                                 "message_id",
                                 "mta_host",
                                 "queue_ids",
                                 "time",
                                 "client_ip",
                                 "client_port",
                                 "sasl_username",
                                 "sender",
                                 "recipients"};
#define NCSV (sizeof csv_cols / sizeof csv_cols[0])

static void csv_row(buf *o, const char *const *v) {
    for (size_t i = 0; i < NCSV; i++)
        csv_field(o, v[i], i + 1 == NCSV);
}

static void csv_sessions(buf *o, const char *seq, const char *action, json_t *trace,
                         const char *queried, const char *const *sub) {
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(trace, "sessions"), i, s) {
        const char *addr = str(s, "framed_ip");
        if (!addr)
            addr = str(s, "framed_ipv6_prefix");
        if (!addr)
            addr = str(s, "delegated_ipv6_prefix");
        const char *v[NCSV] = {seq,
                               action,
                               "session",
                               queried,
                               str(s, "user_name"),
                               str(s, "calling_station_id"),
                               str(s, "called_station_id"),
                               str(s, "nas_ip"),
                               str(s, "nas_identifier"),
                               str(s, "nas_port_id"),
                               addr,
                               str(s, "start"),
                               str(s, "stop"),
                               str(s, "stop_reason")};
        if (sub)
            for (size_t k = 14; k < NCSV; k++)
                v[k] = sub[k];
        csv_row(o, v);
    }
}

/* The strings of array A joined by spaces (caller frees). */
static char *join_strings(json_t *a) {
    buf b;
    buf_init(&b);
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e) {
        buf_adds(&b, i ? " " : "");
        buf_adds(&b, json_string_value(e) ? json_string_value(e) : "");
    }
    buf_addc(&b, '\0');
    char *out = mem_strdup(b.p);
    buf_close(&b);
    return out;
}

/* Collects evidence objects (each {line, block_id, line_index, block_sha256, ...}) once each. */
static void collect_evidence(json_t *x, json_t *seen, json_t *out) {
    if (json_is_object(x)) {
        json_t *ev = json_object_get(x, "evidence");
        size_t i;
        json_t *e;
        json_array_foreach(ev, i, e) {
            if (!json_is_object(e) || !json_object_get(e, "line"))
                continue;
            char key[64];
            snprintf(key, sizeof key, "%lld:%lld",
                     (long long)json_integer_value(json_object_get(e, "block_id")),
                     (long long)json_integer_value(json_object_get(e, "line_index")));
            if (!json_object_get(seen, key)) {
                json_object_set_new(seen, key, json_true());
                json_array_append(out, e);
            }
        }
        const char *k;
        json_t *v;
        json_object_foreach(x, k, v) if (strcmp(k, "evidence")) collect_evidence(v, seen, out);
    } else if (json_is_array(x)) {
        size_t i;
        json_t *v;
        json_array_foreach(x, i, v) collect_evidence(v, seen, out);
    }
}

static int put_json(package *p, const char *name, json_t *j, char *err, size_t errlen) {
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    size_t n = strlen(s);
    s = mem_realloc(s, n + 2);
    s[n++] = '\n';
    int rc = package_write(p, name, s, n, err, errlen);
    free(s);
    return rc;
}

static int export(spoor_config *cfg, const char *id, const char *dir, const char *key_path) {
    error err;
    unsigned char sk[64];
    if (!key_path || !*key_path) {
        fprintf(stderr, "spoor request export: a signing key is required (--key FILE, or "
                        "legal.signing_key in spoor.conf)\n");
        return 2;
    }
    if (audit_key_read(key_path, sk, sizeof sk, 1, err.msg, sizeof err.msg) < 0) {
        fprintf(stderr, "spoor request export: %s\n", err.msg);
        return 1;
    }
    PGconn *c = pg_connect(cfg->dsn, "spoor-package", &err);
    if (!c) {
        fprintf(stderr, "spoor request export: %s\n", err.msg);
        return 1;
    }
    PQclear(PQexec(c, "SET TIME ZONE 'UTC'"));
    /* Audited calls refuse to run without a bounded statement (sql/013). */
    PQclear(PQexec(c, "SET statement_timeout = '60s'"));
    const char *v[] = {id};
    PGresult *r = pg_query(c, "SELECT spoor.request_export($1)", 1, v, NULL, &err);
    if (!r) {
        fprintf(stderr, "spoor request export: %s\n", err.msg);
        PQfinish(c);
        return 1;
    }
    json_error_t je;
    json_t *x = json_loads(PQgetvalue(r, 0, 0), 0, &je);
    PQclear(r);
    PQfinish(c);
    if (!x || strcmp(str(x, "status") ? str(x, "status") : "", "ok")) {
        fprintf(stderr, "spoor request export: refused: %s\n",
                x && str(x, "reason") ? str(x, "reason") : "unreadable answer");
        json_decref(x);
        return 1;
    }
    const char *actor = str(x, "exported_by");
    package p;
    int rc = 1;
    if (package_open(&p, dir, err.msg, sizeof err.msg) < 0) {
        fprintf(stderr, "spoor request export: %s\n", err.msg);
        json_decref(x);
        return 1;
    }
    json_t *req = json_object_get(x, "request");
    json_t *rq = json_pack("{s:O,s:O,s:O}", "request", req, "scope", json_object_get(x, "scope"),
                           "holds", json_object_get(x, "holds"));
    json_t *parsed = json_array(), *evidence = json_array(), *seen = json_object();
    buf csv;
    buf_init(&csv);
    for (size_t i = 0; i < NCSV; i++)
        csv_field(&csv, csv_cols[i], i + 1 == NCSV);
    if (put_json(&p, "request.json", rq, err.msg, sizeof err.msg) < 0)
        goto fail;
    size_t i;
    json_t *res;
    json_array_foreach(json_object_get(x, "results"), i, res) {
        const char *text = str(res, "result_text"), *action = str(res, "action");
        long long seq = (long long)json_integer_value(json_object_get(res, "audit_seq"));
        char name[128], seqs[32];
        snprintf(name, sizeof name, "results/%06lld-%s.json", seq, action);
        snprintf(seqs, sizeof seqs, "%lld", seq);
        /* Byte for byte what the digest in audit entry SEQ was taken over. */
        if (package_write(&p, name, text, strlen(text), err.msg, sizeof err.msg) < 0)
            goto fail;
        json_t *doc = json_loads(text, 0, &je);
        if (!doc)
            continue;
        json_array_append(parsed, doc);
        collect_evidence(doc, seen, evidence);
        json_t *q = json_object_get(doc, "query");
        if (json_object_get(doc, "sessions"))
            csv_sessions(&csv, seqs, action, doc, str(q, "ip"), NULL);
        size_t k;
        json_t *s;
        json_array_foreach(json_object_get(doc, "submissions"), k, s) {
            char port[32], *qids = join_strings(json_object_get(s, "queue_ids")),
                           *rcpt = join_strings(json_object_get(s, "recipients"));
            const char *sv[NCSV] = {seqs, action, "submission", str(q, "message_id")};
            sv[14] = str(q, "message_id");
            sv[15] = str(s, "mta_host");
            sv[16] = qids;
            sv[17] = str(s, "time");
            sv[18] = str(s, "client_ip");
            sv[19] = intstr(json_object_get(s, "client_port"), port);
            sv[20] = str(s, "sasl_username");
            sv[21] = str(s, "sender");
            sv[22] = rcpt;
            csv_row(&csv, sv);
            csv_sessions(&csv, seqs, action, json_object_get(s, "session_trace"),
                         str(s, "client_ip"), sv);
            free(qids);
            free(rcpt);
        }
        json_decref(doc);
    }
    if (package_write(&p, "results.csv", csv.p, csv.len, err.msg, sizeof err.msg) < 0 ||
        put_json(&p, "evidence.json", evidence, err.msg, sizeof err.msg) < 0 ||
        put_json(&p, "audit.json", json_object_get(x, "audit"), err.msg, sizeof err.msg) < 0)
        goto fail;
    buf xml;
    buf_init(&xml);
    etsi_rd_header h = {cfg->legal_country, str(req, "authority"),    str(req, "case_ref"),
                        cfg->legal_csp_id,  cfg->legal_mta_addresses, timeutil_now()};
    etsi_rd_render(&xml, &h, parsed);
    int xrc = package_write(&p, "retained-data.xml", xml.p, xml.len, err.msg, sizeof err.msg);
    buf_close(&xml);
    if (xrc < 0)
        goto fail;
    unsigned char pk[32];
    char pkhex[65], now[TIMEUTIL_RFC3339_MAX];
    crypto_sign_ed25519_sk_to_pk(pk, sk);
    sodium_bin2hex(pkhex, sizeof pkhex, pk, sizeof pk);
    timeutil_format(timeutil_now(), now);
    json_t *meta =
        json_pack("{s:O,s:O,s:s,s:s,s:s}", "request_id", json_object_get(req, "request_id"),
                  "case_ref", json_object_get(req, "case_ref"), "created_at", now, "created_by",
                  actor, "public_key", pkhex);
    int src = package_seal(&p, meta, sk, err.msg, sizeof err.msg);
    json_decref(meta);
    if (src < 0)
        goto fail;
    printf("wrote %s: %zu files, %zu results, %zu evidence lines, signed by key %.16s...\n", dir,
           json_array_size(p.files), json_array_size(json_object_get(x, "results")),
           json_array_size(evidence), pkhex);
    rc = 0;
fail:
    if (rc)
        fprintf(stderr, "spoor request export: %s\n", err.msg);
    sodium_memzero(sk, sizeof sk);
    buf_close(&csv);
    json_decref(rq);
    json_decref(parsed);
    json_decref(evidence);
    json_decref(seen);
    json_decref(x);
    package_close(&p);
    return rc;
}

/* Recomputes every audit entry's hash and checks result files against their digests. */
static int verify_contents(const char *dir, json_t *manifest, buf *problems, size_t *n_audit,
                           size_t *n_results) {
    error err;
    size_t len;
    int n = 0;
    char *text = package_read(dir, "audit.json", &len, err.msg, sizeof err.msg);
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
        char *d = package_read(dir, name, &len, err.msg, sizeof err.msg);
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
    if (audit_key_read(key_path, pk, sizeof pk, 0, err.msg, sizeof err.msg) < 0) {
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
    if (config_load(&cfg, NULL, err.msg, sizeof err.msg) < 0) {
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
