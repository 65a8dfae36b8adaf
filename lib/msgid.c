#include "msgid.h"

#include <string.h>

static int msgid_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

size_t msgid_normalize(const char *in, size_t len, char *out) {
    while (len && msgid_space(in[0]))
        in++, len--;
    while (len && msgid_space(in[len - 1]))
        len--;
    if (len >= 2 && in[0] == '<' && in[len - 1] == '>')
        in++, len -= 2;
    else if (len && in[0] == '<') /* "<abc@def" (truncated by a logger) */
        in++, len--;
    else if (len && in[len - 1] == '>')
        len--;
    memcpy(out, in, len);
    out[len] = '\0';
    char *at = NULL;
    for (size_t i = 0; i < len; i++)
        if (out[i] == '@')
            at = out + i;
    if (at)
        for (char *p = at + 1; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
    return len;
}
