#include "batch.h"
#include "arena.h"
#include "buf.h"
#include "evidence.h"
#include "exim.h"
#include "mem.h"
#include "pgarray.h"
#include "pgcopy.h"
#include "postfix.h"
#include "radius_detail.h"
#include "syslog.h"
#include "timeutil.h"

#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
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
    size_t cap_inputs;
    ZSTD_CCtx *cctx;
    /* The newest trained dictionary per kind (0 smtp, 1 radius), loaded at
     * the first commit and again after batch_reload_dicts. */
    ZSTD_CDict *cdict[2];
    int dict_id[2];
    int dicts_loaded;
    /* First UTC day still kept per kind (0 smtp, 1 radius), from the
     * retention policy; INT64_MIN until known.  Survives batch_reset. */
    int64_t horizon[2];
    buf copy;
};

#define GROW(arr, n, cap)                                                                          \
    do {                                                                                           \
        if ((n) == (cap)) {                                                                        \
            (cap) = (cap) ? (cap)*2 : 64;                                                          \
            (arr) = mem_realloc((arr), sizeof *(arr) * (size_t)(cap));                             \
        }                                                                                          \
    } while (0)

static int parse_zones(batch *b, const char *spec, error *err) {
    if (!spec || !*spec)
        return 0;
    char *copy = mem_strdup(spec), *save = NULL;
    for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok || !timeutil_zone_valid(eq + 1)) {
            error_set(err, "bad_config", 0,
                      "ingest.host_zones: '%s' is not host=Zone with a known zone", tok);
            free(copy);
            return -1;
        }
        *eq = '\0';
        b->zones = mem_realloc(b->zones, sizeof *b->zones * (size_t)(b->n_zones + 1));
        b->zones[b->n_zones].host = mem_strdup(tok);
        b->zones[b->n_zones].zone = mem_strdup(eq + 1);
        b->n_zones++;
    }
    free(copy);
    return 0;
}

static const char *zone_for_host_cb(void *arg, const char *host, size_t len) {
    const batch *b = arg;
    for (int i = 0; i < b->n_zones; i++)
        if (strlen(b->zones[i].host) == len && strncasecmp(b->zones[i].host, host, len) == 0)
            return b->zones[i].zone;
    return NULL;
}

batch *batch_new(const batch_opts *opts, error *err) {
    batch *b = mem_zalloc(sizeof *b);
    b->opts = *opts;
    b->default_zone =
        mem_strdup(opts->default_zone && *opts->default_zone ? opts->default_zone : "UTC");
    b->opts.default_zone = b->default_zone;
    b->opts.host_zones = NULL;
    if (!timeutil_zone_valid(b->default_zone)) {
        error_set(err, "bad_config", 0, "ingest.default_zone: unknown zone '%s'", b->default_zone);
        batch_free(b);
        return NULL;
    }
    if (parse_zones(b, opts->host_zones, err) < 0) {
        batch_free(b);
        return NULL;
    }
    arena_init(&b->mem, 1 << 20);
    b->horizon[0] = b->horizon[1] = INT64_MIN;
    b->cctx = ZSTD_createCCtx();
    buf_init(&b->copy);
    return b;
}

void batch_reset(batch *b) {
    for (int i = 0; i < b->n_blocks; i++)
        evidence_block_close(&b->blocks[i]);
    for (int i = 0; i < b->n_src; i++)
        free(b->src[i].source);
    b->n_blocks = b->n_src = 0;
    b->n_runs = 0;
    b->n_smtp = b->n_radius = b->n_quar = 0;
    b->n_reasons = 0;
    b->n_records = 0;
    memset(&b->counts, 0, sizeof b->counts);
    arena_reset(&b->mem);
    buf_reset(&b->copy);
}

void batch_free(batch *b) {
    if (!b)
        return;
    batch_reset(b);
    arena_close(&b->mem);
    free(b->inputs);
    free(b->smtp);
    free(b->radius);
    free(b->quar);
    free(b->src);
    free(b->blocks);
    free(b->runs);
    for (int i = 0; i < b->n_zones; i++) {
        free(b->zones[i].host);
        free(b->zones[i].zone);
    }
    free(b->zones);
    free(b->default_zone);
    if (b->cctx)
        ZSTD_freeCCtx(b->cctx);
    for (int i = 0; i < 2; i++)
        ZSTD_freeCDict(b->cdict[i]);
    buf_close(&b->copy);
    free(b);
}

const batch_counts *batch_get_counts(const batch *b) {
    return &b->counts;
}
size_t batch_size(const batch *b) {
    return b->n_records;
}
int batch_sources(const batch *b) {
    return b->n_src;
}

void batch_source(const batch *b, int i, const char **source, int *part, int64_t *first,
                  int64_t *next) {
    *source = b->src[i].source;
    *part = b->src[i].part;
    *first = b->src[i].first;
    *next = b->src[i].next;
}

void batch_each_reason(const batch *b, void (*fn)(void *arg, const char *reason, long n),
                       void *arg) {
    for (int i = 0; i < b->n_reasons; i++)
        fn(arg, b->reasons[i].reason, b->reasons[i].n);
}

static int source_index(batch *b, const batch_input *in) {
    for (int i = b->n_src - 1; i >= 0; i--)
        if (b->src[i].part == in->part && strcmp(b->src[i].source, in->source) == 0)
            return i;
    GROW(b->src, b->n_src, b->cap_src);
    source_state *s = &b->src[b->n_src];
    memset(s, 0, sizeof *s);
    s->source = mem_strdup(in->source);
    s->part = in->part;
    s->first = in->pos;
    s->next = in->pos;
    return b->n_src++;
}

/* The open evidence block for (kind, day), or a new one once it is full. */
/* Blocks are per kind, UTC day and source partition, so a block names the
 * one source its lines came from and events need not repeat it. */
static int block_for(batch *b, const char *kind, int64_t day, int src) {
    for (int i = b->n_blocks - 1; i >= 0; i--) {
        evidence_block *e = &b->blocks[i];
        if (e->day == day && e->kind == kind && e->src == src) {
            if (e->frame.len < b->opts.block_bytes)
                return i;
            break;
        }
    }
    GROW(b->blocks, b->n_blocks, b->cap_blocks);
    evidence_block_init(&b->blocks[b->n_blocks], kind, day);
    b->blocks[b->n_blocks].src = src;
    return b->n_blocks++;
}

/* Adds IN's line to block BLK and notes the peer it came from when it
 * differs from the previous line's in that block. */
static int block_add(batch *b, int blk, const batch_input *in) {
    evidence_block *e = &b->blocks[blk];
    int idx = evidence_block_add(e, in->data, in->len, in->pos);
    const char *peer = in->peer && *in->peer ? in->peer : NULL;
    if (peer ? !e->peer || strcmp(e->peer, peer) : e->peer != NULL) {
        e->peer = peer ? arena_strdup(&b->mem, peer) : NULL;
        GROW(b->runs, b->n_runs, b->cap_runs);
        b->runs[b->n_runs++] = (peer_run){blk, idx, e->peer};
    }
    return idx;
}

