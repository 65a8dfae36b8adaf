/*
 * nat: the records in one carrier-grade NAT log line: which inside address
 * (and VRF) was given which block of ports on which public address, when,
 * and when it was given back.  Port-block allocation logs of the CGNs ISPs
 * run, and per-session logs where a CGN logs sessions:
 *
 *   juniper    Junos RT_SRC_NAT_PBA_ALLOC / _INTERIM / _RELEASE, structured
 *              syslog (internal-ip, reflexive-ip, block-port-low/high,
 *              nat-pool-name, epoch-time-64) or its plain-text form
 *   cisco      IOS XR CGN "Userbased" records, several per message:
 *              [UserbasedA - VRF - INSIDE - OUTSIDE - FIRST - LAST] (A
 *              allocates, W withdraws)
 *   a10        A10 Thunder CGN in CEF: "Nat Port Batch Pool Allocated" /
 *              "Freed" (src, sourceTranslatedAddress, sourceTranslatedPort,
 *              cn3 = the batch's last port)
 *   6wind      "NEW BLOCK" / "DEL BLOCK" lines (inside, outside, port range)
 *   nfware     "A|D VRF n INT inside EXT outside:first-last"
 *   conntrack  `conntrack -E -o timestamp` NEW / DESTROY events of NATed
 *              flows (one session each: the reply tuple's destination is
 *              the public address and port)
 *   ipfix      IPFIX / NetFlow v9 NAT event records (RFC 8158) as
 *              spoor-collect renders them (collect/ipfix.h)
 *
 * The syslog header (host, time) is lib/syslog's; nat_parse reads the
 * parts after it.  A record's time is the CGN's own when the line gives one
 * (Junos epoch-time-64, conntrack's [seconds.micros]), else INT64_MIN: the
 * caller takes the syslog time.
 *
 * Ownership: records point into the arena A (copied); the line is borrowed.
 * Errors: -1 with ERR (code "bad_nat", its message saying which field and
 * where) for a line that claims to be a NAT record and is not a valid one;
 * 0 for a line that is not a NAT record at all (kept as evidence only).
 */
#ifndef SPOOR_NAT_H
#define SPOOR_NAT_H

#include "arena.h"
#include "error.h"

#include <stddef.h>
#include <stdint.h>

#define NAT_MAX_RECORDS 16 /* a Cisco message packs up to a few records */

typedef struct nat_record {
    int kind;               /* NAT_KIND_* (build/gen/nat_kinds.h) */
    const char *vendor;     /* "juniper", "cisco", "a10", "6wind", "nfware", "conntrack" */
    int64_t ts;             /* the CGN's own time of the event, or INT64_MIN */
    const char *inside;     /* the subscriber's address */
    const char *inside_vrf; /* or NULL */
    int inside_port;        /* session logs; else -1 */
    const char *outside;    /* the public address */
    int port_lo, port_hi;   /* the block (a session: its one port) */
    int proto;              /* session logs: IP protocol; else -1 */
    const char *pool;       /* or NULL */
} nat_record;

/* The parts of a syslog line after its header (lib/syslog's slices). */
typedef struct nat_line {
    const char *app;
    size_t app_len;
    const char *msgid;
    size_t msgid_len;
    const char *sd; /* RFC 5424 STRUCTURED-DATA, raw */
    size_t sd_len;
    const char *msg;
    size_t msg_len;
} nat_line;

/* The NAT records of L (at most MAX into OUT): their number, 0 if L is no
 * NAT record, -1 with ERR if it is a malformed one. */
int nat_parse(const nat_line *l, arena *a, nat_record *out, int max, error *err);

/* Cisco's CGN syslog header, "<PRI> 1 2011 May 31 10:30:45 HOST - - NAT44 -"
 * (not RFC 5424: a space after <PRI>, and a UTC time without offset):
 * 1 with the time, the host and the rest after the host when LINE has it
 * and holds Userbased records; else 0. */
int nat_cisco_header(const char *line, size_t len, int64_t *ts, const char **host, size_t *host_len,
                     const char **rest);

/* True if LINE looks like a `conntrack -E -o timestamp` event line. */
int nat_is_conntrack(const char *line, size_t len);
/* Its record: 1, 0 for an event that is no NAT session start or end (an
 * UPDATE, an untranslated flow; OUT->ts is the line's time all the same),
 * -1 with ERR if malformed. */
int nat_parse_conntrack(const char *line, size_t len, arena *a, nat_record *out, error *err);

/* True if LINE is one of collect/ipfix's lines (an IPFIX or NetFlow v9 NAT
 * data record, or a message it could not decode). */
int nat_is_ipfix(const char *line, size_t len);
/* Its record: 1; 0 for an event that is no NAT mapping (addresses
 * exhausted...; OUT->ts set all the same); -1 with ERR: "bad_ipfix" for a
 * message the collector could not decode (its reason), "bad_nat" for a
 * record that is no valid NAT event (no natEvent, a scattered port set, no
 * addresses).  *HOST: the CGN the collector named (cgn=), in A. */
int nat_parse_ipfix(const char *line, size_t len, arena *a, nat_record *out, const char **host,
                    error *err);

#endif
