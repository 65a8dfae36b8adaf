/* legal/: the audit chain recomputed outside the database and the
 * disclosure package (manifest, signature, verification), each with the
 * attacks a verifier must catch. */
#include "audit_chain.h"
#include "check.h"
#include "package.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A chain of N entries, each hashed on its predecessor. */
static void chain(audit_entry *e, int n) {
    static char at[8][40];
    for (int i = 0; i < n; i++) {
        snprintf(at[i], sizeof at[i], "2026-11-22T10:00:0%d.000000Z", i);
        e[i] = (audit_entry){.seq = i + 1,
                             .at = at[i],
                             .actor = "alice",
                             .action = "trace.ip",
                             .request = "7",
                             .params = "{\"ip\": \"192.0.2.1\"}",
                             .outcome = "ok",
                             .digest = ""};
        e[i].prev_len = i ? 32 : 0;
        if (i)
            memcpy(e[i].prev, e[i - 1].hash, 32);
        audit_chain_hash(&e[i], e[i].prev, e[i].prev_len, e[i].hash);
    }
}

static void test_chain(void) {
    audit_entry e[5];
    chain(e, 5);
    error err;
    error_clear(&err);
    CHECK_INT(audit_chain_verify(e, 5, &err), 0);
    /* The hash covers every field: a changed actor is found at its entry. */
    audit_entry x[5];
    memcpy(x, e, sizeof x);
    x[2].actor = "mallory";
    CHECK_INT(audit_chain_verify(x, 5, &err), -1);
    CHECK(strstr(err.msg, "3") != NULL);
    /* An entry removed from the middle breaks the next link. */
    memcpy(x, e, sizeof x);
    memmove(&x[2], &x[3], 2 * sizeof x[0]);
    CHECK_INT(audit_chain_verify(x, 4, &err), -1);
    /* Rehashing the altered entry is not enough: its successor still
     * names the old hash. */
    memcpy(x, e, sizeof x);
    x[1].outcome = "denied";
    audit_chain_hash(&x[1], x[1].prev, x[1].prev_len, x[1].hash);
    CHECK_INT(audit_chain_verify(x, 5, &err), -1);
    /* The encoding separates fields: moving text between them changes the hash. */
    audit_entry a = e[0], b = e[0];
    unsigned char ha[32], hb[32];
    a.actor = "al";
    a.action = "icetrace.ip";
    b.actor = "alice";
    b.action = "trace.ip";
    audit_chain_hash(&a, NULL, 0, ha);
    audit_chain_hash(&b, NULL, 0, hb);
    CHECK(memcmp(ha, hb, 32) != 0);
}

static void test_checkpoint_message(void) {
    unsigned char h[32];
    memset(h, 0xab, sizeof h);
    char m[200];
    audit_checkpoint_message(42, h, m, sizeof m);
    CHECK(strncmp(m, "spoor-audit-checkpoint v1 42 abab", 33) == 0);
}

static char dir[64];

static int write_file(const char *name, const char *text) {
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (!f)
        return -1;
    fputs(text, f);
    fclose(f);
    return 0;
}

static void test_package(void) {
    unsigned char pk[32], sk[64], pk2[32], sk2[64];
    crypto_sign_keypair(pk, sk);
    crypto_sign_keypair(pk2, sk2);
    snprintf(dir, sizeof dir, "/tmp/spoor-pkg-test.%d", (int)getpid());
    package p;
    error err;
    CHECK_INT(package_open(&p, dir, &err), 0);
    CHECK_INT(package_write(&p, "results.csv", "a,b\n1,2\n", 8, &err), 0);
    CHECK_INT(package_write(&p, "results/000001-trace.ip.json", "{}", 2, &err), 0);
    CHECK_INT(package_write(&p, "../escape", "x", 1, &err), -1); /* outside the folder */
    json_t *meta = json_pack("{s:s}", "case_ref", "ID-1");
    CHECK_INT(package_seal(&p, meta, sk, &err), 0);
    json_decref(meta);
    package_close(&p);
    struct stat st;
    CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
    buf probs;
    buf_init(&probs);
    json_t *man = NULL;
    CHECK_INT(package_verify(dir, pk, &man, &probs), 0);
    CHECK_STR(json_string_value(json_object_get(man, "format")), PACKAGE_FORMAT);
    json_decref(man);
    /* Another key: the signature does not verify. */
    probs.len = 0;
    CHECK(package_verify(dir, pk2, NULL, &probs) > 0);
    /* A changed file, an added file, a removed file: each named. */
    write_file("results.csv", "a,b\n1,3\n");
    probs.len = 0;
    CHECK(package_verify(dir, pk, NULL, &probs) > 0);
    buf_addc(&probs, '\0');
    CHECK(strstr(probs.p, "results.csv") != NULL);
    write_file("results.csv", "a,b\n1,2\n");
    write_file("extra.txt", "planted");
    probs.len = 0;
    CHECK(package_verify(dir, pk, NULL, &probs) > 0);
    buf_addc(&probs, '\0');
    CHECK(strstr(probs.p, "extra.txt") != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/extra.txt", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/results/000001-trace.ip.json", dir);
    unlink(path);
    probs.len = 0;
    CHECK(package_verify(dir, pk, NULL, &probs) > 0);
    buf_addc(&probs, '\0');
    CHECK(strstr(probs.p, "000001-trace.ip.json") != NULL);
    buf_close(&probs);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
}

static const check_test tests[] = {
    {"chain", test_chain},
    {"checkpoint_message", test_checkpoint_message},
    {"package", test_package},
    {NULL, NULL},
};

int main(void) {
    if (sodium_init() < 0)
        return 1;
    return check_main("legal", tests);
}
