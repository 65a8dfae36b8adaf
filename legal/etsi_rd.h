/*
 * etsi_rd: the results of a disclosure request as an ETSI TS 102 657
 * ("Retained data handling; Handover interface for the request and delivery
 * of retained data") XML answer: a RetainedDataMessage whose
 * retainedDataHeader carries the requestID (country code, authorised
 * organisation, request number = the case reference) and our CSP ID, and
 * whose payload holds one ResponseRecord per result — a networkAccessRecord
 * (naServiceUsage) for each subscriber session, a msgTransmission for each
 * e-mail submission.
 *
 * What is and is not checked against the standard: element names, nesting,
 * the namespace (v1.28.1), GeneralizedTime "YYYYMMDDhhmmssZ" times and
 * iPTextAddress were read from ETSI's ASN.1 module and a third-party reader
 * of real exports; the names inside naServiceUsage after naAccessTime and
 * the response wrapper were not (the XSD was not reachable here), so the
 * session's details are also given, unambiguously, as "Key"="Value" pairs in
 * additionalInformation/otherInformation, the way national exports do.
 *
 * Ownership: borrows everything; appends to OUT.  No errors: missing fields
 * are left out.
 */
#ifndef SPOOR_ETSI_RD_H
#define SPOOR_ETSI_RD_H

#include "buf.h"

#include <jansson.h>
#include <stdint.h>

#define ETSI_RD_NS "http://uri.etsi.org/02657/v1.28.1#/RetainedData"

typedef struct etsi_rd_header {
    const char *country;      /* ISO 3166-1 alpha-2 */
    const char *organisation; /* the requesting authority */
    const char *request;      /* its request number (our case reference) */
    const char *csp_id;
    int64_t now; /* a timeutil instant (timeutil_now()) */
} etsi_rd_header;

/* RESULTS: an array of kept results (the parsed result documents of trace.ip,
 * trace.message_id and trace.headers; others are skipped). */
void etsi_rd_render(buf *out, const etsi_rd_header *h, json_t *results);

#endif
