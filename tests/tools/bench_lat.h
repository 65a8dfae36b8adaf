/*
 * bench_lat: what the latency benchmarks (spoor-trace-bench,
 * spoor-nat-bench, spoor-api-bench) share — a monotonic clock in
 * milliseconds and the order of latencies for qsort.  Header-only: each tool
 * is one program of one file.
 */
#ifndef SPOOR_BENCH_LAT_H
#define SPOOR_BENCH_LAT_H

#include <stdlib.h>
#include <time.h>

static inline double bench_lat_now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static inline int bench_lat_cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#endif
