/*
 * spoor-api: the lookups over HTTP (libuv, http_parser), for request
 * workflows that are not a terminal.
 *
 * Every call but /health and /metrics carries "Authorization: Bearer TOKEN";
 * the token's SHA-256 is looked up (spoor.api_token_role) and, for the
 * length of the call, the daemon acts as that person: SET ROLE to them, call
 * the same SECURITY DEFINER function the CLI calls, RESET ROLE.  So the
 * person's own rights apply and the audit trail names the person, not the
 * daemon.  The daemon's login is a direct member of spoor_api and of the
 * person roles it may act for.
 *
 *   GET  /health                         200 {"status":"ok"}
 *   GET  /metrics                        Prometheus text
 *   POST /v1/trace/ip          {"request_id", "ip", "at", "port"?, "tolerance"?}
 *   POST /v1/trace/message-id  {"request_id", "message_id", "tolerance"?}
 *   POST /v1/trace/headers     {"request_id", "message": raw message or headers}
 *   POST /v1/requests/ID/approve  {"note"?}      (four eyes: not the recorder)
 *   POST /v1/requests/ID/reject   {"note"}
 *
 * Errors are JSON {"status":"error","error":"..."} with 400 (bad request),
 * 401 (no or bad token), 403 (refused by the legal gate), 404, 405, 408
 * (slow or idle client: api.timeout), 413/431 (size limits), 500/503.  Listens
 * on api.listen, loopback by default.  Single-threaded: the database calls
 * are synchronous, so one slow lookup delays the others (see notes).
 */
#include "api_http.h"
#include "buf.h"
#include "config.h"
#include "headers_check.h"
#include "lookup_call.h"
#include "mailhdr.h"
#include "log.h"
#include "mem.h"
#include "msgid.h"
#include "pg.h"
#include "timeutil.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

typedef struct api {
    spoor_config cfg;
    uv_loop_t *loop;
    uv_tcp_t server;
    uv_signal_t sigterm, sigint;
    PGconn *conn;
    long requests, errors, refused, unauthorized;
    int stopping;
} api;

typedef struct conn {
    uv_tcp_t tcp; /* first: the handle's close callback frees the conn */
    uv_timer_t timer;
    api *a;
    api_http req;
    int closing, handles;
} conn;

typedef struct write_req {
    uv_write_t w;
    buf out;
    conn *c;
    int close_after;
} write_req;

static void conn_handle_closed_cb(uv_handle_t *h) {
    conn *c = h->data;
    if (--c->handles == 0) {
        api_http_close(&c->req);
        free(c);
    }
}

static void conn_close(conn *c) {
    if (c->closing)
        return;
    c->closing = 1;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, conn_handle_closed_cb);
    uv_close((uv_handle_t *)&c->tcp, conn_handle_closed_cb);
}

static void write_cb(uv_write_t *w, int status) {
    write_req *wr = (write_req *)w;
    if (status < 0 || wr->close_after)
        conn_close(wr->c);
    buf_close(&wr->out);
    free(wr);
}

static const char *reason_of(int status) {
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Payload Too Large";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    default:
        return "Internal Server Error";
    }
}

static void respond(conn *c, int status, const char *type, const char *body, size_t len,
                    int keep_alive) {
    if (c->closing)
        return;
    write_req *wr = mem_zalloc(sizeof *wr);
    wr->c = c;
    wr->close_after = !keep_alive;
    buf_init(&wr->out);
    buf_printf(&wr->out,
               "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
               "Cache-Control: no-store\r\nConnection: %s\r\n\r\n",
               status, reason_of(status), type, len, keep_alive ? "keep-alive" : "close");
    buf_add(&wr->out, body, len);
    uv_buf_t b = uv_buf_init(wr->out.p, (unsigned)wr->out.len);
    if (uv_write(&wr->w, (uv_stream_t *)&c->tcp, &b, 1, write_cb) < 0) {
        buf_close(&wr->out);
        free(wr);
        conn_close(c);
    }
}

static void respond_error(conn *c, int status, const char *msg, int keep_alive) {
    json_t *j = json_pack("{s:s,s:s}", "status", "error", "error", msg);
    char *s = json_dumps(j, JSON_COMPACT);
    respond(c, status, "application/json", s, strlen(s), keep_alive);
    free(s);
    json_decref(j);
    c->a->errors++;
}

