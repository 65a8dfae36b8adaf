#include "syslog.h"
#include "scan.h"

#include "timeutil.h"

#include <stdio.h>
#include <string.h>

/* All scanning uses an index into [0, n): the line is not NUL-terminated and
 * may hold NUL bytes, so no C string function is ever applied to it. */

static syslog_slice slice(const char *s, size_t from, size_t to) {
    syslog_slice r = {s + from, to - from};
    return r;
}

/* Reads exactly N digits at s[*i]. */
/* Fractional seconds: up to 9 digits are read, the first 6 kept (µs). */
static void fraction(const char *s, size_t n, size_t *i, int *usec) {
    if (*i >= n || (s[*i] != '.' && s[*i] != ',') || *i + 1 >= n || !scan_is_digit(s[*i + 1]))
        return;
    (*i)++;
    int v = 0, k = 0;
    while (*i < n && scan_is_digit(s[*i])) {
        if (k < 6) {
            v = v * 10 + (s[*i] - '0');
            k++;
        }
        (*i)++;
    }
    for (; k < 6; k++)
        v *= 10;
    *usec = v;
}

/* An RFC 3339 timestamp occupying exactly [from, to).  has_off is 0 when
 * the writer left out the UTC offset (then the time is wall-clock). */
static int parse_rfc3339(const char *s, size_t from, size_t to, timeutil_civil *c, int *has_off,
                         int *off_s) {
    size_t i = from;
    memset(c, 0, sizeof *c);
    *has_off = 0;
    *off_s = 0;
    if (scan_digits(s, to, &i, 4, &c->year) || i >= to || s[i++] != '-' ||
        scan_digits(s, to, &i, 2, &c->month) || i >= to || s[i++] != '-' ||
        scan_digits(s, to, &i, 2, &c->day) || i >= to || (s[i] != 'T' && s[i] != 't') ||
        (i++, scan_digits(s, to, &i, 2, &c->hour)) || i >= to || s[i++] != ':' ||
        scan_digits(s, to, &i, 2, &c->minute) || i >= to || s[i++] != ':' ||
        scan_digits(s, to, &i, 2, &c->second))
        return -1;
    fraction(s, to, &i, &c->usec);
    if (i < to && (s[i] == 'Z' || s[i] == 'z')) {
        *has_off = 1;
        i++;
    } else if (i < to && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i++] == '-' ? -1 : 1, hh, mm;
        if (scan_digits(s, to, &i, 2, &hh))
            return -1;
        if (i < to && s[i] == ':')
            i++;
        if (scan_digits(s, to, &i, 2, &mm) || hh > 23 || mm > 59)
            return -1;
        *has_off = 1;
        *off_s = sign * (hh * 3600 + mm * 60);
    }
    if (i != to)
        return -1;
    if (c->year < 1900 || c->day < 1 || c->day > timeutil_days_in_month(c->year, c->month) ||
        c->hour > 23 || c->minute > 59 || c->second > 60)
        return -1;
    return 0;
}

static int64_t distance(int64_t a, int64_t b) {
    return a > b ? a - b : b - a;
}

/* Wall-clock C in ZONE to one instant.  The caller has validated the date,
 * so a failure here can only be the zone. */
static int local_instant(const char *zone, const timeutil_civil *c, int64_t ref, int64_t *out,
                         unsigned *flags) {
    timeutil_local l;
    if (timeutil_local_to_utc(zone, c, &l, NULL) < 0)
        return -1;
    *flags = SYSLOG_F_LOCAL_TIME;
    if (l.n == 1) {
        *out = l.cand[0];
    } else if (l.n == 2) {
        /* Fall-back overlap: both readings are real instants, the log writer
         * meant the one nearest to when the line reached Kafka. */
        *flags |= SYSLOG_F_AMBIGUOUS;
        *out = (ref > 0 && distance(l.cand[1], ref) < distance(l.cand[0], ref)) ? l.cand[1]
                                                                                : l.cand[0];
    } else {
        /* Spring-forward gap: no such wall-clock time.  Usually a writer whose
         * clock or zone lags; the earlier reading is the conservative one. */
        *flags |= SYSLOG_F_NONEXISTENT;
        *out = l.cand[0];
    }
    return 0;
}

