#include "db.h"
#include "fileio.h"
#include "lock_keys.h"
#include "mem.h"
#include "pg.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SPOOR_SQLDIR
#define SPOOR_SQLDIR "/usr/local/share/spoor/sql"
#endif

/* One arbitrary constant shared by every migrator of a database. */
#define DB_MIGRATE_LOCK LOCK_KEY_MIGRATE

typedef struct migration {
    int version;
    char *name; /* file name */
    char *path;
    char *sql;
    char sha[65];
} migration;

/* The migrations folder: configured, else next to the build tree, else installed. */
static const char *db_sql_dir(cli *c, char *buf, size_t n) {
    if (c->cfg.sql_dir && *c->cfg.sql_dir)
        return c->cfg.sql_dir;
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        snprintf(buf, n, "%s/../sql", dirname(exe));
        char probe[PATH_MAX + 32];
        snprintf(probe, sizeof probe, "%s/001_roles.sql", buf);
        if (access(probe, R_OK) == 0)
            return buf;
    }
    return SPOOR_SQLDIR;
}

static int migration_cmp(const void *a, const void *b) {
    return ((const migration *)a)->version - ((const migration *)b)->version;
}

static void migrations_free(migration *m, int n) {
    for (int i = 0; i < n; i++) {
        free(m[i].name);
        free(m[i].path);
        free(m[i].sql);
    }
    free(m);
}

static int name_cmp(const void *a, const void *b) {
    return strcmp(((const migration *)a)->name, ((const migration *)b)->name);
}

/* The .sql files of the sql folder (SUB NULL: the numbered migrations) or of
 * its subfolder SUB (the function files, by name); NULL after an error. */
static migration *files_load(cli *c, const char *sub, int *count) {
    char buf[PATH_MAX], sdir[PATH_MAX + 64];
    const char *dir = db_sql_dir(c, buf, sizeof buf);
    if (sub) {
        snprintf(sdir, sizeof sdir, "%s/%s", dir, sub);
        dir = sdir;
    }
    DIR *d = opendir(dir);
    if (!d) {
        cli_error(c, "cannot open the SQL folder %s: %s", dir, strerror(errno));
        return NULL;
    }
    migration *m = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".sql") != 0)
            continue;
        char *end;
        long v = strtol(e->d_name, &end, 10);
        if (!sub && (end == e->d_name || *end != '_' || v <= 0 || v > 99999))
            continue;
        if (n == cap)
            m = mem_realloc(m, sizeof *m * (size_t)(cap = cap ? cap * 2 : 16));
        migration *x = &m[n++];
        x->version = sub ? 0 : (int)v;
        x->name = mem_alloc(strlen(e->d_name) + (sub ? strlen(sub) + 2 : 1));
        sprintf(x->name, "%s%s%s", sub ? sub : "", sub ? "/" : "", e->d_name);
        x->path = mem_alloc(strlen(dir) + len + 2);
        sprintf(x->path, "%s/%s", dir, e->d_name);
        size_t sl;
        error ferr;
        x->sql = fileio_read(x->path, 0, &sl, &ferr);
        if (!x->sql) {
            cli_error(c, "cannot read migration %s", ferr.msg);
            closedir(d);
            migrations_free(m, n - 1);
            return NULL;
        }
        unsigned char h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(h, (const unsigned char *)x->sql, sl);
        sodium_bin2hex(x->sha, sizeof x->sha, h, sizeof h);
    }
    closedir(d);
    qsort(m, (size_t)n, sizeof *m, sub ? name_cmp : migration_cmp);
    for (int i = 1; i < n && !sub; i++)
        if (m[i].version == m[i - 1].version) {
            cli_error(c, "two migrations numbered %d: %s and %s", m[i].version, m[i - 1].name,
                      m[i].name);
            migrations_free(m, n);
            return NULL;
        }
    *count = n;
    return m;
}

static migration *migrations_load(cli *c, int *count) {
    return files_load(c, NULL, count);
}

/* spoor_meta.migration: the numbered migrations applied (tables and data,
 * forward only); spoor_meta.object: the function files (sql/functions/),
 * each applied again whenever its content changes. */
