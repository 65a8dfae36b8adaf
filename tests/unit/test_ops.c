/* query/ops: the one table of operations the CLI and spoor-api share — each
 * argument type's rule, the required ones, unknown members, the rule across
 * arguments (a rejection needs a note), the message naming the CLI's option
 * or the JSON member, the kept forms the SQL call gets; and the table agrees
 * with spoor.api_op (sql/016, sql/019), the names spoor-api calls. */
#include "check.h"
#include "ops.h"

#include <stdlib.h>
#include <string.h>

typedef struct ops_case {
    const char *op, *args; /* ARGS: JSON */
    ops_caller who;
    const char *zone;
    const char *want; /* "=MEMBER=VALUE" checked value, or "!MESSAGE" (a prefix) */
} ops_case;

static const ops_case cases[] = {
    /* trace.ip: every type of a lookup */
    {"trace.ip",
     "{\"request_id\":7,\"ip\":\"192.0.2.1\",\"at\":\"2026-11-22T14:15:02+01:00\","
     "\"tolerance\":5}",
     OPS_API, NULL, "=at=2026-11-22T13:15:02Z"},
    {"trace.ip",
     "{\"request_id\":\"7\",\"ip\":\"192.0.2.1\",\"at\":\"2026-11-22T14:15:02\","
     "\"tolerance\":\"5\",\"port\":\"443\"}",
     OPS_CLI, "Europe/Berlin", "=at=2026-11-22T13:15:02Z"},
    {"trace.ip",
     "{\"request_id\":7,\"ip\":\"192.0.2.1\",\"at\":\"2026-11-22T13:00:00Z\","
     "\"tolerance\":5}",
     OPS_API, NULL, "=tolerance=5 seconds"},
    {"trace.ip",
     "{\"request_id\":7,\"ip\":\"192.0.2.1\",\"at\":\"2026-11-22T13:00:00Z\","
     "\"tolerance\":5,\"port\":65536}",
     OPS_API, NULL, "!port: 65536 is not a port"},
    {"trace.ip",
     "{\"request_id\":7,\"ip\":\"192.0.2.1\",\"at\":\"2026-11-22T13:00:00Z\","
     "\"tolerance\":5,\"port\":\"x1\"}",
     OPS_CLI, NULL, "!--port: 'x1' is not a number"},
    {"trace.ip",
     "{\"request_id\":7,\"ip\":\"192.0.2.0/24\",\"at\":\"2026-11-22T13:00:00Z\","
     "\"tolerance\":5}",
     OPS_API, NULL, "!ip: '192.0.2.0/24' is not an IPv4 or IPv6 address"},
    {"trace.ip", "{\"request_id\":7,\"ip\":\"192.0.2.1\",\"tolerance\":5}", OPS_CLI, NULL,
     "!--at is required"},
    {"trace.ip", "{\"request_id\":7,\"ip\":\"192.0.2.1\",\"tolerance\":5}", OPS_API, NULL,
     "!at is required"},
    {"trace.ip", "{\"ip\":\"192.0.2.1\",\"at\":\"2026-11-22T13:00:00Z\",\"tolerance\":5}", OPS_CLI,
     NULL, "!--request is required"},
    {"trace.ip",
     "{\"request_id\":0,\"ip\":\"192.0.2.1\",\"at\":\"2026-11-22T13:00:00Z\","
     "\"tolerance\":5}",
     OPS_API, NULL, "!request_id: '0' is not an id"},
    {"trace.ip",
     "{\"request_id\":\"12abc\",\"ip\":\"192.0.2.1\",\"at\":\"2026-11-22T13:00:00Z\","
     "\"tolerance\":5}",
     OPS_API, NULL, "!request_id: '12abc' is not an id"},
    {"trace.ip",
     "{\"request_id\":7,\"ip\":\"192.0.2.1\",\"at\":\"2026-11-22T13:00:00Z\","
     "\"tolerance\":3601}",
     OPS_CLI, NULL, "!--tolerance: 3601 is not a number of seconds from 0 to 3600"},
    {"trace.ip",
     "{\"request_id\":7,\"ip\":\"192.0.2.1\",\"at\":\"2026-03-29T02:30:00\","
     "\"tolerance\":5}",
     OPS_CLI, "Europe/Berlin", "!--at: "},
    {"trace.ip",
     "{\"request_id\":7,\"ip\":\"192.0.2.1\",\"at\":\"2026-11-22T13:00:00Z\","
     "\"tolerance\":5,\"evil\":1}",
     OPS_API, NULL, "!evil: not an argument of trace.ip"},
    /* trace.message_id: the canonical form; empty and over-long refused alike */
    {"trace.message_id", "{\"request_id\":7,\"message_id\":\"<Abc@Example.ORG>\",\"tolerance\":0}",
     OPS_API, NULL, "=message_id=Abc@example.org"},
    {"trace.message_id", "{\"request_id\":7,\"message_id\":\"<>\",\"tolerance\":0}", OPS_CLI, NULL,
     "!message-id: an empty Message-ID"},
    {"trace.message_id", "{\"request_id\":7,\"message_id\":\"<>\",\"tolerance\":0}", OPS_API, NULL,
     "!message_id: an empty Message-ID"},
    {"trace.message_id", "{\"request_id\":7,\"message_id\":42,\"tolerance\":0}", OPS_API, NULL,
     "!message_id: text expected"},
    /* request.decide and admin.decide: a rejection needs a note */
    {"request.decide", "{\"id\":\"3\",\"approve\":false}", OPS_CLI, NULL,
     "!a rejection needs --note with the reason"},
    {"request.decide", "{\"id\":3,\"approve\":false}", OPS_API, NULL,
     "!a rejection needs a note with the reason"},
    {"request.decide", "{\"id\":3,\"approve\":false,\"note\":\"out of scope\"}", OPS_API, NULL,
     "=approve=false"},
    {"request.decide", "{\"id\":3,\"approve\":true}", OPS_API, NULL, "=id=3"},
    {"request.decide", "{\"id\":3,\"approve\":\"maybe\"}", OPS_API, NULL,
     "!approve: true or false, not 'maybe'"},
    {"request.decide", "{\"id\":\"abc\",\"approve\":true}", OPS_CLI, NULL,
     "!ID: 'abc' is not an id"},
    {"admin.decide", "{\"id\":3,\"confirm\":false}", OPS_API, NULL,
     "!a rejection needs a note with the reason"},
    /* request.create: instants in the call's zone, numbers, JSON */
    {"request.create",
     "{\"case_ref\":\"C-1\",\"authority\":\"Police\",\"legal_basis\":\"s. 100\","
     "\"window_lo\":\"2026-11-22T08:00:00\",\"window_hi\":\"2026-11-22T10:00:00Z\"}",
     OPS_CLI, "Europe/Berlin", "=window_lo=2026-11-22T07:00:00Z"},
    {"request.create",
     "{\"case_ref\":\"C-1\",\"authority\":\"Police\",\"legal_basis\":\"s. 100\","
     "\"window_lo\":\"2026-11-22T08:00:00Z\",\"window_hi\":\"2026-11-22T10:00:00Z\","
     "\"max_lookups\":\"many\"}",
     OPS_CLI, NULL, "!--max-lookups: 'many' is not a whole number"},
    {"request.create",
     "{\"case_ref\":\"C-1\",\"authority\":\"Police\",\"window_lo\":\"2026-11-22T08:00:00Z\","
     "\"window_hi\":\"2026-11-22T10:00:00Z\"}",
     OPS_API, NULL, "!legal_basis is required"},
    {"request.create",
     "{\"case_ref\":\"C-1\",\"authority\":\"Police\",\"legal_basis\":\"s. 100\","
     "\"window_lo\":\"2026-11-22T08:00:00Z\",\"window_hi\":\"2026-11-22T10:00:00Z\","
     "\"scope\":\"192.0.2.1\"}",
     OPS_API, NULL, "!scope: a JSON object or array expected"},
    {"request.create",
     "{\"case_ref\":7,\"authority\":\"Police\",\"legal_basis\":\"s. 100\","
     "\"window_lo\":\"2026-11-22T08:00:00Z\",\"window_hi\":\"2026-11-22T10:00:00Z\"}",
     OPS_API, NULL, "!case_ref: text expected, not 7"},
    /* report: a range */
    {"report", "{\"year\":\"2026\"}", OPS_API, NULL, "=year=2026"},
    {"report", "{\"year\":\"20266\"}", OPS_API, NULL, "!year: 20266 is not from 1 to 9999"},
    {"report", "{\"risk_days\":\"-1\"}", OPS_CLI, NULL, "!--risk-days: -1 is not from 0 to 36500"},
    {"hold.renew", "{\"id\":1,\"days\":\"ten\"}", OPS_CLI, NULL,
     "!--days: 'ten' is not a whole number"},
    {"user.add", "{\"name\":\"lena\"}", OPS_CLI, NULL, "!--role is required"},
    {"no.such", "{}", OPS_API, NULL, "!no operation 'no.such'"},
};

