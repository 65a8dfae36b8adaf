#include "exim.h"
#include "scan.h"

#include "msgid.h"
#include "timeutil.h"

#include <stdio.h>
#include <string.h>

/* The line is scanned by index within [0, n): it is not NUL-terminated and
 * may contain NUL bytes, so no C string function touches it. */

static int is_b62(char c) {
    return scan_is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_alnum(char c) {
    return is_b62(c);
}

/* Copy into the arena; NUL becomes '?' so the result is one C string. */
int exim_id_valid(const char *s, size_t len) {
    /* 4.97 widened the PID part (ChangeLog JH/29): 6-6-2 became 6-11-4. */
    static const size_t forms[2][3] = {{6, 6, 2}, {6, 11, 4}};
    if (!s)
        return 0;
    for (int f = 0; f < 2; f++) {
        const size_t *p = forms[f];
        if (len != p[0] + p[1] + p[2] + 2)
            continue;
        int ok = s[p[0]] == '-' && s[p[0] + 1 + p[1]] == '-';
        for (size_t k = 0; k < len && ok; k++)
            if (k != p[0] && k != p[0] + 1 + p[1])
                ok = is_b62(s[k]);
        if (ok)
            return 1;
    }
    return 0;
}

const char *exim_kind_name(exim_kind k) {
    switch (k) {
    case EXIM_OTHER:
        return "other";
    case EXIM_ARRIVAL:
        return "arrival";
    case EXIM_DELIVERY:
        return "delivery";
    case EXIM_ADDITIONAL:
        return "additional";
    case EXIM_SUPPRESSED:
        return "suppressed";
    case EXIM_BOUNCE:
        return "bounce";
    case EXIM_DEFER:
        return "defer";
    case EXIM_COMPLETED:
        return "completed";
    }
    return "unknown";
}

/* ---- time ------------------------------------------------------------- */

static int64_t distance(int64_t a, int64_t b) {
    return a > b ? a - b : b - a;
}

/* "YYYY-MM-DD hh:mm:ss[.fff][ +hhmm]" at the start of the line.
 * Returns 1 and sets *i past it, 0 if absent, -1 if present but invalid. */
static int parse_time(const char *s, size_t n, size_t *i, const exim_ctx *ctx, exim_record *out,
                      error *err) {
    timeutil_civil c = {0};
    size_t k = *i;
    if (scan_digits(s, n, &k, 4, &c.year) || k >= n || s[k++] != '-' ||
        scan_digits(s, n, &k, 2, &c.month) || k >= n || s[k++] != '-' ||
        scan_digits(s, n, &k, 2, &c.day) || k >= n || s[k++] != ' ' ||
        scan_digits(s, n, &k, 2, &c.hour) || k >= n || s[k++] != ':' ||
        scan_digits(s, n, &k, 2, &c.minute) || k >= n || s[k++] != ':' ||
        scan_digits(s, n, &k, 2, &c.second))
        return 0;
    if (k + 1 < n && s[k] == '.' && scan_is_digit(s[k + 1])) {
        int v = 0, nd = 0;
        for (k++; k < n && scan_is_digit(s[k]); k++)
            if (nd < 6) {
                v = v * 10 + (s[k] - '0');
                nd++;
            }
        for (; nd < 6; nd++)
            v *= 10;
        c.usec = v;
    }
    int has_off = 0, off = 0;
    if (k + 6 <= n && s[k] == ' ' && (s[k + 1] == '+' || s[k + 1] == '-') &&
        (k + 6 == n || s[k + 6] == ' ')) {
        size_t d = k + 2;
        int hh, mm;
        if (!scan_digits(s, n, &d, 2, &hh) && !scan_digits(s, n, &d, 2, &mm)) {
            if (hh > 23 || mm > 59)
                return error_set(err, "bad_timestamp", k + 1, "UTC offset out of range");
            has_off = 1;
            off = (s[k + 1] == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
            k = d;
        }
    }
    if (k < n && s[k] != ' ')
        return 0;
    if (c.year < 1900 || c.day < 1 || c.day > timeutil_days_in_month(c.year, c.month) ||
        c.hour > 23 || c.minute > 59 || c.second > 60)
        return error_set(err, "bad_timestamp", *i, "timestamp has an impossible date or time");
    if (has_off) {
        int64_t t;
        if (timeutil_civil_to_utc(&c, &t, NULL) < 0)
            return error_set(err, "bad_timestamp", *i, "timestamp out of range");
        out->time_us = t - (int64_t)off * TIMEUTIL_US;
        out->flags |= EXIM_F_OFFSET;
    } else {
        const char *zone = ctx && ctx->zone ? ctx->zone : "UTC";
        int64_t ref = ctx ? ctx->ref_us : 0;
        timeutil_local l;
        if (timeutil_local_to_utc(zone, &c, &l, NULL) < 0)
            return error_set(err, "bad_zone", 0, "cannot convert time in zone '%.64s'", zone);
        out->flags |= EXIM_F_LOCAL_TIME;
        out->time_us = l.cand[0];
        if (l.n == 2) {
            /* Fall-back overlap: the reading nearest the Kafka timestamp. */
            out->flags |= EXIM_F_AMBIGUOUS;
            if (ref > 0 && distance(l.cand[1], ref) < distance(l.cand[0], ref))
                out->time_us = l.cand[1];
        } else if (l.n == 0) {
            out->flags |= EXIM_F_NONEXISTENT; /* spring-forward gap: earlier reading */
        }
    }
    out->flags |= EXIM_F_TIME;
    *i = k;
    return 1;
}

/* ---- values ----------------------------------------------------------- */

/* End of the value at i: the first space outside "double quotes" (where a
 * backslash escapes the next byte).  *open is set if a quote never closes. */
static size_t value_end(const char *s, size_t n, size_t i, int *open) {
    int q = 0;
    size_t k = i;
    for (; k < n; k++) {
        if (q) {
            if (s[k] == '\\')
                k++;
            else if (s[k] == '"')
                q = 0;
        } else if (s[k] == '"') {
            q = 1;
        } else if (s[k] == ' ') {
            break;
        }
    }
    if (k > n)
        k = n;
    *open = q;
    return k;
}

/* s[i] == '<': the matching '>' outside quotes ("<\" x\"@y>"), or n. */
static size_t angle_end(const char *s, size_t n, size_t i) {
    int q = 0;
    for (size_t k = i + 1; k < n; k++) {
        if (q) {
            if (s[k] == '\\')
                k++;
            else if (s[k] == '"')
                q = 0;
        } else if (s[k] == '"') {
            q = 1;
        } else if (s[k] == '>') {
            return k;
        }
    }
    return n;
}

/* Unquotes "..." (if quoted) into the arena.  FULL decodes every C escape
 * Exim's string_printing() makes (T=); otherwise only \" and \\ (C=). */
static const char *unquote(arena *a, const char *s, size_t vs, size_t ve, int full) {
    if (ve - vs < 2 || s[vs] != '"' || s[ve - 1] != '"')
        return scan_dup(a, s + vs, ve - vs);
    vs++;
    ve--;
    char *d = arena_alloc(a, ve - vs + 1);
    size_t o = 0;
    for (size_t k = vs; k < ve; k++) {
        char c = s[k];
        if (c == '\\' && k + 1 < ve) {
            char x = s[++k];
            if (x == '"' || x == '\\') {
                c = x;
            } else if (!full) {
                d[o++] = '\\';
                c = x;
            } else if (x >= '0' && x <= '7') {
                int v = x - '0';
                for (int m = 0; m < 2 && k + 1 < ve && s[k + 1] >= '0' && s[k + 1] <= '7'; m++)
                    v = v * 8 + (s[++k] - '0');
                c = (char)(unsigned char)v;
            } else {
                switch (x) {
                case 'n':
                    c = '\n';
                    break;
                case 'r':
                    c = '\r';
                    break;
                case 't':
                    c = '\t';
                    break;
                case 'b':
                    c = '\b';
                    break;
                case 'v':
                    c = '\v';
                    break;
                case 'f':
                    c = '\f';
                    break;
                default:
                    c = x;
                }
            }
        }
        d[o++] = c == '\0' ? '?' : c;
    }
    d[o] = '\0';
    return d;
}

static const char *strip_angle(arena *a, const char *s, size_t vs, size_t ve) {
    if (ve - vs >= 2 && s[vs] == '<' && s[ve - 1] == '>') {
        vs++;
        ve--;
    }
    return scan_dup(a, s + vs, ve - vs);
}

static int port_at(const char *s, size_t n, size_t *k, int *port) {
    if (*k + 1 >= n || s[*k] != ':' || !scan_is_digit(s[*k + 1]))
        return 0;
    long v = 0;
    size_t d = *k + 1;
    while (d < n && scan_is_digit(s[d]) && v <= 65535)
        v = v * 10 + (s[d++] - '0');
    if (v > 65535)
        return 0;
    *port = (int)v;
    *k = d;
    return 1;
}

/* H=name (helo) [ip]:port -- sender_fullhost (host.c): the name appears when
 * reverse DNS gave one, "(helo)" when it differs from the name, the port
 * with +incoming_port/+outgoing_port; on deliveries a '*' may follow
 * (connection reused).  Local transports log "H=name" alone. */
static int parse_host(arena *a, const char *s, size_t n, size_t i, exim_record *out, size_t *end) {
    size_t k = i;
    if (k >= n)
        return -1;
    if (s[k] != '[' && s[k] != '(') {
        size_t e = k;
        while (e < n && s[e] != ' ' && s[e] != '[')
            e++;
        out->host_name = scan_dup(a, s + k, e - k);
        k = e;
        if (!(k + 1 < n && s[k] == ' ' && (s[k + 1] == '(' || s[k + 1] == '['))) {
            *end = k;
            return 0;
        }
        k++;
    }
    if (s[k] == '(') {
        /* The HELO is client-chosen text ("([127.0.0.1])" is common): it ends
         * at the ") [" that opens the address. */
        size_t close = n;
        for (size_t p = k + 1; p + 2 < n; p++)
            if (s[p] == ')' && s[p + 1] == ' ' && s[p + 2] == '[') {
                close = p;
                break;
            }
        if (close == n)
            return -1;
        out->helo = scan_dup(a, s + k + 1, close - k - 1);
        k = close + 2;
    }
    if (s[k] != '[')
        return -1;
    size_t rb = k + 1;
    while (rb < n && s[rb] != ']' && s[rb] != ' ')
        rb++;
    if (rb >= n || s[rb] != ']')
        return -1;
    out->host_ip = scan_dup(a, s + k + 1, rb - k - 1);
    k = rb + 1;
    port_at(s, n, &k, &out->host_port);
    if (k < n && s[k] == '*')
        k++;
    *end = k;
    return 0;
}

static void parse_auth(arena *a, const char *s, size_t vs, size_t ve, exim_record *out) {
    /* A=authenticator[:authenticated_id[:authenticated_sender]] (receive.c);
     * an id containing ':' cannot be told from the sender part. */
    size_t c1 = vs;
    while (c1 < ve && s[c1] != ':')
        c1++;
    out->auth_name = scan_dup(a, s + vs, c1 - vs);
    if (c1 >= ve)
        return;
    size_t c2 = c1 + 1;
    while (c2 < ve && s[c2] != ':')
        c2++;
    out->auth_id = scan_dup(a, s + c1 + 1, c2 - c1 - 1);
    if (c2 < ve)
        out->auth_sender = scan_dup(a, s + c2 + 1, ve - c2 - 1);
}

/* A value cut short: an error, unless the line is the first part of one
 * Exim split for syslog (EXIM_F_SPLIT), whose end may fall anywhere: then
 * what was read so far is the record. */
static int cut(error *err, const exim_record *out, size_t pos, const char *why) {
    if (out->flags & EXIM_F_SPLIT)
        return 0;
    return error_set(err, "truncated", pos, "%s", why);
}

/* Key=value fields after the sender or recipient.  On "**" and "==" lines
 * the first word that is not a field, or a ':' right after a field, starts
 * the error text. */
static int parse_fields(arena *a, const char *s, size_t n, size_t i, exim_record *out, error *err) {
    int arrival = out->kind == EXIM_ARRIVAL;
    int failing = out->kind == EXIM_BOUNCE || out->kind == EXIM_DEFER;
    while (i < n) {
        while (i < n && s[i] == ' ')
            i++;
        if (i >= n)
            break;
        size_t k = i;
        while (k < n && is_alnum(s[k]))
            k++;
        if (k == i || k >= n || s[k] != '=') {
            if (failing) {
                out->error = scan_dup(a, s + i, n - i);
                return 0;
            }
            if (arrival && scan_at(s, n, i, "for ")) {
                out->recipients = scan_dup(a, s + i + 4, n - i - 4);
                return 0;
            }
            if (arrival && scan_at(s, n, i, "from <")) {
                size_t e = angle_end(s, n, i + 5);
                if (e >= n)
                    return cut(err, out, i + 5, "'from <' is not closed by '>'");
                i = e + 1;
                continue;
            }
            int open;
            i = value_end(s, n, i, &open); /* flags such as K, PRDR, L, DS */
            continue;
        }
        const char *key = s + i;
        size_t klen = k - i, vs = k + 1, ve;
        if (scan_eq(key, klen, "H")) {
            if (parse_host(a, s, n, vs, out, &ve) < 0)
                return error_set(err, "bad_host", vs, "H= is not 'name (helo) [address]:port'");
            i = ve;
        } else if (scan_eq(key, klen, "I")) {
            size_t rb = vs + 1;
            while (rb < n && s[rb] != ']' && s[rb] != ' ')
                rb++;
            if (vs >= n || s[vs] != '[' || rb >= n || s[rb] != ']')
                return error_set(err, "bad_host", vs, "I= is not '[address]:port'");
            out->iface_ip = scan_dup(a, s + vs + 1, rb - vs - 1);
            i = rb + 1;
            port_at(s, n, &i, &out->iface_port);
        } else {
            int open;
            ve = value_end(s, n, vs, &open);
            if (open)
                return cut(err, out, vs, "quoted value is not closed");
            i = ve;
            if (failing && ve > vs && s[ve - 1] == ':' && s[vs] != '"')
                ve--; /* "R=virtual_aliases: No Such User Here" */
            if (scan_eq(key, klen, "T"))
                *(arrival ? &out->subject : &out->transport) = unquote(a, s, vs, ve, arrival);
            else if (scan_eq(key, klen, "C"))
                out->confirmation = unquote(a, s, vs, ve, 0);
            else if (scan_eq(key, klen, "R"))
                *(arrival ? &out->bounce_of : &out->router) = scan_dup(a, s + vs, ve - vs);
            else if (scan_eq(key, klen, "P"))
                *(arrival ? &out->proto : &out->return_path) = strip_angle(a, s, vs, ve);
            else if (scan_eq(key, klen, "F"))
                out->sender = strip_angle(a, s, vs, ve);
            else if (scan_eq(key, klen, "U"))
                out->ident = scan_dup(a, s + vs, ve - vs);
            else if (scan_eq(key, klen, "X"))
                out->tls = scan_dup(a, s + vs, ve - vs);
            else if (scan_eq(key, klen, "A"))
                parse_auth(a, s, vs, ve, out);
            else if (scan_eq(key, klen, "S")) {
                long long v = 0;
                size_t d = vs;
                while (d < ve && scan_is_digit(s[d]) && d - vs < 18)
                    v = v * 10 + (s[d++] - '0');
                if (d == ve && d > vs)
                    out->size = v;
            } else if (scan_eq(key, klen, "id")) {
                const char *raw = scan_dup(a, s + vs, ve - vs);
                char *norm = arena_alloc(a, ve - vs + 1);
                msgid_normalize(raw, ve - vs, norm);
                out->message_id = raw;
                out->message_id_norm = norm;
            }
        }
        if (failing && i < n && s[i] == ':') {
            i++;
            if (i < n && s[i] == ' ')
                i++;
            out->error = scan_dup(a, s + i, n - i);
            return 0;
        }
    }
    return 0;
}

/* The receiving MTA's queue ID in a delivery confirmation. */
static void next_hop(arena *a, const char *c, exim_record *out) {
    const char *q = NULL, *p;
    for (p = strstr(c, "queued as "); p; p = strstr(p + 1, "queued as "))
        q = p + 10; /* the last one: relays quote the previous hop's reply */
    if (q) {
        size_t l = 0;
        while (l < 64 && is_alnum(q[l]))
            l++;
        if (l) {
            out->next_id = scan_dup(a, q, l);
            return;
        }
    }
    for (p = strstr(c, "id="); p; p = strstr(p + 1, "id=")) {
        size_t l = 0;
        while (l < 24 && (is_b62(p[3 + l]) || p[3 + l] == '-'))
            l++;
        if ((p == c || p[-1] == ' ') && exim_id_valid(p + 3, l)) {
            out->next_id = scan_dup(a, p + 3, l);
            return;
        }
    }
}

static int parse_arrival(arena *a, const char *s, size_t n, size_t i, exim_record *out,
                         error *err) {
    while (i < n && s[i] == ' ')
        i++;
    if (i >= n)
        return error_set(err, "truncated", i, "arrival line has no sender");
    size_t e;
    if (s[i] == '<') {
        e = angle_end(s, n, i);
        if (e >= n)
            return cut(err, out, i, "sender <address> is not closed");
        out->sender = scan_dup(a, s + i + 1, e - i - 1);
        e++;
    } else {
        int open;
        e = value_end(s, n, i, &open);
        if (open)
            return cut(err, out, i, "quoted sender is not closed");
        out->sender = scan_dup(a, s + i, e - i);
    }
    return parse_fields(a, s, n, e, out, err);
}

static int parse_delivery(arena *a, const char *s, size_t n, size_t i, exim_record *out,
                          error *err) {
    int failing = out->kind == EXIM_BOUNCE || out->kind == EXIM_DEFER;
    while (i < n && s[i] == ' ')
        i++;
    if (i >= n)
        return error_set(err, "truncated", i, "delivery line has no recipient");
    int open;
    size_t e = value_end(s, n, i, &open);
    if (open)
        return cut(err, out, i, "quoted recipient is not closed");
    if (failing && s[e - 1] == ':' && e - 1 > i) {
        /* "** bob@example.com: retry timeout exceeded" */
        out->rcpt = scan_dup(a, s + i, e - 1 - i);
        if (e < n)
            e++;
        out->error = scan_dup(a, s + e, n - e);
        return 0;
    }
    out->rcpt = scan_dup(a, s + i, e - i);
    i = e;
    if (scan_at(s, n, i, " (")) {
        size_t c = i + 2;
        while (c < n && s[c] != ')')
            c++;
        if (c >= n)
            return cut(err, out, i + 1, "(parent address) is not closed");
        out->parent = scan_dup(a, s + i + 2, c - i - 2);
        i = c + 1;
    }
    if (scan_at(s, n, i, " <")) {
        size_t c = angle_end(s, n, i + 1);
        if (c >= n)
            return cut(err, out, i + 1, "<original address> is not closed");
        out->orig_rcpt = scan_dup(a, s + i + 2, c - i - 2);
        i = c + 1;
    }
    if (parse_fields(a, s, n, i, out, err) < 0)
        return -1;
    if (out->confirmation && !failing)
        next_hop(a, out->confirmation, out);
    return 0;
}

int exim_parse(const char *line, size_t len, const exim_ctx *ctx, arena *a, exim_record *out,
               error *err) {
    memset(out, 0, sizeof *out);
    out->pid = -1;
    out->host_port = out->iface_port = -1;
    out->size = -1;
    error_clear(err);
    size_t n;
    const char *s = scan_line(line, len, &n);
    if (n == 0)
        return error_set(err, "empty", 0, "empty line");

    size_t i = 0;
    /* "[1/2] " or "[1\2] ": a part of a line Exim split for syslog. */
    if (s[0] == '[') {
        size_t k = 1;
        long part = 0;
        while (k < n && scan_is_digit(s[k]) && part < 1000)
            part = part * 10 + (s[k++] - '0');
        size_t k2 = k + 1;
        while (k2 < n && scan_is_digit(s[k2]))
            k2++;
        if (k > 1 && k < n && (s[k] == '/' || s[k] == '\\') && k2 > k + 1 && k2 < n &&
            s[k2] == ']' && scan_at(s, n, k2 + 1, " ")) {
            out->flags |= EXIM_F_SPLIT;
            if (part != 1)
                return 0; /* a continuation: evidence only */
            i = k2 + 2;
        }
    }
    if (parse_time(s, n, &i, ctx, out, err) < 0)
        return -1;
    while (i < n && s[i] == ' ')
        i++;
    if (i < n && s[i] == '[') {
        size_t k = i + 1;
        long v = 0;
        while (k < n && scan_is_digit(s[k]) && v < 100000000L)
            v = v * 10 + (s[k++] - '0');
        if (k > i + 1 && k < n && s[k] == ']' && (k + 1 == n || s[k + 1] == ' ')) {
            out->pid = v;
            i = k + 1;
            while (i < n && s[i] == ' ')
                i++;
        }
    }
    size_t e = i;
    while (e < n && s[e] != ' ')
        e++;
    if (!exim_id_valid(s + i, e - i))
        return 0; /* EXIM_OTHER: "SMTP connection from ...", rejections, ... */
    out->id = scan_dup(a, s + i, e - i);
    if (e - i == 23)
        out->flags |= EXIM_F_NEW_ID;
    i = e;
    while (i < n && s[i] == ' ')
        i++;

    static const struct {
        const char flag[3];
        exim_kind kind;
    } flags[] = {{"<=", EXIM_ARRIVAL},    {"(=", EXIM_ARRIVAL},    {"=>", EXIM_DELIVERY},
                 {"->", EXIM_ADDITIONAL}, {"*>", EXIM_SUPPRESSED}, {"**", EXIM_BOUNCE},
                 {"==", EXIM_DEFER},      {">>", EXIM_DELIVERY}};
    for (size_t f = 0; f < sizeof flags / sizeof flags[0]; f++) {
        if (!scan_at(s, n, i, flags[f].flag) || (i + 2 < n && s[i + 2] != ' '))
            continue;
        out->kind = flags[f].kind;
        if (flags[f].flag[0] == '(')
            out->flags |= EXIM_F_FAKE_REJECT;
        if (flags[f].flag[0] == '>')
            out->flags |= EXIM_F_CUTTHROUGH;
        if (out->kind == EXIM_ARRIVAL)
            return parse_arrival(a, s, n, i + 2, out, err);
        return parse_delivery(a, s, n, i + 2, out, err);
    }
    if (scan_at(s, n, i, "Completed") && (i + 9 == n || s[i + 9] == ' '))
        out->kind = EXIM_COMPLETED;
    return 0;
}
