#include "ipfix.h"

#include "buf.h"
#include "mem.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct field {
    uint16_t id;  /* information element id, enterprise bit cleared */
    uint16_t len; /* 65535: variable length */
    uint32_t pen; /* enterprise number, 0 for IANA's */
} field;

typedef struct tmpl {
    struct tmpl *next;
    char exporter[64];
    int version;
    uint32_t domain;
    uint16_t id;
    int options; /* options template: its records are not NAT events */
    int n;
    field *f;
} tmpl;

typedef struct seqstate {
    struct seqstate *next;
    char exporter[64];
    int version;
    uint32_t domain;
    uint32_t expect;
} seqstate;

struct ipfix_state {
    tmpl *tmpls;
    seqstate *seqs;
    ipfix_stats st;
};

ipfix_state *ipfix_state_new(void) {
    return mem_zalloc(sizeof(ipfix_state));
}

void ipfix_state_free(ipfix_state *s) {
    if (!s)
        return;
    for (tmpl *t = s->tmpls, *nx; t; t = nx) {
        nx = t->next;
        free(t->f);
        free(t);
    }
    for (seqstate *q = s->seqs, *nx; q; q = nx) {
        nx = q->next;
        free(q);
    }
    free(s);
}

const ipfix_stats *ipfix_state_stats(const ipfix_state *s) {
    return &s->st;
}

int ipfix_profile_parse(const char *s, ipfix_profile *out) {
    if (!strcmp(s, "iana"))
        *out = IPFIX_PROFILE_IANA;
    else if (!strcmp(s, "junos"))
        *out = IPFIX_PROFILE_JUNOS;
    else
        return -1;
    return 0;
}

static int norm_addr(const char *in, char *out, size_t n) {
    unsigned char a[16];
    if (inet_pton(AF_INET, in, a) == 1)
        return inet_ntop(AF_INET, a, out, (socklen_t)n) ? 0 : -1;
    if (inet_pton(AF_INET6, in, a) == 1)
        return inet_ntop(AF_INET6, a, out, (socklen_t)n) ? 0 : -1;
    return -1;
}

int ipfix_exporters_parse(const char *spec, ipfix_exporter **out, int *n, error *err) {
    *out = NULL;
    *n = 0;
    char *copy = mem_strdup(spec), *save = NULL;
    int cap = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        size_t l = strlen(tok);
        while (l && tok[l - 1] == ' ')
            tok[--l] = '\0';
        if (!*tok)
            continue;
        char *eq = strchr(tok, '='), *colon = eq ? strrchr(eq, ':') : NULL;
        if (!eq || !colon || colon == eq + 1) {
            error_set(err, "bad_entry", 0, "'%s': expected ADDRESS=NAME:PROFILE", tok);
            goto fail;
        }
        *eq = *colon = '\0';
        ipfix_exporter e;
        memset(&e, 0, sizeof e);
        if (norm_addr(tok, e.addr, sizeof e.addr) < 0) {
            error_set(err, "bad_address", 0, "'%s' is not a numeric address", tok);
            goto fail;
        }
        for (const char *q = eq + 1; *q; q++)
            if (!(*q >= 'a' && *q <= 'z') && !(*q >= 'A' && *q <= 'Z') &&
                !(*q >= '0' && *q <= '9') && !strchr(".-_", *q)) {
                error_set(err, "bad_name", 0, "exporter %s: '%s' is not a host name", tok, eq + 1);
                goto fail;
            }
        if (strlen(eq + 1) >= sizeof e.name) {
            error_set(err, "too_long", 0, "exporter %s: name too long", tok);
            goto fail;
        }
        snprintf(e.name, sizeof e.name, "%s", eq + 1);
        if (ipfix_profile_parse(colon + 1, &e.profile) < 0) {
            error_set(err, "bad_profile", 0, "exporter %s: profile '%s' is not iana or junos", tok,
                      colon + 1);
            goto fail;
        }
        if (ipfix_exporters_find(*out, *n, e.addr)) {
            error_set(err, "duplicate", 0, "exporter %s named twice", e.addr);
            goto fail;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            *out = mem_realloc(*out, sizeof **out * (size_t)cap);
        }
        (*out)[(*n)++] = e;
    }
    free(copy);
    return 0;
fail:
    free(copy);
    free(*out);
    *out = NULL;
    *n = 0;
    return -1;
}

