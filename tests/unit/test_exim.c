/*
 * Tests for ingest/exim: message-ID forms, every line shape (table-driven),
 * timestamps (milliseconds, log_timezone offsets, local zones with DST),
 * robustness on exact-size buffers, and the golden files
 * tests/golden/exim/NAME.log -> NAME.want.
 *
 * Golden .log lines are Exim mainlog lines as written to the file.  A '#'
 * line is copied verbatim to the .want; "#ctx zone=IANA ref=RFC3339
 * mode=bare|syslog" sets the context, where mode=syslog means the lines are
 * whole syslog lines (syslog_parse first, then exim_parse on the message).
 * SPOOR_GOLDEN_UPDATE=1 rewrites the .want files (review the diff!).
 */
#include "check.h"
#include "exim.h"
#include "golden.h"
#include "syslog.h"
#include "timeutil.h"

#include <stdlib.h>

/* ---- canonical rendering ------------------------------------------------ */

static void render(out_buf *b, const exim_record *r) {
    static const char *const flag_names[] = {"time",        "offset",      "local",
                                             "ambiguous",   "nonexistent", "new_id",
                                             "fake_reject", "cutthrough",  "split"};
    out_reset(b);
    out_kv(b, "kind", exim_kind_name(r->kind));
    if (r->flags & EXIM_F_TIME) {
        char t[TIMEUTIL_RFC3339_MAX];
        out_kv(b, "time", timeutil_format(r->time_us, t));
    }
    out_kvi(b, "pid", r->pid);
    out_kv(b, "id", r->id);
    out_kv(b, "sender", r->sender);
    out_kv(b, "bounce_of", r->bounce_of);
    out_kv(b, "rcpt", r->rcpt);
    out_kv(b, "parent", r->parent);
    out_kv(b, "orig_rcpt", r->orig_rcpt);
    out_kv(b, "return_path", r->return_path);
    out_kv(b, "router", r->router);
    out_kv(b, "transport", r->transport);
    out_kv(b, "host", r->host_name);
    out_kv(b, "helo", r->helo);
    out_kv(b, "ip", r->host_ip);
    out_kvi(b, "port", r->host_port);
    out_kv(b, "iface", r->iface_ip);
    out_kvi(b, "iface_port", r->iface_port);
    out_kv(b, "ident", r->ident);
    out_kv(b, "proto", r->proto);
    out_kv(b, "tls", r->tls);
    out_kv(b, "auth", r->auth_name);
    out_kv(b, "auth_id", r->auth_id);
    out_kv(b, "auth_sender", r->auth_sender);
    out_kvi(b, "size", r->size);
    out_kv(b, "message_id", r->message_id);
    out_kv(b, "msgid_norm", r->message_id_norm);
    out_kv(b, "subject", r->subject);
    out_kv(b, "recipients", r->recipients);
    out_kv(b, "confirmation", r->confirmation);
    out_kv(b, "next_id", r->next_id);
    out_kv(b, "error", r->error);
    out_flags(b, "flags", r->flags, flag_names, sizeof flag_names / sizeof flag_names[0]);
}

/* Parses from an exact-size heap copy so ASan sees any overread. */
static void run(const char *line, size_t len, const exim_ctx *ctx, out_buf *b) {
    char *copy = malloc(len ? len : 1);
    memcpy(copy, line, len);
    arena a;
    arena_init(&a, 0);
    exim_record r;
    error e;
    if (exim_parse(copy, len, ctx, &a, &r, &e) < 0)
        out_err(b, e.code[0] ? e.code : NULL, e.pos);
    else
        render(b, &r);
    arena_close(&a);
    free(copy);
}

/* ---- message IDs ------------------------------------------------------------ */

static void test_ids(void) {
    static const struct {
        const char *id;
        int valid;
    } ids[] = {
        {"1tEXYZ-000ABC-1A", 1},
        {"1jmFYj-00039V-QX", 1},
        {"1smkL5-00000000e65-24eQ", 1},
        {"1x5dJQ-00000002ksM-1pMm", 1},
        {"1tEXYZ-000ABC-1", 0},
        {"1tEXYZ-000ABC-1AB", 0},
        {"1tEXYZ_000ABC-1A", 0},
        {"1tEXYZ-000AB!-1A", 0},
        {"1smkL5-0000000e65-24eQ", 0},
        {"1smkL5-00000000e65-24e", 0},
        {"", 0},
        {"Completed", 0},
    };
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        check_current = ids[k].id;
        CHECK_INT(exim_id_valid(ids[k].id, strlen(ids[k].id)), ids[k].valid);
    }
    check_current = "ids";
}

