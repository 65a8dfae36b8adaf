/*
 * spoor-api-bench: spoor-api under load and under attack.
 *
 * Honest clients (one thread and one keep-alive connection each, a bearer
 * token and an approved request each, read from stdin as "TOKEN REQUEST_ID"
 * lines) run real gated lookups, POST /v1/trace/ip, on the addresses
 * tests/bench/trace.sql synthesised (the /24 the benchmark's requests name).
 * Two phases: first alone, then while attackers run:
 *   slow-loris  SLOW connections that send a request line and then one
 *               header byte every 200 ms, reconnecting when cut off;
 *   oversized   BIG clients that announce a 100 MB body and send it, one
 *               try after another (20 ms apart).
 * The attackers start ATTACK_LEAD seconds before the honest clients'
 * second phase, so the server's deadline has already met them.
 *
 * Prints one line per measurement:
 *   honest PHASE REQUESTS_PER_S P50_MS P99_MS OK FAILED
 *   slowloris OPENED CUT_OFF ANSWERED MEDIAN_LIFETIME_S MAX_LIFETIME_S
 *   oversized ATTEMPTS ANSWERED_413 CLOSED_FIRST MAX_MB_SENT
 * (CLOSED_FIRST: the server closed before the attacker read an answer).
 *
 *   spoor-api-bench PORT SESSIONS POOL PER_CLIENT SLOW BIG ATTACK_LEAD < tokens
 */
#include "bench_lat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 64
#define MAX_SLOW 1000

