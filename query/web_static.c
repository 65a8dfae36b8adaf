#include "web_static.h"
#include "fileio.h"
#include "mem.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct web_static {
    web_file *f;
    int n;
};

static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
};

static const char *type_of(const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t e = strlen(types[i].ext);
        if (n > e && !strcmp(name + n - e, types[i].ext))
            return types[i].type;
    }
    return NULL;
}

static int name_ok(const char *name) {
    return name[0] != '.' && name[0] &&
           strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
               strlen(name);
}

static char *etag_of(const char *data, size_t len) {
    unsigned char md[32];
    unsigned int mdl = 0;
    EVP_Digest(data, len, md, &mdl, EVP_sha256(), NULL);
    char *e = mem_alloc(2 + 2 * 16 + 1);
    e[0] = '"';
    for (int i = 0; i < 16; i++)
        snprintf(e + 1 + 2 * i, 3, "%02x", md[i]);
    strcpy(e + 33, "\"");
    return e;
}

web_static *web_static_new(const char *dir, error *err) {
    DIR *d = opendir(dir);
    if (!d) {
        error_set(err, "web_root", 0, "api.web_root %s: cannot read the folder", dir);
        return NULL;
    }
    web_static *w = mem_zalloc(sizeof *w);
    struct dirent *de;
    int cap = 0;
    while ((de = readdir(d))) {
        const char *type = type_of(de->d_name);
        if (!name_ok(de->d_name) || !type)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode)) /* no symbolic links out of the folder */
            continue;
        size_t len;
        error why;
        char *data = fileio_read(path, 0, &len, &why);
        if (!data) {
            error_set(err, "web_root", 0, "api.web_root: %s", why.msg);
            closedir(d);
            web_static_free(w);
            return NULL;
        }
        if (w->n == cap) {
            cap = cap ? 2 * cap : 16;
            w->f = mem_realloc(w->f, (size_t)cap * sizeof *w->f);
        }
        web_file *f = &w->f[w->n++];
        f->name = mem_strdup(de->d_name);
        f->type = mem_strdup(type);
        f->data = data;
        f->len = len;
        f->etag = etag_of(data, len);
    }
    closedir(d);
    if (!web_static_find(w, "/", 1)) {
        error_set(err, "web_root", 0, "api.web_root %s has no index.html", dir);
        web_static_free(w);
        return NULL;
    }
    return w;
}

void web_static_free(web_static *w) {
    if (!w)
        return;
    for (int i = 0; i < w->n; i++) {
        free(w->f[i].name);
        free(w->f[i].type);
        free(w->f[i].etag);
        free(w->f[i].data);
    }
    free(w->f);
    free(w);
}

const web_file *web_static_find(const web_static *w, const char *path, size_t len) {
    if (!w || len == 0 || path[0] != '/')
        return NULL;
    const char *name = len == 1 ? "index.html" : path + 1;
    size_t nl = len == 1 ? strlen(name) : len - 1;
    for (int i = 0; i < w->n; i++)
        if (strlen(w->f[i].name) == nl && !memcmp(w->f[i].name, name, nl))
            return &w->f[i];
    return NULL;
}

int web_static_count(const web_static *w) {
    return w ? w->n : 0;
}
