#include "trace_cmd.h"
#include "headers_check.h"
#include "lookup_call.h"
#include "mailhdr.h"
#include "mem.h"
#include "msgid.h"
#include "pg.h"
#include "timeutil.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void usage(FILE *out) {
    fprintf(
        out,
        "usage: spoor trace ip ADDRESS --at TIME --request ID [--port N] [--tolerance SECONDS]\n"
        "                       [--zone ZONE] [--json]\n"
        "       spoor trace message-id ID --request ID [--tolerance SECONDS] [--json]\n"
        "       spoor trace user NAME --request ID [--json]   (only if the order names NAME)\n"
        "TIME is RFC 3339 with an offset (2026-11-22T13:15:02Z), or a local time with --zone.\n");
}

static void field(const char *name, const char *v) {
    if (v)
        printf("    %-22s %s\n", name, v);
}

static void print_evidence(json_t *ev, const char *indent) {
    size_t i;
    json_t *e;
    json_array_foreach(ev, i, e) {
        const char *line = headers_check_str(e, "line");
        printf("%sevidence: block %lld line %lld, sha256 %s\n", indent,
               (long long)json_integer_value(json_object_get(e, "block_id")),
               (long long)json_integer_value(json_object_get(e, "line_index")),
               headers_check_str(e, "block_sha256"));
        /* The line verbatim, indented; a multi-line RADIUS record keeps its lines. */
        printf("%s  | ", indent);
        for (const char *p = line ? line : ""; *p; p++) {
            if (*p == '\n') {
                if (p[1])
                    printf("\n%s  | ", indent);
            } else
                putchar(*p);
        }
        putchar('\n');
    }
}

static void print_sessions(json_t *res, const char *indent) {
    printf("%sverdict: %s\n", indent, headers_check_str(res, "verdict"));
    json_t *ss = json_object_get(res, "sessions");
    size_t i;
    json_t *s;
    json_array_foreach(ss, i, s) {
        printf("%ssession %zu of %zu%s\n", indent, i + 1, json_array_size(ss),
               json_is_true(json_object_get(s, "covers_instant")) ? ""
                                                                  : " (within the tolerance only)");
        const char *keys[] = {"user_name",
                              "calling_station_id",
                              "called_station_id",
                              "nas_ip",
                              "nas_identifier",
                              "nas_port_id",
                              "acct_session_id",
                              "framed_ip",
                              "framed_ipv6_prefix",
                              "delegated_ipv6_prefix",
                              "start",
                              "stop",
                              "stop_reason",
                              "terminate_cause",
                              "last_seen"};
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            json_t *v = json_object_get(s, keys[k]);
            if (json_is_string(v))
                printf("%s  %-22s %s\n", indent, keys[k], json_string_value(v));
            else if (json_is_integer(v))
                printf("%s  %-22s %lld\n", indent, keys[k], (long long)json_integer_value(v));
        }
        if (json_is_false(json_object_get(s, "start_seen")))
            printf("%s  %-22s %s\n", indent, "",
                   "(start from Acct-Session-Time or first record: "
                   "no Start record seen)");
        char in2[32];
        snprintf(in2, sizeof in2, "%s  ", indent);
        print_evidence(json_object_get(s, "evidence"), in2);
    }
    const char *sides[] = {"nearest_before", "nearest_after"};
    for (int k = 0; k < 2; k++) {
        json_t *n = json_object_get(res, sides[k]);
        if (json_is_object(n))
            printf("%s%s: %s (%s) %s .. %s\n", indent, sides[k], headers_check_str(n, "user_name"),
                   headers_check_str(n, "calling_station_id")
                       ? headers_check_str(n, "calling_station_id")
                       : "-",
                   headers_check_str(n, "start"), headers_check_str(n, "stop"));
    }
}

