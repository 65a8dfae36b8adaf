#include "postfix.h"
#include "scan.h"

#include "msgid.h"

#include <stdio.h>
#include <string.h>

/* The message is scanned by index within [0, n): it is not NUL-terminated
 * and may contain NUL bytes, so no C string function touches it. */

/* Copy into the arena; NUL becomes '?' so the result is one C string. */
/* First occurrence of LIT in s[from, n), or n. */
static size_t find(const char *s, size_t n, size_t from, const char *lit) {
    size_t l = strlen(lit);
    for (size_t k = from; k + l <= n; k++)
        if (memcmp(s + k, lit, l) == 0)
            return k;
    return n;
}

/* Last occurrence of LIT in s[from, n), or n. */
static size_t rfind(const char *s, size_t n, size_t from, const char *lit) {
    size_t l = strlen(lit);
    if (n < l || n - l < from)
        return n;
    for (size_t k = n - l + 1; k-- > from;)
        if (memcmp(s + k, lit, l) == 0)
            return k;
    return n;
}

/* ---- queue IDs ------------------------------------------------------- */

/* Long queue IDs use digits and letters without vowels (mail_queue.h). */
static int is_safe(char c) {
    if (scan_is_digit(c))
        return 1;
    if ((c >= 'B' && c <= 'Z') || (c >= 'b' && c <= 'z'))
        return !strchr("EIOUeiou", c);
    return 0;
}

int postfix_queue_id_valid(const char *s, size_t len) {
    if (!s || len < 6 || len > 32)
        return 0;
    int hex = 1, safe = 1;
    size_t lastz = len;
    for (size_t k = 0; k < len; k++) {
        char c = s[k];
        if (!(scan_is_digit(c) || (c >= 'A' && c <= 'F')))
            hex = 0;
        if (!is_safe(c))
            safe = 0;
        if (c == 'z')
            lastz = k;
    }
    if (hex)
        return 1; /* short form: 5 hex digits of microseconds + hex inode */
    /* Long form: >= 6 chars of seconds + exactly 4 of microseconds, 'z',
     * then the inode in base 51 (which has no 'z', so the last 'z' splits). */
    return safe && lastz != len && lastz >= 10 && lastz + 1 < len;
}

/* An Exim message ID, old 6-6-2 or 4.97+ 6-11-4, base 62. */
static int exim_id_at(const char *s, size_t n, size_t i, size_t *len) {
    static const int forms[2][3] = {{6, 6, 2}, {6, 11, 4}};
    for (int f = 1; f >= 0; f--) {
        size_t k = i;
        int ok = 1;
        for (int part = 0; part < 3 && ok; part++) {
            for (int c = 0; c < forms[f][part] && ok; c++, k++)
                ok = k < n && ((s[k] >= '0' && s[k] <= '9') || (s[k] >= 'A' && s[k] <= 'Z') ||
                               (s[k] >= 'a' && s[k] <= 'z'));
            if (ok && part < 2)
                ok = k < n && s[k++] == '-';
        }
        if (ok && (k == n || !((s[k] >= '0' && s[k] <= '9') || (s[k] >= 'A' && s[k] <= 'Z') ||
                               (s[k] >= 'a' && s[k] <= 'z') || s[k] == '-'))) {
            *len = k - i;
            return 1;
        }
    }
    return 0;
}

/* ---- tags ------------------------------------------------------------- */

static int known_daemon(const char *p, size_t len) {
    static const char *const daemons[] = {
        "anvil",      "bounce",          "cleanup",  "defer",     "discard",
        "dnsblog",    "error",           "flush",    "local",     "lmtp",
        "master",     "nqmgr",           "oqmgr",    "pickup",    "pipe",
        "postdrop",   "postlog",         "postmap",  "postmulti", "postqueue",
        "postscreen", "postsuper",       "proxymap", "qmgr",      "qmqpd",
        "relay",      "retry",           "scache",   "sendmail",  "showq",
        "smtp",       "smtpd",           "spawn",    "tlsmgr",    "tlsproxy",
        "trace",      "trivial-rewrite", "verify",   "virtual",   "postfix-script",
        NULL};
    for (int k = 0; daemons[k]; k++)
        if (scan_eq(p, len, daemons[k]))
            return 1;
    return 0;
}

/* ---- small field parsers ---------------------------------------------- */

static int term(char c, const char *terms) {
    return c != '\0' && strchr(terms, c) != NULL;
}

