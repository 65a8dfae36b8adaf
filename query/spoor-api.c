/*
 * spoor-api: the lookups over HTTP (libuv, http_parser), for request
 * workflows that are not a terminal.
 *
 * Every call but /health and /metrics carries "Authorization: Bearer TOKEN".
 * The daemon's login is a member of spoor_api and of nothing else: it cannot
 * act as anyone by itself.  Each call passes the token to PostgreSQL,
 * spoor.api_call(token, operation, arguments), which checks the token there
 * (hashed, not expired or revoked, bound to the person's role), checks that
 * the person may ask for the operation (spoor.api_op), and runs it with the
 * audit trail naming the person (sql/016_api_login.sql).  A lookup answers
 * in two steps, like the CLI's (query/lookup_call.h).
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
 * on api.listen, loopback by default.  The event loop only reads and writes:
 * each database call runs in libuv's worker threads with a connection of
 * its own, so a slow lookup delays nobody else and /health answers at
 * once.  api.timeout bounds a whole request (not the gap between reads: a
 * client trickling a byte at a time is cut off all the same) and the idle
 * time before the next one; api.max_connections caps open connections.
 * Still on http_parser, without TLS (put it behind a TLS proxy across a
 * network): the move to h2o is not done yet.
 */
#include "api_http.h"
#include "buf.h"
#include "config.h"
#include "headers_check.h"
#include "mailhdr.h"
#include "log.h"
#include "lookup_call.h"
#include "mem.h"
#include "msgid.h"
#include "pg.h"
#include "timeutil.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

/* A token bucket per bearer token (by a hash of it; two tokens sharing a
 * slot share a budget, which only ever slows them down). */
#define RATE_SLOTS 1024
typedef struct rate_slot {
    uint64_t key;
    double tokens;
    uint64_t last_ms;
} rate_slot;

typedef struct api {
    spoor_config cfg;
    rate_slot rate[RATE_SLOTS]; /* the loop thread's only */
    uv_loop_t *loop;
    uv_tcp_t server;
    uv_signal_t sigterm, sigint;
    /* Database connections for the workers: each call takes one, uses it
     * alone and puts it back (libpq connections are not shared by threads). */
    pthread_mutex_t pool_mu;
    PGconn *pool[64];
    int n_pool;
    atomic_long requests, errors, refused, unauthorized, conns_refused, rate_limited;
    long n_conns;
    int stopping;
} api;

typedef struct conn {
    uv_tcp_t tcp; /* first: the handle's close callback frees the conn */
    uv_timer_t timer;
    api *a;
    api_http req;
    int closing, handles;
    /* A call in a worker thread: the request stays put (reading is stopped),
     * its answer is kept here and written by the loop thread afterwards. */
    uv_work_t work;
    int in_worker, busy;
    PGconn *pg;
    int r_status, r_ka, have_r;
    char *r_type, *r_body;
    size_t r_len;
} conn;

typedef struct write_req {
    uv_write_t w;
    buf out;
    conn *c;
    int close_after;
} write_req;

static void conn_free_if_done(conn *c) {
    if (c->handles == 0 && !c->busy) {
        api_http_close(&c->req);
        free(c->r_type);
        free(c->r_body);
        c->a->n_conns--;
        free(c);
    }
}

