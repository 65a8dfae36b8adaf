/* libFuzzer target: spoor-api's request reader (query/api_http.c over
 * http_parser), fed in pieces, with keep-alive resets, under its limits. */
#include "api_http.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    api_http h;
    api_http_init(&h, 1024, 2048);
    size_t off = 0;
    /* The first byte chooses the piece size, as a network would. */
    size_t step = size ? (size_t)(data[0] % 64) + 1 : 1;
    while (off < size) {
        size_t n = size - off < step ? size - off : step;
        int rc = api_http_feed(&h, (const char *)data + off, n);
        off += n;
        if (rc != 0) {
            if (rc == 1)
                (void)api_http_method(&h);
            api_http_reset(&h);
        }
    }
    api_http_close(&h);
    return 0;
}
