/*
 * etsi_rd: the results of a disclosure request as an ETSI TS 102 657
 * ("Retained data handling; Handover interface for the request and delivery
 * of retained data") XML answer, encoded as the module RDMessage's XER:
 *
 *   RetainedDataMessage
 *     rdHeaderId          ETSI_RD_OID, the module's object identifier
 *     retainedDataHeader  requestID (country, authorised organisation,
 *                         request number = the case reference), cSPID,
 *                         timeStamp
 *     retainedDataPayload/responseMessage
 *       responseStatus    responseComplete
 *       responsePayload   one ResponseRecord per distinct result, numbered
 *                         from 1: a networkAccessRecord/naServiceUsage per
 *                         subscriber session, a messageRecord/
 *                         msgServiceUsage/msgTransmission per submission
 *
 * legal/README.md maps every field and says which definitions were read in
 * the module's own text and which could not be (legal/etsi-102657-spoor.xsd,
 * the schema the tests validate every package against, says the same per
 * element).  Facts the module gives no verified place to (queue IDs, the
 * client port, the NAS's attributes, evidence digests) are "Key"="Value"
 * pairs in additionalInformation/otherInformation, keys in the README.
 *
 * A session or submission reached by two lookups (a Message-ID lookup and an
 * IP lookup of the same client, say) is one record.  serverID, our MTA's
 * address, is the syslog peer its log line arrived from (evidence "peer"),
 * else the host's address in etsi_rd_header.mta_addresses; without either it
 * is left out, as is Postfix's client name "unknown".
 *
 * Ownership: borrows everything; appends to OUT.  No errors: missing fields
 * are left out.
 */
#ifndef SPOOR_ETSI_RD_H
#define SPOOR_ETSI_RD_H

#include "buf.h"

#include <jansson.h>
#include <stdint.h>

/* The release whose namespace we declare, and its module's identifier. */
#define ETSI_RD_RELEASE "1.28.1"
#define ETSI_RD_NS "http://uri.etsi.org/02657/v1.28.1#/RetainedData"
#define ETSI_RD_OID "0.4.0.2.3.0.26"

typedef struct etsi_rd_header {
    const char *country;      /* ISO 3166-1 alpha-2 */
    const char *organisation; /* the requesting authority */
    const char *request;      /* its request number (our case reference) */
    const char *csp_id;
    const char *mta_addresses; /* "host=address,..." (legal.mta_addresses), or NULL */
    int64_t now;               /* a timeutil instant (timeutil_now()) */
} etsi_rd_header;

/* RESULTS: an array of kept results (the parsed result documents of trace.ip,
 * trace.message_id, trace.headers and trace.user; others are skipped). */
void etsi_rd_render(buf *out, const etsi_rd_header *h, json_t *results);

#endif
