/*
 * request_cmd: `spoor request create|approve|reject|list` — legal requests
 * (court orders, law-enforcement requests).  All rules (four eyes, scope,
 * states) are enforced inside PostgreSQL by SECURITY DEFINER functions; this
 * command only gathers arguments and prints answers, with the person's role.
 */
#ifndef SPOOR_REQUEST_CMD_H
#define SPOOR_REQUEST_CMD_H

#include "cli.h"

int request_cmd_run(cli *c, int argc, char **argv);

#endif
