/*
 * mem: allocation that never returns NULL.
 *
 * Spoor's rule: running out of memory is not an expected failure, so every
 * allocator here aborts the process (with a message on stderr) instead of
 * returning NULL.  Callers never check for NULL after these calls.
 * Ownership: the caller owns what these return and frees it with free().
 */
#ifndef SPOOR_MEM_H
#define SPOOR_MEM_H

#include <stddef.h>

void *mem_alloc(size_t n);                  /* malloc */
void *mem_zalloc(size_t n);                 /* calloc(1, n) */
void *mem_realloc(void *p, size_t n);       /* realloc */
char *mem_strdup(const char *s);            /* strdup */
char *mem_strndup(const char *s, size_t n); /* strndup, always NUL-terminated */

#endif
