/*
 * tls_stream: the server side of one TLS connection over any byte stream
 * (RFC 5425 syslog over TLS), with OpenSSL's memory BIOs, so the caller's
 * event loop (libuv) owns the socket: ciphertext in, plaintext to a
 * callback, ciphertext to send appended to a buffer.
 *
 * The server context comes from lib/tls_ctx.h (mutual TLS for syslog).
 *
 * Ownership: streams are the caller's (tls_stream_free); arguments are borrowed.  Errors: functions
 * that fail return NULL or -1 with an error (lib/error.h: code "tls", a message with OpenSSL's
 * reason included) in ERR.
 */
#ifndef SPOOR_TLS_STREAM_H
#define SPOOR_TLS_STREAM_H

#include "buf.h"
#include "error.h"

#include <openssl/ssl.h>
#include <stddef.h>

typedef struct tls_stream tls_stream;

tls_stream *tls_stream_new(SSL_CTX *ctx);
void tls_stream_free(tls_stream *t);

/* Feeds N received bytes.  Decrypted application data goes to PLAIN_CB;
 * bytes to send back (handshake, alerts) are appended to OUT.  Returns 0,
 * 1 when the peer closed the session (close_notify), or -1 with ERR (a
 * failed handshake: no client certificate, one that does not verify). */
int tls_stream_feed(tls_stream *t, const void *in, size_t n,
                    void (*plain_cb)(void *arg, const char *p, size_t n), void *arg, buf *out,
                    error *err);
/* After the handshake: the client certificate's subject, one line. */
const char *tls_stream_peer_subject(const tls_stream *t);

#endif
