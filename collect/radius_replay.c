#include "radius_replay.h"
#include "mem.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* An entry: the NAS (IPv4 mapped into IPv6) and the authenticator. */
#define KEY_LEN 32
#define REC_LEN (8 + KEY_LEN) /* int64 LE time in microseconds, then the key */

typedef struct entry {
    uint8_t key[KEY_LEN];
    int64_t t; /* 0: empty slot */
} entry;

struct radius_replay {
    char *path;
    FILE *f;
    int64_t keep;
    entry *tab;
    size_t cap, n; /* n: slots in use (live or expired) */
    int dirty;
};

static void make_key(const struct sockaddr *nas, const uint8_t *auth, uint8_t *key) {
    memset(key, 0, 16);
    if (nas->sa_family == AF_INET6)
        memcpy(key, &((const struct sockaddr_in6 *)nas)->sin6_addr, 16);
    else {
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &((const struct sockaddr_in *)nas)->sin_addr, 4);
    }
    memcpy(key + 16, auth, 16);
}

static size_t slot_of(const radius_replay *r, const uint8_t *key) {
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < KEY_LEN; i++)
        h = (h ^ key[i]) * 1099511628211ull;
    return (size_t)(h & (r->cap - 1));
}

static entry *find(const radius_replay *r, const uint8_t *key) {
    for (size_t i = slot_of(r, key);; i = (i + 1) & (r->cap - 1)) {
        entry *e = &r->tab[i];
        if (!e->t || !memcmp(e->key, key, KEY_LEN))
            return e;
    }
}

static void put(radius_replay *r, const uint8_t *key, int64_t t, int64_t now);

/* Doubles the table, dropping what has expired. */
static void grow(radius_replay *r, int64_t now) {
    entry *old = r->tab;
    size_t oc = r->cap;
    size_t live = 0;
    for (size_t i = 0; i < oc; i++)
        live += old[i].t && now - old[i].t <= r->keep;
    r->cap = oc;
    while (r->cap < 4 * (live + 1))
        r->cap *= 2;
    r->tab = mem_zalloc(r->cap * sizeof *r->tab);
    r->n = 0;
    for (size_t i = 0; i < oc; i++)
        if (old[i].t && now - old[i].t <= r->keep)
            put(r, old[i].key, old[i].t, now);
    free(old);
}

static void put(radius_replay *r, const uint8_t *key, int64_t t, int64_t now) {
    if (2 * (r->n + 1) > r->cap)
        grow(r, now);
    entry *e = find(r, key);
    if (!e->t)
        r->n++;
    if (t > e->t) {
        memcpy(e->key, key, KEY_LEN);
        e->t = t;
    }
}

static void put_le64(uint8_t *p, int64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)((uint64_t)v >> (8 * i));
}

static int64_t get_le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return (int64_t)v;
}

static int write_rec(FILE *f, const uint8_t *key, int64_t t) {
    uint8_t rec[REC_LEN];
    put_le64(rec, t);
    memcpy(rec + 8, key, KEY_LEN);
    return fwrite(rec, 1, REC_LEN, f) == REC_LEN ? 0 : -1;
}

radius_replay *radius_replay_open(const char *path, int64_t keep_us, int64_t now_us, error *err) {
    radius_replay *r = mem_zalloc(sizeof *r);
    r->path = mem_strdup(path);
    r->keep = keep_us;
    r->cap = 1024;
    r->tab = mem_zalloc(r->cap * sizeof *r->tab);
    FILE *in = fopen(path, "rb");
    if (!in && errno != ENOENT) {
        error_set(err, "io", 0, "%s: %s", path, strerror(errno));
        radius_replay_free(r);
        return NULL;
    }
    if (in) {
        uint8_t rec[REC_LEN];
        /* A torn last record (a crash mid-write) is ignored. */
        while (fread(rec, 1, REC_LEN, in) == REC_LEN) {
            int64_t t = get_le64(rec);
            if (t > 0 && now_us - t <= keep_us && t <= now_us + keep_us)
                put(r, rec + 8, t, now_us);
        }
        fclose(in);
    }
    /* Rewrite with what is still kept: the file stays the size of a keep. */
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.new", path);
    FILE *out = fopen(tmp, "wb");
    int ok = out != NULL;
    for (size_t i = 0; ok && i < r->cap; i++)
        if (r->tab[i].t)
            ok = write_rec(out, r->tab[i].key, r->tab[i].t) == 0;
    if (out) {
        ok = fflush(out) == 0 && fsync(fileno(out)) == 0 && ok;
        ok = fclose(out) == 0 && ok;
    }
    if (!ok || rename(tmp, path) < 0) {
        error_set(err, "io", 0, "%s: cannot write: %s", tmp, strerror(errno));
        unlink(tmp);
        radius_replay_free(r);
        return NULL;
    }
    r->f = fopen(path, "ab");
    if (!r->f) {
        error_set(err, "io", 0, "%s: %s", path, strerror(errno));
        radius_replay_free(r);
        return NULL;
    }
    return r;
}

void radius_replay_free(radius_replay *r) {
    if (!r)
        return;
    if (r->f) {
        radius_replay_sync(r);
        fclose(r->f);
    }
    free(r->tab);
    free(r->path);
    free(r);
}

int radius_replay_seen(const radius_replay *r, const struct sockaddr *nas, const uint8_t *auth,
                       int64_t now_us) {
    uint8_t key[KEY_LEN];
    make_key(nas, auth, key);
    const entry *e = find(r, key);
    return e->t && now_us - e->t <= r->keep;
}

int radius_replay_add(radius_replay *r, const struct sockaddr *nas, const uint8_t *auth,
                      int64_t now_us) {
    uint8_t key[KEY_LEN];
    make_key(nas, auth, key);
    put(r, key, now_us, now_us);
    r->dirty = 1;
    if (write_rec(r->f, key, now_us) < 0 || fflush(r->f) != 0)
        return -1;
    return 0;
}

void radius_replay_sync(radius_replay *r) {
    if (r->dirty && r->f) {
        fflush(r->f);
        fsync(fileno(r->f));
        r->dirty = 0;
    }
}

size_t radius_replay_count(const radius_replay *r) {
    return r->n;
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int radius_replay_stale(const radius_pkt *pk, int64_t now_us, int64_t max_skew_us,
                        int64_t *event_us, int *has_event) {
    size_t pos = 0;
    radius_attr a;
    int64_t event = -1, delay = 0;
    while (radius_pkt_next_attr(pk, &pos, &a))
        if (a.type == 55 && a.len == 4) /* Event-Timestamp, RFC 2869 5.3 */
            event = (int64_t)be32(a.value);
        else if (a.type == 41 && a.len == 4) /* Acct-Delay-Time, RFC 2866 5.2 */
            delay = (int64_t)be32(a.value);
    *has_event = event >= 0;
    if (event < 0)
        return 0;
    *event_us = event * 1000000;
    int64_t expected = (event + delay) * 1000000, d = now_us - expected;
    return d > max_skew_us || d < -max_skew_us;
}