const ipfix_exporter *ipfix_exporters_find(const ipfix_exporter *e, int n, const char *addr) {
    char a[48];
    if (norm_addr(addr, a, sizeof a) < 0)
        return NULL;
    for (int i = 0; i < n; i++)
        if (!strcmp(e[i].addr, a))
            return &e[i];
    return NULL;
}

static uint16_t be16(const uint8_t *p) {
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static tmpl *tmpl_find(ipfix_state *s, const char *exporter, int version, uint32_t domain,
                       uint16_t id) {
    for (tmpl *t = s->tmpls; t; t = t->next)
        if (t->id == id && t->domain == domain && t->version == version &&
            !strcmp(t->exporter, exporter))
            return t;
    return NULL;
}

static void tmpl_drop(ipfix_state *s, const char *exporter, int version, uint32_t domain,
                      uint16_t id) {
    for (tmpl **pp = &s->tmpls; *pp; pp = &(*pp)->next) {
        tmpl *t = *pp;
        if (t->id == id && t->domain == domain && t->version == version &&
            !strcmp(t->exporter, exporter)) {
            *pp = t->next;
            free(t->f);
            free(t);
            return;
        }
    }
}

/* The exporter's address, without its port: "ADDR:PORT" or "[ADDR]:PORT". */
static size_t addr_len(const char *exporter) {
    const char *c = strrchr(exporter, ':');
    return c ? (size_t)(c - exporter) : strlen(exporter);
}

/* Templates of every transport session from EXPORTER's address: the bound
 * holds per address, so a peer cannot grow it by changing source ports. */
static int tmpl_count(ipfix_state *s, const char *exporter) {
    int n = 0;
    size_t al = addr_len(exporter);
    for (tmpl *t = s->tmpls; t; t = t->next)
        n += addr_len(t->exporter) == al && !strncmp(t->exporter, exporter, al);
    return n;
}

/* Keeps a template (a new definition of the same id replaces the old: RFC
 * 7011 section 8).  0, or -1 when the exporter has too many. */
static int tmpl_put(ipfix_state *s, const char *exporter, int version, uint32_t domain, uint16_t id,
                    int options, field *f, int n) {
    tmpl_drop(s, exporter, version, domain, id);
    if (tmpl_count(s, exporter) >= IPFIX_MAX_TEMPLATES) {
        free(f);
        return -1;
    }
    tmpl *t = mem_zalloc(sizeof *t);
    snprintf(t->exporter, sizeof t->exporter, "%s", exporter);
    t->version = version;
    t->domain = domain;
    t->id = id;
    t->options = options;
    t->f = f;
    t->n = n;
    t->next = s->tmpls;
    s->tmpls = t;
    return 0;
}

/* The sequence check: LOST by the gap between what was expected and SEQ;
 * then expect NEXT. */
static void seq_check(ipfix_state *s, const char *exporter, int version, uint32_t domain,
                      uint32_t seq, uint32_t next) {
    seqstate *q;
    for (q = s->seqs; q; q = q->next)
        if (q->domain == domain && q->version == version && !strcmp(q->exporter, exporter))
            break;
    if (!q) {
        /* Bounded like the templates: past IPFIX_MAX_SEQ sessions the
         * oldest one's count is forgotten (its next message starts it
         * again, and no loss is counted for it). */
        int k = 0;
        for (seqstate **pp = &s->seqs; *pp; k++) {
            if (k >= IPFIX_MAX_SEQ - 1) {
                seqstate *old = *pp;
                *pp = old->next;
                free(old);
            } else
                pp = &(*pp)->next;
        }
        q = mem_zalloc(sizeof *q);
        snprintf(q->exporter, sizeof q->exporter, "%s", exporter);
        q->version = version;
        q->domain = domain;
        q->next = s->seqs;
        s->seqs = q;
    } else {
        uint32_t gap = seq - q->expect;
        /* A small step forward is loss; a step back (reordering, an
         * exporter's restart) is not counted. */
        if (gap != 0 && gap < 0x80000000u)
            s->st.lost += gap;
    }
    q->expect = next;
}

/* ---- rendering ------------------------------------------------------------------------------- */

enum { T_U, T_ADDR4, T_ADDR6, T_STR };

static const struct ie {
    uint16_t id;
    const char *name;
    int type;
} ies[] = {
    {1, "octetDeltaCount", T_U},
    {2, "packetDeltaCount", T_U},
    {4, "protocolIdentifier", T_U},
    {7, "sourceTransportPort", T_U},
    {8, "sourceIPv4Address", T_ADDR4},
    {11, "destinationTransportPort", T_U},
    {12, "destinationIPv4Address", T_ADDR4},
    {27, "sourceIPv6Address", T_ADDR6},
    {28, "destinationIPv6Address", T_ADDR6},
    {58, "vlanId", T_U},
    {152, "flowStartMilliseconds", T_U},
    {153, "flowEndMilliseconds", T_U},
    {225, "postNATSourceIPv4Address", T_ADDR4},
    {226, "postNATDestinationIPv4Address", T_ADDR4},
    {227, "postNAPTSourceTransportPort", T_U},
    {228, "postNAPTDestinationTransportPort", T_U},
    {229, "natOriginatingAddressRealm", T_U},
    {230, "natEvent", T_U},
    {234, "ingressVRFID", T_U},
    {235, "egressVRFID", T_U},
    {236, "VRFname", T_STR},
    {283, "natPoolId", T_U},
    {284, "natPoolName", T_STR},
    {322, "observationTimeSeconds", T_U},
    {323, "observationTimeMilliseconds", T_U},
    {361, "portRangeStart", T_U},
    {362, "portRangeEnd", T_U},
    {363, "portRangeStepSize", T_U},
    {364, "portRangeNumPorts", T_U},
};

static const struct ie *ie_find(uint16_t id, uint32_t pen) {
    if (pen)
        return NULL;
    for (size_t i = 0; i < sizeof ies / sizeof ies[0]; i++)
        if (ies[i].id == id)
            return &ies[i];
    return NULL;
}

static void add_hex(buf *b, const uint8_t *p, size_t n) {
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        buf_addc(b, hx[p[i] >> 4]);
        buf_addc(b, hx[p[i] & 15]);
    }
}

