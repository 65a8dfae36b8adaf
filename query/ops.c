#include "ops.h"
#include "mem.h"
#include "timeutil.h"
#include "trace_args.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INT4 -2147483648LL, 2147483647LL

/* The table.  An operation's SQL call is the CLI's; spoor-api calls the same
 * function through spoor.api_call (sql/016's api_op maps the JSON onto it). */
static const ops_op ops[] = {
    {"trace.ip",
     "SELECT spoor.trace_ip($1, $2, $3, $4, $5)",
     NULL,
     5,
     {{"request_id", "--request", OPS_ID, OPS_REQUIRED, 0, 0},
      {"ip", "address", OPS_ADDRESS, OPS_REQUIRED, 0, 0},
      {"at", "--at", OPS_INSTANT, OPS_REQUIRED, 0, 0},
      {"port", "--port", OPS_PORT, 0, 0, 0},
      {"tolerance", "--tolerance", OPS_TOLERANCE, OPS_REQUIRED, 0, 0}}},
    {"trace.message_id",
     "SELECT spoor.trace_message_id($1, $2, $3)",
     NULL,
     3,
     {{"request_id", "--request", OPS_ID, OPS_REQUIRED, 0, 0},
      {"message_id", "message-id", OPS_MSGID, OPS_REQUIRED, 0, 0},
      {"tolerance", "--tolerance", OPS_TOLERANCE, OPS_REQUIRED, 0, 0}}},
    {"trace.headers",
     "SELECT spoor.trace_headers($1, $2, $3, $4)",
     NULL,
     4,
     {{"request_id", "--request", OPS_ID, OPS_REQUIRED, 0, 0},
      {"message_id", "message-id", OPS_MSGID, OPS_REQUIRED, 0, 0},
      {"hops", NULL, OPS_JSON, OPS_REQUIRED, 0, 0},
      {"tolerance", "--tolerance", OPS_TOLERANCE, OPS_REQUIRED, 0, 0}}},
    {"trace.user",
     "SELECT spoor.trace_user($1, $2)",
     NULL,
     2,
     {{"request_id", "--request", OPS_ID, OPS_REQUIRED, 0, 0},
      {"user_name", "user", OPS_TEXT, OPS_REQUIRED, 0, 253}}},
    {"request.create",
     "SELECT spoor.request_create($1, $2, $3, $4, coalesce($5, 'disclosure'), "
     "coalesce($6::timestamptz, now()), $7, $8, $9, $10, $11, $12)",
     NULL,
     12,
     {{"case_ref", "--case", OPS_TEXT, OPS_REQUIRED, 0, 0},
      {"authority", "--authority", OPS_TEXT, OPS_REQUIRED, 0, 0},
      {"legal_basis", "--basis", OPS_TEXT, OPS_REQUIRED, 0, 0},
      {"contact", "--contact", OPS_TEXT, 0, 0, 0},
      {"kind", "--kind", OPS_TEXT, 0, 0, 32},
      {"received_at", "--received", OPS_INSTANT, 0, 0, 0},
      {"deadline", "--deadline", OPS_INSTANT, 0, 0, 0},
      {"window_lo", "--from", OPS_INSTANT, OPS_REQUIRED, 0, 0},
      {"window_hi", "--to", OPS_INSTANT, OPS_REQUIRED, 0, 0},
      {"max_lookups", "--max-lookups", OPS_INT, 0, INT4},
      {"scope", NULL, OPS_JSON, 0, 0, 0},
      {"options", NULL, OPS_JSON, 0, 0, 0}}},
    {"request.list", "SELECT spoor.request_list()", NULL, 0, {{0}}},
    {"request.show",
     "SELECT spoor.request_show($1)",
     NULL,
     1,
     {{"id", "ID", OPS_ID, OPS_REQUIRED, 0, 0}}},
    {"request.transition",
     "SELECT spoor.request_transition($1, $2, $3)",
     NULL,
     3,
     {{"id", "ID", OPS_ID, OPS_REQUIRED, 0, 0},
      {"to", NULL, OPS_TEXT, OPS_REQUIRED, 0, 32},
      {"note", "--note", OPS_TEXT, 0, 0, 0}}},
    {"request.decide",
     "SELECT spoor.request_decide($1, $2, $3)",
     "approve",
     3,
     {{"id", "ID", OPS_ID, OPS_REQUIRED, 0, 0},
      {"approve", NULL, OPS_BOOL, OPS_REQUIRED, 0, 0},
      {"note", "--note", OPS_TEXT, 0, 0, 0}}},
    {"request.assign",
     "SELECT spoor.request_assign($1, $2)",
     NULL,
     2,
     {{"id", "ID", OPS_ID, OPS_REQUIRED, 0, 0},
      {"person", "PERSON", OPS_TEXT, OPS_REQUIRED, 0, 63}}},
    {"request.export",
     "SELECT spoor.request_export($1)",
     NULL,
     1,
     {{"id", "ID", OPS_ID, OPS_REQUIRED, 0, 0}}},
    {"request.package",
     "SELECT spoor.request_export($1)",
     NULL,
     1,
     {{"id", "ID", OPS_ID, OPS_REQUIRED, 0, 0}}},
    {"hold.list", "SELECT spoor.hold_list()", NULL, 0, {{0}}},
    {"hold.renew",
     "SELECT spoor.hold_renew($1, $2, $3)",
     NULL,
     3,
     {{"id", "ID", OPS_ID, OPS_REQUIRED, 0, 0},
      {"days", "--days", OPS_INT, 0, INT4},
      {"note", "--note", OPS_TEXT, 0, 0, 0}}},
    {"hold.release",
     "SELECT spoor.hold_release($1, $2)",
     NULL,
     2,
     {{"id", "ID", OPS_ID, OPS_REQUIRED, 0, 0}, {"note", "--note", OPS_TEXT, 0, 0, 0}}},
    {"report",
     "SELECT spoor.report($1, make_interval(days => $2::integer), "
     "make_interval(days => $3::integer))",
     NULL,
     3,
     {{"year", "--year", OPS_INT, 0, 1, 9999},
      {"risk_days", "--risk-days", OPS_INT, 0, 0, 36500},
      {"hold_warn_days", "--hold-warn-days", OPS_INT, 0, 0, 36500}}},
    {"user.add",
     "SELECT spoor.user_add($1, $2)",
     NULL,
     2,
     {{"name", "NAME", OPS_TEXT, OPS_REQUIRED, 0, 63},
      {"role", "--role", OPS_TEXT, OPS_REQUIRED, 0, 32}}},
    {"admin.list", "SELECT spoor.admin_changes()", NULL, 0, {{0}}},
    {"admin.decide",
     "SELECT spoor.admin_decide($1, $2, $3)",
     "confirm",
     3,
     {{"id", "ID", OPS_ID, OPS_REQUIRED, 0, 0},
      {"confirm", NULL, OPS_BOOL, OPS_REQUIRED, 0, 0},
      {"note", "--note", OPS_TEXT, 0, 0, 0}}},
    {"audit.list",
     "SELECT spoor.audit_list($1)",
     NULL,
     1,
     {{"request", "--request", OPS_ID, 0, 0, 0}}},
    {"audit.verify", "SELECT spoor.audit_verify_chain()", NULL, 0, {{0}}},
    {"subscribers.import",
     NULL, /* the CLI reads a file: spoor-import's job */
     NULL,
     2,
     {{"rows", NULL, OPS_JSON, OPS_REQUIRED, 0, 0}, {"source", NULL, OPS_TEXT, 0, 0, 200}}},
    {"retention.policy_list", "SELECT spoor.retention_policy_list()", NULL, 0, {{0}}},
    {"retention.policy_set",
     "SELECT spoor.retention_policy_set($1, $2::interval, $3)",
     NULL,
     3,
     {{"class", "CLASS", OPS_TEXT, OPS_REQUIRED, 0, 32},
      {"keep", "KEEP", OPS_TEXT, OPS_REQUIRED, 0, 64},
      {"note", "--note", OPS_TEXT, 0, 0, 0}}},
    {"token.list", "SELECT spoor.token_list()", NULL, 0, {{0}}},
    {"token.revoke",
     "SELECT spoor.token_revoke($1)",
     NULL,
     1,
     {{"id", "ID", OPS_ID, OPS_REQUIRED, 0, 0}}},
};

