/*
 * spoor-nat-gen: a carrier-grade NAT's logs at volume, for `make bench`.
 * Deterministic; the same model as tests/bench/nat.sql, so lookups on
 * ingested lines and on synthesised rows ask the same questions.
 *
 *   spoor-nat-gen blocks ADDRS HOLDINGS START_EPOCH   port-block logging
 *   spoor-nat-gen sessions SUBS FLOWS START_EPOCH     session logging
 *
 * blocks: public addresses 198.18.0.0 + a (a < ADDRS), 126 blocks of 512
 * ports each (1024-65535); block b of address a is held HOLDINGS times in
 * turn, holding j from START + j*4h + (7a + 13b) % 600 s for 3h50m, by
 * inside address 100.64.0.0 + (j*ADDRS*126 + a*126 + b) mod 2^22.  Each
 * holding is an allocation and a release line; the vendor cycles with the
 * address: Junos structured syslog, IOS XR Userbased, NFWare vCGNAT.
 *
 * sessions: SUBS subscribers (inside 100.64.0.0 + s) each open FLOWS
 * translated flows over the day from START, one `conntrack -E -o
 * timestamp` NEW and one DESTROY line each (what a CGN logging sessions
 * writes, per flow), on public address 198.18.0.0 + s / 64.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BLOCKS 126
#define BLOCK 512

static void ip4(unsigned long v, char *out) {
    sprintf(out, "%lu.%lu.%lu.%lu", v >> 24 & 255, v >> 16 & 255, v >> 8 & 255, v & 255);
}

static void line(int vendor, int alloc, const char *in, const char *pub, int lo, long long t) {
    char when[32];
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (vendor == 0)
        printf("<14>1 %s cgn1 RT_NAT - RT_SRC_NAT_PBA_%s [junos@2636.1.1.1.2.129 "
               "internal-ip=\"%s\" block-used=\"1\" block-max-per-host=\"4\" "
               "block-port-low=\"%d\" block-port-high=\"%d\" reflexive-ip=\"%s\" "
               "nat-pool-name=\"cgn\" logical-system-id=\"0\" epoch-time-64=\"%llx\"]\n",
               when, alloc ? "ALLOC" : "RELEASE", in, lo, lo + BLOCK - 1, pub, t);
    else if (vendor == 1) {
        static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        printf("<134> 1 %04d %s %d %02d:%02d:%02d cgn2 - - NAT44 - [Userbased%c - %s 1 - %s - %d "
               "%d - - ]\n",
               tm.tm_year + 1900, mon[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
               alloc ? 'A' : 'W', in, pub, lo, lo + BLOCK - 1);
    } else
        printf("<134>1 %s cgn3 vcgnat - - - %c VRF 0 INT %s EXT %s:%d-%d\n", when,
               alloc ? 'A' : 'D', in, pub, lo, lo + BLOCK - 1);
}

int main(int argc, char **argv) {
    if (argc != 5 || (strcmp(argv[1], "blocks") && strcmp(argv[1], "sessions"))) {
        fprintf(stderr, "usage: spoor-nat-gen blocks ADDRS HOLDINGS START_EPOCH\n"
                        "       spoor-nat-gen sessions SUBS FLOWS START_EPOCH\n");
        return 2;
    }
    long n1 = atol(argv[2]), n2 = atol(argv[3]);
    long long t0 = atoll(argv[4]);
    char in[16], pub[16];
    if (!strcmp(argv[1], "blocks")) {
        /* In time order: holding by holding, allocations then releases. */
        for (long j = 0; j < n2; j++)
            for (int phase = 0; phase < 2; phase++)
                for (long a = 0; a < n1; a++) {
                    ip4(0xC6120000ul + (unsigned long)a, pub); /* 198.18.0.0 + a */
                    for (int b = 0; b < BLOCKS; b++) {
                        unsigned long k = (unsigned long)(j * n1 * BLOCKS + a * BLOCKS + b);
                        ip4(0x64400000ul + (k & 0x3ffffful), in); /* 100.64.0.0/10 */
                        long long t = t0 + j * 14400 + (7 * a + 13 * b) % 600 + phase * 13800;
                        line((int)(a % 3), !phase, in, pub, 1024 + b * BLOCK, t);
                    }
                }
    } else {
        unsigned seed = 1;
        for (long f = 0; f < n2; f++)
            for (long s = 0; s < n1; s++) {
                seed = seed * 1103515245u + 12345u;
                long long t = t0 + (f * 86400) / n2 + (seed >> 8) % 60;
                int sport = 32768 + (int)((seed >> 4) % 28000),
                    xport = 1024 + (int)((seed >> 12) % 64000);
                ip4(0x64400000ul + (unsigned long)s, in);
                ip4(0xC6120000ul + (unsigned long)s / 64, pub);
                for (int k = 0; k < 2; k++)
                    printf(
                        "[%lld.%06u]\t%s tcp      6 %ssrc=%s dst=93.184.216.34 sport=%d dport=443 "
                        "%ssrc=93.184.216.34 dst=%s sport=443 dport=%d%s\n",
                        t + k * 30, (seed >> 3) % 1000000, k ? "[DESTROY]" : "    [NEW]",
                        k ? "" : "120 SYN_SENT ", in, sport, k ? "" : "[UNREPLIED] ", pub, xport,
                        k ? " [ASSURED]" : "");
            }
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
