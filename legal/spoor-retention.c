/*
 * spoor-retention: the only program that deletes data.  It runs with the
 * retention role, parses no untrusted input, links neither librdkafka nor
 * libuv, and every rule it applies lives in PostgreSQL (sql/functions/retention.sql)
 * where a second copy of it could not bypass them.
 *
 *   spoor-retention maintain [--now TIME]           partitions for today + retention.ahead_days
 *   spoor-retention run [--dry-run] [--now TIME]    drop what the policies no longer allow
 *   spoor-retention plan [--now TIME] [--all]       what a run would do, partition by partition
 *   spoor-retention compact [--dry-run] [--now TIME] pack closed days, and the
 * older rows of open days (sql/functions/compaction.sql)
 *   spoor-retention archive [--dry-run] [--now TIME] move compacted days to the
 * archive PostgreSQL (sql/functions/archive.sql): retention.archive_after_days
 * after their end, each partition copied, read back and compared, then
 * replaced here by a foreign table in the same place of the partition tree,
 * so lookups, the gate and the audit trail stay here and unchanged.
 *
 * compact turns each closed day (retention.compact_after_days after its end)
 * into its compact form: the day's SMTP and RADIUS events into zstd event
 * packs, its evidence blocks compressed again at retention.compact_level.
 * Each day and table is one transaction that checks the packs give back the
 * rows before it removes them; it deletes nothing the lookups could still
 * need, and takes the run lock, so it never works beside a run.  The days
 * still open are packed as they go (retention.pack_open_after_minutes): the
 * rows older than that, whole hours, as a round of packs per run (ingest's
 * inserts into that day wait for the round), merged into one at the close;
 * an hourly timer (ops/systemd/spoor-compact.timer) runs it.
 *
 * A run takes a session advisory lock, so two started at once do not both
 * work (the second waits up to retention.lock_timeout, then says so and
 * exits 0); it drops each expired, unheld partition in its own transaction
 * with its proof of deletion, so a crash leaves a state the next run
 * finishes.  --dry-run prints exactly the list a real run would drop.
 * --now simulates the clock (tests, and "what would happen on that day").
 */
#include "config.h"
#include "lock_keys.h"
#include "log.h"
#include "mem.h"
#include "pg.h"
#include "timeutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RETENTION_LOCK LOCK_KEY_RETENTION

static void usage(FILE *out) {
    fprintf(out, "usage: spoor-retention maintain [--now TIME]\n"
                 "       spoor-retention run [--dry-run] [--now TIME]\n"
                 "       spoor-retention plan [--now TIME] [--all]\n"
                 "       spoor-retention compact [--dry-run] [--now TIME]\n"
                 "       spoor-retention archive [--dry-run] [--now TIME]\n"
                 "Options: --config FILE, --json.  TIME is RFC 3339.\n");
}

static int fail(const char *what, const char *err) {
    fprintf(stderr, "spoor-retention: %s: %s\n", what, err);
    return 1;
}

/* Waits for the run lock up to TIMEOUT seconds; 1 if held, 0 if not. */
static int take_lock(PGconn *c, long long timeout) {
    for (long long waited = 0;; waited++) {
        PGresult *r = PQexec(c, "SELECT pg_try_advisory_lock(" RETENTION_LOCK ")");
        int got = PQresultStatus(r) == PGRES_TUPLES_OK && !strcmp(PQgetvalue(r, 0, 0), "t");
        PQclear(r);
        if (got)
            return 1;
        if (waited >= timeout)
            return 0;
        sleep(1);
    }
}

static int maintain(PGconn *c, const char *now, long long ahead, int json) {
    char a[32];
    error err;
    snprintf(a, sizeof a, "%lld", ahead);
    const char *v[] = {now, a};
    PGresult *r = pg_query(c, "SELECT spoor.retention_maintain($1, $2)", 2, v, NULL, &err);
    if (!r)
        return fail("maintain", err.msg);
    if (json)
        puts(PQgetvalue(r, 0, 0));
    else {
        json_t *j = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
        printf("partitions from %s to %s: %lld created\n",
               json_string_value(json_object_get(j, "from")),
               json_string_value(json_object_get(j, "to")),
               (long long)json_integer_value(json_object_get(j, "created")));
        json_decref(j);
    }
    PQclear(r);
    return 0;
}

