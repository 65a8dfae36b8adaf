#include "dict.h"
#include "evidence.h"
#include "mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <zdict.h>
#include <zstd.h>

void dict_samples_init(dict_samples *s) {
    buf_init(&s->data);
    s->sizes = NULL;
    s->n = s->cap = 0;
}

void dict_samples_close(dict_samples *s) {
    buf_close(&s->data);
    free(s->sizes);
    s->sizes = NULL;
}

void dict_samples_add(dict_samples *s, const void *p, size_t len) {
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->sizes = mem_realloc(s->sizes, sizeof *s->sizes * s->cap);
    }
    /* Train on what a block holds: the length prefix and the bytes. */
    buf_add_u32le(&s->data, (uint32_t)len);
    buf_add(&s->data, p, len);
    s->sizes[s->n++] = len + 4;
}

int dict_train(const dict_samples *s, size_t max_size, buf *out, error *err) {
    if (s->n < 100) {
        error_set(err, "", 0, "need at least 100 sample records to train a dictionary, have %zu",
                  s->n);
        return -1;
    }
    buf_reset(out);
    buf_reserve(out, max_size);
    size_t n = ZDICT_trainFromBuffer(out->p, max_size, s->data.p, s->sizes, (unsigned)s->n);
    if (ZDICT_isError(n)) {
        error_set(err, "", 0, "zstd dictionary training failed: %s", ZDICT_getErrorName(n));
        return -1;
    }
    out->len = n;
    return 0;
}

size_t dict_measure(const dict_samples *s, size_t block_bytes, int level, const void *dict,
                    size_t dict_len, size_t *raw) {
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    ZSTD_CDict *cd = dict && dict_len ? ZSTD_createCDict(dict, dict_len, level) : NULL;
    buf out;
    buf_init(&out);
    size_t total = 0, off = 0;
    *raw = 0;
    while (off < s->data.len) {
        /* Whole samples up to the block size, as the batch builds blocks. */
        size_t end = off, i = 0;
        (void)i;
        while (end < s->data.len && end - off < block_bytes) {
            const unsigned char *p = (const unsigned char *)s->data.p + end;
            uint32_t len =
                (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
            end += 4 + len;
        }
        if (evidence_compress(cctx, cd, level, s->data.p + off, end - off, &out, NULL) == 0)
            total += out.len;
        *raw += end - off;
        off = end;
    }
    buf_close(&out);
    ZSTD_freeCDict(cd);
    ZSTD_freeCCtx(cctx);
    return total;
}
