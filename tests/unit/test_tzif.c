/* lib/timeutil's own zone reader (TZif files and their footer rules),
 * checked against the C library's on every zone the system has: the offset
 * and the abbreviation at instants every 9.3 days from 1901 to 2105, and at
 * each hour around every transition glibc reports in that span.  Then the
 * same conversions from four threads at once, which the old TZ switching
 * could not do, must give the same answers. */
#include "check.h"
#include "timeutil.h"

#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define ROOT "/usr/share/zoneinfo"
#define MAX_ZONES 800

static char *zones[MAX_ZONES];
static int n_zones;

static int is_tzif(const char *path) {
    FILE *f = fopen(path, "rb");
    char m[4] = {0};
    int ok = f && fread(m, 1, 4, f) == 4 && !memcmp(m, "TZif", 4);
    if (f)
        fclose(f);
    return ok;
}

static void walk(const char *rel) {
    char dir[512];
    snprintf(dir, sizeof dir, ROOT "%s%s", *rel ? "/" : "", rel);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) && n_zones < MAX_ZONES) {
        if (e->d_name[0] == '.')
            continue;
        char name[512], path[1024];
        snprintf(name, sizeof name, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        /* posix/ and right/ repeat the tree (right/ with leap seconds). */
        if (!strcmp(name, "posix") || !strcmp(name, "right") || !strcmp(name, "posixrules") ||
            !strcmp(name, "localtime"))
            continue;
        snprintf(path, sizeof path, ROOT "/%s", name);
        struct stat st;
        if (lstat(path, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode))
            walk(name);
        else if (S_ISREG(st.st_mode) && is_tzif(path) && timeutil_zone_valid(name))
            zones[n_zones++] = strdup(name);
    }
    closedir(d);
}

static int libc_at(const char *zone, time_t t, int *off, char *abbr, size_t n) {
    char tz[300];
    snprintf(tz, sizeof tz, ":%s", zone);
    setenv("TZ", tz, 1);
    tzset();
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return -1;
    *off = (int)tm.tm_gmtoff;
    snprintf(abbr, n, "%s", tm.tm_zone ? tm.tm_zone : "");
    return 0;
}

static long compared, mismatched;

static void compare(const char *zone, time_t t) {
    int want, got;
    char wa[32], ga[32];
    error err;
    if (libc_at(zone, t, &want, wa, sizeof wa) < 0)
        return;
    if (timeutil_zone_offset(zone, (int64_t)t * TIMEUTIL_US, &got, &err) < 0 ||
        timeutil_zone_abbrev(zone, (int64_t)t * TIMEUTIL_US, ga, sizeof ga, &err) < 0) {
        if (mismatched++ < 10)
            fprintf(stderr, "  %s at %lld: %s\n", zone, (long long)t, err.msg);
        return;
    }
    compared++;
    if (got != want || strcmp(ga, wa)) {
        if (mismatched++ < 10)
            fprintf(stderr, "  %s at %lld: got %d %s, want %d %s\n", zone, (long long)t, got, ga,
                    want, wa);
    }
}

static void test_every_zone_against_libc(void) {
    walk("");
    CHECK(n_zones > 300);
    const time_t lo = -2177452800LL, hi = 4291747200LL; /* 1901 .. 2106 */
    for (int z = 0; z < n_zones; z++) {
        int prev_off = 0;
        char pa[32] = "", wa[32];
        for (time_t t = lo; t < hi; t += 803520) { /* 9.3 days */
            compare(zones[z], t);
            int off;
            if (libc_at(zones[z], t, &off, wa, sizeof wa) == 0 && t != lo &&
                (off != prev_off || strcmp(wa, pa))) {
                /* A change in the last 9.3 days: every hour around it. */
                for (time_t u = t - 803520; u <= t; u += 3600)
                    compare(zones[z], u);
            }
            prev_off = off;
            snprintf(pa, sizeof pa, "%s", wa);
        }
    }
    unsetenv("TZ");
    tzset();
    fprintf(stderr, "  %d zones, %ld instants compared, %ld differ\n", n_zones, compared,
            mismatched);
    CHECK(compared > 1000000);
    CHECK_INT(mismatched, 0);
}

/* ---- four threads at once ---- */

#define N_PROBES 20000
static const char *tz4[] = {"Europe/Berlin", "America/New_York", "Australia/Sydney",
                            "Asia/Kathmandu"};
static int want_off[4][N_PROBES];
static int thread_bad[4];

static void *convert_main(void *arg) {
    int k = (int)(long)arg;
    error err;
    for (int round = 0; round < 5; round++)
        for (int i = 0; i < N_PROBES; i++) {
            int o;
            int64_t t = (1100000000LL + (int64_t)i * 86413) * TIMEUTIL_US;
            if (timeutil_zone_offset(tz4[(k + round) % 4], t, &o, &err) < 0 ||
                o != want_off[(k + round) % 4][i])
                thread_bad[k]++;
        }
    return NULL;
}

static void test_threads(void) {
    error err;
    for (int z = 0; z < 4; z++)
        for (int i = 0; i < N_PROBES; i++)
            CHECK(timeutil_zone_offset(tz4[z], (1100000000LL + (int64_t)i * 86413) * TIMEUTIL_US,
                                       &want_off[z][i], &err) == 0);
    pthread_t t[4];
    for (long k = 0; k < 4; k++)
        pthread_create(&t[k], NULL, convert_main, (void *)k);
    for (int k = 0; k < 4; k++) {
        pthread_join(t[k], NULL);
        CHECK_INT(thread_bad[k], 0);
    }
    /* The environment is not the source: a wrong TZ changes nothing. */
    setenv("TZ", ":Pacific/Kiritimati", 1);
    tzset();
    int o;
    CHECK(timeutil_zone_offset("Europe/Berlin", 1700000000LL * TIMEUTIL_US, &o, &err) == 0);
    CHECK_INT(o, 3600);
    unsetenv("TZ");
}

static void test_errors(void) {
    error err;
    error_clear(&err);
    int o;
    CHECK_INT(timeutil_zone_offset("Mars/Olympus", 0, &o, &err), -1);
    CHECK(strstr(err.msg, "unknown time zone 'Mars/Olympus'") != NULL);
    CHECK_INT(timeutil_zone_offset("../../etc/passwd", 0, &o, &err), -1);
}

static const check_test tests[] = {
    {"every_zone_against_libc", test_every_zone_against_libc},
    {"threads", test_threads},
    {"errors", test_errors},
    {NULL, NULL},
};

int main(void) {
    int rc = check_main("tzif", tests);
    for (int i = 0; i < n_zones; i++)
        free(zones[i]);
    return rc;
}
