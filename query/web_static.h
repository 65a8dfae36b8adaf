/*
 * web_static: the web console's files, read once from api.web_root when
 * spoor-api starts and served from memory.
 *
 * Only regular files directly in the folder whose names are made of
 * [A-Za-z0-9._-] (no leading dot) and end in a known type (.html .css .js
 * .svg .png .ico .txt) are taken, so no request path can reach anything
 * else: there is no path resolution at request time at all.  "/" is
 * index.html.  Each file gets its Content-Type and a strong ETag (its
 * SHA-256, so a changed console is fetched again).
 *
 * Ownership: the store owns the files; web_static_find returns a borrowed
 * pointer valid until web_static_free.  Errors: web_static_new returns NULL
 * with ERR set (code "web_root") if the folder cannot be read or holds no
 * index.html.
 */
#ifndef SPOOR_WEB_STATIC_H
#define SPOOR_WEB_STATIC_H

#include "error.h"

#include <stddef.h>

typedef struct web_file {
    char *name, *type, *etag;
    char *data;
    size_t len;
} web_file;

typedef struct web_static web_static;

web_static *web_static_new(const char *dir, error *err);
void web_static_free(web_static *w);
/* The file for request path PATH (LEN bytes, "/" or "/NAME"), or NULL. */
const web_file *web_static_find(const web_static *w, const char *path, size_t len);
/* How many files were read. */
int web_static_count(const web_static *w);

#endif
