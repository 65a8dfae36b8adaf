/*
 * Tests for ingest/postfix: queue-ID forms, tag recognition, every record
 * shape (table-driven on tag + message), robustness on exact-size buffers,
 * and the golden files tests/golden/postfix/NAME.log -> NAME.want.
 *
 * Golden .log lines are whole syslog lines (real-world, from the sources
 * named in each file); the test runs syslog_parse and then postfix_parse on
 * the tag and message, and renders one canonical "key=value ..." line, or
 * "error=REASON pos=N".  '#' lines are copied verbatim ("#ctx ref=...
 * zone=..." sets the syslog context).  SPOOR_GOLDEN_UPDATE=1 rewrites the
 * .want files (review the diff!).
 */
#include "check.h"
#include "golden.h"
#include "postfix.h"
#include "syslog.h"
#include "timeutil.h"

#include <stdlib.h>

/* ---- canonical rendering ------------------------------------------------ */

static void render(out_buf *b, const postfix_record *r) {
    static const char *const flag_names[] = {"noqueue", "resent", "forwarded", "next_exim",
                                             "ipv6_tag"};
    out_reset(b);
    out_kv(b, "kind", postfix_kind_name(r->kind));
    if (r->kind == POSTFIX_NOT_POSTFIX)
        return;
    out_kv(b, "instance", r->instance);
    out_kv(b, "daemon", r->daemon);
    out_kv(b, "qid", r->queue_id);
    out_kv(b, "client", r->client_name);
    out_kv(b, "ip", r->client_ip);
    out_kvi(b, "port", r->client_port);
    out_kv(b, "sasl_method", r->sasl_method);
    out_kv(b, "sasl_username", r->sasl_username);
    out_kv(b, "sasl_sender", r->sasl_sender);
    out_kv(b, "orig_qid", r->orig_queue_id);
    out_kv(b, "orig_client", r->orig_client_name);
    out_kv(b, "orig_ip", r->orig_client_ip);
    out_kvi(b, "orig_port", r->orig_client_port);
    out_kv(b, "message_id", r->message_id);
    out_kv(b, "msgid_norm", r->message_id_norm);
    out_kv(b, "action", r->action);
    out_kv(b, "stage", r->stage);
    out_kv(b, "from", r->from);
    out_kvi(b, "size", r->size);
    out_kvi(b, "nrcpt", r->nrcpt);
    out_kv(b, "queue", r->queue_name);
    out_kv(b, "to", r->to);
    out_kv(b, "orig_to", r->orig_to);
    out_kv(b, "relay", r->relay);
    if (r->relay_ip) {
        out_kv(b, "relay_name", r->relay_name);
        out_kv(b, "relay_ip", r->relay_ip);
        out_kvi(b, "relay_port", r->relay_port);
    }
    out_kv(b, "delay", r->delay);
    out_kv(b, "delays", r->delays);
    out_kv(b, "dsn", r->dsn);
    out_kv(b, "status", r->status);
    out_kv(b, "response", r->response);
    out_kv(b, "next_qid", r->next_queue_id);
    out_kvi(b, "code", r->reply_code);
    out_kv(b, "reply", r->reply);
    out_kv(b, "proto", r->proto);
    out_kv(b, "helo", r->helo);
    out_kv(b, "notification", r->notification);
    out_flags(b, "flags", r->flags, flag_names, sizeof flag_names / sizeof flag_names[0]);
}

/* Parses tag and message from exact-size heap copies (ASan sees overreads). */
static void run(const char *tag, size_t taglen, const char *msg, size_t msglen, out_buf *b) {
    char *t = malloc(taglen ? taglen : 1), *m = malloc(msglen ? msglen : 1);
    memcpy(t, tag, taglen);
    memcpy(m, msg, msglen);
    arena a;
    arena_init(&a, 0);
    postfix_record r;
    error e;
    if (postfix_parse(t, taglen, m, msglen, &a, &r, &e) < 0)
        out_err(b, e.code[0] ? e.code : NULL, e.pos);
    else
        render(b, &r);
    arena_close(&a);
    free(t);
    free(m);
}

/* ---- queue IDs ------------------------------------------------------------- */

