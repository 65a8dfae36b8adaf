/*
 * user_cmd: `spoor user add NAME --role analyst|approver|auditor|retention|admin|ingest`
 * — a PostgreSQL login in one of Spoor's groups, created inside the database
 * by spoor.user_add (needs spoor_admin).  No password passes here:
 * authentication is configured by the DBA (pg_hba.conf: peer, certificate,
 * or a password the person sets with psql's \password).
 */
#ifndef SPOOR_USER_CMD_H
#define SPOOR_USER_CMD_H

#include "cli.h"

int user_cmd_run(cli *c, int argc, char **argv);

#endif
