/*
 * retention_cmd: `spoor retention policy [set CLASS KEEP [--note TEXT]]` shows
 * or (admin) changes the retention policy, through the SQL functions that
 * enforce and audit it; `spoor retention run|maintain|plan ...` runs
 * spoor-retention, the program that drops partitions.  Returns the exit
 * status (0 ok, 1 failed or refused, 2 usage).
 */
#ifndef SPOOR_RETENTION_CMD_H
#define SPOOR_RETENTION_CMD_H

#include "cli.h"

int retention_cmd_run(cli *c, int argc, char **argv);

#endif
