#include "logfile.h"
#include "buf.h"
#include "mem.h"
#include "radius_detail.h"

#include <errno.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

struct logfile {
    char *path;
    int mode;
    int zstd; /* 1: zstd stream; 0: zlib (gzip or plain, gzread handles both) */
    gzFile gz;
    FILE *fp;
    ZSTD_DStream *ds;
    unsigned char zin[1 << 16];
    ZSTD_inBuffer in;
    buf data;   /* decompressed bytes not yet returned */
    size_t off; /* start of the unread part of data */
    int eof;
};

static int is_zstd(const char *path) {
    unsigned char m[4] = {0};
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = fread(m, 1, 4, f);
    fclose(f);
    return n == 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd;
}

logfile *logfile_open(const char *path, int mode, error *err) {
    logfile *f = mem_zalloc(sizeof *f);
    f->path = mem_strdup(path);
    f->mode = mode;
    buf_init(&f->data);
    f->zstd = is_zstd(path);
    if (f->zstd) {
        f->fp = fopen(path, "rb");
        f->ds = ZSTD_createDStream();
        ZSTD_initDStream(f->ds);
        f->in.src = f->zin;
    } else
        f->gz = gzopen(path, "rb");
    if ((f->zstd && !f->fp) || (!f->zstd && !f->gz)) {
        error_set(err, "", 0, "%s: %s", path, strerror(errno));
        logfile_close(f);
        return NULL;
    }
    return f;
}

void logfile_close(logfile *f) {
    if (!f)
        return;
    if (f->gz)
        gzclose(f->gz);
    if (f->fp)
        fclose(f->fp);
    if (f->ds)
        ZSTD_freeDStream(f->ds);
    buf_close(&f->data);
    free(f->path);
    free(f);
}

/* Appends up to ~64 KiB of decompressed data; returns bytes added, 0 at EOF, -1 on error. */
static long fill(logfile *f, error *err) {
    if (f->off > 0 && f->off == f->data.len) {
        buf_reset(&f->data);
        f->off = 0;
    } else if (f->off > (1 << 20)) {
        memmove(f->data.p, f->data.p + f->off, f->data.len - f->off);
        f->data.len -= f->off;
        f->off = 0;
    }
    buf_reserve(&f->data, 1 << 16);
    if (!f->zstd) {
        int n = gzread(f->gz, f->data.p + f->data.len, 1 << 16);
        if (n < 0) {
            int e;
            error_set(err, "", 0, "%s: %s", f->path, gzerror(f->gz, &e));
            return -1;
        }
        f->data.len += (size_t)n;
        return n;
    }
    for (;;) {
        if (f->in.pos == f->in.size) {
            f->in.size = fread(f->zin, 1, sizeof f->zin, f->fp);
            f->in.pos = 0;
            if (f->in.size == 0)
                return 0;
        }
        ZSTD_outBuffer out = {f->data.p + f->data.len, 1 << 16, 0};
        size_t r = ZSTD_decompressStream(f->ds, &out, &f->in);
        if (ZSTD_isError(r)) {
            error_set(err, "", 0, "%s: corrupt zstd data near byte %ld: %s", f->path, ftell(f->fp),
                      ZSTD_getErrorName(r));
            return -1;
        }
        f->data.len += out.pos;
        if (out.pos)
            return (long)out.pos;
    }
}

int logfile_next(logfile *f, const char **rec, size_t *len, error *err) {
    for (;;) {
        const char *p = f->data.p + f->off;
        size_t avail = f->data.len - f->off;
        if (f->mode == LOGFILE_LINES) {
            const char *nl = avail ? memchr(p, '\n', avail) : NULL;
            if (nl || (f->eof && avail)) {
                size_t n = nl ? (size_t)(nl - p) : avail;
                f->off += n + (nl ? 1 : 0);
                if (n && p[n - 1] == '\r')
                    n--; /* CRLF files: the CR is framing, not content */
                *rec = p;
                *len = n;
                return 1;
            }
        } else if (avail) {
            detail_split_span sp;
            int got = detail_split_next(p, avail, f->eof, &sp);
            if (got) {
                *rec = p + sp.off;
                *len = sp.len;
                f->off += sp.next;
                return 1;
            }
            f->off += sp.next;
            if (f->eof && sp.next == 0)
                return 0;
            if (sp.next)
                continue;
        }
        if (f->eof)
            return 0;
        long n = fill(f, err);
        if (n < 0)
            return -1;
        if (n == 0)
            f->eof = 1;
    }
}

int logfile_sha256(const char *path, char out[65], error *err) {
    logfile *f = logfile_open(path, LOGFILE_LINES, err);
    if (!f)
        return -1;
    /* OpenSSL's SHA-256 (SHA-NI where the CPU has it): libsodium's portable
     * one was a quarter of spoor-import's CPU on a 70 MB file. */
    EVP_MD_CTX *st = EVP_MD_CTX_new();
    if (!st || EVP_DigestInit_ex(st, EVP_sha256(), NULL) != 1)
        abort();
    long n;
    while ((n = fill(f, err)) > 0) {
        EVP_DigestUpdate(st, f->data.p + f->off, f->data.len - f->off);
        f->off = f->data.len;
    }
    logfile_close(f);
    unsigned char h[32];
    unsigned int hl = 0;
    EVP_DigestFinal_ex(st, h, &hl);
    EVP_MD_CTX_free(st);
    if (n < 0)
        return -1;
    sodium_bin2hex(out, 65, h, sizeof h);
    return 0;
}
