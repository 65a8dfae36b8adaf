#include "tls_ctx.h"

#include <openssl/err.h>

void tls_ctx_reason(const char *what, error *err) {
    unsigned long e = ERR_get_error();
    char r[256] = "unknown error";
    if (e)
        ERR_error_string_n(e, r, sizeof r);
    ERR_clear_error();
    error_set(err, "tls", 0, "%s: %s", what, r);
}

SSL_CTX *tls_ctx_server(const char *cert_file, const char *key_file, const char *client_ca,
                        error *err) {
    SSL_CTX *c = SSL_CTX_new(TLS_server_method());
    if (!c) {
        tls_ctx_reason("TLS context", err);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_NO_COMPRESSION);
    /* TLS 1.2 suites: forward secrecy and AEAD only (TLS 1.3's are all so). */
    if (SSL_CTX_set_cipher_list(c, "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20") != 1) {
        tls_ctx_reason("TLS cipher list", err);
    } else if (SSL_CTX_use_certificate_chain_file(c, cert_file) != 1) {
        tls_ctx_reason(cert_file, err);
    } else if (SSL_CTX_use_PrivateKey_file(c, key_file, SSL_FILETYPE_PEM) != 1 ||
               SSL_CTX_check_private_key(c) != 1) {
        tls_ctx_reason(key_file, err);
    } else if (!client_ca || !*client_ca) {
        return c;
    } else if (SSL_CTX_load_verify_locations(c, client_ca, NULL) != 1) {
        tls_ctx_reason(client_ca, err);
    } else {
        /* Mutual TLS: a peer without a certificate from this CA is not heard. */
        SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        SSL_CTX_set_client_CA_list(c, SSL_load_client_CA_file(client_ca));
        return c;
    }
    SSL_CTX_free(c);
    return NULL;
}
