/*
 * audit_chain: recompute and check Spoor's audit trail outside the database,
 * so a verifier trusts neither PostgreSQL nor the functions that wrote it.
 *
 * Each entry's hash is SHA-256(prev_hash || canonical encoding), the encoding
 * being its fields joined by U+001F: seq, time (RFC 3339 UTC with
 * microseconds), actor, action, request id (or empty), parameters (jsonb
 * text), outcome, result digest (or empty) — exactly as
 * spoor.audit_entry_hash in sql/functions/audit.sql.  The first entry's
 * prev_hash is empty.
 *
 * Checkpoints: an Ed25519 signature (libsodium) over "spoor-audit-checkpoint
 * v1 SEQ HASHHEX", made with a secret key file (mode 0400, never in the
 * database or argv).  Verification against a checkpoint detects an entry
 * altered at or before it, and a trail cut off before it.
 * Errors: -1 with the failure in an error (lib/error.h): a code (the chain:
 * "bad_seq", "bad_link", "altered"; a key file: "io", "key_mode", "bad_key")
 * and a message naming the first broken link or the key file.
 */
#ifndef SPOOR_AUDIT_CHAIN_H
#define SPOOR_AUDIT_CHAIN_H

#include "error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct audit_entry {
    long long seq;
    const char *at; /* RFC 3339 UTC with microseconds, as encoded */
    const char *actor, *action, *request, *params, *outcome, *digest; /* "" when NULL */
    unsigned char prev[32], hash[32];
    size_t prev_len; /* 0 for the first entry */
} audit_entry;

/* Hash of E given PREV (PREV_LEN 0 or 32 bytes). */
void audit_chain_hash(const audit_entry *e, const unsigned char *prev, size_t prev_len,
                      unsigned char out[32]);

/* Checks N entries in sequence order.  Returns 0, or -1 with the first broken
 * link described in ERR. */
int audit_chain_verify(const audit_entry *e, size_t n, error *err);

typedef struct audit_checkpoint {
    long long seq;
    unsigned char hash[32];
    unsigned char sig[64];
} audit_checkpoint;

void audit_checkpoint_message(long long seq, const unsigned char hash[32], char *out, size_t n);
int audit_key_read(const char *path, unsigned char *key, size_t keylen, int secret, error *err);

#endif
