#include "batch_route.h"
#include "exim.h"
#include "postfix.h"
#include "smtp_kinds.h"
#include "syslog.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int batch_route_zones_parse(batch *b, const char *spec, error *err) {
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

const char *batch_route_zone_cb(void *arg, const char *host, size_t len) {
    const batch *b = arg;
    for (int i = 0; i < b->n_zones; i++)
        if (strlen(b->zones[i].host) == len && strncasecmp(b->zones[i].host, host, len) == 0)
            return b->zones[i].zone;
    return NULL;
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
    b->line_block[b->cur_input] = blk;
    const char *peer = in->peer && *in->peer ? in->peer : NULL;
    if (peer ? !e->peer || strcmp(e->peer, peer) : e->peer != NULL) {
        e->peer = peer ? arena_strdup(&b->mem, peer) : NULL;
        GROW(b->runs, b->n_runs, b->cap_runs);
        b->runs[b->n_runs++] = (peer_run){blk, idx, e->peer};
    }
    return idx;
}

void batch_route_count_reason(batch *b, const char *reason) {
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
    int blk = block_for(b, kind, batch_day_of(timeutil_now()), src);
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
    batch_route_count_reason(b, reason);
}

static const char *const horizon_kinds[] = {"smtp", "radius", "nat"};

/* Quarantines IN (of source SRC) as past_retention: its DAY is before the
 * horizon of kind K. */
static void quarantine_expired(batch *b, const batch_input *in, int src, int k, int64_t day) {
    char d[160], dt[16], hz[16];
    batch_day_text(day, dt, sizeof dt);
    batch_day_text(b->horizon[k], hz, sizeof hz);
    snprintf(d, sizeof d, "day %s is before the %s retention horizon %s", dt, horizon_kinds[k], hz);
    quarantine(b, in, src, horizon_kinds[k], "past_retention", d);
}

/* A record of a day already past its retention is quarantined, never stored
 * (sql/functions/retention.sql): its partition is gone, or about to go. */
static int past_retention(batch *b, const batch_input *in, int src, int k, int64_t ts) {
    if (b->horizon[k] == INT64_MIN || ts == INT64_MIN || batch_day_of(ts) >= b->horizon[k])
        return 0;
    quarantine_expired(b, in, src, k, batch_day_of(ts));
    return 1;
}

static int horizon_kind(const char *kind) {
    return !strcmp(kind, "radius") ? 1 : !strcmp(kind, "nat") ? 2 : 0;
}

/* Today's blocks never expire: quarantined lines are filed under today. */
static int block_expired(const batch *b, const evidence_block *e, int64_t today) {
    int k = horizon_kind(e->kind);
    return b->horizon[k] != INT64_MIN && e->day < b->horizon[k] && e->day < today;
}

/* Drops the rows that point into a block NEW_OF maps to -1 (counting them
 * off), and renumbers the rest. */
#define EXPIRE_ROWS(arr, n, counter)                                                               \
    do {                                                                                           \
        size_t w_ = 0;                                                                             \
        for (size_t i_ = 0; i_ < (n); i_++) {                                                      \
            if (new_of[(arr)[i_].block] < 0) {                                                     \
                counter;                                                                           \
                continue;                                                                          \
            }                                                                                      \
            (arr)[w_] = (arr)[i_];                                                                 \
            (arr)[w_++].block = new_of[(arr)[i_].block];                                           \
        }                                                                                          \
        (n) = w_;                                                                                  \
    } while (0)

int batch_route_expire(batch *b) {
    int64_t today = batch_day_of(timeutil_now());
    int any = 0;
    for (int i = 0; i < b->n_blocks && !any; i++)
        any = block_expired(b, &b->blocks[i], today);
    if (!any)
        return 0;
    /* Which blocks go: decided before any line moves, since the moved lines
     * land in today's blocks (perhaps new ones), which never expire. */
    int n_old = b->n_blocks;
    int *new_of = mem_alloc(sizeof *new_of * (size_t)(n_old ? n_old : 1));
    for (int i = 0; i < n_old; i++)
        new_of[i] = block_expired(b, &b->blocks[i], today) ? -1 : 0;
    int moved = 0;
    for (size_t i = 0; i < b->n_records; i++) {
        int blk = b->line_block[i];
        if (blk >= n_old || new_of[blk] >= 0)
            continue;
        const batch_input *in = &b->inputs[i];
        int src = source_index(b, in);
        b->src[src].stored--;
        b->counts.stored--;
        b->cur_input = i;
        quarantine_expired(b, in, src, horizon_kind(b->blocks[blk].kind), b->blocks[blk].day);
        moved++;
    }
    /* Renumber the blocks that stay (the new ones at the end included). */
    new_of = mem_realloc(new_of, sizeof *new_of * (size_t)b->n_blocks);
    int w = 0;
    for (int i = 0; i < b->n_blocks; i++) {
        if (i < n_old && new_of[i] < 0) {
            evidence_block_close(&b->blocks[i]);
            continue;
        }
        new_of[i] = w;
        if (w != i)
            b->blocks[w] = b->blocks[i];
        w++;
    }
    b->n_blocks = w;
    EXPIRE_ROWS(b->smtp, b->n_smtp, b->counts.smtp_events--);
    EXPIRE_ROWS(b->radius, b->n_radius, b->counts.radius_events--);
    EXPIRE_ROWS(b->nat, b->n_nat, b->counts.nat_events--);
    EXPIRE_ROWS(b->quar, b->n_quar, (void)0);
    EXPIRE_ROWS(b->runs, b->n_runs, (void)0);
    for (size_t i = 0; i < b->n_records; i++)
        b->line_block[i] = new_of[b->line_block[i]];
    free(new_of);
    return moved;
}