static const char DB_META_SQL[] = "CREATE SCHEMA IF NOT EXISTS spoor_meta;"
                                  "CREATE TABLE IF NOT EXISTS spoor_meta.migration ("
                                  "  version integer PRIMARY KEY,"
                                  "  name text NOT NULL,"
                                  "  sha256 text NOT NULL,"
                                  "  applied_at timestamptz NOT NULL DEFAULT now(),"
                                  "  applied_by name NOT NULL DEFAULT session_user);"
                                  "CREATE TABLE IF NOT EXISTS spoor_meta.object ("
                                  "  name text PRIMARY KEY,"
                                  "  sha256 text NOT NULL,"
                                  "  applied_at timestamptz NOT NULL DEFAULT now(),"
                                  "  applied_by name NOT NULL DEFAULT session_user)";

/* 1 if SHA is a form of migration NAME that an earlier Spoor shipped and
 * this one supersedes (sql/superseded.sha256: "SHA256  FILE" lines; the
 * migrations lost their functions to sql/functions/ when the functions were
 * given one file each). */
static int superseded(cli *c, const char *name, const char *sha) {
    char buf[PATH_MAX], path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/superseded.sha256", db_sql_dir(c, buf, sizeof buf));
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[512], s[80], n[300];
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = sscanf(line, "%79s %299s", s, n) == 2 && !strcmp(s, sha) && !strcmp(n, name);
    fclose(f);
    return found;
}

static int exec_simple(cli *c, PGconn *conn, const char *sql, const char *what) {
    PGresult *r = PQexec(conn, sql);
    if (pg_result_class(conn, r) != PG_OK) {
        error err;
        pg_error(conn, r, &err);
        cli_error(c, "%s: %s", what, err.msg);
        PQclear(r);
        return -1;
    }
    PQclear(r);
    return 0;
}

/* Applied versions → their sha256 (NULL if not applied); caller frees. */
static char **applied_load(cli *c, PGconn *conn, const migration *m, int n, int *ok) {
    error err;
    *ok = 0;
    PGresult *r = pg_query(conn,
                           "SELECT version, sha256, name, applied_at, applied_by "
                           "FROM spoor_meta.migration ORDER BY version",
                           0, NULL, NULL, &err);
    if (!r) {
        if (!error_is(&err, "42P01") && !error_is(&err, "3F000")) {
            cli_error(c, "reading applied migrations: %s", err.msg);
            return NULL;
        }
        *ok = 1; /* no table yet: nothing applied */
        return mem_zalloc(sizeof(char *) * (size_t)(n + 1));
    }
    char **sha = mem_zalloc(sizeof(char *) * (size_t)(n + 1));
    for (int i = 0; i < PQntuples(r); i++) {
        int v = atoi(PQgetvalue(r, i, 0));
        for (int j = 0; j < n; j++)
            if (m[j].version == v)
                sha[j] = mem_strdup(PQgetvalue(r, i, 1));
    }
    PQclear(r);
    *ok = 1;
    return sha;
}

/* The recorded sha256 of each of the N function files M (NULL: never
 * applied), or NULL after an error; caller frees. */
static char **objects_recorded(cli *c, PGconn *conn, const migration *m, int n) {
    error err;
    PGresult *r = pg_query(conn, "SELECT name, sha256 FROM spoor_meta.object", 0, NULL, NULL, &err);
    char **sha = mem_zalloc(sizeof(char *) * (size_t)(n + 1));
    if (!r) {
        if (error_is(&err, "42P01") || error_is(&err, "3F000"))
            return sha; /* no table yet: nothing applied */
        cli_error(c, "reading applied function files: %s", err.msg);
        free(sha);
        return NULL;
    }
    for (int i = 0; i < PQntuples(r); i++)
        for (int j = 0; j < n; j++)
            if (!strcmp(m[j].name, PQgetvalue(r, i, 0)))
                sha[j] = mem_strdup(PQgetvalue(r, i, 1));
    PQclear(r);
    return sha;
}

/* Applies every function file that is new or changed, all in one
 * transaction: every function, trigger and grant is as its file says, or
 * nothing changed.  Bodies are checked when called, not here, so the files
 * may refer to each other in any order (a trigger comes after its function,
 * in the same file). */