/* A string field: printable ASCII as it is, everything else (space,
 * backslash, '=' included) as \xHH, so a value never breaks the line's
 * KEY=VALUE tokens. */
static void add_str(buf *b, const uint8_t *p, size_t n) {
    while (n && p[n - 1] == 0) /* fixed-length strings are NUL-padded */
        n--;
    for (size_t i = 0; i < n; i++) {
        if (p[i] > 0x20 && p[i] < 0x7f && p[i] != '\\' && p[i] != '=')
            buf_addc(b, (char)p[i]);
        else
            buf_printf(b, "\\x%02x", p[i]);
    }
}

static int value_u(const uint8_t *p, size_t n, unsigned long long *out) {
    if (n == 0 || n > 8)
        return -1;
    unsigned long long v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    *out = v;
    return 0;
}

static const char *event_name(ipfix_profile prof, int have, unsigned long long ev) {
    if (!have)
        return "none";
    if (prof == IPFIX_PROFILE_JUNOS) {
        switch (ev) {
        case 14:
            return "allocated";
        case 15:
            return "released";
        case 16:
            return "interim";
        case 1:
        case 4:
            return "session_open";
        case 2:
        case 5:
            return "session_close";
        default:
            return "other";
        }
    }
    switch (ev) {
    case 16:
        return "allocated";
    case 17:
        return "released";
    case 1:
    case 4:
    case 6:
        return "session_open";
    case 2:
    case 5:
    case 7:
        return "session_close";
    default:
        return "other";
    }
}

typedef struct ctx {
    ipfix_state *s;
    const char *exporter, *name;
    ipfix_profile profile;
    int version;
    uint32_t domain, seq, export_time;
    ipfix_line_cb cb;
    void *arg;
    int lines;
    buf line;
} ctx;

/* One data record of template T at P (at most N bytes): its length, or -1
 * if it does not fit.  Rendered when it is a NAT record. */
/* Field F's value in the record at P (N bytes), from *OFF: its bytes and
 * length, *OFF moved past it; -1 if it runs past the record's set. */
static int field_at(const field *f, const uint8_t *p, size_t n, size_t *off, const uint8_t **v,
                    size_t *len) {
    size_t o = *off, l = f->len;
    if (l == 65535) { /* variable length: RFC 7011 section 7 */
        if (o + 1 > n)
            return -1;
        l = p[o++];
        if (l == 255) {
            if (o + 2 > n)
                return -1;
            l = be16(p + o);
            o += 2;
        }
    }
    if (o + l > n)
        return -1;
    *v = p + o;
    *len = l;
    *off = o + l;
    return 0;
}

