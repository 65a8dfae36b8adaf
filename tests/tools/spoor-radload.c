/*
 * spoor-radload: load generator for spoor-collect's benchmark.
 *
 *   spoor-radload radius HOST PORT SECRET_FILE COUNT [WINDOW]
 *       sends COUNT distinct Accounting-Requests (Start) signed with the
 *       secret, keeping WINDOW (default 64, at most 256) unanswered at once,
 *       retransmitting after 2 s like a NAS; prints "sent answered
 *       retransmitted seconds rate".  Zero loss = every request answered.
 *   spoor-radload syslog HOST PORT COUNT
 *       sends COUNT Postfix-style lines over one TCP connection (LF framing);
 *       prints "sent seconds rate".
 */
#include "radius_pkt.h"
#include "timeutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static size_t put_attr(uint8_t *p, uint8_t type, const void *v, size_t n) {
    p[0] = type;
    p[1] = (uint8_t)(n + 2);
    memcpy(p + 2, v, n);
    return n + 2;
}

static size_t put_int(uint8_t *p, uint8_t type, uint32_t v) {
    uint32_t be = htonl(v);
    return put_attr(p, type, &be, 4);
}

static size_t build(uint8_t *pkt, uint8_t id, long i, const uint8_t *secret, size_t slen) {
    char s[64];
    size_t n = 20;
    pkt[0] = 4;
    pkt[1] = id;
    n += put_int(pkt + n, 40, 1); /* Acct-Status-Type = Start */
    int l = snprintf(s, sizeof s, "load%06ld@isp.example", i % 1000000);
    n += put_attr(pkt + n, 1, s, (size_t)l); /* User-Name */
    l = snprintf(s, sizeof s, "L%ld", i);
    n += put_attr(pkt + n, 44, s, (size_t)l);                        /* Acct-Session-Id */
    n += put_int(pkt + n, 4, 0x7f000001);                            /* NAS-IP-Address */
    n += put_int(pkt + n, 8, 0x64400000u + (uint32_t)(i % 4000000)); /* Framed-IP-Address */
    n += put_int(pkt + n, 55, (uint32_t)(timeutil_now() / 1000000)); /* Event-Timestamp */
    pkt[2] = (uint8_t)(n >> 8);
    pkt[3] = (uint8_t)n;
    radius_pkt_sign_acct(pkt, n, secret, slen);
    return n;
}

typedef struct slot {
    long i;
    int64_t sent;
    uint8_t pkt[256];
    size_t len;
    int busy;
} slot;

static int radius(const char *host, int port, const char *secret_file, long count, int window) {
    uint8_t secret[128];
    FILE *f = fopen(secret_file, "r");
    if (!f || !fgets((char *)secret, sizeof secret, f)) {
        fprintf(stderr, "spoor-radload: cannot read %s\n", secret_file);
        return 2;
    }
    fclose(f);
    size_t slen = strcspn((char *)secret, "\r\n");
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &to.sin_addr);
    if (connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
        perror("connect");
        return 2;
    }
    static slot slots[256];
    long next = 0, answered = 0, retrans = 0;
    int inflight = 0;
    int64_t t0 = timeutil_now();
    while (answered < count) {
        for (int id = 0; id < 256 && inflight < window && next < count; id++) {
            if (slots[id].busy)
                continue;
            slots[id].i = next++;
            slots[id].len = build(slots[id].pkt, (uint8_t)id, slots[id].i, secret, slen);
            slots[id].busy = 1;
            slots[id].sent = timeutil_now();
            send(fd, slots[id].pkt, slots[id].len, 0);
            inflight++;
        }
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 100) > 0) {
            uint8_t r[4096];
            ssize_t n;
            while ((n = recv(fd, r, sizeof r, MSG_DONTWAIT)) >= 20)
                if (r[0] == 5 && slots[r[1]].busy) {
                    slots[r[1]].busy = 0;
                    inflight--;
                    answered++;
                }
        }
        int64_t now = timeutil_now();
        for (int id = 0; id < 256; id++)
            if (slots[id].busy && now - slots[id].sent > 2000000) {
                send(fd, slots[id].pkt, slots[id].len, 0); /* a NAS retransmission */
                slots[id].sent = now;
                retrans++;
            }
    }
    double secs = (double)(timeutil_now() - t0) / 1e6;
    printf("%ld %ld %ld %.3f %.0f\n", next, answered, retrans, secs, (double)answered / secs);
    close(fd);
    return 0;
}

static int syslog_load(const char *host, int port, long count) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &to.sin_addr);
    if (connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
        perror("connect");
        return 2;
    }
    char buf[65536];
    size_t used = 0;
    int64_t t0 = timeutil_now();
    for (long i = 0; i < count; i++) {
        if (used > sizeof buf - 300) {
            for (size_t off = 0; off < used;) {
                ssize_t w = write(fd, buf + off, used - off);
                if (w < 0 && errno == EINTR)
                    continue;
                if (w <= 0) {
                    perror("write");
                    return 1;
                }
                off += (size_t)w;
            }
            used = 0;
        }
        used += (size_t)snprintf(buf + used, sizeof buf - used,
                                 "<22>Nov 25 10:%02ld:%02ld mx%ld postfix/smtpd[%ld]: %010lX: "
                                 "client=pc[100.64.%ld.%ld]:%ld, sasl_method=PLAIN, "
                                 "sasl_username=load%ld@isp.example\n",
                                 (i / 60) % 60, i % 60, i % 4, 1000 + i % 5000, i, (i / 250) % 250,
                                 i % 250, 1024 + i % 60000, i % 100000);
    }
    for (size_t off = 0; off < used;) {
        ssize_t w = write(fd, buf + off, used - off);
        if (w <= 0)
            return 1;
        off += (size_t)w;
    }
    shutdown(fd, SHUT_WR);
    char c;
    while (read(fd, &c, 1) > 0)
        ;
    double secs = (double)(timeutil_now() - t0) / 1e6;
    printf("%ld %.3f %.0f\n", count, secs, (double)count / secs);
    close(fd);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 6 && !strcmp(argv[1], "radius")) {
        int w = argc > 6 ? atoi(argv[6]) : 64;
        return radius(argv[2], atoi(argv[3]), argv[4], atol(argv[5]),
                      w < 1     ? 1
                      : w > 256 ? 256
                                : w);
    }
    if (argc == 5 && !strcmp(argv[1], "syslog"))
        return syslog_load(argv[2], atoi(argv[3]), atol(argv[4]));
    fprintf(stderr, "usage: spoor-radload radius HOST PORT SECRET_FILE COUNT [WINDOW]\n"
                    "       spoor-radload syslog HOST PORT COUNT\n");
    return 2;
}
