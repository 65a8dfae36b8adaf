/*
 * spoor-collect: the edge.  Takes RADIUS accounting (UDP, RFC 2866), syslog
 * from mail servers (TCP with RFC 6587 framing, and UDP) and FreeRADIUS
 * detail files, and produces every record to Kafka without losing one.
 *
 *   spoor-collect [--config FILE] [--print-config]
 *
 * RADIUS: an Accounting-Request is checked against the shared secret of the
 * NAS it came from (collect.radius_clients = ADDRESS=SECRET_FILE,...: the
 * secrets live in files, never in the configuration or argv); an unknown NAS
 * or a bad authenticator is dropped, counted and logged at a bounded rate.
 * A good one is rendered in the FreeRADIUS detail format spoor-ingest reads,
 * produced to the RADIUS topic keyed by the NAS address (so per-NAS order
 * holds), and answered with an Accounting-Response only when Kafka has
 * acknowledged it: if the record is not safe, the NAS retransmits.  A
 * retransmission (same source, identifier and authenticator) is never
 * produced twice: while its first copy is in flight it is ignored, after
 * that it gets the same response again, for collect.radius_dedup_window.
 * Replays are refused, counted and not answered (radius_replay.h): the same
 * packet after that window (also after a restart: the NAS and authenticator
 * of every acknowledged request are kept in collect.state_dir for
 * collect.radius_replay_keep), and a request whose Event-Timestamp (plus
 * Acct-Delay-Time) is further than collect.radius_max_skew from its arrival.
 *
 * Syslog: each message goes to the SMTP topic keyed by the host it names,
 * with the peer it came from in a Kafka header (spoor-peer).  Only the peers
 * collect.syslog_sources names may send: another's TCP connection is closed
 * and its datagrams dropped, counted.  A line naming a host its peer may not
 * speak for is still produced, marked (spoor-refused), and spoor-ingest
 * quarantines it as host_not_allowed: kept as evidence of the attempt, never
 * taken for our MTA's word.  Across a network, run syslog over TLS (RFC
 * 5425, collect.syslog_tls_listen): the sender must present a client
 * certificate that chains to collect.tls_client_ca_file, or nothing it sends
 * is read; collect.syslog_sources applies to it as well.
 * FreeRADIUS detail files: the detail* files in collect.detail_dir are read
 * oldest first (by name) and the last one followed as it grows; a position (file, inode, offset of
 * the last record Kafka acknowledged) is kept in collect.state_dir, so a restart produces nothing
 * twice after a clean stop; on rotation the old file is read to its end
 * before the next one.
 *
 * Backpressure: the bytes produced but not yet acknowledged are bounded by
 * collect.max_buffer.  Above it, RADIUS packets are left unanswered (the NAS
 * retransmits), TCP syslog connections are not read (the sender blocks), the
 * detail follower waits, and UDP syslog datagrams — which have no way to
 * wait — are counted as dropped and logged.  librdkafka retries for ever
 * (message.timeout.ms = 0), so a broker outage only fills the buffer.
 * SIGTERM stops the listeners, waits for Kafka to acknowledge what is in
 * flight (answering those NASes), saves the detail position and exits.
 */
#include "arena.h"
#include "buf.h"
#include "config.h"
#include "log.h"
#include "mem.h"
#include "detail_split.h"
#include "radius_pkt.h"
#include "radius_render.h"
#include "radius_replay.h"
#include "ipfix.h"
#include "syslog_frame.h"
#include "syslog_sources.h"
#include "tls_ctx.h"
#include "tls_stream.h"
#include "timeutil.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#define MAX_CLIENTS 256
#define DEDUP_BUCKETS 4096
#define SYSLOG_MAX_MSG 65536

/* ---- configuration of NASes -------------------------------------------------- */

typedef struct nas_client {
    struct sockaddr_storage addr; /* port ignored */
    uint8_t secret[128];
    size_t secret_len;
} nas_client;

/* ---- records in flight ------------------------------------------------------------ */

enum { REC_RADIUS, REC_SYSLOG, REC_DETAIL };

typedef struct dedup dedup;

typedef struct inflight {
    int kind;
    size_t bytes;
    dedup *d;             /* REC_RADIUS: the request it answers */
    long long detail_end; /* REC_DETAIL: offset after the record */
    unsigned long long detail_seq;
} inflight;

/* A RADIUS request seen recently: its key, and its response once acked. */
struct dedup {
    struct sockaddr_storage peer;
    uint8_t id, auth[16];
    int acked;
    uint8_t resp[20];
    size_t resp_len;
    int64_t seen;
    dedup *next;
};

typedef struct tcp_conn {
    uv_tcp_t h;
    syslog_frame fr;
    char peer[64];
    const syslog_source *src; /* what collect.syslog_sources allows this peer */
    tls_stream *tls;          /* syslog over TLS, else NULL */
    rd_kafka_topic_t *topic;  /* mail logs (kafka.topic.smtp) or CGN logs (kafka.topic.nat) */
    int reading;
    struct tcp_conn *prev, *next;
} tcp_conn;

typedef struct collector {
    spoor_config cfg;
    uv_loop_t *loop;
    rd_kafka_t *rk;
    rd_kafka_topic_t *t_radius, *t_smtp, *t_nat;
    int pipe_fd[2];
    uv_poll_t kpoll;
    uv_timer_t tick;
    uv_udp_t radius_udp, syslog_udp, nat_udp, ipfix_udp;
    uv_tcp_t syslog_tcp, syslog_tls, nat_tcp;
    SSL_CTX *tls_ctx;
    int have_tls;
    int have_radius, have_syslog, have_detail, have_nat, have_ipfix;
    ipfix_state *ipfix;
    ipfix_exporter *exporters;
    int n_exporters;
    long long ipfix_refused, ipfix_dropped, ipfix_lines;
    uv_signal_t sigterm, sigint;
    int stopping, fatal;
    nas_client clients[MAX_CLIENTS];
    int n_clients;
    syslog_sources sources;
    dedup *buckets[DEDUP_BUCKETS];
    radius_replay *replay; /* requests acknowledged, for collect.radius_replay_keep */
    tcp_conn *conns;
    size_t inflight_bytes;
    long inflight_n;
    int paused;
    /* detail follower */
    char detail_file[512];
    unsigned long long detail_ino;
    long long detail_acked; /* offset all records before which are acknowledged */
    long long detail_read;  /* offset produced up to */
    unsigned long long detail_seq_next, detail_seq_acked;
    long long *detail_ends; /* ring: end offset of record seq (acked out of order) */
    unsigned char *detail_done;
    size_t detail_ring;
    buf detail_buf;
    /* counters */
    long long radius_ok, radius_dup, radius_replayed, radius_stale, radius_no_event_ts,
        radius_unknown_nas, radius_bad_auth, radius_malformed, radius_backpressure, syslog_msgs,
        syslog_udp_dropped, syslog_truncated, syslog_peer_refused, syslog_host_refused, tls_refused,
        detail_records, produce_failed, acks;
    int64_t last_warn_us;
    long suppressed;
} collector;

static collector G;

/* Logs at most one warning a second; counts the rest. */
static void warn_limited(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warn_limited(const char *fmt, ...) {
    int64_t now = timeutil_now();
    if (now - G.last_warn_us < 1000000) {
        G.suppressed++;
        return;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (G.suppressed)
        log_warn("%s (%ld similar messages suppressed)", msg, G.suppressed);
    else
        log_warn("%s", msg);
    G.suppressed = 0;
    G.last_warn_us = now;
}

static void addr_text(const struct sockaddr *sa, char *out, size_t n) {
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)n);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)n);
    else
        snprintf(out, n, "?");
}

