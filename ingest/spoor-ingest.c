/*
 * spoor-ingest: Kafka → PostgreSQL, exactly once.
 *
 * Consumes the SMTP and RADIUS topics and stores every record through
 * batch.c.  PostgreSQL, not Kafka, is the source of truth for where each
 * partition stands: the next offset is stored in spoor.source_position in the
 * same transaction as the rows it produced, and on every assignment the
 * consumer seeks to that stored offset.  Kafka's committed offsets are also
 * updated, after the database commit, for lag tooling only.  A stored offset
 * that Kafka no longer has (retention passed it) stops the daemon with a
 * clear message: auto.offset.reset is "error", never a silent jump.
 *
 * Pipeline: two batches.  While the committer thread writes one batch to
 * PostgreSQL (its own transaction, as always), the main thread consumes,
 * parses and compresses the next: the client's work and the server's
 * overlap instead of taking turns.  Batches still commit one at a time and
 * in order, so the fence and the stored offsets work as before: if the
 * batch in flight is fenced, the one being filled (which continues where it
 * ends) is discarded too and every partition re-seeks to its stored offset.
 * The database connection belongs to the committer while a batch is in
 * flight; the main thread uses it (stored offsets on assignment) only after
 * waiting for that batch (drain).
 *
 * Faults: PostgreSQL down → the batch waits and retries with backoff
 * (ingest_db.c); broker down → librdkafka reconnects; SIGTERM/SIGINT →
 * finish and commit the batch in flight, exit 0; SIGHUP → reopen the log
 * and reload the zstd dictionaries.
 * It connects as a login role in group spoor_ingest: insert-only.
 *
 *   spoor-ingest [--config FILE] [--once] [--print-config]
 *   --once: exit 0 when every assigned partition has been consumed to its end
 *           (for tests and backfills).
 */
#include "batch.h"
#include "config.h"
#include "ingest_db.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "timeutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static volatile sig_atomic_t stop_flag, hup_flag, stop_signal;
static void stop_cb(int sig) {
    stop_signal = sig;
    stop_flag = 1;
}
static void hup_cb(int sig) {
    (void)sig, hup_flag = 1;
}

typedef struct part_stat {
    char topic[128];
    int part;
    int64_t stored_next; /* next offset stored in PostgreSQL */
    int64_t high;        /* high watermark last seen */
    int eof;
    long consumed, stored, quarantined;
} part_stat;

typedef struct reason_stat {
    char reason[40];
    long n;
} reason_stat;

typedef struct ingest {
    spoor_config cfg;
    rd_kafka_t *rk;
    PGconn *conn; /* the committer's while a batch is in flight */
    batch *bs[2];
    batch *cur;      /* being filled by the main thread */
    batch *inflight; /* handed to the committer, result not yet taken; or NULL */
    int dict_gen;    /* bumped by SIGHUP: batches reload their dictionaries */
    int cur_gen[2];
    /* The committer thread: takes JOB, commits it, posts RC and ERR. */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    batch *job;
    int job_done, job_rc, job_fenced, quit;
    int64_t job_t0;
    char job_err[2048];
    part_stat parts[256];
    int n_parts;
    reason_stat reasons[64];
    int n_reasons;
    long consumed, stored, quarantined, batches, fenced;
    double last_batch_ms, batch_ms_sum;
    long last_batch_size;
    int once, fatal, failed;
    metrics m;
} ingest;

static part_stat *part_get(ingest *g, const char *topic, int part) {
    for (int i = 0; i < g->n_parts; i++)
        if (g->parts[i].part == part && strcmp(g->parts[i].topic, topic) == 0)
            return &g->parts[i];
    if (g->n_parts == (int)(sizeof g->parts / sizeof g->parts[0]))
        log_fatal("more than %d partitions assigned", g->n_parts);
    part_stat *p = &g->parts[g->n_parts++];
    memset(p, 0, sizeof *p);
    snprintf(p->topic, sizeof p->topic, "%s", topic);
    p->part = part;
    p->stored_next = -1;
    return p;
}