static const char *sdup(batch *b, syslog_slice s) {
    return s.len ? arena_strndup(&b->mem, s.p, s.len) : NULL;
}

/* Valid UTF-8 and no NUL: what a text log line must be to be parsed. */
static const char *text_problem(const char *p, size_t len) {
    const unsigned char *s = (const unsigned char *)p;
    for (size_t i = 0; i < len;) {
        /* Eight ASCII bytes without a NUL at a time: nearly every log line
         * is only that (the byte tests are the classic has-zero and
         * high-bit tricks on a word). */
        while (len - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if ((w & 0x8080808080808080ULL) ||
                ((w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL))
                break;
            i += 8;
        }
        if (i >= len)
            break;
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
        [POSTFIX_CLIENT] = SMTP_KIND_CLIENT,   [POSTFIX_MESSAGE_ID] = SMTP_KIND_MESSAGE_ID,
        [POSTFIX_QMGR_FROM] = SMTP_KIND_FROM,  [POSTFIX_DELIVERY] = SMTP_KIND_DELIVERY,
        [POSTFIX_REMOVED] = SMTP_KIND_REMOVED, [POSTFIX_REJECT] = SMTP_KIND_REJECT,
        [POSTFIX_BOUNCE] = SMTP_KIND_BOUNCE};
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
        kind = SMTP_KIND_EXIM_ARRIVAL;
        break;
    case EXIM_DELIVERY:
    case EXIM_ADDITIONAL:
    case EXIM_SUPPRESSED:
    case EXIM_BOUNCE:
    case EXIM_DEFER:
        kind = SMTP_KIND_EXIM_DELIVERY;
        break;
    case EXIM_COMPLETED:
        kind = SMTP_KIND_EXIM_COMPLETED;
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
    } else if (kind == SMTP_KIND_EXIM_DELIVERY) {
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
        syslog_ctx ctx = {in->ref_us, b->default_zone, batch_route_zone_cb, b};
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
            int blk = block_for(b, "smtp", batch_day_of(ts), src);
            int idx = block_add(b, blk, in);
            add_postfix(b, &pr, ts, host, src, in, blk, idx);
            b->src[src].stored++;
            b->counts.stored++;
            return;
        }
        if (!(sr.app.len >= 4 && strncmp(sr.app.p, "exim", 4) == 0)) {
            /* Another program's line (amavis, dovecot, ...): evidence only. */
            int blk = block_for(b, "smtp", batch_day_of(ts), src);
            block_add(b, blk, in);
            b->src[src].stored++;
            b->counts.stored++;
            return;
        }
    }
    exim_ctx ectx = {NULL, in->ref_us};
    const char *z = batch_route_zone_cb(b, host, strlen(host));
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
    int blk = block_for(b, "smtp", batch_day_of(ts), src);
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
    const char *z = in->host ? batch_route_zone_cb(b, in->host, strlen(in->host)) : NULL;
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
    r->block = block_for(b, "radius", batch_day_of(x->event), src);
    r->idx = block_add(b, r->block, in);
    b->n_radius++;
    b->src[src].stored++;
    b->counts.stored++;
    b->counts.radius_events++;
}

/* A CGN's log line: its NAT records (several for vendors that pack them),
 * each a row, all pointing at the line's one evidence entry.  A line that
 * is no NAT record (a CGN's other messages) is kept as evidence only. */
