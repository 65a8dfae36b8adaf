/* radius_replay: the record of acknowledged requests survives a reopen,
 * forgets after its keep, tells NASes apart, and the skew check follows
 * Event-Timestamp + Acct-Delay-Time. */
#include "check.h"
#include "radius_replay.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S 1000000LL

static struct sockaddr_in v4(const char *a) {
    struct sockaddr_in s;
    memset(&s, 0, sizeof s);
    s.sin_family = AF_INET;
    inet_pton(AF_INET, a, &s.sin_addr);
    return s;
}

static void test_persisted(void) {
    char dir[] = "/tmp/spoor-replay.XXXXXX", path[256];
    error err;
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/radius-seen", dir);
    int64_t now = 1800000000LL * S, keep = 3600 * S;
    uint8_t a1[16], a2[16];
    memset(a1, 1, 16);
    memset(a2, 2, 16);
    struct sockaddr_in n1 = v4("192.0.2.1"), n2 = v4("192.0.2.2");
    radius_replay *r = radius_replay_open(path, keep, now, &err);
    CHECK(r != NULL);
    if (!r)
        return;
    CHECK_INT(radius_replay_seen(r, (struct sockaddr *)&n1, a1, now), 0);
    CHECK_INT(radius_replay_add(r, (struct sockaddr *)&n1, a1, now), 0);
    CHECK_INT(radius_replay_seen(r, (struct sockaddr *)&n1, a1, now + 10 * S), 1);
    CHECK_INT(radius_replay_seen(r, (struct sockaddr *)&n2, a1, now), 0); /* another NAS */
    CHECK_INT(radius_replay_seen(r, (struct sockaddr *)&n1, a2, now), 0); /* another packet */
    for (int i = 0; i < 5000; i++) {                                      /* the table grows */
        uint8_t a[16] = {0};
        memcpy(a, &i, sizeof i);
        radius_replay_add(r, (struct sockaddr *)&n2, a, now + i);
    }
    radius_replay_free(r);
    /* After a restart: still seen; after the keep: forgotten, and not rewritten. */
    r = radius_replay_open(path, keep, now + 60 * S, &err);
    CHECK(r != NULL);
    if (!r)
        return;
    CHECK_INT(radius_replay_seen(r, (struct sockaddr *)&n1, a1, now + 60 * S), 1);
    uint8_t a[16] = {0};
    int i = 4321;
    memcpy(a, &i, sizeof i);
    CHECK_INT(radius_replay_seen(r, (struct sockaddr *)&n2, a, now + 60 * S), 1);
    CHECK_INT(radius_replay_seen(r, (struct sockaddr *)&n1, a1, now + keep + S), 0);
    radius_replay_free(r);
    r = radius_replay_open(path, keep, now + keep + 2 * S, &err);
    CHECK(r != NULL);
    if (r)
        CHECK_INT((int)radius_replay_count(r), 0);
    radius_replay_free(r);
    unlink(path);
    rmdir(dir);
}

static void test_unwritable(void) {
    error err;
    radius_replay *r =
        radius_replay_open("/nonexistent-dir/radius-seen", 3600 * S, 1800000000LL * S, &err);
    CHECK(r == NULL);
    CHECK(strstr(err.msg, "/nonexistent-dir/radius-seen") != NULL);
}

/* An Accounting-Request with the given attributes (type, 4-byte value). */
static size_t packet(uint8_t *p, const int *types, const uint32_t *vals, int n) {
    size_t len = 20;
    memset(p, 0, 20);
    p[0] = 4;
    p[1] = 7;
    for (int i = 0; i < n; i++) {
        p[len] = (uint8_t)types[i];
        p[len + 1] = 6;
        for (int k = 0; k < 4; k++)
            p[len + 2 + k] = (uint8_t)(vals[i] >> (24 - 8 * k));
        len += 6;
    }
    p[2] = (uint8_t)(len >> 8);
    p[3] = (uint8_t)len;
    return len;
}

static void test_skew(void) {
    static const struct {
        int types[2];
        uint32_t vals[2];
        int n;
        int64_t arrival_s;
        int want_stale, want_event;
    } cases[] = {
        {{55}, {1800000000u}, 1, 1800000010LL, 0, 1},           /* on time */
        {{55}, {1800000000u}, 1, 1800007200LL, 1, 1},           /* two hours late */
        {{55, 41}, {1800000000u, 7200}, 2, 1800007200LL, 0, 1}, /* ... as its delay says */
        {{55, 41}, {1800000000u, 60}, 2, 1800007200LL, 1, 1},   /* a delay that does not cover it */
        {{55}, {1800001000u}, 1, 1800000000LL, 1, 1},           /* from the future */
        {{41}, {30}, 1, 1800007200LL, 0, 0},                    /* no Event-Timestamp */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t p[64];
        size_t n = packet(p, cases[i].types, cases[i].vals, cases[i].n);
        radius_pkt pk;
        error err;
        CHECK_INT(radius_pkt_parse(p, n, &pk, &err), RADIUS_PKT_OK);
        int64_t ev = 0;
        int has = -1;
        int stale = radius_replay_stale(&pk, cases[i].arrival_s * S, 300 * S, &ev, &has);
        CHECK_INT(stale, cases[i].want_stale);
        CHECK_INT(has, cases[i].want_event);
    }
}

static const check_test tests[] = {
    {"persisted", test_persisted},
    {"unwritable", test_unwritable},
    {"skew", test_skew},
    {0},
};

int main(void) {
    return check_main("radius_replay", tests);
}