static int same_host(const struct sockaddr *a, const struct sockaddr_storage *b) {
    if (a->sa_family != b->ss_family)
        return 0;
    if (a->sa_family == AF_INET)
        return !memcmp(&((const struct sockaddr_in *)a)->sin_addr,
                       &((const struct sockaddr_in *)b)->sin_addr, 4);
    return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                   &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
}

static size_t sa_len(const struct sockaddr *sa) {
    return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* "ADDR=FILE,ADDR=FILE": each file holds one shared secret (a trailing newline is dropped). */
static int load_clients(const char *spec, error *err) {
    char *copy = mem_strdup(spec), *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        while (*item == ' ')
            item++;
        char *eq = strchr(item, '=');
        if (!eq || G.n_clients == MAX_CLIENTS) {
            error_set(err, "bad_entry", 0,
                      "collect.radius_clients: '%s' is not ADDRESS=SECRET_FILE", item);
            free(copy);
            return -1;
        }
        *eq = '\0';
        nas_client *c = &G.clients[G.n_clients];
        memset(c, 0, sizeof *c);
        struct sockaddr_in *s4 = (struct sockaddr_in *)&c->addr;
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&c->addr;
        if (inet_pton(AF_INET, item, &s4->sin_addr) == 1)
            s4->sin_family = AF_INET;
        else if (inet_pton(AF_INET6, item, &s6->sin6_addr) == 1)
            s6->sin6_family = AF_INET6;
        else {
            error_set(err, "bad_address", 0, "collect.radius_clients: '%s' is not an IP address",
                      item);
            free(copy);
            return -1;
        }
        int fd = open(eq + 1, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
            error_set(err, "io", 0, "collect.radius_clients: %s: %s", eq + 1, strerror(errno));
            if (fd >= 0)
                close(fd);
            free(copy);
            return -1;
        }
        if (st.st_mode & 077) {
            error_set(err, "key_mode", 0,
                      "%s: a secret file must not be readable by group or others "
                      "(chmod 0400)",
                      eq + 1);
            close(fd);
            free(copy);
            return -1;
        }
        ssize_t r = read(fd, c->secret, sizeof c->secret);
        close(fd);
        while (r > 0 && (c->secret[r - 1] == '\n' || c->secret[r - 1] == '\r'))
            r--;
        if (r <= 0 || (size_t)r >= sizeof c->secret) {
            error_set(err, "bad_key", 0, "%s: empty or longer than 127 bytes", eq + 1);
            free(copy);
            return -1;
        }
        c->secret_len = (size_t)r;
        G.n_clients++;
    }
    free(copy);
    return 0;
}

static const nas_client *client_for(const struct sockaddr *sa) {
    for (int i = 0; i < G.n_clients; i++)
        if (same_host(sa, &G.clients[i].addr))
            return &G.clients[i];
    return NULL;
}

/* ---- backpressure ------------------------------------------------------------------ */

static void conn_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b);
static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b);

static void update_pause(void) {
    size_t hi = (size_t)G.cfg.collect_max_buffer, lo = hi / 4 * 3;
    if (!G.paused && G.inflight_bytes > hi) {
        G.paused = 1;
        log_warn("kafka buffer full (%zu bytes unacknowledged): RADIUS unanswered, TCP syslog "
                 "paused, detail files wait",
                 G.inflight_bytes);
        for (tcp_conn *c = G.conns; c; c = c->next)
            if (c->reading) {
                uv_read_stop((uv_stream_t *)&c->h);
                c->reading = 0;
            }
    } else if (G.paused && G.inflight_bytes <= lo) {
        G.paused = 0;
        log_info("kafka buffer drained (%zu bytes): resuming", G.inflight_bytes);
        for (tcp_conn *c = G.conns; c; c = c->next)
            if (!c->reading && uv_read_start((uv_stream_t *)&c->h, alloc_cb, conn_read_cb) == 0)
                c->reading = 1;
    }
}

/* Produces one record with the Kafka headers H (taken over, may be NULL);
 * the flight record F is freed by the delivery report. */
static int produce_h(rd_kafka_topic_t *t, const char *key, const void *p, size_t n,
                     rd_kafka_headers_t *h, inflight *f) {
    f->bytes = n;
    rd_kafka_resp_err_t e =
        rd_kafka_producev(G.rk, RD_KAFKA_V_RKT(t), RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE((void *)p, n),
                          RD_KAFKA_V_KEY(key, key ? strlen(key) : 0), RD_KAFKA_V_HEADERS(h),
                          RD_KAFKA_V_OPAQUE(f), RD_KAFKA_V_END);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        warn_limited("kafka produce: %s", rd_kafka_err2str(e));
        G.produce_failed++;
        if (h)
            rd_kafka_headers_destroy(h); /* kept by librdkafka only on success */
        free(f);
        return -1;
    }
    G.inflight_bytes += n;
    G.inflight_n++;
    update_pause();
    return 0;
}

static int produce(rd_kafka_topic_t *t, const char *key, const void *p, size_t n, inflight *f) {
    return produce_h(t, key, p, n, NULL, f);
}

/* ---- RADIUS ----------------------------------------------------------------------------- */

/* The key of a request: NAS address, Identifier and Request Authenticator.
 * RFC 5080 2.2.2 adds the source port; we leave it out, because an
 * accounting authenticator is an MD5 over the whole packet and the secret, so
 * the same NAS sending the same authenticator sent the same packet, even from
 * a new socket.  The answer goes to wherever the latest copy came from. */
