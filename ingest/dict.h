/*
 * dict: zstd dictionaries for evidence blocks — trained from sample records
 * of one kind, and measured: how well do blocks of a given size compress
 * with and without the dictionary?  (Dictionaries matter most for small
 * blocks, which low-traffic batches produce.)
 *
 * Ownership: samples are copied into the dict_samples buffer; the trained
 * dictionary is written into the caller's buf.  Errors: -1 with a message
 * (too few samples, zstd training failure).
 */
#ifndef SPOOR_DICT_H
#define SPOOR_DICT_H

#include "error.h"
#include "buf.h"

#include <stddef.h>

typedef struct dict_samples {
    buf data;      /* samples back to back */
    size_t *sizes; /* length of each sample */
    size_t n, cap;
} dict_samples;

void dict_samples_init(dict_samples *s);
void dict_samples_close(dict_samples *s);
void dict_samples_add(dict_samples *s, const void *p, size_t len);

/* Trains a dictionary of at most MAX_SIZE bytes into OUT. */
int dict_train(const dict_samples *s, size_t max_size, buf *out, error *err);

/* Compresses the samples as evidence frames of BLOCK_BYTES each at LEVEL,
 * with DICT (may be NULL/0): returns total compressed bytes; *RAW gets the
 * total frame bytes. */
size_t dict_measure(const dict_samples *s, size_t block_bytes, int level, const void *dict,
                    size_t dict_len, size_t *raw);

#endif
