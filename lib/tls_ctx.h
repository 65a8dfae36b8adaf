/*
 * tls_ctx: the OpenSSL server context every TLS edge uses (spoor-collect's
 * syslog over TLS, spoor-api's HTTPS), so the protocol floor and options
 * are chosen once.
 *
 * tls_ctx_server loads the certificate chain and key files, allows TLS 1.2
 * and 1.3 only, without renegotiation or compression, with the server's
 * cipher order (OpenSSL's default list: forward-secret AEAD suites first).
 * With CLIENT_CA (a PEM file; NULL or "" for none) a client certificate
 * that verifies against it is required, or the handshake fails: mutual TLS.
 *
 * Ownership: the context is the caller's (SSL_CTX_free); arguments are
 * borrowed.  Errors: NULL with the failure in an error (lib/error.h): code
 * "tls", and the file and OpenSSL's reason as the message.
 */
#ifndef SPOOR_TLS_CTX_H
#define SPOOR_TLS_CTX_H

#include "error.h"

#include <openssl/ssl.h>

SSL_CTX *tls_ctx_server(const char *cert_file, const char *key_file, const char *client_ca,
                        error *err);
/* Sets ERR (code "tls") to "WHAT: OpenSSL's reason" for the oldest error on
 * this thread's queue; the queue is cleared. */
void tls_ctx_reason(const char *what, error *err);

#endif