static unsigned dedup_hash(const struct sockaddr *sa, uint8_t id, const uint8_t *auth) {
    unsigned h = 2166136261u;
    const uint8_t *p = sa->sa_family == AF_INET6
                           ? (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                           : (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
    for (size_t i = 0; i < (sa->sa_family == AF_INET6 ? 16u : 4u); i++)
        h = (h ^ p[i]) * 16777619u;
    h = (h ^ id) * 16777619u;
    for (int i = 0; i < 16; i++)
        h = (h ^ auth[i]) * 16777619u;
    return h % DEDUP_BUCKETS;
}

static void dedup_expire(void) {
    int64_t now = timeutil_now();
    for (int b = 0; b < DEDUP_BUCKETS; b++) {
        dedup **pp = &G.buckets[b];
        while (*pp) {
            dedup *d = *pp;
            /* One still in flight is kept: its delivery report points at it. */
            if (d->acked && now - d->seen > G.cfg.collect_radius_dedup_window * 1000000LL) {
                *pp = d->next;
                free(d);
            } else
                pp = &d->next;
        }
    }
}

static void udp_send_cb(uv_udp_send_t *r, int status) {
    (void)status;
    free(r);
}

static void send_response(const dedup *d) {
    uv_buf_t b = uv_buf_init((char *)d->resp, (unsigned)d->resp_len);
    if (uv_udp_try_send(&G.radius_udp, &b, 1, (const struct sockaddr *)&d->peer) < 0) {
        uv_udp_send_t *r = mem_alloc(sizeof *r + d->resp_len);
        memcpy(r + 1, d->resp, d->resp_len);
        b = uv_buf_init((char *)(r + 1), (unsigned)d->resp_len);
        uv_udp_send(r, &G.radius_udp, &b, 1, (const struct sockaddr *)&d->peer, udp_send_cb);
    }
}

static void radius_recv_cb(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *sa,
                           unsigned flags) {
    (void)h;
    (void)flags;
    if (n <= 0 || !sa || G.stopping) {
        free(b->base);
        return;
    }
    const uint8_t *p = (const uint8_t *)b->base;
    char peer[64];
    error err;
    addr_text(sa, peer, sizeof peer);
    const nas_client *c = client_for(sa);
    radius_pkt pk;
    if (!c) {
        G.radius_unknown_nas++;
        warn_limited("radius: packet from unknown NAS %s dropped", peer);
    } else if (radius_pkt_parse(p, (size_t)n, &pk, &err) != RADIUS_PKT_OK) {
        G.radius_malformed++;
        warn_limited("radius: malformed packet from %s dropped: %s", peer, err.msg);
    } else if (pk.code != 4) {
        G.radius_malformed++;
        warn_limited("radius: code %d from %s is not an Accounting-Request", pk.code, peer);
    } else if (radius_pkt_verify_acct(p, pk.length, c->secret, c->secret_len) != RADIUS_PKT_OK) {
        G.radius_bad_auth++;
        warn_limited("radius: bad Request Authenticator from %s (wrong shared secret?)", peer);
    } else {
        unsigned hb = dedup_hash(sa, pk.id, pk.auth);
        dedup *d = G.buckets[hb];
        while (d && !(d->id == pk.id && !memcmp(d->auth, pk.auth, 16) && same_host(sa, &d->peer)))
            d = d->next;
        int64_t now = timeutil_now(), event_us = 0;
        int has_event = 0;
        if (d) {
            /* A retransmission: answer it if its first copy is safe, else wait. */
            G.radius_dup++;
            memcpy(&d->peer, sa, sa_len(sa));
            if (d->acked)
                send_response(d);
        } else if (G.replay && radius_replay_seen(G.replay, sa, pk.auth, now)) {
            /* The same packet after the retransmission window: a replay. */
            G.radius_replayed++;
            warn_limited("radius: replayed request from %s refused (id %d, stored before)", peer,
                         pk.id);
        } else if (radius_replay_stale(&pk, now, G.cfg.collect_radius_max_skew * 1000000LL,
                                       &event_us, &has_event)) {
            G.radius_stale++;
            warn_limited("radius: request from %s refused: Event-Timestamp %lld is %+lld s from "
                         "its arrival (collect.radius_max_skew %lld s): stale or replayed",
                         peer, (long long)(event_us / 1000000),
                         (long long)((event_us - now) / 1000000), G.cfg.collect_radius_max_skew);
        } else if (!has_event && G.cfg.collect_radius_require_event_timestamp) {
            G.radius_no_event_ts++;
            warn_limited("radius: request from %s refused: no Event-Timestamp "
                         "(collect.radius_require_event_timestamp)",
                         peer);
        } else if (G.paused) {
            G.radius_backpressure++;
            warn_limited("radius: buffer full, request from %s left unanswered (it will be "
                         "retransmitted)",
                         peer);
        } else {
            buf out;
            buf_init(&out);
            radius_render_opts ro = {G.cfg.ingest_default_zone, 1};
            if (radius_render_detail(&pk, timeutil_now(), sa, &ro, &out, &err) < 0) {
                G.radius_malformed++;
                warn_limited("radius: cannot render the request from %s: %s", peer, err.msg);
            } else {
                d = mem_zalloc(sizeof *d);
                memcpy(&d->peer, sa, sa_len(sa));
                d->id = pk.id;
                memcpy(d->auth, pk.auth, 16);
                d->resp_len = radius_pkt_response(&pk, c->secret, c->secret_len, d->resp);
                d->seen = timeutil_now();
                d->next = G.buckets[hb];
                G.buckets[hb] = d;
                inflight *f = mem_zalloc(sizeof *f);
                f->kind = REC_RADIUS;
                f->d = d;
                if (produce(G.t_radius, peer, out.p, out.len, f) < 0) {
                    G.buckets[hb] = d->next; /* not produced: let the retransmission try again */
                    free(d);
                }
            }
            buf_close(&out);
        }
    }
    free(b->base);
}

/* ---- syslog -------------------------------------------------------------------------------- */

/* The HOSTNAME of an RFC 5424 or RFC 3164 message, for the Kafka key. */
static void syslog_host(const char *m, size_t n, const char *fallback, char *out, size_t outn) {
    size_t i = 0;
    if (n && m[0] == '<') {
        while (i < n && m[i] != '>')
            i++;
        i++;
    }
    int tok_skip;
    size_t j = i;
    while (j < n && m[j] == ' ')
        j++;
    if (j + 7 < n && m[j] == '1' && m[j + 1] == ' ' && m[j + 2] >= '0' && m[j + 2] <= '9' &&
        m[j + 6] == ' ' && m[j + 7] >= 'A' && m[j + 7] <= 'Z')
        tok_skip = 5; /* IOS XR CGN: "<134> 1 2026 Nov 25 10:00:01 HOSTNAME" */
    else if (i + 1 < n && m[i] >= '1' && m[i] <= '9' && m[i + 1] == ' ')
        tok_skip = 2; /* RFC 5424: VERSION TIMESTAMP HOSTNAME */
    else if (i < n && m[i] >= '0' && m[i] <= '9')
        tok_skip = 1; /* ISO timestamp (rsyslog's RFC 3339 format): TIMESTAMP HOSTNAME */
    else
        tok_skip = 3; /* RFC 3164: Mmm dd hh:mm:ss HOSTNAME */
    for (int t = 0; t < tok_skip && i < n; t++) {
        while (i < n && m[i] == ' ')
            i++;
        while (i < n && m[i] != ' ')
            i++;
    }
    while (i < n && m[i] == ' ')
        i++;
    size_t s = i;
    while (i < n && m[i] != ' ' && i - s < outn - 1)
        i++;
    if (i > s && m[i - 1] != ':' && !(i - s == 1 && m[s] == '-'))
        snprintf(out, outn, "%.*s", (int)(i - s), m + s);
    else
        snprintf(out, outn, "%s", fallback);
}

static void syslog_message(const char *peer, const syslog_source *src, const char *m, size_t n,
                           rd_kafka_topic_t *topic) {
    while (n && (m[n - 1] == '\n' || m[n - 1] == '\r' || m[n - 1] == '\0'))
        n--;
    if (!n)
        return;
    char host[256];
    syslog_host(m, n, peer, host, sizeof host);
    rd_kafka_headers_t *h = rd_kafka_headers_new(2);
    rd_kafka_header_add(h, "spoor-peer", -1, peer, -1);
    if (n >= 5 && !memcmp(m, "IPFIX", 5)) {
        /* Only the IPFIX listener makes such lines, naming the exporter's
         * CGN; over syslog it would let a peer speak for any CGN. */
        char why[200];
        snprintf(why, sizeof why, "peer %s sent an IPFIX line over syslog", peer);
        rd_kafka_header_add(h, "spoor-refused", -1, why, -1);
        G.syslog_host_refused++;
        warn_limited("syslog: %s", why);
    } else if (!syslog_sources_may_speak(src, host)) {
        /* Produced all the same, marked: ingest quarantines it with the reason. */
        char why[400];
        snprintf(why, sizeof why, "peer %s may not send lines as host %s (collect.syslog_sources)",
                 peer, host);
        rd_kafka_header_add(h, "spoor-refused", -1, why, -1);
        G.syslog_host_refused++;
        warn_limited("syslog: %s", why);
    }
    inflight *f = mem_zalloc(sizeof *f);
    f->kind = REC_SYSLOG;
    if (produce_h(topic, host, m, n, h, f) == 0)
        G.syslog_msgs++;
}

static void frame_cb(void *arg, const char *msg, size_t len, int flags) {
    tcp_conn *c = arg;
    if (flags & SYSLOG_FRAME_TRUNCATED) {
        /* Still produced: spoor-ingest quarantines it as too_long, never silently lost. */
        G.syslog_truncated++;
        warn_limited("syslog: message from %s longer than %d bytes, cut", c->peer, SYSLOG_MAX_MSG);
    }
    syslog_message(c->peer, c->src, msg, len, c->topic);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
    (void)h;
    size_t n = suggested > 65536 ? 65536 : suggested;
    b->base = mem_alloc(n);
    b->len = n;
}

static void conn_close_cb(uv_handle_t *h) {
    tcp_conn *c = h->data;
    syslog_frame_close(&c->fr);
    tls_stream_free(c->tls);
    free(c);
}

/* TLS: decrypted bytes into the framer. */
static void tls_plain_cb(void *arg, const char *p, size_t n) {
    tcp_conn *c = arg;
    syslog_frame_feed(&c->fr, p, n, frame_cb, c);
}

typedef struct tls_write {
    uv_write_t req;
    char data[];
} tls_write;

static void tls_write_cb(uv_write_t *r, int status) {
    (void)status;
    free(r);
}

static void conn_close(tcp_conn *c) {
    if (c->prev)
        c->prev->next = c->next;
    else
        G.conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    uv_close((uv_handle_t *)&c->h, conn_close_cb);
}

static void conn_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
    tcp_conn *c = s->data;
    if (n > 0 && c->tls) {
        buf out;
        buf_init(&out);
        error err;
        int rc = tls_stream_feed(c->tls, b->base, (size_t)n, tls_plain_cb, c, &out, &err);
        if (out.len && !uv_is_closing((uv_handle_t *)&c->h)) {
            tls_write *w = mem_alloc(sizeof *w + out.len);
            memcpy(w->data, out.p, out.len);
            uv_buf_t wb = uv_buf_init(w->data, (unsigned)out.len);
            if (uv_write(&w->req, (uv_stream_t *)&c->h, &wb, 1, tls_write_cb) < 0)
                free(w);
        }
        buf_close(&out);
        if (rc < 0) {
            G.tls_refused++;
            warn_limited("syslog: TLS connection from %s closed: %s", c->peer, err.msg);
            conn_close(c);
        } else if (rc > 0) {
            syslog_frame_finish(&c->fr, frame_cb, c);
            conn_close(c);
        }
    } else if (n > 0)
        syslog_frame_feed(&c->fr, b->base, (size_t)n, frame_cb, c);
    else if (n < 0) {
        syslog_frame_finish(&c->fr, frame_cb, c);
        conn_close(c);
    }
    free(b->base);
}

static void accept_cb(uv_stream_t *server, int status) {
    if (status < 0)
        return;
    tcp_conn *c = mem_zalloc(sizeof *c);
    uv_tcp_init(G.loop, &c->h);
    c->h.data = c;
    syslog_frame_init(&c->fr, SYSLOG_MAX_MSG);
    if (uv_accept(server, (uv_stream_t *)&c->h) < 0) {
        uv_close((uv_handle_t *)&c->h, conn_close_cb);
        return;
    }
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&c->h, (struct sockaddr *)&ss, &len) == 0) {
        addr_text((struct sockaddr *)&ss, c->peer, sizeof c->peer);
        c->src = syslog_sources_find(&G.sources, (struct sockaddr *)&ss);
    }
    if (!c->src) {
        /* Not a peer that may send: nothing it says is read. */
        G.syslog_peer_refused++;
        warn_limited("syslog: connection from %s refused (not in collect.syslog_sources)",
                     *c->peer ? c->peer : "an unknown peer");
        uv_close((uv_handle_t *)&c->h, conn_close_cb);
        return;
    }
    if (server == (uv_stream_t *)&G.syslog_tls)
        c->tls = tls_stream_new(G.tls_ctx);
    c->topic = server == (uv_stream_t *)&G.nat_tcp ? G.t_nat : G.t_smtp;
    c->next = G.conns;
    if (G.conns)
        G.conns->prev = c;
    G.conns = c;
    if (!G.paused && uv_read_start((uv_stream_t *)&c->h, alloc_cb, conn_read_cb) == 0)
        c->reading = 1;
}