/* Reconnects when the database went away; NULL if it is still down. */
static PGconn *db(api *a) {
    if (a->conn && PQstatus(a->conn) == CONNECTION_OK)
        return a->conn;
    if (a->conn)
        PQfinish(a->conn);
    char err[1024];
    a->conn = pg_connect(a->cfg.dsn, "spoor-api", err, sizeof err);
    if (!a->conn)
        log_warn("%s", err);
    return a->conn;
}

/* The person a bearer token belongs to, or NULL.  Caller frees. */
static char *authenticate(PGconn *pg, const buf *auth) {
    const char *p = auth->p ? auth->p : "";
    if (auth->len < 8 || strncasecmp(p, "Bearer ", 7) != 0)
        return NULL;
    const char *tok = p + 7;
    size_t tl = auth->len - 7;
    if (tl < 16 || tl > 256)
        return NULL;
    unsigned char h[32];
    crypto_hash_sha256(h, (const unsigned char *)tok, tl);
    const char *v[] = {(const char *)h};
    int lens[] = {32}, fmts[] = {1};
    PGresult *r = PQexecParams(pg, "SELECT spoor.api_token_role($1)", 1, NULL, v, lens, fmts, 0);
    char *role = NULL;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        role = mem_strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return role;
}

/* Runs SQL as ROLE; returns the single JSON text result (caller frees) or NULL with ERR. */
static char *as_person(PGconn *pg, const char *role, const char *sql, int n, const char *const *v,
                       char *err, size_t errlen) {
    char *ident = PQescapeIdentifier(pg, role, strlen(role));
    if (!ident) {
        snprintf(err, errlen, "bad role name");
        return NULL;
    }
    char set[600];
    snprintf(set, sizeof set, "SET ROLE %s", ident);
    PQfreemem(ident);
    char *out = NULL;
    PGresult *r = PQexec(pg, set);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        pg_error(pg, r, err, errlen);
        PQclear(r);
        return NULL;
    }
    PQclear(r);
    pg_class cls;
    r = pg_query(pg, sql, n, v, &cls, err, errlen);
    if (r) {
        out = mem_strdup(PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    PQclear(PQexec(pg, "RESET ROLE"));
    return out;
}

/* A gated lookup as the person: its two steps (lookup_call) under one SET ROLE. */
static char *as_person_lookup(PGconn *pg, const char *role, const char *sql, int n,
                              const char *const *v, char *err, size_t errlen) {
    char *ident = PQescapeIdentifier(pg, role, strlen(role));
    if (!ident) {
        snprintf(err, errlen, "bad role name");
        return NULL;
    }
    char set[600];
    snprintf(set, sizeof set, "SET ROLE %s", ident);
    PQfreemem(ident);
    PGresult *r = PQexec(pg, set);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        pg_error(pg, r, err, errlen);
        PQclear(r);
        return NULL;
    }
    PQclear(r);
    char *out = lookup_call(pg, sql, n, v, err, errlen);
    PQclear(PQexec(pg, "RESET ROLE"));
    return out;
}

static void render_metrics(api *a, buf *o) {
    buf_printf(o, "# TYPE spoor_api_requests_total counter\nspoor_api_requests_total %ld\n",
               a->requests);
    buf_printf(o, "# TYPE spoor_api_errors_total counter\nspoor_api_errors_total %ld\n", a->errors);
    buf_printf(o, "# TYPE spoor_api_refused_total counter\nspoor_api_refused_total %ld\n",
               a->refused);
    buf_printf(o, "# TYPE spoor_api_unauthorized_total counter\nspoor_api_unauthorized_total %ld\n",
               a->unauthorized);
}

/* The request-management endpoints: each one SQL function called as the
 * person, its parameters taken from the path (":id") or the JSON body (by
 * name; objects and arrays passed as JSON text).  The rules live in the
 * functions; this table only maps HTTP onto them. */
typedef struct route {
    const char *method, *path; /* path: literal, with "%" standing for a numeric id */
    const char *sql;
    const char *params[12];
} route;