/* Runs SQL with params, checks the JSON answer; prints it.  Returns exit status. */
static int run(cli *c, PGconn *conn, const char *sql, int n, const char *const *v,
               void (*render)(json_t *)) {
    error err;
    char *answer = lookup_call(conn, sql, n, v, &err);
    if (!answer) {
        cli_error(c, "%s", err.msg);
        return 1;
    }
    json_error_t je;
    json_t *j = json_loads(answer, 0, &je);
    const char *st = j ? headers_check_str(j, "status") : NULL;
    int rc = 0;
    if (!st || strcmp(st, "ok")) {
        cli_error(c, "refused: %s (the attempt is in the audit trail)",
                  j && headers_check_str(j, "reason") ? headers_check_str(j, "reason")
                                                      : "unreadable answer");
        rc = 1;
        if (c->json)
            puts(answer);
    } else if (c->json)
        puts(answer);
    else
        render(j);
    json_decref(j);
    free(answer);
    return rc;
}

/* The carrier-grade NAT step of an answer: the count alone without a port,
 * else each holding of the port with its log lines, then its session. */
static int print_cgn(json_t *j, const char *indent) {
    json_t *cgn = json_object_get(j, "cgn");
    if (!json_is_object(cgn))
        return 0;
    json_t *n = json_object_get(cgn, "subscribers_sharing");
    if (json_is_integer(n)) {
        printf("%sverdict: %s\n", indent, headers_check_str(j, "verdict"));
        printf("%s%s is a shared carrier-grade NAT address: %lld subscriber%s held ports on it "
               "then.\n%s%s\n",
               indent, headers_check_str(cgn, "public_ip"), (long long)json_integer_value(n),
               json_integer_value(n) == 1 ? "" : "s", indent, headers_check_str(cgn, "note"));
        return 1;
    }
    json_t *tr = json_object_get(cgn, "translations");
    printf("%sverdict: %s\n", indent, headers_check_str(j, "verdict"));
    printf("%s%s port %lld is behind carrier-grade NAT: %zu holding%s of that port\n", indent,
           headers_check_str(cgn, "public_ip"),
           (long long)json_integer_value(json_object_get(cgn, "port")), json_array_size(tr),
           json_array_size(tr) == 1 ? "" : "s");
    size_t i;
    json_t *t;
    char in2[32];
    snprintf(in2, sizeof in2, "%s    ", indent);
    json_array_foreach(tr, i, t) {
        const char *vrf = headers_check_str(t, "inside_vrf");
        json_t *conf = json_object_get(t, "config");
        if (json_is_object(conf)) { /* deterministic NAT: the configuration is the evidence */
            const char *until = headers_check_str(conf, "valid_until");
            const char *by2 = headers_check_str(conf, "confirmed_by");
            printf("%s  CGN %s maps ports %lld-%lld to inside address %s%s%s deterministically "
                   "(RFC 7422)%s\n"
                   "%s    by configuration %lld (%s), in force %s .. %s, sha256 %s,\n"
                   "%s    recorded by %s at %s, confirmed by %s%s\n",
                   indent, headers_check_str(t, "cgn"),
                   (long long)json_integer_value(json_object_get(t, "port_lo")),
                   (long long)json_integer_value(json_object_get(t, "port_hi")),
                   headers_check_str(t, "inside_ip"), vrf ? " vrf " : "", vrf ? vrf : "",
                   json_is_true(json_object_get(t, "covers_instant"))
                       ? ""
                       : " (within the tolerance only)",
                   indent, (long long)json_integer_value(json_object_get(conf, "config_id")),
                   headers_check_str(conf, "algorithm"), headers_check_str(conf, "valid_from"),
                   until ? until : "-", headers_check_str(conf, "sha256"), indent,
                   headers_check_str(conf, "recorded_by"), headers_check_str(conf, "recorded_at"),
                   by2 ? by2 : "nobody (the database superuser alone)",
                   json_is_true(json_object_get(conf, "recorded_after_instant"))
                       ? " (recorded after the instant asked about)"
                       : "");
            const char *src = headers_check_str(conf, "source");
            while (src && *src) {
                const char *nl = strchr(src, '\n');
                int len = nl ? (int)(nl - src) : (int)strlen(src);
                printf("%s      | %.*s\n", indent, len, src);
                src = nl ? nl + 1 : NULL;
            }
            printf("%s  inside address %s at that instant:\n", indent,
                   headers_check_str(t, "inside_ip"));
            print_sessions(json_object_get(t, "session_trace"), in2);
            continue;
        }
        printf("%s  CGN %s gave ports %lld-%lld to inside address %s%s%s, %s .. %s (%s)%s\n",
               indent, headers_check_str(t, "cgn"),
               (long long)json_integer_value(json_object_get(t, "port_lo")),
               (long long)json_integer_value(json_object_get(t, "port_hi")),
               headers_check_str(t, "inside_ip"), vrf ? " vrf " : "", vrf ? vrf : "",
               headers_check_str(t, "start"),
               headers_check_str(t, "stop") ? headers_check_str(t, "stop") : "-",
               headers_check_str(t, "stop_reason"),
               json_is_true(json_object_get(t, "covers_instant")) ? ""
                                                                  : " (within the tolerance only)");
        print_evidence(json_object_get(t, "evidence"), in2);
        printf("%s  inside address %s at that instant:\n", indent,
               headers_check_str(t, "inside_ip"));
        print_sessions(json_object_get(t, "session_trace"), in2);
    }
    return 1;
}

