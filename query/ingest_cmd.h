/*
 * ingest_cmd: `spoor ingest status` — where every source stands (Kafka
 * topic-partitions and imported files): next position, consumed, stored,
 * quarantined (consumed = stored + quarantined, always), and quarantine
 * counts by reason.  Needs a role in spoor_admin or spoor_auditor.
 */
#ifndef SPOOR_INGEST_CMD_H
#define SPOOR_INGEST_CMD_H

#include "cli.h"

int ingest_cmd_run(cli *c, int argc, char **argv);

#endif
