/*
 * spoor-api: the lookups over HTTP (h2o on libuv), for request
 * workflows that are not a terminal.
 *
 * Every call but /health and /metrics carries "Authorization: Bearer TOKEN".
 * The daemon's login is a member of spoor_api and of nothing else: it cannot
 * act as anyone by itself.  Each call passes the token to PostgreSQL,
 * spoor.api_call(token, operation, arguments), which checks the token there
 * (hashed, not expired or revoked, bound to the person's role), checks that
 * the person may ask for the operation (spoor.api_op), and runs it with the
 * audit trail naming the person (sql/functions/api.sql).  A lookup answers
 * in two steps, like the CLI's (query/lookup_call.h).
 *
 *   GET  /health                         200 {"status":"ok"}
 *   GET  /metrics                        Prometheus text
 *   POST /v1/trace/ip          {"request_id", "ip", "at", "port"?, "tolerance"?}
 *   POST /v1/trace/message-id  {"request_id", "message_id", "tolerance"?}
 *   POST /v1/trace/headers     {"request_id", "message": raw message or headers}
 *   POST /v1/requests/ID/approve  {"note"?}      (four eyes: not the recorder)
 *   POST /v1/requests/ID/reject   {"note"}
 *   POST /v1/session  {"token"}   sign in to the console: a session cookie
 *   GET  /v1/session              who is signed in, the CSRF secret
 *   POST /v1/session/end          sign out
 *   GET  /, /NAME                 the web console's files (api.web_root)
 *
 * The console (web/) calls the same endpoints with its session cookie
 * instead of a bearer token (HttpOnly, SameSite=Strict, Secure under TLS;
 * idle and absolute expiry); every call that changes anything must carry
 * the session's CSRF secret in X-CSRF-Token (web_session.h).  Behind the
 * cookie is the person's own token: PostgreSQL checks it on every call as
 * for any bearer caller, so the console can do nothing the API cannot.
 *
 * Errors are JSON {"status":"error","error":"..."} with 400 (bad request),
 * 401 (no or bad token), 403 (refused by the legal gate), 404, 405, 413
 * (api.max_body), 429 (api.rate), 500/503.
 *
 * HTTP is h2o's (libh2o on libuv): HTTP/1.1 with keep-alive, HTTP/2 (ALPN
 * under TLS), TLS with modern defaults when api.tls_cert_file and
 * api.tls_key_file are set, and mutual TLS (a client certificate from
 * api.tls_client_ca_file required) for a law-enforcement portal.  Listens
 * on api.listen, loopback by default.
 *
 * Limits: api.timeout is an absolute deadline, not an idle timer reset by
 * every read: a connection must complete its next request (headers and
 * body) within api.timeout of being accepted or of its previous answer, or
 * it is shut down; a client trickling a byte at a time is cut off all the
 * same, over HTTP/1.1 and HTTP/2 alike (h2o's own request timeout, set to
 * the same value, covers HTTP/1.1 too).  api.max_connections caps open
 * connections (more get 503 and are closed), api.rate is a token bucket per
 * bearer token (429), api.max_body caps a body (413).
 *
 * The event loop only reads and writes: each database call runs in libuv's
 * worker threads with a connection of its own from a small pool, so a slow
 * lookup delays nobody else and /health answers at once.
 */
#include "buf.h"
#include "audit_chain.h"
#include "config.h"
#include "disclosure.h"
#include "headers_check.h"
#include "log.h"
#include "lookup_call.h"
#include "ops.h"
#include "mem.h"
#include "msgid.h"
#include "pg.h"
#include "timeutil.h"
#include "tls_ctx.h"
#include "web_session.h"
#include "web_static.h"

#include <arpa/inet.h>
#include <h2o.h>
#include <h2o/http2.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <uv.h>

#ifndef SPOOR_WEBDIR
#define SPOOR_WEBDIR "/usr/local/share/spoor/web"
#endif

/* A token bucket per bearer token (by a hash of it; two tokens sharing a
 * slot share a budget, which only ever slows them down). */
#define RATE_SLOTS 1024
typedef struct rate_slot {
    uint64_t key;
    double tokens;
    uint64_t last_ms;
} rate_slot;

typedef struct conn conn;

typedef struct api {
    spoor_config cfg;
    rate_slot rate[RATE_SLOTS]; /* the loop thread's only */
    uv_loop_t *loop;
    uv_tcp_t server;
    uv_signal_t sigterm, sigint;
    uv_timer_t drain;
    h2o_globalconf_t h2o;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept;
    SSL_CTX *tls;
    /* Database connections for the workers: each call takes one, uses it
     * alone and puts it back (libpq connections are not shared by threads). */
    pthread_mutex_t pool_mu;
    PGconn *pool[64];
    int n_pool;
    atomic_long requests, errors, refused, unauthorized, conns_refused, rate_limited, timeouts;
    long n_conns, n_calls;
    conn *conns;            /* open connections, to find a request's by its peer */
    web_static *web;        /* the console's files, or NULL */
    web_sessions *sessions; /* the console's sign-ins */
    unsigned char sk[64];   /* legal.signing_key, if spoor-api has one */
    int have_sk;
    int secure_cookie; /* TLS here or at a proxy: Secure, __Host- */
    int stopping;
    uint64_t stop_started;
} api;

/* One accepted connection, as we see it under h2o: its deadline timer and
 * how many of its requests are being answered. */
struct conn {
    uv_tcp_t tcp; /* first: h2o's close callback gets the handle */
    uv_timer_t timer;
    api *a;
    conn *prev, *next;
    struct sockaddr_storage peer;
    int handles, in_flight, closed;
};

/* One request answered in a worker thread.  REQ is h2o's, and NULL once h2o
 * has let it go (the client left); the answer is kept here and sent by the
 * loop thread. */
typedef struct call {
    uv_work_t work;
    api *a;
    conn *c;
    h2o_req_t *req;
    struct call **slot; /* in REQ's pool: tells us when REQ goes */
    char method[8];
    char *path, *query;
    buf auth;
    char *sid, *csrf, *content_type; /* session cookie, X-CSRF-Token, Content-Type */
    char *fetch_site;                /* Sec-Fetch-Site, if the browser sent it */
    int via_session;                 /* the token is a console session's */
    char *body;
    size_t body_len;
    PGconn *pg;
    int have_r, r_status;
    char *r_type, *r_body, *r_cookie, *r_disposition;
    size_t r_len;
} call;

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
    case 304:
        return "Not Modified";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 501:
        return "Not Implemented";
    case 429:
        return "Too Many Requests";
    case 503:
        return "Service Unavailable";
    default:
        return "Internal Server Error";
    }
}

