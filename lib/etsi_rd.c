#include "etsi_rd.h"
#include "timeutil.h"

#include <stdio.h>
#include <string.h>

/* Element content: < > & escaped (no attributes are written, so quotes stay). */
static void esc(buf *o, const char *s) {
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '<')
            buf_adds(o, "&lt;");
        else if (ch == '>')
            buf_adds(o, "&gt;");
        else if (ch == '&')
            buf_adds(o, "&amp;");
        else if (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r')
            buf_printf(o, "\\x%02x", ch); /* not representable in XML 1.0 */
        else
            buf_addc(o, (char)ch);
    }
}

static void elem(buf *o, int ind, const char *name, const char *v) {
    if (!v || !*v)
        return;
    buf_printf(o, "%*s<%s>", ind, "", name);
    esc(o, v);
    buf_printf(o, "</%s>\n", name);
}

/* RFC 3339 -> GeneralizedTime "YYYYMMDDhhmmssZ" (UTC, whole seconds: the
 * form readers of national exports accept). */
static const char *gtime(const char *rfc3339, char out[20]) {
    int64_t t;
    if (!rfc3339 || timeutil_parse(rfc3339, "UTC", &t, NULL) < 0)
        return NULL;
    char s[TIMEUTIL_RFC3339_MAX];
    timeutil_format(t, s); /* YYYY-MM-DDTHH:MM:SS...Z */
    snprintf(out, 20, "%.4s%.2s%.2s%.2s%.2s%.2sZ", s, s + 5, s + 8, s + 11, s + 14, s + 17);
    return out;
}

static const char *str(json_t *o, const char *k) {
    return json_string_value(json_object_get(o, k));
}

static const char *intstr(json_t *v, char out[32]) {
    if (!json_is_integer(v))
        return NULL;
    snprintf(out, 32, "%lld", (long long)json_integer_value(v));
    return out;
}

/* One "Key"="Value" pair; a quote inside a value is doubled, a ";" (the
 * pairs' separator) becomes ",". */
static void kv(buf *o, const char *k, const char *v) {
    if (!v || !*v)
        return;
    buf_printf(o, "%s\"%s\"=\"", o->len ? ";" : "", k);
    for (; *v; v++)
        if (*v == '"')
            buf_adds(o, "\"\"");
        else
            buf_addc(o, *v == ';' ? ',' : *v);
    buf_addc(o, '"');
}

static void other_info(buf *o, buf *info) {
    if (!info->len)
        return;
    buf_addc(info, '\0');
    buf_adds(o, "          <additionalInformation>\n            <otherInformation>");
    esc(o, info->p);
    buf_adds(o, "</otherInformation>\n          </additionalInformation>\n");
}

/* The block SHA-256s of EVIDENCE (an array of evidence_of objects), each once. */
static void evidence_digests(buf *info, json_t *evidence) {
    size_t i;
    json_t *e;
    json_t *seen = json_object();
    json_array_foreach(evidence, i, e) {
        const char *d = str(e, "block_sha256");
        if (d && !json_object_get(seen, d)) {
            json_object_set_new(seen, d, json_true());
            kv(info, "Evidence-Block-SHA256", d);
        }
    }
    json_decref(seen);
}

/* The value of "NAME = VALUE" in a FreeRADIUS detail record's evidence. */
static const char *detail_attr(json_t *evidence, const char *name, char *out, size_t n) {
    size_t i, nl = strlen(name);
    json_t *e;
    json_array_foreach(evidence, i, e) {
        const char *line = str(e, "line");
        for (const char *p = line ? strstr(line, name) : NULL; p; p = strstr(p + 1, name)) {
            if ((p != line && p[-1] != '\t' && p[-1] != ' ' && p[-1] != '\n') ||
                strncmp(p + nl, " = ", 3))
                continue;
            const char *v = p + nl + 3, *end = v + strcspn(v, "\r\n");
            if (*v == '"' && end > v + 1 && end[-1] == '"') {
                v++;
                end--;
            }
            snprintf(out, n, "%.*s", (int)(end - v), v);
            return out;
        }
    }
    return NULL;
}