/* ---- table-driven shapes ---------------------------------------------------- */

typedef struct tcase {
    const char *name, *line, *zone, *ref, *want;
} tcase;

static const tcase cases[] = {
    {"arrival basic",
     "2020-06-19 04:51:49 [123] 1jmFYj-00039V-QX <= noreply@test.corp H=(test.corp) [2.2.2.2] "
     "P=smtp S=7386",
     NULL, NULL,
     "kind=arrival time=2020-06-19T04:51:49Z pid=123 id=1jmFYj-00039V-QX sender=noreply@test.corp "
     "helo=test.corp ip=2.2.2.2 proto=smtp size=7386 flags=time,local"},
    {"arrival full",
     "2014-08-10 11:18:35 [28107] 1gsu1C-003dCu-Hb <= aaron@domain.com H=localhost "
     "(10.5.40.204) [127.0.0.1]:39753 I=[127.0.0.1]:25 P=esmtpa "
     "A=dovecot_plain:aaron@domain.com S=4315 M8S=0 "
     "id=d2b648f00f1a1b0813c483d552778dc6@Domain.com T=\"what's up?!? ;-)\" from "
     "<aaron@domain.com> for aaron+forward@domain.com",
     NULL, NULL,
     "kind=arrival time=2014-08-10T11:18:35Z pid=28107 id=1gsu1C-003dCu-Hb sender=aaron@domain.com "
     "host=localhost helo=10.5.40.204 ip=127.0.0.1 port=39753 iface=127.0.0.1 iface_port=25 "
     "proto=esmtpa auth=dovecot_plain auth_id=aaron@domain.com size=4315 "
     "message_id=d2b648f00f1a1b0813c483d552778dc6@Domain.com "
     "msgid_norm=d2b648f00f1a1b0813c483d552778dc6@domain.com subject=\"what's up?!? ;-)\" "
     "recipients=aaron+forward@domain.com flags=time,local"},
    {"arrival new id, helo in brackets, offset",
     "2026-09-13 08:03:35 +0200 1x5dJQ-00000002ksM-1pMm <= noreply@winservices.it "
     "H=ncc.transfervda.com ([127.0.0.1]) [78.47.94.167]:59324 P=esmtpsa "
     "X=TLS1.3:TLS_AES_256_GCM_SHA384:256 A=dovecot_login:noreply@winservices.it S=23324 "
     "Q=mailscanner T=\"Contact\" for support@winservices.it",
     NULL, NULL,
     "kind=arrival time=2026-09-13T06:03:35Z id=1x5dJQ-00000002ksM-1pMm "
     "sender=noreply@winservices.it "
     "host=ncc.transfervda.com helo=[127.0.0.1] ip=78.47.94.167 port=59324 proto=esmtpsa "
     "tls=TLS1.3:TLS_AES_256_GCM_SHA384:256 auth=dovecot_login auth_id=noreply@winservices.it "
     "size=23324 subject=Contact recipients=support@winservices.it flags=time,offset,new_id"},
    {"arrival ipv6 and auth sender",
     "2026-11-22 13:15:02.123 1tEXYZ-000ABC-1A <= joe@example.com "
     "H=(joe-pc) [2001:db8::25]:50612 I=[2001:db8::1]:587 "
     "P=esmtpsa A=plain:joe@example.com:boss@example.com S=1",
     NULL, NULL,
     "kind=arrival time=2026-11-22T13:15:02.123000Z id=1tEXYZ-000ABC-1A sender=joe@example.com "
     "helo=joe-pc ip=2001:db8::25 port=50612 iface=2001:db8::1 iface_port=587 proto=esmtpsa "
     "auth=plain auth_id=joe@example.com auth_sender=boss@example.com size=1 flags=time,local"},
    {"bounce arrival",
     "2020-06-19 04:54:02 1jmFas-0004f6-EB <= <> R=1jmFYj-00039V-QX U=Debian-exim P=local S=8656",
     NULL, NULL,
     "kind=arrival time=2020-06-19T04:54:02Z id=1jmFas-0004f6-EB sender=\"\" "
     "bounce_of=1jmFYj-00039V-QX ident=Debian-exim proto=local size=8656 flags=time,local"},
    {"subject escapes",
     "1fo681-005txy-Bw <= a@b H=[1.2.3.4] T=\"foobar \\\"baz\\\\ \\342\\200\\234x\\n\"", NULL, NULL,
     "kind=arrival id=1fo681-005txy-Bw sender=a@b ip=1.2.3.4 subject=\"foobar \\\"baz\\\\ "
     "\\xe2\\x80\\x9cx\\x0a\""},
    {"quoted message id", "1fo681-005txy-Bw <= a@b H=[1.2.3.4] id=\"a b\"@Ex.com T=\"x\"", NULL,
     NULL,
     "kind=arrival id=1fo681-005txy-Bw sender=a@b ip=1.2.3.4 message_id=\"\\\"a b\\\"@Ex.com\" "
     "msgid_norm=\"\\\"a b\\\"@ex.com\" subject=x"},
    {"fake reject", "1fo681-005txy-Bw (= a@b H=[1.2.3.4] S=3", NULL, NULL,
     "kind=arrival id=1fo681-005txy-Bw sender=a@b ip=1.2.3.4 size=3 flags=fake_reject"},
    {"cutthrough delivery",
     "2026-11-22 13:15:02 1tEXYZ-000ABC-1A >> bob@example.com R=dnslookup T=remote_smtp "
     "H=mx.example [192.0.2.7]",
     NULL, NULL,
     "kind=delivery time=2026-11-22T13:15:02Z id=1tEXYZ-000ABC-1A rcpt=bob@example.com "
     "router=dnslookup transport=remote_smtp host=mx.example ip=192.0.2.7 "
     "flags=time,local,cutthrough"},
    {"split first part cut in <sender>", "[1/3] 2026-11-22 13:15:02 1tEXYZ-000ABC-1A <= <bob@exa",
     NULL, NULL,
     "kind=arrival time=2026-11-22T13:15:02Z id=1tEXYZ-000ABC-1A flags=time,local,split"},
    {"split later part", "[3/3] 1tEXYZ-000ABC-1A <= nothing", NULL, NULL, "kind=other flags=split"},
    {"bracketed text is not a split", "[1/x] 1tEXYZ-000ABC-1A Completed", NULL, NULL, "kind=other"},
    {"unsplit cut <sender> is still an error", "2026-11-22 13:15:02 1tEXYZ-000ABC-1A <= <bob@exa",
     NULL, NULL, "error=truncated pos=40"},
    {"delivery",
     "2020-06-19 06:26:02 1jmH1s-000AVD-5t => dave@foo.corp R=dnslookup T=remote_smtp "
     "H=mail.foo.corp [1.1.1.1] C=\"250 2.0.0 Ok: queued\"",
     NULL, NULL,
     "kind=delivery time=2020-06-19T06:26:02Z id=1jmH1s-000AVD-5t rcpt=dave@foo.corp "
     "router=dnslookup transport=remote_smtp host=mail.foo.corp ip=1.1.1.1 "
     "confirmation=\"250 2.0.0 Ok: queued\" flags=time,local"},
    {"delivery local with original",
     "2020-05-29 10:51:01 1jecbM-0001WB-R9 => test2 <test2@example.com> R=virtual_user "
     "T=dovecot_virtual_delivery C=\"250 2.0.0 <test2@example.com> cPbhORTp0F7BFgAAgiGGmw Saved\"",
     NULL, NULL,
     "kind=delivery time=2020-05-29T10:51:01Z id=1jecbM-0001WB-R9 rcpt=test2 "
     "orig_rcpt=test2@example.com router=virtual_user transport=dovecot_virtual_delivery "
     "confirmation=\"250 2.0.0 <test2@example.com> cPbhORTp0F7BFgAAgiGGmw Saved\" "
     "flags=time,local"},
    {"additional with quoted original and C escapes",
     "1gtTXl-009NOy-Ft ->  foo@bar.tld <\" foo.bar\"@baz.tld> R=dkim_lookuphost T=dkim_remote_smtp "
     "H=mail.host.tld [123.123.123.123]:25* X=TLSv1.2:ECDHE-RSA-AES256-GCM-SHA384:256 CV=yes "
     "A=fixed_cram K C=\"250- 4359466 byte chunk, total 4361651\\\\n250 OK id=1gtTZ9-0003pq-QN\"",
     NULL, NULL,
     "kind=additional id=1gtTXl-009NOy-Ft rcpt=foo@bar.tld orig_rcpt=\"\\\" foo.bar\\\"@baz.tld\" "
     "router=dkim_lookuphost transport=dkim_remote_smtp host=mail.host.tld ip=123.123.123.123 "
     "port=25 tls=TLSv1.2:ECDHE-RSA-AES256-GCM-SHA384:256 auth=fixed_cram confirmation=\"250- "
     "4359466 byte chunk, total 4361651\\\\n250 OK id=1gtTZ9-0003pq-QN\" "
     "next_id=1gtTZ9-0003pq-QN"},
    {"delivery with parent and F=",
     "1abc12-000DEF-9z => |/usr/bin/procmail (joe@example.com) <list@example.com> F=<> P=<> "
     "R=userforward T=address_pipe",
     NULL, NULL,
     "kind=delivery id=1abc12-000DEF-9z sender=\"\" rcpt=|/usr/bin/procmail parent=joe@example.com "
     "orig_rcpt=list@example.com return_path=\"\" router=userforward transport=address_pipe"},
    {"bounce with quoted DN and error",
     "2020-06-19 10:32:57 [789] 1jmKso-0009d4-Uf ** molly@zee.corp R=dnslookup T=remote_smtp "
     "H=mail.zee.corp [3.3.3.3] X=TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256 CV=yes "
     "DN=\"C=US,ST=Fake,L=Lost,O=Zee Corp,CN=mail.zee.corp\": SMTP error from remote mail server "
     "after end of data: 554 5.2.0 Recipient Mailbox Full",
     NULL, NULL,
     "kind=bounce time=2020-06-19T10:32:57Z pid=789 id=1jmKso-0009d4-Uf rcpt=molly@zee.corp "
     "router=dnslookup transport=remote_smtp host=mail.zee.corp ip=3.3.3.3 "
     "tls=TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256 error=\"SMTP error from remote mail server after "
     "end of data: 554 5.2.0 Recipient Mailbox Full\" flags=time,local"},
    {"bounce recipient colon", "1jmFYj-00039V-QX ** bob@null.corp: retry timeout exceeded", NULL,
     NULL, "kind=bounce id=1jmFYj-00039V-QX rcpt=bob@null.corp error=\"retry timeout exceeded\""},
    {"bounce router colon",
     "1gpXfR-0040X2-94 ** mail@host.tld R=virtual_aliases: No Such User Here", NULL, NULL,
     "kind=bounce id=1gpXfR-0040X2-94 rcpt=mail@host.tld router=virtual_aliases error=\"No Such "
     "User Here\""},
    {"bounce host colon", "1gpXfR-0040X2-94 ** a@b R=r T=t H=mx [192.0.2.1]:25: SMTP error", NULL,
     NULL,
     "kind=bounce id=1gpXfR-0040X2-94 rcpt=a@b router=r transport=t host=mx ip=192.0.2.1 port=25 "
     "error=\"SMTP error\""},
    {"defer",
     "1jmFYj-00039V-QX == bob@null.corp R=dnslookup T=remote_smtp defer (110): Connection timed "
     "out",
     NULL, NULL,
     "kind=defer id=1jmFYj-00039V-QX rcpt=bob@null.corp router=dnslookup transport=remote_smtp "
     "error=\"defer (110): Connection timed out\""},
    {"suppressed", "1jmFYj-00039V-QX *> bob@null.corp R=dnslookup T=remote_smtp", NULL, NULL,
     "kind=suppressed id=1jmFYj-00039V-QX rcpt=bob@null.corp router=dnslookup "
     "transport=remote_smtp"},
    {"completed", "2020-06-19 04:54:02 [456] 1jmFYj-00039V-QX Completed", NULL, NULL,
     "kind=completed time=2020-06-19T04:54:02Z pid=456 id=1jmFYj-00039V-QX flags=time,local"},
    {"completed with QT", "1jmFYj-00039V-QX Completed QT=1s", NULL, NULL,
     "kind=completed id=1jmFYj-00039V-QX"},
    {"syslog form with pid", "[8001] 1smkL5-00000000e65-24eQ Completed", NULL, NULL,
     "kind=completed pid=8001 id=1smkL5-00000000e65-24eQ flags=new_id"},
    {"other with id",
     "2024-09-07 01:34:11 1smkL5-00000000e65-24eQ H=mx.yandex.ru [2a02:6b8::311] Network is "
     "unreachable",
     NULL, NULL,
     "kind=other time=2024-09-07T01:34:11Z id=1smkL5-00000000e65-24eQ flags=time,local,new_id"},
    {"other without id",
     "2013-06-10 18:33:32 [10099] H=(yakult.com.tw) [202.132.70.178]:3755 I=[1.2.3.4]:25 "
     "F=menacedsj04@listserv.eurasia.org rejected RCPT dir@ml3.ru: relay not permitted",
     NULL, NULL, "kind=other time=2013-06-10T18:33:32Z pid=10099 flags=time,local"},
    {"london summer time", "2026-07-01 12:00:00 1tEXYZ-000ABC-1A Completed", "Europe/London", NULL,
     "kind=completed time=2026-07-01T11:00:00Z id=1tEXYZ-000ABC-1A flags=time,local"},
    {"london fall-back with reference", "2026-10-25 01:30:00 1tEXYZ-000ABC-1A Completed",
     "Europe/London", "2026-10-25T01:31:00Z",
     "kind=completed time=2026-10-25T01:30:00Z id=1tEXYZ-000ABC-1A flags=time,local,ambiguous"},
    {"london fall-back no reference", "2026-10-25 01:30:00 1tEXYZ-000ABC-1A Completed",
     "Europe/London", NULL,
     "kind=completed time=2026-10-25T00:30:00Z id=1tEXYZ-000ABC-1A flags=time,local,ambiguous"},
    {"new york spring gap", "2026-03-08 02:30:00 1tEXYZ-000ABC-1A Completed", "America/New_York",
     NULL,
     "kind=completed time=2026-03-08T06:30:00Z id=1tEXYZ-000ABC-1A flags=time,local,nonexistent"},
    {"negative offset", "2026-03-08 02:30:00 -0500 1tEXYZ-000ABC-1A Completed", "America/New_York",
     NULL, "kind=completed time=2026-03-08T07:30:00Z id=1tEXYZ-000ABC-1A flags=time,offset"},
    /* errors */
    {"empty", "", NULL, NULL, "error=empty pos=0"},
    {"bad date", "2026-02-30 01:02:03 1tEXYZ-000ABC-1A Completed", NULL, NULL,
     "error=bad_timestamp pos=0"},
    {"bad offset", "2026-02-03 01:02:03 +2500 1tEXYZ-000ABC-1A Completed", NULL, NULL,
     "error=bad_timestamp pos=20"},
    {"bad zone", "2026-02-03 01:02:03 1tEXYZ-000ABC-1A Completed", "No/Such_Zone", NULL,
     "error=bad_zone pos=0"},
    {"arrival no sender", "1tEXYZ-000ABC-1A <=", NULL, NULL, "error=truncated pos=19"},
    {"unterminated subject", "1tEXYZ-000ABC-1A <= a@b H=[1.2.3.4] T=\"cut off", NULL, NULL,
     "error=truncated pos=38"},
    {"bad host", "1tEXYZ-000ABC-1A <= a@b H=(helo) 1.2.3.4 S=1", NULL, NULL,
     "error=bad_host pos=26"},
    {"bad interface", "1tEXYZ-000ABC-1A <= a@b H=[1.2.3.4] I=1.2.3.4:25", NULL, NULL,
     "error=bad_host pos=38"},
    {"unterminated original", "1tEXYZ-000ABC-1A => a@b <c@d R=x", NULL, NULL,
     "error=truncated pos=24"},
    {NULL, NULL, NULL, NULL, NULL},
};