static void add_nat(batch *b, const batch_input *in, int src) {
    const char *problem = text_problem(in->data, in->len);
    if (problem) {
        quarantine(b, in, src, "nat", problem, NULL);
        return;
    }
    nat_record recs[NAT_MAX_RECORDS];
    error e;
    int n;
    const char *host, *rest;
    size_t hl;
    int64_t ts;
    if (nat_is_conntrack(in->data, in->len)) {
        /* conntrack -E -o timestamp: no syslog header, the host is the
         * importer's (or the collector's) */
        if (!in->host) {
            quarantine(b, in, src, "nat", "no_host", "a conntrack line names no host");
            return;
        }
        host = arena_strdup(&b->mem, in->host);
        n = nat_parse_conntrack(in->data, in->len, &b->mem, recs, &e);
        ts = n >= 0 ? recs[0].ts : INT64_MIN;
    } else if (nat_is_ipfix(in->data, in->len)) {
        /* spoor-collect's rendering of an IPFIX record: the CGN it names
         * is the exporter's, from collect.ipfix_exporters */
        n = nat_parse_ipfix(in->data, in->len, &b->mem, recs, &host, &e);
        if (!host)
            host = in->host ? arena_strdup(&b->mem, in->host) : "?";
        ts = n >= 0 ? recs[0].ts : INT64_MIN;
        if (n >= 0 && ts == INT64_MIN) {
            quarantine(b, in, src, "nat", "no_timestamp", "an IPFIX record with no time");
            return;
        }
    } else if (nat_cisco_header(in->data, in->len, &ts, &host, &hl, &rest)) {
        /* IOS XR's own header (not RFC 5424 nor 3164), its time UTC */
        host = arena_strndup(&b->mem, host, hl);
        nat_line l = {NULL, 0, NULL, 0, NULL, 0, rest, (size_t)(in->data + in->len - rest)};
        n = nat_parse(&l, &b->mem, recs, NAT_MAX_RECORDS, &e);
    } else {
        syslog_ctx ctx = {in->ref_us, b->default_zone, batch_route_zone_cb, b};
        syslog_record sr;
        if (syslog_parse(in->data, in->len, &ctx, &sr, &e) < 0) {
            char d[sizeof e.msg + 32];
            snprintf(d, sizeof d, "byte %zu: %s", e.pos, e.msg);
            quarantine(b, in, src, "nat", e.code, d);
            return;
        }
        if (sr.host.len == 0 && !in->host) {
            quarantine(b, in, src, "nat", "no_host", "the line names no host");
            return;
        }
        host = sr.host.len ? sdup(b, sr.host) : arena_strdup(&b->mem, in->host);
        ts = sr.time_us;
        nat_line l = {sr.app.p, sr.app.len, sr.msgid.p, sr.msgid.len,
                      sr.sd.p,  sr.sd.len,  sr.msg.p,   sr.msg.len};
        n = nat_parse(&l, &b->mem, recs, NAT_MAX_RECORDS, &e);
    }
    if (n < 0) {
        char d[sizeof e.msg + 32];
        snprintf(d, sizeof d, "byte %zu: %s", e.pos, e.msg);
        quarantine(b, in, src, "nat", e.code, d);
        return;
    }
    /* The records' own times (the CGN's epoch fields) where they give one. */
    int64_t t0 = n > 0 && recs[0].ts != INT64_MIN ? recs[0].ts : ts;
    if (past_retention(b, in, src, 2, t0))
        return;
    int blk = block_for(b, "nat", batch_day_of(t0), src);
    int idx = block_add(b, blk, in);
    for (int i = 0; i < n; i++) {
        GROW(b->nat, b->n_nat, b->cap_nat);
        nat_row *r = &b->nat[b->n_nat++];
        r->rec = recs[i];
        r->ts = recs[i].ts != INT64_MIN ? recs[i].ts : ts;
        r->host = host;
        r->src = src;
        r->pos = in->pos;
        r->block = blk;
        r->idx = idx;
        b->counts.nat_events++;
    }
    b->src[src].stored++;
    b->counts.stored++;
}

/* No lock: the parsers are pure (timeutil's zones are immutable once read),
 * so spoor-ingest fills one batch while its committer stores another. */
void batch_add(batch *b, const batch_input *in) {
    batch_route_add(b, in, NULL, NULL);
}

void batch_route_add(batch *b, const batch_input *in, const char *force_reason,
                     const char *force_detail) {
    if (b->n_records == b->cap_inputs) {
        b->cap_inputs = b->cap_inputs ? b->cap_inputs * 2 : 64;
        b->inputs = mem_realloc(b->inputs, sizeof *b->inputs * b->cap_inputs);
        b->line_block = mem_realloc(b->line_block, sizeof *b->line_block * b->cap_inputs);
    }
    b->cur_input = b->n_records;
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
    const char *kind = in->format == BATCH_RADIUS ? "radius"
                       : in->format == BATCH_NAT  ? "nat"
                                                  : "smtp";
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
    else if (in->format == BATCH_NAT)
        add_nat(b, in, src);
    else
        add_smtp_line(b, in, src);
}
