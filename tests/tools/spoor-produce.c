/*
 * spoor-produce: test and demo tool.  Reads a log file (plain, gzip or zstd)
 * and produces each record to a Kafka topic, waiting for every delivery
 * report (idempotent producer, acks=all).  Lines for syslog files, records
 * for FreeRADIUS detail files.  The key is --key, or for syslog lines the
 * host field (so per-host order holds).
 *
 *   spoor-produce --brokers B --topic T [--detail] [--key K] [--rate N] FILE...
 *   spoor-produce --print|--count [--detail] FILE...   (the records, or their number; no Kafka)
 *   spoor-produce --brokers B --topic T --delete-records
 *       deletes every record now in every partition of T (as Kafka's retention
 *       would), then prints "PARTITION LOW HIGH" per partition.
 */
#include "logfile.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long delivered, failed;

/* Deletes all records of TOPIC up to each partition's high watermark. */
static int delete_records(rd_kafka_t *rk, const char *topic) {
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) || md->topic_cnt != 1) {
        fprintf(stderr, "spoor-produce: no metadata for %s\n", topic);
        return 1;
    }
    int parts = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(parts);
    for (int i = 0; i < parts; i++)
        rd_kafka_topic_partition_list_add(tl, topic, i)->offset = RD_KAFKA_OFFSET_END;
    rd_kafka_DeleteRecords_t *dr = rd_kafka_DeleteRecords_new(tl);
    rd_kafka_topic_partition_list_destroy(tl);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DeleteRecords(rk, &dr, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    int rc = !ev || rd_kafka_event_error(ev);
    if (rc)
        fprintf(stderr, "spoor-produce: DeleteRecords failed: %s\n",
                ev ? rd_kafka_event_error_string(ev) : "timeout");
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_DeleteRecords_destroy(dr);
    for (int i = 0; rc == 0 && i < parts; i++) {
        int64_t lo, hi;
        if (rd_kafka_query_watermark_offsets(rk, topic, i, &lo, &hi, 10000) == 0)
            printf("%d %lld %lld\n", i, (long long)lo, (long long)hi);
    }
    return rc;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk, (void)opaque;
    if (m->err) {
        failed++;
        fprintf(stderr, "spoor-produce: delivery failed: %s\n", rd_kafka_err2str(m->err));
    } else
        delivered++;
}

/* The host field of an RFC 3164/5424 line: the word after the timestamp. */
static size_t syslog_host(const char *p, size_t n, const char **host) {
    size_t i = 0;
    if (i < n && p[i] == '<')
        while (i < n && p[i] != '>')
            i++, i += 0;
    if (i < n && p[i] == '>')
        i++;
    int words = (i + 1 < n && p[i] == '1' && p[i + 1] == ' ') ? 2
                : (i < n && p[i] >= '0' && p[i] <= '9')       ? 1
                                                              : 3;
    for (int w = 0; w < words; w++) {
        while (i < n && p[i] != ' ')
            i++;
        while (i < n && p[i] == ' ')
            i++;
    }
    size_t s = i;
    while (i < n && p[i] != ' ')
        i++;
    *host = p + s;
    return i - s;
}

int main(int argc, char **argv) {
    const char *brokers = NULL, *topic = NULL, *key = NULL;
    int detail = 0, print = 0, del = 0;
    long rate = 0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--brokers") && i + 1 < argc)
            brokers = argv[++i];
        else if (!strcmp(argv[i], "--topic") && i + 1 < argc)
            topic = argv[++i];
        else if (!strcmp(argv[i], "--key") && i + 1 < argc)
            key = argv[++i];
        else if (!strcmp(argv[i], "--rate") && i + 1 < argc)
            rate = atol(argv[++i]);
        else if (!strcmp(argv[i], "--print"))
            print = 1;
        else if (!strcmp(argv[i], "--count"))
            print = 2;
        else if (!strcmp(argv[i], "--delete-records"))
            del = 1;
        else if (!strcmp(argv[i], "--detail"))
            detail = 1;
        else
            break;
    }
    if (print) { /* the records exactly as they would be produced, for comparisons */
        error e;
        for (; i < argc; i++) {
            logfile *f = logfile_open(argv[i], detail ? LOGFILE_DETAIL : LOGFILE_LINES, &e);
            if (!f) {
                fprintf(stderr, "spoor-produce: %s\n", e.msg);
                return 1;
            }
            const char *rec;
            size_t len;
            long count = 0;
            while (logfile_next(f, &rec, &len, &e) == 1) {
                count++;
                if (print == 1) {
                    fwrite(rec, 1, len, stdout);
                    fputc('\n', stdout);
                }
            }
            if (print == 2)
                printf("%ld\n", count);
            logfile_close(f);
        }
        return 0;
    }
    if (!brokers || !topic || (i >= argc && !del)) {
        fprintf(
            stderr,
            "usage: spoor-produce --brokers B --topic T [--detail] [--key K] [--rate N] FILE...\n");
        return 2;
    }
    error err;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err.msg, sizeof err.msg);
    rd_kafka_conf_set(conf, "enable.idempotence", "true", err.msg, sizeof err.msg);
    rd_kafka_conf_set(conf, "linger.ms", "20", err.msg, sizeof err.msg);
    rd_kafka_conf_set(conf, "compression.codec", "zstd", err.msg, sizeof err.msg);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err.msg, sizeof err.msg);
    if (!rk) {
        fprintf(stderr, "spoor-produce: %s\n", err.msg);
        return 1;
    }
    if (del) {
        int rc = delete_records(rk, topic);
        rd_kafka_destroy(rk);
        return rc;
    }
    long n = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (; i < argc; i++) {
        logfile *f = logfile_open(argv[i], detail ? LOGFILE_DETAIL : LOGFILE_LINES, &err);
        if (!f) {
            fprintf(stderr, "spoor-produce: %s\n", err.msg);
            return 1;
        }
        const char *rec;
        size_t len;
        while (logfile_next(f, &rec, &len, &err) == 1) {
            const char *k = key;
            size_t klen = key ? strlen(key) : 0;
            if (!key && !detail)
                klen = syslog_host(rec, len, &k);
            rd_kafka_resp_err_t e;
            while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(k, klen),
                                          RD_KAFKA_V_VALUE((void *)rec, len),
                                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                          RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rd_kafka_poll(rk, 50);
            if (e) {
                fprintf(stderr, "spoor-produce: %s\n", rd_kafka_err2str(e));
                return 1;
            }
            n++;
            rd_kafka_poll(rk, 0);
            if (rate > 0 && n % 100 == 0) {
                struct timespec t;
                clock_gettime(CLOCK_MONOTONIC, &t);
                double el = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
                double want = (double)n / (double)rate;
                if (want > el) {
                    struct timespec s = {(time_t)(want - el),
                                         (long)((want - el - (double)(time_t)(want - el)) * 1e9)};
                    nanosleep(&s, NULL);
                }
            }
        }
        logfile_close(f);
    }
    while (rd_kafka_outq_len(rk) > 0 && rd_kafka_flush(rk, 60000) == RD_KAFKA_RESP_ERR__TIMED_OUT)
        ;
    rd_kafka_destroy(rk);
    printf("produced %ld records to %s (%ld delivered, %ld failed)\n", n, topic, delivered, failed);
    return failed || delivered != n ? 1 : 0;
}
