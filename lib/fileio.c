#include "fileio.h"
#include "mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *fileio_read(const char *path, int flags, size_t *len, error *err) {
    int fd = open(path,
                  O_RDONLY | O_NONBLOCK | O_CLOEXEC | ((flags & FILEIO_NOFOLLOW) ? O_NOFOLLOW : 0));
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        error_set(err, "io", 0, "%s: %s", path, fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    /* The size is a hint: a file that grows while read is read to its end.
     * Room for the size, the NUL and one byte more, so that the read which
     * finds the end of an unchanged file needs no larger buffer. */
    size_t cap = (size_t)st.st_size + 2, n = 0;
    char *d = mem_alloc(cap);
    for (;;) {
        if (n + 1 == cap)
            d = mem_realloc(d, cap *= 2);
        ssize_t r = read(fd, d + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            error_set(err, "io", 0, "%s: %s", path, strerror(errno));
            close(fd);
            free(d);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    d[n] = '\0';
    *len = n;
    return d;
}
