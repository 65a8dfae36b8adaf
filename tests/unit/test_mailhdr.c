/* Unit tests for query/mailhdr.c: Received: lines as real MTAs write them,
 * RFC 5322 dates, header unfolding, and bounces (RFC 3464 and plain text). */
#include "arena.h"
#include "check.h"
#include "mailhdr.h"
#include "timeutil.h"

#include <stdlib.h>

static void test_dates(void) {
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"Sat, 22 Nov 2026 13:15:02 +0100 (CET)", "2026-11-22T12:15:02Z"},
        {"Thu, 05 Sep 2024 05:17:25 -0700 (PDT)", "2024-09-05T12:17:25Z"},
        {"Mon, 2 Oct 2023 10:00:00 +0000", "2023-10-02T10:00:00Z"},
        {"2 Oct 2023 10:00 GMT", "2023-10-02T10:00:00Z"},
        {"Sun, 06 Nov 94 08:49:37 EST", "1994-11-06T13:49:37Z"},
        {"Fri, 31 Dec 2027 23:59:60 +0000", "2027-12-31T23:59:59Z"},
        {"yesterday", NULL},
        {"Sat, 32 Nov 2026 13:15:02 +0000", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t t;
        char buf[TIMEUTIL_RFC3339_MAX];
        int rc = mailhdr_parse_date(cases[i].in, &t);
        CHECK_STR(rc == 0 ? timeutil_format(t, buf) : NULL, cases[i].want);
    }
}