const ops_op *ops_find(const char *name) {
    for (size_t i = 0; name && i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(ops[i].name, name))
            return &ops[i];
    return NULL;
}

const ops_op *ops_all(int *n) {
    *n = (int)(sizeof ops / sizeof ops[0]);
    return ops;
}

/* A whole number in JSON X (an integer, or a string of one); 0, or -1. */
static int whole(const json_t *x, long long *out) {
    if (json_is_integer(x)) {
        *out = (long long)json_integer_value(x);
        return 0;
    }
    const char *s = json_string_value(x);
    if (!s || !*s || strlen(s) > 20)
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end || errno || (s[0] != '-' && (s[0] < '0' || s[0] > '9')))
        return -1;
    *out = v;
    return 0;
}

/* X as text for the messages: a string's value, else its JSON. */
static void shown(const json_t *x, char *out, size_t n) {
    if (json_is_string(x)) {
        snprintf(out, n, "%.60s", json_string_value(x));
        return;
    }
    char *j = json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY);
    snprintf(out, n, "%.60s", j ? j : "?");
    free(j);
}

/* Checks X against A; its kept form into *OUT (new reference). */
static int check_arg(const ops_arg *a, const char *name, const json_t *x, const char *zone,
                     json_t **out, error *err) {
    char v[80], buf[64];
    long long n;
    shown(x, v, sizeof v);
    switch (a->type) {
    case OPS_ID:
        if (whole(x, &n) < 0 || n <= 0)
            return error_set(err, "bad_argument", 0, "%s: '%s' is not an id (a positive number)",
                             name, v);
        snprintf(buf, sizeof buf, "%lld", n);
        *out = json_string(buf);
        return 0;
    case OPS_INT:
        if (whole(x, &n) < 0)
            return error_set(err, "bad_argument", 0, "%s: '%s' is not a whole number", name, v);
        if (n < a->lo || n > a->hi)
            return error_set(err, "bad_argument", 0, "%s: %lld is not from %lld to %lld", name, n,
                             a->lo, a->hi);
        snprintf(buf, sizeof buf, "%lld", n);
        *out = json_string(buf);
        return 0;
    case OPS_TEXT: {
        const char *s = json_string_value(x);
        size_t max = a->hi ? (size_t)a->hi : 8192;
        if (!s)
            return error_set(err, "bad_argument", 0, "%s: text expected, not %s", name, v);
        if (strlen(s) > max)
            return error_set(err, "bad_argument", 0, "%s: longer than %zu bytes", name, max);
        *out = json_string(s);
        return *out ? 0 : error_set(err, "bad_argument", 0, "%s: not UTF-8 text", name);
    }
    case OPS_BOOL:
        if (json_is_boolean(x))
            *out = json_string(json_is_true(x) ? "true" : "false");
        else if (json_is_string(x) &&
                 (!strcmp(json_string_value(x), "true") || !strcmp(json_string_value(x), "false")))
            *out = json_string(json_string_value(x));
        else
            return error_set(err, "bad_argument", 0, "%s: true or false, not '%s'", name, v);
        return 0;
    case OPS_INSTANT: {
        char t[TIMEUTIL_RFC3339_MAX];
        if (!json_is_string(x))
            return error_set(err, "bad_argument", 0, "%s: a time (RFC 3339) expected, not %s", name,
                             v);
        if (trace_args_instant(name, json_string_value(x), zone, t, err) < 0)
            return -1;
        *out = json_string(t);
        return 0;
    }
    case OPS_ADDRESS:
        if (trace_args_address(name, json_string_value(x), err) < 0)
            return -1;
        *out = json_string(json_string_value(x));
        return 0;
    case OPS_PORT: {
        char p[8];
        if (whole(x, &n) < 0)
            return error_set(err, "bad_argument", 0, "%s: '%s' is not a number", name, v);
        if (trace_args_port(name, n, p, err) < 0)
            return -1;
        *out = json_string(p);
        return 0;
    }
    case OPS_TOLERANCE: {
        char t[32];
        if (whole(x, &n) < 0)
            return error_set(err, "bad_argument", 0,
                             "%s: a number of seconds from 0 to 3600, not '%s'", name, v);
        if (trace_args_tolerance(name, n, t, err) < 0)
            return -1;
        *out = json_string(t);
        return 0;
    }
    case OPS_MSGID: {
        if (!json_is_string(x))
            return error_set(err, "bad_argument", 0, "%s: text expected, not %s", name, v);
        char *id = trace_args_msgid(name, json_string_value(x), err);
        if (!id)
            return -1;
        *out = json_string(id);
        free(id);
        return *out ? 0 : error_set(err, "bad_argument", 0, "%s: not UTF-8 text", name);
    }
    case OPS_JSON:
        if (!json_is_object(x) && !json_is_array(x))
            return error_set(err, "bad_argument", 0, "%s: a JSON object or array expected", name);
        *out = json_deep_copy(x);
        return 0;
    }
    return error_set(err, "bad_argument", 0, "%s: unknown type", name);
}