static int plan(PGconn *c, const char *now, int all, int json) {
    error err;
    const char *v[] = {now, all ? "true" : "false"};
    PGresult *r = pg_query(c,
                           "SELECT tbl, part, day, class, keep, action, holds "
                           "FROM spoor.retention_plan($1, $2)",
                           2, v, NULL, &err);
    if (!r)
        return fail("plan", err.msg);
    if (!json)
        printf("%-28s %-10s %-11s %-9s %s\n", "partition", "class", "keep", "action", "holds");
    for (int i = 0; i < PQntuples(r); i++) {
        if (json)
            printf("{\"partition\":\"%s\",\"class\":\"%s\",\"action\":\"%s\"}\n",
                   PQgetvalue(r, i, 1), PQgetvalue(r, i, 3), PQgetvalue(r, i, 5));
        else
            printf("%-28s %-10s %-11s %-9s %s\n", PQgetvalue(r, i, 1), PQgetvalue(r, i, 3),
                   PQgetvalue(r, i, 4), PQgetvalue(r, i, 5),
                   PQgetisnull(r, i, 6) ? "" : PQgetvalue(r, i, 6));
    }
    PQclear(r);
    return 0;
}

static int run(PGconn *c, const char *now, int dry, long long lock_timeout, int json) {
    error err;
    if (!take_lock(c, lock_timeout)) {
        printf("another retention run holds the lock: nothing done\n");
        return 0;
    }
    /* Expire holds and requests first: an expired hold protects nothing. */
    PQclear(PQexec(c, "SELECT spoor.hold_expire_due(), spoor.request_expire_due()"));
    const char *v[] = {now, "false"};
    PGresult *r = pg_query(c,
                           "SELECT tbl, part, day, action, holds FROM spoor.retention_plan($1, $2) "
                           "WHERE action IN ('drop', 'held')",
                           2, v, NULL, &err);
    if (!r)
        return fail("plan", err.msg);
    long dropped = 0, held = 0, failed = 0;
    long long rows = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *tbl = PQgetvalue(r, i, 0), *part = PQgetvalue(r, i, 1),
                   *day = PQgetvalue(r, i, 2), *action = PQgetvalue(r, i, 3);
        if (!strcmp(action, "held")) {
            held++;
            if (!json)
                printf("keep  %-28s under legal hold %s\n", part, PQgetvalue(r, i, 4));
            continue;
        }
        if (dry) {
            printf("%s%s\n", json ? "" : "would drop ", part);
            dropped++;
            continue;
        }
        const char *dv[] = {tbl, day, now};
        PGresult *d = pg_query(c, "SELECT spoor.retention_drop($1, $2, $3)", 3, dv, NULL, &err);
        if (!d) {
            fprintf(stderr, "spoor-retention: %s: %s\n", part, err.msg);
            failed++;
            continue;
        }
        json_t *j = json_loads(PQgetvalue(d, 0, 0), 0, NULL);
        const char *st = json_string_value(json_object_get(j, "status"));
        if (st && !strcmp(st, "ok")) {
            dropped++;
            rows += json_integer_value(json_object_get(j, "rows"));
            if (json)
                puts(PQgetvalue(d, 0, 0));
            else
                printf("drop  %-28s %lld rows, sha256 %s\n", part,
                       (long long)json_integer_value(json_object_get(j, "rows")),
                       json_string_value(json_object_get(j, "digest")));
        } else {
            /* Checked again under the lock: it became held, or the policy changed. */
            printf("skip  %-28s %s\n", part, json_string_value(json_object_get(j, "reason")));
            held++;
        }
        json_decref(j);
        PQclear(d);
    }
    PQclear(r);
    const char *lv[] = {now, dry ? "true" : "false"};
    PGresult *l = pg_query(c, "SELECT spoor.retention_prune_leases($1, $2)", 2, lv, NULL, &err);
    long long leases = 0;
    if (!l)
        failed++, fprintf(stderr, "spoor-retention: lease index: %s\n", err.msg);
    else {
        json_t *j = json_loads(PQgetvalue(l, 0, 0), 0, NULL);
        leases = json_integer_value(json_object_get(j, "rows"));
        json_decref(j);
        PQclear(l);
    }
    if (!dry) {
        char sum[256];
        snprintf(sum, sizeof sum,
                 "{\"dropped\": %ld, \"rows\": %lld, \"held\": %ld, \"failed\": %ld, "
                 "\"leases_pruned\": %lld}",
                 dropped, rows, held, failed, leases);
        const char *sv[] = {now, sum};
        PGresult *s = pg_query(c, "SELECT spoor.retention_run_done($1, $2)", 2, sv, NULL, &err);
        if (!s)
            failed++, fprintf(stderr, "spoor-retention: audit: %s\n", err.msg);
        PQclear(s);
    }
    if (!json)
        printf("%s%ld partitions %s (%lld rows), %ld kept under legal hold, %lld leases %s, "
               "%ld failed\n",
               dry ? "dry run: " : "", dropped, dry ? "would be dropped" : "dropped", rows, held,
               leases, dry ? "would be pruned" : "pruned", failed);
    PQclear(PQexec(c, "SELECT pg_advisory_unlock(" RETENTION_LOCK ")"));
    return failed ? 1 : 0;
}