/* s[i] == '<': the address runs to the first '>' followed by one of TERMS
 * or the end, so a '>' inside a quoted local part rarely fools it. */
static int angle(const char *s, size_t n, size_t i, const char *terms, size_t *vs, size_t *ve) {
    for (size_t k = i + 1; k < n; k++)
        if (s[k] == '>' && (k + 1 == n || term(s[k + 1], terms))) {
            *vs = i + 1;
            *ve = k;
            return 0;
        }
    return -1;
}

/* NAME[ADDR] or NAME[ADDR]:PORT starting at i; stops after it.  ADDR may be
 * IPv6 (Postfix logs it bare; an "IPv6:" prefix is tolerated). */
static int namaddr(arena *a, const char *s, size_t n, size_t i, const char **name, const char **ip,
                   int *port, unsigned *flags, size_t *end) {
    size_t lb = i;
    while (lb < n && s[lb] != '[' && s[lb] != ' ' && s[lb] != ',')
        lb++;
    if (lb >= n || s[lb] != '[')
        return -1;
    size_t rb = lb + 1;
    while (rb < n && s[rb] != ']' && s[rb] != ' ' && s[rb] != '[')
        rb++;
    if (rb >= n || s[rb] != ']' || rb == lb + 1)
        return -1;
    size_t a0 = lb + 1;
    if (rb - a0 > 5 && (scan_at(s, rb, a0, "IPv6:") || scan_at(s, rb, a0, "ipv6:"))) {
        a0 += 5;
        *flags |= POSTFIX_F_IPV6_TAG;
    }
    *name = scan_dup(a, s + i, lb - i);
    *ip = scan_dup(a, s + a0, rb - a0);
    *port = -1;
    size_t k = rb + 1;
    if (k + 1 < n && s[k] == ':' && scan_is_digit(s[k + 1])) {
        long v = 0;
        size_t d = k + 1;
        while (d < n && scan_is_digit(s[d]) && v <= 65535)
            v = v * 10 + (s[d++] - '0');
        if (v <= 65535 && (d == n || !scan_is_digit(s[d]))) {
            *port = (int)v;
            k = d;
        }
    }
    *end = k;
    return 0;
}

/* The ID after "queued as " (or "forwarded as ") in a delivery reply. */
static void next_hop(arena *a, const char *s, size_t n, postfix_record *out) {
    static const char *const marks[] = {"queued as ", "forwarded as "};
    for (int m = 0; m < 2; m++) {
        size_t k = rfind(s, n, 0, marks[m]);
        if (k == n)
            continue;
        k += strlen(marks[m]);
        size_t e = k;
        while (
            e < n && e - k < 64 &&
            (scan_is_digit(s[e]) || (s[e] >= 'A' && s[e] <= 'Z') || (s[e] >= 'a' && s[e] <= 'z')))
            e++;
        if (e > k) {
            out->next_queue_id = scan_dup(a, s + k, e - k);
            if (m == 1)
                out->flags |= POSTFIX_F_FORWARDED;
            return;
        }
    }
    /* An Exim next hop answers "250 OK id=1tEXYZ-000ABC-1A". */
    for (size_t k = find(s, n, 0, "id="); k < n; k = find(s, n, k + 1, "id=")) {
        size_t len;
        if ((k == 0 || s[k - 1] == ' ') && exim_id_at(s, n, k + 3, &len)) {
            out->next_queue_id = scan_dup(a, s + k + 3, len);
            out->flags |= POSTFIX_F_NEXT_EXIM;
            return;
        }
    }
}

static void relay_split(arena *a, const char *s, size_t vs, size_t ve, postfix_record *out) {
    const char *name, *ip;
    int port;
    unsigned fl = 0;
    size_t end;
    out->relay_port = -1;
    if (namaddr(a, s, ve, vs, &name, &ip, &port, &fl, &end) == 0 && end == ve) {
        out->relay_name = name;
        out->relay_ip = ip;
        out->relay_port = port;
    } else {
        out->relay_name = out->relay;
    }
}

/* ---- record shapes ---------------------------------------------------- */

/* client=NAME[IP][:PORT][, sasl_method=..][, sasl_username=..][, sasl_sender=..]
 * [, orig_queue_id=..][, orig_client=NAME[IP]] -- the order smtpd uses
 * (smtpd_sasl_proto.c).  Values end only at ", KNOWN_KEY=", so a SASL user
 * name containing ", " survives. */
