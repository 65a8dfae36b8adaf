/*
 * md5: the MD5 message digest (RFC 1321), written from the RFC.
 *
 * MD5 is here because the RADIUS protocol requires it (RFC 2865 §3 and
 * RFC 2866 §3 define the Request and Response Authenticators with it), not
 * because Spoor chose it: MD5 is broken for collision resistance and must not
 * be used for anything Spoor designs itself (evidence and audit use SHA-256).
 * None of the libraries the Makefile links (libpq, librdkafka, zstd, libuv,
 * jansson, libsodium, zlib) exposes MD5 as a public function, and linking
 * OpenSSL for one digest would be a new dependency.
 *
 * Pure: no allocation, no I/O, no globals; a context is owned by its caller
 * (usually on the stack).  No function here can fail.
 */
#ifndef SPOOR_MD5_H
#define SPOOR_MD5_H

#include <stddef.h>
#include <stdint.h>

#define MD5_DIGEST_LEN 16

typedef struct md5_ctx {
    uint32_t state[4];
    uint64_t bytes;          /* message length so far */
    unsigned char block[64]; /* the unfinished 64-byte block */
} md5_ctx;

void md5_init(md5_ctx *c);
void md5_update(md5_ctx *c, const void *p, size_t n);
void md5_final(md5_ctx *c, uint8_t out[MD5_DIGEST_LEN]); /* C must be re-initialised after */

/* One-shot digest of [P, P + N). */
void md5(const void *p, size_t n, uint8_t out[MD5_DIGEST_LEN]);

/* HMAC-MD5 (RFC 2104) of [P, P + N) under KEY (RADIUS's Message-Authenticator,
 * RFC 3579 §3.2).  A key longer than the 64-byte block is hashed first. */
void md5_hmac(const void *key, size_t key_len, const void *p, size_t n,
              uint8_t out[MD5_DIGEST_LEN]);

#endif
