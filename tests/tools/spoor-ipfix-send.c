/*
 * spoor-ipfix-send: a CGN's IPFIX (or NetFlow v9) exporter for the tests.
 * Reads a script and sends each message it builds, the same bytes, to
 * every --to destination (spoor-collect and nfcapd side by side), or
 * (from --from ADDR), or prints them with --hex, one message a line, for the unit tests' golden
 * files (tests/golden/ipfix) and the fuzzer's corpus.
 *
 *   msg v10|v9 DOMAIN SEQ EXPORT_TIME   start a message
 *   tmpl ID IE:LEN ...                   a template (IE may be PEN/IE)
 *   otmpl ID SCOPE_COUNT IE:LEN ...      an options template
 *   data ID VALUE ...                    a data record (numbers in the
 *                                        field's length, addresses as 4
 *                                        or 16 bytes, s:TEXT as a string)
 *   raw HEX                              bytes as they are (own set)
 *   cut N                                send only the first N bytes
 *   send                                 send the message
 *
 * Consecutive data records of one template share one set.  Exit 0, or 1
 * naming the script's line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXMSG 65535
#define MAXT 64

typedef struct tdef {
    int id, n;
    int len[256];
} tdef;

static uint8_t msg[MAXMSG];
static size_t mlen, set_at;
static int version, set_id = -1, cut = -1;
static tdef tdefs[MAXT];
static int ntdefs;
static const char *script_path;
static int lineno;

static void die(const char *m) {
    fprintf(stderr, "spoor-ipfix-send: %s:%d: %s\n", script_path, lineno, m);
    exit(1);
}

static void put(const void *p, size_t n) {
    if (mlen + n > MAXMSG)
        die("message too long");
    memcpy(msg + mlen, p, n);
    mlen += n;
}

static void put16(unsigned v) {
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(b, 2);
}

static void put32(unsigned long v) {
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(b, 4);
}

static void set_close(void) {
    if (set_id < 0)
        return;
    size_t l = mlen - set_at;
    msg[set_at + 2] = (uint8_t)(l >> 8);
    msg[set_at + 3] = (uint8_t)l;
    set_id = -1;
}

static void set_open(int id) {
    if (set_id == id)
        return;
    set_close();
    set_at = mlen;
    put16((unsigned)id);
    put16(0);
    set_id = id;
}

static tdef *tfind(int id) {
    for (int i = 0; i < ntdefs; i++)
        if (tdefs[i].id == id)
            return &tdefs[i];
    return NULL;
}

static void value(const char *v, int len) {
    uint8_t b[16];
    if (!strncmp(v, "s:", 2)) {
        size_t n = strlen(v + 2);
        if (len == 65535) {
            uint8_t l = (uint8_t)n;
            put(&l, 1);
            put(v + 2, n);
        } else {
            uint8_t pad[256] = {0};
            if ((int)n > len)
                die("string longer than its field");
            put(v + 2, n);
            put(pad, (size_t)len - n);
        }
        return;
    }
    if (strchr(v, ':') && inet_pton(AF_INET6, v, b) == 1 && len == 16) {
        put(b, 16);
        return;
    }
    if (strchr(v, '.') && inet_pton(AF_INET, v, b) == 1 && len == 4) {
        put(b, 4);
        return;
    }
    char *e;
    errno = 0;
    unsigned long long x = strtoull(v, &e, 0);
    if (*e || errno || len < 1 || len > 8)
        die("a value that is neither a number nor an address of its field's length");
    for (int i = len - 1; i >= 0; i--)
        b[i] = (uint8_t)x, x >>= 8;
    put(b, (size_t)len);
}

int main(int argc, char **argv) {
    const char *to[8], *from = NULL;
    int nto = 0, hex = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--to") && i + 1 < argc && nto < 8)
            to[nto++] = argv[++i];
        else if (!strcmp(argv[i], "--hex"))
            hex = 1;
        else if (!strcmp(argv[i], "--from") && i + 1 < argc)
            from = argv[++i];
        else if (!script_path && argv[i][0] != '-')
            script_path = argv[i];
        else {
            fprintf(stderr,
                    "usage: spoor-ipfix-send SCRIPT [--from ADDR] (--to HOST:PORT ... | --hex)\n");
            return 2;
        }
    }
    if (!script_path || (!nto && !hex)) {
        fprintf(stderr,
                "usage: spoor-ipfix-send SCRIPT [--from ADDR] (--to HOST:PORT ... | --hex)\n");
        return 2;
    }
    FILE *f = fopen(script_path, "r");
    if (!f) {
        fprintf(stderr, "spoor-ipfix-send: %s: %s\n", script_path, strerror(errno));
        return 1;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (from) { /* the exporter's address (loopback has 127/8 to choose from) */
        struct sockaddr_in src = {.sin_family = AF_INET};
        if (inet_pton(AF_INET, from, &src.sin_addr) != 1 ||
            bind(fd, (struct sockaddr *)&src, sizeof src) < 0)
            die("--from wants a local IPv4 address");
    }
    struct sockaddr_in dst[8];
    for (int i = 0; i < nto; i++) {
        char host[64];
        const char *c = strrchr(to[i], ':');
        if (!c || (size_t)(c - to[i]) >= sizeof host)
            die("--to wants HOST:PORT");
        memcpy(host, to[i], (size_t)(c - to[i]));
        host[c - to[i]] = '\0';
        memset(&dst[i], 0, sizeof dst[i]);
        dst[i].sin_family = AF_INET;
        dst[i].sin_port = htons((uint16_t)atoi(c + 1));
        if (inet_pton(AF_INET, host, &dst[i].sin_addr) != 1)
            die("--to wants a numeric IPv4 address");
    }
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *tok[300];
        int nt = 0;
        for (char *s = strtok(line, " \t\r\n"); s && nt < 300; s = strtok(NULL, " \t\r\n"))
            tok[nt++] = s;
        if (!nt || tok[0][0] == '#')
            continue;
        if (!strcmp(tok[0], "msg") && nt == 5) {
            version = !strcmp(tok[1], "v9") ? 9 : 10;
            mlen = 0;
            set_id = -1;
            cut = -1;
            if (version == 10) {
                put16(10);
                put16(0);
                put32(strtoul(tok[4], NULL, 0));
                put32(strtoul(tok[3], NULL, 0));
                put32(strtoul(tok[2], NULL, 0));
            } else {
                put16(9);
                put16(0); /* count: filled in at send */
                put32(0); /* sysUptime */
                put32(strtoul(tok[4], NULL, 0));
                put32(strtoul(tok[3], NULL, 0));
                put32(strtoul(tok[2], NULL, 0));
            }
        } else if ((!strcmp(tok[0], "tmpl") && nt >= 3) || (!strcmp(tok[0], "otmpl") && nt >= 4)) {
            int opt = tok[0][0] == 'o';
            int id = atoi(tok[1]);
            int first = opt ? 3 : 2, nf = nt - first;
            set_open(version == 10 ? (opt ? 3 : 2) : (opt ? 1 : 0));
            tdef *t = tfind(id);
            if (!t) {
                if (ntdefs == MAXT)
                    die("too many templates");
                t = &tdefs[ntdefs++];
            }
            t->id = id;
            t->n = nf;
            put16((unsigned)id);
            if (version == 10) {
                put16((unsigned)nf);
                if (opt)
                    put16((unsigned)atoi(tok[2]));
            } else if (opt) {
                put16((unsigned)atoi(tok[2]) * 4);
                put16((unsigned)(nf - atoi(tok[2])) * 4);
            } else
                put16((unsigned)nf);
            for (int i = 0; i < nf; i++) {
                char *spec = tok[first + i], *colon = strchr(spec, ':'), *slash = strchr(spec, '/');
                if (!colon)
                    die("a field is IE:LEN");
                unsigned long pen = slash ? strtoul(spec, NULL, 0) : 0;
                unsigned ie = (unsigned)atoi(slash ? slash + 1 : spec);
                t->len[i] = atoi(colon + 1);
                put16(pen ? ie | 0x8000 : ie);
                put16((unsigned)t->len[i]);
                if (pen)
                    put32(pen);
            }
        } else if (!strcmp(tok[0], "data") && nt >= 2) {
            tdef *t = tfind(atoi(tok[1]));
            if (!t || nt - 2 != t->n)
                die("data for an unknown template, or the wrong number of values");
            set_open(t->id);
            for (int i = 0; i < t->n; i++)
                value(tok[2 + i], t->len[i]);
        } else if (!strcmp(tok[0], "raw") && nt == 2) {
            set_close();
            for (const char *h = tok[1]; h[0] && h[1]; h += 2) {
                unsigned v;
                if (sscanf(h, "%2x", &v) != 1)
                    die("raw wants hex");
                uint8_t b = (uint8_t)v;
                put(&b, 1);
            }
        } else if (!strcmp(tok[0], "cut") && nt == 2)
            cut = atoi(tok[1]);
        else if (!strcmp(tok[0], "send") && nt == 1) {
            set_close();
            if (version == 10) {
                msg[2] = (uint8_t)(mlen >> 8);
                msg[3] = (uint8_t)mlen;
            } else { /* v9's count: records and templates, counted loosely as sets */
                msg[3] = 1;
            }
            size_t n = cut >= 0 && (size_t)cut < mlen ? (size_t)cut : mlen;
            for (int i = 0; i < nto; i++)
                if (sendto(fd, msg, n, 0, (struct sockaddr *)&dst[i], sizeof dst[i]) < 0)
                    die(strerror(errno));
            if (hex) {
                for (size_t i = 0; i < n; i++)
                    printf("%02x", msg[i]);
                putchar('\n');
            }
            if (nto)
                usleep(2000);
        } else
            die("unknown directive, or the wrong number of arguments");
    }
    fclose(f);
    if (fflush(stdout) != 0)
        die("cannot write the output");
    close(fd);
    return 0;
}