/* Keeps the call's answer (the first one given) for the loop thread. */
static void respond(call *c, int status, const char *type, const char *body, size_t len) {
    if (c->have_r)
        return;
    c->have_r = 1;
    c->r_status = status;
    c->r_type = mem_strdup(type);
    c->r_body = mem_strndup(body, len);
    c->r_len = len;
}

static char *error_json(const char *msg) {
    json_t *j = json_pack("{s:s,s:s}", "status", "error", "error", msg);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

static void respond_error(call *c, int status, const char *msg) {
    char *s = error_json(msg);
    respond(c, status, "application/json", s, strlen(s));
    free(s);
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
    error err;
    pg = pg_connect(a->cfg.dsn, "spoor-api", &err);
    if (!pg)
        log_warn("%s", err.msg);
    else /* audited calls refuse to run without a bounded statement (sql/013);
          * UTC, so an answer (and a package) is the same as the CLI's */
        PQclear(PQexec(pg, "SET statement_timeout = '60s'; SET TIME ZONE 'UTC'"));
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
 * the answer's JSON text (caller frees) or NULL with ERR set (its code the
 * SQLSTATE). */
static char *api_op(PGconn *pg, const char *token, const char *op, json_t *args, error *err) {
    char *aj = json_dumps(args, JSON_COMPACT);
    const char *v[] = {token, op, aj};
    pg_class cls;
    PGresult *r = pg_query(pg, "SELECT spoor.api_call($1, $2, $3::jsonb)", 3, v, &cls, err);
    free(aj);
    if (!r)
        return NULL;
    char *out = PQgetisnull(r, 0, 0) ? mem_strdup("null") : mem_strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return out;
}

/* The answer of a record (a lookup's or another audited read's): a second
 * call, so the record's transaction has committed. */
static char *api_answer(PGconn *pg, const char *token, long long ticket, error *err) {
    json_t *a = json_pack("{s:I}", "ticket", (json_int_t)ticket);
    char *out = api_op(pg, token, "read.answer", a, err);
    json_decref(a);
    return out;
}

/* A gated lookup: its record (one statement, committed), then its answer. */
static char *api_op_lookup(PGconn *pg, const char *token, const char *op, json_t *args,
                           error *err) {
    char *rec = api_op(pg, token, op, args, err);
    if (!rec)
        return NULL;
    long long t;
    int rc = lookup_call_ticket(rec, &t, err);
    free(rec);
    return rc < 0 ? NULL : api_answer(pg, token, t, err);
}

/* Any other operation: its answer, or, for an audited read (an export, an
 * auditor's reading of a case, the report), its record's answer. */
static char *api_op_read(PGconn *pg, const char *token, const char *op, json_t *args, error *err) {
    char *out = api_op(pg, token, op, args, err);
    long long t;
    if (!out || !lookup_call_is_record(out, &t))
        return out;
    free(out);
    return api_answer(pg, token, t, err);
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
    buf_printf(o,
               "# TYPE spoor_api_deadline_cutoffs_total counter\n"
               "spoor_api_deadline_cutoffs_total %ld\n"
               "# TYPE spoor_api_calls_in_flight gauge\nspoor_api_calls_in_flight %ld\n",
               (long)a->timeouts, a->n_calls);
}

/* The request-management endpoints: each one SQL function called as the
 * person, its parameters taken from the path (":id") or the JSON body (by
 * name; objects and arrays passed as JSON text).  The rules live in the
 * functions; this table only maps HTTP onto them. */
/* A route whose arguments need more than the table says (a lookup's
 * validators, the header check, the package): its own function.  ID is the
 * path's id ("" if none); BODY the request's JSON object. */
typedef void (*route_fn)(call *c, PGconn *pg, const char *token, const char *person, json_t *body,
                         const char *id);

typedef struct route {
    const char *method, *path; /* path: literal, with "%" standing for a numeric id */
    const char *op;            /* spoor.api_op */
    const char *fixed;         /* JSON object members the route adds, or NULL */
    const char *params[12];    /* ":id", "?query", or a body member */
    route_fn fn;               /* NULL: the arguments as params says, then op */
} route;

static void trace_headers_fn(call *c, PGconn *pg, const char *token, const char *person,
                             json_t *body, const char *id);
static void package_fn(call *c, PGconn *pg, const char *token, const char *person, json_t *body,
                       const char *id);

static const route routes[] = {
    {"POST",
     "/v1/trace/ip",
     "trace.ip",
     NULL,
     {"request_id", "ip", "at", "port", "tolerance"},
     NULL},
    {"POST",
     "/v1/trace/message-id",
     "trace.message_id",
     NULL,
     {"request_id", "message_id", "tolerance"},
     NULL},
    {"POST", "/v1/trace/headers", "trace.headers", NULL, {NULL}, trace_headers_fn},
    {"POST",
     "/v1/requests/%/approve",
     "request.decide",
     "{\"approve\":true}",
     {":id", "note"},
     NULL},
    {"POST",
     "/v1/requests/%/reject",
     "request.decide",
     "{\"approve\":false}",
     {":id", "note"},
     NULL},
    {"GET", "/v1/requests", "request.list", NULL, {NULL}, NULL},
    {"POST",
     "/v1/requests",
     "request.create",
     NULL,
     {"case_ref", "authority", "legal_basis", "contact", "kind", "received_at", "deadline",
      "window_lo", "window_hi", "max_lookups", "scope", "options"},
     NULL},
    {"GET", "/v1/requests/%", "request.show", NULL, {":id"}, NULL},
    {"POST",
     "/v1/requests/%/cancel",
     "request.transition",
     "{\"to\":\"cancelled\"}",
     {":id", "note"},
     NULL},
    {"POST",
     "/v1/requests/%/disclosed",
     "request.transition",
     "{\"to\":\"disclosed\"}",
     {":id", "note"},
     NULL},
    {"POST",
     "/v1/requests/%/close",
     "request.transition",
     "{\"to\":\"closed\"}",
     {":id", "note"},
     NULL},
    {"POST", "/v1/requests/%/assign", "request.assign", NULL, {":id", "person"}, NULL},
    {"GET", "/v1/requests/%/export", "request.export", NULL, {":id"}, NULL},
    {"GET", "/v1/requests/%/package", "request.package", NULL, {":id"}, package_fn},
    {"GET", "/v1/holds", "hold.list", NULL, {NULL}, NULL},
    {"POST", "/v1/holds/%/renew", "hold.renew", NULL, {":id", "days", "note"}, NULL},
    {"POST", "/v1/holds/%/release", "hold.release", NULL, {":id", "note"}, NULL},
    {"GET", "/v1/report", "report", NULL, {"?year"}, NULL},
    {"POST", "/v1/users", "user.add", NULL, {"name", "role"}, NULL},
    {"GET", "/v1/admin/changes", "admin.list", NULL, {NULL}, NULL},
    {"POST",
     "/v1/admin/changes/%/confirm",
     "admin.decide",
     "{\"confirm\":true}",
     {":id", "note"},
     NULL},
    {"POST",
     "/v1/admin/changes/%/reject",
     "admin.decide",
     "{\"confirm\":false}",
     {":id", "note"},
     NULL},
    {"POST", "/v1/trace/user", "trace.user", NULL, {"request_id", "user_name"}, NULL},
    {"GET", "/v1/audit", "audit.list", NULL, {"?request"}, NULL},
    {"GET", "/v1/audit/verify", "audit.verify", NULL, {NULL}, NULL},
    {"POST", "/v1/subscribers", "subscribers.import", NULL, {"rows", "source"}, NULL},
    {"GET", "/v1/retention/policy", "retention.policy_list", NULL, {NULL}, NULL},
    {"POST", "/v1/retention/policy", "retention.policy_set", NULL, {"class", "keep", "note"}, NULL},
    {"GET", "/v1/tokens", "token.list", NULL, {NULL}, NULL},
    {"POST", "/v1/tokens/%/revoke", "token.revoke", NULL, {":id"}, NULL},
    {NULL, NULL, NULL, NULL, {NULL}, NULL},
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

static void respond_answer(call *c, char *answer, const char *role, const error *err);

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
static void handle_route(call *c, const route *r, const char *id, const char *query, PGconn *pg,
                         const char *token, const char *person, json_t *body) {
    json_t *args = r->fixed ? json_loads(r->fixed, 0, NULL) : json_object();
    char qv[32];
    for (int n = 0; n < 12 && r->params[n]; n++) {
        const char *name = r->params[n];
        if (!strcmp(name, ":id"))
            json_object_set_new(args, "id", json_string(id));
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
    ops_defaults(r->op, args, c->a->cfg.trace_tolerance);
    /* The arguments' rules are query/ops's, the CLI's too. */
    ops_call k;
    error err;
    if (ops_call_init(&k, r->op, args, OPS_API, NULL, &err) < 0) {
        json_decref(args);
        respond_error(c, 400, err.msg);
        return;
    }
    json_decref(args);
    /* A gated lookup answers in two steps; the rest in one. */
    char *answer = !strncmp(r->op, "trace.", 6) ? api_op_lookup(pg, token, r->op, k.checked, &err)
                                                : api_op_read(pg, token, r->op, k.checked, &err);
    ops_call_close(&k);
    respond_answer(c, answer, person, &err);
    free(answer);
}

/* Sends a function's JSON answer: 200 if its status is ok, 403 if refused;
 * a failed call by its SQLSTATE (libpq's field, in ERR's code): 400 for bad
 * input (classes 22, 23), 401 for a bad token (28000), 403 for a missing
 * privilege (42501), else 500. */
static void respond_answer(call *c, char *answer, const char *role, const error *err) {
    api *a = c->a;
    if (!answer) {
        log_warn("call for %s failed: %s", role, err->msg);
        if (error_sqlstate_class(err, "22") || error_sqlstate_class(err, "23"))
            respond_error(c, 400, err->msg);
        else if (error_is(err, "28000")) {
            a->unauthorized++;
            respond_error(c, 401, "unknown, expired or revoked bearer token");
        } else if (error_is(err, "42501"))
            respond_error(c, 403, "not allowed for this person");
        else
            respond_error(c, 500, "lookup failed");
        return;
    }
    json_t *aj = json_loads(answer, 0, NULL);
    const char *st = aj ? headers_check_str(aj, "status") : NULL;
    int refused = !st || strcmp(st, "ok");
    if (refused)
        a->refused++;
    respond(c, refused ? 403 : 200, "application/json", answer, strlen(answer));
    json_decref(aj);
}

/* spoor-api's side of headers_check_run: through spoor.api_call, as the
 * token's person. */
typedef struct api_headers {
    PGconn *pg;
    const char *token;
    json_t *args; /* the caller's: request_id, tolerance */
} api_headers;

static char *api_logged_hosts_cb(void *arg, error *err) {
    api_headers *h = arg;
    json_t *none = json_object();
    char *lj = api_op(h->pg, h->token, "mta.hosts", none, err);
    json_decref(none);
    json_t *l = lj ? json_loads(lj, JSON_DECODE_ANY, NULL) : NULL;
    char *out = lj ? mem_strdup(json_is_string(l) ? json_string_value(l) : "") : NULL;
    json_decref(l);
    free(lj);
    return out;
}

static char *api_headers_lookup_cb(void *arg, const char *message_id, const char *hops,
                                   error *err) {
    api_headers *h = arg;
    ops_call k;
    if (ops_headers_call(&k, h->args, message_id, hops, OPS_API, err) < 0)
        return NULL;
    char *out = api_op_lookup(h->pg, h->token, "trace.headers", k.checked, err);
    ops_call_close(&k);
    return out;
}

/* GET /v1/requests/ID/package: the signed disclosure package as a tar
 * archive, made from request.export's answer exactly as `spoor request
 * export` makes its folder (lib/disclosure.h), signed with spoor-api's
 * legal.signing_key.  Without a key spoor-api offers none (501): whether the
 * daemon may sign is the ISP's decision, made by giving it the key file. */
static void handle_package(call *c, PGconn *pg, const char *token, const char *person,
                           const char *id) {
    api *a = c->a;
    if (!a->have_sk) {
        respond_error(c, 501,
                      "spoor-api has no signing key (legal.signing_key): the signed package is "
                      "made with `spoor request export` where the key is kept");
        return;
    }
    error err;
    json_t *args = json_pack("{s:I}", "id", (json_int_t)strtoll(id, NULL, 10));
    char *ans = api_op_read(pg, token, "request.package", args, &err);
    json_decref(args);
    json_t *x = ans ? json_loads(ans, 0, NULL) : NULL;
    const char *why;
    if (!ans || !disclosure_ok(x, &why)) {
        respond_answer(c, ans, person, &err);
        free(ans);
        json_decref(x);
        return;
    }
    free(ans);
    char root[64];
    snprintf(root, sizeof root, "spoor-request-%s-package", id);
    buf tar;
    buf_init(&tar);
    package p;
    package_open_tar(&p, root, &tar, timeutil_now() / 1000000);
    disclosure_opts o = {a->cfg.legal_country, a->cfg.legal_csp_id, a->cfg.legal_mta_addresses};
    disclosure_stats st;
    if (disclosure_build(&p, x, &o, a->sk, &st, &err) < 0) {
        log_warn("package of request %s for %s: %s", id, person, err.msg);
        respond_error(c, 500, "the package could not be made");
    } else {
        package_tar_end(&p);
        /* Which package went out, in the audit trail, before it goes. */
        json_t *sa = json_pack("{s:I,s:s,s:s}", "id", (json_int_t)strtoll(id, NULL, 10),
                               "manifest_sha256", p.manifest_sha256, "public_key", st.public_key);
        char *sealed = api_op(pg, token, "request.package_sealed", sa, &err);
        json_decref(sa);
        if (!sealed) {
            respond_answer(c, NULL, person, &err);
            package_close(&p);
            buf_close(&tar);
            json_decref(x);
            return;
        }
        free(sealed);
        respond(c, 200, "application/x-tar", tar.p, tar.len);
        char d[128];
        snprintf(d, sizeof d, "attachment; filename=\"%s.tar\"", root);
        c->r_disposition = mem_strdup(d);
    }
    package_close(&p);
    buf_close(&tar);
    json_decref(x);
}

/* ---- the console's sessions (web_session.h) ---- */

/* Under TLS (here or at a proxy) the cookie is __Host-: Secure, for this
 * host only, Path=/, so no other port or sibling domain can read or plant
 * it.  Plain HTTP is for loopback only (main refuses the console otherwise). */
#define SESSION_COOKIE "spoor_session"
#define SESSION_COOKIE_HOST "__Host-spoor_session"

static const char *cookie_name(const api *a) {
    return a->secure_cookie ? SESSION_COOKIE_HOST : SESSION_COOKIE;
}

/* The Set-Cookie value giving session ID ("" ends it). */
static char *session_cookie(const api *a, const char *id) {
    buf o;
    buf_init(&o);
    buf_printf(&o, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", cookie_name(a), id,
               *id ? "" : "; Max-Age=0", a->secure_cookie ? "; Secure" : "");
    char *out = mem_strndup(o.p, o.len);
    buf_close(&o);
    return out;
}

/* The session's answer: who, in which groups, the CSRF secret, how long. */
static void respond_session(call *c, PGconn *pg, const char *token, const char *op,
                            const char *csrf, uint64_t idle_left) {
    error err;
    json_t *none = json_object();
    char *who = api_op(pg, token, op, none, &err);
    json_decref(none);
    json_t *j = who ? json_loads(who, 0, NULL) : NULL;
    free(who);
    if (!j) {
        respond_answer(c, NULL, "console", &err);
        return;
    }
    json_object_set_new(j, "csrf", json_string(csrf));
    json_object_set_new(j, "idle_seconds", json_integer((json_int_t)idle_left));
    char *out = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    respond(c, 200, "application/json", out, strlen(out));
    free(out);
}

/* POST /v1/session {"token"}: sign in; GET /v1/session: who is signed in;
 * POST /v1/session/end: sign out (with the CSRF secret). */
static void handle_session(call *c, PGconn *pg, int end) {
    api *a = c->a;
    uint64_t now = uv_hrtime() / 1000000000u;
    if (!strcmp(c->method, "POST") && !end) {
        /* A cross-site form cannot send JSON without a CORS preflight, which
         * spoor-api never grants: no one can be signed in behind their back. */
        if (!c->content_type || strncasecmp(c->content_type, "application/json", 16)) {
            respond_error(c, 415, "sign-in takes a JSON body (Content-Type: application/json)");
            return;
        }
        json_t *body = json_loadb(c->body, c->body_len, 0, NULL);
        const char *t = json_is_object(body) ? headers_check_str(body, "token") : NULL;
        char *person = t && strlen(t) >= 16 && strlen(t) <= 256 ? authenticate(pg, t) : NULL;
        if (!person) {
            json_decref(body);
            a->unauthorized++;
            respond_error(c, 401, "this token is unknown, expired or revoked");
            return;
        }
        char id[WEB_SESSION_ID_LEN + 1], csrf[WEB_SESSION_ID_LEN + 1];
        web_session_create(a->sessions, t, person, now, id, csrf);
        respond_session(c, pg, t, "console.sign_in", csrf,
                        (uint64_t)(a->cfg.api_session_idle < a->cfg.api_session_max
                                       ? a->cfg.api_session_idle
                                       : a->cfg.api_session_max));
        if (c->r_status == 200)
            c->r_cookie = session_cookie(a, id);
        else
            web_session_end(a->sessions, id);
        json_decref(body);
        free(person);
        return;
    }
    if (strcmp(c->method, end ? "POST" : "GET")) {
        respond_error(c, 405, end ? "use POST" : "use GET or POST");
        return;
    }
    web_session_info si;
    if (web_session_get(a->sessions, c->sid, now, &si) < 0) {
        a->unauthorized++;
        respond_error(c, 401, "not signed in, or the session has ended: sign in again");
        c->r_cookie = session_cookie(a, "");
        return;
    }
    if (end) {
        if (!web_session_csrf_ok(&si, c->csrf)) {
            respond_error(c, 403, "the page's security check (CSRF) failed: reload the page");
        } else {
            respond_session(c, pg, si.token, "console.sign_out", "", 0);
            web_session_end(a->sessions, c->sid);
            c->r_cookie = session_cookie(a, "");
        }
    } else
        respond_session(c, pg, si.token, "person.whoami", si.csrf, si.idle_left);
    web_session_info_close(&si);
}

/* The caller's token: the bearer token, else the console session's (then a
 * call that changes anything must carry the session's CSRF secret).  NULL
 * after answering 401 or 403. */
static char *call_token(call *c) {
    api *a = c->a;
    char *token = bearer_token(&c->auth);
    if (token || !c->sid)
        return token;
    web_session_info si;
    if (web_session_get(a->sessions, c->sid, uv_hrtime() / 1000000000u, &si) < 0) {
        a->unauthorized++;
        respond_error(c, 401, "not signed in, or the session has ended: sign in again");
        c->r_cookie = session_cookie(a, "");
        return NULL;
    }
    /* Every call on the cookie carries the session's secret, reads too: a
     * read of a case or an export is audited under the person's name, so no
     * other page (another port, a sibling domain, a link) may cause one. */
    int cross = c->fetch_site && strcmp(c->fetch_site, "same-origin");
    if (cross || !web_session_csrf_ok(&si, c->csrf)) {
        respond_error(c, 403, "the page's security check (CSRF) failed: reload the page");
        web_session_info_close(&si);
        return NULL;
    }
    c->via_session = 1;
    token = si.token;
    si.token = NULL;
    web_session_info_close(&si);
    return token;
}

/* Frees a credential, wiped first. */
static void token_free(char *t) {
    if (t) {
        sodium_memzero(t, strlen(t));
        free(t);
    }
}

static void trace_headers_fn(call *c, PGconn *pg, const char *token, const char *person,
                             json_t *body, const char *id) {
    (void)id;
    error err;
    json_t *args = json_object();
    const char *keep[] = {"request_id", "tolerance"};
    for (int i = 0; i < 2; i++) {
        json_t *x = json_object_get(body, keep[i]);
        if (x && !json_is_null(x))
            json_object_set(args, keep[i], x);
    }
    ops_defaults("trace.headers", args, c->a->cfg.trace_tolerance);
    /* The caller's arguments first; the message's own per lookup. */
    ops_call k;
    if (ops_headers_call(&k, args, "stand-in@check", "[]", OPS_API, &err) < 0) {
        json_decref(args);
        respond_error(c, 400, err.msg);
        return;
    }
    ops_call_close(&k);
    const char *msg = headers_check_str(body, "message");
    if (!msg) {
        json_decref(args);
        respond_error(c, 400, "message: the raw message (or its headers) is required");
        return;
    }
    api_headers ah = {pg, token, args};
    headers_check_io io = {api_logged_hosts_cb, api_headers_lookup_cb, &ah};
    headers_check_info info;
    json_t *rj =
        headers_check_run(msg, strlen(msg), c->a->cfg.trace_our_mta_hosts, &io, &info, &err);
    free(info.hosts);
    json_decref(args);
    if (!rj && error_is(&err, "bad_message")) {
        char m[300];
        snprintf(m, sizeof m, "message: %s", err.msg);
        respond_error(c, 400, m);
        return;
    }
    char *answer = rj ? json_dumps(rj, JSON_COMPACT) : NULL;
    json_decref(rj);
    respond_answer(c, answer, person, &err);
    free(answer);
}

static void package_fn(call *c, PGconn *pg, const char *token, const char *person, json_t *body,
                       const char *id) {
    (void)body;
    handle_package(c, pg, token, person, id);
}

/* One call: the console's session endpoints, else the route table (every
 * endpoint is a row of it), the caller's token checked by PostgreSQL, then
 * the route's function or its generic form. */
static void handle(call *c) {
    api *a = c->a;
    const char *path = c->path, *query = c->query, *method = c->method;
    if (!strcmp(path, "/v1/session") || !strcmp(path, "/v1/session/end")) {
        if (!c->pg)
            respond_error(c, 503, "database unavailable");
        else
            handle_session(c, c->pg, path[11] != '\0');
        return;
    }
    const char *other = NULL;
    char rid[32] = "";
    const route *rt = route_find(method, path, rid, sizeof rid, &other);
    if (!rt) {
        if (other)
            respond_error(c, 405, !strcmp(other, "GET") ? "use GET" : "use POST");
        else
            respond_error(c, 404, "no such endpoint");
        return;
    }
    PGconn *pg = c->pg;
    if (!pg) {
        respond_error(c, 503, "database unavailable");
        return;
    }
    char *token = call_token(c);
    if (!token && c->have_r)
        return;
    char *role = token ? authenticate(pg, token) : NULL;
    if (!role) {
        a->unauthorized++;
        token_free(token);
        /* PostgreSQL no longer takes the session's token (revoked, expired):
         * the session ends with it. */
        if (c->via_session) {
            web_session_end(a->sessions, c->sid);
            respond_error(c, 401, "your access token was revoked or has expired: sign in again");
            c->r_cookie = session_cookie(a, "");
            return;
        }
        respond_error(c, 401, "missing, unknown, expired or revoked bearer token");
        return;
    }
    json_error_t je;
    json_t *body = c->body_len ? json_loadb(c->body, c->body_len, 0, &je) : json_object();
    if (!json_is_object(body))
        respond_error(c, 400, "the body must be a JSON object");
    else if (rt->fn)
        rt->fn(c, pg, token, role, body, rid);
    else
        handle_route(c, rt, rid, query, pg, token, role, body);
    json_decref(body);
    free(role);
    token_free(token);
}

/* ---- the loop thread: h2o, connections, deadlines ---- */

/* Every answer's security headers.  The console's policy: its own files
 * only, no inline script or style, no framing, no form posts elsewhere; an
 * API answer may load nothing at all. */
#define CSP_CONSOLE                                                                                \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "                    \
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
#define CSP_API "default-src 'none'; frame-ancestors 'none'"

static void add_security_headers(h2o_req_t *req, const char *csp) {
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-content-type-options"), 0,
                          NULL, H2O_STRLIT("nosniff"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("content-security-policy"), 0,
                          NULL, csp, strlen(csp));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-frame-options"), 0, NULL,
                          H2O_STRLIT("DENY"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("referrer-policy"), 0, NULL,
                          H2O_STRLIT("no-referrer"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("cross-origin-opener-policy"),
                          0, NULL, H2O_STRLIT("same-origin"));
}

static void send_answer(h2o_req_t *req, int status, const char *type, const char *body, size_t len,
                        const char *cookie, const char *disposition) {
    req->res.status = status;
    req->res.reason = reason_of(status);
    req->res.content_length = len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, type, strlen(type));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-store"));
    add_security_headers(req, CSP_API);
    if (cookie)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_SET_COOKIE, NULL, cookie,
                       strlen(cookie));
    if (disposition)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_DISPOSITION, NULL,
                       disposition, strlen(disposition));
    h2o_send_inline(req, body, len);
}

/* A console file (GET or HEAD), or 304 if the browser has it already. */
static void send_file(h2o_req_t *req, const web_file *f) {
    ssize_t ei = h2o_find_header(&req->headers, H2O_TOKEN_IF_NONE_MATCH, -1);
    int same = ei >= 0 && h2o_memis(req->headers.entries[ei].value.base,
                                    req->headers.entries[ei].value.len, f->etag, strlen(f->etag));
    req->res.status = same ? 304 : 200;
    req->res.reason = reason_of(req->res.status);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, f->type,
                   strlen(f->type));
    /* Checked again on every load (cheap with the ETag): a new console
     * version is never mixed with an old one. */
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-cache"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ETAG, NULL, f->etag, strlen(f->etag));
    add_security_headers(req, CSP_CONSOLE);
    if (same) {
        req->res.content_length = 0;
        h2o_send_inline(req, "", 0);
        return;
    }
    req->res.content_length = f->len;
    h2o_send_inline(req, f->data, f->len);
}