static int64_t day_of(int64_t us) {
    int64_t d = us / DAY_US;
    if (us < 0 && us % DAY_US)
        d--;
    return d;
}

static void count_reason(batch *b, const char *reason) {
    for (int i = 0; i < b->n_reasons; i++)
        if (strcmp(b->reasons[i].reason, reason) == 0) {
            b->reasons[i].n++;
            return;
        }
    if (b->n_reasons < (int)(sizeof b->reasons / sizeof b->reasons[0])) {
        b->reasons[b->n_reasons].reason = arena_strdup(&b->mem, reason);
        b->reasons[b->n_reasons++].n = 1;
    }
}

static void quarantine(batch *b, const batch_input *in, int src, const char *kind,
                       const char *reason, const char *detail) {
    int64_t received = in->ref_us > 0 ? in->ref_us : timeutil_now();
    /* Filed under the day it is stored (its partition exists, whatever the
     * age of an imported file); "received" keeps the source's own time. */
    int blk = block_for(b, kind, day_of(timeutil_now()), src);
    GROW(b->quar, b->n_quar, b->cap_quar);
    quar_row *q = &b->quar[b->n_quar++];
    q->received = received;
    q->reason = arena_strdup(&b->mem, reason);
    q->detail = detail ? arena_strdup(&b->mem, detail) : NULL;
    q->src = src;
    q->pos = in->pos;
    q->block = blk;
    q->idx = block_add(b, blk, in);
    b->src[src].quarantined++;
    b->counts.quarantined++;
    count_reason(b, reason);
}

static void day_text(int64_t day, char *out, size_t n);

/* A record of a day already past its retention is quarantined, never stored
 * (sql/functions/retention.sql): its partition is gone, or about to go. */
static int past_retention(batch *b, const batch_input *in, int src, int k, int64_t ts) {
    if (b->horizon[k] == INT64_MIN || ts == INT64_MIN || day_of(ts) >= b->horizon[k])
        return 0;
    char d[160], day[16], hz[16];
    day_text(day_of(ts), day, sizeof day);
    day_text(b->horizon[k], hz, sizeof hz);
    snprintf(d, sizeof d, "day %s is before the %s retention horizon %s", day,
             k ? "radius" : "smtp", hz);
    quarantine(b, in, src, k ? "radius" : "smtp", "past_retention", d);
    return 1;
}

static const char *sdup(batch *b, syslog_slice s) {
    return s.len ? arena_strndup(&b->mem, s.p, s.len) : NULL;
}

/* Valid UTF-8 and no NUL: what a text log line must be to be parsed. */
static const char *text_problem(const char *p, size_t len) {
    const unsigned char *s = (const unsigned char *)p;
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        if (c == 0)
            return "nul_byte";
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need = c >= 0xc2 && c <= 0xdf   ? 2
                      : c >= 0xe0 && c <= 0xef ? 3
                      : c >= 0xf0 && c <= 0xf4 ? 4
                                               : 0;
        if (!need || len - i < need)
            return "bad_utf8";
        for (size_t k = 1; k < need; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return "bad_utf8";
        if ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] > 0x9f) ||
            (c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] > 0x8f))
            return "bad_utf8";
        i += need;
    }
    return NULL;
}

static smtp_row *smtp_new(batch *b, int64_t ts, const char *host, int kind, int src,
                          const batch_input *in, int blk, int idx) {
    GROW(b->smtp, b->n_smtp, b->cap_smtp);
    smtp_row *r = &b->smtp[b->n_smtp++];
    memset(r, 0, sizeof *r);
    r->ts = ts;
    r->host = host;
    r->kind = kind;
    r->client_port = -1;
    r->size = -1;
    r->src = src;
    r->pos = in->pos;
    r->block = blk;
    r->idx = idx;
    b->counts.smtp_events++;
    return r;
}

static void add_postfix(batch *b, const postfix_record *p, int64_t ts, const char *host, int src,
                        const batch_input *in, int blk, int idx) {
    static const int kinds[] = {
        [POSTFIX_CLIENT] = 1,   [POSTFIX_MESSAGE_ID] = 2, [POSTFIX_QMGR_FROM] = 3,
        [POSTFIX_DELIVERY] = 4, [POSTFIX_REMOVED] = 5,    [POSTFIX_REJECT] = 6,
        [POSTFIX_BOUNCE] = 7};
    if (p->kind < POSTFIX_CLIENT || p->kind > POSTFIX_BOUNCE)
        return; /* other Postfix lines are kept as evidence only */
    smtp_row *r = smtp_new(b, ts, host, kinds[p->kind], src, in, blk, idx);
    r->queue_id = p->queue_id;
    switch (p->kind) {
    case POSTFIX_CLIENT:
        r->client_name = p->client_name;
        r->client_ip = p->client_ip;
        r->client_port = p->client_port;
        r->sasl_username = p->sasl_username;
        r->orig_queue_id = p->orig_queue_id;
        break;
    case POSTFIX_MESSAGE_ID:
        r->message_id = p->message_id_norm && *p->message_id_norm ? p->message_id_norm : NULL;
        break;
    case POSTFIX_QMGR_FROM:
        r->sender = p->from;
        r->size = p->size;
        break;
    case POSTFIX_DELIVERY:
        r->sender = p->from; /* only on qmgr's "status=expired" */
        r->recipient = p->to;
        r->relay = p->relay;
        r->status = p->status;
        r->next_queue_id = p->next_queue_id;
        break;
    case POSTFIX_REJECT:
        r->client_name = p->client_name;
        r->client_ip = p->client_ip;
        r->client_port = p->client_port;
        r->sender = p->from;
        r->recipient = p->to;
        r->status = p->action;
        break;
    case POSTFIX_BOUNCE:
        r->next_queue_id = p->next_queue_id;
        break;
    default:
        break;
    }
}

static void add_exim(batch *b, const exim_record *e, int64_t ts, const char *host, int src,
                     const batch_input *in, int blk, int idx) {
    int kind;
    switch (e->kind) {
    case EXIM_ARRIVAL:
        kind = 11;
        break;
    case EXIM_DELIVERY:
    case EXIM_ADDITIONAL:
    case EXIM_SUPPRESSED:
    case EXIM_BOUNCE:
    case EXIM_DEFER:
        kind = 12;
        break;
    case EXIM_COMPLETED:
        kind = 13;
        break;
    default:
        return;
    }
    smtp_row *r = smtp_new(b, ts, host, kind, src, in, blk, idx);
    r->queue_id = e->id;
    if (e->kind == EXIM_ARRIVAL) {
        r->message_id = e->message_id_norm && *e->message_id_norm ? e->message_id_norm : NULL;
        r->client_name = e->host_name;
        r->client_ip = e->host_ip;
        r->client_port = e->host_port;
        r->sasl_username = e->auth_id;
        r->sender = e->sender;
        r->recipient = e->recipients;
        r->size = e->size;
        r->status = e->flags & EXIM_F_FAKE_REJECT ? "fakereject" : NULL;
    } else if (kind == 12) {
        r->recipient = e->rcpt;
        r->relay = e->host_ip ? e->host_ip : e->transport;
        r->status = exim_kind_name(e->kind);
    }
}

