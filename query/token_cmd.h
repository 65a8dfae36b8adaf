/*
 * token_cmd: `spoor token create [--days N]` — a bearer token for spoor-api,
 * for the person running the command.  The token is printed once; only its
 * SHA-256 is stored (spoor.api_token_create).
 */
#ifndef SPOOR_TOKEN_CMD_H
#define SPOOR_TOKEN_CMD_H

#include "cli.h"

int token_cmd_run(cli *c, int argc, char **argv);

#endif
