/*
 * ipfix: a carrier-grade NAT's IPFIX (RFC 7011) and NetFlow v9 (RFC 3954)
 * NAT event logging (RFC 8158 information elements) into text lines, one
 * per data record, that go to Kafka (kafka.topic.nat) like the CGN's
 * syslog lines and are read by ingest/nat's nat_parse_ipfix.
 *
 * A line is the decoded record, every field, with where it came from:
 *
 *   IPFIX v10 cgn=NAME exporter=ADDR:PORT domain=D seq=S export=T
 *         template=N event=allocated natEvent=16 sourceIPv4Address=...
 *
 * known fields by their IANA names, others as eNNN=HEX (ENT/eNNN for an
 * enterprise's).  `event` is this collector's reading of natEvent under the
 * exporter's profile, because vendors number it differently:
 *   iana   RFC 8158 / IANA: 16/17 port block allocated / released, 4/5
 *          NAT44 and 6/7 NAT64 session create / delete, 1/2 the historic
 *          create / delete
 *   junos  Juniper MX (draft-ietf-behave-ipfix-nat-logging-02): 14/15 port
 *          block allocated / released, 16 port block still active
 *          (interim), 1/2 and 4/5 session create / delete
 * Any other value is event=other (kept as evidence, no NAT record); a
 * record with no natEvent is event=none.
 *
 * Templates (and options templates) are kept per exporter (address and
 * port: a transport session), version, observation domain (v9: source id)
 * and template id, at most IPFIX_MAX_TEMPLATES per exporter address however
 * many source ports it uses; a data set whose template is not known
 * (yet) is counted, not guessed.  Sequence numbers are followed per
 * exporter and domain: IPFIX counts data records, v9 counts packets; a
 * gap is counted as lost.
 *
 * A message that is not valid IPFIX or v9 (truncated, a set longer than
 * the message, a template with no fields...) is rendered as one line
 * "IPFIX-INVALID cgn=... exporter=... data=HEX reason=WORDS" so that ingest
 * quarantines it with its reason: nothing received is dropped unseen.
 *
 * Ownership: the state owns its templates; lines passed to the callback
 * are valid during the call only.  Not thread-safe (one state per loop).
 * Errors (ipfix_exporters_parse) come in an error (lib/error.h): a code
 * ("bad_entry", "bad_address", "bad_name", "too_long", "bad_profile",
 * "duplicate") and a message naming the entry.
 */
#ifndef SPOOR_IPFIX_H
#define SPOOR_IPFIX_H

#include "error.h"

#include <stddef.h>
#include <stdint.h>

#define IPFIX_MAX_TEMPLATES                                                                        \
    1024                   /* per exporter address: a bound on what a peer can make us keep        \
                            */
#define IPFIX_MAX_SEQ 4096 /* transport sessions whose sequence numbers are followed */

typedef enum { IPFIX_PROFILE_IANA, IPFIX_PROFILE_JUNOS } ipfix_profile;

typedef struct ipfix_stats {
    long long messages;    /* messages decoded */
    long long invalid;     /* messages rendered as IPFIX-INVALID */
    long long templates;   /* template records read */
    long long records;     /* data records read */
    long long nat_records; /* of which rendered as NAT lines */
    long long no_template; /* data sets skipped: template not known (yet) */
    long long lost;        /* IPFIX: data records, v9: packets, missing by sequence */
} ipfix_stats;

typedef struct ipfix_state ipfix_state;

ipfix_state *ipfix_state_new(void);
void ipfix_state_free(ipfix_state *s);

typedef void (*ipfix_line_cb)(void *arg, const char *line, size_t len);

/* Decodes message P (N bytes) received from EXPORTER ("ADDR:PORT"), the
 * CGN called NAME, under PROFILE: LINE_CB for each NAT data record's line
 * (or the one IPFIX-INVALID line), counts into S's stats.  Returns the
 * number of lines given to LINE_CB. */
int ipfix_decode(ipfix_state *s, const char *exporter, const char *name, ipfix_profile profile,
                 const uint8_t *p, size_t n, ipfix_line_cb line_cb, void *arg);

const ipfix_stats *ipfix_state_stats(const ipfix_state *s);

/* "iana" or "junos" into *OUT: 0, or -1 if neither. */
int ipfix_profile_parse(const char *s, ipfix_profile *out);

/* The exporters that may send (collect.ipfix_exporters):
 * "ADDRESS=NAME:PROFILE,..."; NAME is the CGN as its logs and Spoor's
 * deterministic configurations name it.  Anything else is refused. */
typedef struct ipfix_exporter {
    char addr[48]; /* normalised (inet_ntop) */
    char name[128];
    ipfix_profile profile;
} ipfix_exporter;

/* Parses SPEC into a new array (*OUT, *N; the caller frees it): 0, or -1
 * with ERR naming the entry. */
int ipfix_exporters_parse(const char *spec, ipfix_exporter **out, int *n, error *err);
/* The exporter whose address is ADDR (a numeric address, no port), or NULL. */
const ipfix_exporter *ipfix_exporters_find(const ipfix_exporter *e, int n, const char *addr);

#endif
