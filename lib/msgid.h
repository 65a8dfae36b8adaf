/*
 * msgid: the one canonical form of an RFC 5322 Message-ID, used alike when a
 * log line is stored and when an analyst looks one up, so the two always meet.
 *
 * Canonical form: surrounding white space and one pair of angle brackets
 * removed; the part after the last '@' (the domain, case-insensitive per
 * RFC 5321/5322) lowercased; the local part kept byte for byte (it is
 * case-sensitive).  An ID without '@' is kept as it is, less brackets.
 * Returns the length written to OUT (which must hold LEN+1 bytes); 0 for an
 * empty ID.
 */
#ifndef SPOOR_MSGID_H
#define SPOOR_MSGID_H

#include <stddef.h>

size_t msgid_normalize(const char *in, size_t len, char *out);

#endif