/* The stored next offset of TOPIC[PART], or -1 if none yet. */
static int64_t stored_offset(ingest *g, const char *topic, int part) {
    for (;;) {
        if (!g->conn)
            g->conn = ingest_db_connect(g->cfg.dsn, "spoor-ingest", &stop_flag);
        if (!g->conn)
            return -2;
        char p[16];
        error err;
        snprintf(p, sizeof p, "%d", part);
        const char *v[] = {topic, p};
        pg_class cls;
        PGresult *r = pg_query(
            g->conn, "SELECT next_pos FROM spoor.source_position WHERE source = $1 AND part = $2",
            2, v, &cls, &err);
        if (r) {
            int64_t off = PQntuples(r) ? atoll(PQgetvalue(r, 0, 0)) : -1;
            PQclear(r);
            return off;
        }
        if (cls == PG_FATAL) {
            log_error("reading stored offsets: %s", err.msg);
            g->fatal = 1;
            return -2;
        }
        log_warn("reading stored offsets: %s; reconnecting", err.msg);
        PQfinish(g->conn);
        g->conn = NULL;
    }
}

static void reason_add(void *arg, const char *reason, long n) {
    ingest *g = arg;
    for (int i = 0; i < g->n_reasons; i++)
        if (strcmp(g->reasons[i].reason, reason) == 0) {
            g->reasons[i].n += n;
            return;
        }
    if (g->n_reasons < (int)(sizeof g->reasons / sizeof g->reasons[0])) {
        snprintf(g->reasons[g->n_reasons].reason, sizeof g->reasons[0].reason, "%s", reason);
        g->reasons[g->n_reasons++].n = n;
    }
}

/* Seeks every partition of batch B back to its stored offset (the
 * committer must be idle: this reads the database). */
static void reseek(ingest *g, batch *b) {
    for (int i = 0; i < batch_sources(b); i++) {
        const char *source;
        int part;
        int64_t first, next;
        batch_source(b, i, &source, &part, &first, &next);
        int64_t off = stored_offset(g, source, part);
        if (off < -1)
            return;
        rd_kafka_topic_t *t = rd_kafka_topic_new(g->rk, source, NULL);
        rd_kafka_seek(t, part, off < 0 ? RD_KAFKA_OFFSET_BEGINNING : off, 5000);
        rd_kafka_topic_destroy(t);
        part_get(g, source, part)->stored_next = off;
        log_info("%s[%d]: re-seeked to stored offset %lld", source, part, (long long)off);
    }
}