static void send_error(api *a, h2o_req_t *req, int status, const char *msg) {
    char *s = error_json(msg);
    send_answer(req, status, "application/json", s, strlen(s), NULL, NULL);
    free(s);
    a->errors++;
}

static void conn_free_if_done(conn *c) {
    if (c->handles == 0 && c->in_flight == 0) {
        c->a->n_conns--;
        free(c);
    }
}

static void conn_handle_closed_cb(uv_handle_t *h) {
    conn *c = h->data;
    c->handles--;
    conn_free_if_done(c);
}

/* h2o closed the socket: unlink the connection and close its timer. */
static void conn_socket_closed_cb(uv_handle_t *h) {
    conn *c = (conn *)h; /* tcp is the first member */
    if (c->prev)
        c->prev->next = c->next;
    else
        c->a->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    c->closed = 1;
    c->handles--;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, conn_handle_closed_cb);
}

/* Ends a connection under h2o's feet without freeing anything h2o holds:
 * both directions shut, h2o reads the end and closes the socket itself. */
static void conn_shutdown(conn *c) {
    uv_os_fd_t fd;
    if (!c->closed && uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0)
        shutdown(fd, SHUT_RDWR);
}

/* api.timeout passed without a complete request: the client is cut off. */
static void deadline_cb(uv_timer_t *t) {
    conn *c = t->data;
    c->a->timeouts++;
    conn_shutdown(c);
}