static void add_smtp_line(batch *b, const batch_input *in, int src) {
    const char *problem = text_problem(in->data, in->len);
    if (problem) {
        quarantine(b, in, src, "smtp", problem, NULL);
        return;
    }
    const char *host;
    int64_t ts;
    const char *msg;
    size_t msglen;
    syslog_record sr;
    if (in->format == BATCH_SYSLOG) {
        syslog_ctx ctx = {in->ref_us, b->default_zone, zone_for_host_cb, b};
        error se;
        if (syslog_parse(in->data, in->len, &ctx, &sr, &se) < 0) {
            char d[sizeof se.msg + 32];
            snprintf(d, sizeof d, "byte %zu: %s", se.pos, se.msg);
            quarantine(b, in, src, "smtp", se.code, d);
            return;
        }
        if (sr.host.len == 0 && !in->host) {
            quarantine(b, in, src, "smtp", "no_host", "the line names no host");
            return;
        }
        host = sr.host.len ? sdup(b, sr.host) : arena_strdup(&b->mem, in->host);
        ts = sr.time_us;
        msg = sr.msg.p;
        msglen = sr.msg.len;
    } else {
        memset(&sr, 0, sizeof sr);
        if (!in->host) {
            quarantine(b, in, src, "smtp", "no_host", "bare Exim line without --host");
            return;
        }
        host = arena_strdup(&b->mem, in->host);
        ts = INT64_MIN;
        msg = in->data;
        msglen = in->len;
    }
    /* Postfix first (by its tag), then Exim (tag "exim*", or a bare mainlog line). */
    if (in->format == BATCH_SYSLOG) {
        postfix_record pr;
        error pe;
        int rc = postfix_parse(sr.app.p, sr.app.len, msg, msglen, &b->mem, &pr, &pe);
        if (rc < 0) {
            char d[sizeof pe.msg + 48];
            snprintf(d, sizeof d, "byte %zu of the message: %s", pe.pos, pe.msg);
            quarantine(b, in, src, "smtp", pe.code, d);
            return;
        }
        if (past_retention(b, in, src, 0, ts))
            return;
        if (pr.kind != POSTFIX_NOT_POSTFIX) {
            int blk = block_for(b, "smtp", day_of(ts), src);
            int idx = block_add(b, blk, in);
            add_postfix(b, &pr, ts, host, src, in, blk, idx);
            b->src[src].stored++;
            b->counts.stored++;
            return;
        }
        if (!(sr.app.len >= 4 && strncmp(sr.app.p, "exim", 4) == 0)) {
            /* Another program's line (amavis, dovecot, ...): evidence only. */
            int blk = block_for(b, "smtp", day_of(ts), src);
            block_add(b, blk, in);
            b->src[src].stored++;
            b->counts.stored++;
            return;
        }
    }
    exim_ctx ectx = {NULL, in->ref_us};
    const char *z = zone_for_host_cb(b, host, strlen(host));
    ectx.zone = z ? z : b->default_zone;
    exim_record er;
    error ee;
    if (exim_parse(msg, msglen, &ectx, &b->mem, &er, &ee) < 0) {
        char d[sizeof ee.msg + 32];
        snprintf(d, sizeof d, "byte %zu: %s", ee.pos, ee.msg);
        quarantine(b, in, src, "smtp", ee.code, d);
        return;
    }
    if (er.flags & EXIM_F_TIME)
        ts = er.time_us; /* the mainlog's own time beats the relay's */
    if (ts == INT64_MIN) {
        quarantine(b, in, src, "smtp", "no_timestamp", "Exim line without a time");
        return;
    }
    if (past_retention(b, in, src, 0, ts))
        return;
    int blk = block_for(b, "smtp", day_of(ts), src);
    int idx = block_add(b, blk, in);
    add_exim(b, &er, ts, host, src, in, blk, idx);
    b->src[src].stored++;
    b->counts.stored++;
}

static void add_radius(batch *b, const batch_input *in, int src) {
    GROW(b->radius, b->n_radius, b->cap_radius);
    radius_row *r = &b->radius[b->n_radius];
    error e;
    /* The RADIUS server's zone: named per host in ingest.host_zones under the
     * host the collector tags it with, else the default zone. */
    const char *z = in->host ? zone_for_host_cb(b, in->host, strlen(in->host)) : NULL;
    if (radius_detail_parse(in->data, in->len, z ? z : b->default_zone, &b->mem, &r->rec, &e) < 0) {
        char d[sizeof e.msg + 32];
        snprintf(d, sizeof d, "line %d: %s", e.line, e.msg);
        quarantine(b, in, src, "radius", e.code, d);
        return;
    }
    const radius_detail_rec *x = &r->rec;
    const char *nas = x->nas_ip_address          ? x->nas_ip_address
                      : x->nas_ipv6_address      ? x->nas_ipv6_address
                      : x->nas_identifier        ? x->nas_identifier
                      : x->packet_src_ip_address ? x->packet_src_ip_address
                                                 : x->client_ip_address;
    r->session_key =
        x->acct_session_id && nas ? arena_printf(&b->mem, "%s/%s", nas, x->acct_session_id) : NULL;
    r->framed_v6 = x->n_framed_ipv6_prefix ? x->framed_ipv6_prefix[0]
                   : x->framed_ipv6_address
                       ? arena_printf(&b->mem, "%s/128", x->framed_ipv6_address)
                       : NULL;
    r->delegated_v6 = x->n_delegated_ipv6_prefix ? x->delegated_ipv6_prefix[0] : NULL;
    r->src = src;
    r->pos = in->pos;
    if (past_retention(b, in, src, 1, x->event))
        return;
    r->block = block_for(b, "radius", day_of(x->event), src);
    r->idx = block_add(b, r->block, in);
    b->n_radius++;
    b->src[src].stored++;
    b->counts.stored++;
    b->counts.radius_events++;
}

static void add_one(batch *b, const batch_input *in, const char *force_reason,
                    const char *force_detail);

/* No lock: the parsers are pure (timeutil's zones are immutable once read),
 * so spoor-ingest fills one batch while its committer rebuilds another. */
void batch_add(batch *b, const batch_input *in) {
    add_one(b, in, NULL, NULL);
}