typedef struct render {
    buf *o;
    const etsi_rd_header *h;
    long long no;
    json_t *seen; /* keys of the records written */
} render;

/* 1 the first time KEY is seen. */
static int first_time(render *r, const char *kind, const char *a, const char *b, const char *c) {
    char key[1024];
    snprintf(key, sizeof key, "%s|%s|%s|%s", kind, a ? a : "", b ? b : "", c ? c : "");
    if (json_object_get(r->seen, key))
        return 0;
    json_object_set_new(r->seen, key, json_true());
    return 1;
}

/* Opens the next ResponseRecord down to its payload's service usage:
 * PATH names the elements to open, in order. */
static void record_open(render *r, const char *const *path) {
    buf_printf(r->o, "        <ResponseRecord>\n          <recordNumber>%lld</recordNumber>\n",
               ++r->no);
    for (int i = 0; path[i]; i++)
        buf_printf(r->o, "%*s<%s>\n", 10 + 2 * i, "", path[i]);
}

static void record_payload_close(render *r, const char *const *path) {
    int n = 0;
    while (path[n])
        n++;
    for (int i = n - 1; i >= 0; i--)
        buf_printf(r->o, "%*s</%s>\n", 10 + 2 * i, "", path[i]);
}

static const char *const na_path[] = {"recordPayload", "networkAccessRecord", "naServiceUsage",
                                      NULL};
static const char *const msg_path[] = {"recordPayload", "messageRecord", "msgServiceUsage",
                                       "msgTransmission", NULL};

static void session_record(render *r, json_t *s, const char *queried, json_t *nat) {
    const char *addr = str(s, "framed_ip");
    if (!addr)
        addr = str(s, "framed_ipv6_prefix");
    if (!addr)
        addr = str(s, "delegated_ipv6_prefix");
    if (!first_time(r, "session", str(s, "nas_ip"), str(s, "acct_session_id"), str(s, "start")))
        return;
    buf *o = r->o;
    char g1[20], g2[20], num[32], pt[64];
    record_open(r, na_path);
    elem(o, 16, "naAccessTime", gtime(str(s, "start"), g1));
    elem(o, 16, "naAuthID", str(s, "user_name"));
    record_payload_close(r, na_path);
    buf info;
    buf_init(&info);
    kv(&info, "Assigned-Address", addr);
    kv(&info, "Session-Start", gtime(str(s, "start"), g1));
    kv(&info, "Session-Stop", gtime(str(s, "stop"), g2));
    kv(&info, "Stop-Reason", str(s, "stop_reason"));
    kv(&info, "Calling-Station-Id", str(s, "calling_station_id"));
    kv(&info, "Called-Station-Id", str(s, "called_station_id"));
    kv(&info, "NAS-IP-Address", str(s, "nas_ip"));
    kv(&info, "NAS-Identifier", str(s, "nas_identifier"));
    kv(&info, "NAS-Port", intstr(json_object_get(s, "nas_port"), num));
    kv(&info, "NAS-Port-Id", str(s, "nas_port_id"));
    kv(&info, "NAS-Port-Type",
       detail_attr(json_object_get(s, "evidence"), "NAS-Port-Type", pt, sizeof pt));
    kv(&info, "Acct-Session-Id", str(s, "acct_session_id"));
    kv(&info, "Queried-Address", queried);
    if (nat) { /* reached through a carrier-grade NAT's port block */
        char pr[32];
        snprintf(pr, sizeof pr, "%lld-%lld",
                 (long long)json_integer_value(json_object_get(nat, "port_lo")),
                 (long long)json_integer_value(json_object_get(nat, "port_hi")));
        kv(&info, "NAT-Public-Address", str(nat, "public_ip"));
        kv(&info, "NAT-Port-Range", pr);
        kv(&info, "NAT-Inside-Address", str(nat, "inside_ip"));
        kv(&info, "NAT-Inside-VRF", str(nat, "inside_vrf"));
        kv(&info, "NAT-Device", str(nat, "cgn"));
        kv(&info, "NAT-Start", gtime(str(nat, "start"), g1));
        kv(&info, "NAT-Stop", gtime(str(nat, "stop"), g2));
        json_t *conf = json_object_get(nat, "config");
        if (json_is_object(conf)) { /* deterministic NAT (RFC 7422): no log, a configuration */
            char id[32];
            kv(&info, "NAT-Mapping", "deterministic (RFC 7422)");
            kv(&info, "NAT-Config", intstr(json_object_get(conf, "config_id"), id));
            kv(&info, "NAT-Config-SHA256", str(conf, "sha256"));
        }
        evidence_digests(&info, json_object_get(nat, "evidence"));
    }
    if (queried)
        kv(&info, "Covers-Instant",
           json_is_true(json_object_get(s, "covers_instant")) ? "yes" : "no");
    evidence_digests(&info, json_object_get(s, "evidence"));
    other_info(o, &info);
    buf_close(&info);
    buf_adds(o, "        </ResponseRecord>\n");
}

