#include "batch.h"
#include "batch_copy.h"
#include "batch_route.h"
#include "batch_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

batch *batch_new(const batch_opts *opts, error *err) {
    batch *b = mem_zalloc(sizeof *b);
    b->opts = *opts;
    b->default_zone =
        mem_strdup(opts->default_zone && *opts->default_zone ? opts->default_zone : "UTC");
    b->opts.default_zone = b->default_zone;
    b->opts.host_zones = NULL;
    if (!timeutil_zone_valid(b->default_zone)) {
        error_set(err, "bad_config", 0, "ingest.default_zone: unknown zone '%s'", b->default_zone);
        batch_free(b);
        return NULL;
    }
    if (batch_route_zones_parse(b, opts->host_zones, err) < 0) {
        batch_free(b);
        return NULL;
    }
    arena_init(&b->mem, 1 << 20);
    b->horizon[0] = b->horizon[1] = b->horizon[2] = INT64_MIN;
    b->cctx = ZSTD_createCCtx();
    buf_init(&b->copy);
    return b;
}

void batch_reset(batch *b) {
    for (int i = 0; i < b->n_blocks; i++)
        evidence_block_close(&b->blocks[i]);
    for (int i = 0; i < b->n_src; i++)
        free(b->src[i].source);
    b->n_blocks = b->n_src = 0;
    b->n_runs = 0;
    b->n_smtp = b->n_radius = b->n_nat = b->n_quar = 0;
    b->n_reasons = 0;
    b->n_records = 0;
    memset(&b->counts, 0, sizeof b->counts);
    arena_reset(&b->mem);
    buf_reset(&b->copy);
}

void batch_free(batch *b) {
    if (!b)
        return;
    batch_reset(b);
    arena_close(&b->mem);
    free(b->inputs);
    free(b->line_block);
    free(b->smtp);
    free(b->radius);
    free(b->nat);
    free(b->quar);
    free(b->src);
    free(b->blocks);
    free(b->runs);
    for (int i = 0; i < b->n_zones; i++) {
        free(b->zones[i].host);
        free(b->zones[i].zone);
    }
    free(b->zones);
    free(b->default_zone);
    if (b->cctx)
        ZSTD_freeCCtx(b->cctx);
    for (int i = 0; i < 2; i++)
        ZSTD_freeCDict(b->cdict[i]);
    buf_close(&b->copy);
    free(b);
}

const batch_counts *batch_get_counts(const batch *b) {
    return &b->counts;
}
size_t batch_size(const batch *b) {
    return b->n_records;
}
int batch_sources(const batch *b) {
    return b->n_src;
}

void batch_source(const batch *b, int i, const char **source, int *part, int64_t *first,
                  int64_t *next) {
    *source = b->src[i].source;
    *part = b->src[i].part;
    *first = b->src[i].first;
    *next = b->src[i].next;
}

void batch_each_reason(const batch *b, void (*fn)(void *arg, const char *reason, long n),
                       void *arg) {
    for (int i = 0; i < b->n_reasons; i++)
        fn(arg, b->reasons[i].reason, b->reasons[i].n);
}

/* The retention horizons, read at every commit (one cheap call; a policy or
 * the date may have changed).  A database without the function (or a role
 * without the right) leaves them unknown. */
static void load_horizon(batch *b, PGconn *conn) {
    PGresult *r = PQexec(conn, "SELECT spoor.retention_horizons()");
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
        /* "smtp radius evidence nat": a record needs its class's day and its
         * evidence line's day, so the later of the two horizons counts. */
        int64_t h[4] = {INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN};
        const char *v = PQgetvalue(r, 0, 0);
        for (int k = 0; k < 4 && v; k++) {
            long long d;
            if (sscanf(v, "%lld", &d) == 1) /* "-": no policy for the class */
                h[k] = d;
            v = strchr(v, ' ');
            v = v ? v + 1 : NULL;
        }
        b->horizon[0] = h[0] > h[2] ? h[0] : h[2];
        b->horizon[1] = h[1] > h[2] ? h[1] : h[2];
        b->horizon[2] = h[3] > h[2] ? h[3] : h[2];
    }
    PQclear(r);
}

int batch_fenced(const error *err) {
    return error_is(err, BATCH_FENCE_CODE);
}

pg_class batch_commit(batch *b, PGconn *conn, error *err) {
    if (b->n_records == 0)
        return PG_OK;
    load_horizon(b, conn);
    batch_route_expire(b);
    b->counts.raw_bytes = b->counts.compressed_bytes = 0;
    b->counts.blocks = b->n_blocks;
    batch_copy_load_dicts(b, conn);
    /* synchronous_commit off is safe here, and only here: the batch's rows and
     * its source positions commit together, so a commit that PostgreSQL loses
     * in a crash loses both, and the batch is consumed again from Kafka (or
     * the file) as if it had never been stored: nothing lost, nothing twice.
     * The WAL flush per batch is the cost it saves.  No JIT: the batch's
     * statements are planned for a few thousand rows, where compiling costs
     * more than it saves. */
    int rc = batch_copy_prepare(b, conn, err);
    if (rc != PG_OK)
        return rc;
    rc = batch_copy_exec(conn, "BEGIN; SET LOCAL synchronous_commit = off; SET LOCAL jit = off",
                         err);
    if (rc != PG_OK)
        return rc;
    rc = batch_copy_commit(b, conn, err);
    if (rc != PG_OK) {
        PQclear(PQexec(conn, "ROLLBACK"));
        return rc;
    }
    return batch_copy_exec(conn, "COMMIT", err);
}

/* A batch PostgreSQL refused for its content (a data exception the parsers
 * did not foresee) must not stop the pipeline: store its records one by one,
 * and quarantine each one that is still refused, with PostgreSQL's reason.
 * Positions stay contiguous, so the fence holds throughout. */
pg_class batch_salvage(batch *b, PGconn *conn, error *err) {
    error e1;
    batch *one = batch_new(&b->opts, &e1);
    if (!one) {
        if (err)
            *err = e1;
        return PG_FATAL;
    }
    /* batch_new copied default_zone; the zone table is shared read-only. */
    one->zones = b->zones;
    one->n_zones = b->n_zones;
    batch_counts total = {0};
    int rc = PG_OK;
    for (size_t i = 0; i < b->n_records && rc == PG_OK; i++) {
        batch_reset(one);
        batch_route_add(one, &b->inputs[i], NULL, NULL);
        rc = batch_commit(one, conn, &e1);
        if (rc == PG_FATAL && !batch_fenced(&e1)) {
            batch_reset(one);
            batch_route_add(one, &b->inputs[i], "db_rejected", e1.msg);
            rc = batch_commit(one, conn, err);
        } else if (rc != PG_OK && err)
            *err = e1;
        total.consumed += one->counts.consumed;
        total.stored += one->counts.stored;
        total.quarantined += one->counts.quarantined;
        for (int k = 0; k < one->n_reasons; k++)
            for (long j = 0; j < one->reasons[k].n; j++)
                batch_route_count_reason(b, one->reasons[k].reason);
    }
    one->zones = NULL;
    one->n_zones = 0;
    batch_free(one);
    if (rc == PG_OK) {
        /* What the caller reports is what was stored in the end. */
        b->counts.consumed = total.consumed;
        b->counts.stored = total.stored;
        b->counts.quarantined = total.quarantined;
    }
    return rc;
}