static void test_table(void) {
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const ops_case *t = &cases[i];
        json_t *args = json_loads(t->args, 0, NULL);
        CHECK(args != NULL);
        ops_call k;
        error e;
        int rc = ops_call_init(&k, t->op, args, t->who, t->zone, &e);
        json_decref(args);
        if (t->want[0] == '!') {
            CHECK_INT(rc, -1);
            if (rc < 0 && strncmp(e.msg, t->want + 1, strlen(t->want + 1))) {
                check_failed++;
                fprintf(stderr, "FAIL case %zu (%s): got '%s', want '%s...'\n", i, t->op, e.msg,
                        t->want + 1);
            } else
                check_passed++;
            if (rc == 0)
                ops_call_close(&k);
            continue;
        }
        CHECK_INT(rc, 0);
        if (rc < 0) {
            fprintf(stderr, "  case %zu (%s): %s\n", i, t->op, e.msg);
            continue;
        }
        char member[64];
        const char *eq = strchr(t->want + 1, '=');
        snprintf(member, sizeof member, "%.*s", (int)(eq - t->want - 1), t->want + 1);
        CHECK_STR(json_string_value(json_object_get(k.checked, member)), eq + 1);
        ops_call_close(&k);
    }
}

/* The SQL call's parameters are the kept forms, in the table's order, NULL
 * where the caller gave none, JSON as its text. */
