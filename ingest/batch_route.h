/*
 * batch_route: what a batch does with each record it is given: parse it
 * (syslog, Postfix, Exim, FreeRADIUS detail), route it to its rows and its
 * evidence block, or quarantine it with its reason and position (too long,
 * not UTF-8, a host its peer may not speak for, past retention, a parser's
 * refusal).  Every record is kept verbatim in an evidence block either way.
 *
 * Ownership: the batch owns what is added (copied into its arena).
 * Errors: none returned; a bad record is quarantined, never dropped.
 */
#ifndef SPOOR_BATCH_ROUTE_H
#define SPOOR_BATCH_ROUTE_H

#include "batch_state.h"
#include "error.h"

#include <stddef.h>

/* Adds IN to B; with FORCE_REASON it is quarantined for that reason
 * (FORCE_DETAIL beside it) whatever it holds. */
void batch_route_add(batch *b, const batch_input *in, const char *force_reason,
                     const char *force_detail);
/* Moves every line of a block now before its kind's retention horizon
 * (learnt at the commit, or moved since the line was added) to quarantine as
 * past_retention, and drops the block and the rows that pointed into it; no
 * record is parsed again.  Returns the number of records moved. */
int batch_route_expire(batch *b);
/* Counts one more quarantined record for REASON. */
void batch_route_count_reason(batch *b, const char *reason);
/* ingest.host_zones ("host=Zone,...") into B's table; -1 + ERR if bad. */
int batch_route_zones_parse(batch *b, const char *spec, error *err);
/* The zone of HOST (LEN bytes) in B's table (ARG), or NULL. */
const char *batch_route_zone_cb(void *arg, const char *host, size_t len);

#endif