static const route routes[] = {
    {"GET",
     "/v1/requests",
     "SELECT jsonb_build_object('status', 'ok', 'requests', coalesce(jsonb_agg(x), '[]')) "
     "FROM spoor.request_list() x",
     {NULL}},
    {"POST",
     "/v1/requests",
     "SELECT jsonb_build_object('status', 'ok', 'state', 'received', 'request_id', "
     "spoor.request_create($1, $2, $3, $4, coalesce($5, 'disclosure'), coalesce($6::timestamptz, "
     "now()), $7, $8, $9, $10::integer, $11::jsonb, $12::jsonb))",
     {"case_ref", "authority", "legal_basis", "contact", "kind", "received_at", "deadline",
      "window_lo", "window_hi", "max_lookups", "scope", "options"}},
    {"GET",
     "/v1/requests/%",
     "SELECT coalesce(spoor.request_show($1) || '{\"status\": \"ok\"}', "
     "'{\"status\": \"denied\", \"reason\": \"no such request\"}')",
     {":id"}},
    {"POST",
     "/v1/requests/%/cancel",
     "SELECT spoor.request_transition($1, 'cancelled', $2)",
     {":id", "note"}},
    {"POST",
     "/v1/requests/%/disclosed",
     "SELECT spoor.request_transition($1, 'disclosed', $2)",
     {":id", "note"}},
    {"POST",
     "/v1/requests/%/close",
     "SELECT spoor.request_transition($1, 'closed', $2)",
     {":id", "note"}},
    {"GET", "/v1/requests/%/export", "SELECT spoor.request_export($1)", {":id"}},
    {"GET",
     "/v1/holds",
     "SELECT jsonb_build_object('status', 'ok', 'holds', coalesce(jsonb_agg(x), '[]')) "
     "FROM spoor.hold_list() x",
     {NULL}},
    {"POST",
     "/v1/holds/%/renew",
     "SELECT spoor.hold_renew($1, $2::integer, $3)",
     {":id", "days", "note"}},
    {"POST", "/v1/holds/%/release", "SELECT spoor.hold_release($1, $2)", {":id", "note"}},
    {"GET", "/v1/report", "SELECT spoor.report($1::integer, NULL, NULL)", {"?year"}},
    {"POST", "/v1/users", "SELECT spoor.user_add($1, $2)", {"name", "role"}},
    {"POST",
     "/v1/trace/user",
     "SELECT spoor.trace_user($1::bigint, $2)",
     {"request_id", "user_name"}},
    {"GET",
     "/v1/audit",
     "SELECT jsonb_build_object('status', 'ok', 'entries', coalesce(jsonb_agg(jsonb_build_object("
     "'seq', a.seq, 'at', a.at, 'actor', a.actor, 'action', a.action, 'request_id', a.request_id, "
     "'params', a.params, 'outcome', a.outcome, 'result_digest', a.result_digest, "
     "'prev_hash', encode(a.prev_hash, 'hex'), 'hash', encode(a.hash, 'hex')) ORDER BY a.seq), "
     "'[]')) FROM spoor.audit_list($1::bigint) a",
     {"?request"}},
    {"POST",
     "/v1/subscribers",
     "SELECT spoor_identity.subscriber_import($1::text::jsonb, encode(sha256(convert_to($1::text, "
     "'UTF8')), "
     "'hex'), coalesce($2, 'api'))",
     {"rows", "source"}},
    {"GET",
     "/v1/retention/policy",
     "SELECT jsonb_build_object('status', 'ok', 'policies', coalesce(jsonb_agg(x), '[]')) "
     "FROM spoor.retention_policy_list() x",
     {NULL}},
    {"POST",
     "/v1/retention/policy",
     "SELECT spoor.retention_policy_set($1, $2::interval, $3)",
     {"class", "keep", "note"}},
    {NULL, NULL, NULL, {NULL}},
};

/* Matches PATH against PATTERN; a "%" matches a positive decimal id into ID. */
static int route_match(const char *pattern, const char *path, char *id, size_t idlen) {
    while (*pattern && *path) {
        if (*pattern == '%') {
            size_t n = strspn(path, "0123456789");
            if (n == 0 || n >= idlen || path[0] == '0')
                return 0;
            memcpy(id, path, n);
            id[n] = '\0';
            path += n;
            pattern++;
        } else if (*pattern++ != *path++)
            return 0;
    }
    return !*pattern && !*path;
}