/* The connection's deadline starts again (after an answer), or stops
 * while one of its requests is being answered. */
static void conn_deadline(conn *c) {
    if (c->closed)
        return;
    if (c->in_flight > 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, deadline_cb, (uint64_t)c->a->cfg.api_timeout * 1000, 0);
}

static int same_peer(const struct sockaddr_storage *x, const struct sockaddr *y) {
    if (x->ss_family != y->sa_family)
        return 0;
    if (y->sa_family == AF_INET) {
        const struct sockaddr_in *p = (const void *)x, *q = (const void *)y;
        return p->sin_port == q->sin_port && p->sin_addr.s_addr == q->sin_addr.s_addr;
    }
    if (y->sa_family == AF_INET6) {
        const struct sockaddr_in6 *p = (const void *)x, *q = (const void *)y;
        return p->sin6_port == q->sin6_port &&
               !memcmp(&p->sin6_addr, &q->sin6_addr, sizeof p->sin6_addr);
    }
    return 0;
}

/* The connection REQ arrived on (by its peer's address and port, unique
 * among open connections to one listener), or NULL. */
static conn *conn_of(api *a, h2o_req_t *req) {
    struct sockaddr_storage ss;
    socklen_t n = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    if (n == 0)
        return NULL;
    for (conn *c = a->conns; c; c = c->next)
        if (same_peer(&c->peer, (struct sockaddr *)&ss))
            return c;
    return NULL;
}

