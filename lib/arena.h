/*
 * arena: a region allocator, one per unit of work (an ingest batch, an HTTP
 * request, one parsed record), in the spirit of PostgreSQL's memory contexts.
 *
 * Everything allocated from an arena lives until arena_reset() or
 * arena_close(); nothing is freed individually.  An arena is embedded in its
 * owner (arena_init/arena_close).  Allocation failure aborts (see mem.h), so
 * no function here returns NULL.
 */
#ifndef SPOOR_ARENA_H
#define SPOOR_ARENA_H

#include <stddef.h>

typedef struct arena_chunk arena_chunk;

typedef struct arena {
    arena_chunk *head;  /* current chunk; older ones chained behind it */
    arena_chunk *spare; /* chunks kept by arena_reset, for reuse */
    size_t chunk_size;  /* default size of new chunks */
    size_t used_total;  /* bytes handed out since the last reset */
} arena;

void arena_init(arena *a, size_t chunk_size); /* chunk_size 0: 16 KiB */
void arena_close(arena *a);                   /* frees all chunks */
void arena_reset(arena *a);                   /* keeps one chunk, forgets the rest */

void *arena_alloc(arena *a, size_t n); /* 16-byte aligned, uninitialised */
void *arena_zalloc(arena *a, size_t n);
char *arena_strndup(arena *a, const char *s, size_t n); /* NUL-terminated copy */
char *arena_strdup(arena *a, const char *s);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
