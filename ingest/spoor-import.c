/*
 * spoor-import: load historical log files through the same parsers and the
 * same storage path as spoor-ingest, without Kafka.  Run as `spoor import`.
 *
 *   spoor import --format postfix|exim|radius-detail|nat [--host NAME] [--zone ZONE]
 *                [--reference TIME] FILE...
 *
 * Idempotent: a file is known by the SHA-256 of its (decompressed) content;
 * its position is stored with every batch, so importing it again stores
 * nothing twice, and an interrupted import resumes where it stopped.  It acts
 * with the caller's database role, which must be a member of spoor_ingest.
 */
#include "batch.h"
#include "config.h"
#include "dict.h"
#include "ingest_db.h"
#include "log.h"
#include "logfile.h"
#include "timeutil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static volatile sig_atomic_t stop_flag;
static void stop_cb(int sig) {
    (void)sig, stop_flag = 1;
}

static void usage(FILE *out) {
    fprintf(
        out,
        "usage: spoor import --format postfix|exim|radius-detail|nat [--host NAME] [--zone ZONE]\n"
        "                    [--reference TIME] FILE...\n"
        "  --format     postfix: syslog lines (Postfix, also Exim via syslog);\n"
        "               exim: an Exim mainlog; radius-detail: FreeRADIUS detail files;\n"
        "               nat: carrier-grade NAT logs (syslog lines of Juniper, Cisco,\n"
        "               A10, 6WIND, NFWare CGNs, or conntrack -E -o timestamp lines)\n"
        "  --host       the host a bare Exim mainlog, detail or conntrack file comes from\n"
        "  --zone       IANA zone of times written without an offset (default: config)\n"
        "  --reference  instant used to infer the year of RFC 3164 times\n"
        "               (default: the file's modification time)\n"
        "Files may be plain, gzip or zstd compressed.  Importing a file twice stores nothing "
        "twice.\n");
}

/* Quarantine reasons of one file, added up over its batches. */
typedef struct reason_tally {
    char reason[40];
    long n;
} reason_tally;
static reason_tally tally[64];
static int n_tally;

static void reason_cb(void *arg, const char *reason, long n) {
    (void)arg;
    for (int i = 0; i < n_tally; i++)
        if (strcmp(tally[i].reason, reason) == 0) {
            tally[i].n += n;
            return;
        }
    if (n_tally < (int)(sizeof tally / sizeof tally[0])) {
        snprintf(tally[n_tally].reason, sizeof tally[0].reason, "%s", reason);
        tally[n_tally++].n = n;
    }
}