static void conn_handle_closed_cb(uv_handle_t *h) {
    conn *c = h->data;
    c->handles--;
    conn_free_if_done(c);
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
    case 429:
        return "Too Many Requests";
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
    if (c->in_worker) { /* kept for the loop thread, which owns the socket */
        if (!c->have_r) {
            c->have_r = 1;
            c->r_status = status;
            c->r_ka = keep_alive;
            c->r_type = mem_strdup(type);
            c->r_body = mem_strndup(body, len);
            c->r_len = len;
        }
        return;
    }
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

/* A connection for one call (from the pool, or a new one; a broken one is
 * made again); NULL if the database is down.  Worker threads call it. */
static PGconn *pool_get(api *a) {
    PGconn *pg = NULL;
    pthread_mutex_lock(&a->pool_mu);
    if (a->n_pool)
        pg = a->pool[--a->n_pool];
    pthread_mutex_unlock(&a->pool_mu);
    if (pg && PQstatus(pg) == CONNECTION_OK)
        return pg;
    if (pg)
        PQfinish(pg);
    char err[1024];
    pg = pg_connect(a->cfg.dsn, "spoor-api", err, sizeof err);
    if (!pg)
        log_warn("%s", err);
    else /* audited calls refuse to run without a bounded statement (sql/013) */
        PQclear(PQexec(pg, "SET statement_timeout = '60s'"));
    return pg;
}

static void pool_put(api *a, PGconn *pg) {
    if (!pg)
        return;
    pthread_mutex_lock(&a->pool_mu);
    if (a->n_pool < (int)(sizeof a->pool / sizeof a->pool[0])) {
        a->pool[a->n_pool++] = pg;
        pg = NULL;
    }
    pthread_mutex_unlock(&a->pool_mu);
    if (pg)
        PQfinish(pg);
}

/* The bearer token of AUTH ("Bearer TOKEN"), copied (caller frees), or NULL. */
static char *bearer_token(const buf *auth) {
    const char *p = auth->p ? auth->p : "";
    if (auth->len < 8 || strncasecmp(p, "Bearer ", 7) != 0)
        return NULL;
    size_t tl = auth->len - 7;
    if (tl < 16 || tl > 256 || memchr(p + 7, '\0', tl))
        return NULL;
    char *t = mem_alloc(tl + 1);
    memcpy(t, p + 7, tl);
    t[tl] = '\0';
    return t;
}

/* The person TOKEN belongs to, as PostgreSQL checks it, or NULL.  Caller frees. */
static char *authenticate(PGconn *pg, const char *token) {
    const char *v[] = {token};
    PGresult *r = PQexecParams(pg, "SELECT spoor.api_whoami($1)", 1, NULL, v, NULL, NULL, 0);
    char *person = NULL;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        person = mem_strdup(PQgetvalue(r, 0, 0));
    else if (PQresultStatus(r) != PGRES_TUPLES_OK)
        log_warn("api_whoami: %s", PQresultErrorMessage(r));
    PQclear(r);
    return person;
}

/* Operation OP with ARGS (a JSON object, borrowed) for the person of TOKEN;
 * the answer's JSON text (caller frees) or NULL with "SQLSTATE: message". */
static char *api_op(PGconn *pg, const char *token, const char *op, json_t *args, char *err,
                    size_t errlen) {
    char *aj = json_dumps(args, JSON_COMPACT);
    const char *v[] = {token, op, aj};
    pg_class cls;
    PGresult *r = pg_query(pg, "SELECT spoor.api_call($1, $2, $3::jsonb)", 3, v, &cls, err, errlen);
    free(aj);
    if (!r)
        return NULL;
    char *out = PQgetisnull(r, 0, 0) ? mem_strdup("null") : mem_strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return out;
}

/* A gated lookup: its record (one statement, committed), then its answer. */
static char *api_op_lookup(PGconn *pg, const char *token, const char *op, json_t *args, char *err,
                           size_t errlen) {
    char *rec = api_op(pg, token, op, args, err, errlen);
    if (!rec)
        return NULL;
    long long t;
    int rc = lookup_call_ticket(rec, &t, err, errlen);
    free(rec);
    if (rc < 0)
        return NULL;
    json_t *a = json_pack("{s:I}", "ticket", (json_int_t)t);
    char *out = api_op(pg, token, "lookup.answer", a, err, errlen);
    json_decref(a);
    return out;
}

static void render_metrics(api *a, buf *o) {
    buf_printf(o, "# TYPE spoor_api_requests_total counter\nspoor_api_requests_total %ld\n",
               (long)a->requests);
    buf_printf(o, "# TYPE spoor_api_errors_total counter\nspoor_api_errors_total %ld\n",
               (long)a->errors);
    buf_printf(o, "# TYPE spoor_api_refused_total counter\nspoor_api_refused_total %ld\n",
               (long)a->refused);
    buf_printf(o, "# TYPE spoor_api_unauthorized_total counter\nspoor_api_unauthorized_total %ld\n",
               (long)a->unauthorized);
    buf_printf(o,
               "# TYPE spoor_api_connections_refused_total counter\n"
               "spoor_api_connections_refused_total %ld\n"
               "# TYPE spoor_api_connections gauge\nspoor_api_connections %ld\n"
               "# TYPE spoor_api_rate_limited_total counter\nspoor_api_rate_limited_total %ld\n",
               (long)a->conns_refused, a->n_conns, (long)a->rate_limited);
}

/* The request-management endpoints: each one SQL function called as the
 * person, its parameters taken from the path (":id") or the JSON body (by
 * name; objects and arrays passed as JSON text).  The rules live in the
 * functions; this table only maps HTTP onto them. */
typedef struct route {
    const char *method, *path; /* path: literal, with "%" standing for a numeric id */
    const char *op;            /* spoor.api_op */
    const char *fixed;         /* JSON object members the route adds, or NULL */
    const char *params[12];    /* ":id", "?query", or a body member */
} route;

static const route routes[] = {
    {"GET", "/v1/requests", "request.list", NULL, {NULL}},
    {"POST",
     "/v1/requests",
     "request.create",
     NULL,
     {"case_ref", "authority", "legal_basis", "contact", "kind", "received_at", "deadline",
      "window_lo", "window_hi", "max_lookups", "scope", "options"}},
    {"GET", "/v1/requests/%", "request.show", NULL, {":id"}},
    {"POST",
     "/v1/requests/%/cancel",
     "request.transition",
     "{\"to\":\"cancelled\"}",
     {":id", "note"}},
    {"POST",
     "/v1/requests/%/disclosed",
     "request.transition",
     "{\"to\":\"disclosed\"}",
     {":id", "note"}},
    {"POST", "/v1/requests/%/close", "request.transition", "{\"to\":\"closed\"}", {":id", "note"}},
    {"POST", "/v1/requests/%/assign", "request.assign", NULL, {":id", "person"}},
    {"GET", "/v1/requests/%/export", "request.export", NULL, {":id"}},
    {"GET", "/v1/holds", "hold.list", NULL, {NULL}},
    {"POST", "/v1/holds/%/renew", "hold.renew", NULL, {":id", "days", "note"}},
    {"POST", "/v1/holds/%/release", "hold.release", NULL, {":id", "note"}},
    {"GET", "/v1/report", "report", NULL, {"?year"}},
    {"POST", "/v1/users", "user.add", NULL, {"name", "role"}},
    {"GET", "/v1/admin/changes", "admin.list", NULL, {NULL}},
    {"POST", "/v1/admin/changes/%/confirm", "admin.decide", "{\"confirm\":true}", {":id", "note"}},
    {"POST", "/v1/admin/changes/%/reject", "admin.decide", "{\"confirm\":false}", {":id", "note"}},
    {"POST", "/v1/trace/user", "trace.user", NULL, {"request_id", "user_name"}},
    {"GET", "/v1/audit", "audit.list", NULL, {"?request"}},
    {"POST", "/v1/subscribers", "subscribers.import", NULL, {"rows", "source"}},
    {"GET", "/v1/retention/policy", "retention.policy_list", NULL, {NULL}},
    {"POST", "/v1/retention/policy", "retention.policy_set", NULL, {"class", "keep", "note"}},
    {"GET", "/v1/tokens", "token.list", NULL, {NULL}},
    {"POST", "/v1/tokens/%/revoke", "token.revoke", NULL, {":id"}},
    {NULL, NULL, NULL, NULL, {NULL}},
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

/* Runs route R for the person of TOKEN, its arguments from ID, QUERY and BODY. */
static void handle_route(conn *c, const route *r, const char *id, const char *query, PGconn *pg,
                         const char *token, const char *person, json_t *body, int ka) {
    json_t *args = r->fixed ? json_loads(r->fixed, 0, NULL) : json_object();
    char qv[32];
    for (int n = 0; n < 12 && r->params[n]; n++) {
        const char *name = r->params[n];
        if (!strcmp(name, ":id"))
            json_object_set_new(args, "id", json_integer(strtoll(id, NULL, 10)));
        else if (name[0] == '?') {
            const char *v = query_param(query, name + 1, qv, sizeof qv);
            if (v)
                json_object_set_new(args, name + 1, json_string(v));
        } else {
            json_t *x = json_object_get(body, name);
            if (x && !json_is_null(x))
                json_object_set(args, name, x);
        }
    }
    char err[1024];
    /* A gated lookup answers in two steps; the rest in one. */
    char *answer = !strncmp(r->op, "trace.", 6)
                       ? api_op_lookup(pg, token, r->op, args, err, sizeof err)
                       : api_op(pg, token, r->op, args, err, sizeof err);
    json_decref(args);
    respond_answer(c, answer, person, err, ka);
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
        else if (!strncmp(err, "28000", 5)) {
            a->unauthorized++;
            respond_error(c, 401, "unknown, expired or revoked bearer token", ka);
        } else
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
    PGconn *pg = c->pg;
    if (!pg) {
        respond_error(c, 503, "database unavailable", ka);
        return;
    }
    char *token = bearer_token(&q->auth);
    char *role = token ? authenticate(pg, token) : NULL;
    if (!role) {
        a->unauthorized++;
        free(token);
        respond_error(c, 401, "missing, unknown, expired or revoked bearer token", ka);
        return;
    }
    json_error_t je;
    json_t *body = q->body.len ? json_loadb(q->body.p, q->body.len, 0, &je) : json_object();
    if (!json_is_object(body)) {
        json_decref(body);
        free(role);
        free(token);
        respond_error(c, 400, "the body must be a JSON object", ka);
        return;
    }
    if (rt) {
        handle_route(c, rt, rid, query, pg, token, role, body, ka);
        json_decref(body);
        free(role);
        free(token);
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
            json_t *args =
                json_pack("{s:s,s:s,s:s,s:s?,s:s}", "request_id", ids, "ip", ip, "at", at, "port",
                          json_is_integer(pv) ? port : NULL, "tolerance", tol);
            answer = api_op_lookup(pg, token, "trace.ip", args, err, sizeof err);
            json_decref(args);
        }
    } else if (!bad && kind == 2) {
        const char *mid = headers_check_str(body, "message_id");
        if (!mid || !*mid || strlen(mid) > 998)
            bad = "message_id is required";
        else {
            char *canon = mem_alloc(strlen(mid) + 1);
            msgid_normalize(mid, strlen(mid), canon);
            json_t *args = json_pack("{s:s,s:s,s:s}", "request_id", ids, "message_id", canon,
                                     "tolerance", tol);
            answer = api_op_lookup(pg, token, "trace.message_id", args, err, sizeof err);
            json_decref(args);
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
                if (!a->cfg.trace_our_mta_hosts || !*a->cfg.trace_our_mta_hosts) {
                    json_t *none = json_object();
                    char *lj = api_op(pg, token, "mta.hosts", none, err, sizeof err);
                    json_decref(none);
                    json_t *l = lj ? json_loads(lj, JSON_DECODE_ANY, NULL) : NULL;
                    logged = json_is_string(l) ? mem_strdup(json_string_value(l)) : NULL;
                    json_decref(l);
                    free(lj);
                }
                const char *hosts_from = NULL;
                const char *hosts =
                    headers_check_our_hosts(a->cfg.trace_our_mta_hosts, logged, &hosts_from);
                json_t *hops = headers_check_hops(hosts, t);
                json_t *hosts_json = headers_check_hosts_json(hosts, hosts_from);
                free(logged);
                size_t claimed = json_array_size(hops);
                char *hj = json_dumps(hops, JSON_COMPACT);
                json_decref(hops);
                json_t *args = json_pack("{s:s,s:s,s:s}", "request_id", ids, "message_id",
                                         t->message_id, "tolerance", tol);
                json_object_set_new(args, "hops", json_loads(hj, 0, NULL));
                char *raw = api_op_lookup(pg, token, "trace.headers", args, err, sizeof err);
                json_decref(args);
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
            json_t *args = json_pack("{s:I,s:b,s:s?}", "id", (json_int_t)req_id, "approve",
                                     kind == 3, "note", note);
            answer = api_op(pg, token, "request.decide", args, err, sizeof err);
            json_decref(args);
        }
    }
    json_decref(body);
    if (bad)
        respond_error(c, 400, bad, ka);
    else
        respond_answer(c, answer, role, err, ka);
    free(answer);
    free(role);
    free(token);
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

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b);

/* A worker thread: the call, with a database connection of its own. */
static void work_cb(uv_work_t *w) {
    conn *c = w->data;
    c->pg = pool_get(c->a);
    handle(c);
    pool_put(c->a, c->pg);
    c->pg = NULL;
}

/* Back on the loop thread: write the answer, wait for the next request. */
static void after_work_cb(uv_work_t *w, int status) {
    (void)status;
    conn *c = w->data;
    c->in_worker = 0;
    c->busy = 0;
    if (c->have_r && !c->closing)
        respond(c, c->r_status, c->r_type, c->r_body, c->r_len, c->r_ka);
    c->have_r = 0;
    free(c->r_type);
    free(c->r_body);
    c->r_type = c->r_body = NULL;
    api_http_reset(&c->req);
    if (c->closing) {
        conn_free_if_done(c);
        return;
    }
    /* The next request has api.timeout from now, however it trickles in. */
    uint64_t ms = (uint64_t)c->a->cfg.api_timeout * 1000;
    uv_timer_start(&c->timer, timeout_cb, ms, 0);
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
}

/* Takes one request from the bucket of the token in Q's Authorization
 * header (api.rate per second, bursts of twice that); 0 if none is left.
 * Requests without a token are not counted here: they get 401. */
static int rate_take(api *a, const api_http *q) {
    if (a->cfg.api_rate <= 0 || q->auth.len == 0)
        return 1;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < q->auth.len; i++)
        h = (h ^ (unsigned char)q->auth.p[i]) * 1099511628211ull;
    rate_slot *r = &a->rate[h % RATE_SLOTS];
    uint64_t now = uv_now(a->loop);
    double cap = 2.0 * (double)a->cfg.api_rate;
    if (r->key != h) {
        r->key = h;
        r->tokens = cap;
        r->last_ms = now;
    }
    r->tokens += (double)(now - r->last_ms) * (double)a->cfg.api_rate / 1000.0;
    if (r->tokens > cap)
        r->tokens = cap;
    r->last_ms = now;
    if (r->tokens < 1.0)
        return 0;
    r->tokens -= 1.0;
    return 1;
}

