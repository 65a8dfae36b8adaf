/*
 * db: `spoor db migrate` and `spoor db status` — numbered, forward-only
 * migrations from the sql/ folder (NNN_name.sql), each applied in its own
 * transaction and recorded in spoor_meta.migration with its SHA-256, under an
 * advisory lock so two migrators never interleave.  Applying twice is a no-op;
 * an applied file whose content changed is reported, never re-run.
 */
#ifndef SPOOR_DB_H
#define SPOOR_DB_H

#include "cli.h"

int db_run(cli *c, int argc, char **argv);

#endif