static void *committer_main(void *arg) {
    ingest *g = arg;
    /* Signals are the main thread's: its poll wakes up for them. */
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    pthread_mutex_lock(&g->mu);
    for (;;) {
        while (!g->job && !g->quit)
            pthread_cond_wait(&g->cv, &g->mu);
        if (!g->job)
            break;
        batch *b = g->job;
        pthread_mutex_unlock(&g->mu);
        error err;
        error_clear(&err);
        int rc = ingest_db_commit(b, &g->conn, g->cfg.dsn, "spoor-ingest", &stop_flag, &err);
        pthread_mutex_lock(&g->mu);
        snprintf(g->job_err, sizeof g->job_err, "%s", err.msg);
        g->job_rc = rc;
        g->job_fenced = rc == PG_FATAL && batch_fenced(&err);
        g->job_done = 1;
        g->job = NULL;
        pthread_cond_broadcast(&g->cv);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

/* Waits for the batch in flight and takes its result: counters, Kafka's
 * committed offsets (lag tooling only), or on a fence the re-seek.  Returns
 * 0, or -1 if the daemon must stop.  Afterwards nothing is in flight and the
 * main thread may use the connection. */
static int drain(ingest *g) {
    batch *b = g->inflight;
    if (!b)
        return 0;
    pthread_mutex_lock(&g->mu);
    while (!g->job_done)
        pthread_cond_wait(&g->cv, &g->mu);
    int rc = g->job_rc, fenced = g->job_fenced;
    pthread_mutex_unlock(&g->mu);
    g->inflight = NULL;
    const char *err = g->job_err;
    if (fenced) {
        g->fenced++;
        log_warn("batch not stored: %s", err);
        /* The batch being filled continues where the refused one ends: it
         * would be refused too.  Both are read again from the stored offsets. */
        reseek(g, b);
        reseek(g, g->cur);
        batch_reset(b);
        batch_reset(g->cur);
        return 0;
    }
    if (rc != PG_OK) {
        if (rc == PG_FATAL) {
            log_error("cannot store batch: %s", err);
            g->fatal = 1;
        } else
            log_warn("stopping with a batch of %zu records not stored (will be re-read)",
                     batch_size(b) + batch_size(g->cur));
        /* Neither this batch nor the one after it is stored: both are read
         * again from the stored offsets at the next start. */
        batch_reset(b);
        batch_reset(g->cur);
        g->failed = 1;
        return -1;
    }
    const batch_counts *c = batch_get_counts(b);
    g->last_batch_ms = (double)(timeutil_now() - g->job_t0) / 1000.0;
    g->batch_ms_sum += g->last_batch_ms;
    g->batches++;
    g->last_batch_size = c->consumed;
    g->consumed += c->consumed;
    g->stored += c->stored;
    g->quarantined += c->quarantined;
    batch_each_reason(b, reason_add, g);
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(batch_sources(b));
    for (int i = 0; i < batch_sources(b); i++) {
        const char *source;
        int part;
        int64_t first, next;
        batch_source(b, i, &source, &part, &first, &next);
        rd_kafka_topic_partition_list_add(tl, source, part)->offset = next;
        part_stat *p = part_get(g, source, part);
        p->stored_next = next;
    }
    rd_kafka_commit(g->rk, tl, 1);
    rd_kafka_topic_partition_list_destroy(tl);
    log_debug("stored batch: %ld records, %ld quarantined, %.1f ms", c->consumed, c->quarantined,
              g->last_batch_ms);
    batch_reset(b);
    return 0;
}

/* Hands the batch being filled to the committer, after compressing it here
 * (while the previous batch may still be committing) and taking the previous
 * batch's result.  Does not wait for this one: see drain.  Returns 0, or -1
 * if the daemon must stop. */
static int flush(ingest *g) {
    if (batch_size(g->cur) == 0)
        return drain(g);
    int k = g->cur == g->bs[1];
    if (g->cur_gen[k] != g->dict_gen) {
        batch_reload_dicts(g->cur);
        g->cur_gen[k] = g->dict_gen;
    }
    error err;
    if (batch_seal(g->cur, &err) < 0)
        log_warn("compressing evidence ahead of the commit: %s (the commit retries)", err.msg);
    if (drain(g) < 0)
        return -1;
    if (batch_size(g->cur) == 0) /* discarded: the batch before it was fenced */
        return 0;
    g->inflight = g->cur;
    g->cur = g->cur == g->bs[0] ? g->bs[1] : g->bs[0];
    pthread_mutex_lock(&g->mu);
    g->job_t0 = timeutil_now();
    g->job_done = 0;
    g->job = g->inflight;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    return 0;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
    ingest *g = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        /* The stored offsets are read on the committer's connection. */
        if (drain(g) < 0)
            stop_flag = 1;
        for (int i = 0; i < parts->cnt; i++) {
            rd_kafka_topic_partition_t *p = &parts->elems[i];
            int64_t off = stored_offset(g, p->topic, p->partition);
            if (off < -1) {
                stop_flag = 1;
                break;
            }
            p->offset = off < 0 ? RD_KAFKA_OFFSET_BEGINNING : off;
            part_stat *ps = part_get(g, p->topic, p->partition);
            ps->stored_next = off;
            ps->eof = 0;
            log_info("assigned %s[%d], resuming at %s %lld", p->topic, p->partition,
                     off < 0 ? "the beginning, no stored offset" : "stored offset",
                     (long long)(off < 0 ? 0 : off));
        }
        rd_kafka_assign(rk, parts);
    } else {
        /* Store what was read from these partitions while they are still ours;
         * if another consumer already moved on, the fence refuses the batch. */
        if (flush(g) < 0 || drain(g) < 0)
            stop_flag = 1;
        for (int i = 0; i < parts->cnt; i++)
            log_info("revoked %s[%d]", parts->elems[i].topic, parts->elems[i].partition);
        rd_kafka_assign(rk, NULL);
    }
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *text) {
    (void)rk;
    log_msg(level <= 3   ? LOG_ERROR
            : level <= 4 ? LOG_WARN
            : level <= 6 ? LOG_INFO
                         : LOG_DEBUG,
            "kafka %s: %s", fac, text);
}

static void render_cb(void *arg, buf *o) {
    ingest *g = arg;
    buf_printf(o, "# TYPE spoor_ingest_consumed_total counter\nspoor_ingest_consumed_total %ld\n",
               g->consumed);
    buf_printf(o, "# TYPE spoor_ingest_stored_total counter\nspoor_ingest_stored_total %ld\n",
               g->stored);
    buf_printf(o, "# TYPE spoor_ingest_quarantined_total counter\n");
    for (int i = 0; i < g->n_reasons; i++)
        buf_printf(o, "spoor_ingest_quarantined_total{reason=\"%s\"} %ld\n", g->reasons[i].reason,
                   g->reasons[i].n);
    buf_printf(o, "# TYPE spoor_ingest_batches_total counter\nspoor_ingest_batches_total %ld\n",
               g->batches);
    buf_printf(o,
               "# TYPE spoor_ingest_fenced_batches_total counter\n"
               "spoor_ingest_fenced_batches_total %ld\n",
               g->fenced);
    buf_printf(o, "# TYPE spoor_ingest_batch_size gauge\nspoor_ingest_batch_size %ld\n",
               g->last_batch_size);
    buf_printf(o,
               "# TYPE spoor_ingest_batch_seconds summary\n"
               "spoor_ingest_batch_seconds_sum %.6f\nspoor_ingest_batch_seconds_count %ld\n",
               g->batch_ms_sum / 1000.0, g->batches);
    buf_printf(o, "# TYPE spoor_ingest_stored_offset gauge\n# TYPE spoor_ingest_lag gauge\n");
    for (int i = 0; i < g->n_parts; i++) {
        part_stat *p = &g->parts[i];
        int64_t lo, hi;
        if (rd_kafka_get_watermark_offsets(g->rk, p->topic, p->part, &lo, &hi) ==
                RD_KAFKA_RESP_ERR_NO_ERROR &&
            hi >= 0)
            p->high = hi;
        buf_printf(o, "spoor_ingest_stored_offset{topic=\"%s\",partition=\"%d\"} %lld\n", p->topic,
                   p->part, (long long)p->stored_next);
        long long lag = p->high - (p->stored_next < 0 ? 0 : p->stored_next);
        buf_printf(o, "spoor_ingest_lag{topic=\"%s\",partition=\"%d\"} %lld\n", p->topic, p->part,
                   lag < 0 ? 0 : lag);
    }
}

static rd_kafka_t *consumer_new(ingest *g) {
    error err;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *kv[][2] = {
        {"bootstrap.servers", g->cfg.kafka_brokers},
        {"group.id", g->cfg.kafka_group},
        {"client.id", "spoor-ingest"},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        /* A stored offset that Kafka no longer has is an error, not a jump. */
        {"auto.offset.reset", "error"},
        {"enable.partition.eof", "true"},
        {"isolation.level", "read_committed"},
        {"session.timeout.ms", "10000"},
        {"heartbeat.interval.ms", "1000"},
        {"max.poll.interval.ms", "600000"},
        {"log.connection.close", "false"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], err.msg, sizeof err.msg) !=
            RD_KAFKA_CONF_OK)
            log_fatal("kafka setting %s: %s", kv[i][0], err.msg);
    rd_kafka_conf_set_opaque(conf, g);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err.msg, sizeof err.msg);
    if (!rk)
        log_fatal("kafka consumer: %s", err.msg);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(2);
    rd_kafka_topic_partition_list_add(tl, g->cfg.kafka_topic_smtp, RD_KAFKA_PARTITION_UA);
    rd_kafka_topic_partition_list_add(tl, g->cfg.kafka_topic_radius, RD_KAFKA_PARTITION_UA);
    if (*g->cfg.kafka_topic_nat)
        rd_kafka_topic_partition_list_add(tl, g->cfg.kafka_topic_nat, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, tl);
    rd_kafka_topic_partition_list_destroy(tl);
    if (e)
        log_fatal("subscribe: %s", rd_kafka_err2str(e));
    return rk;
}

