/*
 * evidence: the verbatim log lines, byte for byte, in zstd-compressed blocks.
 *
 * A block holds the lines of one kind ("smtp" or "radius") for one UTC day
 * from one ingest batch.  Its uncompressed frame is, for each line, a 4-byte
 * little-endian length followed by the bytes exactly as received (any byte,
 * NUL included); the SHA-256 is over that frame, so a block can be checked
 * and every record can give back its exact original lines by (block, index).
 * Compression uses a trained zstd dictionary when one is given (dict_id).
 *
 * Ownership: an evidence_block owns its frame buffer and its compressed copy
 * (evidence_block_init / evidence_block_close).  evidence_compress and evidence_unpack write into
 * caller buffers.  Errors: -1 with a message in ERR (corrupt or truncated
 * data, a checksum that does not match).
 */
#ifndef SPOOR_EVIDENCE_H
#define SPOOR_EVIDENCE_H

#include "error.h"
#include "buf.h"

#include <stddef.h>
#include <stdint.h>
#include <zstd.h>

typedef struct evidence_block {
    const char *kind; /* "smtp" or "radius" (static) */
    int64_t day;      /* UTC day number (days since 1970-01-01) */
    buf frame;        /* u32le length + bytes, per line */
    int n_lines;
    int64_t first_pos, last_pos; /* smallest and largest source position of its lines */
    int64_t block_id;            /* assigned when the batch commits */
    int src;                     /* the batch's index of the source partition */
    const char *peer;            /* the batch's: the peer of the last line added, or NULL */
    /* The compressed frame and its SHA-256, once sealed (owned; see
     * batch_seal).  Valid only while z_lines == n_lines: a line added after
     * sealing makes it stale. */
    buf z;
    int z_lines; /* n_lines when compressed; -1 never */
    int z_dict;  /* dictionary id used; -1 none */
    unsigned char sha[32];
} evidence_block;

void evidence_block_init(evidence_block *b, const char *kind, int64_t day);
void evidence_block_close(evidence_block *b);
/* Appends a line; returns its index in the block. */
int evidence_block_add(evidence_block *b, const void *line, size_t len, int64_t pos);

/* SHA-256 of the uncompressed frame. */
void evidence_sha256(const void *frame, size_t len, unsigned char out[32]);

/* Compresses FRAME into OUT (reset first) at LEVEL, with DICT if non-NULL. */
int evidence_compress(ZSTD_CCtx *cctx, const ZSTD_CDict *dict, int level, const void *frame,
                      size_t len, buf *out, error *err);

/* Decompresses DATA into FRAME (reset first); DICT may be NULL.  If SHA is
 * non-NULL the frame must hash to it. */
int evidence_unpack(const void *data, size_t len, const ZSTD_DDict *dict, const unsigned char *sha,
                    buf *frame, error *err);

/* Finds line IDX in FRAME: sets *LINE and *LEN (pointing into FRAME). */
int evidence_line(const buf *frame, int idx, const char **line, size_t *len);

#endif