static void test_params(void) {
    json_t *args =
        json_loads("{\"case_ref\":\"C-1\",\"authority\":\"A\",\"legal_basis\":\"B\","
                   "\"window_lo\":\"2026-11-22T08:00:00Z\",\"window_hi\":\"2026-11-22T"
                   "10:00:00+02:00\",\"scope\":[{\"kind\":\"ip\",\"value\":\"192.0.2.1\"}]"
                   ",\"max_lookups\":5}",
                   0, NULL);
    ops_call k;
    error e;
    CHECK_INT(ops_call_init(&k, "request.create", args, OPS_API, NULL, &e), 0);
    json_decref(args);
    CHECK_INT(k.op->n_args, 12);
    CHECK_STR(k.v[0], "C-1");
    CHECK(k.v[3] == NULL); /* contact */
    CHECK(k.v[4] == NULL); /* kind: the SQL call's default */
    CHECK_STR(k.v[8], "2026-11-22T08:00:00Z");
    CHECK_STR(k.v[9], "5");
    CHECK_STR(k.v[10], "[{\"kind\":\"ip\",\"value\":\"192.0.2.1\"}]");
    CHECK(k.v[11] == NULL);
    ops_call_close(&k);
    /* trace.headers: the person's arguments with the message's own */
    json_t *person = json_loads("{\"request_id\":9,\"tolerance\":30}", 0, NULL);
    CHECK_INT(ops_headers_call(&k, person, "<X@Y.example>", "[{\"by\":\"mx1\"}]", OPS_API, &e), 0);
    CHECK_STR(k.v[0], "9");
    CHECK_STR(k.v[1], "X@y.example");
    CHECK_STR(k.v[2], "[{\"by\":\"mx1\"}]");
    CHECK_STR(k.v[3], "30 seconds");
    ops_call_close(&k);
    CHECK_INT(ops_headers_call(&k, person, "<>", "[]", OPS_CLI, &e), -1);
    CHECK_STR(e.msg, "message-id: an empty Message-ID");
    json_decref(person);
}

/* Every operation is one spoor.api_op knows (what spoor-api calls), and
 * every SQL call names as many parameters as the operation has arguments. */
static void test_agrees_with_sql(void) {
    static const char *const files[] = {"sql/016_api_login.sql", "sql/019_console.sql"};
    char *sql = NULL;
    size_t len = 0;
    for (int f = 0; f < 2; f++) {
        FILE *fp = fopen(files[f], "rb");
        CHECK(fp != NULL);
        if (!fp)
            return;
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
            sql = realloc(sql, len + n + 1);
            memcpy(sql + len, chunk, n);
            len += n;
        }
        fclose(fp);
    }
    sql[len] = '\0';
    int n;
    const ops_op *all = ops_all(&n);
    CHECK(n >= 20);
    for (int i = 0; i < n; i++) {
        char pat[96];
        snprintf(pat, sizeof pat, "('%s', '{", all[i].name);
        if (!strstr(sql, pat)) {
            check_failed++;
            fprintf(stderr, "FAIL operation %s is not in spoor.api_op\n", all[i].name);
        } else
            check_passed++;
        if (!all[i].sql)
            continue;
        int max = 0;
        for (const char *p = all[i].sql; (p = strchr(p, '$')); p++)
            if (atoi(p + 1) > max)
                max = atoi(p + 1);
        CHECK_INT(max, all[i].n_args);
        for (int a = 0; a < all[i].n_args; a++)
            CHECK(all[i].args[a].name && all[i].args[a].type);
    }
    free(sql);
}

static const check_test tests[] = {
    {"table", test_table},
    {"params", test_params},
    {"agrees_with_sql", test_agrees_with_sql},
    {NULL, NULL},
};

int main(void) {
    return check_main("ops", tests);
}