static int all_eof(ingest *g) {
    if (g->n_parts == 0)
        return 0;
    for (int i = 0; i < g->n_parts; i++)
        if (!g->parts[i].eof)
            return 0;
    return 1;
}

static void handle_message(ingest *g, rd_kafka_message_t *m) {
    const char *topic = rd_kafka_topic_name(m->rkt);
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        part_get(g, topic, m->partition)->eof = 1;
        return;
    }
    if (m->err) {
        if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
            m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
            part_stat *p = part_get(g, topic ? topic : "?", m->partition);
            log_error("%s[%d]: the stored offset %lld is no longer in Kafka (its retention has "
                      "passed it, or the topic was recreated): records were lost before Spoor "
                      "could store them; refusing to skip ahead. Inspect the topic, then set "
                      "spoor.source_position by hand if the loss is accepted (%s)",
                      topic ? topic : "?", m->partition, (long long)p->stored_next,
                      rd_kafka_message_errstr(m));
            g->fatal = 1;
            stop_flag = 1;
        } else
            log_warn("kafka: %s", rd_kafka_message_errstr(m));
        return;
    }
    part_stat *p = part_get(g, topic, m->partition);
    p->eof = 0;
    int radius = strcmp(topic, g->cfg.kafka_topic_radius) == 0;
    int nat = !radius && *g->cfg.kafka_topic_nat && strcmp(topic, g->cfg.kafka_topic_nat) == 0;
    char host[256];
    const char *hostp = NULL;
    if (m->key && m->key_len && m->key_len < sizeof host) {
        memcpy(host, m->key, m->key_len);
        host[m->key_len] = '\0';
        hostp = host;
    }
    /* spoor-collect marks a line whose peer may not speak for its host. */
    char refused[512];
    const char *refusedp = NULL;
    rd_kafka_headers_t *hdrs = NULL;
    const void *hv = NULL;
    size_t hl = 0;
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        rd_kafka_header_get_last(hdrs, "spoor-refused", &hv, &hl) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        hv) {
        snprintf(refused, sizeof refused, "%.*s",
                 (int)(hl < sizeof refused ? hl : sizeof refused - 1), (const char *)hv);
        refusedp = refused;
    }
    char peer[64];
    const char *peerp = NULL;
    if (hdrs &&
        rd_kafka_header_get_last(hdrs, "spoor-peer", &hv, &hl) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        hv && hl > 0 && hl < sizeof peer) {
        memcpy(peer, hv, hl);
        peer[hl] = '\0';
        /* An address, or nothing: it goes into an inet column, and one
         * value that is not one (say "ADDR:PORT") would fail every batch
         * it is in, stalling the partition. */
        unsigned char bin[16];
        if (inet_pton(AF_INET, peer, bin) == 1 || inet_pton(AF_INET6, peer, bin) == 1)
            peerp = peer;
        else
            log_warn("%s[%d] offset %lld: spoor-peer header '%s' is not an address: stored "
                     "without it",
                     topic, (int)m->partition, (long long)m->offset, peer);
    }
    rd_kafka_timestamp_type_t tt;
    int64_t ts_ms = rd_kafka_message_timestamp(m, &tt);
    batch_input in = {topic,
                      m->partition,
                      m->offset,
                      ts_ms > 0 ? ts_ms * 1000 : 0,
                      radius ? BATCH_RADIUS
                      : nat  ? BATCH_NAT
                             : BATCH_SYSLOG,
                      m->payload,
                      m->len,
                      hostp,
                      refusedp,
                      peerp};
    batch_add(g->cur, &in);
}