/* The value of QUERY's parameter NAME ("year=2026&x=y"), copied into OUT. */
static const char *query_param(const char *query, const char *name, char *out, size_t n) {
    size_t nl = strlen(name);
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);
        if ((size_t)(end - p) > nl && !strncmp(p, name, nl) && p[nl] == '=') {
            snprintf(out, n, "%.*s", (int)(end - p - (long)nl - 1), p + nl + 1);
            return strspn(out, "0123456789") == strlen(out) && *out ? out : NULL;
        }
        p = amp ? amp + 1 : end;
    }
    return NULL;
}

static void respond_answer(conn *c, char *answer, const char *role, const char *err, int ka);

/* The route for METHOD and PATH (its id into ID), or NULL; then *OTHER is
 * the method a route at PATH wants, if there is one. */
static const route *route_find(const char *method, const char *path, char *id, size_t idlen,
                               const char **other) {
    *other = NULL;
    for (const route *r = routes; r->method; r++) {
        if (!route_match(r->path, path, id, idlen))
            continue;
        if (!strcmp(r->method, method))
            return r;
        *other = r->method;
    }
    return NULL;
}

/* Runs route R as ROLE, its parameters from ID, QUERY and BODY. */
static void handle_route(conn *c, const route *r, const char *id, const char *query, PGconn *pg,
                         const char *role, json_t *body, int ka) {
    const char *v[12] = {NULL};
    char *owned[12] = {NULL}, qv[32];
    int n = 0;
    for (; n < 12 && r->params[n]; n++) {
        const char *name = r->params[n];
        if (!strcmp(name, ":id"))
            v[n] = id;
        else if (name[0] == '?')
            v[n] = query_param(query, name + 1, qv, sizeof qv);
        else {
            json_t *x = json_object_get(body, name);
            if (json_is_string(x))
                v[n] = json_string_value(x);
            else if (x && !json_is_null(x))
                v[n] = owned[n] = json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY);
        }
    }
    char err[1024];
    /* A gated lookup answers in two steps (lookup_call); the rest in one. */
    char *answer = strstr(r->sql, "spoor.trace_")
                       ? as_person_lookup(pg, role, r->sql, n, v, err, sizeof err)
                       : as_person(pg, role, r->sql, n, v, err, sizeof err);
    for (int i = 0; i < 12; i++)
        free(owned[i]);
    respond_answer(c, answer, role, err, ka);
    free(answer);
}

/* Sends a function's JSON answer: 200 if its status is ok, 403 if refused;
 * a failed call is 400 for bad input (SQLSTATE classes 22, 23), 403 for a
 * missing privilege, else 500. */
static void respond_answer(conn *c, char *answer, const char *role, const char *err, int ka) {
    api *a = c->a;
    if (!answer) {
        log_warn("call for %s failed: %s", role, err);
        if (!strncmp(err, "22", 2) || !strncmp(err, "23", 2))
            respond_error(c, 400, err, ka);
        else
            respond_error(c, strstr(err, "42501") ? 403 : 500,
                          strstr(err, "42501") ? "not allowed for this person" : "lookup failed",
                          ka);
        return;
    }
    json_t *aj = json_loads(answer, 0, NULL);
    const char *st = aj ? headers_check_str(aj, "status") : NULL;
    int refused = !st || strcmp(st, "ok");
    if (refused)
        a->refused++;
    respond(c, refused ? 403 : 200, "application/json", answer, strlen(answer), ka);
    json_decref(aj);
}

