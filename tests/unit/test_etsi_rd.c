/* legal/etsi_rd: the ETSI TS 102 657 answer, rendered from kept results and
 * compared whole with golden files (tests/golden/etsi/NAME.json holds the
 * header and the results, NAME.xml the answer; SPOOR_GOLDEN_UPDATE=1
 * rewrites the .xml files: review the diff).  Each .xml is also validated
 * against legal/etsi-102657-spoor.xsd by tests/integration/47_legal.sh. */
#include "check.h"
#include "etsi_rd.h"
#include "golden.h"
#include "timeutil.h"

#include <stdlib.h>

#define DIR "tests/golden/etsi"

static char *render(json_t *doc) {
    json_t *h = json_object_get(doc, "header");
    etsi_rd_header hd = {
        json_string_value(json_object_get(h, "country")),
        json_string_value(json_object_get(h, "organisation")),
        json_string_value(json_object_get(h, "request")),
        json_string_value(json_object_get(h, "csp_id")),
        json_string_value(json_object_get(h, "mta_addresses")),
        golden_at_time(json_string_value(json_object_get(h, "now"))),
    };
    buf o;
    buf_init(&o);
    etsi_rd_render(&o, &hd, json_object_get(doc, "results"));
    buf_addc(&o, '\0');
    return o.p;
}

static void test_golden(void) {
    char *names[64];
    int n = golden_list(DIR, ".json", names, 64);
    CHECK(n >= 6);
    for (int i = 0; i < n; i++) {
        char in[512], want_path[512];
        snprintf(in, sizeof in, DIR "/%s.json", names[i]);
        snprintf(want_path, sizeof want_path, DIR "/%s.xml", names[i]);
        json_error_t je;
        json_t *doc = json_load_file(in, 0, &je);
        CHECK(doc != NULL);
        char *got = doc ? render(doc) : NULL;
        if (got && getenv("SPOOR_GOLDEN_UPDATE")) {
            FILE *f = fopen(want_path, "w");
            fputs(got, f);
            fclose(f);
        }
        size_t len;
        char *want = golden_slurp(want_path, &len);
        check_current = names[i];
        CHECK_STR(got, want);
        free(want);
        free(got);
        json_decref(doc);
        free(names[i]);
    }
}

/* Properties the golden files show, asserted by name. */
static void test_properties(void) {
    json_t *doc = json_load_file(DIR "/message_id_and_ip.json", 0, NULL);
    char *x = render(doc);
    /* The session reached by both lookups is one record: two in all. */
    CHECK(strstr(x, "<recordNumber>2</recordNumber>") != NULL);
    CHECK(strstr(x, "<recordNumber>3</recordNumber>") == NULL);
    CHECK(strstr(x, "<rdHeaderId>" ETSI_RD_OID "</rdHeaderId>") != NULL);
    CHECK(strstr(x, "<naAuthID>u000003@isp.example</naAuthID>") != NULL);
    /* serverID from legal.mta_addresses (no peer recorded for smtp1). */
    CHECK(strstr(x, "<serverID>\n                    <iPTextAddress>192.0.2.25</iPTextAddress>") !=
          NULL);
    CHECK(strstr(x, "\"NAS-Port-Type\"=\"Ethernet\"") != NULL);
    free(x);
    json_decref(doc);
    doc = json_load_file(DIR "/message_id_peer.json", 0, NULL);
    x = render(doc);
    CHECK(strstr(x, "<iPTextAddress>192.0.2.99</iPTextAddress>") != NULL); /* the peer */
    CHECK(strstr(x, "sourceServerName") == NULL); /* not Postfix's "unknown" */
    CHECK(strstr(x, ">unknown<") == NULL);
    free(x);
    json_decref(doc);
    doc = json_load_file(DIR "/denied.json", 0, NULL);
    x = render(doc);
    CHECK(strstr(x, "<responseComplete/>") != NULL);
    CHECK(strstr(x, "ResponseRecord") == NULL);
    CHECK(strstr(x, "responsePayload") == NULL);
    free(x);
    json_decref(doc);
}

/* otherInformation: a quote in a value is doubled, a ";" cannot split a pair. */
static void test_other_information_quoting(void) {
    json_t *doc = json_loads(
        "{\"header\":{\"country\":\"GB\",\"organisation\":\"A & B <court>\",\"request\":\"R-1\","
        "\"csp_id\":\"isp\",\"now\":\"2026-11-22T10:00:00Z\"},\"results\":[{\"query\":{\"ip\":"
        "\"192.0.2.1\"},\"sessions\":[{\"user_name\":\"x\",\"start\":\"2026-11-21T08:00:00Z\","
        "\"nas_ip\":\"192.0.2.9\",\"acct_session_id\":\"a\\\"b;c\",\"framed_ip\":\"192.0.2.1\"}]}]"
        "}",
        0, NULL);
    char *x = render(doc);
    CHECK(strstr(x, "\"Acct-Session-Id\"=\"a\"\"b,c\"") != NULL);
    CHECK(
        strstr(x, "<authorisedOrganisationID>A &amp; B &lt;court&gt;</authorisedOrganisationID>") !=
        NULL);
    CHECK(strstr(x, "<timeStamp>20261122100000Z</timeStamp>") != NULL);
    free(x);
    json_decref(doc);
}

static const check_test tests[] = {
    {"golden", test_golden},
    {"properties", test_properties},
    {"other_information_quoting", test_other_information_quoting},
    {0},
};

int main(void) {
    return check_main("etsi_rd", tests);
}
