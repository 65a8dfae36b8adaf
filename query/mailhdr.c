#include "mailhdr.h"
#include "msgid.h"
#include "timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One header field: name and unfolded value (arena strings). */
typedef struct field {
    const char *name, *value;
} field;

typedef struct fields {
    field *f;
    size_t n, cap;
    size_t body; /* offset of the body (after the blank line), or len */
} fields;

static void fields_add(arena *a, fields *fs, const char *name, size_t nlen, const char *val,
                       size_t vlen) {
    if (fs->n == fs->cap) {
        size_t cap = fs->cap ? fs->cap * 2 : 32;
        field *nf = arena_alloc(a, sizeof *nf * cap);
        if (fs->n)
            memcpy(nf, fs->f, sizeof *nf * fs->n);
        fs->f = nf;
        fs->cap = cap;
    }
    /* Unfold: CRLF + WSP becomes one space; trim. */
    char *v = arena_alloc(a, vlen + 1);
    size_t o = 0;
    for (size_t i = 0; i < vlen; i++) {
        char c = val[i];
        if (c == '\r' || c == '\n') {
            if (o && v[o - 1] != ' ')
                v[o++] = ' ';
            continue;
        }
        if (c == '\t')
            c = ' ';
        if (c == ' ' && o && v[o - 1] == ' ')
            continue;
        if (c == '\0')
            c = ' ';
        v[o++] = c;
    }
    while (o && v[o - 1] == ' ')
        o--;
    v[o] = '\0';
    char *s = v;
    while (*s == ' ')
        s++;
    fs->f[fs->n].name = arena_strndup(a, name, nlen);
    fs->f[fs->n].value = s;
    fs->n++;
}

/* Reads a header section from BUF; quoted ("> ") lines are accepted when QUOTED. */
static int read_fields(const char *buf, size_t len, arena *a, fields *fs, int quoted) {
    memset(fs, 0, sizeof *fs);
    size_t i = 0;
    const char *name = NULL, *val = NULL;
    size_t nlen = 0;
    char *acc = NULL;
    size_t acc_len = 0, acc_cap = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && buf[e] != '\n')
            e++;
        size_t l0 = i, l1 = e;
        if (l1 > l0 && buf[l1 - 1] == '\r')
            l1--;
        if (quoted && l1 - l0 >= 1 && buf[l0] == '>') {
            l0++;
            if (l0 < l1 && buf[l0] == ' ')
                l0++;
        }
        int blank = l1 == l0;
        int cont = !blank && (buf[l0] == ' ' || buf[l0] == '\t');
        if (blank || !cont) {
            if (name) {
                fields_add(a, fs, name, nlen, acc ? acc : "", acc_len);
                name = NULL;
            }
        }
        if (blank) {
            fs->body = e < len ? e + 1 : len;
            return fs->n ? 0 : -1;
        }
        if (cont) {
            if (!name) /* continuation without a field: not a header section */
                break;
        } else {
            const char *colon = memchr(buf + l0, ':', l1 - l0);
            if (!colon)
                break;
            for (const char *p = buf + l0; p < colon; p++)
                if (*p <= ' ' || *p >= 0x7f)
                    goto done;
            name = buf + l0;
            nlen = (size_t)(colon - (buf + l0));
            val = colon + 1;
            acc_len = 0;
            l0 = (size_t)(val - buf);
        }
        size_t piece = l1 - l0;
        if (acc_len + piece + 2 > acc_cap) {
            acc_cap = (acc_len + piece + 2) * 2;
            char *n = arena_alloc(a, acc_cap);
            if (acc_len)
                memcpy(n, acc, acc_len);
            acc = n;
        }
        if (acc_len)
            acc[acc_len++] = '\n';
        memcpy(acc + acc_len, buf + l0, piece);
        acc_len += piece;
        i = e + 1;
    }
done:
    if (name)
        fields_add(a, fs, name, nlen, acc ? acc : "", acc_len);
    fs->body = i < len ? i : len;
    return fs->n ? 0 : -1;
}

static const char *get(const fields *fs, const char *name) {
    for (size_t i = 0; i < fs->n; i++)
        if (!strcasecmp(fs->f[i].name, name))
            return fs->f[i].value;
    return NULL;
}

