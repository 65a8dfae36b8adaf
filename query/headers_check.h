/*
 * headers_check: the part of `trace headers` that the CLI and spoor-api
 * share — which Received: hops claim one of our MTAs (trace.our_mta_hosts:
 * a hop is ours if its "by" name equals an entry, or starts with an entry
 * followed by a dot), in the JSON spoor.trace_headers takes, and the verdict
 * from its answer: sent_by_subscriber, forged_our_headers, not_through_us,
 * or backscatter for a bounce of a message that never left through us.
 * Which MTAs are ours: trace.our_mta_hosts when it names any, else the hosts
 * Spoor has received MTA logs from (spoor.mta_hosts(), recorded by ingest):
 * headers_check_our_hosts picks, and the answer says which list it used.
 * headers_check_run is the whole procedure, once, for both: parse the
 * message, judge a bounce by the message it quotes, pick our MTAs, list the
 * hops claiming them, run the gated lookup (through the caller's callbacks:
 * the CLI calls SQL as the person, spoor-api through spoor.api_call), and
 * add the verdict to the answer.
 * Ownership: headers_check_hops and headers_check_run return new JSON the
 * caller decrefs.  Errors: headers_check_run returns NULL with ERR set: code
 * "bad_message" for what the caller sent (the message, not the database),
 * else the database's SQLSTATE.
 */
#ifndef SPOOR_HEADERS_CHECK_H
#define SPOOR_HEADERS_CHECK_H

#include "error.h"
#include "mailhdr.h"

#include <jansson.h>
#include <stddef.h>

/* The string member K of O, or NULL if absent or not a string. */
const char *headers_check_str(json_t *o, const char *k);

/* The list to match "by" names against: CONFIGURED if it names a host, else
 * FROM_LOGS (either may be NULL).  *SOURCE is set to "configuration" or
 * "logs".  Borrowed: the result is one of the two arguments (or ""). */
const char *headers_check_our_hosts(const char *configured, const char *from_logs,
                                    const char **source);
/* {"source": SOURCE, "hosts": [...]}: what the answer says about the list. */
json_t *headers_check_hosts_json(const char *hosts, const char *source);

json_t *headers_check_hops(const char *our_hosts, const mailhdr_msg *m);
const char *headers_check_verdict(json_t *result, size_t n_claimed, int is_bounce);

typedef struct headers_check_io {
    /* The hosts Spoor receives MTA logs from (spoor.mta_hosts()), malloc'd;
     * called only when CONFIGURED_HOSTS names none.  NULL + ERR on failure. */
    char *(*logged_hosts_cb)(void *arg, error *err);
    /* The gated lookup spoor.trace_headers(request, message_id, hops,
     * tolerance): its answer's JSON text, malloc'd, or NULL + ERR. */
    char *(*lookup_cb)(void *arg, const char *message_id, const char *hops_json, error *err);
    void *arg;
} headers_check_io;

/* What the caller may want to print beside the answer. */
typedef struct headers_check_info {
    int is_bounce;
    size_t n_received, n_claimed;
    char message_id[1000];
    char *hosts; /* malloc'd: the caller frees */
    const char *hosts_from;
} headers_check_info;

/* The answer (status ok: with verdict, bounce, our_hops_claimed and
 * our_mta_hosts added; refused: as the database gave it), or NULL + ERR. */
json_t *headers_check_run(const char *raw, size_t len, const char *configured_hosts,
                          const headers_check_io *io, headers_check_info *info, error *err);

#endif