static void syslog_udp_cb(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *sa,
                          unsigned flags) {
    (void)flags;
    if (n > 0 && sa && !G.stopping) {
        char peer[64];
        addr_text(sa, peer, sizeof peer);
        const syslog_source *src = syslog_sources_find(&G.sources, sa);
        if (!src) {
            G.syslog_peer_refused++;
            warn_limited("syslog: datagram from %s refused (not in collect.syslog_sources)", peer);
        } else if (G.paused) {
            G.syslog_udp_dropped++;
            warn_limited("syslog: buffer full, UDP datagram from %s dropped (UDP cannot wait)",
                         peer);
        } else
            syslog_message(peer, src, b->base, (size_t)n, h == &G.nat_udp ? G.t_nat : G.t_smtp);
    }
    free(b->base);
}

/* IPFIX / NetFlow v9 from an allowed exporter: each NAT data record one
 * line to kafka.topic.nat (collect/ipfix). */
typedef struct ipfix_src {
    const char *addr; /* spoor-peer: the address alone (evidence_peer is an inet) */
    const ipfix_exporter *ex;
} ipfix_src;

static void ipfix_produce_cb(void *arg, const char *line, size_t len) {
    ipfix_src *src = arg;
    rd_kafka_headers_t *h = rd_kafka_headers_new(1);
    rd_kafka_header_add(h, "spoor-peer", -1, src->addr, -1);
    inflight *f = mem_zalloc(sizeof *f);
    f->kind = REC_SYSLOG;
    if (produce_h(G.t_nat, src->ex->name, line, len, h, f) == 0)
        G.ipfix_lines++;
}

static void ipfix_udp_cb(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *sa,
                         unsigned flags) {
    (void)h, (void)flags;
    if (n > 0 && sa && !G.stopping) {
        /* The exporter is its address and port: templates and sequence
         * numbers belong to one transport session (RFC 7011 section 10.3). */
        char peer[80], addr[64];
        int port;
        if (sa->sa_family == AF_INET) {
            uv_ip4_name((const struct sockaddr_in *)sa, addr, sizeof addr);
            port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
            snprintf(peer, sizeof peer, "%s:%d", addr, port);
        } else {
            uv_ip6_name((const struct sockaddr_in6 *)sa, addr, sizeof addr);
            port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
            snprintf(peer, sizeof peer, "[%s]:%d", addr, port);
        }
        const ipfix_exporter *ex = ipfix_exporters_find(G.exporters, G.n_exporters, addr);
        if (!ex) {
            G.ipfix_refused++;
            warn_limited("ipfix: datagram from %s refused (not in collect.ipfix_exporters)", peer);
        } else if (G.paused) {
            G.ipfix_dropped++;
            warn_limited("ipfix: buffer full, datagram from %s dropped (UDP cannot wait)", peer);
        } else {
            ipfix_src src = {addr, ex};
            long long lost = ipfix_state_stats(G.ipfix)->lost;
            ipfix_decode(G.ipfix, peer, ex->name, ex->profile, (const uint8_t *)b->base, (size_t)n,
                         ipfix_produce_cb, &src);
            if (ipfix_state_stats(G.ipfix)->lost > lost)
                warn_limited("ipfix: %s (%s): %lld records lost by its sequence numbers", peer,
                             ex->name, ipfix_state_stats(G.ipfix)->lost - lost);
        }
    }
    free(b->base);
}

