#include "audit_chain.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void audit_chain_hash(const audit_entry *e, const unsigned char *prev, size_t prev_len,
                      unsigned char out[32]) {
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    if (prev_len)
        crypto_hash_sha256_update(&st, prev, prev_len);
    char seq[32];
    snprintf(seq, sizeof seq, "%lld", e->seq);
    const char *parts[] = {seq,        e->at,     e->actor,   e->action,
                           e->request, e->params, e->outcome, e->digest};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if (i)
            crypto_hash_sha256_update(&st, (const unsigned char *)"\x1f", 1);
        crypto_hash_sha256_update(&st, (const unsigned char *)parts[i], strlen(parts[i]));
    }
    crypto_hash_sha256_final(&st, out);
}

int audit_chain_verify(const audit_entry *e, size_t n, error *err) {
    const unsigned char *prev = NULL;
    size_t prev_len = 0;
    for (size_t i = 0; i < n; i++) {
        if (e[i].seq != (long long)i + 1) {
            error_set(err, "bad_seq", 0,
                      "entry %zu has sequence number %lld, expected %zu: an entry was "
                      "deleted or the trail reordered",
                      i + 1, e[i].seq, i + 1);
            return -1;
        }
        if (e[i].prev_len != prev_len || (prev_len && memcmp(e[i].prev, prev, prev_len) != 0)) {
            error_set(err, "bad_link", 0,
                      "entry %lld does not link to entry %lld (prev_hash differs)", e[i].seq,
                      e[i].seq - 1);
            return -1;
        }
        unsigned char h[32];
        audit_chain_hash(&e[i], prev, prev_len, h);
        if (memcmp(h, e[i].hash, 32) != 0) {
            error_set(err, "altered", 0,
                      "entry %lld (%s by %s at %s) was altered: its hash does not match "
                      "its content",
                      e[i].seq, e[i].action, e[i].actor, e[i].at);
            return -1;
        }
        prev = e[i].hash;
        prev_len = 32;
    }
    return 0;
}

void audit_checkpoint_message(long long seq, const unsigned char hash[32], char *out, size_t n) {
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, hash, 32);
    snprintf(out, n, "spoor-audit-checkpoint v1 %lld %s", seq, hex);
}

int audit_key_read(const char *path, unsigned char *key, size_t keylen, int secret, error *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error_set(err, "io", 0, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || (secret && (st.st_mode & 077))) {
        error_set(err, "key_mode", 0,
                  "%s: a secret key file must not be readable by group or others "
                  "(chmod 0400)",
                  path);
        close(fd);
        return -1;
    }
    char hex[300];
    ssize_t r = read(fd, hex, sizeof hex - 1);
    close(fd);
    if (r <= 0) {
        error_set(err, "bad_key", 0, "%s: empty", path);
        return -1;
    }
    hex[r] = '\0';
    size_t bin_len;
    if (sodium_hex2bin(key, keylen, hex, (size_t)r, " \r\n", &bin_len, NULL) != 0 ||
        bin_len != keylen) {
        error_set(err, "bad_key", 0, "%s: not a %zu-byte hex key", path, keylen);
        return -1;
    }
    return 0;
}
