#include "timeutil.h"

#include <ctype.h>
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

static int days_in_month(int y, int m) {
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

static int civil_check(const timeutil_civil *c, char *err, size_t errlen) {
    if (c->year < 1900 || c->year > 9999 || c->month < 1 || c->month > 12 || c->day < 1 ||
        c->day > days_in_month(c->year, c->month) || c->hour < 0 || c->hour > 23 || c->minute < 0 ||
        c->minute > 59 || c->second < 0 || c->second > 60 || c->usec < 0 || c->usec > 999999) {
        snprintf(err, errlen, "invalid date or time %04d-%02d-%02d %02d:%02d:%02d", c->year,
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

int timeutil_civil_to_utc(const timeutil_civil *c, int64_t *out, char *err, size_t errlen) {
    if (civil_check(c, err, errlen) < 0)
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

/* The zone currently loaded into the C library, so repeated conversions in
 * one zone do not call tzset() each time. */
static char current_zone[256];

/* Offsets already asked for in the loaded zone, by exact second: syslog lines
 * come many to a second, and each line's conversion asks localtime_r three or
 * four times (about a tenth of spoor-ingest's CPU time uncached).  Exact
 * seconds, not ranges: a zone may change its offset at any second.  A new
 * zone invalidates every entry (gen).  Like the loaded zone itself, this is
 * process state: callers that convert from several threads serialise. */
#define ZCACHE_N 256
static struct {
    unsigned gen;
    int offset;
    int64_t secs;
} zcache[ZCACHE_N];
static unsigned zcache_gen = 1;

static int zone_load(const char *zone, char *err, size_t errlen) {
    if (strcmp(current_zone, zone) == 0)
        return 0;
    if (!timeutil_zone_valid(zone)) {
        snprintf(err, errlen, "unknown time zone '%s'", zone);
        return -1;
    }
    char tz[260];
    snprintf(tz, sizeof tz, ":%s", zone);
    setenv("TZ", tz, 1);
    tzset();
    snprintf(current_zone, sizeof current_zone, "%s", zone);
    zcache_gen++;
    return 0;
}

int timeutil_zone_offset(const char *zone, int64_t t, int *offset_s, char *err, size_t errlen) {
    if (zone_load(zone, err, errlen) < 0)
        return -1;
    time_t secs = (time_t)floordiv(t, TIMEUTIL_US);
    unsigned h = (unsigned)(((uint64_t)secs * 0x9E3779B97F4A7C15u) >> 56) % ZCACHE_N;
    if (zcache[h].gen == zcache_gen && zcache[h].secs == (int64_t)secs) {
        *offset_s = zcache[h].offset;
        return 0;
    }
    struct tm tm;
    if (!localtime_r(&secs, &tm)) {
        snprintf(err, errlen, "time out of range");
        return -1;
    }
    *offset_s = (int)tm.tm_gmtoff;
    zcache[h].gen = zcache_gen;
    zcache[h].secs = (int64_t)secs;
    zcache[h].offset = *offset_s;
    return 0;
}

int timeutil_strftime(const char *zone, int64_t t, const char *fmt, char *buf, size_t n, char *err,
                      size_t errlen) {
    if (zone_load(zone, err, errlen) < 0)
        return -1;
    time_t secs = (time_t)floordiv(t, TIMEUTIL_US);
    struct tm tm;
    if (!localtime_r(&secs, &tm)) {
        snprintf(err, errlen, "time out of range");
        return -1;
    }
    if (n == 0 || strftime(buf, n, fmt, &tm) == 0) {
        snprintf(err, errlen, "formatted time does not fit %zu bytes", n);
        return -1;
    }
    return 0;
}

int timeutil_local_to_utc(const char *zone, const timeutil_civil *c, timeutil_local *out, char *err,
                          size_t errlen) {
    if (civil_check(c, err, errlen) < 0)
        return -1;
    int64_t raw = civil_raw(c);
    /* The offsets in force a day either side bracket any single transition. */
    int oa, ob;
    if (timeutil_zone_offset(zone, raw - 86400 * TIMEUTIL_US, &oa, err, errlen) < 0 ||
        timeutil_zone_offset(zone, raw + 86400 * TIMEUTIL_US, &ob, err, errlen) < 0)
        return -1;
    int offs[2] = {oa, ob};
    int64_t valid[2];
    int nvalid = 0;
    for (int i = 0; i < 2; i++) {
        if (i == 1 && ob == oa)
            break;
        int64_t u = raw - (int64_t)offs[i] * TIMEUTIL_US;
        int o;
        if (timeutil_zone_offset(zone, u, &o, err, errlen) < 0)
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

int timeutil_parse(const char *s, const char *zone, int64_t *out, char *err, size_t errlen) {
    const char *p = s;
    timeutil_civil c = {0};
    if (digits(&p, 4, &c.year) || *p++ != '-' || digits(&p, 2, &c.month) || *p++ != '-' ||
        digits(&p, 2, &c.day) || (*p != 'T' && *p != 't' && *p != ' ') || (p++, 0) ||
        digits(&p, 2, &c.hour) || *p++ != ':' || digits(&p, 2, &c.minute) ||
        (*p == ':' && (p++, digits(&p, 2, &c.second)))) {
        snprintf(err, errlen, "'%s' is not a time of the form YYYY-MM-DDThh:mm:ss[+hh:mm]", s);
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
            snprintf(err, errlen, "'%s': empty fraction of a second", s);
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
            snprintf(err, errlen, "'%s': bad UTC offset", s);
            return -1;
        }
        have_off = 1;
        off = sign * (hh * 3600 + mm * 60);
    }
    if (*p) {
        snprintf(err, errlen, "'%s': unexpected text '%s' after the time", s, p);
        return -1;
    }
    if (have_off) {
        if (timeutil_civil_to_utc(&c, out, err, errlen) < 0)
            return -1;
        *out -= (int64_t)off * TIMEUTIL_US;
        return 0;
    }
    if (!zone) {
        snprintf(err, errlen, "'%s' has no UTC offset: add Z or +hh:mm, or name a zone", s);
        return -1;
    }
    timeutil_local l;
    if (timeutil_local_to_utc(zone, &c, &l, err, errlen) < 0)
        return -1;
    if (l.n == 1) {
        *out = l.cand[0];
        return 0;
    }
    char a[TIMEUTIL_RFC3339_MAX], b[TIMEUTIL_RFC3339_MAX];
    snprintf(err, errlen, "'%s' %s in %s: it could mean %s or %s", s,
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
