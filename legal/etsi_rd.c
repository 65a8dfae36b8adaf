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
    if (!v)
        return;
    buf_printf(o, "%*s<%s>", ind, "", name);
    esc(o, v);
    buf_printf(o, "</%s>\n", name);
}

/* RFC 3339 -> GeneralizedTime "YYYYMMDDhhmmssZ" (UTC, whole seconds). */
static const char *gtime(const char *rfc3339, char out[20]) {
    int64_t t;
    char err[200];
    if (!rfc3339 || timeutil_parse(rfc3339, "UTC", &t, err, sizeof err) < 0)
        return NULL;
    char s[TIMEUTIL_RFC3339_MAX];
    timeutil_format(t, s); /* YYYY-MM-DDTHH:MM:SS...Z */
    snprintf(out, 20, "%.4s%.2s%.2s%.2s%.2s%.2sZ", s, s + 5, s + 8, s + 11, s + 14, s + 17);
    return out;
}

static const char *str(json_t *o, const char *k) {
    return json_string_value(json_object_get(o, k));
}

static void kv(buf *o, int *first, const char *k, const char *v) {
    if (!v)
        return;
    buf_printf(o, "%s\"%s\"=\"", *first ? "" : ";", k);
    for (; *v; v++) /* the pair syntax quotes with ": double any inside */
        if (*v == '"')
            buf_adds(o, "\"\"");
        else
            buf_addc(o, *v);
    buf_addc(o, '"');
    *first = 0;
}

static void other_info(buf *o, const char *text) {
    buf_adds(o, "          <additionalInformation>\n            <otherInformation>");
    esc(o, text);
    buf_adds(o, "</otherInformation>\n          </additionalInformation>\n");
}

static void session_record(buf *o, long long *no, json_t *s, const char *ip) {
    char g1[20], g2[20], num[32];
    const char *addr = str(s, "framed_ip");
    if (!addr)
        addr = str(s, "framed_ipv6_prefix");
    if (!addr)
        addr = str(s, "delegated_ipv6_prefix");
    buf_printf(o, "        <ResponseRecord>\n          <recordNumber>%lld</recordNumber>\n", ++*no);
    buf_adds(o, "          <recordPayload>\n            <networkAccessRecord>\n"
                "              <naServiceUsage>\n");
    elem(o, 16, "naAccessTime", gtime(str(s, "start"), g1));
    buf_adds(o, "              </naServiceUsage>\n            </networkAccessRecord>\n"
                "          </recordPayload>\n");
    buf info;
    buf_init(&info);
    int first = 1;
    kv(&info, &first, "User-Name", str(s, "user_name"));
    kv(&info, &first, "Calling-Station-Id", str(s, "calling_station_id"));
    kv(&info, &first, "Called-Station-Id", str(s, "called_station_id"));
    kv(&info, &first, "NAS-IP-Address", str(s, "nas_ip"));
    kv(&info, &first, "NAS-Identifier", str(s, "nas_identifier"));
    kv(&info, &first, "NAS-Port-Id", str(s, "nas_port_id"));
    kv(&info, &first, "Acct-Session-Id", str(s, "acct_session_id"));
    kv(&info, &first, "Assigned-Address", addr);
    kv(&info, &first, "Queried-Address", ip);
    kv(&info, &first, "Session-Start", gtime(str(s, "start"), g1));
    kv(&info, &first, "Session-Stop", gtime(str(s, "stop"), g2));
    kv(&info, &first, "Stop-Reason", str(s, "stop_reason"));
    kv(&info, &first, "Covers-Instant",
       json_is_true(json_object_get(s, "covers_instant")) ? "yes" : "no");
    if (json_is_integer(json_object_get(s, "nas_port"))) {
        snprintf(num, sizeof num, "%lld",
                 (long long)json_integer_value(json_object_get(s, "nas_port")));
        kv(&info, &first, "NAS-Port", num);
    }
    buf_addc(&info, '\0');
    other_info(o, info.p);
    buf_close(&info);
    buf_adds(o, "        </ResponseRecord>\n");
}

