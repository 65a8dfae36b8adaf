/*
 * subscribers_cmd: `spoor subscribers` (see the usage text in subscribers_cmd.c).  Acts with the
 * person's own database role; every rule is enforced by the SQL function it
 * calls, not here.  Returns the exit status (0 ok, 1 failed or refused, 2 usage).
 */
#ifndef SPOOR_SUBSCRIBERS_CMD_H
#define SPOOR_SUBSCRIBERS_CMD_H

#include "cli.h"

int subscribers_cmd_run(cli *c, int argc, char **argv);

#endif
