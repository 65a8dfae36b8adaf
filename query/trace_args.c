#include "trace_args.h"
#include "mem.h"
#include "msgid.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int trace_args_address(const char *name, const char *s, error *err) {
    unsigned char b[16];
    if (!s || (inet_pton(AF_INET, s, b) != 1 && inet_pton(AF_INET6, s, b) != 1))
        return error_set(err, "bad_argument", 0, "%s: '%.60s' is not an IPv4 or IPv6 address", name,
                         s ? s : "");
    return 0;
}

int trace_args_instant(const char *name, const char *s, const char *zone,
                       char out[TIMEUTIL_RFC3339_MAX], error *err) {
    int64_t t;
    error e;
    if (!s)
        return error_set(err, "bad_argument", 0, "%s: a time is required", name);
    if (timeutil_parse(s, zone, &t, &e) < 0)
        return error_set(err, "bad_argument", 0, "%s: %s", name, e.msg);
    timeutil_format(t, out);
    return 0;
}

int trace_args_port(const char *name, long long v, char out[8], error *err) {
    if (v < 0 || v > 65535)
        return error_set(err, "bad_argument", 0, "%s: %lld is not a port (0..65535)", name, v);
    snprintf(out, 8, "%lld", v);
    return 0;
}

int trace_args_tolerance(const char *name, long long seconds, char out[32], error *err) {
    if (seconds < 0 || seconds > 3600)
        return error_set(err, "bad_argument", 0,
                         "%s: %lld is not a number of seconds from 0 to 3600", name, seconds);
    snprintf(out, 32, "%lld seconds", seconds);
    return 0;
}

char *trace_args_msgid(const char *name, const char *raw, error *err) {
    size_t n = raw ? strlen(raw) : 0;
    if (n > TRACE_ARGS_MSGID_MAX) {
        error_set(err, "bad_argument", 0, "%s: longer than %d bytes", name, TRACE_ARGS_MSGID_MAX);
        return NULL;
    }
    char *id = mem_alloc(n + 1);
    if (msgid_normalize(raw ? raw : "", n, id) == 0) {
        free(id);
        error_set(err, "bad_argument", 0, "%s: an empty Message-ID", name);
        return NULL;
    }
    return id;
}
