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
 * Ownership: headers_check_hops returns a new JSON array the caller decrefs.
 */
#ifndef SPOOR_HEADERS_CHECK_H
#define SPOOR_HEADERS_CHECK_H

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

#endif