static void sessions(render *r, json_t *trace, const char *queried) {
    size_t i;
    json_t *s, *t;
    json_t *tr = json_object_get(json_object_get(trace, "cgn"), "translations");
    if (json_is_array(tr)) { /* behind carrier-grade NAT: each holding of the port */
        json_array_foreach(tr, i, t) {
            size_t k;
            json_t *ns = json_object_get(json_object_get(t, "session_trace"), "sessions");
            json_array_foreach(ns, k, s) session_record(r, s, queried, t);
        }
        return;
    }
    json_array_foreach(json_object_get(trace, "sessions"), i, s)
        session_record(r, s, queried, NULL);
}

/* Our MTA's address: the syslog peer its line came from, else the
 * configured address of HOST. */
static const char *server_address(render *r, json_t *s, char *out, size_t n) {
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(s, "evidence"), i, e) if (str(e, "peer")) return str(e,
                                                                                            "peer");
    const char *host = str(s, "mta_host"), *m = r->h->mta_addresses;
    if (!host || !m)
        return NULL;
    size_t hl = strlen(host);
    while (*m) {
        m += strspn(m, " ,");
        const char *end = m + strcspn(m, ","), *eq = memchr(m, '=', (size_t)(end - m));
        if (eq && (size_t)(eq - m) == hl && !strncmp(m, host, hl)) {
            const char *v = eq + 1;
            while (*v == ' ')
                v++;
            size_t vl = (size_t)(end - v);
            while (vl && v[vl - 1] == ' ')
                vl--;
            snprintf(out, n, "%.*s", (int)vl, v);
            return *out ? out : NULL;
        }
        m = end;
    }
    return NULL;
}

static void ip_choice(buf *o, const char *name, const char *addr) {
    if (!addr)
        return;
    buf_printf(o, "                  <%s>\n", name);
    elem(o, 20, "iPTextAddress", addr);
    buf_printf(o, "                  </%s>\n", name);
}