static void test_queue_ids(void) {
    static const struct {
        const char *id;
        int valid;
    } ids[] = {
        {"4F3A2B1C0D", 1},
        {"538EC7A8766", 1},
        {"1DBB4A7FD", 1},
        {"C3CD21F3E90", 1},
        {"3Pt2mN2VXxznjll", 1},
        {"4JhJXC248TzgB0", 1},
        {"3pJjgB6dpKz1JBPW", 1},
        {"49WFCk4sQ5z52CW6", 1},
        {"4bXyZq0KBkz9tHq", 1},
        {"NOQUEUE", 0},
        {"4f3a2b1c0d", 0},
        {"ABCDE", 0},
        {"4JhJXC248T", 0},
        {"4JhJXC248TzgB0z", 0},
        {"4JhJXCzgB0", 0},
        {"4JhJXC248TzgB0!", 0},
        {"4JhAXC248TzgB0", 0},
        {"", 0},
        {"0123456789ABCDEF0123456789ABCDEF0", 0},
    };
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        check_current = ids[k].id;
        CHECK_INT(postfix_queue_id_valid(ids[k].id, strlen(ids[k].id)), ids[k].valid);
    }
    check_current = "queue_ids";
}

/* ---- table-driven shapes ---------------------------------------------------- */

typedef struct tcase {
    const char *name, *tag, *msg, *want;
} tcase;

