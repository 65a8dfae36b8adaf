#include "timeutil.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Howard Hinnant's days_from_civil: exact for the proleptic Gregorian calendar. */
int64_t timeutil_days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (unsigned)(m + (m > 2 ? -3 : 9)) + 2) / 5 + (unsigned)d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void timeutil_civil_from_days(int64_t z, int *y, int *m, int *d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t yy = (int64_t)yoe + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

int timeutil_days_in_month(int y, int m) {
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12)
        return 0;
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

static int civil_check(const timeutil_civil *c, error *err) {
    if (c->year < 1900 || c->year > 9999 || c->month < 1 || c->month > 12 || c->day < 1 ||
        c->day > timeutil_days_in_month(c->year, c->month) || c->hour < 0 || c->hour > 23 ||
        c->minute < 0 || c->minute > 59 || c->second < 0 || c->second > 60 || c->usec < 0 ||
        c->usec > 999999) {
        error_set(err, "bad_time", 0, "invalid date or time %04d-%02d-%02d %02d:%02d:%02d", c->year,
                  c->month, c->day, c->hour, c->minute, c->second);
        return -1;
    }
    return 0;
}

static int64_t civil_raw(const timeutil_civil *c) {
    int sec = c->second == 60 ? 59 : c->second;
    int64_t s = timeutil_days_from_civil(c->year, c->month, c->day) * 86400 + c->hour * 3600 +
                c->minute * 60 + sec;
    return s * TIMEUTIL_US + c->usec;
}

int timeutil_civil_to_utc(const timeutil_civil *c, int64_t *out, error *err) {
    if (civil_check(c, err) < 0)
        return -1;
    *out = civil_raw(c);
    return 0;
}

static int64_t floordiv(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

void timeutil_utc_to_civil(int64_t t, timeutil_civil *c) {
    int64_t secs = floordiv(t, TIMEUTIL_US);
    c->usec = (int)(t - secs * TIMEUTIL_US);
    int64_t days = floordiv(secs, 86400);
    int64_t rem = secs - days * 86400;
    timeutil_civil_from_days(days, &c->year, &c->month, &c->day);
    c->hour = (int)(rem / 3600);
    c->minute = (int)(rem % 3600 / 60);
    c->second = (int)(rem % 60);
}

int timeutil_zone_valid(const char *zone) {
    if (!zone || !*zone || strlen(zone) > 200)
        return 0;
    if (strcmp(zone, "UTC") == 0)
        return 1;
    /* Only IANA names: no absolute paths, no "..", no POSIX TZ strings. */
    if (zone[0] == '/' || strstr(zone, ".."))
        return 0;
    for (const char *p = zone; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("/_-+", *p))
            return 0;
    char path[256];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", zone);
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* ---- zones, from the system's TZif files (RFC 8536) ------------------------
 *
 * Each zone is read once and kept for the life of the process, immutable, so
 * conversions need no lock and no process-wide state: parsers are pure
 * functions that may run on any number of threads.  (Before, the C library's
 * TZ was switched with setenv/tzset, and every parse ran under one lock.)
 * A zone is its explicit transitions and, for instants after the last one,
 * the POSIX TZ rule in the file's footer (Debian's files are "slim": the
 * rule carries everything after the last change of a zone's rules). */

typedef struct tz_type {
    int32_t utoff; /* seconds east of UTC */
    uint8_t isdst;
    uint8_t abbr; /* index into abbrs */
} tz_type;

/* A POSIX TZ rule day: Jn (julian, no Feb 29), n (zero-based, with Feb 29)
 * or Mm.w.d, and the local time of the change in seconds. */
typedef struct tz_rday {
    char kind; /* 'J', 'D' or 'M' */
    int a, b, c;
    int32_t secs;
} tz_rday;

typedef struct tz_rule {
    int has;
    int32_t std_off, dst_off; /* seconds east of UTC */
    char std_abbr[16], dst_abbr[16];
    int has_dst;
    tz_rday start, end;
} tz_rule;

typedef struct tz_zone {
    char name[200];
    int n_trans, n_types;
    int64_t *trans; /* seconds since the epoch, ascending */
    uint8_t *tidx;  /* the type in effect from each transition */
    tz_type *types;
    char *abbrs;
    int n_abbrs;
    tz_rule rule;
} tz_zone;

static const tz_zone utc_zone = {
    .name = "UTC", .n_types = 1, .types = (tz_type[]){{0, 0, 0}}, .abbrs = "UTC", .n_abbrs = 4};

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p) {
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* POSIX TZ parsing: an abbreviation ("CET" or "<+0545>"). */
static const char *rule_abbr(const char *p, char *out, size_t n) {
    size_t k = 0;
    if (*p == '<') {
        for (p++; *p && *p != '>'; p++)
            if (k + 1 < n)
                out[k++] = *p;
        if (*p != '>')
            return NULL;
        p++;
    } else
        for (; isalpha((unsigned char)*p); p++)
            if (k + 1 < n)
                out[k++] = *p;
    out[k] = '\0';
    return k >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]], hours up to 167 (RFC 8536's extension of POSIX). */
static const char *rule_time(const char *p, int32_t *secs) {
    int sign = 1, h = 0, m = 0, sec = 0;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if (!isdigit((unsigned char)*p))
        return NULL;
    while (isdigit((unsigned char)*p))
        h = h * 10 + (*p++ - '0');
    if (*p == ':') {
        p++;
        m = (int)strtol(p, (char **)&p, 10);
        if (*p == ':') {
            p++;
            sec = (int)strtol(p, (char **)&p, 10);
        }
    }
    if (h > 167 || m > 59 || sec > 59)
        return NULL;
    *secs = sign * (h * 3600 + m * 60 + sec);
    return p;
}

static const char *rule_day(const char *p, tz_rday *d) {
    memset(d, 0, sizeof *d);
    d->secs = 7200; /* 02:00:00 unless given */
    if (*p == 'J') {
        d->kind = 'J';
        d->a = (int)strtol(p + 1, (char **)&p, 10);
        if (d->a < 1 || d->a > 365)
            return NULL;
    } else if (*p == 'M') {
        d->kind = 'M';
        d->a = (int)strtol(p + 1, (char **)&p, 10);
        if (*p++ != '.')
            return NULL;
        d->b = (int)strtol(p, (char **)&p, 10);
        if (*p++ != '.')
            return NULL;
        d->c = (int)strtol(p, (char **)&p, 10);
        if (d->a < 1 || d->a > 12 || d->b < 1 || d->b > 5 || d->c < 0 || d->c > 6)
            return NULL;
    } else if (isdigit((unsigned char)*p)) {
        d->kind = 'D';
        d->a = (int)strtol(p, (char **)&p, 10);
        if (d->a > 365)
            return NULL;
    } else
        return NULL;
    if (*p == '/')
        p = rule_time(p + 1, &d->secs);
    return p;
}

/* "CET-1CEST,M3.5.0,M10.5.0/3" and the like; 0 on success. */
static int rule_parse(const char *p, tz_rule *r) {
    memset(r, 0, sizeof *r);
    int32_t off;
    if (!(p = rule_abbr(p, r->std_abbr, sizeof r->std_abbr)) || !(p = rule_time(p, &off)))
        return -1;
    r->std_off = -off; /* POSIX offsets count west */
    r->has = 1;
    if (!*p)
        return 0;
    if (!(p = rule_abbr(p, r->dst_abbr, sizeof r->dst_abbr)))
        return -1;
    r->has_dst = 1;
    r->dst_off = r->std_off + 3600;
    if (*p && *p != ',') {
        if (!(p = rule_time(p, &off)))
            return -1;
        r->dst_off = -off;
    }
    if (*p != ',' || !(p = rule_day(p + 1, &r->start)) || *p != ',' ||
        !(p = rule_day(p + 1, &r->end)) || *p)
        return -1;
    return 0;
}

static int is_leap(int64_t y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Seconds since the epoch of rule day D in year Y, at its local time
 * under offset OFF (seconds east). */
static int64_t rday_instant(const tz_rday *d, int y, int32_t off) {
    int64_t day;
    if (d->kind == 'J')
        day = timeutil_days_from_civil(y, 1, 1) + d->a - 1 + (is_leap(y) && d->a >= 60);
    else if (d->kind == 'D')
        day = timeutil_days_from_civil(y, 1, 1) + d->a;
    else {
        int64_t first = timeutil_days_from_civil(y, d->a, 1);
        int wd = (int)(((first % 7) + 11) % 7); /* 1970-01-01 was a Thursday (4) */
        int mday = 1 + (d->c - wd + 7) % 7 + 7 * (d->b - 1);
        static const int ml[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int len = ml[d->a - 1] + (d->a == 2 && is_leap(y));
        while (mday > len)
            mday -= 7;
        day = first + mday - 1;
    }
    return day * 86400 + d->secs - off;
}

/* The type under the footer rule at SECS. */
static void rule_at(const tz_rule *r, int64_t secs, int32_t *off, int *isdst, const char **abbr) {
    *off = r->std_off;
    *isdst = 0;
    *abbr = r->std_abbr;
    if (!r->has_dst)
        return;
    timeutil_civil c;
    timeutil_utc_to_civil(secs * TIMEUTIL_US, &c);
    int in_dst = 0;
    /* The year's changes, and the neighbours' (a southern rule spans new year). */
    for (int y = c.year - 1; y <= c.year + 1 && !in_dst; y++) {
        int64_t s = rday_instant(&r->start, y, r->std_off);
        int64_t e = rday_instant(&r->end, y, r->dst_off);
        if (s < e)
            in_dst = secs >= s && secs < e;
        else /* DST across new year: from start to the next year's end */
            in_dst = secs >= s && secs < rday_instant(&r->end, y + 1, r->dst_off);
    }
    if (in_dst) {
        *off = r->dst_off;
        *isdst = 1;
        *abbr = r->dst_abbr;
    }
}

/* Reads a TZif file (version 1 to 4) into Z; 0 on success. */
static int zone_read(const char *path, tz_zone *z, error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        error_set(err, "bad_zone", 0, "cannot read %s", path);
        return -1;
    }
    unsigned char *d = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 65536 > cap)
            d = realloc(d, cap = cap * 2 + 65536);
        if (!d)
            abort();
        size_t r = fread(d + len, 1, cap - len, f);
        len += r;
        if (r == 0)
            break;
    }
    fclose(f);
    int rc = -1;
    const unsigned char *p = d, *end = d + len;
    if (len < 44 || memcmp(p, "TZif", 4)) {
        error_set(err, "bad_zone", 0, "%s: not a TZif file", path);
        goto out;
    }
    int version = p[4] ? p[4] - '0' : 1;
    int tsize = 4;
    for (int pass = 0; pass < 2; pass++) {
        if (end - p < 44 || memcmp(p, "TZif", 4))
            goto bad;
        uint32_t isut = be32(p + 20), isstd = be32(p + 24), leap = be32(p + 28),
                 timecnt = be32(p + 32), typecnt = be32(p + 36), charcnt = be32(p + 40);
        p += 44;
        size_t need = (size_t)timecnt * tsize + timecnt + typecnt * 6 + charcnt +
                      (size_t)leap * (tsize + 4) + isstd + isut;
        if (typecnt == 0 || typecnt > 256 || timecnt > 100000 || charcnt > 4096 ||
            (size_t)(end - p) < need)
            goto bad;
        if (pass == 0 && version >= 2) { /* skip the 32-bit data */
            p += need;
            tsize = 8;
            continue;
        }
        z->n_trans = (int)timecnt;
        z->n_types = (int)typecnt;
        z->trans = calloc(timecnt + 1, sizeof *z->trans);
        z->tidx = calloc(timecnt + 1, 1);
        z->types = calloc(typecnt, sizeof *z->types);
        z->abbrs = calloc(charcnt + 1, 1);
        if (!z->trans || !z->tidx || !z->types || !z->abbrs)
            abort();
        for (uint32_t i = 0; i < timecnt; i++, p += tsize)
            z->trans[i] = tsize == 8 ? be64(p) : (int32_t)be32(p);
        for (uint32_t i = 0; i < timecnt; i++, p++) {
            if (*p >= typecnt)
                goto bad;
            z->tidx[i] = *p;
        }
        for (uint32_t i = 0; i < typecnt; i++, p += 6) {
            z->types[i].utoff = (int32_t)be32(p);
            z->types[i].isdst = p[4];
            z->types[i].abbr = p[5];
            if (p[5] >= charcnt)
                goto bad;
        }
        memcpy(z->abbrs, p, charcnt);
        z->n_abbrs = (int)charcnt;
        p += charcnt + (size_t)leap * (tsize + 4) + isstd + isut;
        break;
    }
    /* The footer: "\nTZ\n" (version 2 and later). */
    if (version >= 2 && end - p >= 2 && *p == '\n') {
        const unsigned char *nl = memchr(p + 1, '\n', (size_t)(end - p - 1));
        if (nl && nl > p + 1) {
            char tz[128];
            snprintf(tz, sizeof tz, "%.*s", (int)(nl - p - 1), (const char *)p + 1);
            if (rule_parse(tz, &z->rule) < 0) {
                error_set(err, "bad_zone", 0, "%s: footer rule '%s' not understood", path, tz);
                goto out;
            }
        }
    }
    rc = 0;
    goto out;
bad:
    error_set(err, "bad_zone", 0, "%s: malformed TZif data", path);
out:
    free(d);
    return rc;
}

/* Zones read so far: a list only ever appended to (published with a
 * release store, so readers need no lock); the lock serialises loading. */
typedef struct zone_node {
    tz_zone z;
    struct zone_node *next;
} zone_node;
static _Atomic(zone_node *) zones;
static pthread_mutex_t zones_mu = PTHREAD_MUTEX_INITIALIZER;

static const tz_zone *zone_find(const char *zone) {
    for (zone_node *n = atomic_load_explicit(&zones, memory_order_acquire); n; n = n->next)
        if (!strcmp(n->z.name, zone))
            return &n->z;
    return NULL;
}

static const tz_zone *zone_get(const char *zone, error *err) {
    if (!strcmp(zone, "UTC"))
        return &utc_zone;
    /* The zone of this thread's last conversion, without walking the list. */
    static _Thread_local const tz_zone *last;
    if (last && !strcmp(last->name, zone))
        return last;
    const tz_zone *z = zone_find(zone);
    if (!z) {
        if (!timeutil_zone_valid(zone)) {
            error_set(err, "bad_zone", 0, "unknown time zone '%s'", zone);
            return NULL;
        }
        pthread_mutex_lock(&zones_mu);
        z = zone_find(zone); /* another thread may have read it meanwhile */
        if (!z) {
            zone_node *n = calloc(1, sizeof *n);
            if (!n)
                abort();
            snprintf(n->z.name, sizeof n->z.name, "%s", zone);
            char path[256];
            snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", zone);
            if (zone_read(path, &n->z, err) < 0) {
                pthread_mutex_unlock(&zones_mu);
                free(n->z.trans);
                free(n->z.tidx);
                free(n->z.types);
                free(n->z.abbrs);
                free(n);
                return NULL;
            }
            n->next = atomic_load_explicit(&zones, memory_order_relaxed);
            atomic_store_explicit(&zones, n, memory_order_release);
            z = &n->z;
        }
        pthread_mutex_unlock(&zones_mu);
    }
    last = z;
    return z;
}

/* Offset, DST flag and abbreviation of Z at SECS. */
static void zone_at(const tz_zone *z, int64_t secs, int32_t *off, int *isdst, const char **abbr) {
    if (z->n_trans > 0 && secs >= z->trans[z->n_trans - 1] && z->rule.has) {
        rule_at(&z->rule, secs, off, isdst, abbr);
        return;
    }
    int t = 0; /* before the first transition: type 0 (RFC 8536 3.2) */
    if (z->n_trans > 0 && secs >= z->trans[0]) {
        int lo = 0, hi = z->n_trans - 1; /* the last transition at or before SECS */
        while (lo < hi) {
            int mid = lo + (hi - lo + 1) / 2;
            if (z->trans[mid] <= secs)
                lo = mid;
            else
                hi = mid - 1;
        }
        t = z->tidx[lo];
    } else if (z->n_trans == 0 && z->rule.has) {
        rule_at(&z->rule, secs, off, isdst, abbr);
        return;
    }
    *off = z->types[t].utoff;
    *isdst = z->types[t].isdst;
    *abbr = z->abbrs + z->types[t].abbr;
}

/* Offset and abbreviation of ZONE at instant T (microseconds). */
static int zone_lookup(const char *zone, int64_t t, int32_t *off, const char **abbr, error *err) {
    const tz_zone *z = zone_get(zone, err);
    if (!z)
        return -1;
    int dst;
    zone_at(z, floordiv(t, TIMEUTIL_US), off, &dst, abbr);
    return 0;
}

int timeutil_zone_offset(const char *zone, int64_t t, int *offset_s, error *err) {
    int32_t off;
    const char *abbr;
    if (zone_lookup(zone, t, &off, &abbr, err) < 0)
        return -1;
    *offset_s = off;
    return 0;
}

int timeutil_zone_abbrev(const char *zone, int64_t t, char *buf, size_t n, error *err) {
    int32_t off;
    const char *abbr;
    if (zone_lookup(zone, t, &off, &abbr, err) < 0)
        return -1;
    snprintf(buf, n, "%s", abbr);
    return 0;
}

int timeutil_strftime(const char *zone, int64_t t, const char *fmt, char *buf, size_t n,
                      error *err) {
    const tz_zone *z = zone_get(zone, err);
    if (!z)
        return -1;
    int64_t secs = floordiv(t, TIMEUTIL_US);
    int32_t off;
    int dst;
    const char *abbr;
    zone_at(z, secs, &off, &dst, &abbr);
    timeutil_civil c;
    timeutil_utc_to_civil((secs + off) * TIMEUTIL_US, &c);
    int64_t days = timeutil_days_from_civil(c.year, c.month, c.day);
    struct tm tm = {.tm_sec = c.second,
                    .tm_min = c.minute,
                    .tm_hour = c.hour,
                    .tm_mday = c.day,
                    .tm_mon = c.month - 1,
                    .tm_year = c.year - 1900,
                    .tm_wday = (int)(((days % 7) + 11) % 7),
                    .tm_yday = (int)(days - timeutil_days_from_civil(c.year, 1, 1)),
                    .tm_isdst = dst,
                    .tm_gmtoff = off,
                    .tm_zone = abbr};
    if (n == 0 || strftime(buf, n, fmt, &tm) == 0) {
        error_set(err, "too_long", 0, "formatted time does not fit %zu bytes", n);
        return -1;
    }
    return 0;
}

int timeutil_local_to_utc(const char *zone, const timeutil_civil *c, timeutil_local *out,
                          error *err) {
    if (civil_check(c, err) < 0)
        return -1;
    int64_t raw = civil_raw(c);
    /* The offsets in force a day either side bracket any single transition. */
    int oa, ob;
    if (timeutil_zone_offset(zone, raw - 86400 * TIMEUTIL_US, &oa, err) < 0 ||
        timeutil_zone_offset(zone, raw + 86400 * TIMEUTIL_US, &ob, err) < 0)
        return -1;
    int offs[2] = {oa, ob};
    int64_t valid[2];
    int nvalid = 0;
    for (int i = 0; i < 2; i++) {
        if (i == 1 && ob == oa)
            break;
        int64_t u = raw - (int64_t)offs[i] * TIMEUTIL_US;
        int o;
        if (timeutil_zone_offset(zone, u, &o, err) < 0)
            return -1;
        if (o == offs[i])
            valid[nvalid++] = u;
    }
    if (nvalid == 1) {
        out->n = 1;
        out->cand[0] = out->cand[1] = valid[0];
    } else {
        int64_t a = raw - (int64_t)oa * TIMEUTIL_US, b = raw - (int64_t)ob * TIMEUTIL_US;
        out->n = nvalid;
        out->cand[0] = a < b ? a : b;
        out->cand[1] = a < b ? b : a;
    }
    return 0;
}

static int digits(const char **p, int n, int *v) {
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        x = x * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *v = x;
    return 0;
}

int timeutil_parse(const char *s, const char *zone, int64_t *out, error *err) {
    const char *p = s;
    timeutil_civil c = {0};
    if (digits(&p, 4, &c.year) || *p++ != '-' || digits(&p, 2, &c.month) || *p++ != '-' ||
        digits(&p, 2, &c.day) || (*p != 'T' && *p != 't' && *p != ' ') || (p++, 0) ||
        digits(&p, 2, &c.hour) || *p++ != ':' || digits(&p, 2, &c.minute) ||
        (*p == ':' && (p++, digits(&p, 2, &c.second)))) {
        error_set(err, "bad_time", 0, "'%s' is not a time of the form YYYY-MM-DDThh:mm:ss[+hh:mm]",
                  s);
        return -1;
    }
    if (*p == '.' || *p == ',') {
        p++;
        int n = 0;
        while (isdigit((unsigned char)*p)) {
            if (n < 6) {
                c.usec = c.usec * 10 + (*p - '0');
                n++;
            }
            p++;
        }
        if (n == 0) {
            error_set(err, "bad_time", 0, "'%s': empty fraction of a second", s);
            return -1;
        }
        for (; n < 6; n++)
            c.usec *= 10;
    }
    int have_off = 0, off = 0;
    if (*p == 'Z' || *p == 'z') {
        have_off = 1;
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, hh, mm;
        if (digits(&p, 2, &hh) || (*p == ':' && (p++, 0)) || digits(&p, 2, &mm) || hh > 23 ||
            mm > 59) {
            error_set(err, "bad_time", 0, "'%s': bad UTC offset", s);
            return -1;
        }
        have_off = 1;
        off = sign * (hh * 3600 + mm * 60);
    }
    if (*p) {
        error_set(err, "bad_time", 0, "'%s': unexpected text '%s' after the time", s, p);
        return -1;
    }
    if (have_off) {
        if (timeutil_civil_to_utc(&c, out, err) < 0)
            return -1;
        *out -= (int64_t)off * TIMEUTIL_US;
        return 0;
    }
    if (!zone) {
        error_set(err, "no_offset", 0, "'%s' has no UTC offset: add Z or +hh:mm, or name a zone",
                  s);
        return -1;
    }
    timeutil_local l;
    if (timeutil_local_to_utc(zone, &c, &l, err) < 0)
        return -1;
    if (l.n == 1) {
        *out = l.cand[0];
        return 0;
    }
    char a[TIMEUTIL_RFC3339_MAX], b[TIMEUTIL_RFC3339_MAX];
    error_set(err, l.n == 2 ? "ambiguous_time" : "no_such_time", 0,
              "'%s' %s in %s: it could mean %s or %s", s,
              l.n == 2 ? "is ambiguous" : "does not exist", zone, timeutil_format(l.cand[0], a),
              timeutil_format(l.cand[1], b));
    return -1;
}

char *timeutil_format(int64_t t, char *buf) {
    timeutil_civil c;
    timeutil_utc_to_civil(t, &c);
    if (c.usec)
        snprintf(buf, TIMEUTIL_RFC3339_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", c.year, c.month,
                 c.day, c.hour, c.minute, c.second, c.usec);
    else
        snprintf(buf, TIMEUTIL_RFC3339_MAX, "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year, c.month,
                 c.day, c.hour, c.minute, c.second);
    return buf;
}

int64_t timeutil_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * TIMEUTIL_US + ts.tv_nsec / 1000;
}
