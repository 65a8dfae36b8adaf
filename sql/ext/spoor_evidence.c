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
 *
 * Also, for the compaction of closed days (sql/functions/compaction.sql, readers.sql):
 * spoor_evidence_recompress (a block compressed again, its frame unchanged)
 * and the event packs' spoor_pack_compress and spoor_pack_find; each
 * function's contract is above it.  And spoor_session_yield, a session's
 * CPU priority lowered (spoor-ingest's), the one system call Spoor needs
 * inside the server.  Errors are raised with SQLSTATEs of the
 * data-corrupted class for input that was altered or is not what it claims.
 */
#include "postgres.h"

#include "access/xact.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <zstd.h>

PG_MODULE_MAGIC;

/* Decompresses DATA (a whole zstd frame, made with DICT or none) into a
 * palloc'd buffer, checks its SHA-256 against SHA and returns it with its
 * length in *LEN.  Raises ERRCODE_DATA_CORRUPTED, naming WHAT, on anything
 * that is not exactly what was stored. */
static char *zstd_open(bytea *data, bytea *dict, bytea *sha, const char *what, size_t *len) {
    const char *src = VARDATA_ANY(data);
    size_t srclen = VARSIZE_ANY_EXHDR(data);
    unsigned long long size = ZSTD_getFrameContentSize(src, srclen);
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (1ULL << 30))
        ereport(ERROR,
                (errcode(ERRCODE_DATA_CORRUPTED), errmsg("%s is not a complete zstd frame", what)));
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
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("%s does not decompress", what)));
    /* PostgreSQL's own SHA-256 (OpenSSL's in Debian's build, with the CPU's
     * SHA extensions): with libsodium's portable one, the Message-ID lookup
     * on compacted days took 27 ms instead of 17 (36_compact's data). */
    uint8 h[PG_SHA256_DIGEST_LENGTH];
    pg_cryptohash_ctx *hc = pg_cryptohash_create(PG_SHA256);
    if (!hc || pg_cryptohash_init(hc) < 0 ||
        pg_cryptohash_update(hc, (const uint8 *)frame, n) < 0 ||
        pg_cryptohash_final(hc, h, sizeof h) < 0)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("SHA-256 failed")));
    pg_cryptohash_free(hc);
    if (VARSIZE_ANY_EXHDR(sha) != sizeof h || memcmp(VARDATA_ANY(sha), h, sizeof h) != 0)
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                        errmsg("%s does not match its SHA-256: it was altered", what)));
    *len = n;
    return frame;
}

/* SRC[0..N) compressed at LEVEL (with DICT, or none) as a new bytea.  Raises
 * on a level outside zstd's range. */
static bytea *zstd_bytea(const char *src, size_t n, bytea *dict, int32 level) {
    if (level < 1 || level > ZSTD_maxCLevel())
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("zstd level %d is outside 1..%d", level, ZSTD_maxCLevel())));
    size_t cap = ZSTD_compressBound(n);
    bytea *out = palloc(VARHDRSZ + cap);
    ZSTD_CCtx *c = ZSTD_createCCtx();
    size_t m = dict ? ZSTD_compress_usingDict(c, VARDATA(out), cap, src, n, VARDATA_ANY(dict),
                                              VARSIZE_ANY_EXHDR(dict), level)
                    : ZSTD_compressCCtx(c, VARDATA(out), cap, src, n, level);
    ZSTD_freeCCtx(c);
    if (ZSTD_isError(m))
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("zstd: %s", ZSTD_getErrorName(m))));
    SET_VARSIZE(out, VARHDRSZ + m);
    return out;
}

PG_FUNCTION_INFO_V1(spoor_evidence_line);

