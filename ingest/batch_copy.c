#include "batch_copy.h"
#include "batch_lease.h"
#include "pgarray.h"
#include "pgcopy.h"

#include <stdlib.h>
#include <string.h>

/* The statement WHAT failed: ERR keeps PostgreSQL's SQLSTATE as its code
 * and names WHAT in its message. */
int batch_copy_fail(PGconn *conn, PGresult *r, error *err, const char *what) {
    error e;
    int cls = pg_result_class(conn, r);
    if (cls == PG_OK)
        cls = PG_FATAL;
    pg_error(conn, r, &e);
    error_set(err, e.code, 0, "%s: %s", what, e.msg);
    PQclear(r);
    return cls;
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

static void copy_nat(batch *b, buf *c, PGconn *conn, int *ok) {
    for (size_t i = 0; i < b->n_nat; i++) {
        const nat_row *r = &b->nat[i];
        const nat_record *x = &r->rec;
        pgcopy_time(c, r->ts);
        pgcopy_str(c, r->host);
        pgcopy_int(c, x->kind);
        pgcopy_str(c, x->vendor);
        pgcopy_str(c, x->inside);
        pgcopy_str(c, x->inside_vrf);
        copy_opt_int(c, x->inside_port, -1);
        pgcopy_str(c, x->outside);
        pgcopy_int(c, x->port_lo);
        pgcopy_int(c, x->port_hi);
        copy_opt_int(c, x->proto, -1);
        pgcopy_str(c, x->pool);
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
        batch_day_text(b->blocks[q->block].day, day, sizeof day);
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
    /* Trained dictionaries exist for mail and RADIUS lines; NAT lines (and
     * anything else) are compressed without one. */
    ZSTD_CDict *cd = !strcmp(e->kind, "smtp") || k ? b->cdict[k] : NULL;
    evidence_sha256(e->frame.p, e->frame.len, e->sha);
    if (evidence_compress(b->cctx, cd, b->opts.zstd_level, e->frame.p, e->frame.len, &e->z, err) <
        0)
        return -1;
    e->z_dict = cd ? b->dict_id[k] : -1;
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
        batch_day_text(e->day, day, sizeof day);
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
void batch_copy_load_dicts(batch *b, PGconn *conn) {
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

int batch_copy_exec(PGconn *conn, const char *sql, error *err) {
    PGresult *r = PQexec(conn, sql);
    if (pg_result_class(conn, r) != PG_OK)
        return batch_copy_fail(conn, r, err, sql);
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
        return batch_copy_fail(conn, r, err, "mta_host");
    PQclear(r);
    return PG_OK;
}

int batch_copy_prepare(batch *b, PGconn *conn, error *err) {
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (int i = 0; i < b->n_blocks; i++) {
        if (b->blocks[i].day < lo)
            lo = b->blocks[i].day;
        if (b->blocks[i].day > hi)
            hi = b->blocks[i].day;
    }
    if (!b->n_blocks)
        return PG_OK;
    char dlo[16], dhi[16];
    batch_day_text(lo, dlo, sizeof dlo);
    batch_day_text(hi, dhi, sizeof dhi);
    const char *v[] = {dlo, dhi};
    PGresult *r =
        PQexecParams(conn, "SELECT spoor.ingest_prepare($1, $2)", 2, NULL, v, NULL, NULL, 0);
    if (pg_result_class(conn, r) != PG_OK)
        return batch_copy_fail(conn, r, err, "ingest_prepare");
    PQclear(r);
    return PG_OK;
}

int batch_copy_commit(batch *b, PGconn *conn, error *err) {
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
            return batch_copy_fail(conn, r, err, "source_position insert");
        PQclear(r);
        r = PQexecParams(conn,
                         "SELECT next_pos FROM spoor.source_position "
                         "WHERE source = $1 AND part = $2 FOR UPDATE",
                         2, NULL, v, NULL, NULL, 0);
        if (pg_result_class(conn, r) != PG_OK)
            return batch_copy_fail(conn, r, err, "source_position lock");
        long long stored = atoll(PQgetvalue(r, 0, 0));
        PQclear(r);
        if (stored != s->first) {
            error_set(err, BATCH_FENCE_CODE, 0,
                      "%s[%d]: stored position is %lld but this batch starts at %lld "
                      "(partition taken over, or batch already stored)",
                      s->source, s->part, stored, (long long)s->first);
            return PG_FATAL;
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
        batch_day_text(lo, dlo, sizeof dlo);
        batch_day_text(hi, dhi, sizeof dhi);
        const char *v[] = {dlo, dhi};
        r = PQexecParams(conn, "SELECT spoor.ensure_partitions($1, $2)", 2, NULL, v, NULL, NULL, 0);
        if (pg_result_class(conn, r) != PG_OK)
            return batch_copy_fail(conn, r, err, "ensure_partitions");
        PQclear(r);
        /* 3. Block ids. */
        snprintf(a, sizeof a, "%d", b->n_blocks);
        const char *n1[] = {a};
        r = PQexecParams(
            conn, "SELECT nextval('spoor.evidence_block_id_seq') FROM generate_series(1, $1)", 1,
            NULL, n1, NULL, NULL, 0);
        if (pg_result_class(conn, r) != PG_OK)
            return batch_copy_fail(conn, r, err, "block ids");
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
    if (b->n_nat && copy_rows(b, conn, c,
                              "COPY spoor.nat_event (ts, host, kind, vendor, inside, inside_vrf, "
                              "inside_port, outside, port_lo, port_hi, proto, pool, pos, "
                              "block_id, block_idx) FROM STDIN",
                              copy_nat, &cls, err) < 0)
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
            batch_day_text(b->blocks[pr->block].day, day, sizeof day);
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
        int lc = batch_lease_merge(b, conn, tlo, err);
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
            return batch_copy_fail(conn, r, err, "source_position update");
        PQclear(r);
    }
    return PG_OK;
}
