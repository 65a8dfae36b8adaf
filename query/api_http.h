/*
 * api_http: one HTTP/1.1 request, read incrementally with http_parser
 * (Debian's libhttp-parser) under hard limits: the request line and headers
 * together at most MAX_HEADER bytes (else 431), the body at most MAX_BODY
 * bytes (else 413), anything http_parser rejects is 400.  Keeps only what
 * spoor-api needs: method, path, the Authorization header and the body.
 *
 * Ownership: an api_http is embedded in its connection (api_http_init /
 * api_http_close) and owns its buffers.  api_http_feed returns 1 when a
 * request is complete, 0 when it needs more bytes, -1 on error with
 * status and error set; after 1 or -1, api_http_reset prepares the next.
 */
#ifndef SPOOR_API_HTTP_H
#define SPOOR_API_HTTP_H

#include "buf.h"

#include <http_parser.h>
#include <stddef.h>

typedef struct api_http {
    http_parser parser;
    buf url, body, field, value, auth;
    int in_value, complete, keep_alive;
    size_t header_bytes, max_header, max_body;
    int status;        /* 400, 413 or 431 after an error */
    const char *error; /* static text */
} api_http;

void api_http_init(api_http *h, size_t max_header, size_t max_body);
void api_http_close(api_http *h);
void api_http_reset(api_http *h);
int api_http_feed(api_http *h, const char *data, size_t len);
const char *api_http_method(const api_http *h);

#endif