static void add_one(batch *b, const batch_input *in, const char *force_reason,
                    const char *force_detail) {
    GROW(b->inputs, b->n_records, b->cap_inputs);
    batch_input *keep = &b->inputs[b->n_records];
    *keep = *in;
    keep->source = arena_strdup(&b->mem, in->source);
    keep->data = arena_strndup(&b->mem, in->data, in->len);
    keep->host = in->host ? arena_strdup(&b->mem, in->host) : NULL;
    keep->refused = in->refused ? arena_strdup(&b->mem, in->refused) : NULL;
    keep->peer = in->peer ? arena_strdup(&b->mem, in->peer) : NULL;
    int src = source_index(b, in);
    source_state *s = &b->src[src];
    if (in->pos + 1 > s->next)
        s->next = in->pos + 1;
    s->consumed++;
    b->counts.consumed++;
    b->n_records++;
    const char *kind = in->format == BATCH_RADIUS ? "radius" : "smtp";
    if (force_reason) {
        quarantine(b, in, src, kind, force_reason, force_detail);
        return;
    }
    if (in->refused) { /* the collector's peer check: see batch_input */
        quarantine(b, in, src, kind, "host_not_allowed", in->refused);
        return;
    }
    if (in->len > b->opts.max_line) {
        char d[64];
        snprintf(d, sizeof d, "%zu bytes, limit %zu", in->len, b->opts.max_line);
        quarantine(b, in, src, kind, "too_long", d);
        return;
    }
    if (in->len == 0) {
        quarantine(b, in, src, kind, "empty", NULL);
        return;
    }
    if (in->format == BATCH_RADIUS)
        add_radius(b, in, src);
    else
        add_smtp_line(b, in, src);
}

/* ---- commit ---------------------------------------------------------------- */

/* The statement WHAT failed: ERR keeps PostgreSQL's SQLSTATE as its code
 * and names WHAT in its message. */
static int fail(PGconn *conn, PGresult *r, error *err, const char *what) {
    error e;
    int cls = pg_result_class(conn, r);
    if (cls == PG_OK)
        cls = PG_FATAL;
    pg_error(conn, r, &e);
    error_set(err, e.code, 0, "%s: %s", what, e.msg);
    PQclear(r);
    return cls;
}

static void day_text(int64_t day, char *out, size_t n) {
    int y, m, d;
    timeutil_civil_from_days(day, &y, &m, &d);
    snprintf(out, n, "%04d-%02d-%02d", y, m, d);
}

static void copy_opt_int(buf *c, long long v, long long absent) {
    if (v == absent)
        pgcopy_null(c);
    else
        pgcopy_int(c, v);
}

/* Rows are sent every COPY_CHUNK bytes while the rest are built, so that
 * PostgreSQL stores the first while we format the next. */
#define COPY_CHUNK (256 * 1024)
static void copy_flush(PGconn *conn, buf *c, int *ok) {
    if (c->len >= COPY_CHUNK && *ok && pgcopy_put(conn, c) < 0)
        *ok = 0;
}

static void copy_smtp(batch *b, buf *c, PGconn *conn, int *ok) {
    for (size_t i = 0; i < b->n_smtp; i++) {
        const smtp_row *r = &b->smtp[i];
        pgcopy_time(c, r->ts);
        pgcopy_str(c, r->host);
        pgcopy_int(c, r->kind);
        pgcopy_str(c, r->queue_id);
        pgcopy_str(c, r->message_id);
        pgcopy_str(c, r->client_name);
        pgcopy_str(c, r->client_ip);
        copy_opt_int(c, r->client_port, -1);
        pgcopy_str(c, r->sasl_username);
        pgcopy_str(c, r->sender);
        pgcopy_str(c, r->recipient);
        pgcopy_str(c, r->status);
        pgcopy_str(c, r->relay);
        pgcopy_str(c, r->next_queue_id);
        pgcopy_str(c, r->orig_queue_id);
        copy_opt_int(c, r->size, -1);
        pgcopy_int(c, r->pos);
        pgcopy_int(c, b->blocks[r->block].block_id);
        pgcopy_int(c, r->idx);
        pgcopy_end(c);
        copy_flush(conn, c, ok);
    }
}

static void copy_radius(batch *b, buf *c, PGconn *conn, int *ok) {
    for (size_t i = 0; i < b->n_radius; i++) {
        const radius_row *r = &b->radius[i];
        const radius_detail_rec *x = &r->rec;
        pgcopy_time(c, x->event);
        pgcopy_time(c, x->received);
        pgcopy_int(c, x->status);
        pgcopy_str(c, r->session_key);
        pgcopy_str(c, x->acct_session_id);

        pgcopy_str(c, x->user_name);
        pgcopy_str(c, x->calling_station_id);
        pgcopy_str(c, x->called_station_id);
        pgcopy_str(c, x->nas_ip_address ? x->nas_ip_address : x->nas_ipv6_address);
        pgcopy_str(c, x->nas_identifier);
        copy_opt_int(c, x->nas_port, RADIUS_DETAIL_ABSENT);
        pgcopy_str(c, x->nas_port_id);
        pgcopy_str(c, x->framed_ip_address);
        pgcopy_str(c, r->framed_v6);
        pgcopy_str(c, r->delegated_v6);
        copy_opt_int(c, x->session_time, RADIUS_DETAIL_ABSENT);

        pgcopy_str(c, x->terminate_cause);
        pgcopy_int(c, r->pos);
        pgcopy_int(c, b->blocks[r->block].block_id);
        pgcopy_int(c, r->idx);
        pgcopy_end(c);
        copy_flush(conn, c, ok);
    }
}

static void copy_quarantine(batch *b, buf *c) {
    for (size_t i = 0; i < b->n_quar; i++) {
        const quar_row *q = &b->quar[i];
        char day[16];
        day_text(b->blocks[q->block].day, day, sizeof day);
        pgcopy_str(c, day);
        pgcopy_time(c, q->received);
        pgcopy_str(c, b->src[q->src].source);
        pgcopy_int(c, b->src[q->src].part);
        pgcopy_int(c, q->pos);
        pgcopy_str(c, q->reason);
        pgcopy_str(c, q->detail);
        pgcopy_int(c, b->blocks[q->block].block_id);
        pgcopy_int(c, q->idx);
        pgcopy_end(c);
    }
}

/* Compresses block E (and hashes its frame) unless it is sealed already. */
static int seal_block(batch *b, evidence_block *e, error *err) {
    if (e->z_lines == e->n_lines)
        return 0;
    int k = strcmp(e->kind, "radius") == 0;
    evidence_sha256(e->frame.p, e->frame.len, e->sha);
    if (evidence_compress(b->cctx, b->cdict[k], b->opts.zstd_level, e->frame.p, e->frame.len, &e->z,
                          err) < 0)
        return -1;
    e->z_dict = b->cdict[k] ? b->dict_id[k] : -1;
    e->z_lines = e->n_lines;
    return 0;
}

int batch_seal(batch *b, error *err) {
    /* Before the first commit the dictionaries are not known yet: leave the
     * compression to batch_commit, which loads them. */
    if (!b->dicts_loaded)
        return 0;
    for (int i = 0; i < b->n_blocks; i++)
        if (seal_block(b, &b->blocks[i], err) < 0)
            return -1;
    return 0;
}

