#include "check.h"

int check_passed, check_failed;
const char *check_current = "";

int check_main(const char *suite, const check_test *tests) {
    for (const check_test *t = tests; t->name; t++) {
        int before = check_failed;
        check_current = t->name;
        t->fn();
        fprintf(stderr, "%s %s.%s\n", check_failed == before ? "ok  " : "FAIL", suite, t->name);
    }
    printf("# %d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}