static void handle(conn *c) {
    api *a = c->a;
    api_http *q = &c->req;
    int ka = q->keep_alive;
    a->requests++;
    char path[512];
    snprintf(path, sizeof path, "%.*s", (int)q->url.len, q->url.p ? q->url.p : "");
    char *qm = strchr(path, '?');
    const char *query = "";
    if (qm) {
        *qm = '\0';
        query = qm + 1;
    }
    const char *method = api_http_method(q);
    if (!strcmp(path, "/health")) {
        const char *ok = "{\"status\":\"ok\"}";
        respond(c, 200, "application/json", ok, strlen(ok), ka);
        return;
    }
    if (!strcmp(path, "/metrics")) {
        buf o;
        buf_init(&o);
        render_metrics(a, &o);
        respond(c, 200, "text/plain; version=0.0.4", o.p, o.len, ka);
        buf_close(&o);
        return;
    }
    long req_id = 0;
    int kind = 0; /* 1 ip, 2 message-id, 3 approve, 4 reject, 5 headers */
    char tail[32];
    if (!strcmp(path, "/v1/trace/ip"))
        kind = 1;
    else if (!strcmp(path, "/v1/trace/message-id"))
        kind = 2;
    else if (!strcmp(path, "/v1/trace/headers"))
        kind = 5;
    else if (sscanf(path, "/v1/requests/%ld/%31s", &req_id, tail) == 2 && req_id > 0 &&
             (!strcmp(tail, "approve") || !strcmp(tail, "reject")))
        kind = !strcmp(tail, "approve") ? 3 : 4;
    const route *rt = NULL;
    const char *other = NULL;
    char rid[32];
    if (!kind) {
        rt = route_find(method, path, rid, sizeof rid, &other);
        if (!rt) {
            if (other)
                respond_error(c, 405, !strcmp(other, "GET") ? "use GET" : "use POST", ka);
            else
                respond_error(c, 404, "no such endpoint", ka);
            return;
        }
    }
    if (kind && strcmp(method, "POST")) {
        respond_error(c, 405, "use POST", ka);
        return;
    }
    PGconn *pg = db(a);
    if (!pg) {
        respond_error(c, 503, "database unavailable", ka);
        return;
    }
    char *role = authenticate(pg, &q->auth);
    if (!role) {
        a->unauthorized++;
        respond_error(c, 401, "missing, unknown, expired or revoked bearer token", ka);
        return;
    }
    json_error_t je;
    json_t *body = q->body.len ? json_loadb(q->body.p, q->body.len, 0, &je) : json_object();
    if (!json_is_object(body)) {
        json_decref(body);
        free(role);
        respond_error(c, 400, "the body must be a JSON object", ka);
        return;
    }
    if (rt) {
        handle_route(c, rt, rid, query, pg, role, body, ka);
        json_decref(body);
        free(role);
        return;
    }
    char err[1024], ids[32], tol[32], port[16], at[TIMEUTIL_RFC3339_MAX];
    char *answer = NULL;
    const char *bad = NULL;
    json_t *tv = json_object_get(body, "tolerance");
    long tolerance = json_is_integer(tv) ? (long)json_integer_value(tv) : a->cfg.trace_tolerance;
    snprintf(tol, sizeof tol, "%ld seconds", tolerance);
    if (kind <= 2 || kind == 5) {
        json_t *rv = json_object_get(body, "request_id");
        if (!json_is_integer(rv))
            bad = "request_id (an integer) is required";
        else
            snprintf(ids, sizeof ids, "%lld", (long long)json_integer_value(rv));
    } else
        snprintf(ids, sizeof ids, "%ld", req_id);
    if (!bad && kind == 1) {
        const char *ip = headers_check_str(body, "ip"), *ats = headers_check_str(body, "at");
        unsigned char b16[16];
        int64_t t;
        json_t *pv = json_object_get(body, "port");
        if (!ip || (inet_pton(AF_INET, ip, b16) != 1 && inet_pton(AF_INET6, ip, b16) != 1))
            bad = "ip: an IPv4 or IPv6 address is required";
        else if (!ats || timeutil_parse(ats, NULL, &t, err, sizeof err) < 0)
            bad = "at: an RFC 3339 time with an offset is required";
        else if (pv && !json_is_null(pv) &&
                 (!json_is_integer(pv) || json_integer_value(pv) < 0 ||
                  json_integer_value(pv) > 65535))
            bad = "port: an integer 0..65535";
        else {
            timeutil_format(t, at);
            if (json_is_integer(pv))
                snprintf(port, sizeof port, "%lld", (long long)json_integer_value(pv));
            const char *v[] = {ids, ip, at, json_is_integer(pv) ? port : NULL, tol};
            answer = as_person_lookup(pg, role, "SELECT spoor.trace_ip($1, $2, $3, $4, $5)", 5, v,
                                      err, sizeof err);
        }
    } else if (!bad && kind == 2) {
        const char *mid = headers_check_str(body, "message_id");
        if (!mid || !*mid || strlen(mid) > 998)
            bad = "message_id is required";
        else {
            char *canon = mem_alloc(strlen(mid) + 1);
            msgid_normalize(mid, strlen(mid), canon);
            const char *v[] = {ids, canon, tol};
            answer = as_person_lookup(pg, role, "SELECT spoor.trace_message_id($1, $2, $3)", 3, v,
                                      err, sizeof err);
            free(canon);
        }
    } else if (!bad && kind == 5) {
        const char *msg = headers_check_str(body, "message");
        arena ar;
        arena_init(&ar, 0);
        mailhdr_msg m;
        if (!msg || mailhdr_parse(msg, strlen(msg), &ar, &m, err, sizeof err) < 0)
            bad = "message: the raw message (or its headers) is required";
        else {
            const mailhdr_msg *t = m.is_bounce && m.original ? m.original : &m;
            if (m.is_bounce && !m.original)
                bad = "a bounce without the original message's headers: nothing to check";
            else if (!t->message_id)
                bad = "the message has no Message-ID, which the request must name";
            else {
                /* Our MTAs: the configured list, else those whose logs we receive. */
                char *logged = NULL;
                if (!a->cfg.trace_our_mta_hosts || !*a->cfg.trace_our_mta_hosts)
                    logged =
                        as_person(pg, role, "SELECT spoor.mta_hosts()", 0, NULL, err, sizeof err);
                const char *hosts_from = NULL;
                const char *hosts =
                    headers_check_our_hosts(a->cfg.trace_our_mta_hosts, logged, &hosts_from);
                json_t *hops = headers_check_hops(hosts, t);
                json_t *hosts_json = headers_check_hosts_json(hosts, hosts_from);
                free(logged);
                size_t claimed = json_array_size(hops);
                char *hj = json_dumps(hops, JSON_COMPACT);
                json_decref(hops);
                const char *v[] = {ids, t->message_id, hj, tol};
                char *raw = as_person_lookup(pg, role, "SELECT spoor.trace_headers($1, $2, $3, $4)",
                                             4, v, err, sizeof err);
                free(hj);
                json_t *rj = raw ? json_loads(raw, 0, NULL) : NULL;
                const char *st = rj ? headers_check_str(rj, "status") : NULL;
                if (st && !strcmp(st, "ok")) {
                    json_object_set_new(
                        rj, "verdict",
                        json_string(headers_check_verdict(rj, claimed, m.is_bounce)));
                    json_object_set_new(rj, "bounce", json_boolean(m.is_bounce));
                    json_object_set_new(rj, "our_hops_claimed", json_integer((json_int_t)claimed));
                    json_object_set(rj, "our_mta_hosts", hosts_json);
                    free(raw);
                    raw = json_dumps(rj, JSON_COMPACT);
                }
                json_decref(rj);
                json_decref(hosts_json);
                answer = raw;
            }
        }
        arena_close(&ar);
    } else if (!bad) {
        const char *note = headers_check_str(body, "note");
        if (kind == 4 && !note)
            bad = "note: a rejection needs the reason";
        else {
            const char *v[] = {ids, kind == 3 ? "true" : "false", note};
            answer = as_person(pg, role, "SELECT spoor.request_decide($1, $2, $3)", 3, v, err,
                               sizeof err);
        }
    }
    json_decref(body);
    if (bad)
        respond_error(c, 400, bad, ka);
    else
        respond_answer(c, answer, role, err, ka);
    free(answer);
    free(role);
}

