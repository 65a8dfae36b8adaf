#include "scan.h"

#include <string.h>

const char *scan_line(const char *line, size_t len, size_t *n) {
    const char *s = line ? line : "";
    *n = line ? len : 0;
    while (*n && (s[*n - 1] == '\n' || s[*n - 1] == '\r'))
        (*n)--;
    return s;
}

const char *scan_dup(arena *a, const char *p, size_t len) {
    char *d = arena_strndup(a, p, len);
    for (size_t k = 0; k < len; k++)
        if (d[k] == '\0')
            d[k] = '?';
    return d;
}

int scan_at(const char *s, size_t n, size_t i, const char *lit) {
    size_t l = strlen(lit);
    return i <= n && n - i >= l && memcmp(s + i, lit, l) == 0;
}

int scan_eq(const char *s, size_t len, const char *lit) {
    return len == strlen(lit) && memcmp(s, lit, len) == 0;
}

int scan_digits(const char *s, size_t n, size_t *i, int count, int *v) {
    if (*i + (size_t)count > n)
        return -1;
    int x = 0;
    for (int k = 0; k < count; k++) {
        char c = s[*i + (size_t)k];
        if (!scan_is_digit(c))
            return -1;
        x = x * 10 + (c - '0');
    }
    *i += (size_t)count;
    *v = x;
    return 0;
}
