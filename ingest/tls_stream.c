#include "tls_stream.h"
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

static void ssl_reason(const char *what, char *err, size_t errlen) {
    unsigned long e = ERR_get_error();
    char r[256] = "unknown error";
    if (e)
        ERR_error_string_n(e, r, sizeof r);
    ERR_clear_error();
    snprintf(err, errlen, "%s: %s", what, r);
}

SSL_CTX *tls_stream_ctx(const char *cert_file, const char *key_file, const char *client_ca_file,
                        char *err, size_t errlen) {
    SSL_CTX *c = SSL_CTX_new(TLS_server_method());
    if (!c) {
        ssl_reason("TLS context", err, errlen);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_use_certificate_chain_file(c, cert_file) != 1) {
        ssl_reason(cert_file, err, errlen);
    } else if (SSL_CTX_use_PrivateKey_file(c, key_file, SSL_FILETYPE_PEM) != 1 ||
               SSL_CTX_check_private_key(c) != 1) {
        ssl_reason(key_file, err, errlen);
    } else if (SSL_CTX_load_verify_locations(c, client_ca_file, NULL) != 1) {
        ssl_reason(client_ca_file, err, errlen);
    } else {
        /* Mutual TLS: a sender without a certificate from our CA is not heard. */
        SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        SSL_CTX_set_client_CA_list(c, SSL_load_client_CA_file(client_ca_file));
        return c;
    }
    SSL_CTX_free(c);
    return NULL;
}

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
                    char *err, size_t errlen) {
    if (n && BIO_write(t->rbio, in, (int)n) != (int)n) {
        snprintf(err, errlen, "TLS: cannot buffer %zu bytes", n);
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
                snprintf(err, errlen, "TLS handshake: client certificate refused: %s",
                         X509_verify_cert_error_string(v));
                ERR_clear_error();
            } else
                ssl_reason("TLS handshake", err, errlen);
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
        ssl_reason("TLS", err, errlen);
        return -1;
    }
}

const char *tls_stream_peer_subject(const tls_stream *t) {
    return t->subject;
}
