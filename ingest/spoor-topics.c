/*
 * spoor-topics: wait for a Kafka broker to answer, then create Spoor's topics
 * if they are missing.  Used by ops/stack and by operators; it holds no
 * database rights at all.
 *
 *   spoor-topics --brokers HOST:PORT [--wait SECONDS] [--partitions N]
 *                [--create TOPIC]...
 */
#include <librdkafka/rdkafka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_TOPICS 16

static void usage(void) {
    fprintf(stderr, "usage: spoor-topics --brokers HOST:PORT [--wait SECONDS] [--partitions N] "
                    "[--create TOPIC]...\n");
    exit(2);
}

static rd_kafka_t *client_new(const char *brokers) {
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof err) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "spoor-topics: %s\n", err);
        exit(1);
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "spoor-topics: %s\n", err);
        exit(1);
    }
    return rk;
}

/* Returns 1 if TOPIC exists in the metadata, 0 if not, -1 if the broker did not answer. */
static int topic_exists(rd_kafka_t *rk, const char *topic, int timeout_ms) {
    const struct rd_kafka_metadata *md;
    if (rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return -1;
    int found = 0;
    for (int i = 0; i < md->topic_cnt; i++)
        if (strcmp(md->topics[i].topic, topic) == 0 && md->topics[i].err == 0)
            found = 1;
    rd_kafka_metadata_destroy(md);
    return found;
}

static int create_topics(rd_kafka_t *rk, char **names, int n, int partitions) {
    char err[512];
    rd_kafka_NewTopic_t *nt[MAX_TOPICS];
    for (int i = 0; i < n; i++) {
        nt[i] = rd_kafka_NewTopic_new(names[i], partitions, 1, err, sizeof err);
        if (!nt[i]) {
            fprintf(stderr, "spoor-topics: topic %s: %s\n", names[i], err);
            return -1;
        }
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, nt, (size_t)n, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    int rc = 0;
    if (!ev) {
        fprintf(stderr, "spoor-topics: no answer to CreateTopics within 30 s\n");
        rc = -1;
    } else {
        const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
        size_t cnt = 0;
        const rd_kafka_topic_result_t **tr =
            res ? rd_kafka_CreateTopics_result_topics(res, &cnt) : NULL;
        for (size_t i = 0; i < cnt; i++) {
            rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
                printf("created topic %s (%d partitions)\n", rd_kafka_topic_result_name(tr[i]),
                       partitions);
            else if (e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                fprintf(stderr, "spoor-topics: topic %s: %s\n", rd_kafka_topic_result_name(tr[i]),
                        rd_kafka_topic_result_error_string(tr[i]));
                rc = -1;
            }
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
    for (int i = 0; i < n; i++)
        rd_kafka_NewTopic_destroy(nt[i]);
    return rc;
}

int main(int argc, char **argv) {
    const char *brokers = NULL;
    int wait_s = 0, partitions = 4, n = 0;
    char *topics[MAX_TOPICS];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--brokers") && i + 1 < argc)
            brokers = argv[++i];
        else if (!strcmp(argv[i], "--wait") && i + 1 < argc)
            wait_s = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--partitions") && i + 1 < argc)
            partitions = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--create") && i + 1 < argc && n < MAX_TOPICS)
            topics[n++] = argv[++i];
        else
            usage();
    }
    if (!brokers || partitions < 1 || partitions > 1024)
        usage();
    rd_kafka_t *rk = client_new(brokers);
    time_t deadline = time(NULL) + wait_s;
    /* Ready means: the broker answers metadata requests (a port that accepts
     * connections is not enough: the KRaft controller may not be elected yet). */
    for (;;) {
        if (topic_exists(rk, "__spoor_probe", 2000) >= 0)
            break;
        if (time(NULL) >= deadline) {
            fprintf(stderr, "spoor-topics: broker %s did not answer within %d s\n", brokers,
                    wait_s);
            rd_kafka_destroy(rk);
            return 1;
        }
        sleep(1);
    }
    int rc = 0;
    if (n) {
        char *missing[MAX_TOPICS];
        int m = 0;
        for (int i = 0; i < n; i++)
            if (topic_exists(rk, topics[i], 5000) != 1)
                missing[m++] = topics[i];
        if (m && create_topics(rk, missing, m, partitions) < 0)
            rc = 1;
        /* Wait until the new topics show up in metadata with leaders. */
        for (int i = 0; rc == 0 && i < m; i++) {
            while (topic_exists(rk, missing[i], 2000) != 1) {
                if (time(NULL) >= deadline + 30) {
                    fprintf(stderr, "spoor-topics: topic %s not visible\n", missing[i]);
                    rc = 1;
                    break;
                }
                usleep(200000);
            }
        }
    }
    rd_kafka_destroy(rk);
    return rc;
}
