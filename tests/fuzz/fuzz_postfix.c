/*
 * libFuzzer target for ingest/postfix.  An input "TAG\nMESSAGE" is parsed
 * as a syslog tag and message directly; an input without a newline is a
 * whole syslog line, run through syslog_parse first (the production path).
 * Checks that every returned string is a C string and failures have a
 * reason and a position within the message.
 */
#include "postfix.h"
#include "syslog.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void touch(const char *s) {
    if (s && strlen(s) > (1u << 24))
        abort();
}

static void check(int rc, const postfix_record *r, const error *e, size_t msglen) {
    if (rc < 0) {
        if (!e->code[0] || e->pos > msglen)
            abort();
        return;
    }
    if (r->kind > POSTFIX_BOUNCE || !postfix_kind_name(r->kind))
        abort();
    const char *const s[] = {r->instance,
                             r->daemon,
                             r->queue_id,
                             r->client_name,
                             r->client_ip,
                             r->sasl_method,
                             r->sasl_username,
                             r->sasl_sender,
                             r->orig_queue_id,
                             r->orig_client_name,
                             r->orig_client_ip,
                             r->message_id,
                             r->message_id_norm,
                             r->from,
                             r->queue_name,
                             r->to,
                             r->orig_to,
                             r->relay,
                             r->relay_name,
                             r->relay_ip,
                             r->delay,
                             r->delays,
                             r->dsn,
                             r->status,
                             r->response,
                             r->next_queue_id,
                             r->action,
                             r->stage,
                             r->reply,
                             r->proto,
                             r->helo,
                             r->notification};
    for (size_t k = 0; k < sizeof s / sizeof s[0]; k++)
        touch(s[k]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static arena a;
    static int init;
    if (!init) {
        arena_init(&a, 0);
        init = 1;
    }
    const char *in = (const char *)data;
    const char *nl = memchr(in, '\n', size);
    postfix_record r;
    error e;
    if (nl) {
        size_t tl = (size_t)(nl - in);
        int rc = postfix_parse(in, tl, nl + 1, size - tl - 1, &a, &r, &e);
        check(rc, &r, &e, size - tl - 1);
    } else {
        syslog_ctx ctx = {1798761605000000LL, "Europe/London", NULL, NULL};
        syslog_record sr;
        error se;
        if (syslog_parse(in, size, &ctx, &sr, &se) == 0) {
            int rc = postfix_parse(sr.app.p, sr.app.len, sr.msg.p, sr.msg.len, &a, &r, &e);
            check(rc, &r, &e, sr.msg.len);
        }
    }
    arena_reset(&a);
    return 0;
}