/* Takes one request from the bucket of the token in AUTH (api.rate per
 * second, bursts of twice that); 0 if none is left.  Requests without a
 * token are not counted here: they get 401. */
static int rate_take(api *a, const char *auth, size_t len) {
    if (a->cfg.api_rate <= 0 || len == 0)
        return 1;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)auth[i]) * 1099511628211ull;
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

/* "peer:ADDRESS" of REQ's client into OUT (empty if unknown). */
static void peer_key(h2o_req_t *req, char *out, size_t n) {
    struct sockaddr_storage ss;
    char a[INET6_ADDRSTRLEN] = "";
    if (req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss) == 0)
        return;
    if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, a, sizeof a);
    else if (ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, a, sizeof a);
    snprintf(out, n, "peer:%s", a);
}

/* A copy of request header NAME (lower case), or NULL. */
static char *header_copy(h2o_req_t *req, const char *name, size_t len) {
    ssize_t i = h2o_find_header_by_str(&req->headers, name, len, -1);
    if (i < 0)
        return NULL;
    return mem_strndup(req->headers.entries[i].value.base, req->headers.entries[i].value.len);
}

/* The console session id in the request's cookies, or NULL.  Only a value
 * of the right length and alphabet is taken: anything else is no session. */
static char *cookie_session(const api *a, h2o_req_t *req) {
    const char *name = cookie_name(a);
    const size_t nl = strlen(name);
    for (ssize_t i = -1; (i = h2o_find_header(&req->headers, H2O_TOKEN_COOKIE, i)) >= 0;) {
        const char *p = req->headers.entries[i].value.base;
        const char *e = p + req->headers.entries[i].value.len;
        while (p < e) {
            while (p < e && (*p == ' ' || *p == ';'))
                p++;
            const char *end = memchr(p, ';', (size_t)(e - p));
            if (!end)
                end = e;
            if ((size_t)(end - p) == nl + 1 + WEB_SESSION_ID_LEN && !memcmp(p, name, nl) &&
                p[nl] == '=') {
                char *v = mem_strndup(p + nl + 1, WEB_SESSION_ID_LEN);
                if (strspn(v, "0123456789abcdef") == WEB_SESSION_ID_LEN)
                    return v;
                free(v);
            }
            p = end;
        }
    }
    return NULL;
}

