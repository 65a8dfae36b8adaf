#include "tls_stream.h"
#include "tls_ctx.h"
#include "mem.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tls_stream {
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
    char subject[256];
};

tls_stream *tls_stream_new(SSL_CTX *ctx) {
    tls_stream *t = mem_zalloc(sizeof *t);
    t->ssl = SSL_new(ctx);
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (!t->ssl || !t->rbio || !t->wbio) { /* allocation failure aborts, as everywhere */
        fprintf(stderr, "tls_stream: out of memory\n");
        abort();
    }
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    SSL_set_accept_state(t->ssl);
    return t;
}

void tls_stream_free(tls_stream *t) {
    if (!t)
        return;
    SSL_free(t->ssl);
    free(t);
}

static void drain(tls_stream *t, buf *out) {
    char tmp[16384];
    int n;
    while ((n = BIO_read(t->wbio, tmp, sizeof tmp)) > 0)
        buf_add(out, tmp, (size_t)n);
}

int tls_stream_feed(tls_stream *t, const void *in, size_t n,
                    void (*plain_cb)(void *arg, const char *p, size_t n), void *arg, buf *out,
                    error *err) {
    if (n && BIO_write(t->rbio, in, (int)n) != (int)n) {
        error_set(err, "tls", 0, "TLS: cannot buffer %zu bytes", n);
        return -1;
    }
    if (!SSL_is_init_finished(t->ssl)) {
        int r = SSL_do_handshake(t->ssl);
        drain(t, out);
        if (r != 1) {
            int e = SSL_get_error(t->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return 0;
            long v = SSL_get_verify_result(t->ssl);
            if (v != X509_V_OK) {
                error_set(err, "tls", 0, "TLS handshake: client certificate refused: %s",
                          X509_verify_cert_error_string(v));
                ERR_clear_error();
            } else
                tls_ctx_reason("TLS handshake", err);
            return -1;
        }
        X509 *peer = SSL_get_peer_certificate(t->ssl);
        if (peer) {
            X509_NAME_oneline(X509_get_subject_name(peer), t->subject, sizeof t->subject);
            X509_free(peer);
        }
    }
    for (;;) {
        char plain[16384];
        int r = SSL_read(t->ssl, plain, sizeof plain);
        if (r > 0) {
            plain_cb(arg, plain, (size_t)r);
            continue;
        }
        int e = SSL_get_error(t->ssl, r);
        drain(t, out);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return 0;
        if (e == SSL_ERROR_ZERO_RETURN)
            return 1;
        tls_ctx_reason("TLS", err);
        return -1;
    }
}

const char *tls_stream_peer_subject(const tls_stream *t) {
    return t->subject;
}
