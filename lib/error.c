#include "error.h"

#include <stdio.h>
#include <string.h>

/* Field by field, not memset: parsers clear an error per line, and the
 * message buffer is most of the struct. */
void error_clear(error *e) {
    if (e) {
        e->code[0] = '\0';
        e->pos = 0;
        e->line = 0;
        e->msg[0] = '\0';
    }
}

int error_setv(error *e, const char *code, size_t pos, const char *fmt, va_list ap) {
    if (!e)
        return -1;
    snprintf(e->code, sizeof e->code, "%s", code ? code : "");
    e->pos = pos;
    e->line = 0;
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    return -1;
}

int error_set(error *e, const char *code, size_t pos, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    error_setv(e, code, pos, fmt, ap);
    va_end(ap);
    return -1;
}

int error_is(const error *e, const char *code) {
    return e && code && !strcmp(e->code, code);
}

int error_sqlstate_class(const error *e, const char *cls) {
    return e && cls && strlen(e->code) == 5 && !strncmp(e->code, cls, 2);
}