int main(int argc, char **argv) {
    const char *config_path = NULL;
    int print_config = 0;
    ingest *g = mem_zalloc(sizeof *g);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            config_path = argv[++i];
        else if (!strcmp(argv[i], "--once"))
            g->once = 1;
        else if (!strcmp(argv[i], "--print-config"))
            print_config = 1;
        else {
            fprintf(stderr, "usage: spoor-ingest [--config FILE] [--once] [--print-config]\n");
            return 2;
        }
    }
    error err;
    if (config_load(&g->cfg, config_path, &err) < 0) {
        fprintf(stderr, "spoor-ingest: %s\n", err.msg);
        return 1;
    }
    if (print_config) {
        config_print(&g->cfg, stdout);
        config_free(&g->cfg);
        free(g);
        return 0;
    }
    log_init("spoor-ingest", *g->cfg.log_file ? g->cfg.log_file : NULL);
    enum log_level lvl;
    if (log_parse_level(g->cfg.log_level, &lvl) < 0)
        log_fatal("log.level: unknown level '%s'", g->cfg.log_level);
    log_set_level(lvl);
    batch_opts o = {g->cfg.ingest_default_zone,      g->cfg.ingest_host_zones,
                    (size_t)g->cfg.ingest_max_line,  (size_t)g->cfg.evidence_block_bytes,
                    (int)g->cfg.evidence_zstd_level, g->cfg.trace_interim_timeout,
                    g->cfg.trace_max_open_session};
    for (int i = 0; i < 2; i++) {
        g->bs[i] = batch_new(&o, &err);
        if (!g->bs[i])
            log_fatal("%s", err.msg);
    }
    g->cur = g->bs[0];
    if (metrics_open(&g->m, g->cfg.ingest_metrics_listen, &err) < 0)
        log_fatal("%s", err.msg);
    struct sigaction sa = {0};
    sa.sa_handler = stop_cb;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = hup_cb;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* Below lookups on a busy machine: this thread's priority, inherited by
     * the threads started after it (the committer, librdkafka's), and the
     * database sessions' (ingest_db). */
    if (g->cfg.ingest_nice > 0) {
        errno = 0;
        int cur = getpriority(PRIO_PROCESS, 0);
        if (errno == 0 && cur < g->cfg.ingest_nice &&
            setpriority(PRIO_PROCESS, 0, (int)g->cfg.ingest_nice) < 0)
            log_warn("ingest.nice: %s", strerror(errno));
        ingest_db_yield((int)g->cfg.ingest_nice);
    }
    g->conn = ingest_db_connect(g->cfg.dsn, "spoor-ingest", &stop_flag);
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    if (pthread_create(&g->th, NULL, committer_main, g) != 0)
        log_fatal("cannot start the committer thread");
    g->rk = consumer_new(g);
    log_info("consuming %s and %s from %s", g->cfg.kafka_topic_smtp, g->cfg.kafka_topic_radius,
             g->cfg.kafka_brokers);
    int64_t batch_started = 0;
    while (!stop_flag) {
        if (hup_flag) {
            hup_flag = 0;
            log_reopen();
            g->dict_gen++;
            log_info("log reopened, dictionaries will be reloaded");
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(g->rk, 100);
        if (m) {
            if (batch_size(g->cur) == 0)
                batch_started = timeutil_now();
            handle_message(g, m);
            rd_kafka_message_destroy(m);
        }
        int64_t age_ms = batch_size(g->cur) ? (timeutil_now() - batch_started) / 1000 : 0;
        if ((long long)batch_size(g->cur) >= g->cfg.ingest_batch_records ||
            age_ms >= g->cfg.ingest_batch_ms || (!m && batch_size(g->cur)))
            if (flush(g) < 0)
                break;
        metrics_poll(&g->m, render_cb, g);
        /* --once: done when every partition is at its end and stored. */
        if (g->once && !m && batch_size(g->cur) == 0 && all_eof(g))
            break; /* the batch in flight is drained below */
    }
    /* SIGTERM: the batch being filled and the one in flight are stored
     * before exit (not after a failure: nothing more is stored then). */
    if (!g->fatal && !g->failed)
        flush(g);
    drain(g);
    int rc = g->fatal ? 1 : 0;
    pthread_mutex_lock(&g->mu);
    g->quit = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->th, NULL);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    log_info("stopping%s%s: consumed %ld, stored %ld, quarantined %ld in %ld batches",
             stop_signal ? " on " : "", stop_signal ? strsignal(stop_signal) : "", g->consumed,
             g->stored, g->quarantined, g->batches);
    rd_kafka_consumer_close(g->rk);
    rd_kafka_destroy(g->rk);
    if (g->conn)
        PQfinish(g->conn);
    batch_free(g->bs[0]);
    batch_free(g->bs[1]);
    metrics_close(&g->m);
    config_free(&g->cfg);
    free(g);
    return rc;
}