/* Source and part of a block: the source of its first line's record. Blocks
 * mix sources only when one batch reads several partitions; the block keeps
 * the first, and every record names its own source and position anyway. */
static void copy_blocks(batch *b, buf *c, PGconn *conn, int *ok) {
    for (int i = 0; i < b->n_blocks; i++) {
        evidence_block *e = &b->blocks[i];
        b->counts.raw_bytes += e->frame.len;
        b->counts.compressed_bytes += e->z.len;
        char day[16];
        day_text(e->day, day, sizeof day);
        pgcopy_str(c, day);
        pgcopy_int(c, e->block_id);
        pgcopy_str(c, e->kind);
        pgcopy_str(c, b->src[e->src].source);
        pgcopy_int(c, b->src[e->src].part);
        pgcopy_int(c, e->first_pos);
        pgcopy_int(c, e->last_pos);
        pgcopy_int(c, e->n_lines);
        pgcopy_int(c, (long long)e->frame.len);
        if (e->z_dict >= 0)
            pgcopy_int(c, e->z_dict);
        else
            pgcopy_null(c);
        pgcopy_bytea(c, e->sha, sizeof e->sha);
        pgcopy_bytea(c, e->z.p, e->z.len);
        pgcopy_end(c);
        copy_flush(conn, c, ok);
    }
}

/* Runs COPY_SQL with the rows FILL formats into C (empty before, and after:
 * pgcopy_finish empties it), streamed (copy_flush).  Returns 0, or -1 with
 * ERR and *CLS set. */
static int copy_rows(batch *b, PGconn *conn, buf *c, const char *copy_sql,
                     void (*fill)(batch *, buf *, PGconn *, int *), pg_class *cls, error *err) {
    if (pgcopy_begin(conn, copy_sql, cls, err) < 0)
        return -1;
    int ok = 1;
    fill(b, c, conn, &ok);
    return pgcopy_finish(conn, c, ok, cls, err);
}

void batch_reload_dicts(batch *b) {
    b->dicts_loaded = 0;
}

/* Loads the newest dictionary of each kind.  A failure here is not fatal:
 * blocks are then compressed without a dictionary (dict_id NULL). */
static void load_dicts(batch *b, PGconn *conn) {
    if (b->dicts_loaded)
        return;
    b->dicts_loaded = 1;
    PGresult *r =
        PQexecParams(conn,
                     "SELECT DISTINCT ON (kind) kind, dict_id, dict FROM spoor.evidence_dict "
                     "ORDER BY kind, dict_id DESC",
                     0, NULL, NULL, NULL, NULL, 1);
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        for (int i = 0; i < PQntuples(r); i++) {
            int k = strcmp(PQgetvalue(r, i, 0), "radius") == 0;
            const unsigned char *v = (const unsigned char *)PQgetvalue(r, i, 1);
            int id =
                (int)((uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3]);
            if (b->cdict[k] && b->dict_id[k] == id)
                continue;
            ZSTD_freeCDict(b->cdict[k]);
            b->cdict[k] = ZSTD_createCDict(PQgetvalue(r, i, 2), (size_t)PQgetlength(r, i, 2),
                                           b->opts.zstd_level);
            b->dict_id[k] = id;
        }
    }
    PQclear(r);
}

static int exec_ok(PGconn *conn, const char *sql, error *err) {
    PGresult *r = PQexec(conn, sql);
    if (pg_result_class(conn, r) != PG_OK)
        return fail(conn, r, err, sql);
    PQclear(r);
    return PG_OK;
}

/* ---- The lease index's input: the batch's RADIUS events, one row per session
 * and address (spoor.lease_merge_rows, migration 009).  Aggregated here, from
 * the very records the batch stores, so the server need not read them back:
 * that read and its GROUP BY were a third of the merge's time.  The server
 * groups once more by the address as inet (two spellings of one address), so
 * this only needs to be exact per spelling. */

typedef struct lease_agg {
    const char *key, *addr; /* session key, address as written */
    int kind;               /* 1 Framed-IP-Address, 2 Framed-IPv6-Prefix, 3 Delegated-IPv6-Prefix */
    int64_t first, last, start, est, stop; /* start, est, stop: ABSENT if none */
    int interim;
    const char *cause, *user, *calling, *called, *nas_ip, *nas_id, *nas_port_id, *sid;
    int64_t nas_port;
} lease_agg;

#define ABSENT RADIUS_DETAIL_ABSENT