static void test_table(void) {
    for (const tcase *c = cases; c->name; c++) {
        exim_ctx ctx = {c->zone, c->ref ? golden_at_time(c->ref) : 0};
        out_buf b;
        run(c->line, strlen(c->line), &ctx, &b);
        check_current = c->name;
        CHECK_STR(b.s, c->want);
    }
    check_current = "table";
}

static void test_nul_and_null(void) {
    static const char line[] = "1tEXYZ-000ABC-1A <= a\0b@c H=[1.2.3.4] T=\"x\\000y\"";
    out_buf b;
    run(line, sizeof line - 1, NULL, &b);
    CHECK_STR(b.s, "kind=arrival id=1tEXYZ-000ABC-1A sender=a?b@c ip=1.2.3.4 subject=x?y");
    arena a;
    arena_init(&a, 0);
    exim_record r;
    CHECK_INT(exim_parse(NULL, 3, NULL, &a, &r, NULL), -1);
    arena_close(&a);
}

/* Every prefix of each table line parses or fails cleanly. */
static void test_prefixes(void) {
    arena a;
    arena_init(&a, 0);
    exim_ctx ctx = {"Europe/London", 0};
    for (const tcase *c = cases; c->name; c++) {
        size_t len = strlen(c->line);
        for (size_t p = 0; p <= len; p++) {
            char *m = malloc(p ? p : 1);
            memcpy(m, c->line, p);
            exim_record r;
            error e;
            int rc = exim_parse(m, p, &ctx, &a, &r, &e);
            CHECK(rc == 0 || (rc == -1 && e.code[0] && e.pos <= p));
            free(m);
            arena_reset(&a);
        }
    }
    arena_close(&a);
}