static void submission_record(render *r, json_t *s, const char *msgid) {
    json_t *q = json_object_get(s, "queue_ids");
    char *qids = json_dumps(q, JSON_COMPACT);
    int fresh = first_time(r, "submission", str(s, "mta_host"), qids, str(s, "time"));
    free(qids);
    if (fresh) {
        buf *o = r->o;
        char g[20], num[32], srv[64];
        record_open(r, msg_path);
        elem(o, 18, "dateTime", gtime(str(s, "time"), g));
        elem(o, 18, "subscriberID", str(s, "sasl_username"));
        elem(o, 18, "senderAddress", str(s, "sender"));
        json_t *rc = json_object_get(s, "recipients");
        if (json_array_size(rc)) {
            size_t i;
            json_t *x;
            buf_adds(o, "                  <recipients>\n");
            json_array_foreach(rc, i, x) elem(o, 20, "MsgAddress", json_string_value(x));
            buf_adds(o, "                  </recipients>\n");
        }
        const char *st = str(s, "status");
        if (st) {
            const char *ds = !strcmp(st, "sent")       ? "succeeded"
                             : !strcmp(st, "bounced")  ? "failed"
                             : !strcmp(st, "deferred") ? "retried"
                                                       : "unknown";
            buf_printf(o, "                  <deliveryStatus><%s/></deliveryStatus>\n", ds);
        }
        ip_choice(o, "clientID", str(s, "client_ip"));
        ip_choice(o, "serverID", server_address(r, s, srv, sizeof srv));
        elem(o, 18, "messageID", msgid);
        const char *cn = str(s, "client_name");
        if (cn && strcmp(cn, "unknown")) /* Postfix's word for "no name": not a name */
            elem(o, 18, "sourceServerName", cn);
        elem(o, 18, "destinationServerName", str(s, "mta_host"));
        record_payload_close(r, msg_path);
        buf info;
        buf_init(&info);
        kv(&info, "Client-Port", intstr(json_object_get(s, "client_port"), num));
        size_t i;
        json_t *x;
        json_array_foreach(q, i, x) kv(&info, "Queue-Id", json_string_value(x));
        kv(&info, "MTA-Host", str(s, "mta_host"));
        kv(&info, "Size", intstr(json_object_get(s, "size"), num));
        evidence_digests(&info, json_object_get(s, "evidence"));
        other_info(o, &info);
        buf_close(&info);
        buf_adds(o, "        </ResponseRecord>\n");
    }
    /* The subscriber session behind the client address is a record of its own. */
    sessions(r, json_object_get(s, "session_trace"), str(s, "client_ip"));
}

void etsi_rd_render(buf *o, const etsi_rd_header *h, json_t *results) {
    char now[TIMEUTIL_RFC3339_MAX], g[20];
    timeutil_format(h->now, now);
    buf_printf(o,
               "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<RetainedDataMessage xmlns=\"%s\">\n  <rdHeaderId>%s</rdHeaderId>\n"
               "  <retainedDataHeader>\n    <requestID>\n",
               ETSI_RD_NS, ETSI_RD_OID);
    elem(o, 6, "countryCode", h->country);
    elem(o, 6, "authorisedOrganisationID", h->organisation);
    elem(o, 6, "requestNumber", h->request);
    buf_adds(o, "    </requestID>\n");
    elem(o, 4, "cSPID", h->csp_id);
    elem(o, 4, "timeStamp", gtime(now, g));
    buf_adds(o, "  </retainedDataHeader>\n  <retainedDataPayload>\n    <responseMessage>\n"
                "      <responseStatus><responseComplete/></responseStatus>\n");
    buf recs;
    buf_init(&recs);
    render r = {&recs, h, 0, json_object()};
    size_t i;
    json_t *res;
    json_array_foreach(results, i, res) {
        json_t *q = json_object_get(res, "query");
        if (json_object_get(res, "sessions"))
            sessions(&r, res, str(q, "ip"));
        size_t k;
        json_t *s;
        json_array_foreach(json_object_get(res, "submissions"), k, s)
            submission_record(&r, s, str(q, "message_id"));
    }
    json_decref(r.seen);
    if (r.no) { /* SEQUENCE OF ResponseRecord OPTIONAL: absent when empty */
        buf_adds(o, "      <responsePayload>\n");
        buf_add(o, recs.p, recs.len);
        buf_adds(o, "      </responsePayload>\n");
    }
    buf_close(&recs);
    buf_adds(o, "    </responseMessage>\n  </retainedDataPayload>\n</RetainedDataMessage>\n");
}
