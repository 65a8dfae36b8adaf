/*
 * report_cmd: `spoor report` (see the usage text in report_cmd.c).  Acts with the
 * person's own database role; every rule is enforced by the SQL function it
 * calls, not here.  Returns the exit status (0 ok, 1 failed or refused, 2 usage).
 */
#ifndef SPOOR_REPORT_CMD_H
#define SPOOR_REPORT_CMD_H

#include "cli.h"

int report_cmd_run(cli *c, int argc, char **argv);

#endif
