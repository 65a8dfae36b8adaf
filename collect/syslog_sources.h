/*
 * syslog_sources: which peers may send syslog to spoor-collect, and which
 * host names each may speak for (collect.syslog_sources).  A court relies on
 * a line being what our MTA said; anyone who could reach the syslog port
 * could otherwise write a line "as smtp1".
 *
 *   collect.syslog_sources = 192.0.2.25=smtp1|smtp2, 198.51.100.0/28=*
 *
 * Each entry is an address or CIDR prefix (IPv4 or IPv6), "=", and the host
 * names it may use, separated by "|", or "*" for any.  A name matches a
 * line's host case-insensitively, in full or by its first label (smtp1
 * matches smtp1.isp.example and the other way round).  The first entry
 * whose prefix holds the peer applies.
 *
 * Ownership: syslog_sources_parse fills a caller-owned table (no heap).
 * Errors come in an error (lib/error.h): a code ("too_long", "bad_entry",
 * "too_many", "bad_address", "bad_names", "no_host") and a message naming
 * the entry.  Pure: no I/O, no globals.
 */
#ifndef SPOOR_SYSLOG_SOURCES_H
#define SPOOR_SYSLOG_SOURCES_H

#include "error.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SYSLOG_SOURCES_MAX 128
#define SYSLOG_SOURCES_NAMES 16

typedef struct syslog_source {
    uint8_t addr[16]; /* IPv4 mapped into IPv6 */
    int bits;         /* prefix length over the 128 bits */
    int any;          /* "*": any host name */
    int n_names;
    char names[SYSLOG_SOURCES_NAMES][64];
} syslog_source;

typedef struct syslog_sources {
    syslog_source s[SYSLOG_SOURCES_MAX];
    int n;
} syslog_sources;

/* Parses SPEC into OUT; 0, or -1 with a message naming the bad entry. */
int syslog_sources_parse(const char *spec, syslog_sources *out, error *err);
/* The entry for PEER, or NULL: a peer that may not send at all. */
const syslog_source *syslog_sources_find(const syslog_sources *s, const struct sockaddr *peer);
/* May SRC send lines naming HOST (NULL or empty: a line naming none)? */
int syslog_sources_may_speak(const syslog_source *src, const char *host);

#endif
