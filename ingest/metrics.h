/*
 * metrics: a tiny Prometheus text-format endpoint for a single-threaded
 * daemon.  The caller owns the numbers and renders them in a callback;
 * metrics_poll() serves whatever requests are waiting, without blocking, so a
 * daemon calls it from its main loop.  Loopback by default; one short
 * response per connection; a client that sends nothing within the poll is
 * simply answered (requests are not parsed beyond being HTTP).
 * Errors: metrics_open returns -1 with an error (lib/error.h): code
 * "bad_address" or "io" (port in use) and the message.
 */
#ifndef SPOOR_METRICS_H
#define SPOOR_METRICS_H

#include "buf.h"
#include "error.h"

#include <stddef.h>

typedef struct metrics {
    int fd; /* listening socket, -1 when off */
} metrics;

int metrics_open(metrics *m, const char *listen_addr, error *err);
void metrics_close(metrics *m);
/* RENDER appends the exposition text to OUT. */
void metrics_poll(metrics *m, void (*render)(void *arg, buf *out), void *arg);

#endif