static void sessions(buf *o, long long *no, json_t *trace, const char *ip) {
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(trace, "sessions"), i, s) session_record(o, no, s, ip);
}

static void submission_record(buf *o, long long *no, json_t *s, const char *msgid) {
    char g[20], num[32];
    buf_printf(o, "        <ResponseRecord>\n          <recordNumber>%lld</recordNumber>\n", ++*no);
    buf_adds(o, "          <recordPayload>\n            <messageRecord>\n"
                "              <msgServiceUsage>\n                <msgTransmission>\n");
    elem(o, 18, "dateTime", gtime(str(s, "time"), g));
    elem(o, 18, "subscriberID", str(s, "sasl_username"));
    elem(o, 18, "senderAddress", str(s, "sender"));
    json_t *rc = json_object_get(s, "recipients");
    if (json_array_size(rc)) {
        size_t i;
        json_t *r;
        buf_adds(o, "                  <recipients>\n");
        json_array_foreach(rc, i, r) elem(o, 20, "MsgAddress", json_string_value(r));
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
    if (str(s, "client_ip")) {
        buf_adds(o, "                  <clientID>\n");
        elem(o, 20, "iPTextAddress", str(s, "client_ip"));
        buf_adds(o, "                  </clientID>\n");
    }
    elem(o, 18, "messageID", msgid);
    elem(o, 18, "sourceServerName", str(s, "client_name"));
    elem(o, 18, "destinationServerName", str(s, "mta_host"));
    buf_adds(o, "                </msgTransmission>\n              </msgServiceUsage>\n"
                "            </messageRecord>\n          </recordPayload>\n");
    buf info;
    buf_init(&info);
    int first = 1;
    if (json_is_integer(json_object_get(s, "client_port"))) {
        snprintf(num, sizeof num, "%lld",
                 (long long)json_integer_value(json_object_get(s, "client_port")));
        kv(&info, &first, "Client-Port", num);
    }
    json_t *q = json_object_get(s, "queue_ids");
    size_t i;
    json_t *x;
    json_array_foreach(q, i, x) kv(&info, &first, "Queue-Id", json_string_value(x));
    kv(&info, &first, "MTA-Host", str(s, "mta_host"));
    buf_addc(&info, '\0');
    if (info.p[0])
        other_info(o, info.p);
    buf_close(&info);
    buf_adds(o, "        </ResponseRecord>\n");
    /* The subscriber session behind the client address is a record of its own. */
    sessions(o, no, json_object_get(s, "session_trace"), str(s, "client_ip"));
}

void etsi_rd_render(buf *o, const etsi_rd_header *h, json_t *results) {
    char now[TIMEUTIL_RFC3339_MAX], g[20];
    timeutil_format(h->now, now);
    buf_printf(o,
               "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<RetainedDataMessage xmlns=\"%s\">\n  <retainedDataHeader>\n    <requestID>\n",
               ETSI_RD_NS);
    elem(o, 6, "countryCode", h->country);
    elem(o, 6, "authorisedOrganisationID", h->organisation);
    elem(o, 6, "requestNumber", h->request);
    buf_adds(o, "    </requestID>\n");
    elem(o, 4, "cSPID", h->csp_id);
    elem(o, 4, "timeStamp", gtime(now, g));
    buf_adds(o, "  </retainedDataHeader>\n  <retainedDataPayload>\n    <responseMessage>\n"
                "      <responseRecords>\n");
    long long no = 0;
    size_t i;
    json_t *r;
    json_array_foreach(results, i, r) {
        json_t *q = json_object_get(r, "query");
        if (json_object_get(r, "sessions"))
            sessions(o, &no, r, str(q, "ip"));
        size_t k;
        json_t *s;
        json_array_foreach(json_object_get(r, "submissions"), k, s)
            submission_record(o, &no, s, str(q, "message_id"));
    }
    buf_adds(o, "      </responseRecords>\n    </responseMessage>\n  </retainedDataPayload>\n"
                "</RetainedDataMessage>\n");
}
