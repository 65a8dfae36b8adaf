/*
 * batch_state: a batch's private state, shared by the files that implement
 * it and by nothing else: batch.c (life cycle, commit, salvage),
 * batch_route.c (parsing, routing and quarantine), batch_copy.c (evidence
 * blocks, COPY encoding, the commit's statements) and batch_lease.c (the
 * lease index's input).  The public interface is batch.h.
 *
 * Ownership: everything a batch points to is its own (its arena, its row
 * arrays, its blocks); see batch_free.
 */
#ifndef SPOOR_BATCH_STATE_H
#define SPOOR_BATCH_STATE_H

#include "arena.h"
#include "batch.h"
#include "buf.h"
#include "evidence.h"
#include "mem.h"
#include "nat.h"
#include "radius_detail.h"
#include "timeutil.h"

#include <stdio.h>
#include <zstd.h>

#define DAY_US (86400LL * TIMEUTIL_US)

typedef struct smtp_row {
    int64_t ts;
    const char *host;
    int kind;
    const char *queue_id, *message_id, *client_name, *client_ip;
    int client_port;
    const char *sasl_username, *sender, *recipient, *status, *relay, *next_queue_id, *orig_queue_id;
    long long size;
    int src; /* index into sources */
    int64_t pos;
    int block; /* index into blocks */
    int idx;
} smtp_row;

typedef struct radius_row {
    radius_detail_rec rec;
    const char *session_key;
    const char *framed_v6, *delegated_v6;
    int src;
    int64_t pos;
    int block;
    int idx;
} radius_row;

typedef struct nat_row {
    nat_record rec; /* its strings in the batch's arena */
    int64_t ts;
    const char *host;
    int src;
    int64_t pos;
    int block;
    int idx;
} nat_row;

typedef struct quar_row {
    int64_t received;
    const char *reason, *detail;
    int src;
    int64_t pos;
    int block;
    int idx;
} quar_row;

/* A run of an evidence block's lines that arrived from one peer: from line
 * IDX of block BLOCK until the block's next run (peer NULL: none known). */
typedef struct peer_run {
    int block, idx;
    const char *peer; /* arena */
} peer_run;

typedef struct source_state {
    char *source;
    int part;
    int64_t first, next;
    long consumed, stored, quarantined;
} source_state;

typedef struct zone_entry {
    char *host, *zone;
} zone_entry;

typedef struct reason_count {
    const char *reason; /* static or arena */
    long n;
} reason_count;

struct batch {
    batch_opts opts;
    char *default_zone;
    zone_entry *zones;
    int n_zones;
    arena mem;
    smtp_row *smtp;
    size_t n_smtp, cap_smtp;
    radius_row *radius;
    size_t n_radius, cap_radius;
    nat_row *nat;
    size_t n_nat, cap_nat;
    quar_row *quar;
    size_t n_quar, cap_quar;
    source_state *src;
    int n_src, cap_src;
    evidence_block *blocks;
    int n_blocks, cap_blocks;
    peer_run *runs;
    size_t n_runs, cap_runs;
    reason_count reasons[64];
    int n_reasons;
    batch_counts counts;
    size_t n_records;
    batch_input *inputs; /* copies of what was added, for batch_salvage */
    int *line_block;     /* per input: the block its line went to */
    size_t cap_inputs;
    size_t cur_input; /* the input being routed (its line_block entry) */
    ZSTD_CCtx *cctx;
    /* The newest trained dictionary per kind (0 smtp, 1 radius), loaded at
     * the first commit and again after batch_reload_dicts. */
    ZSTD_CDict *cdict[2];
    int dict_id[2];
    int dicts_loaded;
    /* First UTC day still kept per kind (0 smtp, 1 radius), from the
     * retention policy; INT64_MIN until known.  Survives batch_reset. */
    int64_t horizon[3]; /* smtp, radius, nat */
    buf copy;
};

#define GROW(arr, n, cap)                                                                          \
    do {                                                                                           \
        if ((n) == (cap)) {                                                                        \
            (cap) = (cap) ? (cap)*2 : 64;                                                          \
            (arr) = mem_realloc((arr), sizeof *(arr) * (size_t)(cap));                             \
        }                                                                                          \
    } while (0)

/* The UTC day of instant US (days since 1970-01-01). */
static inline int64_t batch_day_of(int64_t us) {
    int64_t d = us / DAY_US;
    if (us < 0 && us % DAY_US)
        d--;
    return d;
}

static inline void batch_day_text(int64_t day, char *out, size_t n) {
    int y, m, d;
    timeutil_civil_from_days(day, &y, &m, &d);
    snprintf(out, n, "%04d-%02d-%02d", y, m, d);
}

#endif