static void timeout_cb(uv_timer_t *t) {
    conn *c = t->data;
    respond_error(c, 408, "request not received in time", 0);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
    (void)h;
    size_t n = suggested > 65536 ? 65536 : suggested;
    b->base = mem_alloc(n);
    b->len = n;
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
    conn *c = s->data;
    if (n < 0) {
        conn_close(c);
    } else if (n > 0 && !c->closing) {
        uv_timer_again(&c->timer);
        int rc = api_http_feed(&c->req, b->base, (size_t)n);
        if (rc < 0)
            respond_error(c, c->req.status, c->req.error ? c->req.error : "bad request", 0);
        else if (rc == 1) {
            handle(c);
            api_http_reset(&c->req);
        }
    }
    free(b->base);
}

static void connection_cb(uv_stream_t *server, int status) {
    api *a = server->data;
    if (status < 0)
        return;
    conn *c = mem_zalloc(sizeof *c);
    c->a = a;
    api_http_init(&c->req, 16 * 1024, (size_t)a->cfg.api_max_body);
    uv_tcp_init(a->loop, &c->tcp);
    uv_timer_init(a->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles = 2;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
        conn_close(c);
        return;
    }
    uint64_t ms = (uint64_t)a->cfg.api_timeout * 1000;
    uv_timer_start(&c->timer, timeout_cb, ms, ms);
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
}