/* One compaction step for PART: the day's pack partition first, in its own
 * short transaction (made inside the step, its lock on the pack table would
 * hold up every lookup of a compacted day for the whole packing, and could
 * deadlock with one; sql/functions/compaction.sql), then SQL with its N
 * parameters V.  Returns the step's answer if its status is ok, its text in
 * *TEXT (both the caller's to free); else prints why (a refusal as "skip",
 * an error on stderr, counted in *FAILED) and returns NULL. */
static json_t *compact_round(PGconn *c, const char *tbl, const char *day, const char *part,
                             const char *sql, int n, const char *const *v, long *failed,
                             char **text) {
    error err;
    const char *pv[] = {tbl, day};
    PGresult *r = pg_query(c, "SELECT spoor.compact_prepare($1, $2)", 2, pv, NULL, &err);
    if (r) {
        PQclear(r);
        r = pg_query(c, sql, n, v, NULL, &err);
    }
    if (!r) {
        fprintf(stderr, "spoor-retention: compact %s: %s\n", part, err.msg);
        ++*failed;
        return NULL;
    }
    json_t *j = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    const char *st = json_string_value(json_object_get(j, "status"));
    if (!st || strcmp(st, "ok")) {
        printf("skip    %-28s %s\n", part, json_string_value(json_object_get(j, "reason")));
        json_decref(j);
        PQclear(r);
        return NULL;
    }
    *text = mem_strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return j;
}