static const tcase cases[] = {
    /* tags */
    {"not postfix", "sshd", "Accepted publickey for root", "kind=not_postfix"},
    {"amavis is not postfix", "amavis", "(01933-01) Passed CLEAN", "kind=not_postfix"},
    {"unknown daemon under other name", "foo/bar", "4F3A2B1C0D: removed", "kind=not_postfix"},
    {"bare postfix tag", "postfix", "warning: /etc/postfix/main.cf, line 45: overriding",
     "kind=other instance=postfix"},
    {"service name as daemon", "postfix/dovecot", "4F3A2B1C0D: removed",
     "kind=removed instance=postfix daemon=dovecot qid=4F3A2B1C0D"},
    {"multi-instance", "postfix-out/smtp", "4F3A2B1C0D: removed",
     "kind=removed instance=postfix-out daemon=smtp qid=4F3A2B1C0D"},
    {"three components", "postfix/submission/smtpd", "connect from x[192.0.2.1]",
     "kind=other instance=postfix/submission daemon=smtpd"},
    /* client= */
    {"client ipv4", "postfix/smtpd", "538EC7A8766: client=edison.ilab.whatever.com[10.116.10.3]",
     "kind=client instance=postfix daemon=smtpd qid=538EC7A8766 client=edison.ilab.whatever.com "
     "ip=10.116.10.3"},
    {"client port", "postfix/smtpd", "4F3A2B1C0D: client=unknown[192.0.2.7]:52344",
     "kind=client instance=postfix daemon=smtpd qid=4F3A2B1C0D client=unknown ip=192.0.2.7 "
     "port=52344"},
    {"client ipv6", "postfix/smtpd",
     "477832E0134: client=h-a4984b7e1cf68ab295d77c5df3[2aff:d7f:d:a::aaa]",
     "kind=client instance=postfix daemon=smtpd qid=477832E0134 "
     "client=h-a4984b7e1cf68ab295d77c5df3 ip=2aff:d7f:d:a::aaa"},
    {"client ipv6 port", "postfix/smtpd", "4F3A2B1C0D: client=unknown[2001:db8::1]:12345",
     "kind=client instance=postfix daemon=smtpd qid=4F3A2B1C0D client=unknown ip=2001:db8::1 "
     "port=12345"},
    {"client IPv6: prefix tolerated", "postfix/smtpd",
     "4F3A2B1C0D: client=unknown[IPv6:2001:db8::1]:12345",
     "kind=client instance=postfix daemon=smtpd qid=4F3A2B1C0D client=unknown ip=2001:db8::1 "
     "port=12345 flags=ipv6_tag"},
    {"client sasl", "postfix/submission/smtpd",
     "AA31D8A27A: client=localhost[::1], sasl_method=PLAIN, sasl_username=testsvq@weblabers.com",
     "kind=client instance=postfix/submission daemon=smtpd qid=AA31D8A27A client=localhost ip=::1 "
     "sasl_method=PLAIN sasl_username=testsvq@weblabers.com"},
    {"client sasl sender", "postfix/smtpd",
     "4F3A2B1C0D: client=a[192.0.2.1], sasl_method=LOGIN, sasl_username=joe, x, "
     "sasl_sender=boss@example.com",
     "kind=client instance=postfix daemon=smtpd qid=4F3A2B1C0D client=a ip=192.0.2.1 "
     "sasl_method=LOGIN sasl_username=\"joe, x\" sasl_sender=boss@example.com"},
    {"client xforward", "postfix-inbound/smtpd",
     "3pJjgB6dpKz1JBPW: client=011.lax.mailroute.net[127.0.0.1], orig_queue_id=3pJjg82Vycz1JBJG, "
     "orig_client=wursti.dovecot.fi[87.106.245.223]",
     "kind=client instance=postfix-inbound daemon=smtpd qid=3pJjgB6dpKz1JBPW "
     "client=011.lax.mailroute.net ip=127.0.0.1 orig_qid=3pJjg82Vycz1JBJG "
     "orig_client=wursti.dovecot.fi orig_ip=87.106.245.223"},
    {"client noqueue", "postfix/smtpd",
     "NOQUEUE: client=fbsnd01103-jc.im.kddi.ne.jp[222.227.81.243]",
     "kind=client instance=postfix daemon=smtpd client=fbsnd01103-jc.im.kddi.ne.jp "
     "ip=222.227.81.243 flags=noqueue"},
    {"client broken", "postfix/smtpd", "4F3A2B1C0D: client=no-brackets", "error=bad_client pos=19"},
    {"client trailing junk", "postfix/smtpd", "4F3A2B1C0D: client=a[1.2.3.4]x",
     "error=bad_client pos=19"},
    {"orig_client broken", "postfix/smtpd", "4F3A2B1C0D: client=a[1.2.3.4], orig_client=zz",
     "error=bad_client pos=43"},
    /* message-id */
    {"msgid", "postfix/cleanup", "C8D33E07DCF: message-id=<b5iu3af6x5e7.1672726489@Test.COM>",
     "kind=message_id instance=postfix daemon=cleanup qid=C8D33E07DCF "
     "message_id=<b5iu3af6x5e7.1672726489@Test.COM> msgid_norm=b5iu3af6x5e7.1672726489@test.com"},
    {"msgid empty", "postfix/cleanup", "A9C1B4E0455: message-id=",
     "kind=message_id instance=postfix daemon=cleanup qid=A9C1B4E0455 message_id=\"\" "
     "msgid_norm=\"\""},
    {"msgid empty brackets", "postfix/cleanup", "A9C1B4E0455: message-id=<>",
     "kind=message_id instance=postfix daemon=cleanup qid=A9C1B4E0455 message_id=<> "
     "msgid_norm=\"\""},
    {"msgid unbracketed with spaces", "postfix/cleanup",
     "4F3A2B1C0D: message-id=some id with spaces@Example.org  ",
     "kind=message_id instance=postfix daemon=cleanup qid=4F3A2B1C0D "
     "message_id=\"some id with spaces@Example.org\" msgid_norm=\"some id with "
     "spaces@example.org\""},
    {"resent msgid", "postfix/cleanup", "4F3A2B1C0D: resent-message-id=<r1@X.example>",
     "kind=message_id instance=postfix daemon=cleanup qid=4F3A2B1C0D message_id=<r1@X.example> "
     "msgid_norm=r1@x.example flags=resent"},
    /* qmgr */
    {"qmgr from", "postfix/qmgr",
     "538EC7A8766: from=<root@whatever.com>, size=754, nrcpt=1 (queue active)",
     "kind=qmgr_from instance=postfix daemon=qmgr qid=538EC7A8766 from=root@whatever.com "
     "size=754 nrcpt=1 queue=active"},
    {"qmgr null sender", "postfix/qmgr", "84AAA4E1F88: from=<>, size=3146, nrcpt=1 (queue active)",
     "kind=qmgr_from instance=postfix daemon=qmgr qid=84AAA4E1F88 from=\"\" size=3146 nrcpt=1 "
     "queue=active"},
    {"qmgr bad size", "postfix/qmgr", "84AAA4E1F88: from=<>, size=x1, nrcpt=1 (queue active)",
     "error=bad_number pos=27"},
    {"qmgr unterminated from", "postfix/qmgr", "84AAA4E1F88: from=<abc, size=1",
     "error=bad_address pos=18"},
    /* qmgr_active.c: the message's last status, without a recipient */
    {"qmgr expired", "postfix/qmgr", "84AAA4E1F88: from=<a@b>, status=expired, returned to sender",
     "kind=delivery instance=postfix daemon=qmgr qid=84AAA4E1F88 from=a@b status=expired "
     "response=\"returned to sender\""},
    {"qmgr expired, null sender", "postfix/qmgr",
     "84AAA4E1F88: from=<>, status=expired, returned to sender",
     "kind=delivery instance=postfix daemon=qmgr qid=84AAA4E1F88 from=\"\" status=expired "
     "response=\"returned to sender\""},
    {"qmgr from= without size or status is other", "postfix/qmgr", "84AAA4E1F88: from=<a@b>, x=1",
     "kind=other instance=postfix daemon=qmgr qid=84AAA4E1F88"},
    /* multi-instance names as rsyslog's RFC 5424 APP-NAME (cut at '/') */
    {"instance without daemon", "postfix-out", "84AAA4E1F88: removed",
     "kind=removed instance=postfix-out qid=84AAA4E1F88"},
    {"postfixish name is not postfix", "postfixadmin", "84AAA4E1F88: removed", "kind=not_postfix"},
    /* cleanup body_checks: the matched text may contain " from " */
    {"body_checks reject is other", "postfix/cleanup",
     "4ABC123DEF: reject: body from the desk of J. Doe from mail.example.com[192.0.2.1]; "
     "from=<a@x> to=<b@y> proto=ESMTP helo=<h>: 5.7.1 message content rejected",
     "kind=other instance=postfix daemon=cleanup qid=4ABC123DEF"},
    /* deliveries */
    {"smtp queued as", "postfix/smtp",
     "1DBB4A7FD: to=<name@tld.com>, relay=mxhost-1.vi.net[192.0.2.9]:25, delay=1.8, "
     "delays=0.2/0.03/0.72/0.81, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 9EFE470001)",
     "kind=delivery instance=postfix daemon=smtp qid=1DBB4A7FD to=name@tld.com "
     "relay=mxhost-1.vi.net[192.0.2.9]:25 relay_name=mxhost-1.vi.net relay_ip=192.0.2.9 "
     "relay_port=25 delay=1.8 delays=0.2/0.03/0.72/0.81 dsn=2.0.0 status=sent "
     "response=\"250 2.0.0 Ok: queued as 9EFE470001\" next_qid=9EFE470001"},
    {"amavis requeue long ids", "postfix/amavis/smtp",
     "4JhJXC248TzgB0: to=<root@Pixel-games.inovaperf.fr>, orig_to=<root>, "
     "relay=127.0.0.1[127.0.0.1]:10026, delay=0.51, delays=0.06/0.02/0.01/0.41, dsn=2.0.0, "
     "status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as "
     "4JhJXC5F4CzgB6)",
     "kind=delivery instance=postfix/amavis daemon=smtp qid=4JhJXC248TzgB0 "
     "to=root@Pixel-games.inovaperf.fr orig_to=root relay=127.0.0.1[127.0.0.1]:10026 "
     "relay_name=127.0.0.1 relay_ip=127.0.0.1 relay_port=10026 delay=0.51 "
     "delays=0.06/0.02/0.01/0.41 dsn=2.0.0 status=sent response=\"250 2.0.0 from "
     "MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 4JhJXC5F4CzgB6\" "
     "next_qid=4JhJXC5F4CzgB6"},
    {"local forwarded as", "postfix/local",
     "4JhJXC5F4CzgB6: to=<root@Pixel-games.inovaperf.fr>, relay=local, delay=0.06, "
     "delays=0.01/0.04/0/0.01, dsn=2.0.0, status=sent (forwarded as 4JhJXC5ZqLzgB7)",
     "kind=delivery instance=postfix daemon=local qid=4JhJXC5F4CzgB6 "
     "to=root@Pixel-games.inovaperf.fr relay=local delay=0.06 delays=0.01/0.04/0/0.01 dsn=2.0.0 "
     "status=sent response=\"forwarded as 4JhJXC5ZqLzgB7\" next_qid=4JhJXC5ZqLzgB7 "
     "flags=forwarded"},
    {"exim next hop", "postfix/smtp",
     "AA31D8A27A: to=<info@svqhost.com>, relay=mail.svqhost.com[185.104.188.200]:25, delay=14, "
     "dsn=2.0.0, status=sent (250 OK id=1wcMy5-003LI4-Aq)",
     "kind=delivery instance=postfix daemon=smtp qid=AA31D8A27A to=info@svqhost.com "
     "relay=mail.svqhost.com[185.104.188.200]:25 relay_name=mail.svqhost.com "
     "relay_ip=185.104.188.200 relay_port=25 delay=14 dsn=2.0.0 status=sent "
     "response=\"250 OK id=1wcMy5-003LI4-Aq\" next_qid=1wcMy5-003LI4-Aq flags=next_exim"},
    {"deferred has no next hop", "postfix/smtp",
     "41B5F84729: to=<e@gmail.com>, relay=none, delay=54924, delays=54924/0.01/0/0, dsn=4.4.1, "
     "status=deferred (connect to 127.0.0.1[127.0.0.1]:10024: Connection refused)",
     "kind=delivery instance=postfix daemon=smtp qid=41B5F84729 to=e@gmail.com relay=none "
     "delay=54924 delays=54924/0.01/0/0 dsn=4.4.1 status=deferred response=\"connect to "
     "127.0.0.1[127.0.0.1]:10024: Connection refused\""},
    {"ipv6 relay bounced", "postfix/smtp",
     "A2FD41FBCEE: to=<someone@gmail.com>, "
     "relay=gmail-smtp-in.l.google.com[2a00:1450:4001:c21::1a]:25, "
     "delay=0.63, delays=0.01/0.05/0.5/0.06, dsn=5.2.1, status=bounced (host "
     "gmail-smtp-in.l.google.com said: 550 5.2.1 inactive)",
     "kind=delivery instance=postfix daemon=smtp qid=A2FD41FBCEE to=someone@gmail.com "
     "relay=gmail-smtp-in.l.google.com[2a00:1450:4001:c21::1a]:25 "
     "relay_name=gmail-smtp-in.l.google.com relay_ip=2a00:1450:4001:c21::1a relay_port=25 "
     "delay=0.63 delays=0.01/0.05/0.5/0.06 dsn=5.2.1 status=bounced response=\"host "
     "gmail-smtp-in.l.google.com said: 550 5.2.1 inactive\""},
    {"conn_use and quoted local part", "postfix/smtp",
     "4F3A2B1C0D: to=<\"a, b\"@example.com>, relay=mx[192.0.2.1]:25, conn_use=2, delay=0.1, "
     "delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 ok)",
     "kind=delivery instance=postfix daemon=smtp qid=4F3A2B1C0D to=\"\\\"a, b\\\"@example.com\" "
     "relay=mx[192.0.2.1]:25 relay_name=mx relay_ip=192.0.2.1 relay_port=25 delay=0.1 "
     "delays=0/0/0/0.1 dsn=2.0.0 status=sent response=\"250 ok\""},
    {"to without status is other", "postfix/smtp", "4F3A2B1C0D: to=<a@b>, orig_to=<c@d>: note",
     "kind=other instance=postfix daemon=smtp qid=4F3A2B1C0D"},
    {"delivery unterminated to", "postfix/smtp", "4F3A2B1C0D: to=<a@b, relay=none",
     "error=bad_address pos=15"},
    /* removed, bounce, reject */
    {"removed", "postfix/qmgr", "1DBB4A7FD: removed",
     "kind=removed instance=postfix daemon=qmgr qid=1DBB4A7FD"},
    {"removed with trailer is other", "postfix/qmgr", "1DBB4A7FD: removed by admin",
     "kind=other instance=postfix daemon=qmgr qid=1DBB4A7FD"},
    {"bounce", "postfix/bounce", "A9C1B4E0455: sender non-delivery notification: 84AAA4E1F88",
     "kind=bounce instance=postfix daemon=bounce qid=A9C1B4E0455 next_qid=84AAA4E1F88 "
     "notification=\"sender non-delivery notification\""},
    {"dsn success notification", "postfix/bounce",
     "3pJjgB6dpKz1JBPW: sender delivery status notification: 3pJjgB7xYzz1JBPX",
     "kind=bounce instance=postfix daemon=bounce qid=3pJjgB6dpKz1JBPW next_qid=3pJjgB7xYzz1JBPX "
     "notification=\"sender delivery status notification\""},
    {"reject rcpt", "postfix/smtpd",
     "NOQUEUE: reject: RCPT from unknown[172.17.0.1]: 554 5.7.1 <xxx@qq.com>: Relay access "
     "denied; from=<postmaster@xxx.cn> to=<xxx@qq.com> proto=ESMTP helo=<windows10.microdone.cn>",
     "kind=reject instance=postfix daemon=smtpd client=unknown ip=172.17.0.1 action=reject "
     "stage=RCPT from=postmaster@xxx.cn to=xxx@qq.com dsn=5.7.1 code=554 reply=\"554 5.7.1 "
     "<xxx@qq.com>: Relay access denied\" proto=ESMTP helo=windows10.microdone.cn flags=noqueue"},
    {"reject with port and null sender", "postfix/smtpd",
     "NOQUEUE: reject: RCPT from mail.example[192.0.2.5]:50412: 554 5.7.1 Service unavailable; "
     "from=<> to=<u@example.net> proto=ESMTP helo=<>",
     "kind=reject instance=postfix daemon=smtpd client=mail.example ip=192.0.2.5 port=50412 "
     "action=reject stage=RCPT from=\"\" to=u@example.net dsn=5.7.1 code=554 reply=\"554 5.7.1 "
     "Service unavailable\" proto=ESMTP helo=\"\" flags=noqueue"},
    {"reject connect", "postfix/smtps/smtpd",
     "NOQUEUE: reject: CONNECT from unknown[192.168.0.1]: 554 5.7.1 <unknown[192.168.0.1]>: Client "
     "host rejected: Access denied; proto=SMTP",
     "kind=reject instance=postfix/smtps daemon=smtpd client=unknown ip=192.168.0.1 action=reject "
     "stage=CONNECT dsn=5.7.1 code=554 reply=\"554 5.7.1 <unknown[192.168.0.1]>: Client host "
     "rejected: Access denied\" proto=SMTP flags=noqueue"},
    {"postscreen reject", "postfix/postscreen",
     "NOQUEUE: reject: RCPT from [157.122.148.242]:47407: 550 5.7.1 Service unavailable; client "
     "[157.122.148.242] blocked using bl.spamcop.net; from=<kos@mafia.network>, "
     "to=<z13699753428@vip.163.com>, proto=ESMTP, helo=<XL-20160217QQJV>",
     "kind=reject instance=postfix daemon=postscreen client=\"\" ip=157.122.148.242 port=47407 "
     "action=reject stage=RCPT from=kos@mafia.network to=z13699753428@vip.163.com dsn=5.7.1 "
     "code=550 reply=\"550 5.7.1 Service unavailable; client [157.122.148.242] blocked using "
     "bl.spamcop.net\" proto=ESMTP helo=XL-20160217QQJV flags=noqueue"},
    {"milter reject end of message", "postfix/cleanup",
     "B37FD2E05B9: milter-reject: END-OF-MESSAGE from h-ca74[254.65.43.194]: 4.7.1 Try again "
     "later; from=<b@x.com> to=<h@y.com> proto=ESMTP helo=<h-ca74>",
     "kind=reject instance=postfix daemon=cleanup qid=B37FD2E05B9 client=h-ca74 ip=254.65.43.194 "
     "action=milter-reject stage=END-OF-MESSAGE from=b@x.com to=h@y.com dsn=4.7.1 "
     "reply=\"4.7.1 Try again later\" proto=ESMTP helo=h-ca74"},
    {"reject bad client", "postfix/smtpd",
     "NOQUEUE: reject: RCPT from nobrackets: 554 x; proto=SMTP", "error=bad_client pos=27"},
    {"reject-like but other", "postfix/cleanup",
     "4F3A2B1C0D: reject: header Subject: hi from a[1.2.3.4]; from=<a@b> to=<c@d>: 5.7.1 no",
     "kind=other instance=postfix daemon=cleanup qid=4F3A2B1C0D"},
    /* other */
    {"connect", "postfix/smtpd", "connect from unknown[1002:1712:4e2b:d061:5dff:19f:c85f:a48f]",
     "kind=other instance=postfix daemon=smtpd"},
    {"pickup", "postfix/pickup", "08ACF1541B01: uid=42 from=<someone>",
     "kind=other instance=postfix daemon=pickup qid=08ACF1541B01"},
    {"empty message", "postfix/smtpd", "", "kind=other instance=postfix daemon=smtpd"},
    {"not a queue id", "postfix/smtpd", "warning: hostname x does not resolve",
     "kind=other instance=postfix daemon=smtpd"},
    {NULL, NULL, NULL, NULL},
};