/* ---- golden files ---------------------------------------------------------- */

/* The context set by "#ctx" directives, reset for each file. */
typedef struct golden_state {
    char zone[64];
    exim_ctx ctx;
    int syslog_mode;
} golden_state;

static void golden_begin(void *arg) {
    golden_state *st = arg;
    snprintf(st->zone, sizeof st->zone, "UTC");
    st->ctx = (exim_ctx){st->zone, 0};
    st->syslog_mode = 0;
}

static void golden_directive(void *arg, const char *line) {
    golden_state *st = arg;
    const char *r = strstr(line, "ref="), *z = strstr(line, "zone="), *m = strstr(line, "mode=");
    if (r) {
        char t[64];
        sscanf(r + 4, "%63s", t);
        st->ctx.ref_us = golden_at_time(t);
    }
    if (z)
        sscanf(z + 5, "%63s", st->zone);
    if (m)
        st->syslog_mode = strncmp(m + 5, "syslog", 6) == 0;
}

static void golden_line(void *arg, const char *line, size_t len, out_buf *b) {
    const golden_state *st = arg;
    const exim_ctx *ctx = &st->ctx;
    if (!st->syslog_mode) {
        run(line, len, ctx, b);
        return;
    }
    syslog_ctx sc = {ctx->ref_us, ctx->zone, NULL, NULL};
    syslog_record sr;
    error se;
    if (syslog_parse(line, len, &sc, &sr, &se) < 0) {
        out_err(b, se.code[0] ? se.code : NULL, se.pos);
        return;
    }
    run(sr.msg.p ? sr.msg.p : "", sr.msg.len, ctx, b);
    /* The syslog time stands in for the missing Exim timestamp. */
    char t[TIMEUTIL_RFC3339_MAX];
    out_buf tail = *b;
    out_reset(b);
    out_kv(b, "syslog_time", timeutil_format(sr.time_us, t));
    out_puts(b, " ");
    out_put(b, tail.s, tail.n);
}

static const golden_spec golden = {"tests/golden/exim", ".log",           ".want",
                                   golden_begin,        golden_directive, golden_line};

static void test_golden(void) {
    golden_state st;
    golden_run(&golden, &st);
}

static const check_test tests[] = {
    {"ids", test_ids},           {"table", test_table},   {"nul_and_null", test_nul_and_null},
    {"prefixes", test_prefixes}, {"golden", test_golden}, {0},
};

int main(void) {
    return check_main("exim", tests);
}