static int compact(PGconn *c, const char *now, int dry, const spoor_config *cfg, int json) {
    char age[32], level[32];
    error err;
    if (!take_lock(c, cfg->retention_lock_timeout)) {
        printf("another retention run holds the lock: nothing done\n");
        return 0;
    }
    snprintf(age, sizeof age, "%lld", cfg->retention_compact_after_days);
    snprintf(level, sizeof level, "%lld", cfg->retention_compact_level);
    const char *v[] = {now, age};
    PGresult *r =
        pg_query(c, "SELECT tbl, part, day FROM spoor.compact_plan($1, $2)", 2, v, NULL, &err);
    if (!r) {
        PQclear(PQexec(c, "SELECT pg_advisory_unlock(" RETENTION_LOCK ")"));
        return fail("compact plan", err.msg);
    }
    long done = 0, failed = 0;
    long long rows = 0, before = 0, after = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *tbl = PQgetvalue(r, i, 0), *part = PQgetvalue(r, i, 1),
                   *day = PQgetvalue(r, i, 2);
        if (dry) {
            printf("%s%s\n", json ? "" : "would compact ", part);
            done++;
            continue;
        }
        const char *dv[] = {tbl, day, now, age, level};
        char *text;
        json_t *j = compact_round(c, tbl, day, part, "SELECT spoor.compact_day($1, $2, $3, $4, $5)",
                                  5, dv, &failed, &text);
        if (!j)
            continue;
        long long n = json_integer_value(json_object_get(j, "rows"));
        long long b = json_integer_value(json_object_get(j, "bytes_before"));
        /* Events: the packs written; evidence: the partition after. */
        long long a = json_integer_value(json_object_get(j, "pack_bytes")) +
                      json_integer_value(json_object_get(j, "bytes_after"));
        done++, rows += n, before += b, after += a;
        if (json)
            puts(text);
        else
            printf("compact %-28s %lld rows, %lld -> %lld bytes, sha256 %s\n", part, n, b, a,
                   json_string_value(json_object_get(j, "digest")));
        free(text);
        json_decref(j);
    }
    PQclear(r);
    /* Then the days still open: their rows older than
     * retention.pack_open_after_minutes, as a round of packs each. */
    if (cfg->retention_pack_open_after_minutes > 0) {
        char mins[32];
        snprintf(mins, sizeof mins, "%lld", cfg->retention_pack_open_after_minutes);
        const char *ov[] = {now, age, mins};
        r = pg_query(c,
                     "SELECT tbl, part, day, to_char(upto AT TIME ZONE 'UTC', "
                     "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM spoor.compact_open_plan($1, $2, $3)",
                     3, ov, NULL, &err);
        if (!r) {
            fprintf(stderr, "spoor-retention: compact open days: %s\n", err.msg);
            failed++;
        }
        for (int i = 0; r && i < PQntuples(r); i++) {
            const char *tbl = PQgetvalue(r, i, 0), *part = PQgetvalue(r, i, 1),
                       *day = PQgetvalue(r, i, 2), *upto = PQgetvalue(r, i, 3);
            if (dry) {
                if (json)
                    printf("%s before %s\n", part, upto);
                else
                    printf("would pack %s before %s\n", part, upto);
                done++;
                continue;
            }
            const char *dv[] = {tbl, day, now, age, mins, level};
            char *text;
            json_t *j = compact_round(c, tbl, day, part,
                                      "SELECT spoor.compact_open($1, $2, $3, $4, $5, $6)", 6, dv,
                                      &failed, &text);
            if (!j)
                continue;
            long long n = json_integer_value(json_object_get(j, "rows"));
            long long b = json_integer_value(json_object_get(j, "bytes_before"));
            long long a = json_integer_value(json_object_get(j, "pack_bytes"));
            done++, rows += n, before += b, after += a;
            if (json)
                puts(text);
            else
                printf("pack    %-28s %lld rows before %s, %lld packs merged, sha256 %s\n", part, n,
                       upto, (long long)json_integer_value(json_object_get(j, "merged_packs")),
                       json_string_value(json_object_get(j, "digest")));
            free(text);
            json_decref(j);
        }
        PQclear(r);
    }
    if (!json)
        printf("%s%ld partitions %s (%lld rows, %lld -> %lld bytes), %ld failed\n",
               dry ? "dry run: " : "", done, dry ? "would be compacted" : "compacted", rows, before,
               after, failed);
    PQclear(PQexec(c, "SELECT pg_advisory_unlock(" RETENTION_LOCK ")"));
    return failed ? 1 : 0;
}

/* Closed, compacted days to the archive PostgreSQL (sql/functions/archive.sql):
 * one day a transaction, each partition read back before its local copy goes. */
