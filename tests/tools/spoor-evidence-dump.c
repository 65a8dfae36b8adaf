/*
 * spoor-evidence-dump: test tool.  Reads every evidence block (as the
 * connecting role, normally the stack's superuser), checks its SHA-256, and
 * writes each stored line to stdout followed by '\n' — for byte-for-byte
 * comparison with the input.
 *
 *   spoor-evidence-dump [smtp|radius]
 *   spoor-evidence-dump --check-refs
 *       checks that every smtp_event and radius_event row's (block_id,
 *       block_idx) gives back a line naming its own queue ID / session ID.
 * Exit 1 if any block fails its checksum or any reference is wrong.
 */
#include "buf.h"
#include "evidence.h"
#include "pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decompresses row I of R (columns: sha256, data, dict) into FRAME. */
static int unpack(PGresult *r, int i, buf *frame) {
    error err;
    ZSTD_DDict *dd = NULL;
    if (!PQgetisnull(r, i, 2))
        dd = ZSTD_createDDict(PQgetvalue(r, i, 2), (size_t)PQgetlength(r, i, 2));
    int rc = evidence_unpack(PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1), dd,
                             (const unsigned char *)PQgetvalue(r, i, 0), frame, &err);
    ZSTD_freeDDict(dd);
    if (rc < 0)
        fprintf(stderr, "block: %s\n", err.msg);
    return rc;
}

static const char BLOCKS[] =
    "SELECT b.sha256, b.data, d.dict, b.block_id FROM spoor.evidence_block b "
    "LEFT JOIN spoor.evidence_dict d USING (dict_id) ";

static int check_refs(PGconn *c) {
    const char *q[2] = {
        "SELECT e.block_id, e.block_idx, e.queue_id FROM spoor.smtp_event e "
        "WHERE e.queue_id IS NOT NULL ORDER BY e.block_id",
        "SELECT e.block_id, e.block_idx, e.acct_session_id FROM spoor.radius_event e "
        "WHERE e.acct_session_id IS NOT NULL ORDER BY e.block_id"};
    long checked[2] = {0, 0}, wrong = 0;
    buf frame;
    buf_init(&frame);
    for (int k = 0; k < 2; k++) {
        PGresult *ev = PQexec(c, q[k]);
        long cur = -1;
        for (int i = 0; i < PQntuples(ev); i++) {
            long id = atol(PQgetvalue(ev, i, 0));
            if (id != cur) {
                char sql[512], ids[32];
                snprintf(sql, sizeof sql, "%s WHERE b.block_id = $1", BLOCKS);
                snprintf(ids, sizeof ids, "%ld", id);
                const char *v[] = {ids};
                PGresult *b = PQexecParams(c, sql, 1, NULL, v, NULL, NULL, 1);
                if (PQntuples(b) != 1 || unpack(b, 0, &frame) < 0) {
                    wrong++;
                    PQclear(b);
                    continue;
                }
                PQclear(b);
                cur = id;
            }
            const char *line;
            size_t len;
            const char *want = PQgetvalue(ev, i, 2);
            checked[k]++;
            if (evidence_line(&frame, atoi(PQgetvalue(ev, i, 1)), &line, &len) < 0 ||
                !memmem(line, len, want, strlen(want))) {
                if (wrong++ < 5)
                    fprintf(stderr, "block %ld line %s does not name %s\n", id,
                            PQgetvalue(ev, i, 1), want);
            }
        }
        PQclear(ev);
    }
    buf_close(&frame);
    printf("checked %ld smtp and %ld radius references, %ld wrong\n", checked[0], checked[1],
           wrong);
    return wrong ? 1 : 0;
}

int main(int argc, char **argv) {
    const char *kind = argc > 1 ? argv[1] : "smtp";
    error err;
    PGconn *c = pg_connect("", "spoor-evidence-dump", &err);
    if (!c) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    if (!strcmp(kind, "--check-refs")) {
        int rc = check_refs(c);
        PQfinish(c);
        return rc;
    }
    char sql[512];
    snprintf(sql, sizeof sql, "%s WHERE b.kind = $1", BLOCKS);
    const char *v[] = {kind};
    PGresult *r = PQexecParams(c, sql, 1, NULL, v, NULL, NULL, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "%s", PQerrorMessage(c));
        return 1;
    }
    buf frame;
    buf_init(&frame);
    int bad = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        if (unpack(r, i, &frame) < 0) {
            bad = 1;
            continue;
        }
        for (int k = 0;; k++) {
            const char *line;
            size_t len;
            if (evidence_line(&frame, k, &line, &len) < 0)
                break;
            fwrite(line, 1, len, stdout);
            fputc('\n', stdout);
        }
    }
    buf_close(&frame);
    PQclear(r);
    PQfinish(c);
    return bad;
}