static long record(ctx *c, const tmpl *t, const uint8_t *p, size_t n) {
    size_t off = 0, len;
    const uint8_t *v;
    int nat = 0, have_ev = 0;
    unsigned long long ev = 0;
    /* First pass: the record's length, and whether it is a NAT event. */
    for (int i = 0; i < t->n; i++) {
        if (field_at(&t->f[i], p, n, &off, &v, &len) < 0)
            return -1;
        if (!t->f[i].pen) {
            uint16_t id = t->f[i].id;
            if (id == 230 && value_u(v, len, &ev) == 0)
                have_ev = 1;
            nat |= id == 230 || id == 225 || id == 227 || id == 361;
        }
    }
    c->s->st.records++;
    if (!nat || t->options)
        return (long)off;
    buf *b = &c->line;
    buf_reset(b);
    buf_printf(b, "IPFIX v%d cgn=%s exporter=%s domain=%u seq=%u export=%u template=%u event=%s",
               c->version, c->name, c->exporter, c->domain, c->seq, c->export_time, t->id,
               event_name(c->profile, have_ev, ev));
    size_t o = 0;
    for (int i = 0; i < t->n; i++) {
        field_at(&t->f[i], p, n, &o, &v, &len); /* fits: the first pass said so */
        const struct ie *ie = ie_find(t->f[i].id, t->f[i].pen);
        unsigned long long u;
        char a[INET6_ADDRSTRLEN];
        buf_addc(b, ' ');
        if (ie && ie->type == T_U && value_u(v, len, &u) == 0)
            buf_printf(b, "%s=%llu", ie->name, u);
        else if (ie && ie->type == T_ADDR4 && len == 4 && inet_ntop(AF_INET, v, a, sizeof a))
            buf_printf(b, "%s=%s", ie->name, a);
        else if (ie && ie->type == T_ADDR6 && len == 16 && inet_ntop(AF_INET6, v, a, sizeof a))
            buf_printf(b, "%s=%s", ie->name, a);
        else if (ie && ie->type == T_STR) {
            buf_printf(b, "%s=", ie->name);
            add_str(b, v, len);
        } else {
            if (t->f[i].pen)
                buf_printf(b, "%u/", t->f[i].pen);
            buf_printf(b, "e%u=", t->f[i].id);
            add_hex(b, v, len);
        }
    }
    c->s->st.nat_records++;
    c->cb(c->arg, b->p, b->len);
    c->lines++;
    return (long)off;
}

/* A template or options template set (IPFIX ids 2, 3; v9 ids 0, 1). */
static int templates(ctx *c, int options, const uint8_t *p, size_t n, const char **why) {
    size_t off = 0;
    while (n - off >= 4) {
        size_t z = off;
        while (z < n && p[z] == 0)
            z++;
        if (z == n)
            break; /* padding */
        uint16_t id = be16(p + off), count = be16(p + off + 2), scope = 0;
        off += 4;
        if (c->version == 10 && options) {
            if (count == 0) { /* withdrawal of an options template */
                tmpl_drop(c->s, c->exporter, c->version, c->domain, id);
                continue;
            }
            if (n - off < 2)
                return *why = "options template record truncated", -1;
            scope = be16(p + off);
            off += 2;
            if (scope == 0 || scope > count)
                return *why = "options template with a bad scope field count", -1;
        } else if (c->version == 9 && options) {
            /* v9: scope and option lengths in bytes, 4 bytes a field */
            if (n - off < 2)
                return *why = "options template record truncated", -1;
            uint16_t optlen = be16(p + off);
            off += 2;
            if (count % 4 || optlen % 4)
                return *why = "options template lengths not a multiple of 4", -1;
            count = (uint16_t)((count + optlen) / 4);
        }
        if (id < 256 && !(c->version == 10 && id == 2 && count == 0))
            return *why = "template id below 256", -1;
        if (count == 0) { /* IPFIX withdrawal (id 2: all of them) */
            if (c->version != 10)
                return *why = "template with no fields", -1;
            if (id == 2) {
                for (tmpl **pp = &c->s->tmpls; *pp;) {
                    tmpl *t = *pp;
                    if (t->domain == c->domain && t->version == 10 &&
                        !strcmp(t->exporter, c->exporter)) {
                        *pp = t->next;
                        free(t->f);
                        free(t);
                    } else
                        pp = &t->next;
                }
            } else
                tmpl_drop(c->s, c->exporter, c->version, c->domain, id);
            continue;
        }
        field *f = mem_alloc(sizeof *f * count);
        for (int i = 0; i < count; i++) {
            if (n - off < 4) {
                free(f);
                return *why = "template record truncated", -1;
            }
            uint16_t ie = be16(p + off), len = be16(p + off + 2);
            off += 4;
            f[i].pen = 0;
            f[i].id = ie;
            f[i].len = len;
            if (c->version == 10 && (ie & 0x8000)) {
                if (n - off < 4) {
                    free(f);
                    return *why = "template record truncated", -1;
                }
                f[i].pen = be32(p + off);
                f[i].id = ie & 0x7fff;
                off += 4;
            }
            if (len == 65535 && c->version == 9) {
                free(f);
                return *why = "variable-length field in a NetFlow v9 template", -1;
            }
        }
        c->s->st.templates++;
        if (tmpl_put(c->s, c->exporter, c->version, c->domain, id, options, f, count) < 0)
            return *why = "too many templates from this exporter", -1;
    }
    return 0;
}