/* Rules across arguments (the table's note_unless), the same for both callers. */
static int check_rules(const ops_op *op, json_t *checked, ops_caller who, error *err) {
    const char *no = op->note_unless;
    if (no && !strcmp(json_string_value(json_object_get(checked, no)), "false") &&
        !json_object_get(checked, "note"))
        return error_set(err, "bad_argument", 0, "a rejection needs %s with the reason",
                         who == OPS_CLI ? "--note" : "a note");
    return 0;
}

int ops_call_init(ops_call *k, const char *name, json_t *args, ops_caller who, const char *zone,
                  error *err) {
    memset(k, 0, sizeof *k);
    k->op = ops_find(name);
    if (!k->op)
        return error_set(err, "no_operation", 0, "no operation '%s'", name ? name : "");
    const char *key;
    json_t *x;
    json_object_foreach(args, key, x) {
        int known = 0;
        for (int i = 0; i < k->op->n_args && !known; i++)
            known = !strcmp(k->op->args[i].name, key);
        if (!known)
            return error_set(err, "bad_argument", 0, "%.60s: not an argument of %s", key, name);
    }
    k->checked = json_object();
    for (int i = 0; i < k->op->n_args; i++) {
        const ops_arg *a = &k->op->args[i];
        const char *shown_as = who == OPS_CLI && a->flag ? a->flag : a->name;
        x = json_object_get(args, a->name);
        if (!x || json_is_null(x)) {
            if (a->flags & OPS_REQUIRED) {
                ops_call_close(k);
                return error_set(err, "bad_argument", 0, "%s is required", shown_as);
            }
            continue;
        }
        json_t *kept = NULL;
        if (check_arg(a, shown_as, x, zone, &kept, err) < 0) {
            ops_call_close(k);
            return -1;
        }
        json_object_set_new(k->checked, a->name, kept);
    }
    if (check_rules(k->op, k->checked, who, err) < 0) {
        ops_call_close(k);
        return -1;
    }
    for (int i = 0; i < k->op->n_args; i++) {
        json_t *v = json_object_get(k->checked, k->op->args[i].name);
        if (json_is_string(v))
            k->v[i] = json_string_value(v);
        else if (v)
            k->v[i] = k->own[i] = json_dumps(v, JSON_COMPACT);
    }
    return 0;
}

void ops_defaults(const char *name, json_t *args, long long tolerance) {
    const ops_op *o = ops_find(name);
    for (int i = 0; o && i < o->n_args; i++)
        if (o->args[i].type == OPS_TOLERANCE && !json_object_get(args, o->args[i].name))
            json_object_set_new(args, o->args[i].name, json_integer(tolerance));
}

int ops_headers_call(ops_call *k, json_t *person, const char *message_id, const char *hops,
                     ops_caller who, error *err) {
    json_t *args = json_deep_copy(person);
    json_object_set_new(args, "message_id", json_string(message_id));
    json_object_set_new(args, "hops", hops ? json_loads(hops, 0, NULL) : json_array());
    int rc = ops_call_init(k, "trace.headers", args, who, NULL, err);
    json_decref(args);
    return rc;
}

void ops_call_close(ops_call *k) {
    for (int i = 0; i < OPS_MAX_ARGS; i++)
        free(k->own[i]);
    json_decref(k->checked);
    memset(k, 0, sizeof *k);
}