static void render_ip(json_t *j) {
    json_t *q = json_object_get(j, "query");
    printf("trace ip %s at %s (tolerance %gs), request %lld\n", headers_check_str(q, "ip"),
           headers_check_str(q, "at"), json_number_value(json_object_get(q, "tolerance_s")),
           (long long)json_integer_value(json_object_get(j, "request_id")));
    if (!print_cgn(j, ""))
        print_sessions(j, "");
}

static void render_user(json_t *j) {
    json_t *q = json_object_get(j, "query"), *w = json_object_get(j, "window");
    printf("trace user %s, request %lld, window %s .. %s: %zu session%s\n",
           headers_check_str(q, "user_name"),
           (long long)json_integer_value(json_object_get(j, "request_id")),
           json_string_value(json_array_get(w, 0)), json_string_value(json_array_get(w, 1)),
           json_array_size(json_object_get(j, "sessions")),
           json_array_size(json_object_get(j, "sessions")) == 1 ? "" : "s");
    print_sessions(j, "");
}

static void render_msgid(json_t *j) {
    json_t *q = json_object_get(j, "query");
    json_t *subs = json_object_get(j, "submissions");
    printf("trace message-id <%s>, request %lld: %zu submission%s\n",
           headers_check_str(q, "message_id"),
           (long long)json_integer_value(json_object_get(j, "request_id")), json_array_size(subs),
           json_array_size(subs) == 1 ? "" : "s");
    size_t i;
    json_t *s;
    json_array_foreach(subs, i, s) {
        printf("submission %zu\n", i + 1);
        field("mta_host", headers_check_str(s, "mta_host"));
        json_t *qids = json_object_get(s, "queue_ids");
        char buf[256] = "";
        size_t k;
        json_t *v;
        json_array_foreach(qids, k, v) {
            strncat(buf, k ? " -> " : "", sizeof buf - strlen(buf) - 1);
            strncat(buf, json_string_value(v), sizeof buf - strlen(buf) - 1);
        }
        field("queue_ids", buf);
        field("time", headers_check_str(s, "time"));
        field("client_ip", headers_check_str(s, "client_ip"));
        if (json_is_integer(json_object_get(s, "client_port"))) {
            snprintf(buf, sizeof buf, "%lld",
                     (long long)json_integer_value(json_object_get(s, "client_port")));
            field("client_port", buf);
        }
        field("client_name", headers_check_str(s, "client_name"));
        field("sasl_username", headers_check_str(s, "sasl_username"));
        field("sender", headers_check_str(s, "sender"));
        buf[0] = '\0';
        json_array_foreach(json_object_get(s, "recipients"), k, v) {
            strncat(buf, k ? ", " : "", sizeof buf - strlen(buf) - 1);
            strncat(buf, json_string_value(v) ? json_string_value(v) : "?",
                    sizeof buf - strlen(buf) - 1);
        }
        field("recipients", buf[0] ? buf : NULL);
        field("status", headers_check_str(s, "status"));
        print_evidence(json_object_get(s, "evidence"), "    ");
        json_t *st = json_object_get(s, "session_trace");
        if (json_is_object(st)) {
            printf("    session_trace:\n");
            print_sessions(st, "      ");
        } else
            printf("    session_trace: none (no client address logged)\n");
    }
}