static int parse_client(arena *a, const char *s, size_t n, size_t i, postfix_record *out,
                        error *err) {
    static const char *const keys[] = {", sasl_method=",   ", sasl_username=", ", sasl_sender=",
                                       ", orig_queue_id=", ", orig_client=",   NULL};
    size_t vs = i + strlen("client=");
    int key = -1; /* -1: the client value itself */
    for (;;) {
        /* One forward scan for the next ", KEY=": linear in the line even
         * when keys repeat (a fuzzer's favourite). */
        size_t next = n;
        int nkey = -1;
        for (size_t p = vs; p + 1 < n && nkey < 0; p++) {
            if (s[p] != ',' || s[p + 1] != ' ')
                continue;
            for (int k = 0; keys[k] && nkey < 0; k++)
                if (scan_at(s, n, p, keys[k])) {
                    next = p;
                    nkey = k;
                }
        }
        size_t ve = next;
        const char *name, *ip;
        int port;
        size_t end;
        switch (key) {
        case -1:
        case 4:
            if (namaddr(a, s, ve, vs, &name, &ip, &port, &out->flags, &end) < 0 || end != ve)
                return error_set(err, "bad_client", vs,
                                 "%s is not NAME[ADDRESS] or NAME[ADDRESS]:PORT",
                                 key < 0 ? "client=" : "orig_client=");
            if (key < 0) {
                out->client_name = name;
                out->client_ip = ip;
                out->client_port = port;
            } else {
                out->orig_client_name = name;
                out->orig_client_ip = ip;
                out->orig_client_port = port;
            }
            break;
        case 0:
            out->sasl_method = scan_dup(a, s + vs, ve - vs);
            break;
        case 1:
            out->sasl_username = scan_dup(a, s + vs, ve - vs);
            break;
        case 2:
            out->sasl_sender = scan_dup(a, s + vs, ve - vs);
            break;
        case 3:
            out->orig_queue_id = scan_dup(a, s + vs, ve - vs);
            break;
        }
        if (nkey < 0)
            break;
        key = nkey;
        vs = next + strlen(keys[nkey]);
    }
    out->kind = POSTFIX_CLIENT;
    return 0;
}

static void parse_msgid(arena *a, const char *s, size_t n, size_t vs, postfix_record *out) {
    size_t ve = n;
    while (ve > vs && (s[ve - 1] == ' ' || s[ve - 1] == '\t'))
        ve--;
    const char *raw = scan_dup(a, s + vs, ve - vs);
    char *norm = arena_alloc(a, ve - vs + 1);
    msgid_normalize(raw, ve - vs, norm);
    out->message_id = raw;
    out->message_id_norm = norm;
    out->kind = POSTFIX_MESSAGE_ID;
}

static int number(const char *s, size_t vs, size_t ve, long long *v) {
    if (ve == vs || ve - vs > 18)
        return -1;
    long long x = 0;
    for (size_t k = vs; k < ve; k++) {
        if (!scan_is_digit(s[k]))
            return -1;
        x = x * 10 + (s[k] - '0');
    }
    *v = x;
    return 0;
}

/* qmgr's end of a message that stayed in the queue past
 * maximal_queue_lifetime: "from=<a@b>, status=expired, returned to sender"
 * (qmgr_active.c).  A delivery without a recipient: the message's last
 * status, for every recipient still queued. */
static int parse_expired(arena *a, const char *s, size_t n, size_t i, postfix_record *out,
                         error *err) {
    size_t vs, ve;
    if (angle(s, n, i + 5, ", ", &vs, &ve) < 0)
        return error_set(err, "bad_address", i + 5, "from=< is not closed by '>'");
    if (!scan_at(s, n, ve + 1, ", status="))
        return 0; /* POSTFIX_OTHER */
    size_t st = ve + 10, se = st;
    while (se < n && s[se] != ',' && s[se] != ' ')
        se++;
    if (se == st)
        return 0;
    out->from = scan_dup(a, s + vs, ve - vs);
    out->status = scan_dup(a, s + st, se - st);
    if (scan_at(s, n, se, ", "))
        out->response = scan_dup(a, s + se + 2, n - se - 2);
    out->kind = POSTFIX_DELIVERY;
    return 0;
}

