/*
 * lock_keys: every PostgreSQL advisory lock key Spoor takes, in one place
 * for C.  The SQL side reads the same numbers from spoor.lock_keys()
 * (sql/functions/audit.sql); tests/integration/48_gate.sh checks that the two
 * agree and that no other key appears in sql/ or in the C sources.
 * Strings, because they are pasted into SQL text.
 */
#ifndef SPOOR_LOCK_KEYS_H
#define SPOOR_LOCK_KEYS_H

#define LOCK_KEY_MIGRATE "7340201"       /* spoor db migrate */
#define LOCK_KEY_PARTITIONS "7340202"    /* partition DDL: ensure_partitions, compaction */
#define LOCK_KEY_LEASE_HORIZON "7340203" /* the lease merge that moves the horizon */
#define LOCK_KEY_RETENTION "7340204"     /* one spoor-retention run at a time (session lock) */
#define LOCK_KEY_AUDIT "7340205"         /* the audit chain's writer */

#endif