static void test_table(void) {
    for (const tcase *c = cases; c->name; c++) {
        out_buf b;
        run(c->tag, strlen(c->tag), c->msg, strlen(c->msg), &b);
        check_current = c->name;
        CHECK_STR(b.s, c->want);
    }
    check_current = "table";
}

static void test_nul_bytes(void) {
    static const char msg[] = "4F3A2B1C0D: message-id=<a\0b@C.example>";
    out_buf b;
    run("postfix/cleanup", 15, msg, sizeof msg - 1, &b);
    CHECK_STR(b.s, "kind=message_id instance=postfix daemon=cleanup qid=4F3A2B1C0D "
                   "message_id=<a?b@C.example> msgid_norm=a?b@c.example");
    postfix_record r;
    arena a;
    arena_init(&a, 0);
    CHECK_INT(postfix_parse(NULL, 0, NULL, 0, &a, &r, NULL), 0);
    CHECK_INT(r.kind, POSTFIX_NOT_POSTFIX);
    CHECK_INT(postfix_parse("postfix/smtpd", 13, NULL, 7, &a, &r, NULL), 0);
    CHECK_INT(r.kind, POSTFIX_OTHER);
    arena_close(&a);
}

/* Every prefix of each table message parses or fails cleanly. */
static void test_prefixes(void) {
    arena a;
    arena_init(&a, 0);
    for (const tcase *c = cases; c->name; c++) {
        size_t len = strlen(c->msg);
        for (size_t p = 0; p <= len; p++) {
            char *m = malloc(p ? p : 1);
            memcpy(m, c->msg, p);
            postfix_record r;
            error e;
            int rc = postfix_parse(c->tag, strlen(c->tag), m, p, &a, &r, &e);
            CHECK(rc == 0 || (rc == -1 && e.code[0] && e.pos <= p));
            free(m);
            arena_reset(&a);
        }
    }
    arena_close(&a);
}