/* from=<ADDR>, size=N, nrcpt=N (queue NAME) */
static int parse_qmgr(arena *a, const char *s, size_t n, size_t i, postfix_record *out,
                      error *err) {
    size_t vs, ve;
    if (angle(s, n, i + 5, ", ", &vs, &ve) < 0)
        return error_set(err, "bad_address", i + 5, "from=< is not closed by '>'");
    out->from = scan_dup(a, s + vs, ve - vs);
    size_t k = ve + 1;
    while (scan_at(s, n, k, ", ")) {
        k += 2;
        size_t f0 = k;
        while (k < n && s[k] != ',' && s[k] != ' ')
            k++;
        long long v;
        if (scan_at(s, k, f0, "size=") || scan_at(s, k, f0, "nrcpt=")) {
            int is_size = s[f0] == 's';
            size_t v0 = f0 + (is_size ? 5 : 6);
            if (number(s, v0, k, &v) < 0)
                return error_set(err, "bad_number", v0, "%s is not a number",
                                 is_size ? "size" : "nrcpt");
            if (is_size)
                out->size = v;
            else
                out->nrcpt = (long)v;
        }
    }
    if (scan_at(s, n, k, " (queue ") && s[n - 1] == ')' && n - 1 >= k + 8)
        out->queue_name = scan_dup(a, s + k + 8, n - 1 - (k + 8));
    out->kind = POSTFIX_QMGR_FROM;
    return 0;
}

/* to=<..>, orig_to=<..>, relay=.., conn_use=.., delay=.., delays=.., dsn=..,
 * status=WORD (reply) */
static int parse_delivery(arena *a, const char *s, size_t n, size_t i, postfix_record *out,
                          error *err) {
    size_t k = i;
    while (k < n) {
        size_t k0 = k;
        while (k < n && s[k] != '=' && s[k] != ',' && s[k] != ' ')
            k++;
        if (k >= n || s[k] != '=' || k == k0)
            break;
        const char *key = s + k0;
        size_t klen = k - k0;
        size_t vs = ++k, ve;
        if (k < n && s[k] == '<') {
            if (angle(s, n, k, ",: ", &vs, &ve) < 0)
                return error_set(err, "bad_address", k, "<address> is not closed by '>'");
            k = ve + 1;
        } else if (scan_eq(key, klen, "status")) {
            while (k < n && s[k] != ' ')
                k++;
            ve = k;
            if (scan_at(s, n, k, " (")) {
                size_t r0 = k + 2, r1 = n;
                if (r1 > r0 && s[r1 - 1] == ')')
                    r1--;
                out->response = scan_dup(a, s + r0, r1 - r0);
            }
            k = n;
        } else {
            ve = find(s, n, k, ", ");
            k = ve;
        }
        const char *v = scan_dup(a, s + vs, ve - vs);
        if (scan_eq(key, klen, "to"))
            out->to = v;
        else if (scan_eq(key, klen, "orig_to"))
            out->orig_to = v;
        else if (scan_eq(key, klen, "relay")) {
            out->relay = v;
            relay_split(a, s, vs, ve, out);
        } else if (scan_eq(key, klen, "delay"))
            out->delay = v;
        else if (scan_eq(key, klen, "delays"))
            out->delays = v;
        else if (scan_eq(key, klen, "dsn"))
            out->dsn = v;
        else if (scan_eq(key, klen, "status"))
            out->status = v;
        if (!scan_at(s, n, k, ", "))
            break;
        k += 2;
    }
    if (!out->to || !out->status) {
        /* e.g. "to=<x>, orig_to=<y>: ..." notes that are not deliveries. */
        out->to = out->orig_to = out->relay = out->relay_name = out->relay_ip = NULL;
        out->delay = out->delays = out->dsn = out->status = out->response = NULL;
        out->relay_port = -1;
        out->kind = POSTFIX_OTHER;
        return 0;
    }
    if (out->response && strcmp(out->status, "sent") == 0)
        next_hop(a, out->response, strlen(out->response), out);
    out->kind = POSTFIX_DELIVERY;
    return 0;
}

static int known_action(const char *p, size_t len) {
    static const char *const actions[] = {"reject",
                                          "reject_warning",
                                          "milter-reject",
                                          "milter-discard",
                                          "milter-hold",
                                          "hold",
                                          "discard",
                                          "filter",
                                          "redirect",
                                          "bcc",
                                          "prepend",
                                          "warn",
                                          NULL};
    for (int k = 0; actions[k]; k++)
        if (scan_eq(p, len, actions[k]))
            return 1;
    return 0;
}

