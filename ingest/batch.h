/*
 * batch: one unit of work of spoor-ingest and spoor import — a run of raw
 * records from one or more sources (Kafka topic-partitions, or files),
 * parsed, kept as evidence, and written to PostgreSQL in ONE transaction
 * together with the sources' new positions.
 *
 * batch_add never fails: a record either yields events or is quarantined
 * with its reason and source position; either way its bytes go into an
 * evidence block, and consumed = stored + quarantined holds per source.
 *
 * batch_commit writes everything or nothing.  Before writing, it checks under
 * a row lock that each source's stored position equals the position this
 * batch starts at; if not (another consumer took the partition over and
 * moved on, or this batch was already stored), it fails with PG_FATAL and
 * the error code "fenced" (batch_fenced), and writes nothing: a write from a
 * consumer that lost its partition fails instead of duplicating.  Other
 * failures carry their pg_class (retry, reconnect, fatal) and SQLSTATE.  Memory: one arena per
 * batch, reset by batch_reset.
 *
 * Threads: one batch is used by one thread at a time; different batches may
 * be used concurrently (spoor-ingest fills one while another commits).
 */
#ifndef SPOOR_BATCH_H
#define SPOOR_BATCH_H

#include "pg.h"

#include <stddef.h>
#include <stdint.h>

typedef enum batch_format {
    BATCH_SYSLOG = 1, /* one syslog line from a mail server: Postfix or Exim */
    BATCH_EXIM = 2,   /* one bare Exim mainlog line (file import) */
    BATCH_RADIUS = 3, /* one FreeRADIUS detail record */
    BATCH_NAT = 4,    /* one carrier-grade NAT log line (syslog, or conntrack -E) */
} batch_format;

typedef struct batch_input {
    const char *source; /* Kafka topic, or "file:<sha256>" (borrowed, copied) */
    int part;           /* Kafka partition; 0 for files */
    int64_t pos;        /* Kafka offset, or record number in the file */
    int64_t ref_us;     /* Kafka message time or file time: year inference, quarantine day */
    batch_format format;
    const char *data; /* the raw record (borrowed, copied into evidence) */
    size_t len;
    const char *host; /* host for records that do not name one (bare Exim lines) */
    /* Set by spoor-collect (a Kafka header) when the peer that sent the line
     * may not speak for the host it names (collect.syslog_sources): the
     * record is quarantined as host_not_allowed with this as its detail. */
    const char *refused;
    /* The address spoor-collect received the line from (a Kafka header), or
     * NULL: kept beside the evidence (spoor.evidence_peer). */
    const char *peer;
} batch_input;

typedef struct batch_opts {
    const char *default_zone; /* zone of wall-clock times of unknown hosts */
    const char *host_zones;   /* "host=Zone,host2=Zone2" */
    size_t max_line;          /* longer records are quarantined */
    size_t block_bytes;       /* evidence block target size */
    int zstd_level;
    int64_t interim_timeout_s;  /* lease span after the last record of a session with interims */
    int64_t open_session_max_s; /* ... of a session whose NAS sends no interims */
} batch_opts;

typedef struct batch_counts {
    long consumed, stored, quarantined;
    long smtp_events, radius_events, nat_events, blocks;
    size_t raw_bytes, compressed_bytes;
} batch_counts;

/* The code of a fenced commit's error (see above). */
#define BATCH_FENCE_CODE "fenced"

typedef struct batch batch;

/* OPTS is copied; returns NULL with ERR set if the zone settings are invalid. */
batch *batch_new(const batch_opts *opts, error *err);
void batch_free(batch *b);
void batch_reset(batch *b);
void batch_add(batch *b, const batch_input *in);
/* Compresses and hashes the batch's evidence blocks now, so that a commit
 * (possibly on another thread) need not: spoor-ingest seals the next batch
 * while the previous one commits.  Optional: batch_commit compresses any
 * block not sealed, or sealed before more lines were added.  A batch that
 * has not committed yet does not know its dictionaries and is left alone.
 * Returns 0, or -1 with ERR set (a zstd failure). */
int batch_seal(batch *b, error *err);
const batch_counts *batch_get_counts(const batch *b);
size_t batch_size(const batch *b); /* records added since the reset */
/* Positions the batch covers, to re-seek after a failed commit. */
int batch_sources(const batch *b);
void batch_source(const batch *b, int i, const char **source, int *part, int64_t *first,
                  int64_t *next);

/* After batch_commit returned PG_FATAL: stores the records one by one and
 * quarantines, with reason "db_rejected", each that PostgreSQL still refuses.
 * Returns a pg_class as batch_commit does. */
pg_class batch_salvage(batch *b, PGconn *conn, error *err);

/* Makes the next commit load the newest zstd dictionaries again (SIGHUP). */
void batch_reload_dicts(batch *b);

/* Returns PG_OK, or the pg_class of the failure with ERR set (its code the
 * SQLSTATE, or BATCH_FENCE_CODE). */
pg_class batch_commit(batch *b, PGconn *conn, error *err);

/* True if ERR is a fenced commit's. */
int batch_fenced(const error *err);

/* The quarantine reason counts of the last batch, for metrics: calls FN per reason. */
void batch_each_reason(const batch *b, void (*fn)(void *arg, const char *reason, long n),
                       void *arg);

#endif
