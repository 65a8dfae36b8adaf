#include "package.h"
#include "fileio.h"
#include "mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int name_ok(const char *name) {
    if (!*name || name[0] == '/' || strstr(name, "..") || strlen(name) > 200)
        return 0;
    const char *slash = strchr(name, '/');
    return !slash || (slash != name && !strchr(slash + 1, '/') && slash[1]);
}

int package_open(package *p, const char *dir, error *err) {
    memset(p, 0, sizeof *p);
    if (mkdir(dir, 0700) < 0) {
        DIR *d = errno == EEXIST ? opendir(dir) : NULL;
        int empty = 0;
        if (d) {
            struct dirent *e;
            empty = 1;
            while ((e = readdir(d)))
                if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                    empty = 0;
            closedir(d);
        }
        if (!empty) {
            error_set(err, d ? "exists" : "io", 0, "%s: %s", dir,
                      d ? "exists and is not empty (a package is never written over)"
                        : strerror(errno));
            return -1;
        }
    }
    p->dir = mem_strdup(dir);
    p->files = json_array();
    return 0;
}

void package_open_tar(package *p, const char *root, buf *tar, long long now) {
    memset(p, 0, sizeof *p);
    p->dir = mem_strdup(root);
    p->tar = tar;
    p->dirs = json_object();
    p->now = now;
    p->files = json_array();
}

/* One ustar header block for NAME (at most 99 bytes), regular file or
 * folder, then the data padded to 512 bytes. */
static void tar_entry(buf *t, const char *name, int folder, const void *data, size_t len,
                      long long now) {
    unsigned char h[512] = {0};
    snprintf((char *)h, 100, "%s", name);
    snprintf((char *)h + 100, 8, "%07o", folder ? 0700 : 0600);
    snprintf((char *)h + 108, 8, "%07o", 0);
    snprintf((char *)h + 116, 8, "%07o", 0);
    snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)(folder ? 0 : len));
    snprintf((char *)h + 136, 12, "%011llo", (unsigned long long)now);
    h[156] = folder ? '5' : '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    h[155] = ' ';
    buf_add(t, (const char *)h, sizeof h);
    if (folder || !len)
        return;
    buf_add(t, data, len);
    static const char zero[512];
    if (len % 512)
        buf_add(t, zero, 512 - len % 512);
}

void package_tar_end(package *p) {
    static const char zero[1024];
    if (p->tar)
        buf_add(p->tar, zero, sizeof zero);
}

/* NAME's bytes into the archive, under the root folder (and its sub-folder,
 * entered once). */
static int tar_put(package *p, const char *name, const void *data, size_t len, error *err) {
    char path[512];
    if (!json_object_get(p->dirs, "")) {
        snprintf(path, sizeof path, "%s/", p->dir);
        tar_entry(p->tar, path, 1, NULL, 0, p->now);
        json_object_set_new(p->dirs, "", json_true());
    }
    const char *slash = strchr(name, '/');
    if (slash) {
        snprintf(path, sizeof path, "%s/%.*s/", p->dir, (int)(slash - name), name);
        if (!json_object_get(p->dirs, path)) {
            tar_entry(p->tar, path, 1, NULL, 0, p->now);
            json_object_set_new(p->dirs, path, json_true());
        }
    }
    int n = snprintf(path, sizeof path, "%s/%s", p->dir, name);
    if (n < 0 || n >= 100) {
        error_set(err, "too_long", 0, "%s: too long a name for the archive", name);
        return -1;
    }
    tar_entry(p->tar, path, 0, data, len, p->now);
    return 0;
}