static int import_file(const char *path, batch_format fmt, const char *host, int64_t ref_arg,
                       const spoor_config *cfg, batch *b, PGconn **conn) {
    char sha[65], source[80];
    error err;
    if (logfile_sha256(path, sha, &err) < 0) {
        fprintf(stderr, "spoor import: %s\n", err.msg);
        return 1;
    }
    snprintf(source, sizeof source, "file:%s", sha);
    int64_t ref = ref_arg;
    if (ref == 0) {
        struct stat st;
        ref = stat(path, &st) == 0 ? (int64_t)st.st_mtime * TIMEUTIL_US : timeutil_now();
    }
    /* Where does this content stand already? */
    const char *v[] = {source};
    PGresult *r = PQexecParams(
        *conn, "SELECT next_pos FROM spoor.source_position WHERE source = $1 AND part = 0", 1, NULL,
        v, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        pg_error(*conn, r, &err);
        PQclear(r);
        fprintf(stderr, "spoor import: %s: %s\n", path, err.msg);
        return 1;
    }
    long long done = PQntuples(r) ? atoll(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    logfile *f = logfile_open(path, fmt == BATCH_RADIUS ? LOGFILE_DETAIL : LOGFILE_LINES, &err);
    if (!f) {
        fprintf(stderr, "spoor import: %s\n", err.msg);
        return 1;
    }
    long long pos = 0, consumed = 0, stored = 0, quarantined = 0;
    n_tally = 0;
    const char *rec;
    size_t len;
    int rc, status = 0;
    batch_reset(b);
    while ((rc = logfile_next(f, &rec, &len, &err)) == 1) {
        if (pos < done) { /* stored by an earlier run */
            pos++;
            continue;
        }
        batch_input in = {source, 0, pos++, ref, fmt, rec, len, host, NULL, NULL};
        batch_add(b, &in);
        if ((long long)batch_size(b) >= cfg->ingest_batch_records || stop_flag) {
            const batch_counts *c = batch_get_counts(b);
            int crc = ingest_db_commit(b, conn, cfg->dsn, "spoor-import", &stop_flag, &err);
            if (crc != PG_OK) {
                fprintf(stderr, "spoor import: %s: %s\n", path, err.msg);
                status = 1;
                break;
            }
            consumed += c->consumed, stored += c->stored, quarantined += c->quarantined;
            batch_each_reason(b, reason_cb, NULL);
            batch_reset(b);
            if (stop_flag) {
                fprintf(stderr, "spoor import: interrupted; run again to resume at record %lld\n",
                        pos);
                status = 1;
                break;
            }
        }
    }
    if (rc < 0) {
        fprintf(stderr, "spoor import: %s\n", err.msg);
        status = 1;
    }
    if (status == 0 && batch_size(b)) {
        const batch_counts *c = batch_get_counts(b);
        int crc = ingest_db_commit(b, conn, cfg->dsn, "spoor-import", &stop_flag, &err);
        if (crc != PG_OK) {
            fprintf(stderr, "spoor import: %s: %s\n", path, err.msg);
            status = 1;
        } else {
            consumed += c->consumed, stored += c->stored, quarantined += c->quarantined;
            batch_each_reason(b, reason_cb, NULL);
        }
    }
    batch_reset(b);
    logfile_close(f);
    if (status == 0) {
        if (done > 0 && consumed == 0)
            printf("%s: already imported (%lld records), nothing stored\n", path, done);
        else
            printf("%s: %lld records read, %lld stored, %lld quarantined%s\n", path, consumed,
                   stored, quarantined, done ? " (resumed)" : "");
        for (int k = 0; k < n_tally; k++)
            printf("    quarantined %ld: %s\n", tally[k].n, tally[k].reason);
        /* Remember what the content was called, for `spoor ingest status`. */
        char label[600];
        snprintf(label, sizeof label, "%s%s%s", path, host ? " host=" : "", host ? host : "");
        const char *lv[] = {source, label};
        PQclear(PQexecParams(
            *conn,
            "UPDATE spoor.source_position SET label = $2 WHERE source = $1 AND label IS NULL", 2,
            NULL, lv, NULL, NULL, 0));
    }
    return status;
}

/* --train-dict: samples from FILES, a new dictionary version, and the figures. */
static int train_dict(char **files, int n, batch_format fmt, const spoor_config *cfg) {
    error err;
    /* Every fifth record is held out: the figures printed are for records the
     * dictionary was not trained on. */
    dict_samples s, test;
    dict_samples_init(&s);
    dict_samples_init(&test);
    size_t seen = 0;
    for (int i = 0; i < n; i++) {
        logfile *f =
            logfile_open(files[i], fmt == BATCH_RADIUS ? LOGFILE_DETAIL : LOGFILE_LINES, &err);
        if (!f) {
            fprintf(stderr, "spoor import: %s\n", err.msg);
            dict_samples_close(&s);
            dict_samples_close(&test);
            return 1;
        }
        const char *rec;
        size_t len;
        while (s.data.len < (64u << 20) && logfile_next(f, &rec, &len, &err) == 1)
            dict_samples_add(++seen % 5 == 0 ? &test : &s, rec, len);
        logfile_close(f);
    }
    buf d;
    buf_init(&d);
    int rc = 1;
    PGconn *conn = NULL;
    if (dict_train(&s, 110 * 1024, &d, &err) < 0) {
        fprintf(stderr, "spoor import: %s\n", err.msg);
        goto out;
    }
    const char *kind = fmt == BATCH_RADIUS ? "radius" : "smtp";
    conn = pg_connect(cfg->dsn, "spoor-import", &err);
    if (!conn) {
        fprintf(stderr, "spoor import: %s\n", err.msg);
        goto out;
    }
    const char *v[] = {kind, d.p};
    int lens[] = {0, (int)d.len}, fmts[] = {0, 1};
    PGresult *r = PQexecParams(conn,
                               "INSERT INTO spoor.evidence_dict (dict_id, kind, sha256, dict) "
                               "SELECT coalesce(max(dict_id), 0) + 1, $1, sha256($2), $2 "
                               "FROM spoor.evidence_dict RETURNING dict_id",
                               2, NULL, v, lens, fmts, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        pg_error(conn, r, &err);
        fprintf(stderr, "spoor import: storing the dictionary: %s\n", err.msg);
    } else {
        printf("dictionary %s for %s: %zu bytes from %zu records; measured on %zu held-out "
               "records\n",
               PQgetvalue(r, 0, 0), kind, d.len, s.n, test.n);
        printf("%10s %12s %14s %14s %8s\n", "block", "raw bytes", "zstd (ratio)", "zstd+dict",
               "gain");
        size_t sizes[] = {4096, 16384, 65536, (size_t)cfg->evidence_block_bytes};
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            size_t raw, raw2;
            size_t plain =
                dict_measure(&test, sizes[i], (int)cfg->evidence_zstd_level, NULL, 0, &raw);
            size_t with =
                dict_measure(&test, sizes[i], (int)cfg->evidence_zstd_level, d.p, d.len, &raw2);
            printf("%9zuk %12zu %8zu %5.3f %8zu %5.3f %7.1f%%%s\n", sizes[i] / 1024, raw, plain,
                   (double)plain / (double)raw, with, (double)with / (double)raw,
                   100.0 * (1.0 - (double)with / (double)plain),
                   i == 3 ? "  (evidence.block_bytes)" : "");
        }
        rc = 0;
    }
    PQclear(r);
out:
    if (conn)
        PQfinish(conn);
    buf_close(&d);
    dict_samples_close(&s);
    dict_samples_close(&test);
    return rc;
}