static void walk_close_cb(uv_handle_t *h, void *arg) {
    (void)arg;
    if (uv_is_closing(h))
        return;
    if (h->type == UV_TCP && h->data && h->data != arg) {
        conn *c = h->data;
        if ((uv_handle_t *)&c->tcp == h) {
            conn_close(c);
            return;
        }
    }
    if (h->type == UV_TIMER)
        return; /* closed with its connection */
    uv_close(h, NULL);
}

static void signal_cb(uv_signal_t *s, int sig) {
    api *a = s->data;
    log_info("stopping on %s", strsignal(sig));
    a->stopping = 1;
    uv_walk(a->loop, walk_close_cb, a);
}

int main(int argc, char **argv) {
    const char *config_path = NULL;
    int print = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            config_path = argv[++i];
        else if (!strcmp(argv[i], "--print-config"))
            print = 1;
        else {
            fprintf(stderr, "usage: spoor-api [--config FILE] [--print-config]\n");
            return 2;
        }
    }
    if (sodium_init() < 0)
        return 1;
    api *a = mem_zalloc(sizeof *a);
    char err[1024];
    if (config_load(&a->cfg, config_path, err, sizeof err) < 0) {
        fprintf(stderr, "spoor-api: %s\n", err);
        free(a);
        return 1;
    }
    if (print) {
        config_print(&a->cfg, stdout);
        config_free(&a->cfg);
        free(a);
        return 0;
    }
    log_init("spoor-api", *a->cfg.log_file ? a->cfg.log_file : NULL);
    enum log_level lvl;
    if (log_parse_level(a->cfg.log_level, &lvl) == 0)
        log_set_level(lvl);
    signal(SIGPIPE, SIG_IGN);
    a->loop = uv_default_loop();
    char host[128];
    const char *colon = strrchr(a->cfg.api_listen, ':');
    if (!colon || (size_t)(colon - a->cfg.api_listen) >= sizeof host)
        log_fatal("api.listen '%s' is not HOST:PORT", a->cfg.api_listen);
    snprintf(host, sizeof host, "%.*s", (int)(colon - a->cfg.api_listen), a->cfg.api_listen);
    struct sockaddr_storage sa;
    if (uv_ip4_addr(host, atoi(colon + 1), (struct sockaddr_in *)&sa) != 0 &&
        uv_ip6_addr(host, atoi(colon + 1), (struct sockaddr_in6 *)&sa) != 0)
        log_fatal("api.listen '%s': not an IP address", a->cfg.api_listen);
    uv_tcp_init(a->loop, &a->server);
    a->server.data = a;
    int rc = uv_tcp_bind(&a->server, (struct sockaddr *)&sa, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&a->server, 128, connection_cb);
    if (rc != 0)
        log_fatal("api.listen %s: %s", a->cfg.api_listen, uv_strerror(rc));
    uv_signal_init(a->loop, &a->sigterm);
    uv_signal_init(a->loop, &a->sigint);
    a->sigterm.data = a->sigint.data = a;
    uv_signal_start(&a->sigterm, signal_cb, SIGTERM);
    uv_signal_start(&a->sigint, signal_cb, SIGINT);
    db(a);
    log_info("listening on %s", a->cfg.api_listen);
    uv_run(a->loop, UV_RUN_DEFAULT);
    uv_loop_close(a->loop);
    if (a->conn)
        PQfinish(a->conn);
    log_info("stopped: %ld requests, %ld errors, %ld refused", a->requests, a->errors, a->refused);
    config_free(&a->cfg);
    free(a);
    return 0;
}