/* ---- golden files ---------------------------------------------------------- */

/* The syslog context set by "#ctx" directives, reset for each file. */
typedef struct golden_state {
    syslog_ctx ctx;
    char zone[64];
} golden_state;

static void golden_begin(void *arg) {
    golden_state *st = arg;
    st->ctx = (syslog_ctx){golden_at_time("2026-11-25T12:00:00Z"), "UTC", NULL, NULL};
    snprintf(st->zone, sizeof st->zone, "UTC");
}

static void golden_directive(void *arg, const char *line) {
    golden_state *st = arg;
    const char *r = strstr(line, "ref="), *z = strstr(line, "zone=");
    if (r) {
        char t[64];
        sscanf(r + 4, "%63s", t);
        st->ctx.ref_us = golden_at_time(t);
    }
    if (z) {
        sscanf(z + 5, "%63s", st->zone);
        st->ctx.default_zone = st->zone;
    }
}

static void golden_line(void *arg, const char *line, size_t len, out_buf *b) {
    const golden_state *st = arg;
    syslog_record sr;
    error se;
    if (syslog_parse(line, len, &st->ctx, &sr, &se) < 0) {
        out_err(b, se.code[0] ? se.code : NULL, se.pos);
        return;
    }
    run(sr.app.p ? sr.app.p : "", sr.app.len, sr.msg.p ? sr.msg.p : "", sr.msg.len, b);
}

static const golden_spec golden = {"tests/golden/postfix", ".log",           ".want",
                                   golden_begin,           golden_directive, golden_line};

static void test_golden(void) {
    golden_state st;
    golden_run(&golden, &st);
}

static const check_test tests[] = {
    {"queue_ids", test_queue_ids}, {"table", test_table},   {"nul_bytes", test_nul_bytes},
    {"prefixes", test_prefixes},   {"golden", test_golden}, {0},
};

int main(void) {
    return check_main("postfix", tests);
}