/* The options of a lookup into ARGS (JSON members as query/ops names them;
 * ZONE apart, it is the call's, not an argument); -1 after printing why. */
static int parse_common(cli *c, int argc, char **argv, int first, json_t *args, int ip,
                        const char **zone) {
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json"))
            continue;
        if (i + 1 >= argc) {
            cli_error(c, "%s needs a value", a);
            return -1;
        }
        const char *v = argv[++i];
        const char *member = !strcmp(a, "--request")      ? "request_id"
                             : !strcmp(a, "--tolerance")  ? "tolerance"
                             : ip && !strcmp(a, "--at")   ? "at"
                             : ip && !strcmp(a, "--port") ? "port"
                                                          : NULL;
        if (member)
            json_object_set_new(args, member, json_string(v));
        else if (ip && !strcmp(a, "--zone"))
            *zone = v;
        else {
            cli_error(c, "unknown option '%s' (try: spoor trace --help)", a);
            return -1;
        }
    }
    return 0;
}

/* ---- trace headers -------------------------------------------------------- */

/* The CLI's side of headers_check_run: SQL as the person. */
typedef struct cli_headers {
    PGconn *conn;
    json_t *args; /* the person's: request_id, tolerance */
} cli_headers;

static char *logged_hosts_cb(void *arg, error *err) {
    cli_headers *h = arg;
    PGresult *r = pg_query(h->conn, "SELECT spoor.mta_hosts()", 0, NULL, NULL, err);
    if (!r)
        return NULL;
    char *out = mem_strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return out;
}

static char *headers_lookup_cb(void *arg, const char *message_id, const char *hops, error *err) {
    cli_headers *h = arg;
    ops_call k;
    if (ops_headers_call(&k, h->args, message_id, hops, OPS_CLI, err) < 0)
        return NULL;
    char *out = lookup_call(h->conn, k.op->sql, k.op->n_args, k.v, err);
    ops_call_close(&k);
    return out;
}

/* ARGS (taken) holds the person's arguments. */
static int trace_headers(cli *c, const char *path, json_t *args) {
    /* The person's arguments are checked before the file is read; the
     * message's own are filled in per lookup (a stand-in here). */
    ops_call k;
    error err;
    if (ops_headers_call(&k, args, "stand-in@check", "[]", OPS_CLI, &err) < 0) {
        cli_error(c, "%s", err.msg);
        json_decref(args);
        return 2;
    }
    char request[32];
    snprintf(request, sizeof request, "%s", k.v[0]);
    ops_call_close(&k);
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_error(c, "%s: cannot read", path);
        json_decref(args);
        return 1;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = mem_alloc(cap);
    size_t r;
    while ((r = fread(buf + len, 1, cap - len, f)) > 0) {
        len += r;
        if (len == cap) {
            if (cap >= (16u << 20)) {
                cli_error(c, "%s: larger than 16 MiB", path);
                fclose(f);
                free(buf);
                json_decref(args);
                return 1;
            }
            buf = mem_realloc(buf, cap *= 2);
        }
    }
    fclose(f);
    PGconn *conn = cli_connect(c);
    if (!conn) {
        free(buf);
        json_decref(args);
        return 1;
    }
    cli_headers io_arg = {conn, args};
    headers_check_io io = {logged_hosts_cb, headers_lookup_cb, &io_arg};
    headers_check_info info;
    json_t *j = headers_check_run(buf, len, c->cfg.trace_our_mta_hosts, &io, &info, &err);
    PQfinish(conn);
    free(buf);
    int rc = 1;
    if (!j) {
        if (error_is(&err, "bad_message"))
            cli_error(c, "%s: %s", path, err.msg);
        else
            cli_error(c, "%s", err.msg);
        goto out;
    }
    const char *st = headers_check_str(j, "status");
    if (!st || strcmp(st, "ok")) {
        const char *why = headers_check_str(j, "reason");
        cli_error(c, "refused: %s (the attempt is in the audit trail)",
                  why ? why : "unreadable answer");
        json_decref(j);
        goto out;
    }
    const char *verdict = headers_check_str(j, "verdict");
    const char *hosts = info.hosts, *hosts_from = info.hosts_from;
    size_t claimed = info.n_claimed;

    if (c->json) {
        cli_print_json(j);
    } else {
        printf("trace headers %s, request %s\n", path, request);
        if (info.is_bounce)
            printf("  a bounce: judging the original message it quotes\n");
        printf("  message-id <%s>, %zu Received: hop%s, %zu claiming our MTAs\n", info.message_id,
               info.n_received, info.n_received == 1 ? "" : "s", claimed);
        printf("  our MTAs (%s): %s\n",
               !strcmp(hosts_from, "logs") ? "the hosts whose MTA logs we receive"
                                           : "trace.our_mta_hosts",
               *hosts ? hosts : "(none known)");
        size_t i;
        json_t *h;
        json_array_foreach(json_object_get(j, "hops"), i, h) {
            const char *state = headers_check_str(h, "state");
            int ok = state && !strcmp(state, "verified");
            printf("  hop by %s id %s at %s: %s\n", headers_check_str(h, "by"),
                   headers_check_str(h, "queue_id") ? headers_check_str(h, "queue_id") : "-",
                   headers_check_str(h, "time") ? headers_check_str(h, "time") : "-",
                   ok ? "verified" : "NOT IN OUR LOGS");
            if (!ok)
                printf(
                    "    this header says our %s handled queue ID %s at %s; our logs hold no such "
                    "message\n",
                    headers_check_str(h, "by"),
                    headers_check_str(h, "queue_id") ? headers_check_str(h, "queue_id") : "(none)",
                    headers_check_str(h, "time") ? headers_check_str(h, "time") : "(no date)");
            else
                print_evidence(json_object_get(h, "evidence"), "    ");
        }
        printf("verdict: %s\n", verdict);
        if (json_array_size(json_object_get(j, "submissions"))) {
            json_t *copy = json_pack("{s:O,s:O,s:O}", "query", json_object_get(j, "query"),
                                     "request_id", json_object_get(j, "request_id"), "submissions",
                                     json_object_get(j, "submissions"));
            render_msgid(copy);
            json_decref(copy);
        }
    }
    json_decref(j);
    rc = 0;
out:
    free(info.hosts);
    json_decref(args);
    return rc;
}