static int data_set(ctx *c, uint16_t id, const uint8_t *p, size_t n, long *records,
                    const char **why) {
    const tmpl *t = tmpl_find(c->s, c->exporter, c->version, c->domain, id);
    if (!t) {
        c->s->st.no_template++;
        return 0;
    }
    size_t min = 0;
    for (int i = 0; i < t->n; i++)
        min += t->f[i].len == 65535 ? 1 : t->f[i].len;
    if (min == 0)
        return 0;
    size_t off = 0;
    /* What is left shorter than a record is padding (RFC 7011 section 3.3.1). */
    while (n - off >= min) {
        long r = record(c, t, p + off, n - off);
        if (r < 0)
            return *why = "data record runs past its set", -1;
        if (r == 0)
            break;
        off += (size_t)r;
        (*records)++;
    }
    return 0;
}

static void invalid(ctx *c, const uint8_t *p, size_t n, const char *why) {
    buf *b = &c->line;
    buf_reset(b);
    buf_printf(b, "IPFIX-INVALID cgn=%s exporter=%s data=", c->name, c->exporter);
    add_hex(b, p, n > 65535 ? 65535 : n);
    buf_printf(b, " reason=%s", why);
    c->s->st.invalid++;
    c->cb(c->arg, b->p, b->len);
    c->lines++;
}

int ipfix_decode(ipfix_state *s, const char *exporter, const char *name, ipfix_profile profile,
                 const uint8_t *p, size_t n, ipfix_line_cb line_cb, void *arg) {
    ctx c = {
        .s = s, .exporter = exporter, .name = name, .profile = profile, .cb = line_cb, .arg = arg};
    buf_init(&c.line);
    const char *why = NULL;
    long records = 0;
    size_t off, end;
    if (n < 4) {
        why = "shorter than a message header";
        goto bad;
    }
    c.version = be16(p);
    if (c.version == 10) {
        if (n < 16) {
            why = "shorter than an IPFIX message header";
            goto bad;
        }
        end = be16(p + 2);
        if (end < 16 || end > n) {
            why = "IPFIX message length does not match the datagram";
            goto bad;
        }
        c.export_time = be32(p + 4);
        c.seq = be32(p + 8);
        c.domain = be32(p + 12);
        off = 16;
    } else if (c.version == 9) {
        if (n < 20) {
            why = "shorter than a NetFlow v9 header";
            goto bad;
        }
        end = n;
        c.export_time = be32(p + 8);
        c.seq = be32(p + 12);
        c.domain = be32(p + 16);
        off = 20;
    } else {
        why = "neither IPFIX (version 10) nor NetFlow v9";
        goto bad;
    }
    while (end - off >= 4) {
        uint16_t id = be16(p + off), len = be16(p + off + 2);
        if (len < 4 || len > end - off) {
            why = "a set's length runs past the message";
            goto bad;
        }
        const uint8_t *body = p + off + 4;
        size_t bl = len - 4u;
        int rc;
        if ((c.version == 10 && (id == 2 || id == 3)) || (c.version == 9 && id <= 1))
            rc = templates(&c, c.version == 10 ? id == 3 : id == 1, body, bl, &why);
        else if (id >= 256)
            rc = data_set(&c, id, body, bl, &records, &why);
        else
            rc = 0; /* reserved set ids are ignored (RFC 7011 section 3.3.2) */
        if (rc < 0)
            goto bad;
        off += len;
    }
    if (end - off != 0 && c.version == 10) {
        why = "trailing bytes after the last set";
        goto bad;
    }
    s->st.messages++;
    seq_check(s, exporter, c.version, c.domain, c.seq,
              c.version == 10 ? c.seq + (uint32_t)records : c.seq + 1);
    buf_close(&c.line);
    return c.lines;
bad:
    invalid(&c, p, n, why);
    buf_close(&c.line);
    return c.lines;
}