static int objects_apply(cli *c, PGconn *conn, int *applied) {
    int n;
    migration *m = files_load(c, "functions", &n);
    if (!m)
        return 1;
    int rc = 0;
    if (exec_simple(c, conn, "BEGIN", "BEGIN") < 0 ||
        exec_simple(c, conn, "SELECT pg_advisory_xact_lock(" DB_MIGRATE_LOCK ")", "lock") < 0 ||
        exec_simple(c, conn, "SET LOCAL check_function_bodies = off", "SET") < 0) {
        migrations_free(m, n);
        return 1;
    }
    char **sha = objects_recorded(c, conn, m, n);
    for (int i = 0; sha && i < n && rc == 0; i++) {
        if (sha[i] && !strcmp(sha[i], m[i].sha))
            continue;
        char what[300];
        snprintf(what, sizeof what, "%s", m[i].name);
        error err;
        const char *p[] = {m[i].name, m[i].sha};
        if (exec_simple(c, conn, m[i].sql, what) < 0) {
            rc = 1;
            break;
        }
        if (pg_exec(conn,
                    "INSERT INTO spoor_meta.object (name, sha256) VALUES ($1, $2) "
                    "ON CONFLICT (name) DO UPDATE SET sha256 = excluded.sha256, "
                    "applied_at = now(), applied_by = session_user",
                    2, p, &err) != PG_OK) {
            cli_error(c, "recording %s: %s", what, err.msg);
            rc = 1;
            break;
        }
        ++*applied;
        if (!c->json)
            printf("applied %s\n", m[i].name);
    }
    if (!sha)
        rc = 1;
    for (int i = 0; sha && i < n; i++)
        free(sha[i]);
    free(sha);
    migrations_free(m, n);
    if (rc) {
        exec_simple(c, conn, "ROLLBACK", "ROLLBACK");
        return 1;
    }
    return exec_simple(c, conn, "COMMIT", "COMMIT") < 0;
}

static int db_migrate(cli *c, PGconn *conn) {
    int n;
    migration *m = migrations_load(c, &n);
    if (!m)
        return 1;
    int rc = 0, applied = 0;
    if (exec_simple(c, conn, DB_META_SQL, "creating spoor_meta") < 0) {
        migrations_free(m, n);
        return 1;
    }
    for (int i = 0; i < n && rc == 0; i++) {
        if (exec_simple(c, conn, "BEGIN", "BEGIN") < 0 ||
            exec_simple(c, conn, "SELECT pg_advisory_xact_lock(" DB_MIGRATE_LOCK ")", "lock") < 0) {
            rc = 1;
            break;
        }
        char ver[16];
        error err;
        snprintf(ver, sizeof ver, "%d", m[i].version);
        const char *p1[] = {ver};
        PGresult *r = pg_query(conn, "SELECT sha256 FROM spoor_meta.migration WHERE version = $1",
                               1, p1, NULL, &err);
        if (!r) {
            cli_error(c, "%s", err.msg);
            rc = 1;
            break;
        }
        int done = PQntuples(r) > 0;
        if (done && strcmp(PQgetvalue(r, 0, 0), m[i].sha) != 0) {
            if (superseded(c, m[i].name, PQgetvalue(r, 0, 0))) {
                /* Applied in its earlier form: the same tables, its
                 * functions now in sql/functions/.  Recorded as this form. */
                const char *p2[] = {m[i].sha, ver};
                if (pg_exec(conn, "UPDATE spoor_meta.migration SET sha256 = $1 WHERE version = $2",
                            2, p2, &err) != PG_OK) {
                    cli_error(c, "%s", err.msg);
                    PQclear(r);
                    rc = 1;
                    break;
                }
            } else
                fprintf(stderr,
                        "spoor db: warning: %s was changed after it was applied (not re-run)\n",
                        m[i].name);
        }
        PQclear(r);
        if (done) {
            exec_simple(c, conn, "COMMIT", "COMMIT");
            continue;
        }
        char what[300];
        snprintf(what, sizeof what, "migration %s", m[i].name);
        if (exec_simple(c, conn, m[i].sql, what) < 0) {
            rc = 1;
            break;
        }
        const char *p3[] = {ver, m[i].name, m[i].sha};
        if (pg_exec(conn,
                    "INSERT INTO spoor_meta.migration(version, name, sha256) VALUES ($1,$2,$3)", 3,
                    p3, &err) != PG_OK) {
            cli_error(c, "recording %s: %s", m[i].name, err.msg);
            rc = 1;
            break;
        }
        if (exec_simple(c, conn, "COMMIT", "COMMIT") < 0) {
            rc = 1;
            break;
        }
        applied++;
        if (!c->json)
            printf("applied %s\n", m[i].name);
    }
    if (rc)
        exec_simple(c, conn, "ROLLBACK", "ROLLBACK");
    int objects = 0;
    if (rc == 0)
        rc = objects_apply(c, conn, &objects);
    if (c->json)
        printf("{\"applied\":%d,\"functions\":%d,\"ok\":%s}\n", applied, objects,
               rc ? "false" : "true");
    else if (rc == 0)
        printf("%d migration%s and %d function file%s applied, database is up to date\n", applied,
               applied == 1 ? "" : "s", objects, objects == 1 ? "" : "s");
    migrations_free(m, n);
    return rc;
}

