/*
 * spoor_evidence: a PostgreSQL module so that the verbatim log line behind a
 * lookup result leaves the database alone, never with the other lines of its
 * evidence block.
 *
 *   spoor_evidence_line(data bytea, dict bytea, sha256 bytea, idx int) → bytea
 *
 * Decompresses a zstd evidence block (with its dictionary, or NULL), checks
 * the SHA-256 of the uncompressed frame against SHA256 (a mismatch is an
 * error: the evidence was altered), and returns line IDX byte for byte.
 * Frame format: per line a 4-byte little-endian length, then the bytes
 * (ingest/evidence.h).  Only SECURITY DEFINER lookup functions call it.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include <sodium.h>
#include <string.h>
#include <zstd.h>

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(spoor_evidence_line);

Datum spoor_evidence_line(PG_FUNCTION_ARGS) {
    if (PG_ARGISNULL(0) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
        PG_RETURN_NULL();
    bytea *data = PG_GETARG_BYTEA_PP(0);
    bytea *dict = PG_ARGISNULL(1) ? NULL : PG_GETARG_BYTEA_PP(1);
    bytea *sha = PG_GETARG_BYTEA_PP(2);
    int32 idx = PG_GETARG_INT32(3);
    const char *src = VARDATA_ANY(data);
    size_t srclen = VARSIZE_ANY_EXHDR(data);
    unsigned long long size = ZSTD_getFrameContentSize(src, srclen);
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (1ULL << 30))
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                        errmsg("evidence block is not a complete zstd frame")));
    char *frame = palloc((size_t)size + 1);
    ZSTD_DCtx *d = ZSTD_createDCtx();
    size_t n;
    if (dict) {
        ZSTD_DDict *dd = ZSTD_createDDict(VARDATA_ANY(dict), VARSIZE_ANY_EXHDR(dict));
        n = ZSTD_decompress_usingDDict(d, frame, (size_t)size, src, srclen, dd);
        ZSTD_freeDDict(dd);
    } else
        n = ZSTD_decompressDCtx(d, frame, (size_t)size, src, srclen);
    ZSTD_freeDCtx(d);
    if (ZSTD_isError(n) || n != size)
        ereport(ERROR,
                (errcode(ERRCODE_DATA_CORRUPTED), errmsg("evidence block does not decompress")));
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)frame, n);
    if (VARSIZE_ANY_EXHDR(sha) != sizeof h || memcmp(VARDATA_ANY(sha), h, sizeof h) != 0)
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                        errmsg("evidence block does not match its SHA-256: it was altered")));
    size_t off = 0;
    for (int32 i = 0;; i++) {
        if (n - off < 4)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("evidence block has no line %d", idx)));
        const unsigned char *p = (const unsigned char *)frame + off;
        uint32 len = (uint32)p[0] | (uint32)p[1] << 8 | (uint32)p[2] << 16 | (uint32)p[3] << 24;
        if (n - off - 4 < len)
            ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("evidence block truncated")));
        if (i == idx) {
            bytea *out = palloc(VARHDRSZ + len);
            SET_VARSIZE(out, VARHDRSZ + len);
            memcpy(VARDATA(out), frame + off + 4, len);
            pfree(frame);
            PG_RETURN_BYTEA_P(out);
        }
        off += 4 + (size_t)len;
    }
}
