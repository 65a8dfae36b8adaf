/* Tests for collect/radius_dict: the table is sorted and unambiguous, and the
 * names that matter for tracing are spelled as FreeRADIUS prints them. */
#include "check.h"
#include "radius_dict.h"

#include <strings.h>

static void test_table_sorted(void) {
    size_t n;
    const radius_dict_attr *t = radius_dict_all(&n);
    CHECK(n > 700);
    for (size_t i = 1; i < n; i++)
        CHECK(t[i - 1].vendor < t[i].vendor ||
              (t[i - 1].vendor == t[i].vendor && t[i - 1].attr < t[i].attr));
    for (size_t i = 0; i < n; i++) {
        CHECK(t[i].vendor != 0 || (t[i].attr >= 1 && t[i].attr <= 255));
        CHECK(t[i].attr <= 255);
        CHECK(t[i].vendor == 0 || radius_dict_vendor_name(t[i].vendor) != NULL);
        CHECK(radius_dict_find(t[i].vendor, t[i].attr) == &t[i]);
        for (size_t k = 1; k < t[i].n_values; k++)
            CHECK(t[i].values[k - 1].value < t[i].values[k].value);
        CHECK(t[i].n_values == 0 || t[i].type == RADIUS_T_INTEGER);
    }
    /* Names are unique, so a detail line names one attribute. */
    for (size_t i = 0; i < n; i++)
        for (size_t k = i + 1; k < n; k++)
            if (strcasecmp(t[i].name, t[k].name) == 0) {
                fprintf(stderr, "duplicate name %s\n", t[i].name);
                CHECK(0);
            }
}

static void test_attrs(void) {
    static const struct {
        uint32_t vendor, attr;
        const char *name, *type;
        int tag;
    } cases[] = {
        {0, 1, "User-Name", "string", 0},
        {0, 4, "NAS-IP-Address", "ipaddr", 0},
        {0, 5, "NAS-Port", "integer", 0},
        {0, 8, "Framed-IP-Address", "ipaddr", 0},
        {0, 25, "Class", "octets", 0},
        {0, 31, "Calling-Station-Id", "string", 0},
        {0, 40, "Acct-Status-Type", "integer", 0},
        {0, 44, "Acct-Session-Id", "string", 0},
        {0, 49, "Acct-Terminate-Cause", "integer", 0},
        {0, 52, "Acct-Input-Gigawords", "integer", 0},
        {0, 55, "Event-Timestamp", "date", 0},
        {0, 64, "Tunnel-Type", "integer", 1},
        {0, 81, "Tunnel-Private-Group-Id", "string", 1},
        {0, 85, "Acct-Interim-Interval", "integer", 0},
        {0, 87, "NAS-Port-Id", "string", 0},
        {0, 95, "NAS-IPv6-Address", "ipv6addr", 0},
        {0, 96, "Framed-Interface-Id", "ifid", 0},
        {0, 97, "Framed-IPv6-Prefix", "ipv6prefix", 0},
        {0, 98, "Login-IPv6-Host", "ipv6addr", 0},
        {0, 99, "Framed-IPv6-Route", "string", 0},
        {0, 100, "Framed-IPv6-Pool", "string", 0},
        {0, 123, "Delegated-IPv6-Prefix", "ipv6prefix", 0},
        {0, 168, "Framed-IPv6-Address", "ipv6addr", 0},
        {9, 1, "Cisco-AVPair", "string", 0},
        {311, 8, "MS-MPPE-Encryption-Types", "integer", 0}, /* FreeRADIUS prints the later name */
        {2352, 4, "Context-Name", "string", 0},
        {2352, 128, "Acct-Input-Octets-64", "integer64", 0},
        {2352, 145, "Mac-Addr", "string", 0},
        {3561, 1, "ADSL-Agent-Circuit-Id", "octets", 0},
        {3561, 2, "ADSL-Agent-Remote-Id", "octets", 0},
        {4874, 56, "ERX-Dhcp-Mac-Addr", "string", 0},
        {4874, 129, "ERX-IPv6-NdRa-Prefix", "ipv6prefix", 0},
        {14988, 8, "Mikrotik-Rate-Limit", "string", 0},
        {2636, 1, "Juniper-Local-User-Name", "string", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const radius_dict_attr *a = radius_dict_find(cases[i].vendor, cases[i].attr);
        CHECK(a != NULL);
        if (!a)
            continue;
        CHECK_STR(a->name, cases[i].name);
        CHECK_STR(radius_dict_type_name(a->type), cases[i].type);
        CHECK_INT(a->has_tag, cases[i].tag);
        CHECK(radius_dict_find_name(cases[i].name) == a);
    }
    /* Left out on purpose: encrypted, the VSA container, unknown numbers. */
    CHECK(radius_dict_find(0, 2) == NULL);
    CHECK(radius_dict_find(0, 26) == NULL);
    CHECK(radius_dict_find(0, 69) == NULL);
    CHECK(radius_dict_find(0, 21) == NULL); /* unassigned; FreeRADIUS prints Attr-21 too */
    CHECK(radius_dict_find(9999, 1) == NULL);
    CHECK(radius_dict_find_name("user-name") == radius_dict_find(0, 1));
    CHECK(radius_dict_find_name("No-Such-Attribute") == NULL);
}

static void test_values(void) {
    static const struct {
        uint32_t attr, value;
        const char *name; /* NULL: printed as a number */
    } cases[] = {
        {40, 1, "Start"},
        {40, 2, "Stop"},
        {40, 3, "Interim-Update"}, /* not "Alive" */
        {40, 7, "Accounting-On"},
        {40, 8, "Accounting-Off"},
        {40, 15, "Failed"},
        {40, 99, NULL},
        {49, 1, "User-Request"},
        {49, 2, "Lost-Carrier"},
        {49, 4, "Idle-Timeout"},
        {49, 5, "Session-Timeout"},
        {49, 6, "Admin-Reset"},
        {49, 11, "NAS-Reboot"},
        {49, 18, "Host-Request"},
        {49, 22, "Port-Disabled"},
        {6, 2, "Framed-User"},
        {6, 12, "Sip-session"}, /* what FreeRADIUS 3.2.1 prints, checked with radclient */
        {7, 1, "PPP"},
        {61, 15, "Ethernet"},
        {61, 5, "Virtual"},
        {61, 33, "PPPoEoVLAN"},
        {45, 1, "RADIUS"},
        {45, 3, "Remote"},
        {64, 3, "L2TP"},
        {65, 1, "IPv4"}, /* not "IP" */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const radius_dict_attr *a = radius_dict_find(0, cases[i].attr);
        CHECK(a != NULL);
        if (a)
            CHECK_STR(radius_dict_value_name(a, cases[i].value), cases[i].name);
    }
    uint32_t v = 0;
    const radius_dict_attr *st = radius_dict_find(0, 40);
    CHECK_INT(radius_dict_value_by_name(st, "interim-update", &v), 0);
    CHECK_INT(v, 3);
    CHECK_INT(radius_dict_value_by_name(st, "Bogus", &v), -1);
    CHECK(radius_dict_value_name(radius_dict_find(0, 1), 1) == NULL);
    CHECK_STR(radius_dict_vendor_name(9), "Cisco");
    CHECK_STR(radius_dict_vendor_name(2352), "Ericsson-AB");
    CHECK_STR(radius_dict_vendor_name(12345), NULL);
}

static const check_test tests[] = {
    {"table_sorted", test_table_sorted},
    {"attrs", test_attrs},
    {"values", test_values},
    {0},
};

int main(void) {
    return check_main("radius_dict", tests);
}