/* smtpd_check.c log_whatsup(): "ACTION: STAGE from NAMADDR: TEXT;[ from=<..>]
 * [ to=<..>][ proto=..][ helo=<..>]".  Returns 1 parsed, 0 other shape. */
static int parse_reject(arena *a, const char *s, size_t n, size_t i, postfix_record *out,
                        error *err) {
    size_t k = i;
    while (k < n && ((s[k] >= 'a' && s[k] <= 'z') || s[k] == '-' || s[k] == '_'))
        k++;
    if (!known_action(s + i, k - i) || !scan_at(s, n, k, ": "))
        return 0;
    size_t st = k + 2, se = st;
    while (se < n && s[se] != ' ')
        se++;
    /* smtpd's and postscreen's stages are SMTP commands in capitals
     * (CONNECT, RCPT, END-OF-MESSAGE, ...); cleanup's header_checks and
     * body_checks actions name a class ("header", "body") and the matched
     * text, which may itself contain " from ": those stay POSTFIX_OTHER. */
    if (se == st || s[st] < 'A' || s[st] > 'Z' || !scan_at(s, n, se, " from "))
        return 0;
    size_t ce;
    if (namaddr(a, s, n, se + 6, &out->client_name, &out->client_ip, &out->client_port, &out->flags,
                &ce) < 0 ||
        !scan_at(s, n, ce, ": "))
        return error_set(err, "bad_client", se + 6, "client after 'from' is not NAME[ADDRESS]:");
    out->action = scan_dup(a, s + i, k - i);
    out->stage = scan_dup(a, s + st, se - st);

    /* The reply text ends at the last "; " that starts the trailer. */
    size_t t0 = ce + 2, tend = n;
    for (size_t lim = n;;) {
        size_t p = rfind(s, lim, t0, "; ");
        if (p >= lim)
            break;
        if (scan_at(s, n, p + 2, "from=<") || scan_at(s, n, p + 2, "to=<") ||
            scan_at(s, n, p + 2, "proto=") || scan_at(s, n, p + 2, "helo=<")) {
            tend = p;
            break;
        }
        lim = p;
    }
    out->reply = scan_dup(a, s + t0, tend - t0);
    out->reply_code = -1;
    size_t d0 = t0;
    if (tend - t0 >= 4 && scan_is_digit(s[t0]) && scan_is_digit(s[t0 + 1]) &&
        scan_is_digit(s[t0 + 2]) && s[t0 + 3] == ' ') {
        out->reply_code = (s[t0] - '0') * 100 + (s[t0 + 1] - '0') * 10 + (s[t0 + 2] - '0');
        d0 = t0 + 4;
    }
    /* The enhanced status code follows the reply code; milter replies may
     * start with it ("4.7.1 Try again later"). */
    size_t d = d0;
    while (d < tend && (scan_is_digit(s[d]) || s[d] == '.'))
        d++;
    if (d >= d0 + 5 && (d == tend || s[d] == ' ') && s[d0 + 1] == '.')
        out->dsn = scan_dup(a, s + d0, d - d0);
    size_t p = tend < n ? tend + 2 : n;
    while (p < n) {
        size_t key = p;
        while (p < n && s[p] != '=' && s[p] != ' ')
            p++;
        if (p >= n || s[p] != '=')
            break;
        size_t klen = p - key, vs = ++p, ve;
        /* smtpd separates the trailer with spaces, postscreen with ", ". */
        if (p < n && s[p] == '<') {
            if (angle(s, n, p, " ,", &vs, &ve) < 0)
                return error_set(err, "bad_address", p, "<address> is not closed by '>'");
            p = ve + 1;
        } else {
            while (p < n && s[p] != ' ' && s[p] != ',')
                p++;
            ve = p;
        }
        const char *v = scan_dup(a, s + vs, ve - vs);
        if (scan_eq(s + key, klen, "from"))
            out->from = v;
        else if (scan_eq(s + key, klen, "to"))
            out->to = v;
        else if (scan_eq(s + key, klen, "proto"))
            out->proto = v;
        else if (scan_eq(s + key, klen, "helo"))
            out->helo = v;
        while (p < n && (s[p] == ' ' || s[p] == ','))
            p++;
    }
    out->kind = POSTFIX_REJECT;
    return 1;
}

/* bounce(8): "sender non-delivery notification: NEWID" and its siblings
 * (delivery status, delay, postmaster ... notification). */
