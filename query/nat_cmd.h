/*
 * nat_cmd: `spoor nat config add FILE --valid-from T | list` — versions of
 * a carrier-grade NAT's deterministic configuration (RFC 7422), the
 * evidence a lookup through that CGN rests on (sql/021_nat_config.sql).
 * The file is sent to PostgreSQL as it is, byte for byte: it is parsed and
 * checked there (spoor.nat_config_parse), stored with its SHA-256, and
 * takes a second admin (`spoor admin confirm`).  Exit 0 done or recorded for
 * a second admin, 1 refused or failed, 2 usage.
 */
#ifndef SPOOR_NAT_CMD_H
#define SPOOR_NAT_CMD_H

#include "cli.h"

int nat_cmd_run(cli *c, int argc, char **argv);

#endif
