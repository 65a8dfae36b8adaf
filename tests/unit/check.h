/*
 * check: the unit-test harness.  Table-driven tests call CHECK_* macros,
 * which print got/want on failure and keep counting; check_main() runs the
 * registered test functions and prints "# N passed, N failed" for the runner
 * (tests/run) to add up.  A test binary exits 1 if any check failed.
 */
#ifndef SPOOR_CHECK_H
#define SPOOR_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

extern int check_passed, check_failed;
extern const char *check_current;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond)                                                                                  \
            check_passed++;                                                                        \
        else {                                                                                     \
            check_failed++;                                                                        \
            fprintf(stderr, "FAIL %s (%s:%d): %s\n", check_current, __FILE__, __LINE__, #cond);    \
        }                                                                                          \
    } while (0)

#define CHECK_INT(got, want)                                                                       \
    do {                                                                                           \
        long long g_ = (long long)(got), w_ = (long long)(want);                                   \
        if (g_ == w_)                                                                              \
            check_passed++;                                                                        \
        else {                                                                                     \
            check_failed++;                                                                        \
            fprintf(stderr, "FAIL %s (%s:%d): %s\n  got:  %lld\n  want: %lld\n", check_current,    \
                    __FILE__, __LINE__, #got, g_, w_);                                             \
        }                                                                                          \
    } while (0)

#define CHECK_STR(got, want)                                                                       \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        if ((g_ == NULL && w_ == NULL) || (g_ && w_ && strcmp(g_, w_) == 0))                       \
            check_passed++;                                                                        \
        else {                                                                                     \
            check_failed++;                                                                        \
            fprintf(stderr, "FAIL %s (%s:%d): %s\n  got:  %s\n  want: %s\n", check_current,        \
                    __FILE__, __LINE__, #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)");             \
        }                                                                                          \
    } while (0)

typedef struct check_test {
    const char *name;
    void (*fn)(void);
} check_test;

int check_main(const char *suite, const check_test *tests);

#endif
