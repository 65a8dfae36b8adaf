#include "batch_lease.h"
#include "batch_copy.h"
#include "pgarray.h"

#include <stdlib.h>
#include <string.h>

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
int batch_lease_merge(batch *b, PGconn *conn, int64_t tlo, error *err) {
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
        return batch_copy_fail(conn, r, err, "lease_merge_rows");
    PQclear(r);
    return PG_OK;
}