static const char *zone_for(const syslog_ctx *ctx, syslog_slice host, unsigned *flags) {
    const char *z = NULL;
    if (ctx && ctx->zone_for_host && host.len)
        z = ctx->zone_for_host(ctx->zone_arg, host.p, host.len);
    if (!z) {
        *flags |= SYSLOG_F_DEFAULT_ZONE;
        z = ctx && ctx->default_zone ? ctx->default_zone : "UTC";
    }
    return z;
}

static int month_number(const char *s) {
    static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    char m[3];
    for (int k = 0; k < 3; k++) {
        char c = s[k];
        m[k] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    for (int k = 0; k < 12; k++)
        if (memcmp(names + 3 * k, m, 3) == 0)
            return k + 1;
    return 0;
}

/* "Mmm dd hh:mm:ss[.frac]" at s[*i]; day may be " d", "d" or "dd".
 * Returns 1 parsed, 0 not this shape, -1 this shape with bad values. */
static int parse_bsd_time(const char *s, size_t n, size_t *i, timeutil_civil *c) {
    size_t k = *i;
    memset(c, 0, sizeof *c);
    if (k + 4 > n || s[k + 3] != ' ' || !(c->month = month_number(s + k)))
        return 0;
    k += 4;
    if (k < n && s[k] == ' ')
        k++;
    if (k >= n || !scan_is_digit(s[k]))
        return 0;
    c->day = s[k++] - '0';
    if (k < n && scan_is_digit(s[k]))
        c->day = c->day * 10 + (s[k++] - '0');
    if (k >= n || s[k++] != ' ')
        return 0;
    if (scan_digits(s, n, &k, 2, &c->hour) || k >= n || s[k++] != ':' ||
        scan_digits(s, n, &k, 2, &c->minute) || k >= n || s[k++] != ':' ||
        scan_digits(s, n, &k, 2, &c->second))
        return 0;
    fraction(s, n, &k, &c->usec);
    if (k < n && s[k] != ' ')
        return 0;
    *i = k;
    if (c->day < 1 || c->day > timeutil_days_in_month(2000, c->month) || c->hour > 23 ||
        c->minute > 59 || c->second > 60)
        return -1;
    return 1;
}

/* Year inference for an RFC 3164 time: try the reference's year and its
 * neighbours and keep the instant closest to the reference. */
static int infer_year(const char *zone, timeutil_civil *c, int64_t ref, int64_t *out,
                      unsigned *flags) {
    timeutil_civil rc;
    timeutil_utc_to_civil(ref, &rc);
    int found = 0;
    int64_t best = 0;
    unsigned best_flags = 0;
    for (int y = rc.year - 1; y <= rc.year + 1; y++) {
        if (c->day > timeutil_days_in_month(y, c->month) || y < 1900 || y > 9999)
            continue; /* Feb 29 outside a leap year */
        timeutil_civil t = *c;
        t.year = y;
        int64_t inst;
        unsigned f;
        if (local_instant(zone, &t, ref, &inst, &f) < 0)
            return -2;
        if (!found || distance(inst, ref) < distance(best, ref)) {
            best = inst;
            best_flags = f;
            c->year = y;
            found = 1;
        }
    }
    if (!found)
        return -1;
    *out = best;
    *flags |= best_flags | SYSLOG_F_YEAR_INFERRED;
    return 0;
}

/* Converts a parsed timestamp now that the host (hence the zone) is known. */
static int resolve_time(const syslog_ctx *ctx, syslog_record *out, int bsd, timeutil_civil *c,
                        int has_off, int off_s, size_t tpos, error *err) {
    if (bsd) {
        if (!ctx || ctx->ref_us <= 0)
            return error_set(err, "no_reference", tpos,
                             "RFC 3164 timestamp has no year and no reference instant was given");
        out->zone = zone_for(ctx, out->host, &out->flags);
        int r = infer_year(out->zone, c, ctx->ref_us, &out->time_us, &out->flags);
        if (r == -2)
            return error_set(err, "bad_zone", tpos, "cannot convert time in zone '%.64s'",
                             out->zone);
        if (r < 0)
            return error_set(err, "bad_timestamp", tpos,
                             "no year near the reference has that date");
        return 0;
    }
    if (has_off) {
        int64_t t;
        if (timeutil_civil_to_utc(c, &t, NULL) < 0)
            return error_set(err, "bad_timestamp", tpos, "invalid date or time");
        out->time_us = t - (int64_t)off_s * TIMEUTIL_US;
        return 0;
    }
    /* RFC 3339 without an offset: some relays strip it; read it as wall-clock
     * time of the host's zone rather than guessing UTC. */
    out->zone = zone_for(ctx, out->host, &out->flags);
    unsigned f;
    if (local_instant(out->zone, c, ctx ? ctx->ref_us : 0, &out->time_us, &f) < 0)
        return error_set(err, "bad_zone", tpos, "cannot convert time in zone '%.64s'", out->zone);
    out->flags |= f;
    return 0;
}

static int64_t pid_value(syslog_slice p) {
    if (p.len == 0 || p.len > 18)
        return -1;
    int64_t v = 0;
    for (size_t k = 0; k < p.len; k++) {
        if (!scan_is_digit(p.p[k]))
            return -1;
        v = v * 10 + (p.p[k] - '0');
    }
    return v;
}

/* rsyslog's repeated-message reduction: "message repeated 3 times: [ text]". */
static void unwrap_repeat(syslog_record *out) {
    static const char head[] = "message repeated ";
    const size_t hl = sizeof head - 1;
    const char *s = out->msg.p;
    size_t n = out->msg.len, i = hl;
    if (n < hl + 12 || memcmp(s, head, hl) != 0 || s[n - 1] != ']')
        return;
    long count = 0;
    while (i < n && scan_is_digit(s[i]) && count < 100000000)
        count = count * 10 + (s[i++] - '0');
    static const char mid[] = " times: [";
    const size_t ml = sizeof mid - 1;
    if (i == hl || count < 1 || i + ml > n - 1 || memcmp(s + i, mid, ml) != 0)
        return;
    i += ml;
    if (i < n - 1 && s[i] == ' ')
        i++;
    out->msg = slice(s, i, n - 1);
    out->repeat = count;
    out->flags |= SYSLOG_F_REPEATED;
}

/* A space-delimited token starting at *i; returns its end. */
static size_t token_end(const char *s, size_t n, size_t i) {
    while (i < n && s[i] != ' ')
        i++;
    return i;
}

static int parse_sd(const char *s, size_t n, size_t *i, error *err) {
    size_t k = *i;
    while (k < n && s[k] == '[') {
        size_t id = ++k;
        while (k < n && s[k] != ' ' && s[k] != ']' && s[k] != '=' && s[k] != '"')
            k++;
        if (k == id)
            return error_set(err, "bad_sd", k, "structured-data element without an SD-ID");
        while (k < n && s[k] == ' ') {
            size_t name = ++k;
            while (k < n && s[k] != '=' && s[k] != ' ' && s[k] != ']' && s[k] != '"')
                k++;
            if (k == name || k + 1 >= n || s[k] != '=' || s[k + 1] != '"')
                return error_set(err, "bad_sd", k,
                                 "structured-data parameter is not name=\"value\"");
            k += 2;
            /* PARAM-VALUE escapes are \" \\ \]; a backslash always takes the
             * next byte with it, which also covers the looser writers. */
            while (k < n && s[k] != '"')
                k += (s[k] == '\\' && k + 1 < n) ? 2 : 1;
            if (k >= n)
                return error_set(err, "bad_sd", k, "unterminated structured-data parameter value");
            k++;
        }
        if (k >= n || s[k] != ']')
            return error_set(err, "bad_sd", k, "structured-data element not closed by ']'");
        k++;
    }
    *i = k;
    return 0;
}

static int parse_5424(const char *s, size_t n, size_t i, const syslog_ctx *ctx, syslog_record *out,
                      error *err) {
    syslog_slice f[5]; /* TIMESTAMP HOST APP PROCID MSGID */
    size_t fpos[5];
    out->flags |= SYSLOG_F_RFC5424;
    for (int k = 0; k < 5; k++) {
        if (i >= n)
            return error_set(err, k == 0 ? "no_timestamp" : "truncated", i,
                             "RFC 5424 header ends before field %d", k + 1);
        size_t e = token_end(s, n, i);
        if (e == i)
            return error_set(err, k == 0 ? "no_timestamp" : "truncated", i,
                             "empty RFC 5424 header field %d", k + 1);
        fpos[k] = i;
        f[k] = slice(s, i, e);
        i = e < n ? e + 1 : e;
    }
    for (int k = 1; k < 5; k++)
        if (f[k].len == 1 && f[k].p[0] == '-')
            f[k].len = 0;
    out->timestamp = f[0];
    out->host = f[1];
    out->app = f[2];
    out->procid = f[3];
    out->msgid = f[4];
    if (!out->host.len)
        out->flags |= SYSLOG_F_NO_HOST;
    if (f[0].len == 1 && f[0].p[0] == '-')
        return error_set(err, "no_timestamp", fpos[0], "RFC 5424 timestamp is the NILVALUE '-'");
    timeutil_civil c;
    int has_off, off_s;
    if (parse_rfc3339(s, fpos[0], fpos[0] + f[0].len, &c, &has_off, &off_s) < 0)
        return error_set(err, "bad_timestamp", fpos[0], "RFC 5424 timestamp is not RFC 3339");
    if (i >= n || (s[i - 1] != ' '))
        return error_set(err, "truncated", i, "RFC 5424 line ends before STRUCTURED-DATA");
    size_t sd0 = i;
    if (s[i] == '-') {
        i++;
    } else if (s[i] == '[') {
        if (parse_sd(s, n, &i, err) < 0)
            return -1;
        out->sd = slice(s, sd0, i);
    } else {
        return error_set(err, "bad_sd", i, "STRUCTURED-DATA is neither '-' nor '['");
    }
    if (i < n && s[i] != ' ')
        return error_set(err, "bad_sd", i, "no space after STRUCTURED-DATA");
    if (i < n)
        i++;
    if (n - i >= 3 && (unsigned char)s[i] == 0xEF && (unsigned char)s[i + 1] == 0xBB &&
        (unsigned char)s[i + 2] == 0xBF) {
        out->flags |= SYSLOG_F_BOM;
        i += 3;
    }
    /* rsyslog's RSYSLOG_SyslogProtocol23Format writes "%STRUCTURED-DATA% %msg%"
     * and a message it received in RFC 3164 form keeps the space that
     * followed its tag: "- -  4F3A2B1C0D: client=...".  No MTA's text begins
     * with a space that matters. */
    while (i < n && s[i] == ' ')
        i++;
    out->msg = slice(s, i, n);
    out->pid = pid_value(out->procid);
    return resolve_time(ctx, out, 0, &c, has_off, off_s, fpos[0], err);
}

/* The RFC 3164 TAG at s[i]: "name:", "name[pid]:", or rsyslog's 32-byte
 * truncation of those ("name[pid" / "name[pid]").  Returns 1 with *end just
 * past the tag, 0 if the word is not a tag. */
static int parse_tag(const char *s, size_t n, size_t i, syslog_record *out, size_t *end) {
    size_t k = i;
    while (k < n && s[k] != ' ' && s[k] != ':' && s[k] != '[')
        k++;
    if (k == i || k >= n || s[k] == ' ')
        return 0;
    out->app = slice(s, i, k);
    if (s[k] == '[') {
        size_t p0 = ++k;
        while (k < n && s[k] != ']' && s[k] != ' ')
            k++;
        out->procid = slice(s, p0, k);
        if (k < n && s[k] == ']')
            k++;
    }
    if (k < n && s[k] == ':')
        k++;
    *end = k;
    return 1;
}

/* "mail.info", "local3.warning": the facility and severity some syslog
 * daemons print between the hostname and the tag. */
static int facility_word(const char *s, size_t from, size_t to) {
    static const char *const fac[] = {"kern",   "user",   "mail",   "daemon", "auth",     "syslog",
                                      "lpr",    "news",   "uucp",   "cron",   "authpriv", "ftp",
                                      "local0", "local1", "local2", "local3", "local4",   "local5",
                                      "local6", "local7", NULL};
    static const char *const sev[] = {"emerg",   "alert",  "crit", "err",   "error", "warn",
                                      "warning", "notice", "info", "debug", NULL};
    size_t dot = from;
    while (dot < to && s[dot] != '.')
        dot++;
    if (dot == to)
        return 0;
    int ok = 0;
    for (int k = 0; fac[k] && !ok; k++)
        ok = dot - from == strlen(fac[k]) && memcmp(s + from, fac[k], dot - from) == 0;
    if (!ok)
        return 0;
    for (int k = 0; sev[k]; k++)
        if (to - dot - 1 == strlen(sev[k]) && memcmp(s + dot + 1, sev[k], to - dot - 1) == 0)
            return 1;
    return 0;
}

static int parse_3164(const char *s, size_t n, size_t i, const syslog_ctx *ctx, syslog_record *out,
                      error *err) {
    timeutil_civil c;
    int has_off = 0, off_s = 0, bsd = 0;
    size_t tpos = i;
    if (i + 4 < n && scan_is_digit(s[i]) && scan_is_digit(s[i + 1]) && scan_is_digit(s[i + 2]) &&
        scan_is_digit(s[i + 3]) && s[i + 4] == '-') {
        size_t e = token_end(s, n, i);
        if (parse_rfc3339(s, i, e, &c, &has_off, &off_s) < 0)
            return error_set(err, "bad_timestamp", i, "timestamp is not valid RFC 3339");
        out->flags |= SYSLOG_F_RFC3339;
        i = e;
    } else {
        int r = parse_bsd_time(s, n, &i, &c);
        if (r == 0)
            return error_set(err, "no_timestamp", i, "no RFC 3164 or RFC 3339 timestamp");
        if (r < 0)
            return error_set(err, "bad_timestamp", i,
                             "RFC 3164 timestamp has an invalid date or time");
        bsd = 1;
    }
    out->timestamp = slice(s, tpos, i);
    while (i < n && s[i] == ' ')
        i++;
    if (i >= n)
        return error_set(err, "truncated", i, "line ends after the timestamp");

    /* A hostname never ends in ':', a tag always does: a first word like
     * "postfix/smtpd[12]:" means the writer left the hostname out. */
    size_t e = token_end(s, n, i);
    if (s[e - 1] == ':') {
        out->flags |= SYSLOG_F_NO_HOST;
    } else {
        out->host = slice(s, i, e);
        i = e;
        while (i < n && s[i] == ' ')
            i++;
    }
    size_t w = token_end(s, n, i);
    if (w < n && facility_word(s, i, w)) {
        out->flags |= SYSLOG_F_LEVEL_WORD;
        i = w + 1;
    }
    size_t tag_end;
    if (i < n && parse_tag(s, n, i, out, &tag_end)) {
        i = tag_end;
        while (i < n && s[i] == ' ') /* see parse_5424: relays may double it */
            i++;
    } else {
        out->flags |= SYSLOG_F_NO_TAG;
    }
    out->msg = slice(s, i, n);
    out->pid = pid_value(out->procid);
    return resolve_time(ctx, out, bsd, &c, has_off, off_s, tpos, err);
}

int syslog_parse(const char *line, size_t len, const syslog_ctx *ctx, syslog_record *out,
                 error *err) {
    memset(out, 0, sizeof *out);
    out->pri = out->facility = out->severity = -1;
    out->pid = -1;
    out->repeat = 1;
    error_clear(err);
    size_t n;
    const char *s = scan_line(line, len, &n);
    if (n == 0)
        return error_set(err, "empty", 0, "empty line");

    size_t i = 0;
    if (s[0] == '<') {
        int v = 0, nd = 0;
        i = 1;
        while (i < n && scan_is_digit(s[i]) && nd < 4) {
            v = v * 10 + (s[i++] - '0');
            nd++;
        }
        if (nd == 0 || nd > 3 || i >= n || s[i] != '>' || v > 191)
            return error_set(err, "bad_pri", i, "PRI is not <0..191>");
        i++;
        out->pri = v;
        out->facility = v / 8;
        out->severity = v % 8;
        out->flags |= SYSLOG_F_PRI;
    }
    int r;
    /* RFC 5424: the VERSION "1" follows the PRI directly.  A 3164 header
     * always starts with a month name or a 4-digit year, never "1 ". */
    if (i + 1 < n && s[i] == '1' && s[i + 1] == ' ')
        r = parse_5424(s, n, i + 2, ctx, out, err);
    else
        r = parse_3164(s, n, i, ctx, out, err);
    if (r < 0)
        return -1;
    unwrap_repeat(out);
    return 0;
}