/* ---- detail files ------------------------------------------------------------------------------
 */

static void state_path(char *out, size_t n) {
    snprintf(out, n, "%s/detail.pos", G.cfg.collect_state_dir);
}

/* Saves "FILE INODE OFFSET" atomically. */
static void detail_save(void) {
    static char saved_file[512];
    static unsigned long long saved_ino;
    static long long saved_off = -1;
    if (!G.have_detail || !G.detail_file[0])
        return;
    if (saved_off == G.detail_acked && saved_ino == G.detail_ino &&
        !strcmp(saved_file, G.detail_file))
        return; /* nothing new: no write, no fsync on the loop */
    char path[600], tmp[610];
    state_path(path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        warn_limited("detail: cannot save position in %s: %s", tmp, strerror(errno));
        return;
    }
    fprintf(f, "%s %llu %lld\n", G.detail_file, G.detail_ino, G.detail_acked);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        warn_limited("detail: cannot save position: %s", strerror(errno));
        return;
    }
    snprintf(saved_file, sizeof saved_file, "%s", G.detail_file);
    saved_ino = G.detail_ino;
    saved_off = G.detail_acked;
}

static void detail_load(void) {
    char path[600];
    state_path(path, sizeof path);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char name[512];
    unsigned long long ino;
    long long off;
    if (fscanf(f, "%511s %llu %lld", name, &ino, &off) == 3) {
        snprintf(G.detail_file, sizeof G.detail_file, "%s", name);
        G.detail_ino = ino;
        G.detail_acked = G.detail_read = off;
    }
    fclose(f);
}

/* The detail* file after CUR in name order ("" for the first), or "" if none. */
static void detail_next_file(const char *cur, char *out, size_t n) {
    out[0] = '\0';
    DIR *d = opendir(G.cfg.collect_detail_dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "detail", 6) || strstr(e->d_name, ".work") || strlen(e->d_name) >= n)
            continue;
        if (strcmp(e->d_name, cur) > 0 && (!out[0] || strcmp(e->d_name, out) < 0))
            snprintf(out, n, "%s", e->d_name);
    }
    closedir(d);
}

static void detail_ack(const inflight *f) {
    size_t slot = f->detail_seq % G.detail_ring;
    G.detail_ends[slot] = f->detail_end;
    G.detail_done[slot] = 1;
    while (G.detail_seq_acked < G.detail_seq_next &&
           G.detail_done[G.detail_seq_acked % G.detail_ring]) {
        size_t s = G.detail_seq_acked % G.detail_ring;
        G.detail_acked = G.detail_ends[s];
        G.detail_done[s] = 0;
        G.detail_seq_acked++;
    }
}

/* Reads what is new in the followed file and produces its complete records. */
static void detail_poll(void) {
    if (!G.have_detail || G.paused || G.stopping)
        return;
    if (!G.detail_file[0]) {
        detail_next_file("", G.detail_file, sizeof G.detail_file);
        if (!G.detail_file[0])
            return;
        G.detail_ino = 0;
        G.detail_acked = G.detail_read = 0;
    }
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", G.cfg.collect_detail_dir, G.detail_file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        if (fd >= 0)
            close(fd);
        /* Gone (rotated away and removed): go on with the next one. */
        char next[512];
        detail_next_file(G.detail_file, next, sizeof next);
        if (next[0] && G.detail_seq_acked == G.detail_seq_next) {
            snprintf(G.detail_file, sizeof G.detail_file, "%s", next);
            G.detail_ino = 0;
            G.detail_acked = G.detail_read = 0;
            G.detail_buf.len = 0;
        }
        return;
    }
    int replaced = (G.detail_ino && G.detail_ino != (unsigned long long)st.st_ino) ||
                   st.st_size < G.detail_read;
    if (replaced && G.detail_seq_acked != G.detail_seq_next) {
        close(fd); /* records of the old file still in flight: their acks come first */
        return;
    }
    if (G.detail_ino && G.detail_ino != (unsigned long long)st.st_ino) {
        /* Replaced under the same name: a new file, from its start. */
        log_info("detail: %s was replaced; reading the new file from its start", G.detail_file);
        G.detail_acked = G.detail_read = 0;
        G.detail_buf.len = 0;
    }
    G.detail_ino = (unsigned long long)st.st_ino;
    if (st.st_size < G.detail_read) {
        log_warn("detail: %s shrank below the position; reading it from its start", G.detail_file);
        G.detail_acked = G.detail_read = 0;
        G.detail_buf.len = 0;
    }
    char next[512];
    detail_next_file(G.detail_file, next, sizeof next);
    /* Read from the end of what the buffer holds (detail_read marks the records produced). */
    long long from = G.detail_read + (long long)G.detail_buf.len;
    if (st.st_size > from) {
        size_t want = (size_t)(st.st_size - from);
        if (want > 4 << 20)
            want = 4 << 20;
        buf_reserve(&G.detail_buf, want);
        ssize_t r = pread(fd, G.detail_buf.p + G.detail_buf.len, want, from);
        if (r > 0)
            G.detail_buf.len += (size_t)r;
    }
    close(fd);
    /* A rotated file (a newer one exists) is complete: its last record ends at EOF. */
    int at_eof = next[0] && from + 0 >= st.st_size;
    size_t used = 0;
    detail_split_span sp;
    while (used < G.detail_buf.len && !G.paused) {
        int got = detail_split_next(G.detail_buf.p + used, G.detail_buf.len - used, at_eof, &sp);
        if (got) {
            inflight *f = mem_zalloc(sizeof *f);
            f->kind = REC_DETAIL;
            f->detail_end = G.detail_read + (long long)(used + sp.next);
            if (G.detail_seq_next - G.detail_seq_acked >= G.detail_ring) {
                free(f);
                break; /* the ring is full: wait for acknowledgements */
            }
            f->detail_seq = G.detail_seq_next;
            /* A run with no record shape (a crash's NUL tail) can be megabytes:
             * send its start, which spoor-ingest quarantines as too_long,
             * rather than a message Kafka refuses for ever. */
            size_t n = sp.len > SYSLOG_MAX_MSG + 1 ? SYSLOG_MAX_MSG + 1 : sp.len;
            if (produce(G.t_radius, G.cfg.collect_detail_dir, G.detail_buf.p + used + sp.off, n,
                        f) < 0)
                break;
            G.detail_seq_next++;
            G.detail_records++;
        }
        if (sp.next == 0)
            break;
        used += sp.next;
    }
    if (used) {
        memmove(G.detail_buf.p, G.detail_buf.p + used, G.detail_buf.len - used);
        G.detail_buf.len -= used;
        G.detail_read += (long long)used;
    }
    /* Done with a rotated file once everything in it is produced and acknowledged. */
    if (next[0] && G.detail_buf.len == 0 && G.detail_read >= st.st_size &&
        G.detail_seq_acked == G.detail_seq_next) {
        log_info("detail: %s finished; following %s", G.detail_file, next);
        snprintf(G.detail_file, sizeof G.detail_file, "%s", next);
        G.detail_ino = 0;
        G.detail_acked = G.detail_read = 0;
        detail_save();
    }
}

