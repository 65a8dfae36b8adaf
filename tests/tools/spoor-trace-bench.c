/*
 * spoor-trace-bench: lookup latency on the data tests/bench/trace.sql
 * synthesised (connection from PG* variables, as the superuser).  Runs K
 * random lookups of each kind and prints "NAME p50_ms p99_ms":
 *   ip          spoor.lease_at: who held the address at the instant, with the
 *               verbatim evidence lines (the index path under trace_ip's gate)
 *   message_id  spoor.submissions_for: the submission, assembled, resolved to
 *               the session, with evidence
 *   radacct     FreeRADIUS's radacct with its stock indexes, same question
 *
 *   spoor-trace-bench SESSIONS POOL K
 */
#include "pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void run(PGconn *c, const char *name, const char *sql, long sessions, long pool, int k,
                int kind) {
    double *lat = calloc((size_t)k, sizeof *lat);
    unsigned seed = 12345;
    int bad = 0;
    for (int i = 0; i < k; i++) {
        seed = seed * 1103515245u + 12345u;
        long s = (long)((seed >> 4) % (unsigned long)sessions);
        long a = s % pool, hour = s / pool;
        char ip[32], at[64], mid[64], lo[64], hi[64];
        snprintf(ip, sizeof ip, "100.64.%ld.%ld", a / 256, a % 256);
        time_t t0 = 1767225600 + hour * 3600; /* 2026-01-01T00:00:00Z */
        struct tm tm;
        time_t at_t = t0 + 20 * 60;
        gmtime_r(&at_t, &tm);
        strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
        time_t lo_t = t0 - 86400, hi_t = t0 + 86400;
        gmtime_r(&lo_t, &tm);
        strftime(lo, sizeof lo, "%Y-%m-%dT%H:%M:%SZ", &tm);
        gmtime_r(&hi_t, &tm);
        strftime(hi, sizeof hi, "%Y-%m-%dT%H:%M:%SZ", &tm);
        PGresult *r;
        double t = now_ms();
        if (kind == 1) {
            const char *v[] = {ip, at};
            r = PQexecParams(c, sql, 2, NULL, v, NULL, NULL, 0);
        } else {
            char q[64];
            snprintf(q, sizeof q, "m%ld", s);
            /* md5 is computed by the server: ask for it in the same query. */
            const char *v[] = {q, lo, hi};
            r = PQexecParams(c, sql, 3, NULL, v, NULL, NULL, 0);
            (void)mid;
        }
        lat[i] = now_ms() - t;
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1 ||
            (kind == 1 && strstr(name, "ip") && !strstr(PQgetvalue(r, 0, 0), "\"exact\"")))
            bad++;
        PQclear(r);
    }
    qsort(lat, (size_t)k, sizeof *lat, cmp);
    printf("%s %.3f %.3f %d\n", name, lat[k / 2], lat[(k * 99) / 100], bad);
    free(lat);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: spoor-trace-bench SESSIONS POOL K\n");
        return 2;
    }
    long sessions = atol(argv[1]), pool = atol(argv[2]);
    int k = atoi(argv[3]);
    char err[512];
    PGconn *c = pg_connect("", "spoor-trace-bench", err, sizeof err);
    if (!c) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    PQclear(PQexec(c, "SET search_path = spoor, pg_catalog"));
    /* Warm up the plans and caches alike for all three. */
    run(c, "warmup", "SELECT spoor.lease_at($1::inet, $2::timestamptz, interval '0')", sessions,
        pool, 20, 1);
    run(c, "ip", "SELECT spoor.lease_at($1::inet, $2::timestamptz, interval '0')", sessions, pool,
        k, 1);
    run(c, "message_id",
        "SELECT spoor.submissions_for(md5($1) || '@isp.example', $2::timestamptz, "
        "$3::timestamptz, interval '0')",
        sessions, pool, k, 2);
    run(c, "radacct",
        "SELECT * FROM public.radacct WHERE FramedIPAddress = $1::inet AND AcctStartTime <= "
        "$2::timestamptz AND (AcctStopTime IS NULL OR AcctStopTime >= $2::timestamptz)",
        sessions, pool, k, 1);
    PQfinish(c);
    return 0;
}
