/*
 * timeutil: instants, RFC 3339, and civil time in named IANA zones.
 *
 * An instant is an int64_t count of microseconds since 1970-01-01T00:00:00Z
 * (the resolution of PostgreSQL's timestamptz).  Civil (wall-clock) time in a
 * zone is converted with the system tz database (/usr/share/zoneinfo), so DST
 * rules are the real ones.  A wall-clock time can name zero instants (the
 * spring-forward gap) or two (the fall-back overlap); timeutil_local_to_utc
 * reports both candidates so the caller can refuse or choose explicitly.
 *
 * Thread-safe: each zone is read once from its TZif file (RFC 8536: the
 * transitions, then the POSIX rule of the file's footer) and kept immutable
 * for the life of the process; the C library's TZ is never touched, so
 * conversions in any zones may run on any number of threads at once.
 * Functions return 0 on success and -1 on failure with the failure in an
 * error (lib/error.h): a code ("bad_time", "bad_zone", "no_offset",
 * "ambiguous_time", "no_such_time", "too_long") and the message.
 */
#ifndef SPOOR_TIMEUTIL_H
#define SPOOR_TIMEUTIL_H

#include "error.h"

#include <stddef.h>
#include <stdint.h>

#define TIMEUTIL_US 1000000LL
#define TIMEUTIL_RFC3339_MAX 40

typedef struct timeutil_civil {
    int year, month, day;     /* month 1..12, day 1..31 */
    int hour, minute, second; /* second 0..60 (a leap second is folded into :59) */
    int usec;                 /* 0..999999 */
} timeutil_civil;

/* Result of converting a wall-clock time in a zone. */
typedef struct timeutil_local {
    int n;           /* 1: unique; 2: ambiguous (overlap); 0: does not exist (gap) */
    int64_t cand[2]; /* n==1: cand[0]; n==2 or n==0: the instants under the offsets
                        before and after the transition (earlier first) */
} timeutil_local;

/* Days since 1970-01-01 for a proleptic Gregorian date, and back. */
int64_t timeutil_days_from_civil(int y, int m, int d);
void timeutil_civil_from_days(int64_t days, int *y, int *m, int *d);

/* Days in month M (1..12) of year Y (proleptic Gregorian); 0 for a bad M. */
int timeutil_days_in_month(int y, int m);

/* Instant of a civil time taken as UTC.  Fields are validated. */
int timeutil_civil_to_utc(const timeutil_civil *c, int64_t *out, error *err);
void timeutil_utc_to_civil(int64_t t, timeutil_civil *c);

/* True if ZONE names a zone in the system tz database ("UTC" always does). */
int timeutil_zone_valid(const char *zone);

/* Offset from UTC in seconds in effect in ZONE at instant T. */
int timeutil_zone_offset(const char *zone, int64_t t, int *offset_s, error *err);

/* Formats instant T (whole seconds, rounded down) as wall-clock time in ZONE
 * with strftime(3) FMT into BUF of N bytes, e.g. ctime's "%a %b %e %H:%M:%S %Y"
 * or "%b %e %Y %H:%M:%S %Z" (the zone's abbreviation at T, as FreeRADIUS
 * prints dates). */
int timeutil_strftime(const char *zone, int64_t t, const char *fmt, char *buf, size_t n,
                      error *err);

/* The abbreviation ZONE uses at instant T ("CET", "CEST", "+0545"). */
int timeutil_zone_abbrev(const char *zone, int64_t t, char *buf, size_t n, error *err);

/* Wall-clock time C in ZONE to instants (see timeutil_local). */
int timeutil_local_to_utc(const char *zone, const timeutil_civil *c, timeutil_local *out,
                          error *err);

/* Parses "YYYY-MM-DD[T ]hh:mm[:ss[.frac]](Z|±hh:mm|±hhmm)".  With ZONE non-NULL a
 * missing offset is allowed and the time is taken in ZONE; an ambiguous or
 * non-existent local time is then an error naming both candidates. */
int timeutil_parse(const char *s, const char *zone, int64_t *out, error *err);

/* Formats T as RFC 3339 UTC ("2026-11-25T12:00:00Z", or with .ffffff if
 * sub-second).  BUF must hold TIMEUTIL_RFC3339_MAX bytes.  Returns BUF. */
char *timeutil_format(int64_t t, char *buf);

/* The current instant. */
int64_t timeutil_now(void);

#endif
