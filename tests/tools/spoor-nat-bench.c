/*
 * spoor-nat-bench: the carrier-grade NAT lookup's latency on the data
 * tests/bench/nat.sql synthesised (or spoor-nat-gen's `blocks` lines,
 * ingested: the same model).  Connection from PG* variables, as the
 * superuser.  Runs K random lookups of each kind and prints
 * "NAME p50_ms p99_ms WRONG":
 *   nat        spoor.nat_holders: public address + port + instant -> the
 *              block's holding, its inside address, its evidence lines;
 *              wrong unless exactly the model's inside address
 *   nat_count  spoor.who_at without a port: how many inside addresses
 *              shared the public address then (all 126 blocks are held an
 *              hour into a holding); wrong unless 126
 *
 *   spoor-nat-bench ADDRS HOLDINGS K
 */
#include "bench_lat.h"
#include "pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void ip4(unsigned long v, char *out, size_t n) {
    snprintf(out, n, "%lu.%lu.%lu.%lu", v >> 24 & 255, v >> 16 & 255, v >> 8 & 255, v & 255);
}

static void run(PGconn *c, const char *name, long addrs, long holdings, int k, int count) {
    double *lat = calloc((size_t)k, sizeof *lat);
    unsigned seed = 4242;
    int bad = 0;
    for (int i = 0; i < k; i++) {
        seed = seed * 1103515245u + 12345u;
        long a = (long)((seed >> 4) % (unsigned long)addrs);
        seed = seed * 1103515245u + 12345u;
        int b = (int)((seed >> 4) % 126), port = 1024 + b * 512 + (int)((seed >> 12) % 512);
        seed = seed * 1103515245u + 12345u;
        long j = (long)((seed >> 4) % (unsigned long)holdings);
        char pub[16], want[16], at[32], ps[8];
        ip4(0xC6120000ul + (unsigned long)a, pub, sizeof pub);
        ip4(0x64400000ul + ((unsigned long)(j * addrs * 126 + a * 126 + b) & 0x3ffffful), want,
            sizeof want);
        time_t t = 1767225600 + j * 14400 + 3600;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
        snprintf(ps, sizeof ps, "%d", port);
        const char *v[] = {pub, count ? NULL : ps, at};
        double t0 = bench_lat_now_ms();
        PGresult *r = PQexecParams(
            c,
            count ? "SELECT spoor.who_at($1::inet, $2::integer, $3::timestamptz, interval '0')"
                    "->'cgn'->>'subscribers_sharing'"
                  : "SELECT string_agg(h->>'inside_ip', ',') FROM "
                    "jsonb_array_elements(spoor.nat_holders($1::inet, $2::integer, "
                    "$3::timestamptz, interval '0')) h",
            3, NULL, v, NULL, NULL, 0);
        lat[i] = bench_lat_now_ms() - t0;
        const char *got = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1
                              ? PQgetvalue(r, 0, 0)
                              : PQresultErrorMessage(r);
        if (strcmp(got, count ? "126" : want)) {
            if (bad < 3)
                fprintf(stderr, "%s: %s:%d at %s: got %s, want %s\n", name, pub, port, at, got,
                        count ? "126" : want);
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
        fprintf(stderr, "usage: spoor-nat-bench ADDRS HOLDINGS K\n");
        return 2;
    }
    long addrs = atol(argv[1]), holdings = atol(argv[2]);
    int k = atoi(argv[3]);
    error err;
    PGconn *c = pg_connect("", "spoor-nat-bench", &err);
    if (!c) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    run(c, "warmup", addrs, holdings, 20, 0);
    run(c, "nat", addrs, holdings, k, 0);
    run(c, "nat_count", addrs, holdings, k > 100 ? 100 : k, 1);
    PQfinish(c);
    return 0;
}