static uint64_t lease_hash(const char *key, const char *addr) {
    uint64_t h = 1469598103934665603u;
    for (const char *s = key; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    h = (h ^ 0xff) * 1099511628211u;
    for (const char *s = addr; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static int64_t min_opt(int64_t a, int64_t b) {
    return a == ABSENT ? b : b == ABSENT ? a : a < b ? a : b;
}

static int64_t max_opt(int64_t a, int64_t b) {
    return a == ABSENT ? b : b == ABSENT ? a : a > b ? a : b;
}

/* Identity attributes are constant over a session; should a NAS vary one,
 * the greatest value (bytewise, as the database's max() over the C.UTF-8
 * order) is kept, whatever order the records came in. */
static const char *max_str(const char *a, const char *b) {
    return !a ? b : !b ? a : strcmp(a, b) >= 0 ? a : b;
}

static void lease_add(lease_agg *t, size_t mask, size_t *n, const radius_row *r, const char *addr,
                      int kind) {
    const radius_detail_rec *x = &r->rec;
    size_t i = (size_t)lease_hash(r->session_key, addr) & mask;
    while (t[i].key && (strcmp(t[i].key, r->session_key) != 0 || strcmp(t[i].addr, addr) != 0))
        i = (i + 1) & mask;
    lease_agg *g = &t[i];
    if (!g->key) {
        *g = (lease_agg){.key = r->session_key,
                         .addr = addr,
                         .kind = kind,
                         .first = x->event,
                         .last = x->event,
                         .start = ABSENT,
                         .est = ABSENT,
                         .stop = ABSENT,
                         .nas_port = ABSENT};
        ++*n;
    }
    if (kind < g->kind)
        g->kind = kind;
    g->first = x->event < g->first ? x->event : g->first;
    g->last = x->event > g->last ? x->event : g->last;
    if (x->status == RADIUS_DETAIL_START)
        g->start = min_opt(g->start, x->event);
    /* An Interim-Update or Stop says how long the session has run: its start
     * is known even when the Start record was lost (RFC 2866 5.7). */
    if (x->status != RADIUS_DETAIL_START && x->session_time != ABSENT)
        g->est = min_opt(g->est, x->event - x->session_time * TIMEUTIL_US);
    if (x->status == RADIUS_DETAIL_INTERIM)
        g->interim = 1;
    if (x->status == RADIUS_DETAIL_STOP) {
        g->stop = max_opt(g->stop, x->event);
        g->cause = max_str(g->cause, x->terminate_cause);
    }
    g->user = max_str(g->user, x->user_name);
    g->calling = max_str(g->calling, x->calling_station_id);
    g->called = max_str(g->called, x->called_station_id);
    g->nas_ip = max_str(g->nas_ip, x->nas_ip_address ? x->nas_ip_address : x->nas_ipv6_address);
    g->nas_id = max_str(g->nas_id, x->nas_identifier);
    g->nas_port = max_opt(g->nas_port, x->nas_port);
    g->nas_port_id = max_str(g->nas_port_id, x->nas_port_id);
    g->sid = max_str(g->sid, x->acct_session_id);
}

enum {
    LA_KEY,
    LA_ADDR,
    LA_KIND,
    LA_FIRST,
    LA_LAST,
    LA_START,
    LA_EST,
    LA_INTERIM,
    LA_STOP,
    LA_CAUSE,
    LA_USER,
    LA_CALLING,
    LA_CALLED,
    LA_NAS_IP,
    LA_NAS_ID,
    LA_NAS_PORT,
    LA_NAS_PORT_ID,
    LA_SID,
    LA_N
};

/* Runs spoor.lease_merge_rows over the batch's sessions; PG_OK if there were
 * none. */
static int lease_merge(batch *b, PGconn *conn, int64_t tlo, error *err) {
    size_t cap = 16;
    while (cap < 2 * (b->n_radius * 3 + 1))
        cap *= 2;
    lease_agg *t = arena_alloc(&b->mem, cap * sizeof *t);
    memset(t, 0, cap * sizeof *t);
    size_t n = 0;
    for (size_t i = 0; i < b->n_radius; i++) {
        const radius_row *r = &b->radius[i];
        radius_detail_status s = r->rec.status;
        if (!r->session_key ||
            (s != RADIUS_DETAIL_START && s != RADIUS_DETAIL_STOP && s != RADIUS_DETAIL_INTERIM))
            continue;
        if (r->rec.framed_ip_address)
            lease_add(t, cap - 1, &n, r, r->rec.framed_ip_address, 1);
        if (r->framed_v6)
            lease_add(t, cap - 1, &n, r, r->framed_v6, 2);
        if (r->delegated_v6)
            lease_add(t, cap - 1, &n, r, r->delegated_v6, 3);
    }
    if (n == 0)
        return PG_OK;
    static const uint32_t oid[LA_N] = {
        [LA_KEY] = PGARRAY_TEXT,         [LA_ADDR] = PGARRAY_TEXT,
        [LA_KIND] = PGARRAY_INT2,        [LA_FIRST] = PGARRAY_TIMESTAMPTZ,
        [LA_LAST] = PGARRAY_TIMESTAMPTZ, [LA_START] = PGARRAY_TIMESTAMPTZ,
        [LA_EST] = PGARRAY_TIMESTAMPTZ,  [LA_INTERIM] = PGARRAY_BOOL,
        [LA_STOP] = PGARRAY_TIMESTAMPTZ, [LA_CAUSE] = PGARRAY_TEXT,
        [LA_USER] = PGARRAY_TEXT,        [LA_CALLING] = PGARRAY_TEXT,
        [LA_CALLED] = PGARRAY_TEXT,      [LA_NAS_IP] = PGARRAY_TEXT,
        [LA_NAS_ID] = PGARRAY_TEXT,      [LA_NAS_PORT] = PGARRAY_INT8,
        [LA_NAS_PORT_ID] = PGARRAY_TEXT, [LA_SID] = PGARRAY_TEXT,
    };
    pgarray a[LA_N];
    for (int k = 0; k < LA_N; k++)
        pgarray_init(&a[k], oid[k]);
    for (size_t i = 0; i < cap; i++) {
        const lease_agg *g = &t[i];
        if (!g->key)
            continue;
        pgarray_str(&a[LA_KEY], g->key);
        pgarray_str(&a[LA_ADDR], g->addr);
        pgarray_int2(&a[LA_KIND], (int16_t)g->kind);
        pgarray_time(&a[LA_FIRST], g->first);
        pgarray_time(&a[LA_LAST], g->last);
        pgarray_opt_time(&a[LA_START], g->start, ABSENT);
        pgarray_opt_time(&a[LA_EST], g->est, ABSENT);
        pgarray_bool(&a[LA_INTERIM], g->interim);
        pgarray_opt_time(&a[LA_STOP], g->stop, ABSENT);
        pgarray_str(&a[LA_CAUSE], g->cause);
        pgarray_str(&a[LA_USER], g->user);
        pgarray_str(&a[LA_CALLING], g->calling);
        pgarray_str(&a[LA_CALLED], g->called);
        pgarray_str(&a[LA_NAS_IP], g->nas_ip);
        pgarray_str(&a[LA_NAS_ID], g->nas_id);
        if (g->nas_port == ABSENT)
            pgarray_null(&a[LA_NAS_PORT]);
        else
            pgarray_int8(&a[LA_NAS_PORT], g->nas_port);
        pgarray_str(&a[LA_NAS_PORT_ID], g->nas_port_id);
        pgarray_str(&a[LA_SID], g->sid);
    }
    const char *v[LA_N + 3];
    int len[LA_N + 3], fmt[LA_N + 3];
    for (int k = 0; k < LA_N; k++) {
        v[k] = pgarray_data(&a[k], &len[k]);
        fmt[k] = 1;
    }
    char tl[TIMEUTIL_RFC3339_MAX], to[32], om[32];
    timeutil_format(tlo, tl);
    snprintf(to, sizeof to, "%lld seconds", (long long)b->opts.interim_timeout_s);
    snprintf(om, sizeof om, "%lld seconds", (long long)b->opts.open_session_max_s);
    const char *tail[] = {tl, to, om};
    for (int k = 0; k < 3; k++) {
        v[LA_N + k] = tail[k];
        len[LA_N + k] = 0;
        fmt[LA_N + k] = 0;
    }
    PGresult *r = PQexecParams(conn,
                               "SELECT spoor.lease_merge_rows($1::text[], $2::text[], $3::int2[], "
                               "$4::timestamptz[], $5::timestamptz[], $6::timestamptz[], "
                               "$7::timestamptz[], $8::bool[], $9::timestamptz[], $10::text[], "
                               "$11::text[], $12::text[], $13::text[], $14::text[], $15::text[], "
                               "$16::int8[], $17::text[], $18::text[], $19, $20, $21)",
                               LA_N + 3, NULL, v, len, fmt, 0);
    for (int k = 0; k < LA_N; k++)
        pgarray_close(&a[k]);
    if (pg_result_class(conn, r) != PG_OK)
        return fail(conn, r, err, "lease_merge_rows");
    PQclear(r);
    return PG_OK;
}

/* Our MTAs are the hosts we receive MTA logs from (spoor.mta_host, which
 * `trace headers` uses when trace.our_mta_hosts is empty).  A batch names a
 * handful of hosts: one upsert with the distinct ones, which changes nothing
 * once they are known. */
static int record_mta_hosts(batch *b, PGconn *conn, error *err) {
    buf *h = &b->copy;
    buf_reset(h);
    const char *seen[32];
    size_t n_seen = 0;
    for (size_t i = 0; i < b->n_smtp; i++) {
        const char *host = b->smtp[i].host;
        size_t k = 0;
        while (k < n_seen && strcmp(seen[k], host) != 0)
            k++;
        if (k < n_seen)
            continue;
        if (n_seen < sizeof seen / sizeof *seen)
            seen[n_seen++] = host;
        if (strchr(host, '\n'))
            continue; /* a syslog host token never holds one */
        buf_add(h, host, strlen(host));
        buf_add(h, "\n", 1);
    }
    buf_add(h, "", 1);
    const char *v[] = {h->p};
    PGresult *r = PQexecParams(conn,
                               "INSERT INTO spoor.mta_host (host) SELECT DISTINCT x FROM "
                               "unnest(string_to_array(rtrim($1, E'\\n'), E'\\n')) x WHERE x <> '' "
                               "ON CONFLICT DO NOTHING",
                               1, NULL, v, NULL, NULL, 0);
    buf_reset(h);
    if (pg_result_class(conn, r) != PG_OK)
        return fail(conn, r, err, "mta_host");
    PQclear(r);
    return PG_OK;
}

static int commit_body(batch *b, PGconn *conn, error *err) {
    PGresult *r;
    char a[32], p[16], c1[32], c2[32], c3[32];
    /* 1. Fence: each source must stand exactly where this batch begins. */
    for (int i = 0; i < b->n_src; i++) {
        source_state *s = &b->src[i];
        snprintf(p, sizeof p, "%d", s->part);
        snprintf(a, sizeof a, "%lld", (long long)s->first);
        const char *v[] = {s->source, p, a};
        r = PQexecParams(conn,
                         "INSERT INTO spoor.source_position (source, part, next_pos) "
                         "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                         3, NULL, v, NULL, NULL, 0);
        if (pg_result_class(conn, r) != PG_OK)
            return fail(conn, r, err, "source_position insert");
        PQclear(r);
        r = PQexecParams(conn,
                         "SELECT next_pos FROM spoor.source_position "
                         "WHERE source = $1 AND part = $2 FOR UPDATE",
                         2, NULL, v, NULL, NULL, 0);
        if (pg_result_class(conn, r) != PG_OK)
            return fail(conn, r, err, "source_position lock");
        long long stored = atoll(PQgetvalue(r, 0, 0));
        PQclear(r);
        if (stored != s->first) {
            error_set(err, "fenced", 0,
                      "%s[%d]: stored position is %lld but this batch starts at %lld "
                      "(partition taken over, or batch already stored)",
                      s->source, s->part, stored, (long long)s->first);
            return BATCH_FENCED;
        }
    }
    /* 2. Partitions for every day the batch touches. */
    int64_t lo = INT64_MAX, hi = INT64_MIN, tlo = INT64_MAX, thi = INT64_MIN;
    for (int i = 0; i < b->n_blocks; i++) {
        if (b->blocks[i].day < lo)
            lo = b->blocks[i].day;
        if (b->blocks[i].day > hi)
            hi = b->blocks[i].day;
    }
    for (size_t i = 0; i < b->n_radius; i++) {
        int64_t t = b->radius[i].rec.event;
        if (t < tlo)
            tlo = t;
        if (t > thi)
            thi = t;
    }
    if (b->n_blocks) {
        char dlo[16], dhi[16];
        day_text(lo, dlo, sizeof dlo);
        day_text(hi, dhi, sizeof dhi);
        const char *v[] = {dlo, dhi};
        r = PQexecParams(conn, "SELECT spoor.ensure_partitions($1, $2)", 2, NULL, v, NULL, NULL, 0);
        if (pg_result_class(conn, r) != PG_OK)
            return fail(conn, r, err, "ensure_partitions");
        PQclear(r);
        /* 3. Block ids. */
        snprintf(a, sizeof a, "%d", b->n_blocks);
        const char *n1[] = {a};
        r = PQexecParams(
            conn, "SELECT nextval('spoor.evidence_block_id_seq') FROM generate_series(1, $1)", 1,
            NULL, n1, NULL, NULL, 0);
        if (pg_result_class(conn, r) != PG_OK)
            return fail(conn, r, err, "block ids");
        for (int i = 0; i < b->n_blocks; i++)
            b->blocks[i].block_id = atoll(PQgetvalue(r, i, 0));
        PQclear(r);
    }
    /* 4. Rows.  Evidence first compressed (where batch_seal did not). */
    for (int i = 0; i < b->n_blocks; i++)
        if (seal_block(b, &b->blocks[i], err) < 0)
            return PG_FATAL;
    pg_class cls;
    buf *c = &b->copy;
    buf_reset(c);
    if (b->n_blocks &&
        copy_rows(b, conn, c,
                  "COPY spoor.evidence_block (day, block_id, kind, source, part, "
                  "first_pos, last_pos, n_lines, raw_bytes, dict_id, sha256, data) FROM STDIN",
                  copy_blocks, &cls, err) < 0)
        return cls;
    if (b->n_smtp && copy_rows(b, conn, c,
                               "COPY spoor.smtp_event (ts, host, kind, queue_id, message_id, "
                               "client_name, client_ip, client_port, sasl_username, sender, "
                               "recipient, status, relay, next_queue_id, orig_queue_id, size, "
                               "pos, block_id, block_idx) FROM STDIN",
                               copy_smtp, &cls, err) < 0)
        return cls;
    if (b->n_runs) {
        /* The peers the lines arrived from, beside their blocks. */
        buf_reset(c);
        if (pgcopy_begin(conn,
                         "COPY spoor.evidence_peer (day, block_id, block_idx, peer) FROM STDIN",
                         &cls, err) < 0)
            return cls;
        for (size_t i = 0; i < b->n_runs; i++) {
            const peer_run *pr = &b->runs[i];
            char day[16];
            day_text(b->blocks[pr->block].day, day, sizeof day);
            buf_printf(c, "%s\t%lld\t%d\t%s\n", day, (long long)b->blocks[pr->block].block_id,
                       pr->idx, pr->peer ? pr->peer : "\\N");
        }
        if (pgcopy_finish(conn, c, 1, &cls, err) < 0)
            return cls;
    }
    if (b->n_smtp) {
        int hc = record_mta_hosts(b, conn, err);
        if (hc != PG_OK)
            return hc;
    }
    if (b->n_radius && copy_rows(b, conn, c,
                                 "COPY spoor.radius_event (ts, received, status, session_key, "
                                 "acct_session_id, user_name, "
                                 "calling_station_id, called_station_id, nas_ip, nas_identifier, "
                                 "nas_port, nas_port_id, framed_ip, framed_ipv6_prefix, "
                                 "delegated_ipv6_prefix, session_time, terminate_cause, "
                                 "pos, block_id, block_idx) FROM STDIN",
                                 copy_radius, &cls, err) < 0)
        return cls;
    copy_quarantine(b, c);
    if (c->len && pgcopy_send(conn,
                              "COPY spoor.quarantine (day, received, source, part, pos, reason, "
                              "detail, block_id, block_idx) FROM STDIN",
                              c, &cls, err) < 0)
        return cls;
    /* 5. Lease index from this batch's RADIUS events. */
    if (b->n_radius) {
        int lc = lease_merge(b, conn, tlo, err);
        if (lc != PG_OK)
            return lc;
    }
    /* 6. Positions and counts, in the same transaction. */
    for (int i = 0; i < b->n_src; i++) {
        source_state *s = &b->src[i];
        snprintf(p, sizeof p, "%d", s->part);
        snprintf(a, sizeof a, "%lld", (long long)s->next);
        snprintf(c1, sizeof c1, "%ld", s->consumed);
        snprintf(c2, sizeof c2, "%ld", s->stored);
        snprintf(c3, sizeof c3, "%ld", s->quarantined);
        const char *v[] = {s->source, p, a, c1, c2, c3};
        r = PQexecParams(conn,
                         "UPDATE spoor.source_position SET next_pos = $3, consumed = consumed + $4,"
                         " stored = stored + $5, quarantined = quarantined + $6, updated_at = now()"
                         " WHERE source = $1 AND part = $2",
                         6, NULL, v, NULL, NULL, 0);
        if (pg_result_class(conn, r) != PG_OK)
            return fail(conn, r, err, "source_position update");
        PQclear(r);
    }
    return PG_OK;
}

/* The retention horizons, read at every commit (one cheap call; a policy or
 * the date may have changed).  A database without the function (or a role
 * without the right) leaves them unknown. */
static void load_horizon(batch *b, PGconn *conn) {
    PGresult *r = PQexec(conn, "SELECT spoor.retention_horizons()");
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
        /* "smtp radius evidence": a record needs its class's day and its
         * evidence line's day, so the later of the two horizons counts. */
        int64_t h[3] = {INT64_MIN, INT64_MIN, INT64_MIN};
        const char *v = PQgetvalue(r, 0, 0);
        for (int k = 0; k < 3 && v; k++) {
            long long d;
            if (sscanf(v, "%lld", &d) == 1) /* "-": no policy for the class */
                h[k] = d;
            v = strchr(v, ' ');
            v = v ? v + 1 : NULL;
        }
        for (int k = 0; k < 2; k++)
            b->horizon[k] = h[k] > h[2] ? h[k] : h[2];
    }
    PQclear(r);
}

/* True if B holds evidence for a day before its kind's horizon (records
 * added before the horizon was known, or before it moved); quarantine
 * blocks are filed under today and never are. */
static int has_expired(const batch *b) {
    for (int i = 0; i < b->n_blocks; i++) {
        int k = strcmp(b->blocks[i].kind, "radius") == 0;
        if (b->horizon[k] != INT64_MIN && b->blocks[i].day < b->horizon[k])
            return 1;
    }
    return 0;
}

/* Adds every record again (now under the known horizon). */
static void rebuild(batch *b) {
    arena keep;
    arena_init(&keep, 1 << 20);
    size_t n = b->n_records;
    batch_input *in = mem_alloc((n ? n : 1) * sizeof *in);
    for (size_t i = 0; i < n; i++) {
        in[i] = b->inputs[i];
        in[i].source = arena_strdup(&keep, b->inputs[i].source);
        in[i].data = arena_strndup(&keep, b->inputs[i].data, b->inputs[i].len);
        in[i].host = b->inputs[i].host ? arena_strdup(&keep, b->inputs[i].host) : NULL;
        in[i].refused = b->inputs[i].refused ? arena_strdup(&keep, b->inputs[i].refused) : NULL;
        in[i].peer = b->inputs[i].peer ? arena_strdup(&keep, b->inputs[i].peer) : NULL;
    }
    batch_reset(b);
    for (size_t i = 0; i < n; i++)
        add_one(b, &in[i], NULL, NULL);
    free(in);
    arena_close(&keep);
}

int batch_commit(batch *b, PGconn *conn, error *err) {
    if (b->n_records == 0)
        return PG_OK;
    load_horizon(b, conn);
    if (has_expired(b))
        rebuild(b);
    b->counts.raw_bytes = b->counts.compressed_bytes = 0;
    b->counts.blocks = b->n_blocks;
    load_dicts(b, conn);
    /* synchronous_commit off is safe here, and only here: the batch's rows and
     * its source positions commit together, so a commit that PostgreSQL loses
     * in a crash loses both, and the batch is consumed again from Kafka (or
     * the file) as if it had never been stored: nothing lost, nothing twice.
     * The WAL flush per batch is the cost it saves.  No JIT: the batch's
     * statements are planned for a few thousand rows, where compiling costs
     * more than it saves. */
    int rc = exec_ok(conn, "BEGIN; SET LOCAL synchronous_commit = off; SET LOCAL jit = off", err);
    if (rc != PG_OK)
        return rc;
    rc = commit_body(b, conn, err);
    if (rc != PG_OK) {
        PQclear(PQexec(conn, "ROLLBACK"));
        return rc;
    }
    return exec_ok(conn, "COMMIT", err);
}

/* A batch PostgreSQL refused for its content (a data exception the parsers
 * did not foresee) must not stop the pipeline: store its records one by one,
 * and quarantine each one that is still refused, with PostgreSQL's reason.
 * Positions stay contiguous, so the fence holds throughout. */
int batch_salvage(batch *b, PGconn *conn, error *err) {
    error e1;
    batch *one = batch_new(&b->opts, &e1);
    if (!one) {
        if (err)
            *err = e1;
        return PG_FATAL;
    }
    /* batch_new copied default_zone; the zone table is shared read-only. */
    one->zones = b->zones;
    one->n_zones = b->n_zones;
    batch_counts total = {0};
    int rc = PG_OK;
    for (size_t i = 0; i < b->n_records && rc == PG_OK; i++) {
        batch_reset(one);
        add_one(one, &b->inputs[i], NULL, NULL);
        rc = batch_commit(one, conn, &e1);
        if (rc == PG_FATAL) {
            batch_reset(one);
            add_one(one, &b->inputs[i], "db_rejected", e1.msg);
            rc = batch_commit(one, conn, err);
        } else if (rc != PG_OK && err)
            *err = e1;
        total.consumed += one->counts.consumed;
        total.stored += one->counts.stored;
        total.quarantined += one->counts.quarantined;
        for (int k = 0; k < one->n_reasons; k++)
            for (long j = 0; j < one->reasons[k].n; j++)
                count_reason(b, one->reasons[k].reason);
    }
    one->zones = NULL;
    one->n_zones = 0;
    batch_free(one);
    if (rc == PG_OK) {
        /* What the caller reports is what was stored in the end. */
        b->counts.consumed = total.consumed;
        b->counts.stored = total.stored;
        b->counts.quarantined = total.quarantined;
    }
    return rc;
}