/* ---- Kafka
 * --------------------------------------------------------------------------------------- */

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    inflight *f = m->_private;
    if (!f)
        return;
    G.inflight_bytes -= f->bytes;
    G.inflight_n--;
    if (m->err) {
        /* message.timeout.ms = 0: only a permanent error gets here. */
        G.produce_failed++;
        log_error("kafka: record not stored: %s", rd_kafka_err2str(m->err));
        if (f->kind == REC_DETAIL)
            detail_ack(f); /* counted and logged as lost; the follower must not stall */
        if (f->kind == REC_RADIUS && f->d) {
            /* Forget it, so the NAS's retransmission is produced again. */
            unsigned hb = dedup_hash((struct sockaddr *)&f->d->peer, f->d->id, f->d->auth);
            for (dedup **pp = &G.buckets[hb]; *pp; pp = &(*pp)->next)
                if (*pp == f->d) {
                    *pp = f->d->next;
                    free(f->d);
                    break;
                }
        }
    } else {
        G.acks++;
        if (f->kind == REC_RADIUS && f->d) {
            f->d->acked = 1;
            f->d->seen = timeutil_now();
            /* Stored: from now on the same packet is a replay, also after a restart. */
            if (G.replay && radius_replay_add(G.replay, (struct sockaddr *)&f->d->peer, f->d->auth,
                                              f->d->seen) < 0)
                log_error("radius: cannot record a request against replays: %s", strerror(errno));
            send_response(f->d);
            G.radius_ok++;
        } else if (f->kind == REC_DETAIL)
            detail_ack(f);
    }
    free(f);
    update_pause();
}

/* A fatal producer error (e.g. the idempotent producer's sequence broken)
 * makes every later produce fail: stop, so the service manager restarts a
 * clean producer, instead of running on and dropping input. */
static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    (void)opaque;
    if (err != RD_KAFKA_RESP_ERR__FATAL) {
        warn_limited("kafka: %s", reason);
        return;
    }
    char why[512];
    rd_kafka_fatal_error(rk, why, sizeof why);
    log_error("kafka: fatal producer error: %s; stopping", why);
    G.fatal = 1;
    if (!G.stopping) {
        G.stopping = 1;
        uv_stop(G.loop);
    }
}

static void kpoll_cb(uv_poll_t *h, int status, int events) {
    (void)h;
    (void)status;
    (void)events;
    char drain[256];
    while (read(G.pipe_fd[0], drain, sizeof drain) > 0)
        ;
    rd_kafka_poll(G.rk, 0);
}

static void print_stats(void) {
    log_info("radius: %lld answered, %lld retransmissions, %lld replayed, %lld stale, %lld "
             "without Event-Timestamp, %lld unknown NAS, %lld bad "
             "authenticator, %lld malformed, %lld unanswered (buffer full); syslog: %lld "
             "messages, %lld UDP dropped (buffer full), %lld truncated, %lld from refused peers, "
             "%lld naming a host their peer may not, %lld TLS handshakes refused; detail: %lld "
             "records; ipfix: %lld messages, %lld NAT records, %lld invalid, %lld without a "
             "template, %lld lost by sequence, %lld from refused exporters, %lld dropped (buffer "
             "full); "
             "kafka: %lld acknowledged, %lld failed, %ld in flight",
             G.radius_ok, G.radius_dup, G.radius_replayed, G.radius_stale, G.radius_no_event_ts,
             G.radius_unknown_nas, G.radius_bad_auth, G.radius_malformed, G.radius_backpressure,
             G.syslog_msgs, G.syslog_udp_dropped, G.syslog_truncated, G.syslog_peer_refused,
             G.syslog_host_refused, G.tls_refused, G.detail_records,
             G.ipfix ? ipfix_state_stats(G.ipfix)->messages : 0,
             G.ipfix ? ipfix_state_stats(G.ipfix)->nat_records : 0,
             G.ipfix ? ipfix_state_stats(G.ipfix)->invalid : 0,
             G.ipfix ? ipfix_state_stats(G.ipfix)->no_template : 0,
             G.ipfix ? ipfix_state_stats(G.ipfix)->lost : 0, G.ipfix_refused, G.ipfix_dropped,
             G.acks, G.produce_failed, G.inflight_n);
}

static void tick_cb(uv_timer_t *t) {
    (void)t;
    static int n;
    rd_kafka_poll(G.rk, 0);
    detail_poll();
    if (++n % 20 == 0) {
        dedup_expire();
        detail_save();
        if (G.replay)
            radius_replay_sync(G.replay);
    }
    if (n % 1200 == 0)
        print_stats();
}

static void walk_close_cb(uv_handle_t *h, void *arg) {
    (void)arg;
    if (!uv_is_closing(h) && h->type == UV_TCP && h->data) {
        tcp_conn *c = h->data;
        syslog_frame_finish(&c->fr, frame_cb, c);
        conn_close(c);
    } else if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void signal_cb(uv_signal_t *s, int sig) {
    (void)s;
    if (G.stopping)
        return; /* already flushing */
    log_info("signal %d: stopping; waiting for Kafka to acknowledge %ld records", sig,
             G.inflight_n);
    G.stopping = 1;
    /* Stop taking input, but answer what Kafka acknowledges while flushing. */
    if (G.have_tls)
        uv_close((uv_handle_t *)&G.syslog_tls, NULL);
    if (G.have_nat) {
        uv_close((uv_handle_t *)&G.nat_tcp, NULL);
        uv_close((uv_handle_t *)&G.nat_udp, NULL);
    }
    if (G.have_ipfix)
        uv_close((uv_handle_t *)&G.ipfix_udp, NULL);
    if (G.have_syslog || G.have_nat || G.have_tls) {
        if (G.have_syslog) {
            uv_close((uv_handle_t *)&G.syslog_tcp, NULL);
            uv_close((uv_handle_t *)&G.syslog_udp, NULL);
        }
        for (tcp_conn *c = G.conns; c;) {
            tcp_conn *n = c->next;
            syslog_frame_finish(&c->fr, frame_cb, c);
            conn_close(c);
            c = n;
        }
    }
    uv_stop(G.loop);
}

/* ---- start
 * ---------------------------------------------------------------------------------------- */

static int parse_listen(const char *spec, struct sockaddr_storage *ss, error *err) {
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof host) {
        error_set(err, "bad_address", 0, "'%s' is not ADDRESS:PORT", spec);
        return -1;
    }
    snprintf(host, sizeof host, "%.*s", (int)(colon - spec), spec);
    char *h = host;
    if (h[0] == '[' && h[strlen(h) - 1] == ']') {
        h[strlen(h) - 1] = '\0';
        h++;
    }
    int port = atoi(colon + 1);
    if (port <= 0 || port > 65535 ||
        (uv_ip4_addr(h, port, (struct sockaddr_in *)ss) != 0 &&
         uv_ip6_addr(h, port, (struct sockaddr_in6 *)ss) != 0)) {
        error_set(err, "bad_address", 0, "'%s' is not ADDRESS:PORT", spec);
        return -1;
    }
    return 0;
}