static int parse_bounce(arena *a, const char *s, size_t n, size_t i, postfix_record *out) {
    size_t c = rfind(s, n, i, ": ");
    static const char word[] = "notification";
    const size_t wl = sizeof word - 1;
    if (c == n || c - i < wl || memcmp(s + c - wl, word, wl) != 0 ||
        !postfix_queue_id_valid(s + c + 2, n - c - 2))
        return 0;
    out->notification = scan_dup(a, s + i, c - i);
    out->next_queue_id = scan_dup(a, s + c + 2, n - c - 2);
    out->kind = POSTFIX_BOUNCE;
    return 1;
}

const char *postfix_kind_name(postfix_kind k) {
    switch (k) {
    case POSTFIX_NOT_POSTFIX:
        return "not_postfix";
    case POSTFIX_OTHER:
        return "other";
    case POSTFIX_CLIENT:
        return "client";
    case POSTFIX_MESSAGE_ID:
        return "message_id";
    case POSTFIX_QMGR_FROM:
        return "qmgr_from";
    case POSTFIX_DELIVERY:
        return "delivery";
    case POSTFIX_REMOVED:
        return "removed";
    case POSTFIX_REJECT:
        return "reject";
    case POSTFIX_BOUNCE:
        return "bounce";
    }
    return "unknown";
}

int postfix_parse(const char *tag, size_t taglen, const char *msg, size_t msglen, arena *a,
                  postfix_record *out, error *err) {
    memset(out, 0, sizeof *out);
    out->client_port = out->orig_client_port = out->relay_port = out->reply_code = -1;
    out->size = -1;
    out->nrcpt = -1;
    error_clear(err);
    if (!tag)
        taglen = 0;
    const char *s = msg ? msg : "";
    size_t n = msg ? msglen : 0;

    /* Which tags are Postfix's: see the header. */
    size_t first = 0, last = taglen;
    while (first < taglen && tag[first] != '/')
        first++;
    for (size_t k = taglen; k-- > 0;)
        if (tag[k] == '/') {
            last = k;
            break;
        }
    /* rsyslog's RFC 5424 output cuts APP-NAME at the first '/' (its
     * programname, unless parser.permitSlashInProgramName is on), so a
     * multi-instance "postfix-out/smtp" arrives as "postfix-out". */
    int is_pf = scan_eq(tag, first, "postfix") ||
                (last < taglen && known_daemon(tag + last + 1, taglen - last - 1)) ||
                (last == taglen && taglen > 8 && !memcmp(tag, "postfix-", 8));
    if (!is_pf)
        return 0; /* POSTFIX_NOT_POSTFIX */
    out->kind = POSTFIX_OTHER;
    if (last < taglen) {
        out->instance = scan_dup(a, tag, last);
        out->daemon = scan_dup(a, tag + last + 1, taglen - last - 1);
    } else {
        out->instance = scan_dup(a, tag, taglen);
    }

    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    size_t c = 0;
    while (c < n && c < 40 && s[c] != ':' && s[c] != ' ')
        c++;
    if (!scan_at(s, n, c, ": "))
        return 0;
    if (scan_eq(s, c, "NOQUEUE"))
        out->flags |= POSTFIX_F_NOQUEUE;
    else if (postfix_queue_id_valid(s, c))
        out->queue_id = scan_dup(a, s, c);
    else
        return 0;
    size_t i = c + 2;

    if (scan_at(s, n, i, "client="))
        return parse_client(a, s, n, i, out, err);
    if (scan_at(s, n, i, "message-id=")) {
        parse_msgid(a, s, n, i + 11, out);
        return 0;
    }
    if (scan_at(s, n, i, "resent-message-id=")) {
        out->flags |= POSTFIX_F_RESENT;
        parse_msgid(a, s, n, i + 18, out);
        return 0;
    }
    if (scan_at(s, n, i, "from=<") && find(s, n, i, ", size=") < n)
        return parse_qmgr(a, s, n, i, out, err);
    if (scan_at(s, n, i, "from=<") && find(s, n, i, ", status=") < n)
        return parse_expired(a, s, n, i, out, err);
    if (scan_at(s, n, i, "to=<"))
        return parse_delivery(a, s, n, i, out, err);
    if (n - i == 7 && scan_at(s, n, i, "removed")) {
        out->kind = POSTFIX_REMOVED;
        return 0;
    }
    int r = parse_reject(a, s, n, i, out, err);
    if (r < 0)
        return -1;
    if (r == 0)
        parse_bounce(a, s, n, i, out);
    return 0;
}
