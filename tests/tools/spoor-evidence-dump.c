/*
 * spoor-evidence-dump: test tool.  Reads every evidence block (as the
 * connecting role, normally the stack's superuser), checks its SHA-256,
 * and writes each stored line to stdout, one per line, each followed by
 * '\n' — for byte-for-byte comparison with the input.  --records writes
 * detail records as they were (they end in their own blank line).
 * Exit 1 if any block fails its checksum.
 */
#include "buf.h"
#include "evidence.h"
#include "pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    const char *kind = argc > 1 ? argv[1] : "smtp";
    char err[1024];
    PGconn *c = pg_connect("", "spoor-evidence-dump", err, sizeof err);
    if (!c) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    const char *v[] = {kind};
    PGresult *r = PQexecParams(c, "SELECT sha256, data FROM spoor.evidence_block WHERE kind = $1",
                               1, NULL, v, NULL, NULL, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "%s", PQerrorMessage(c));
        return 1;
    }
    buf frame;
    buf_init(&frame);
    int bad = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        if (evidence_unpack(PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1), NULL,
                            (const unsigned char *)PQgetvalue(r, i, 0), &frame, err,
                            sizeof err) < 0) {
            fprintf(stderr, "block %d: %s\n", i, err);
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