static rd_kafka_t *make_producer(error *err) {
    char e[1024]; /* librdkafka's message */
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char kb[32];
    /* librdkafka's own queue must never refuse before our bound does. */
    snprintf(kb, sizeof kb, "%lld", G.cfg.collect_max_buffer / 1024 * 2 + 1024);
    const char *kv[][2] = {
        {"bootstrap.servers", G.cfg.kafka_brokers},
        {"client.id", "spoor-collect"},
        {"enable.idempotence", "true"}, /* no duplicates from librdkafka's own retries */
        {"acks", "all"},
        {"message.timeout.ms", "0"}, /* retry for ever: never give a record up */
        {"linger.ms", "5"},
        {"queue.buffering.max.kbytes", kb},
        {"queue.buffering.max.messages", "10000000"},
        {"compression.codec", "zstd"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], e, sizeof e) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            error_set(err, "kafka", 0, "%s", e);
            return NULL;
        }
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
    if (!rk)
        error_set(err, "kafka", 0, "%s", e);
    return rk;
}

int main(int argc, char **argv) {
    const char *config_path = NULL;
    int print_config = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            config_path = argv[++i];
        else if (!strcmp(argv[i], "--print-config"))
            print_config = 1;
        else {
            fprintf(stderr, "usage: spoor-collect [--config FILE] [--print-config]\n");
            return 2;
        }
    }
    error cerr;
    if (config_load(&G.cfg, config_path, &cerr) < 0)
        log_fatal("%s", cerr.msg);
    error err;
    if (print_config) {
        config_print(&G.cfg, stdout);
        config_free(&G.cfg);
        return 0;
    }
    log_init("spoor-collect", *G.cfg.log_file ? G.cfg.log_file : NULL);
    enum log_level lvl;
    if (log_parse_level(G.cfg.log_level, &lvl) < 0)
        log_fatal("log.level: '%s' is not error, warn, info or debug", G.cfg.log_level);
    log_set_level(lvl);
    G.have_radius = *G.cfg.collect_radius_listen != '\0';
    G.have_syslog = *G.cfg.collect_syslog_listen != '\0';
    G.have_nat = *G.cfg.collect_nat_listen != '\0';
    G.have_ipfix = *G.cfg.collect_ipfix_listen != '\0';
    G.have_tls = *G.cfg.collect_syslog_tls_listen != '\0';
    G.have_detail = *G.cfg.collect_detail_dir != '\0';
    if (!G.have_radius && !G.have_syslog && !G.have_detail && !G.have_tls && !G.have_nat &&
        !G.have_ipfix)
        log_fatal("nothing to collect: set collect.radius_listen, collect.syslog_listen, "
                  "collect.nat_listen, collect.ipfix_listen or collect.detail_dir");
    if (G.have_ipfix) {
        if (ipfix_exporters_parse(G.cfg.collect_ipfix_exporters, &G.exporters, &G.n_exporters,
                                  &err) < 0)
            log_fatal("collect.ipfix_exporters: %s", err.msg);
        if (G.n_exporters == 0)
            log_fatal("collect.ipfix_listen is set but collect.ipfix_exporters names no exporter: "
                      "ADDRESS=CGN_NAME:iana|junos,...");
        G.ipfix = ipfix_state_new();
    }
    if (G.have_radius && load_clients(G.cfg.collect_radius_clients, &err) < 0)
        log_fatal("%s", err.msg);
    if (G.have_radius && G.n_clients == 0)
        log_fatal("collect.radius_listen is set but collect.radius_clients names no NAS");
    if ((G.have_syslog || G.have_tls || G.have_nat) &&
        syslog_sources_parse(G.cfg.collect_syslog_sources, &G.sources, &err) < 0)
        log_fatal("%s", err.msg);
    if ((G.have_syslog || G.have_tls || G.have_nat) && G.sources.n == 0)
        log_fatal("collect.syslog_listen is set but collect.syslog_sources names no peer: list the "
                  "MTAs that may send, ADDRESS[/BITS]=HOST|HOST,... (or =* for any host name)");
    if (G.have_radius && G.cfg.collect_radius_max_skew >= G.cfg.collect_radius_replay_keep)
        /* A replay older than the keep is caught only by the skew check. */
        log_fatal("collect.radius_max_skew (%lld s) must be shorter than "
                  "collect.radius_replay_keep (%lld s), or old replays would pass both checks",
                  G.cfg.collect_radius_max_skew, G.cfg.collect_radius_replay_keep);
    if (G.have_radius) {
        /* What was acknowledged before a restart is still a replay after it. */
        char rp[4200];
        snprintf(rp, sizeof rp, "%s/radius-seen", G.cfg.collect_state_dir);
        G.replay = radius_replay_open(rp, G.cfg.collect_radius_replay_keep * 1000000LL,
                                      timeutil_now(), &err);
        if (!G.replay)
            log_fatal("radius replay record: %s (collect.state_dir must be writable)", err.msg);
        log_info("radius: %zu requests of the last %lld s remembered against replays",
                 radius_replay_count(G.replay), G.cfg.collect_radius_replay_keep);
    }
    G.rk = make_producer(&err);
    if (!G.rk)
        log_fatal("kafka: %s", err.msg);
    G.t_radius = rd_kafka_topic_new(G.rk, G.cfg.kafka_topic_radius, NULL);
    G.t_smtp = rd_kafka_topic_new(G.rk, G.cfg.kafka_topic_smtp, NULL);
    if ((G.have_nat || G.have_ipfix) && !*G.cfg.kafka_topic_nat)
        log_fatal("collect.nat_listen or collect.ipfix_listen is set but kafka.topic.nat is empty");
    G.t_nat =
        G.have_nat || G.have_ipfix ? rd_kafka_topic_new(G.rk, G.cfg.kafka_topic_nat, NULL) : NULL;
    G.loop = uv_default_loop();
    /* Delivery reports wake the loop through a pipe (librdkafka's queue IO event). */
    if (pipe2(G.pipe_fd, O_NONBLOCK | O_CLOEXEC) < 0)
        log_fatal("pipe: %s", strerror(errno));
    rd_kafka_queue_t *mq = rd_kafka_queue_get_main(G.rk);
    rd_kafka_queue_io_event_enable(mq, G.pipe_fd[1], "1", 1);
    rd_kafka_queue_destroy(mq);
    uv_poll_init(G.loop, &G.kpoll, G.pipe_fd[0]);
    uv_poll_start(&G.kpoll, UV_READABLE, kpoll_cb);
    struct sockaddr_storage ss;
    if (G.have_radius) {
        if (parse_listen(G.cfg.collect_radius_listen, &ss, &err) < 0)
            log_fatal("collect.radius_listen: %s", err.msg);
        uv_udp_init(G.loop, &G.radius_udp);
        int rc = uv_udp_bind(&G.radius_udp, (struct sockaddr *)&ss, 0);
        if (rc < 0)
            log_fatal("radius: bind %s: %s", G.cfg.collect_radius_listen, uv_strerror(rc));
        uv_udp_recv_start(&G.radius_udp, alloc_cb, radius_recv_cb);
        log_info("radius accounting on udp %s, %d NAS clients", G.cfg.collect_radius_listen,
                 G.n_clients);
    }
    if (G.have_tls) {
        if (!*G.cfg.collect_tls_cert_file || !*G.cfg.collect_tls_key_file ||
            !*G.cfg.collect_tls_client_ca_file)
            log_fatal("collect.syslog_tls_listen needs collect.tls_cert_file, collect.tls_key_file "
                      "and collect.tls_client_ca_file (senders must present a certificate)");
        G.tls_ctx = tls_ctx_server(G.cfg.collect_tls_cert_file, G.cfg.collect_tls_key_file,
                                   G.cfg.collect_tls_client_ca_file, &err);
        if (!G.tls_ctx)
            log_fatal("syslog over TLS: %s", err.msg);
        if (parse_listen(G.cfg.collect_syslog_tls_listen, &ss, &err) < 0)
            log_fatal("collect.syslog_tls_listen: %s", err.msg);
        uv_tcp_init(G.loop, &G.syslog_tls);
        int rc = uv_tcp_bind(&G.syslog_tls, (struct sockaddr *)&ss, 0);
        if (rc == 0)
            rc = uv_listen((uv_stream_t *)&G.syslog_tls, 128, accept_cb);
        if (rc < 0)
            log_fatal("syslog over TLS: listen %s: %s", G.cfg.collect_syslog_tls_listen,
                      uv_strerror(rc));
        log_info("syslog over TLS on tcp %s (client certificates from %s)",
                 G.cfg.collect_syslog_tls_listen, G.cfg.collect_tls_client_ca_file);
    }
    if (G.have_syslog) {
        if (parse_listen(G.cfg.collect_syslog_listen, &ss, &err) < 0)
            log_fatal("collect.syslog_listen: %s", err.msg);
        uv_tcp_init(G.loop, &G.syslog_tcp);
        int rc = uv_tcp_bind(&G.syslog_tcp, (struct sockaddr *)&ss, 0);
        if (rc == 0)
            rc = uv_listen((uv_stream_t *)&G.syslog_tcp, 128, accept_cb);
        if (rc < 0)
            log_fatal("syslog: listen tcp %s: %s", G.cfg.collect_syslog_listen, uv_strerror(rc));
        uv_udp_init(G.loop, &G.syslog_udp);
        rc = uv_udp_bind(&G.syslog_udp, (struct sockaddr *)&ss, 0);
        if (rc < 0)
            log_fatal("syslog: bind udp %s: %s", G.cfg.collect_syslog_listen, uv_strerror(rc));
        uv_udp_recv_start(&G.syslog_udp, alloc_cb, syslog_udp_cb);
        log_info("syslog on tcp and udp %s", G.cfg.collect_syslog_listen);
    }
    if (G.have_nat) {
        /* The CGNs' syslog: the same framing and the same peer list, its
         * lines to kafka.topic.nat. */
        struct sockaddr_storage ns;
        if (parse_listen(G.cfg.collect_nat_listen, &ns, &err) < 0)
            log_fatal("collect.nat_listen: %s", err.msg);
        uv_tcp_init(G.loop, &G.nat_tcp);
        int rc = uv_tcp_bind(&G.nat_tcp, (struct sockaddr *)&ns, 0);
        if (rc == 0)
            rc = uv_listen((uv_stream_t *)&G.nat_tcp, 128, accept_cb);
        if (rc != 0)
            log_fatal("nat: listen tcp %s: %s", G.cfg.collect_nat_listen, uv_strerror(rc));
        uv_udp_init(G.loop, &G.nat_udp);
        rc = uv_udp_bind(&G.nat_udp, (struct sockaddr *)&ns, 0);
        if (rc != 0)
            log_fatal("nat: bind udp %s: %s", G.cfg.collect_nat_listen, uv_strerror(rc));
        uv_udp_recv_start(&G.nat_udp, alloc_cb, syslog_udp_cb);
        log_info("CGN syslog on tcp and udp %s, to %s", G.cfg.collect_nat_listen,
                 G.cfg.kafka_topic_nat);
    }
    if (G.have_ipfix) {
        struct sockaddr_storage is;
        if (parse_listen(G.cfg.collect_ipfix_listen, &is, &err) < 0)
            log_fatal("collect.ipfix_listen: %s", err.msg);
        uv_udp_init(G.loop, &G.ipfix_udp);
        int rc = uv_udp_bind(&G.ipfix_udp, (struct sockaddr *)&is, 0);
        if (rc != 0)
            log_fatal("ipfix: bind udp %s: %s", G.cfg.collect_ipfix_listen, uv_strerror(rc));
        /* A CGN sends bursts: a receive buffer that holds them while the
         * loop is busy (the kernel caps it at net.core.rmem_max). */
        int rcv = 4 << 20;
        uv_recv_buffer_size((uv_handle_t *)&G.ipfix_udp, &rcv);
        uv_udp_recv_start(&G.ipfix_udp, alloc_cb, ipfix_udp_cb);
        log_info("CGN IPFIX / NetFlow v9 on udp %s from %d exporter%s, to %s",
                 G.cfg.collect_ipfix_listen, G.n_exporters, G.n_exporters == 1 ? "" : "s",
                 G.cfg.kafka_topic_nat);
    }
    if (G.have_detail) {
        if (mkdir(G.cfg.collect_state_dir, 0700) < 0 && errno != EEXIST)
            log_fatal("collect.state_dir %s: %s", G.cfg.collect_state_dir, strerror(errno));
        G.detail_ring = 65536;
        G.detail_ends = mem_zalloc(G.detail_ring * sizeof *G.detail_ends);
        G.detail_done = mem_zalloc(G.detail_ring);
        buf_init(&G.detail_buf);
        detail_load();
        log_info("following detail files in %s (from %s at %lld)", G.cfg.collect_detail_dir,
                 G.detail_file[0] ? G.detail_file : "the first", G.detail_acked);
    }
    uv_timer_init(G.loop, &G.tick);
    uv_timer_start(&G.tick, tick_cb, 50, 50);
    uv_signal_init(G.loop, &G.sigterm);
    uv_signal_start(&G.sigterm, signal_cb, SIGTERM);
    uv_signal_init(G.loop, &G.sigint);
    uv_signal_start(&G.sigint, signal_cb, SIGINT);
    uv_run(G.loop, UV_RUN_DEFAULT);

    /* Stopping: flush, answering NASes as their records are acknowledged. */
    for (int i = 0; i < 600 && rd_kafka_outq_len(G.rk) > 0; i++) {
        rd_kafka_flush(G.rk, 100);
        uv_run(G.loop, UV_RUN_NOWAIT);
    }
    rd_kafka_poll(G.rk, 0);
    int lost = rd_kafka_outq_len(G.rk);
    if (lost)
        log_error("stopping with %d records not acknowledged by Kafka (their senders will "
                  "retransmit; detail positions stay before them)",
                  lost);
    detail_save();
    print_stats();
    uv_walk(G.loop, walk_close_cb, NULL);
    uv_run(G.loop, UV_RUN_DEFAULT);
    uv_loop_close(G.loop);
    rd_kafka_topic_destroy(G.t_radius);
    rd_kafka_topic_destroy(G.t_smtp);
    if (G.t_nat)
        rd_kafka_topic_destroy(G.t_nat);
    rd_kafka_destroy(G.rk);
    radius_replay_free(G.replay);
    SSL_CTX_free(G.tls_ctx);
    close(G.pipe_fd[0]);
    close(G.pipe_fd[1]);
    for (int b = 0; b < DEDUP_BUCKETS; b++)
        while (G.buckets[b]) {
            dedup *d = G.buckets[b];
            G.buckets[b] = d->next;
            free(d);
        }
    free(G.detail_ends);
    free(G.detail_done);
    ipfix_state_free(G.ipfix);
    free(G.exporters);
    buf_close(&G.detail_buf);
    config_free(&G.cfg);
    return lost || G.fatal ? 1 : 0;
}