/* h2o let the request go (its client left): the worker's answer is dropped. */
static void call_req_gone_cb(void *p) {
    call *c = *(call **)p;
    if (c)
        c->req = NULL;
}

static void call_free(call *c) {
    free(c->path);
    free(c->query);
    if (c->auth.p) /* a bearer token, and a sign-in's body, are credentials */
        sodium_memzero(c->auth.p, c->auth.len);
    buf_close(&c->auth);
    if (c->body)
        sodium_memzero(c->body, c->body_len);
    free(c->fetch_site);
    free(c->sid);
    free(c->csrf);
    free(c->content_type);
    free(c->body);
    free(c->r_cookie);
    free(c->r_disposition);
    free(c->r_type);
    free(c->r_body);
    free(c);
}

/* A worker thread: the call, with a database connection of its own. */
static void work_cb(uv_work_t *w) {
    call *c = w->data;
    c->pg = pool_get(c->a);
    handle(c);
    pool_put(c->a, c->pg);
    c->pg = NULL;
    if (!c->have_r)
        respond_error(c, 500, "no answer");
}

/* Back on the loop thread: send the answer if the client is still there. */
static void after_work_cb(uv_work_t *w, int status) {
    (void)status;
    call *c = w->data;
    api *a = c->a;
    a->n_calls--;
    if (c->req) {
        *c->slot = NULL;
        send_answer(c->req, c->r_status, c->r_type, c->r_body, c->r_len, c->r_cookie,
                    c->r_disposition);
    }
    if (c->c) {
        c->c->in_flight--;
        conn_deadline(c->c);
        conn_free_if_done(c->c);
    }
    call_free(c);
}

