/*
 * disclosure: a request's disclosure package made from what the database
 * kept of it (spoor.request_export's answer): request.json, one
 * results/SEQ-ACTION.json per lookup (byte for byte what its audit entry's
 * digest covers), results.csv, evidence.json (each verbatim line once, with
 * its block's SHA-256), audit.json, retained-data.xml (ETSI TS 102 657,
 * etsi_rd.h), then the signed manifest (package.h).
 *
 * Written once for `spoor request export` (into a folder) and for the web
 * console's download from spoor-api (into a tar archive): the same files,
 * signed the same way, verified by the same `spoor verify-package`.
 *
 * Ownership: X, O and SK are borrowed; P is the caller's, open, and is
 * sealed here.  Errors: -1 with ERR set (code "package"), 0 on success.
 */
#ifndef SPOOR_DISCLOSURE_H
#define SPOOR_DISCLOSURE_H

#include "error.h"
#include "package.h"

#include <jansson.h>
#include <stddef.h>

typedef struct disclosure_opts {
    const char *country, *csp_id, *mta_addresses; /* legal.country, legal.csp_id, ... */
} disclosure_opts;

typedef struct disclosure_stats {
    size_t files, results, evidence;
    char public_key[65]; /* hex */
} disclosure_stats;

/* True if X is an export answer with status "ok"; else REASON (borrowed
 * from X, or a fixed text) says why not. */
int disclosure_ok(json_t *x, const char **reason);
int disclosure_build(package *p, json_t *x, const disclosure_opts *o, const unsigned char sk[64],
                     disclosure_stats *st, error *err);

#endif