static int is_path(const api_http *q, const char *p) {
    size_t n = strlen(p);
    return q->url.len >= n && !memcmp(q->url.p, p, n) && (q->url.len == n || q->url.p[n] == '?');
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
    conn *c = s->data;
    if (n < 0) {
        conn_close(c);
    } else if (n > 0 && !c->closing) {
        /* No timer reset here: api.timeout bounds the whole request, so a
         * client sending a byte at a time is cut off all the same. */
        int rc = api_http_feed(&c->req, b->base, (size_t)n);
        if (rc < 0)
            respond_error(c, c->req.status, c->req.error ? c->req.error : "bad request", 0);
        else if (rc == 1 && (is_path(&c->req, "/health") || is_path(&c->req, "/metrics"))) {
            handle(c); /* no database: answered at once, whatever the workers do */
            api_http_reset(&c->req);
        } else if (rc == 1 && !rate_take(c->a, &c->req)) {
            c->a->rate_limited++;
            respond_error(c, 429, "too many requests for this token (api.rate)", c->req.keep_alive);
            api_http_reset(&c->req);
        } else if (rc == 1) {
            /* The database call runs in a worker: the loop keeps serving others. */
            uv_read_stop(s);
            uv_timer_stop(&c->timer);
            c->busy = c->in_worker = 1;
            c->work.data = c;
            if (uv_queue_work(c->a->loop, &c->work, work_cb, after_work_cb) < 0) {
                c->busy = c->in_worker = 0;
                respond_error(c, 503, "cannot start the call", 0);
            }
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
    a->n_conns++;
    api_http_init(&c->req, 16 * 1024, (size_t)a->cfg.api_max_body);
    uv_tcp_init(a->loop, &c->tcp);
    uv_timer_init(a->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles = 2;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
        conn_close(c);
        return;
    }
    if (a->n_conns > a->cfg.api_max_connections) {
        /* Over the limit: refused at once, so connections cannot pile up. */
        a->conns_refused++;
        respond_error(c, 503, "too many connections", 0);
        return;
    }
    uint64_t ms = (uint64_t)a->cfg.api_timeout * 1000;
    uv_timer_start(&c->timer, timeout_cb, ms, 0);
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
    pthread_mutex_init(&a->pool_mu, NULL);
    json_object_seed(0); /* before the worker threads: jansson seeds its hashes once */
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
    pool_put(a, pool_get(a)); /* connect now, so a wrong DSN shows at start */
    log_info("listening on %s", a->cfg.api_listen);
    uv_run(a->loop, UV_RUN_DEFAULT);
    uv_loop_close(a->loop);
    for (int i = 0; i < a->n_pool; i++)
        PQfinish(a->pool[i]);
    log_info("stopped: %ld requests, %ld errors, %ld refused", (long)a->requests, (long)a->errors,
             (long)a->refused);
    config_free(&a->cfg);
    free(a);
    return 0;
}