static int on_req_cb(h2o_handler_t *self, h2o_req_t *req) {
    api *a = *(api **)(self + 1);
    a->requests++;
    conn *cn = conn_of(a, req);
    h2o_iovec_t path = req->path_normalized;
    if (h2o_memis(path.base, path.len, H2O_STRLIT("/health"))) {
        send_answer(req, 200, "application/json", H2O_STRLIT("{\"status\":\"ok\"}"), NULL, NULL);
        if (cn)
            conn_deadline(cn);
        return 0;
    }
    if (h2o_memis(path.base, path.len, H2O_STRLIT("/metrics"))) {
        buf o;
        buf_init(&o);
        render_metrics(a, &o);
        send_answer(req, 200, "text/plain; version=0.0.4", o.p, o.len, NULL, NULL);
        buf_close(&o);
        if (cn)
            conn_deadline(cn);
        return 0;
    }
    if (!h2o_memis(path.base, path.len > 4 ? 4 : path.len, H2O_STRLIT("/v1/"))) {
        /* Not the API: the console's files, read at start (web_static.h). */
        const web_file *f = web_static_find(a->web, path.base, path.len);
        if (!f)
            send_error(a, req, 404, "no such page");
        else if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) &&
                 !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD")))
            send_error(a, req, 405, "use GET");
        else
            send_file(req, f);
        if (cn)
            conn_deadline(cn);
        return 0;
    }
    ssize_t hi = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    h2o_iovec_t auth = hi >= 0 ? req->headers.entries[hi].value : h2o_iovec_init(NULL, 0);
    char *sid = cookie_session(a, req);
    /* A console session's calls share its budget as a token's do; a call
     * with neither (a sign-in) is counted by its peer's address, so nobody
     * can try tokens, or flood the workers, faster than api.rate. */
    char peer[INET6_ADDRSTRLEN + 8] = "";
    if (!auth.len && !sid)
        peer_key(req, peer, sizeof peer);
    const char *rk = auth.len ? auth.base : sid ? sid : peer;
    if (!rate_take(a, rk, auth.len ? auth.len : strlen(rk))) {
        free(sid);
        a->rate_limited++;
        send_error(a, req, 429, "too many requests for this token (api.rate)");
        if (cn)
            conn_deadline(cn);
        return 0;
    }
    call *c = mem_zalloc(sizeof *c);
    c->a = a;
    c->c = cn;
    c->req = req;
    snprintf(c->method, sizeof c->method, "%.*s", (int)(req->method.len < 8 ? req->method.len : 7),
             req->method.base);
    c->path = mem_strndup(path.base, path.len);
    c->query = req->query_at != SIZE_MAX ? mem_strndup(req->path.base + req->query_at + 1,
                                                       req->path.len - req->query_at - 1)
                                         : mem_strdup("");
    buf_init(&c->auth);
    buf_add(&c->auth, auth.base, auth.len);
    c->sid = sid;
    c->csrf = header_copy(req, H2O_STRLIT("x-csrf-token"));
    c->content_type = header_copy(req, H2O_STRLIT("content-type"));
    c->fetch_site = header_copy(req, H2O_STRLIT("sec-fetch-site"));
    c->body_len = req->entity.base ? req->entity.len : 0;
    c->body = mem_strndup(req->entity.base ? req->entity.base : "", c->body_len);
    c->slot = h2o_mem_alloc_shared(&req->pool, sizeof *c->slot, call_req_gone_cb);
    *c->slot = c;
    c->work.data = c;
    /* The database call runs in a worker: the loop keeps serving others. */
    if (uv_queue_work(a->loop, &c->work, work_cb, after_work_cb) < 0) {
        *c->slot = NULL;
        call_free(c);
        send_error(a, req, 503, "cannot start the call");
        return 0;
    }
    a->n_calls++;
    if (cn) {
        cn->in_flight++;
        conn_deadline(cn);
    }
    return 0;
}

static void connection_cb(uv_stream_t *server, int status) {
    api *a = server->data;
    if (status < 0)
        return;
    conn *c = mem_zalloc(sizeof *c);
    c->a = a;
    a->n_conns++;
    uv_tcp_init(a->loop, &c->tcp);
    uv_timer_init(a->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles = 2;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0 || a->stopping) {
        c->closed = 1;
        uv_close((uv_handle_t *)&c->timer, conn_handle_closed_cb);
        uv_close((uv_handle_t *)&c->tcp, conn_handle_closed_cb);
        return;
    }
    if (a->n_conns > a->cfg.api_max_connections) {
        /* Over the limit: refused at once, so connections cannot pile up
         * (in plain HTTP with a 503; under TLS simply closed). */
        a->conns_refused++;
        if (!a->tls) {
            char *e = error_json("too many connections");
            char msg[512];
            int n =
                snprintf(msg, sizeof msg,
                         "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                         "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                         strlen(e), e);
            free(e);
            uv_buf_t b = uv_buf_init(msg, (unsigned)n);
            (void)uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        }
        c->closed = 1;
        uv_close((uv_handle_t *)&c->timer, conn_handle_closed_cb);
        uv_close((uv_handle_t *)&c->tcp, conn_handle_closed_cb);
        return;
    }
    int len = sizeof c->peer;
    uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&c->peer, &len);
    c->next = a->conns;
    if (a->conns)
        a->conns->prev = c;
    a->conns = c;
    conn_deadline(c); /* the TLS handshake and the first request, from now */
    h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)&c->tcp, conn_socket_closed_cb);
    h2o_accept(&a->accept, sock);
}

/* Stopping: once the last call and connection are gone, the loop ends
 * (at most api.timeout after the signal). */
static void drain_cb(uv_timer_t *t) {
    api *a = t->data;
    if ((a->n_conns == 0 && a->n_calls == 0) ||
        uv_now(a->loop) - a->stop_started > (uint64_t)a->cfg.api_timeout * 1000) {
        uv_timer_stop(t);
        uv_stop(a->loop);
        return;
    }
    for (conn *c = a->conns; c; c = c->next)
        conn_shutdown(c);
}

static void signal_cb(uv_signal_t *s, int sig) {
    api *a = s->data;
    if (a->stopping)
        return;
    log_info("stopping on %s", strsignal(sig));
    a->stopping = 1;
    uv_close((uv_handle_t *)&a->server, NULL);
    for (conn *c = a->conns; c; c = c->next)
        conn_shutdown(c);
    a->stop_started = uv_now(a->loop);
    uv_timer_start(&a->drain, drain_cb, 0, 50);
}

