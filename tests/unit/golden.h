/*
 * golden: shared helpers for the parser unit tests.  out_* render a parse
 * result as one canonical "key=value ..." line (values quoted with C escapes
 * when empty or not plain printable ASCII, so .want files stay ASCII);
 * golden_run() feeds every DIR/NAME<in_ext> line through a callback and
 * compares the result with DIR/NAME<want_ext> line by line, or rewrites the
 * .want files when SPOOR_GOLDEN_UPDATE is set (review the diff!).
 *
 * Ownership: an out_buf belongs to the caller (no heap; output longer than
 * the buffer is cut off).  golden_slurp() and golden_list() return malloc'd
 * memory the caller frees.  golden_run() frees all it allocates; its
 * callbacks and their arg belong to the caller.
 *
 * Errors: mismatches and missing files are counted as failed checks (see
 * check.h) with got/want on stderr; nothing is returned.  A bad time in test
 * data (golden_at_time) or an allocation failure aborts.  Paths are relative
 * to the working directory: run the tests from the repository root.
 */
#ifndef SPOOR_GOLDEN_H
#define SPOOR_GOLDEN_H

#include <stddef.h>
#include <stdint.h>

typedef struct out_buf {
    char s[8192]; /* always NUL-terminated once written to */
    size_t n;
} out_buf;

void out_reset(out_buf *b);
void out_put(out_buf *b, const char *p, size_t len);
void out_puts(out_buf *b, const char *p);
/* " key=value" (no leading space on an empty buffer), value of len bytes. */
void out_kvn(out_buf *b, const char *key, const char *v, size_t len);
/* The same for a C string; nothing when v is NULL. */
void out_kv(out_buf *b, const char *key, const char *v);
/* The same for a number; nothing when v < 0 (absent). */
void out_kvi(out_buf *b, const char *key, long long v);
/* " key=a,b" naming the set bits of flags (bit k is names[k], k < n);
 * nothing when none is set. */
void out_flags(out_buf *b, const char *key, unsigned flags, const char *const *names, size_t n);
/* Replaces the buffer with "error=REASON pos=N". */
void out_err(out_buf *b, const char *reason, size_t pos);

/* RFC 3339 text to microseconds since the epoch; aborts if it does not parse. */
int64_t golden_at_time(const char *rfc3339);

/* A whole file, NUL-terminated, its length (without the NUL) in *len; NULL
 * if it cannot be opened. */
char *golden_slurp(const char *path, size_t *len);

/* The names in dir ending in ext, without ext, sorted by file name: at most
 * max of them in names.  Returns how many, or -1 (a failed check) if dir
 * cannot be opened. */
int golden_list(const char *dir, const char *ext, char **names, int max);

typedef struct golden_spec {
    const char *dir;      /* "tests/golden/NAME" */
    const char *in_ext;   /* input files, ".log" */
    const char *want_ext; /* expected output, ".want" */
    /* Before the first line of each file: reset the context (may be NULL). */
    void (*begin)(void *arg);
    /* A line starting with '#', NUL-terminated; it is copied verbatim to the
     * output (may be NULL). */
    void (*directive)(void *arg, const char *line);
    /* Any other line, len bytes, not NUL-terminated: render it into out. */
    void (*line)(void *arg, const char *line, size_t len, out_buf *out);
} golden_spec;

/* Checks every input file in g->dir, passing arg to the callbacks: one check
 * that the directory opens, one that it has input files and, unless updating,
 * one per file that the line counts match and one per line. */
void golden_run(const golden_spec *g, void *arg);

#endif
