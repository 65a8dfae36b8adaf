#include "headers_check.h"
#include "mem.h"
#include "timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *headers_check_str(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Is HOST (a Received: "by" name) one of our MTAs (trace.our_mta_hosts)? */
static int headers_check_ours(const char *list, const char *host) {
    if (!host || !list)
        return 0;
    char *copy = mem_strdup(list), *save = NULL;
    int hit = 0;
    for (char *t = strtok_r(copy, ", ", &save); t && !hit; t = strtok_r(NULL, ", ", &save)) {
        size_t n = strlen(t);
        hit = !strcasecmp(host, t) || (!strncasecmp(host, t, n) && host[n] == '.');
    }
    free(copy);
    return hit;
}

static int headers_check_names_any(const char *list) {
    return list && list[strspn(list, ", \t")] != '\0';
}

const char *headers_check_our_hosts(const char *configured, const char *from_logs,
                                    const char **source) {
    if (headers_check_names_any(configured)) {
        *source = "configuration";
        return configured;
    }
    *source = "logs";
    return from_logs ? from_logs : "";
}

json_t *headers_check_hosts_json(const char *hosts, const char *source) {
    json_t *a = json_array();
    char *copy = mem_strdup(hosts ? hosts : ""), *save = NULL;
    for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        json_array_append_new(a, json_string(t));
    free(copy);
    return json_pack("{s:s,s:o}", "source", source, "hosts", a);
}

/* The hops of M claiming our MTAs, as the JSON trace_headers takes. */
json_t *headers_check_hops(const char *list, const mailhdr_msg *m) {
    json_t *hops = json_array();
    for (size_t i = 0; i < m->n_received; i++) {
        const mailhdr_received *r = &m->received[i];
        if (!headers_check_ours(list, r->by))
            continue;
        char t[TIMEUTIL_RFC3339_MAX], shortname[256];
        snprintf(shortname, sizeof shortname, "%s", r->by);
        char *dot = strchr(shortname, '.');
        if (dot)
            *dot = '\0';
        json_t *h =
            json_pack("{s:[s,s],s:s?,s:s?,s:s?,s:i}", "hosts", r->by, shortname, "queue_id", r->id,
                      "time", r->time == INT64_MIN ? NULL : timeutil_format(r->time, t), "by",
                      r->by, "received_index", (int)i);
        /* A hop without queue ID or date cannot be checked: it stays unverified. */
        if (!r->id || r->time == INT64_MIN)
            json_object_set_new(h, "unverifiable", json_true());
        json_array_append_new(hops, h);
    }
    return hops;
}

const char *headers_check_verdict(json_t *res, size_t n_claimed, int is_bounce) {
    size_t verified = 0, i;
    json_t *h;
    json_array_foreach(json_object_get(res, "hops"), i, h) {
        const char *st = headers_check_str(h, "state");
        if (st && !strcmp(st, "verified"))
            verified++;
    }
    size_t subs = json_array_size(json_object_get(res, "submissions"));
    const char *v = n_claimed > 0 && verified < n_claimed ? "forged_our_headers"
                    : n_claimed > 0 || subs > 0           ? "sent_by_subscriber"
                                                          : "not_through_us";
    /* A bounce of a message that never left through us is backscatter. */
    if (is_bounce && strcmp(v, "sent_by_subscriber") != 0)
        return "backscatter";
    return v;
}

json_t *headers_check_run(const char *raw, size_t len, const char *configured_hosts,
                          const headers_check_io *io, headers_check_info *info, error *err) {
    memset(info, 0, sizeof *info);
    arena a;
    arena_init(&a, 0);
    mailhdr_msg m;
    json_t *j = NULL;
    char *logged = NULL;
    error perr;
    if (mailhdr_parse(raw, len, &a, &m, &perr) < 0) {
        error_set(err, "bad_message", 0, "%s", perr.msg);
        goto out;
    }
    /* A bounce is judged by the message it bounces. */
    const mailhdr_msg *target = m.is_bounce && m.original ? m.original : &m;
    info->is_bounce = m.is_bounce;
    if (m.is_bounce && !m.original) {
        error_set(err, "bad_message", 0,
                  "a bounce without the original message's headers: nothing to check");
        goto out;
    }
    if (!target->message_id) {
        error_set(err, "bad_message", 0,
                  "the %smessage has no Message-ID, which the request must name",
                  target == &m ? "" : "original ");
        goto out;
    }
    snprintf(info->message_id, sizeof info->message_id, "%s", target->message_id);
    info->n_received = target->n_received;
    /* Our MTAs: the configured list, else the hosts we receive MTA logs from. */
    if (!configured_hosts || !*configured_hosts) {
        logged = io->logged_hosts_cb(io->arg, err);
        if (!logged)
            goto out;
    }
    const char *hosts = headers_check_our_hosts(configured_hosts, logged, &info->hosts_from);
    info->hosts = mem_strdup(hosts);
    json_t *hops = headers_check_hops(hosts, target);
    info->n_claimed = json_array_size(hops);
    char *hj = json_dumps(hops, JSON_COMPACT);
    json_decref(hops);
    char *res = io->lookup_cb(io->arg, target->message_id, hj, err);
    free(hj);
    if (!res)
        goto out;
    j = json_loads(res, 0, NULL);
    free(res);
    if (!j) {
        error_set(err, "XX000", 0, "XX000: unreadable answer");
        goto out;
    }
    const char *st = headers_check_str(j, "status");
    if (st && !strcmp(st, "ok")) {
        json_object_set_new(j, "verdict",
                            json_string(headers_check_verdict(j, info->n_claimed, m.is_bounce)));
        json_object_set_new(j, "bounce", json_boolean(m.is_bounce));
        json_object_set_new(j, "our_hops_claimed", json_integer((json_int_t)info->n_claimed));
        json_object_set_new(j, "our_mta_hosts", headers_check_hosts_json(hosts, info->hosts_from));
    }
out:
    free(logged);
    arena_close(&a);
    return j;
}
