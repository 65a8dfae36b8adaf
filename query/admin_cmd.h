/*
 * admin_cmd: `spoor admin list | confirm ID | reject ID --note TEXT` — the
 * second admin's half of a two-admin change (sql/functions/people.sql):
 * granting approver, admin, auditor, retention or ingest, shortening a
 * retention policy, overwriting stored subscriber identities, recording a
 * deterministic NAT configuration (spoor nat config add).  The rule
 * lives in PostgreSQL; this only calls it.  Exit 0 done, 1 refused or
 * failed, 2 usage.
 */
#ifndef SPOOR_ADMIN_CMD_H
#define SPOOR_ADMIN_CMD_H

#include "cli.h"

int admin_cmd_run(cli *c, int argc, char **argv);

#endif