int main(int argc, char **argv) {
    const char *format = NULL, *host = NULL, *zone = NULL, *config_path = NULL, *reference = NULL;
    int train = 0;
    int i = 1; /* argv[0] is "import" when run as `spoor import` */
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--format") && i + 1 < argc)
            format = argv[++i];
        else if (!strcmp(argv[i], "--host") && i + 1 < argc)
            host = argv[++i];
        else if (!strcmp(argv[i], "--zone") && i + 1 < argc)
            zone = argv[++i];
        else if (!strcmp(argv[i], "--reference") && i + 1 < argc)
            reference = argv[++i];
        else if (!strcmp(argv[i], "--config") && i + 1 < argc)
            config_path = argv[++i];
        else if (!strcmp(argv[i], "--train-dict"))
            train = 1;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "spoor import: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    batch_format fmt;
    if (!format || i >= argc) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(format, "postfix") || !strcmp(format, "syslog"))
        fmt = BATCH_SYSLOG;
    else if (!strcmp(format, "exim"))
        fmt = BATCH_EXIM;
    else if (!strcmp(format, "radius-detail"))
        fmt = BATCH_RADIUS;
    else if (!strcmp(format, "nat"))
        fmt = BATCH_NAT;
    else {
        fprintf(stderr, "spoor import: unknown format '%s' (postfix, exim, radius-detail, nat)\n",
                format);
        return 2;
    }
    spoor_config cfg;
    error err;
    if (config_load(&cfg, config_path, &err) < 0) {
        fprintf(stderr, "spoor import: %s\n", err.msg);
        return 1;
    }
    log_init("spoor-import", NULL);
    if (train) {
        int rc = train_dict(argv + i, argc - i, fmt, &cfg);
        config_free(&cfg);
        return rc;
    }
    int64_t ref = 0;
    if (reference && timeutil_parse(reference, NULL, &ref, &err) < 0) {
        fprintf(stderr, "spoor import: --reference: %s\n", err.msg);
        config_free(&cfg);
        return 2;
    }
    if (zone && !timeutil_zone_valid(zone)) {
        fprintf(stderr, "spoor import: --zone: unknown time zone '%s'\n", zone);
        config_free(&cfg);
        return 2;
    }
    batch_opts o = {zone ? zone : cfg.ingest_default_zone,
                    cfg.ingest_host_zones,
                    (size_t)cfg.ingest_max_line,
                    (size_t)cfg.evidence_block_bytes,
                    (int)cfg.evidence_zstd_level,
                    cfg.trace_interim_timeout,
                    cfg.trace_max_open_session};
    batch *b = batch_new(&o, &err);
    if (!b) {
        fprintf(stderr, "spoor import: %s\n", err.msg);
        config_free(&cfg);
        return 1;
    }
    signal(SIGINT, stop_cb);
    signal(SIGTERM, stop_cb);
    PGconn *conn = pg_connect(cfg.dsn, "spoor-import", &err);
    int status = 0;
    if (!conn) {
        fprintf(stderr, "spoor import: %s\n", err.msg);
        status = 1;
    }
    for (; conn && i < argc && !stop_flag; i++)
        status |= import_file(argv[i], fmt, host, ref, &cfg, b, &conn);
    if (conn)
        PQfinish(conn);
    batch_free(b);
    config_free(&cfg);
    return status;
}