int mailhdr_parse_date(const char *s, int64_t *out) {
    static const char *mon[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                "jul", "aug", "sep", "oct", "nov", "dec"};
    const char *p = s;
    while (*p == ' ')
        p++;
    if (isalpha((unsigned char)*p)) { /* day-of-week */
        while (isalpha((unsigned char)*p))
            p++;
        if (*p == ',')
            p++;
    }
    int d, y, hh, mm, ss = 0, n = 0;
    char m[4];
    if (sscanf(p, " %d %3s %d %d:%d%n", &d, m, &y, &hh, &mm, &n) != 5)
        return -1;
    p += n;
    if (*p == ':') {
        int k;
        if (sscanf(p, ":%d%n", &ss, &k) != 1)
            return -1;
        p += k;
    }
    int month = 0;
    for (int i = 0; i < 12; i++)
        if (!strncasecmp(m, mon[i], 3))
            month = i + 1;
    if (!month)
        return -1;
    if (y < 100) /* RFC 5322 obs-year */
        y += y < 50 ? 2000 : 1900;
    while (*p == ' ')
        p++;
    int off = 0;
    if (*p == '+' || *p == '-') {
        int v;
        if (sscanf(p + 1, "%4d", &v) != 1)
            return -1;
        off = (v / 100 * 60 + v % 100) * 60 * (*p == '-' ? -1 : 1);
    } else {
        static const struct {
            const char *z;
            int h;
        } zones[] = {{"UT", 0},   {"UTC", 0},  {"GMT", 0},  {"Z", 0},    {"EST", -5}, {"EDT", -4},
                     {"CST", -6}, {"CDT", -5}, {"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7}};
        char z[8] = "";
        sscanf(p, "%7[A-Za-z]", z);
        int found = !z[0];
        for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++)
            if (!strcasecmp(z, zones[i].z)) {
                off = zones[i].h * 3600;
                found = 1;
            }
        if (!found)
            off = 0; /* RFC 5322: unknown zones are taken as -0000 (UTC) */
    }
    timeutil_civil c = {y, month, d, hh, mm, ss, 0};
    int64_t t;
    if (timeutil_civil_to_utc(&c, &t, NULL) < 0)
        return -1;
    *out = t - (int64_t)off * TIMEUTIL_US;
    return 0;
}

/* The word after KEY ("by", "id", "with", "from") in a Received: value. */
static const char *word_after(arena *a, const char *v, const char *key) {
    size_t kl = strlen(key);
    for (const char *p = v; (p = strcasestr(p, key)); p += kl) {
        if ((p == v || p[-1] == ' ' || p[-1] == ')') && p[kl] == ' ') {
            const char *s = p + kl + 1, *e = s;
            while (*e && *e != ' ' && *e != ';')
                e++;
            if (e > s)
                return arena_strndup(a, s, (size_t)(e - s));
        }
    }
    return NULL;
}

static void parse_received(arena *a, const char *v, mailhdr_received *r) {
    memset(r, 0, sizeof *r);
    r->raw = v;
    r->time = INT64_MIN;
    /* The date follows the last ';'. */
    const char *semi = strrchr(v, ';');
    if (semi)
        mailhdr_parse_date(semi + 1, &r->time);
    size_t clause = semi ? (size_t)(semi - v) : strlen(v);
    char *head = arena_strndup(a, v, clause);
    r->from_helo = word_after(a, head, "from");
    r->by = word_after(a, head, "by");
    r->id = word_after(a, head, "id");
    r->with = word_after(a, head, "with");
    /* "(rdns [ip])" right after from HELO. */
    const char *br = strchr(head, '['), *bre = br ? strchr(br, ']') : NULL;
    const char *byp = strcasestr(head, " by ");
    if (br && bre && (!byp || br < byp)) {
        const char *s = br + 1;
        if (!strncasecmp(s, "IPv6:", 5))
            s += 5;
        r->from_ip = arena_strndup(a, s, (size_t)(bre - s));
        const char *par = strchr(head, '(');
        if (par && par < br) {
            const char *s2 = par + 1, *e2 = s2;
            while (e2 < br && *e2 != ' ')
                e2++;
            if (e2 > s2 && *s2 != '[')
                r->from_rdns = arena_strndup(a, s2, (size_t)(e2 - s2));
        }
    }
    /* Queue IDs are sometimes followed by punctuation ("id 4F3A2B1C0D;"). */
    if (r->id) {
        char *id = (char *)r->id;
        size_t n = strlen(id);
        while (n && (id[n - 1] == ',' || id[n - 1] == ';' || id[n - 1] == '.'))
            id[--n] = '\0';
    }
}

static int looks_bounce(const fields *fs) {
    const char *ct = get(fs, "Content-Type");
    if (ct && strcasestr(ct, "multipart/report") && strcasestr(ct, "delivery-status"))
        return 1;
    const char *subj = get(fs, "Subject"), *from = get(fs, "From");
    static const char *words[] = {"undeliver",
                                  "delivery status notification",
                                  "mail delivery failed",
                                  "returned mail",
                                  "failure notice",
                                  "delivery failure",
                                  "non-delivery",
                                  "undelivered"};
    for (size_t i = 0; subj && i < sizeof words / sizeof words[0]; i++)
        if (strcasestr(subj, words[i]))
            return 1;
    return from && (strcasestr(from, "mailer-daemon") || strcasestr(from, "postmaster@"));
}

static void fill(arena *a, const fields *fs, mailhdr_msg *m) {
    memset(m, 0, sizeof *m);
    m->date = INT64_MIN;
    const char *id = get(fs, "Message-ID");
    if (id) {
        size_t n = strlen(id);
        char *c = arena_alloc(a, n + 1);
        if (msgid_normalize(id, n, c))
            m->message_id = c;
    }
    m->from = get(fs, "From");
    m->to = get(fs, "To");
    m->subject = get(fs, "Subject");
    const char *d = get(fs, "Date");
    if (d)
        mailhdr_parse_date(d, &m->date);
    for (size_t i = 0; i < fs->n; i++)
        if (!strcasecmp(fs->f[i].name, "Received"))
            m->n_received++;
    m->received = arena_zalloc(a, sizeof *m->received * (m->n_received + 1));
    size_t k = 0;
    for (size_t i = 0; i < fs->n; i++)
        if (!strcasecmp(fs->f[i].name, "Received"))
            parse_received(a, fs->f[i].value, &m->received[k++]);
}

/* The original message inside a bounce: a message/rfc822 or text/rfc822-headers
 * part, else the first quoted or plain header block in the body. */
static int find_original(const char *body, size_t len, arena *a, fields *out) {
    static const char *types[] = {"message/rfc822", "text/rfc822-headers"};
    for (size_t t = 0; t < 2; t++) {
        for (size_t i = 0; i + strlen(types[t]) < len; i++) {
            if (strncasecmp(body + i, types[t], strlen(types[t])))
                continue;
            /* Skip the part's own headers: to the next blank line. */
            const char *p = body + i, *end = body + len;
            while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                if (!nl)
                    break;
                const char *next = nl + 1;
                if (next < end &&
                    (*next == '\n' || (*next == '\r' && next + 1 < end && next[1] == '\n'))) {
                    const char *start = *next == '\r' ? next + 2 : next + 1;
                    if (read_fields(start, (size_t)(end - start), a, out, 0) == 0 &&
                        (get(out, "Received") || get(out, "Message-ID")))
                        return 0;
                    break;
                }
                p = next;
            }
        }
    }
    /* Plain text: a line that starts a header block we care about. */
    for (size_t i = 0; i < len; i++) {
        if (i && body[i - 1] != '\n')
            continue;
        const char *p = body + i;
        size_t rest = len - i;
        int quoted = rest > 2 && p[0] == '>';
        const char *q = quoted ? p + 1 + (p[1] == ' ') : p;
        size_t qr = rest - (size_t)(q - p);
        if ((qr > 9 && !strncasecmp(q, "Received:", 9)) ||
            (qr > 11 && !strncasecmp(q, "Message-ID:", 11)) ||
            (qr > 12 && !strncasecmp(q, "Return-Path:", 12))) {
            if (read_fields(p, rest, a, out, quoted) == 0 &&
                (get(out, "Received") || get(out, "Message-ID")))
                return 0;
        }
    }
    return -1;
}

int mailhdr_parse(const char *buf, size_t len, arena *a, mailhdr_msg *out, error *err) {
    fields fs;
    if (read_fields(buf, len, a, &fs, 0) < 0) {
        error_set(err, "no_header", 0,
                  "no header section: the input does not start with 'Name: value' lines");
        return -1;
    }
    fill(a, &fs, out);
    out->is_bounce = looks_bounce(&fs);
    if (out->is_bounce && fs.body < len) {
        fields of;
        if (find_original(buf + fs.body, len - fs.body, a, &of) == 0) {
            out->original = arena_alloc(a, sizeof *out->original);
            fill(a, &of, out->original);
        }
    }
    return 0;
}
