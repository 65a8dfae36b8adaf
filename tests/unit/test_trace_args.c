/* query/trace_args: the one set of rules the CLI and spoor-api apply to a
 * lookup's arguments (a table of inputs and what each must give). */
#include "check.h"
#include "trace_args.h"

#include <stdlib.h>
#include <string.h>

static void test_address(void) {
    static const struct {
        const char *in;
        int ok;
    } cases[] = {
        {"192.0.2.1", 1},    {"2001:db8::1", 1}, {"::ffff:192.0.2.1", 1},
        {"192.0.2.0/24", 0}, {"192.0.2.256", 0}, {"", 0},
        {"host.example", 0}, {"192.0.2.1 ", 0},  {"1.2.3.4\n5", 0},
        {"::1::2", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        error e;
        int rc = trace_args_address("ip", cases[i].in, &e);
        CHECK_INT(rc, cases[i].ok ? 0 : -1);
        if (rc < 0) {
            CHECK_STR(e.code, "bad_argument");
            CHECK(strncmp(e.msg, "ip: ", 4) == 0);
        }
    }
    error e;
    CHECK_INT(trace_args_address("ip", NULL, &e), -1);
}

static void test_instant(void) {
    static const struct {
        const char *in, *zone, *want;
    } cases[] = {
        {"2026-11-22T13:15:02Z", NULL, "2026-11-22T13:15:02Z"},
        {"2026-11-22T14:15:02+01:00", NULL, "2026-11-22T13:15:02Z"},
        {"2026-11-22T13:15:02", NULL, NULL}, /* no offset, no zone */
        {"2026-11-22T14:15:02", "Europe/Berlin", "2026-11-22T13:15:02Z"},
        {"2026-03-29T02:30:00", "Europe/Berlin", NULL}, /* in the spring-forward gap */
        {"2026-02-30T00:00:00Z", NULL, NULL},
        {"yesterday", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[TIMEUTIL_RFC3339_MAX] = "";
        error e;
        int rc = trace_args_instant("at", cases[i].in, cases[i].zone, out, &e);
        CHECK_INT(rc, cases[i].want ? 0 : -1);
        if (cases[i].want)
            CHECK_STR(out, cases[i].want);
        else
            CHECK(strncmp(e.msg, "at: ", 4) == 0);
    }
}

static void test_port_tolerance(void) {
    char p[8], t[32];
    error e;
    CHECK_INT(trace_args_port("port", 0, p, &e), 0);
    CHECK_INT(trace_args_port("port", 65535, p, &e), 0);
    CHECK_STR(p, "65535");
    CHECK_INT(trace_args_port("port", 65536, p, &e), -1);
    CHECK_INT(trace_args_port("port", -1, p, &e), -1);
    CHECK_INT(trace_args_tolerance("tolerance", 0, t, &e), 0);
    CHECK_INT(trace_args_tolerance("tolerance", 3600, t, &e), 0);
    CHECK_STR(t, "3600 seconds");
    CHECK_INT(trace_args_tolerance("tolerance", 3601, t, &e), -1);
    CHECK(strstr(e.msg, "0 to 3600") != NULL);
    CHECK_INT(trace_args_tolerance("tolerance", -5, t, &e), -1);
}

static void test_msgid(void) {
    error e;
    char *id = trace_args_msgid("message_id", "<Abc@Example.ORG>", &e);
    CHECK(id != NULL);
    free(id);
    CHECK(trace_args_msgid("message_id", "<>", &e) == NULL); /* empty once canonical */
    CHECK(strstr(e.msg, "empty") != NULL);
    CHECK(trace_args_msgid("message_id", "", &e) == NULL);
    char *big = malloc(TRACE_ARGS_MSGID_MAX + 2);
    memset(big, 'a', TRACE_ARGS_MSGID_MAX + 1);
    big[TRACE_ARGS_MSGID_MAX + 1] = '\0';
    CHECK(trace_args_msgid("message_id", big, &e) == NULL);
    CHECK(strstr(e.msg, "longer than 998") != NULL);
    big[TRACE_ARGS_MSGID_MAX] = '\0';
    id = trace_args_msgid("message_id", big, &e);
    CHECK(id != NULL);
    free(id);
    free(big);
}

static const check_test tests[] = {
    {"address", test_address},
    {"instant", test_instant},
    {"port_tolerance", test_port_tolerance},
    {"msgid", test_msgid},
    {NULL, NULL},
};

int main(void) {
    return check_main("trace_args", tests);
}