static int write_file(const char *path, const void *data, size_t len, error *err) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        error_set(err, "io", 0, "%s: %s", path, strerror(errno));
        return -1;
    }
    const char *q = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, q, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            error_set(err, "io", 0, "%s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        q += w;
        left -= (size_t)w;
    }
    /* The package is evidence: it is on disk before we say it is written. */
    if (fsync(fd) < 0 || close(fd) < 0) {
        error_set(err, "io", 0, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static void sha256_hex(const void *data, size_t len, char hex[65]) {
    unsigned char h[32];
    crypto_hash_sha256(h, data, len);
    sodium_bin2hex(hex, 65, h, 32);
}

int package_write(package *p, const char *name, const void *data, size_t len, error *err) {
    if (!name_ok(name)) {
        error_set(err, "bad_name", 0, "%s: not a valid package file name", name);
        return -1;
    }
    char path[4096];
    const char *slash = strchr(name, '/');
    if (p->tar) {
        if (tar_put(p, name, data, len, err) < 0)
            return -1;
    } else if (slash) {
        snprintf(path, sizeof path, "%s/%.*s", p->dir, (int)(slash - name), name);
        if (mkdir(path, 0700) < 0 && errno != EEXIST) {
            error_set(err, "io", 0, "%s: %s", path, strerror(errno));
            return -1;
        }
    }
    if (!p->tar) {
        snprintf(path, sizeof path, "%s/%s", p->dir, name);
        if (write_file(path, data, len, err) < 0)
            return -1;
    }
    char hex[65];
    sha256_hex(data, len, hex);
    json_array_append_new(p->files, json_pack("{s:s,s:I,s:s}", "name", name, "bytes",
                                              (json_int_t)len, "sha256", hex));
    return 0;
}

int package_seal(package *p, json_t *meta, const unsigned char sk[64], error *err) {
    json_t *m = json_deep_copy(meta);
    json_object_set_new(m, "format", json_string(PACKAGE_FORMAT));
    json_object_set(m, "files", p->files);
    char *text = json_dumps(m, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(m);
    size_t len = strlen(text);
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", p->dir);
    sha256_hex(text, len, p->manifest_sha256);
    int rc =
        p->tar ? tar_put(p, "manifest.json", text, len, err) : write_file(path, text, len, err);
    if (rc == 0) {
        unsigned char sig[64];
        char hex[129 + 1];
        crypto_sign_detached(sig, NULL, (const unsigned char *)text, len, sk);
        sodium_bin2hex(hex, 129, sig, 64);
        strcat(hex, "\n");
        snprintf(path, sizeof path, "%s/manifest.sig", p->dir);
        rc = p->tar ? tar_put(p, "manifest.sig", hex, strlen(hex), err)
                    : write_file(path, hex, strlen(hex), err);
    }
    free(text);
    return rc;
}

void package_close(package *p) {
    free(p->dir);
    json_decref(p->files);
    json_decref(p->dirs);
    memset(p, 0, sizeof *p);
}

char *package_read(const char *dir, const char *name, size_t *len, error *err) {
    if (!name_ok(name)) {
        error_set(err, "bad_name", 0, "%s: not a valid package file name", name);
        return NULL;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    /* Never follow a link out of the package. */
    return fileio_read(path, FILEIO_NOFOLLOW, len, err);
}

/* Lists every regular file under DIR (one sub-folder deep) not in LISTED. */
static int unlisted(const char *dir, const char *sub, json_t *listed, buf *problems) {
    char path[4096];
    snprintf(path, sizeof path, "%s%s%s", dir, sub ? "/" : "", sub ? sub : "");
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char name[512], full[4608];
        snprintf(name, sizeof name, "%s%s%s", sub ? sub : "", sub ? "/" : "", e->d_name);
        snprintf(full, sizeof full, "%s/%s", dir, name);
        struct stat st;
        if (lstat(full, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode) && !sub) {
            n += unlisted(dir, e->d_name, listed, problems);
            continue;
        }
        if (!sub && (!strcmp(name, "manifest.json") || !strcmp(name, "manifest.sig")))
            continue;
        if (!json_object_get(listed, name)) {
            buf_printf(problems, "%s: not in the manifest (added after signing)\n", name);
            n++;
        }
    }
    closedir(d);
    return n;
}

int package_verify(const char *dir, const unsigned char pk[32], json_t **manifest, buf *problems) {
    error err;
    size_t mlen, slen;
    int n = 0;
    if (manifest)
        *manifest = NULL;
    char *m = package_read(dir, "manifest.json", &mlen, &err);
    char *s = m ? package_read(dir, "manifest.sig", &slen, &err) : NULL;
    if (!m || !s) {
        buf_printf(problems, "%s\n", err.msg);
        free(m);
        return 1;
    }
    unsigned char sig[64];
    size_t bl = 0;
    if (sodium_hex2bin(sig, sizeof sig, s, slen, " \r\n", &bl, NULL) != 0 || bl != 64) {
        buf_printf(problems, "manifest.sig: not a hex Ed25519 signature\n");
        n++;
    } else if (crypto_sign_verify_detached(sig, (const unsigned char *)m, mlen, pk) != 0) {
        buf_printf(problems, "manifest.json: the signature does not verify with this key (the "
                             "manifest was changed, or another key signed it)\n");
        n++;
    }
    json_error_t je;
    json_t *man = json_loadb(m, mlen, 0, &je);
    json_t *files = json_object_get(man, "files");
    if (!json_is_array(files)) {
        buf_printf(problems, "manifest.json: unreadable (%s)\n", je.text);
        json_decref(man);
        free(m);
        free(s);
        return n + 1;
    }
    json_t *listed = json_object();
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f) {
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *want = json_string_value(json_object_get(f, "sha256"));
        if (!name || !want || !name_ok(name)) {
            buf_printf(problems, "manifest.json: entry %zu is malformed\n", i);
            n++;
            continue;
        }
        json_object_set_new(listed, name, json_true());
        size_t len;
        char *d = package_read(dir, name, &len, &err);
        if (!d) {
            buf_printf(problems, "%s: missing (%s)\n", name, err.msg);
            n++;
            continue;
        }
        char hex[65];
        sha256_hex(d, len, hex);
        free(d);
        if (strcmp(hex, want)) {
            buf_printf(problems, "%s: changed (sha256 %s, the manifest says %s)\n", name, hex,
                       want);
            n++;
        }
    }
    n += unlisted(dir, NULL, listed, problems);
    json_decref(listed);
    free(m);
    free(s);
    if (manifest)
        *manifest = man;
    else
        json_decref(man);
    return n;
}