static void test_received(void) {
    static const struct {
        const char *hdr, *by, *id, *ip, *helo;
    } cases[] = {
        {"Received: from mail.example.com (mail.example.com [192.0.2.1])\r\n"
         "\tby mx.example.org (Postfix) with ESMTPS id 4F3A2B1C0D\r\n"
         "\tfor <u@example.org>; Sat, 22 Nov 2026 13:15:02 +0100 (CET)\r\n\r\n",
         "mx.example.org", "4F3A2B1C0D", "192.0.2.1", "mail.example.com"},
        {"Received: from [192.0.2.10] (port=51234 helo=pc.home)\n"
         "\tby smtp3.isp.example with esmtpsa  (TLS1.3) tls TLS_AES_256_GCM_SHA384\n"
         "\t(Exim 4.96)\n\t(envelope-from <u@isp.example>)\n\tid 1tEXYZ-000ABC-1A\n"
         "\tfor bob@example.org;\n\tSat, 22 Nov 2026 13:15:02 +0000\n\n",
         "smtp3.isp.example", "1tEXYZ-000ABC-1A", "192.0.2.10", "[192.0.2.10]"},
        {"Received: from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41])\n"
         "        by mx.google.com with SMTPS id "
         "a640c23a62f3a-a8d24b3e9e5sor12.12.2024.09.05.05.17.25\n"
         "        for <x@gmail.com>\n        (Google Transport Security);\n"
         "        Thu, 05 Sep 2024 05:17:25 -0700 (PDT)\n\n",
         "mx.google.com", "a640c23a62f3a-a8d24b3e9e5sor12.12.2024.09.05.05.17.25", "209.85.220.41",
         "mail-sor-f41.google.com"},
        {"Received: from AM6PR04MB1234.eurprd04.prod.outlook.com (2603:10a6:20b:12::34) by\n"
         " AM6PR04MB5678.eurprd04.prod.outlook.com with HTTPS; Mon, 2 Oct 2023 10:00:00 +0000\n\n",
         "AM6PR04MB5678.eurprd04.prod.outlook.com", NULL, NULL,
         "AM6PR04MB1234.eurprd04.prod.outlook.com"},
        {"Received: from pc (unknown [IPv6:2001:db8::1])\n\tby smtp2.isp.example (Postfix) with "
         "ESMTPSA id 4dHqNb1VzXz9tQ7;\n\tSat, 22 Nov 2026 13:15:02 +0000 (UTC)\n\n",
         "smtp2.isp.example", "4dHqNb1VzXz9tQ7", "2001:db8::1", "pc"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        arena a;
        arena_init(&a, 0);
        mailhdr_msg m;
        error err;
        CHECK_INT(mailhdr_parse(cases[i].hdr, strlen(cases[i].hdr), &a, &m, &err), 0);
        CHECK_INT(m.n_received, 1);
        if (m.n_received == 1) {
            CHECK_STR(m.received[0].by, cases[i].by);
            CHECK_STR(m.received[0].id, cases[i].id);
            CHECK_STR(m.received[0].from_ip, cases[i].ip);
            CHECK_STR(m.received[0].from_helo, cases[i].helo);
            CHECK(m.received[0].time != INT64_MIN);
        }
        arena_close(&a);
    }
}

static void test_fields(void) {
    const char *msg = "Received: from a by b id X; Sat, 22 Nov 2026 13:15:02 +0000\n"
                      "Received: from c by d id Y; Sat, 22 Nov 2026 13:15:01 +0000\n"
                      "Message-ID:\n  <Abc.123@Example.COM>\n"
                      "Subject: =?utf-8?q?hello?=\n"
                      "Date: Sat, 22 Nov 2026 13:15:00 +0000\n\nbody: not a header\n";
    arena a;
    arena_init(&a, 0);
    mailhdr_msg m;
    error err;
    CHECK_INT(mailhdr_parse(msg, strlen(msg), &a, &m, &err), 0);
    CHECK_STR(m.message_id, "Abc.123@example.com");
    CHECK_INT(m.n_received, 2);
    CHECK_STR(m.received[0].by, "b"); /* newest first, as in the message */
    CHECK_STR(m.received[1].id, "Y");
    CHECK_INT(m.is_bounce, 0);
    CHECK(m.original == NULL);
    CHECK_INT(mailhdr_parse("no header here", 14, &a, &m, &err), -1);
    arena_close(&a);
}

static void test_bounces(void) {
    const char *dsn =
        "From: MAILER-DAEMON@mx.example\nSubject: Undelivered Mail Returned to Sender\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"
        "--B\nContent-Type: text/plain\n\nuser unknown\n\n--B\n"
        "Content-Type: message/rfc822\n\n"
        "Received: from x by smtp1.isp.example id 4F3A2B1C0D; Sat, 22 Nov 2026 13:15:02 +0000\n"
        "Message-ID: <orig@isp.example>\n\nhello\n--B--\n";
    const char *plain =
        "From: System Administrator <postmaster@yahoo.example>\n"
        "Subject: Undeliverable:Banned file: message.scr in mail from you\n\n"
        "Your message did not reach some or all of the intended recipients\n\n"
        "------ Original message headers ------\n"
        "> Received: from bot (bot [203.0.113.9]) by smtp2.isp.example id 4F00000001;\n"
        ">\tThu, 7 Jul 2005 00:07:00 -0400\n"
        "> Message-ID: <virus@isp.example>\n\n";
    const char *avnotice =
        "From: administrator@hearthis.example\nSubject: You are infected with virus: bageldldr\n\n"
        "Our anti-virus software has determined that the e-mail you sent ...\n";
    arena a;
    arena_init(&a, 0);
    mailhdr_msg m;
    error err;
    CHECK_INT(mailhdr_parse(dsn, strlen(dsn), &a, &m, &err), 0);
    CHECK_INT(m.is_bounce, 1);
    CHECK(m.original != NULL);
    if (m.original) {
        CHECK_STR(m.original->message_id, "orig@isp.example");
        CHECK_INT(m.original->n_received, 1);
        CHECK_STR(m.original->received[0].id, "4F3A2B1C0D");
    }
    CHECK_INT(mailhdr_parse(plain, strlen(plain), &a, &m, &err), 0);
    CHECK_INT(m.is_bounce, 1);
    CHECK(m.original != NULL);
    if (m.original) {
        CHECK_STR(m.original->message_id, "virus@isp.example");
        CHECK_STR(m.original->received[0].by, "smtp2.isp.example");
    }
    CHECK_INT(mailhdr_parse(avnotice, strlen(avnotice), &a, &m, &err), 0);
    CHECK(m.original == NULL); /* nothing quoted: nothing to check */
    arena_close(&a);
}

static const check_test tests[] = {
    {"dates", test_dates},
    {"received", test_received},
    {"fields", test_fields},
    {"bounces", test_bounces},
    {NULL, NULL},
};

int main(void) {
    return check_main("mailhdr", tests);
}