static void walk_close_cb(uv_handle_t *h, void *arg) {
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* h2o's configuration: one host, one handler for every path. */
static void h2o_setup(api *a) {
    h2o_config_init(&a->h2o);
    a->h2o.server_name = h2o_iovec_init(H2O_STRLIT("spoor-api"));
    a->h2o.max_request_entity_size = (size_t)a->cfg.api_max_body;
    uint64_t ms = (uint64_t)a->cfg.api_timeout * 1000;
    a->h2o.handshake_timeout = ms;
    a->h2o.http1.req_timeout = ms;
    a->h2o.http2.idle_timeout = ms;
    h2o_hostconf_t *host =
        h2o_config_register_host(&a->h2o, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pc = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *h = h2o_create_handler(pc, sizeof *h + sizeof(api *));
    *(api **)(h + 1) = a;
    h->on_req = on_req_cb;
    h2o_context_init(&a->ctx, a->loop, &a->h2o);
    a->accept.ctx = &a->ctx;
    a->accept.hosts = a->h2o.hosts;
    a->accept.ssl_ctx = a->tls;
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
    error err;
    if (config_load(&a->cfg, config_path, &err) < 0) {
        fprintf(stderr, "spoor-api: %s\n", err.msg);
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
    if (*a->cfg.api_tls_cert_file || *a->cfg.api_tls_key_file) {
        if (!*a->cfg.api_tls_cert_file || !*a->cfg.api_tls_key_file)
            log_fatal("api.tls_cert_file and api.tls_key_file go together");
        a->tls = tls_ctx_server(a->cfg.api_tls_cert_file, a->cfg.api_tls_key_file,
                                a->cfg.api_tls_client_ca_file, &err);
        if (!a->tls)
            log_fatal("api TLS: %s", err.msg);
        h2o_ssl_register_alpn_protocols(a->tls, h2o_http2_alpn_protocols);
    } else if (*a->cfg.api_tls_client_ca_file)
        log_fatal("api.tls_client_ca_file needs api.tls_cert_file and api.tls_key_file");
    if (*a->cfg.api_web_root) {
        a->web = web_static_new(a->cfg.api_web_root, &err);
        /* A folder named in the configuration must be there; the built-in
         * default may be absent (not installed): then there is no console. */
        if (!a->web && strcmp(a->cfg.api_web_root, SPOOR_WEBDIR))
            log_fatal("%s", err.msg);
        else if (!a->web)
            log_info("no web console: %s", err.msg);
    }
    /* The signing key, if the ISP gives spoor-api one: read once, kept in
     * locked memory, wiped at exit. */
    if (*a->cfg.legal_signing_key) {
        if (audit_key_read(a->cfg.legal_signing_key, a->sk, sizeof a->sk, 1, &err) < 0)
            log_fatal("legal.signing_key: %s", err.msg);
        sodium_mlock(a->sk, sizeof a->sk);
        a->have_sk = 1;
    }
    a->sessions =
        web_session_new((uint64_t)a->cfg.api_session_idle, (uint64_t)a->cfg.api_session_max, 4096);
    a->secure_cookie = a->tls || a->cfg.api_cookie_secure;
    /* Database calls run in libuv's worker threads (4 unless told): enough
     * that one slow call (an audit verification, a large export) does not
     * hold everyone else's. */
    if (!getenv("UV_THREADPOOL_SIZE"))
        setenv("UV_THREADPOOL_SIZE", "16", 1);
    a->loop = uv_default_loop();
    char host[128];
    const char *colon = strrchr(a->cfg.api_listen, ':');
    if (!colon || (size_t)(colon - a->cfg.api_listen) >= sizeof host)
        log_fatal("api.listen '%s' is not HOST:PORT", a->cfg.api_listen);
    snprintf(host, sizeof host, "%.*s", (int)(colon - a->cfg.api_listen), a->cfg.api_listen);
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    /* The console's session cookie over plain HTTP is for loopback only. */
    if (a->web && !a->secure_cookie && strcmp(host, "127.0.0.1") && strcmp(host, "::1") &&
        strcmp(host, "localhost"))
        log_fatal("the web console on %s needs TLS: api.tls_cert_file and api.tls_key_file, or "
                  "api.cookie_secure = yes behind a TLS proxy (plain HTTP is for loopback only)",
                  a->cfg.api_listen);
    struct sockaddr_storage sa;
    if (uv_ip4_addr(host, atoi(colon + 1), (struct sockaddr_in *)&sa) != 0 &&
        uv_ip6_addr(host, atoi(colon + 1), (struct sockaddr_in6 *)&sa) != 0)
        log_fatal("api.listen '%s': not an IP address", a->cfg.api_listen);
    h2o_setup(a);
    uv_tcp_init(a->loop, &a->server);
    a->server.data = a;
    int rc = uv_tcp_bind(&a->server, (struct sockaddr *)&sa, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&a->server, 128, connection_cb);
    if (rc != 0)
        log_fatal("api.listen %s: %s", a->cfg.api_listen, uv_strerror(rc));
    uv_signal_init(a->loop, &a->sigterm);
    uv_signal_init(a->loop, &a->sigint);
    uv_timer_init(a->loop, &a->drain);
    a->sigterm.data = a->sigint.data = a->drain.data = a;
    uv_signal_start(&a->sigterm, signal_cb, SIGTERM);
    uv_signal_start(&a->sigint, signal_cb, SIGINT);
    pool_put(a, pool_get(a)); /* connect now, so a wrong DSN shows at start */
    log_info("listening on %s (%s), console: %s", a->cfg.api_listen,
             a->tls ? "HTTPS" : "plain HTTP", a->web ? a->cfg.api_web_root : "none");
    uv_run(a->loop, UV_RUN_DEFAULT);
    /* Stopped: h2o's context and every remaining handle closed, then the loop. */
    h2o_context_dispose(&a->ctx);
    uv_walk(a->loop, walk_close_cb, NULL);
    uv_run(a->loop, UV_RUN_DEFAULT);
    uv_loop_close(a->loop);
    h2o_config_dispose(&a->h2o);
    if (a->tls)
        SSL_CTX_free(a->tls);
    for (int i = 0; i < a->n_pool; i++)
        PQfinish(a->pool[i]);
    log_info("stopped: %ld requests, %ld errors, %ld refused", (long)a->requests, (long)a->errors,
             (long)a->refused);
    sodium_munlock(a->sk, sizeof a->sk); /* zeroes it too */
    web_static_free(a->web);
    web_session_free(a->sessions);
    config_free(&a->cfg);
    free(a);
    return 0;
}
