#include "evidence.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void evidence_block_init(evidence_block *b, const char *kind, int64_t day) {
    b->kind = kind;
    b->day = day;
    buf_init(&b->frame);
    b->n_lines = 0;
    b->first_pos = INT64_MAX;
    b->last_pos = INT64_MIN;
    b->block_id = 0;
    b->peer = NULL;
    buf_init(&b->z);
    b->z_lines = -1;
    b->z_dict = -1;
}

void evidence_block_close(evidence_block *b) {
    buf_close(&b->frame);
    buf_close(&b->z);
}

int evidence_block_add(evidence_block *b, const void *line, size_t len, int64_t pos) {
    buf_add_u32le(&b->frame, (uint32_t)len);
    buf_add(&b->frame, line, len);
    if (pos < b->first_pos)
        b->first_pos = pos;
    if (pos > b->last_pos)
        b->last_pos = pos;
    return b->n_lines++;
}

/* OpenSSL, not libsodium: its SHA-256 uses the CPU's SHA extensions where
 * there are any, and hashing every raw byte was a fifth of spoor-ingest's CPU
 * time with libsodium's portable C (the digest is the same SHA-256). */
void evidence_sha256(const void *frame, size_t len, unsigned char out[32]) {
    unsigned int n = 0;
    if (EVP_Digest(frame, len, out, &n, EVP_sha256(), NULL) != 1 || n != 32)
        abort(); /* only on allocation failure: see lib/mem.h */
}

int evidence_compress(ZSTD_CCtx *cctx, const ZSTD_CDict *dict, int level, const void *frame,
                      size_t len, buf *out, error *err) {
    buf_reset(out);
    size_t bound = ZSTD_compressBound(len);
    buf_reserve(out, bound);
    size_t n = dict ? ZSTD_compress_usingCDict(cctx, out->p, bound, frame, len, dict)
                    : ZSTD_compressCCtx(cctx, out->p, bound, frame, len, level);
    if (ZSTD_isError(n)) {
        error_set(err, "", 0, "zstd compression failed: %s", ZSTD_getErrorName(n));
        return -1;
    }
    out->len = n;
    return 0;
}

int evidence_unpack(const void *data, size_t len, const ZSTD_DDict *dict, const unsigned char *sha,
                    buf *frame, error *err) {
    buf_reset(frame);
    unsigned long long size = ZSTD_getFrameContentSize(data, len);
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (1ULL << 31)) {
        error_set(err, "", 0, "evidence block is not a complete zstd frame");
        return -1;
    }
    buf_reserve(frame, (size_t)size);
    ZSTD_DCtx *d = ZSTD_createDCtx();
    size_t n = dict ? ZSTD_decompress_usingDDict(d, frame->p, (size_t)size, data, len, dict)
                    : ZSTD_decompressDCtx(d, frame->p, (size_t)size, data, len);
    ZSTD_freeDCtx(d);
    if (ZSTD_isError(n) || n != size) {
        error_set(err, "", 0, "evidence block does not decompress: %s",
                  ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short frame");
        return -1;
    }
    frame->len = n;
    if (sha) {
        unsigned char h[32];
        evidence_sha256(frame->p, frame->len, h);
        if (memcmp(h, sha, 32) != 0) {
            error_set(err, "", 0, "evidence block does not match its SHA-256");
            return -1;
        }
    }
    return 0;
}

int evidence_line(const buf *frame, int idx, const char **line, size_t *len) {
    size_t off = 0;
    for (int i = 0;; i++) {
        if (frame->len - off < 4)
            return -1;
        const unsigned char *p = (const unsigned char *)frame->p + off;
        uint32_t n =
            (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        if (frame->len - off - 4 < n)
            return -1;
        if (i == idx) {
            *line = frame->p + off + 4;
            *len = n;
            return 0;
        }
        off += 4 + (size_t)n;
    }
}
