/*
 * spoor-kafka-roundtrip: integration probe.  Produces N keyed messages to a
 * topic with librdkafka, waits for every delivery report, then consumes the
 * partitions back from the offsets they had before and checks that each
 * message came back once, byte for byte.  Exit 0 on success.
 *
 *   spoor-kafka-roundtrip BROKERS TOPIC N
 */
#include <librdkafka/rdkafka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int delivered, failed;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk, (void)opaque;
    if (m->err)
        failed++;
    else
        delivered++;
}

static rd_kafka_t *client(rd_kafka_type_t type, const char *brokers) {
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof err);
    if (type == RD_KAFKA_PRODUCER) {
        rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof err);
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    } else {
        rd_kafka_conf_set(conf, "group.id", "spoor-roundtrip", err, sizeof err);
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
    }
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "roundtrip: %s\n", err);
        exit(1);
    }
    return rk;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: spoor-kafka-roundtrip BROKERS TOPIC N\n");
        return 2;
    }
    const char *brokers = argv[1], *topic = argv[2];
    int n = atoi(argv[3]);
    rd_kafka_t *p = client(RD_KAFKA_PRODUCER, brokers);
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(p, topic, NULL);
    if (rd_kafka_metadata(p, 0, rkt, &md, 10000) || md->topic_cnt != 1 || md->topics[0].err) {
        fprintf(stderr, "roundtrip: no metadata for topic %s\n", topic);
        return 1;
    }
    int parts = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    int64_t *start = calloc((size_t)parts, sizeof *start);
    for (int i = 0; i < parts; i++) {
        int64_t lo, hi;
        if (rd_kafka_query_watermark_offsets(p, topic, i, &lo, &hi, 10000)) {
            fprintf(stderr, "roundtrip: watermarks of partition %d unavailable\n", i);
            return 1;
        }
        start[i] = hi;
    }
    unsigned nonce = (unsigned)time(NULL) ^ (unsigned)clock();
    for (int i = 0; i < n; i++) {
        char key[32], val[128];
        snprintf(key, sizeof key, "host%d", i % 7);
        snprintf(val, sizeof val, "roundtrip %u message %d \xc3\xa9\x01", nonce, i);
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
                                      RD_KAFKA_V_VALUE(val, strlen(val)),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(p, 100);
        if (e) {
            fprintf(stderr, "roundtrip: produce: %s\n", rd_kafka_err2str(e));
            return 1;
        }
    }
    rd_kafka_flush(p, 30000);
    rd_kafka_destroy(p);
    if (delivered != n || failed) {
        fprintf(stderr, "roundtrip: delivered %d of %d, %d failed\n", delivered, n, failed);
        return 1;
    }
    rd_kafka_t *c = client(RD_KAFKA_CONSUMER, brokers);
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(parts);
    for (int i = 0; i < parts; i++)
        rd_kafka_topic_partition_list_add(tl, topic, i)->offset = start[i];
    rd_kafka_assign(c, tl);
    rd_kafka_topic_partition_list_destroy(tl);
    char *seen = calloc((size_t)n, 1);
    int got = 0, dup = 0, bad = 0;
    time_t deadline = time(NULL) + 30;
    while (got < n && time(NULL) < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 500);
        if (!m)
            continue;
        if (!m->err) {
            unsigned nn;
            int idx;
            char tail[8];
            if (m->len < 120) {
                char buf[128];
                memcpy(buf, m->payload, m->len);
                buf[m->len] = '\0';
                if (sscanf(buf, "roundtrip %u message %d %7s", &nn, &idx, tail) == 3 &&
                    nn == nonce && idx >= 0 && idx < n) {
                    char want[128];
                    snprintf(want, sizeof want, "roundtrip %u message %d \xc3\xa9\x01", nonce, idx);
                    if (strcmp(want, buf) != 0)
                        bad++;
                    else if (seen[idx]++)
                        dup++;
                    else
                        got++;
                }
            }
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    printf("produced %d, consumed back %d, duplicates %d, corrupt %d, partitions %d\n", n, got, dup,
           bad, parts);
    free(seen);
    free(start);
    return got == n && !dup && !bad ? 0 : 1;
}
