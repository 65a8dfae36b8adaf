/*
 * spoor-trace-bench: lookup latency on the data tests/bench/trace.sql
 * synthesised (connection from PG* variables, as the superuser).  Runs K
 * random lookups of each kind and prints "NAME p50_ms p99_ms":
 *   ip          spoor.lease_at: who held the address at the instant, with the
 *               verbatim evidence lines (the index path under trace_ip's gate)
 *   message_id  spoor.submissions_for: the submission, assembled, resolved to
 *               the session, with evidence
 *   radacct     FreeRADIUS's radacct with its stock indexes, same question
 *   gated_ip    the whole gated lookup as an analyst: spoor.trace_ip (gate,
 *               audit entry, kept result, ticket; committed) then
 *               spoor.lookup_answer, on addresses of one /24 (a request's
 *               scope names at most a /24)
 *
 *   spoor-trace-bench SESSIONS POOL K
 */
#include "bench_lat.h"
#include "pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
        double t = bench_lat_now_ms();
        if (kind == 3) {
            /* One /24 of the pool: a request names no wider range. */
            snprintf(ip, sizeof ip, "100.64.0.%ld", a % 256);
            const char *v[] = {ip, at};
            r = PQexecParams(c, sql, 2, NULL, v, NULL, NULL, 0);
            if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
                const char *tk = strstr(PQgetvalue(r, 0, 0), "\"ticket\": ");
                char ticket[32] = "0";
                if (tk)
                    snprintf(ticket, sizeof ticket, "%ld", atol(tk + 10));
                PQclear(r);
                const char *tv[] = {ticket};
                r = PQexecParams(c, "SELECT spoor.lookup_answer($1::bigint)", 1, NULL, tv, NULL,
                                 NULL, 0);
            }
        } else if (kind == 1) {
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
        lat[i] = bench_lat_now_ms() - t;
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1 ||
            (kind != 2 && strstr(name, "ip") && !strstr(PQgetvalue(r, 0, 0), "\"exact\""))) {
            /* Say why (the first few), so a wrong answer under load is explained. */
            if (bad < 3)
                fprintf(stderr, "%s: %s %s: %s\n", name, ip, at,
                        PQresultStatus(r) != PGRES_TUPLES_OK ? PQresultErrorMessage(r)
                        : PQntuples(r) < 1                   ? "no row"
                                                             : PQgetvalue(r, 0, 0));
            bad++;
        }
        PQclear(r);
    }
    qsort(lat, (size_t)k, sizeof *lat, bench_lat_cmp);
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
    error err;
    PGconn *c = pg_connect("", "spoor-trace-bench", &err);
    if (!c) {
        fprintf(stderr, "%s\n", err.msg);
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
    /* The gated path, as two people would use it: one records the request,
     * another approves it, the first looks up (autocommit, as the CLI). */
    const char *setup[] = {
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_analyst') THEN "
        "CREATE ROLE bench_analyst LOGIN IN ROLE spoor_analyst; END IF; "
        "IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_approver') THEN "
        "CREATE ROLE bench_approver LOGIN IN ROLE spoor_approver; END IF; END $$",
        "SET SESSION AUTHORIZATION bench_analyst", "SET statement_timeout = '60s'", NULL};
    for (int i = 0; setup[i]; i++)
        PQclear(PQexec(c, setup[i]));
    PGresult *r = PQexec(
        c, "SELECT spoor.request_create('BENCH', 'Court', 'Law', NULL, 'disclosure', now(), NULL, "
           "'2026-01-01T00:00:00Z', '2026-12-31T00:00:00Z', 1000, "
           "'[{\"kind\": \"ip\", \"value\": \"100.64.0.0/24\"}]'::jsonb)");
    char req[32] = "0";
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        snprintf(req, sizeof req, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    PQclear(PQexec(c, "SET SESSION AUTHORIZATION bench_approver"));
    const char *rv[] = {req};
    PQclear(PQexecParams(c, "SELECT spoor.request_decide($1::bigint, true, 'bench')", 1, NULL, rv,
                         NULL, NULL, 0));
    PQclear(PQexec(c, "SET SESSION AUTHORIZATION bench_analyst"));
    char gsql[160];
    snprintf(gsql, sizeof gsql,
             "SELECT spoor.trace_ip(%s, $1::inet, $2::timestamptz, NULL, interval '0')", req);
    run(c, "gated_ip", gsql, sessions, pool, k > 900 ? 900 : k, 3);
    PQfinish(c);
    return 0;
}