/* Checks ARGS for lookup OP (query/ops), then runs it and renders the answer. */
static int lookup(cli *c, const char *op, json_t *args, const char *zone,
                  void (*render)(json_t *)) {
    ops_call k;
    int rc = cli_op_check(c, &k, op, args, zone);
    json_decref(args);
    if (rc)
        return rc;
    PGconn *conn = cli_connect(c);
    if (!conn) {
        ops_call_close(&k);
        return 1;
    }
    rc = run(c, conn, k.op->sql, k.op->n_args, k.v, render);
    ops_call_close(&k);
    PQfinish(conn);
    return rc;
}

int trace_cmd_run(cli *c, int argc, char **argv) {
    if (argc < 3 || cli_is_help(argv[1])) {
        usage(argc < 2 || !cli_is_help(argv[1]) ? stderr : stdout);
        return argc >= 2 && cli_is_help(argv[1]) ? 0 : 2;
    }
    const char *zone = NULL;
    int ip = !strcmp(argv[1], "ip");
    const char *op = ip                               ? "trace.ip"
                     : !strcmp(argv[1], "message-id") ? "trace.message_id"
                     : !strcmp(argv[1], "user")       ? "trace.user"
                     : !strcmp(argv[1], "headers")    ? "trace.headers"
                                                      : NULL;
    if (!op) {
        cli_error(c, "unknown lookup '%s' (ip, message-id, headers, user)", argv[1]);
        return 2;
    }
    json_t *args = json_object();
    if (parse_common(c, argc, argv, 3, args, ip, &zone) < 0) {
        json_decref(args);
        return 2;
    }
    ops_defaults(op, args, c->cfg.trace_tolerance);
    if (!strcmp(op, "trace.headers"))
        return trace_headers(c, argv[2], args);
    json_object_set_new(args,
                        ip                          ? "ip"
                        : !strcmp(op, "trace.user") ? "user_name"
                                                    : "message_id",
                        json_string(argv[2]));
    return lookup(c, op, args, zone,
                  ip                          ? render_ip
                  : !strcmp(op, "trace.user") ? render_user
                                              : render_msgid);
}