Datum spoor_evidence_line(PG_FUNCTION_ARGS) {
    if (PG_ARGISNULL(0) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
        PG_RETURN_NULL();
    bytea *dict = PG_ARGISNULL(1) ? NULL : PG_GETARG_BYTEA_PP(1);
    int32 idx = PG_GETARG_INT32(3);
    size_t n;
    char *frame =
        zstd_open(PG_GETARG_BYTEA_PP(0), dict, PG_GETARG_BYTEA_PP(2), "evidence block", &n);
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

/*
 * Event packs (sql/functions/compaction.sql, readers.sql): a closed day's parsed events, stored as
 * zstd frames of entries sorted by their lookup key.  An entry is a 4-byte
 * big-endian key length, the key, a 4-byte big-endian record length and the
 * record in its composite text form (what int4send and a record's text
 * output give, so the packer is plain SQL).
 *
 *   spoor_pack_compress(payload bytea, level int) → bytea
 *   spoor_pack_find(data bytea, sha256 bytea, key text, template anyelement)
 *       → SETOF anyelement
 *
 * pack_find decompresses, checks the payload's SHA-256 (a mismatch is an
 * error: the pack was altered), and returns the records whose key equals
 * KEY (every record if KEY is NULL), parsed as TEMPLATE's row type.
 */
PG_FUNCTION_INFO_V1(spoor_pack_compress);
PG_FUNCTION_INFO_V1(spoor_pack_find);

Datum spoor_pack_compress(PG_FUNCTION_ARGS) {
    bytea *in = PG_GETARG_BYTEA_PP(0);
    PG_RETURN_BYTEA_P(zstd_bytea(VARDATA_ANY(in), VARSIZE_ANY_EXHDR(in), NULL, PG_GETARG_INT32(1)));
}

typedef struct pack_state {
    char *buf;
    size_t len, off;
    char *key; /* NULL: every record */
    size_t klen;
    FmgrInfo in;
    Oid ioparam;
} pack_state;

static uint32 pack_u32be(const char *p) {
    const unsigned char *u = (const unsigned char *)p;
    return (uint32)u[0] << 24 | (uint32)u[1] << 16 | (uint32)u[2] << 8 | (uint32)u[3];
}

Datum spoor_pack_find(PG_FUNCTION_ARGS) {
    FuncCallContext *fc;
    if (SRF_IS_FIRSTCALL()) {
        fc = SRF_FIRSTCALL_INIT();
        if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
            SRF_RETURN_DONE(fc);
        MemoryContext old = MemoryContextSwitchTo(fc->multi_call_memory_ctx);
        pack_state *st = palloc0(sizeof *st);
        st->buf =
            zstd_open(PG_GETARG_BYTEA_PP(0), NULL, PG_GETARG_BYTEA_PP(1), "event pack", &st->len);
        if (!PG_ARGISNULL(2)) {
            text *k = PG_GETARG_TEXT_PP(2);
            st->klen = VARSIZE_ANY_EXHDR(k);
            st->key = palloc(st->klen + 1);
            memcpy(st->key, VARDATA_ANY(k), st->klen);
        }
        Oid typ = get_fn_expr_argtype(fcinfo->flinfo, 3);
        if (!OidIsValid(typ))
            ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                            errmsg("spoor_pack_find: the template's type is unknown")));
        Oid infunc;
        getTypeInputInfo(typ, &infunc, &st->ioparam);
        fmgr_info_cxt(infunc, &st->in, fc->multi_call_memory_ctx);
        fc->user_fctx = st;
        MemoryContextSwitchTo(old);
    }
    fc = SRF_PERCALL_SETUP();
    pack_state *st = fc->user_fctx;
    while (st->off < st->len) {
        if (st->len - st->off < 4)
            goto truncated;
        uint32 kl = pack_u32be(st->buf + st->off);
        if (st->len - st->off - 4 < kl || st->len - st->off - 4 - kl < 4)
            goto truncated;
        const char *k = st->buf + st->off + 4;
        uint32 rl = pack_u32be(k + kl);
        if (st->len - st->off - 8 - kl < rl)
            goto truncated;
        const char *rec = k + kl + 4;
        st->off += 8 + (size_t)kl + rl;
        if (st->key && (kl != st->klen || memcmp(k, st->key, kl) != 0))
            continue;
        char *s = pnstrdup(rec, rl);
        Datum d = InputFunctionCall(&st->in, s, st->ioparam, -1);
        SRF_RETURN_NEXT(fc, d);
    }
    SRF_RETURN_DONE(fc);
truncated:
    ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("event pack is truncated")));
    SRF_RETURN_DONE(fc); /* not reached */
}

/*
 *   spoor_evidence_recompress(data bytea, dict bytea, sha256 bytea, level int) → bytea
 *
 * The same evidence block compressed again at LEVEL (with the same
 * dictionary), after checking the SHA-256 of its uncompressed frame: the
 * frame, and so what the block proves, does not change.  Compaction of
 * closed days uses it (ingest compresses fast, at a low level).
 */
PG_FUNCTION_INFO_V1(spoor_evidence_recompress);

Datum spoor_evidence_recompress(PG_FUNCTION_ARGS) {
    if (PG_ARGISNULL(0) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
        PG_RETURN_NULL();
    bytea *dict = PG_ARGISNULL(1) ? NULL : PG_GETARG_BYTEA_PP(1);
    int32 level = PG_GETARG_INT32(3);
    size_t n;
    char *frame =
        zstd_open(PG_GETARG_BYTEA_PP(0), dict, PG_GETARG_BYTEA_PP(2), "evidence block", &n);
    bytea *out = zstd_bytea(frame, n, dict, level);
    pfree(frame);
    PG_RETURN_BYTEA_P(out);
}

/*
 * spoor_in_transaction_block() -> boolean
 *
 * True inside BEGIN ... COMMIT and inside the implicit block of a query
 * string with several statements; false for a statement on its own.  The
 * audit chain's writer holds its lock to the end of the transaction, so a
 * person's audited call is refused inside a block (sql/functions/audit.sql): an
 * open transaction cannot hold the audit trail, and every lookup, for
 * everyone else.  SQL has no way to ask this; the server knows.
 */
PG_FUNCTION_INFO_V1(spoor_in_transaction_block);

Datum spoor_in_transaction_block(PG_FUNCTION_ARGS) {
    PG_RETURN_BOOL(IsTransactionBlock());
}

/* spoor_session_yield(nice int) → int: lowers the CPU priority of the
 * calling backend to NICE (0..19) and returns the nice value in effect.
 * spoor-ingest calls it on its own sessions, so that a lookup's backend is
 * scheduled first when the cores are busy with ingest (make bench: lookups
 * under load).  It can only lower a priority, never raise one (that takes
 * CAP_SYS_NICE, which PostgreSQL does not have), and the backend ends with
 * its session, so no other session is affected. */
PG_FUNCTION_INFO_V1(spoor_session_yield);
Datum spoor_session_yield(PG_FUNCTION_ARGS) {
    int want = PG_GETARG_INT32(0);
    if (want < 0)
        want = 0;
    if (want > 19)
        want = 19;
    errno = 0;
    int cur = getpriority(PRIO_PROCESS, 0);
    if (errno != 0)
        ereport(ERROR, (errcode(ERRCODE_SYSTEM_ERROR), errmsg("getpriority: %m")));
    if (want > cur) {
        if (setpriority(PRIO_PROCESS, 0, want) != 0)
            ereport(ERROR, (errcode(ERRCODE_SYSTEM_ERROR), errmsg("setpriority: %m")));
        cur = want;
    }
    PG_RETURN_INT32(cur);
}