static int port, per_client;
static long sessions, pool;
static atomic_int attack_stop;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int dial(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads one HTTP/1.1 response (Content-Length framed); its status, or -1.
 * BODY gets up to BODYLEN-1 bytes of the body. */
static int read_response(int fd, char *body, size_t bodylen) {
    char buf[65536];
    size_t have = 0;
    for (;;) {
        ssize_t r = recv(fd, buf + have, sizeof buf - 1 - have, 0);
        if (r <= 0)
            return -1;
        have += (size_t)r;
        buf[have] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (!end) {
            if (have >= sizeof buf - 1)
                return -1;
            continue;
        }
        int status = atoi(buf + 9);
        char *cl = strcasestr(buf, "\r\ncontent-length:");
        size_t len = cl ? strtoul(cl + 17, NULL, 10) : 0, head = (size_t)(end + 4 - buf);
        while (have < head + len && have < sizeof buf - 1) {
            r = recv(fd, buf + have, sizeof buf - 1 - have, 0);
            if (r <= 0)
                return -1;
            have += (size_t)r;
        }
        size_t n = have - head < bodylen - 1 ? have - head : bodylen - 1;
        memcpy(body, buf + head, n);
        body[n] = '\0';
        return status;
    }
}

typedef struct client {
    pthread_t t;
    char token[160];
    long request;
    int phase, ok, failed;
    double *lat;
    int n_lat;
} client;

/* One lookup's address and instant, as spoor-trace-bench picks them. */
static void pick(unsigned *seed, char *ip, size_t iplen, char *at, size_t atlen) {
    *seed = *seed * 1103515245u + 12345u;
    long s = (long)((*seed >> 4) % (unsigned long)sessions);
    long a = s % pool, hour = s / pool;
    snprintf(ip, iplen, "100.64.0.%ld", a % 256);
    time_t t = 1767225600 + hour * 3600 + 20 * 60;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(at, atlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void *honest_main(void *arg) {
    client *c = arg;
    unsigned seed = 777u + (unsigned)c->request * 31u + (unsigned)c->phase;
    int fd = -1;
    c->lat = calloc((size_t)per_client, sizeof *c->lat);
    for (int i = 0; i < per_client; i++) {
        char ip[32], at[32], body[512], req[1024], resp[4096];
        pick(&seed, ip, sizeof ip, at, sizeof at);
        int bl = snprintf(body, sizeof body,
                          "{\"request_id\":%ld,\"ip\":\"%s\",\"at\":\"%s\",\"tolerance\":0}",
                          c->request, ip, at);
        int rl = snprintf(req, sizeof req,
                          "POST /v1/trace/ip HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer "
                          "%s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                          c->token, bl, body);
        double t0 = now_s();
        int status = -1;
        for (int attempt = 0; attempt < 2 && status < 0; attempt++) {
            if (fd < 0)
                fd = dial();
            if (fd < 0)
                break;
            if (send_all(fd, req, (size_t)rl) == 0)
                status = read_response(fd, resp, sizeof resp);
            if (status < 0) {
                close(fd);
                fd = -1;
            }
        }
        double ms = (now_s() - t0) * 1e3;
        if (status == 200 && strstr(resp, "\"status\": \"ok\"")) {
            c->ok++;
            c->lat[c->n_lat++] = ms;
        } else {
            if (c->failed++ < 3)
                fprintf(stderr, "honest client: status %d: %.200s\n", status, resp);
        }
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static void honest_phase(const char *name, client *cl, int n, int phase) {
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        cl[i].phase = phase;
        cl[i].ok = cl[i].failed = cl[i].n_lat = 0;
        pthread_create(&cl[i].t, NULL, honest_main, &cl[i]);
    }
    for (int i = 0; i < n; i++)
        pthread_join(cl[i].t, NULL);
    double secs = now_s() - t0;
    int ok = 0, failed = 0, k = 0;
    for (int i = 0; i < n; i++) {
        ok += cl[i].ok;
        failed += cl[i].failed;
    }
    double *all = calloc((size_t)ok + 1, sizeof *all);
    for (int i = 0; i < n; i++) {
        memcpy(all + k, cl[i].lat, (size_t)cl[i].n_lat * sizeof *all);
        k += cl[i].n_lat;
        free(cl[i].lat);
    }
    qsort(all, (size_t)k, sizeof *all, bench_lat_cmp);
    printf("honest %s %.0f %.2f %.2f %d %d\n", name, (double)(ok + failed) / secs,
           k ? all[k / 2] : 0, k ? all[(k * 99) / 100] : 0, ok, failed);
    free(all);
}

/* ---- attackers ---- */

static int slow_n, slow_opened, slow_cut, slow_answered, n_life;
static double life[100000];

static void *slowloris_main(void *arg) {
    (void)arg;
    int fd[MAX_SLOW];
    double born[MAX_SLOW];
    static const char head[] = "POST /v1/trace/ip HTTP/1.1\r\nHost: bench\r\nX-Slow: ";
    for (int i = 0; i < slow_n; i++) {
        fd[i] = dial();
        born[i] = now_s();
        if (fd[i] >= 0) {
            slow_opened++;
            send_all(fd[i], head, sizeof head - 1);
        }
    }
    while (!attack_stop) {
        struct pollfd p[MAX_SLOW];
        for (int i = 0; i < slow_n; i++)
            p[i] = (struct pollfd){.fd = fd[i], .events = POLLIN};
        poll(p, (nfds_t)slow_n, 200);
        for (int i = 0; i < slow_n; i++) {
            int gone = fd[i] < 0;
            if (!gone && (p[i].revents & (POLLIN | POLLHUP | POLLERR))) {
                char b[512];
                ssize_t r = recv(fd[i], b, sizeof b, MSG_DONTWAIT);
                if (r > 0)
                    slow_answered++;
                gone = r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
            }
            if (!gone && send(fd[i], "a", 1, MSG_NOSIGNAL) != 1)
                gone = 1;
            if (gone) {
                if (fd[i] >= 0) {
                    close(fd[i]);
                    slow_cut++;
                    if (n_life < (int)(sizeof life / sizeof life[0]))
                        life[n_life++] = now_s() - born[i];
                }
                fd[i] = dial();
                born[i] = now_s();
                if (fd[i] >= 0) {
                    slow_opened++;
                    send_all(fd[i], head, sizeof head - 1);
                }
            }
        }
    }
    for (int i = 0; i < slow_n; i++)
        if (fd[i] >= 0)
            close(fd[i]);
    return NULL;
}

static atomic_int big_attempts, big_413, big_other;
static atomic_long big_max_sent;

static void *oversized_main(void *arg) {
    (void)arg;
    static char chunk[65536];
    memset(chunk, 'x', sizeof chunk);
    static const char head[] = "POST /v1/trace/ip HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer "
                               "spoor_0000000000000000000000000000\r\nContent-Type: "
                               "application/json\r\nContent-Length: 104857600\r\n\r\n";
    while (!attack_stop) {
        int fd = dial();
        if (fd < 0) {
            usleep(100000);
            continue;
        }
        big_attempts++;
        long sent = 0;
        int status = -1;
        if (send_all(fd, head, sizeof head - 1) == 0) {
            for (;;) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                if (poll(&p, 1, 0) > 0) {
                    char b[1024];
                    ssize_t r = recv(fd, b, sizeof b - 1, 0);
                    if (r > 12) {
                        b[r] = '\0';
                        status = atoi(b + 9);
                    }
                    break;
                }
                ssize_t w = send(fd, chunk, sizeof chunk, MSG_NOSIGNAL);
                if (w <= 0 || attack_stop)
                    break;
                sent += w;
            }
        }
        if (status == 413)
            big_413++;
        else
            big_other++;
        if (sent > big_max_sent)
            big_max_sent = sent;
        close(fd);
        usleep(20000); /* an oversized-body attacker, not a connection flood */
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 8) {
        fprintf(stderr, "usage: spoor-api-bench PORT SESSIONS POOL PER_CLIENT SLOW BIG "
                        "ATTACK_LEAD < tokens\n");
        return 2;
    }
    port = atoi(argv[1]);
    sessions = atol(argv[2]);
    pool = atol(argv[3]);
    per_client = atoi(argv[4]);
    slow_n = atoi(argv[5]);
    int big = atoi(argv[6]), lead = atoi(argv[7]);
    if (slow_n > MAX_SLOW)
        slow_n = MAX_SLOW;
    static client cl[MAX_CLIENTS];
    int n = 0;
    while (n < MAX_CLIENTS && scanf("%159s %ld", cl[n].token, &cl[n].request) == 2)
        n++;
    if (n == 0 || sessions <= 0 || pool <= 0) {
        fprintf(stderr, "spoor-api-bench: no 'TOKEN REQUEST_ID' lines on stdin\n");
        return 2;
    }
    honest_phase("idle", cl, n, 1);
    pthread_t slow_t, big_t[16];
    if (big > 16)
        big = 16;
    pthread_create(&slow_t, NULL, slowloris_main, NULL);
    for (int i = 0; i < big; i++)
        pthread_create(&big_t[i], NULL, oversized_main, NULL);
    sleep((unsigned)lead);
    honest_phase("attacked", cl, n, 2);
    attack_stop = 1;
    pthread_join(slow_t, NULL);
    for (int i = 0; i < big; i++)
        pthread_join(big_t[i], NULL);
    qsort(life, (size_t)n_life, sizeof life[0], bench_lat_cmp);
    printf("slowloris %d %d %d %.1f %.1f\n", slow_opened, slow_cut, slow_answered,
           n_life ? life[n_life / 2] : 0, n_life ? life[n_life - 1] : 0);
    printf("oversized %d %d %d %.1f\n", (int)big_attempts, (int)big_413, (int)big_other,
           (double)big_max_sent / 1048576.0);
    return 0;
}
