/*
 * package: a disclosure package on disk — files written under a new folder,
 * each recorded with its size and SHA-256 in manifest.json, and an Ed25519
 * signature (libsodium, detached, hex) over the manifest's exact bytes in
 * manifest.sig.  Checking it needs only the folder and the public key, so a
 * court or the requesting authority can verify offline.
 *
 * The same package can instead be written as a tar archive in memory
 * (package_open_tar: POSIX ustar, everything under one folder ROOT/), for
 * spoor-api to send to the web console as a download; unpacked, it is the
 * same folder and verifies the same way.
 *
 * Ownership: package_open copies DIR; package_write copies nothing it is
 * given; package_close frees everything.  Files are created 0600 in a 0700
 * folder: the package holds personal data.
 *
 * Errors: functions return 0, or -1 with the failure in an error
 * (lib/error.h): a code ("io", "exists", "bad_name", "too_long") and the
 * message "path: what".
 * package_verify returns the number of problems found (0: intact) and writes
 * one line per problem, naming the file, into PROBLEMS.
 */
#ifndef SPOOR_PACKAGE_H
#define SPOOR_PACKAGE_H

#include "buf.h"
#include "error.h"

#include <jansson.h>
#include <stddef.h>

#define PACKAGE_FORMAT "spoor-disclosure-package/1"

typedef struct package {
    char *dir;                /* the folder, or (tar) the archive's root folder name */
    buf *tar;                 /* the archive being written, or NULL */
    json_t *dirs;             /* (tar) sub-folders already in the archive */
    long long now;            /* (tar) the files' modification time, seconds */
    json_t *files;            /* [{"name", "bytes", "sha256"}] in the order written */
    char manifest_sha256[65]; /* hex, once sealed */
} package;

/* Creates DIR (it must not exist, or be an empty folder). */
int package_open(package *p, const char *dir, error *err);
/* A package written into TAR (initialised by the caller, appended to) under
 * the folder ROOT (a plain name), files dated NOW (seconds since 1970). */
void package_open_tar(package *p, const char *root, buf *tar, long long now);
/* Ends the archive (after package_seal): its two zero blocks. */
void package_tar_end(package *p);
/* Writes NAME (a relative path of at most one sub-folder, no "..") with DATA. */
int package_write(package *p, const char *name, const void *data, size_t len, error *err);
/* Writes manifest.json (META's members plus "format" and "files") and
 * manifest.sig, signed with the 64-byte Ed25519 secret key SK. */
int package_seal(package *p, json_t *meta, const unsigned char sk[64], error *err);
void package_close(package *p);

/* Checks DIR against its manifest and PK: the signature, every file's size
 * and SHA-256, missing files and files the manifest does not list.  On
 * success *MANIFEST (if not NULL) gets the parsed manifest (caller decrefs). */
int package_verify(const char *dir, const unsigned char pk[32], json_t **manifest, buf *problems);
/* Reads DIR/NAME whole (NUL-terminated); NULL with ERR set on failure.  Caller frees. */
char *package_read(const char *dir, const char *name, size_t *len, error *err);

#endif
