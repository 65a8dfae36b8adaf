#include "radius_dict.h"

#include <strings.h>

/* NV(array): an enumerated attribute's value table and its length. */
#define NV(v) v, sizeof v / sizeof v[0]
#include "radius_dict.inc"
#undef NV

#define N_ATTRS (sizeof dict_attrs / sizeof dict_attrs[0])
#define N_VENDORS (sizeof dict_vendors / sizeof dict_vendors[0])

const radius_dict_attr *radius_dict_find(uint32_t vendor, uint32_t attr) {
    size_t lo = 0, hi = N_ATTRS;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const radius_dict_attr *a = &dict_attrs[mid];
        if (a->vendor == vendor && a->attr == attr)
            return a;
        if (a->vendor < vendor || (a->vendor == vendor && a->attr < attr))
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Linear: names are looked up by tests and tools, not per packet. */
const radius_dict_attr *radius_dict_find_name(const char *name) {
    for (size_t i = 0; i < N_ATTRS; i++)
        if (strcasecmp(dict_attrs[i].name, name) == 0)
            return &dict_attrs[i];
    return NULL;
}

const char *radius_dict_value_name(const radius_dict_attr *a, uint32_t value) {
    size_t lo = 0, hi = a->n_values;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->values[mid].value == value)
            return a->values[mid].name;
        if (a->values[mid].value < value)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int radius_dict_value_by_name(const radius_dict_attr *a, const char *name, uint32_t *out) {
    for (size_t i = 0; i < a->n_values; i++)
        if (strcasecmp(a->values[i].name, name) == 0) {
            *out = a->values[i].value;
            return 0;
        }
    return -1;
}

const char *radius_dict_vendor_name(uint32_t vendor) {
    for (size_t i = 0; i < N_VENDORS; i++)
        if (dict_vendors[i].id == vendor)
            return dict_vendors[i].name;
    return NULL;
}

const char *radius_dict_type_name(radius_type t) {
    static const char *const names[] = {"string", "octets",  "ipaddr",    "ipv6addr", "ipv6prefix",
                                        "ifid",   "integer", "integer64", "date",     "byte",
                                        "short",  "signed",  "ether"};
    return (size_t)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

const radius_dict_attr *radius_dict_all(size_t *n) {
    *n = N_ATTRS;
    return dict_attrs;
}