static int archive(PGconn *c, const char *now, int dry, const spoor_config *cfg, int json) {
    char after[32];
    error err;
    if (!take_lock(c, cfg->retention_lock_timeout)) {
        printf("another retention run holds the lock: nothing done\n");
        return 0;
    }
    snprintf(after, sizeof after, "%lld", cfg->retention_archive_after_days);
    const char *v[] = {now, after};
    PGresult *r = pg_query(c, "SELECT spoor.archive_plan($1, $2)", 2, v, NULL, &err);
    if (!r) {
        PQclear(PQexec(c, "SELECT pg_advisory_unlock(" RETENTION_LOCK ")"));
        return fail("archive plan", err.msg);
    }
    long days = 0, parts = 0, failed = 0;
    long long rows = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *day = PQgetvalue(r, i, 0);
        if (dry) {
            printf("%s%s\n", json ? "" : "would archive ", day);
            days++;
            continue;
        }
        const char *dv[] = {day};
        PGresult *d = pg_query(c, "SELECT spoor.archive_day($1)", 1, dv, NULL, &err);
        if (!d) {
            fprintf(stderr, "spoor-retention: archive %s: %s\n", day, err.msg);
            failed++;
            continue;
        }
        json_t *j = json_loads(PQgetvalue(d, 0, 0), 0, NULL);
        const char *st = json_string_value(json_object_get(j, "status"));
        if (st && !strcmp(st, "ok")) {
            size_t k;
            json_t *p;
            days++;
            json_array_foreach(json_object_get(j, "partitions"), k, p) {
                parts++;
                rows += json_integer_value(json_object_get(p, "rows"));
                if (!json)
                    printf("archive %-28s %lld rows, sha256 %s\n",
                           json_string_value(json_object_get(p, "partition")),
                           (long long)json_integer_value(json_object_get(p, "rows")),
                           json_string_value(json_object_get(p, "digest")));
            }
            if (json)
                puts(PQgetvalue(d, 0, 0));
        } else
            printf("skip    %-28s %s\n", day, json_string_value(json_object_get(j, "reason")));
        json_decref(j);
        PQclear(d);
    }
    PQclear(r);
    if (!json)
        printf("%s%ld days %s (%ld partitions, %lld rows), %ld failed\n", dry ? "dry run: " : "",
               days, dry ? "would be archived" : "archived", parts, rows, failed);
    PQclear(PQexec(c, "SELECT pg_advisory_unlock(" RETENTION_LOCK ")"));
    return failed ? 1 : 0;
}

int main(int argc, char **argv) {
    const char *config = NULL, *now_arg = NULL, *cmd = NULL;
    int dry = 0, all = 0, json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            config = argv[++i];
        else if (!strcmp(argv[i], "--now") && i + 1 < argc)
            now_arg = argv[++i];
        else if (!strcmp(argv[i], "--dry-run"))
            dry = 1;
        else if (!strcmp(argv[i], "--all"))
            all = 1;
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!cmd && argv[i][0] != '-')
            cmd = argv[i];
        else {
            fprintf(stderr, "spoor-retention: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!cmd || (strcmp(cmd, "maintain") && strcmp(cmd, "run") && strcmp(cmd, "plan") &&
                 strcmp(cmd, "compact") && strcmp(cmd, "archive"))) {
        usage(stderr);
        return 2;
    }
    spoor_config cfg;
    char now[TIMEUTIL_RFC3339_MAX];
    error err;
    if (config_load(&cfg, config, &err) < 0) {
        fprintf(stderr, "spoor-retention: %s\n", err.msg);
        return 2;
    }
    int64_t t = timeutil_now();
    if (now_arg && timeutil_parse(now_arg, NULL, &t, &err) < 0) {
        fprintf(stderr, "spoor-retention: --now: %s\n", err.msg);
        config_free(&cfg);
        return 2;
    }
    timeutil_format(t, now);
    PGconn *c = pg_connect(cfg.dsn, "spoor-retention", &err);
    if (!c) {
        config_free(&cfg);
        return fail("connect", err.msg);
    }
    PQclear(PQexec(c, "SET client_min_messages TO warning"));
    PQclear(PQexec(c, "SET TIME ZONE 'UTC'"));
    int rc;
    if (!strcmp(cmd, "maintain"))
        rc = maintain(c, now, cfg.retention_ahead_days, json);
    else if (!strcmp(cmd, "plan"))
        rc = plan(c, now, all, json);
    else if (!strcmp(cmd, "compact"))
        rc = compact(c, now, dry, &cfg, json);
    else if (!strcmp(cmd, "archive"))
        rc = archive(c, now, dry, &cfg, json);
    else
        rc = run(c, now, dry, cfg.retention_lock_timeout, json);
    PQfinish(c);
    config_free(&cfg);
    return rc;
}