static int db_status(cli *c, PGconn *conn) {
    int n, ok;
    migration *m = migrations_load(c, &n);
    if (!m)
        return 1;
    char **sha = applied_load(c, conn, m, n, &ok);
    if (!ok) {
        migrations_free(m, n);
        return 1;
    }
    int pending = 0;
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        const char *state = !sha[i] ? "pending" : strcmp(sha[i], m[i].sha) ? "modified" : "applied";
        pending += !sha[i];
        if (c->json)
            json_array_append_new(arr, json_pack("{s:i,s:s,s:s}", "version", m[i].version, "name",
                                                 m[i].name, "state", state));
        else
            printf("%-9s %s\n", state, m[i].name);
        free(sha[i]);
    }
    free(sha);
    int no;
    migration *o_m = files_load(c, "functions", &no);
    char **osha = o_m ? objects_recorded(c, conn, o_m, no) : NULL;
    json_t *oarr = json_array();
    for (int i = 0; osha && i < no; i++) {
        const char *state = !osha[i]                      ? "pending"
                            : strcmp(osha[i], o_m[i].sha) ? "changed"
                                                          : "applied";
        pending += strcmp(state, "applied") != 0;
        if (c->json)
            json_array_append_new(oarr,
                                  json_pack("{s:s,s:s}", "name", o_m[i].name, "state", state));
        else
            printf("%-9s %s\n", state, o_m[i].name);
        free(osha[i]);
    }
    free(osha);
    if (o_m)
        migrations_free(o_m, no);
    if (c->json) {
        json_t *o =
            json_pack("{s:o,s:o,s:i}", "migrations", arr, "functions", oarr, "pending", pending);
        char *s = json_dumps(o, JSON_COMPACT);
        puts(s);
        free(s);
        json_decref(o);
    } else {
        json_decref(arr);
        json_decref(oarr);
        printf("%d pending (a changed function file is applied again by spoor db migrate)\n",
               pending);
    }
    migrations_free(m, n);
    return 0;
}

int db_run(cli *c, int argc, char **argv) {
    if (argc < 2 || cli_is_help(argv[1])) {
        fprintf(
            argc < 2 ? stderr : stdout,
            "usage: spoor db migrate   apply pending migrations (each in its own transaction),\n"
            "                          then every new or changed function file (in one)\n"
            "       spoor db status    list the migrations and function files: applied,\n"
            "                          pending, modified or changed\n");
        return argc < 2 ? 2 : 0;
    }
    int (*fn)(cli *, PGconn *) = NULL;
    if (!strcmp(argv[1], "migrate"))
        fn = db_migrate;
    else if (!strcmp(argv[1], "status"))
        fn = db_status;
    else {
        cli_error(c, "unknown subcommand '%s' (try: spoor db --help)", argv[1]);
        return 2;
    }
    PGconn *conn = cli_connect(c);
    if (!conn)
        return 1;
    int rc = fn(c, conn);
    PQfinish(conn);
    return rc;
}
