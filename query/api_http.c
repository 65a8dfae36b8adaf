#include "api_http.h"

#include <limits.h>
#include <strings.h>

static int fail(api_http *h, int status, const char *error) {
    h->status = status;
    h->error = error;
    return -1;
}

static void commit_header(api_http *h) {
    if (h->field.len && h->field.len == 13 && !strncasecmp(h->field.p, "authorization", 13)) {
        buf_reset(&h->auth);
        buf_add(&h->auth, h->value.p ? h->value.p : "", h->value.len);
    }
    buf_reset(&h->field);
    buf_reset(&h->value);
}

static int header_room(api_http *h, size_t n) {
    h->header_bytes += n;
    return h->header_bytes <= h->max_header ? 0 : fail(h, 431, "request headers too large");
}

static int on_url(http_parser *p, const char *at, size_t n) {
    api_http *h = p->data;
    if (header_room(h, n))
        return -1;
    buf_add(&h->url, at, n);
    return 0;
}

static int on_field(http_parser *p, const char *at, size_t n) {
    api_http *h = p->data;
    if (header_room(h, n))
        return -1;
    if (h->in_value) {
        commit_header(h);
        h->in_value = 0;
    }
    buf_add(&h->field, at, n);
    return 0;
}

static int on_value(http_parser *p, const char *at, size_t n) {
    api_http *h = p->data;
    if (header_room(h, n))
        return -1;
    h->in_value = 1;
    buf_add(&h->value, at, n);
    return 0;
}

static int on_headers_complete(http_parser *p) {
    api_http *h = p->data;
    if (h->in_value)
        commit_header(h);
    h->in_value = 0;
    if (p->content_length != ULLONG_MAX && p->content_length > h->max_body)
        return fail(h, 413, "request body too large");
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n) {
    api_http *h = p->data;
    if (h->body.len + n > h->max_body)
        return fail(h, 413, "request body too large");
    buf_add(&h->body, at, n);
    return 0;
}

static int on_complete(http_parser *p) {
    api_http *h = p->data;
    h->complete = 1;
    h->keep_alive = http_should_keep_alive(p);
    http_parser_pause(p, 1); /* one request at a time */
    return 0;
}

static const http_parser_settings settings = {
    .on_url = on_url,
    .on_header_field = on_field,
    .on_header_value = on_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_complete,
};

void api_http_init(api_http *h, size_t max_header, size_t max_body) {
    buf_init(&h->url);
    buf_init(&h->body);
    buf_init(&h->field);
    buf_init(&h->value);
    buf_init(&h->auth);
    h->max_header = max_header;
    h->max_body = max_body;
    api_http_reset(h);
}

void api_http_reset(api_http *h) {
    http_parser_init(&h->parser, HTTP_REQUEST);
    h->parser.data = h;
    buf_reset(&h->url);
    buf_reset(&h->body);
    buf_reset(&h->field);
    buf_reset(&h->value);
    buf_reset(&h->auth);
    h->in_value = h->complete = h->keep_alive = 0;
    h->header_bytes = 0;
    h->status = 0;
    h->error = NULL;
}

void api_http_close(api_http *h) {
    buf_close(&h->url);
    buf_close(&h->body);
    buf_close(&h->field);
    buf_close(&h->value);
    buf_close(&h->auth);
}

int api_http_feed(api_http *h, const char *data, size_t len) {
    if (h->complete)
        return 1;
    size_t n = http_parser_execute(&h->parser, &settings, data, len);
    if (h->status)
        return -1;
    if (h->complete) {
        if (n < len) /* pipelined bytes are not kept: answer, then close */
            h->keep_alive = 0;
        return 1;
    }
    if (HTTP_PARSER_ERRNO(&h->parser) != HPE_OK || n != len)
        return fail(h, 400, http_errno_description(HTTP_PARSER_ERRNO(&h->parser)));
    return 0;
}

const char *api_http_method(const api_http *h) {
    return http_method_str((enum http_method)h->parser.method);
}
