/* syslog_sources: which peers may send syslog, and as which hosts. */
#include "check.h"
#include "syslog_sources.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static struct sockaddr_storage peer(const char *a) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (strchr(a, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        inet_pton(AF_INET6, a, &s6->sin6_addr);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        inet_pton(AF_INET, a, &s4->sin_addr);
    }
    return ss;
}

static void test_match(void) {
    syslog_sources s;
    error err;
    CHECK_INT(syslog_sources_parse(" 192.0.2.25 = smtp1 | smtp2.isp.example , 198.51.100.0/28=*,"
                                   "2001:db8::/64=mx6",
                                   &s, &err),
              0);
    CHECK_INT(s.n, 3);
    static const struct {
        const char *peer, *host;
        int known, may;
    } cases[] = {
        {"192.0.2.25", "smtp1", 1, 1},
        {"192.0.2.25", "smtp1.isp.example", 1, 1}, /* the first label of the line's name */
        {"192.0.2.25", "SMTP2", 1, 1},             /* ... of the configured name, any case */
        {"192.0.2.25", "smtp3", 1, 0},             /* another host: quarantined */
        {"192.0.2.25", "smtp10", 1, 0},            /* not a prefix match */
        {"192.0.2.25", "", 1, 0},
        {"192.0.2.26", "smtp1", 0, 0}, /* another address: refused */
        {"198.51.100.15", "anything", 1, 1},
        {"198.51.100.16", "anything", 0, 0}, /* just outside the /28 */
        {"2001:db8::7", "mx6", 1, 1},
        {"2001:db8:0:1::7", "mx6", 0, 0},
        {"::ffff:192.0.2.25", "smtp1", 1, 1}, /* a dual-stack socket's IPv4 peer: the same */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sockaddr_storage p = peer(cases[i].peer);
        const syslog_source *src = syslog_sources_find(&s, (struct sockaddr *)&p);
        CHECK_INT(src != NULL, cases[i].known);
        CHECK_INT(syslog_sources_may_speak(src, cases[i].host), cases[i].may);
    }
}

static void test_errors(void) {
    static const struct {
        const char *spec, *want;
    } cases[] = {
        {"192.0.2.1", "not ADDRESS"},        {"192.0.2.1=", "names no host"},
        {"192.0.2.300=a", "not an address"}, {"192.0.2.0/33=a", "not an address"},
        {"mx.example=a", "not an address"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        syslog_sources s;
        error err;
        error_clear(&err);
        CHECK_INT(syslog_sources_parse(cases[i].spec, &s, &err), -1);
        CHECK(strstr(err.msg, cases[i].want) != NULL);
    }
    syslog_sources s;
    error err;
    CHECK_INT(syslog_sources_parse("", &s, &err), 0);
    CHECK_INT(s.n, 0);
}

static const check_test tests[] = {
    {"match", test_match},
    {"errors", test_errors},
    {0},
};

int main(void) {
    return check_main("syslog_sources", tests);
}
