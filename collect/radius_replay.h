/*
 * radius_replay: refusing replayed RADIUS Accounting-Requests at the edge.
 *
 * A captured Accounting-Request stays valid for ever: its authenticator is
 * an MD5 over the packet and the shared secret, so the same bytes sent again
 * later verify again, and without an Event-Timestamp the record's time is
 * the arrival time, so a replay stretches an old session over a new instant.
 * spoor-collect answers a retransmission inside its short dedup window and
 * refuses the same packet later by two checks:
 *
 *   - skew: a packet with Event-Timestamp must arrive when it says, within
 *     collect.radius_max_skew: arrival ~ Event-Timestamp + Acct-Delay-Time
 *     (RFC 2869 5.3, RFC 2866 5.2; the NAS updates Acct-Delay-Time on each
 *     new attempt).  One that arrives later (or from the future) is stale.
 *   - seen: the NAS address and Request Authenticator of every request Kafka
 *     acknowledged are kept for collect.radius_replay_keep, in memory and in
 *     an append-only file in collect.state_dir, so a restart forgets none.
 *     A packet without Event-Timestamp is refused only by this record, so it
 *     is kept much longer than the skew; the skew must be shorter than the
 *     keep (spoor-collect refuses to start otherwise), so a replay is caught
 *     by one check or the other however late it comes.
 *
 * Ownership: radius_replay_open returns a store the caller frees with
 * radius_replay_free; addresses and authenticators are borrowed.  Errors:
 * open returns NULL with an error (lib/error.h: code "io", a message naming
 * the file); an append that fails is
 * reported by radius_replay_add (-1, errno kept) and the entry stays in
 * memory.  Allocation failure aborts.
 */
#ifndef SPOOR_RADIUS_REPLAY_H
#define SPOOR_RADIUS_REPLAY_H

#include "error.h"
#include "radius_pkt.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct radius_replay radius_replay;

/* Loads PATH (created if absent), keeping the entries younger than KEEP_US
 * at NOW_US, and rewrites it with only those. */
radius_replay *radius_replay_open(const char *path, int64_t keep_us, int64_t now_us, error *err);
void radius_replay_free(radius_replay *r);

/* Has NAS sent a request with authenticator AUTH in the last KEEP_US? */
int radius_replay_seen(const radius_replay *r, const struct sockaddr *nas, const uint8_t *auth,
                       int64_t now_us);
/* Records it (memory, then the file).  0, or -1 if the file write failed. */
int radius_replay_add(radius_replay *r, const struct sockaddr *nas, const uint8_t *auth,
                      int64_t now_us);
/* fsyncs what was appended since the last call. */
void radius_replay_sync(radius_replay *r);
size_t radius_replay_count(const radius_replay *r);

/* The skew check: 1 if PK carries Event-Timestamp and arrives at NOW_US more
 * than MAX_SKEW_US away from Event-Timestamp + Acct-Delay-Time (*EVENT_US is
 * set to the Event-Timestamp then), 0 otherwise; *HAS_EVENT says whether it
 * carries one. */
int radius_replay_stale(const radius_pkt *pk, int64_t now_us, int64_t max_skew_us,
                        int64_t *event_us, int *has_event);

#endif
