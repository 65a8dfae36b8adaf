#include "disclosure.h"
#include "buf.h"
#include "etsi_rd.h"
#include "mem.h"
#include "timeutil.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int put_json(package *p, const char *name, json_t *j, error *err) {
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    size_t n = strlen(s);
    s = mem_realloc(s, n + 2);
    s[n++] = '\n';
    int rc = package_write(p, name, s, n, err);
    free(s);
    return rc;
}

int disclosure_ok(json_t *x, const char **reason) {
    const char *st = x ? str(x, "status") : NULL;
    if (st && !strcmp(st, "ok"))
        return 1;
    *reason = x && str(x, "reason") ? str(x, "reason") : "unreadable answer";
    return 0;
}

int disclosure_build(package *p, json_t *x, const disclosure_opts *o, const unsigned char sk[64],
                     disclosure_stats *st, error *err) {
    error e;
    error_clear(&e);
    int rc = -1;
    json_error_t je;
    json_t *req = json_object_get(x, "request");
    json_t *rq = json_pack("{s:O,s:O,s:O}", "request", req, "scope", json_object_get(x, "scope"),
                           "holds", json_object_get(x, "holds"));
    json_t *parsed = json_array(), *evidence = json_array(), *seen = json_object();
    buf csv;
    buf_init(&csv);
    for (size_t i = 0; i < NCSV; i++)
        csv_field(&csv, csv_cols[i], i + 1 == NCSV);
    if (put_json(p, "request.json", rq, &e) < 0)
        goto out;
    size_t i;
    json_t *res;
    json_array_foreach(json_object_get(x, "results"), i, res) {
        const char *text = str(res, "result_text"), *action = str(res, "action");
        long long seq = (long long)json_integer_value(json_object_get(res, "audit_seq"));
        char name[128], seqs[32];
        snprintf(name, sizeof name, "results/%06lld-%s.json", seq, action);
        snprintf(seqs, sizeof seqs, "%lld", seq);
        /* Byte for byte what the digest in audit entry SEQ was taken over. */
        if (package_write(p, name, text, strlen(text), &e) < 0)
            goto out;
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
    if (package_write(p, "results.csv", csv.p, csv.len, &e) < 0 ||
        put_json(p, "evidence.json", evidence, &e) < 0 ||
        put_json(p, "audit.json", json_object_get(x, "audit"), &e) < 0)
        goto out;
    buf xml;
    buf_init(&xml);
    etsi_rd_header h = {o->country, str(req, "authority"), str(req, "case_ref"),
                        o->csp_id,  o->mta_addresses,      timeutil_now()};
    etsi_rd_render(&xml, &h, parsed);
    int xrc = package_write(p, "retained-data.xml", xml.p, xml.len, &e);
    buf_close(&xml);
    if (xrc < 0)
        goto out;
    unsigned char pk[32];
    char pkhex[65], now[TIMEUTIL_RFC3339_MAX];
    crypto_sign_ed25519_sk_to_pk(pk, sk);
    sodium_bin2hex(pkhex, sizeof pkhex, pk, sizeof pk);
    timeutil_format(timeutil_now(), now);
    json_t *meta =
        json_pack("{s:O,s:O,s:s,s:s,s:s}", "request_id", json_object_get(req, "request_id"),
                  "case_ref", json_object_get(req, "case_ref"), "created_at", now, "created_by",
                  str(x, "exported_by"), "public_key", pkhex);
    int src = package_seal(p, meta, sk, &e);
    json_decref(meta);
    if (src < 0)
        goto out;
    st->files = json_array_size(p->files);
    st->results = json_array_size(json_object_get(x, "results"));
    st->evidence = json_array_size(evidence);
    memcpy(st->public_key, pkhex, sizeof st->public_key);
    rc = 0;
out:
    if (rc)
        error_set(err, "package", 0, "%s", e.msg);
    buf_close(&csv);
    json_decref(rq);
    json_decref(parsed);
    json_decref(evidence);
    json_decref(seen);
    return rc;
}
