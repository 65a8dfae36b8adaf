/*
 * radius_dict: a static RADIUS dictionary -- attribute number to name, type
 * and enumerated value names -- so spoor-collect can write accounting
 * packets as FreeRADIUS `detail` text with the names FreeRADIUS would print.
 *
 * Coverage: every standard attribute (1..255) FreeRADIUS 3.2.1's dictionary
 * names -- RFC 2865, 2866, 2867, 2868, 2869, 3162, 4818, 6911 and the rest,
 * plus the historical Ascend names FreeRADIUS still prints for numbers the
 * RFCs left unassigned -- and the vendors Cisco (9), Microsoft (311),
 * Ericsson-AB/Redback (2352), Juniper (2636), ADSL-Forum (3561, RFC 4679),
 * ERX/Juniper BNG (4874) and Mikrotik (14988).  Left out, so written as
 * Attr-N hex and never decoded wrongly: attributes FreeRADIUS encrypts
 * (User-Password, Tunnel-Password, ...), TLVs, RFC 6929 extended attributes.
 *
 * The table (radius_dict.inc) was generated once (by a throwaway script, not kept:
 * the project ships C only)
 * from Debian's freeradius-common 3.2.1 dictionaries, in FreeRADIUS's load
 * order (a later definition of a number wins, as in FreeRADIUS).  Names must
 * match what FreeRADIUS prints, because downstream readers (radius_detail,
 * people reading evidence) know FreeRADIUS's spelling; where the dictionaries
 * give one number two names (Acct-Status-Type 3 is "Alive" and "Interim-Update";
 * Service-Type 12 is named by several vendor files) the generator asked
 * FreeRADIUS itself, through radclient, which one it prints.
 *
 * Ownership: everything returned points into static tables; nothing is
 * allocated, nothing can fail.  Lookups return NULL when there is no entry.
 */
#ifndef SPOOR_RADIUS_DICT_H
#define SPOOR_RADIUS_DICT_H

#include <stddef.h>
#include <stdint.h>

typedef enum radius_type {
    RADIUS_T_STRING,     /* text, printed quoted and escaped */
    RADIUS_T_OCTETS,     /* binary, printed 0x<hex> */
    RADIUS_T_IPADDR,     /* 4 bytes */
    RADIUS_T_IPV6ADDR,   /* 16 bytes */
    RADIUS_T_IPV6PREFIX, /* reserved, prefix length, 0..16 address bytes (RFC 3162 §2.3) */
    RADIUS_T_IFID,       /* 8 bytes, printed as four hex groups */
    RADIUS_T_INTEGER,    /* 4 bytes unsigned; may have enumerated value names */
    RADIUS_T_INTEGER64,  /* 8 bytes unsigned */
    RADIUS_T_DATE,       /* 4 bytes, seconds since 1970 */
    RADIUS_T_BYTE,       /* 1 byte unsigned */
    RADIUS_T_SHORT,      /* 2 bytes unsigned */
    RADIUS_T_SIGNED,     /* 4 bytes signed */
    RADIUS_T_ETHER,      /* 6 bytes, printed aa:bb:cc:dd:ee:ff */
} radius_type;

typedef struct radius_dict_value {
    uint32_t value;
    const char *name;
} radius_dict_value;

typedef struct radius_dict_attr {
    uint32_t vendor; /* 0: a standard attribute */
    uint32_t attr;   /* the attribute (or vendor sub-attribute) number */
    const char *name;
    radius_type type;
    int has_tag;                     /* RFC 2868 tag: printed as Name:TAG */
    const radius_dict_value *values; /* sorted by value; NULL if none */
    size_t n_values;
} radius_dict_attr;

typedef struct radius_dict_vendor {
    uint32_t id;
    const char *name;
} radius_dict_vendor;

/* The attribute VENDOR/ATTR (vendor 0 for standard attributes), or NULL. */
const radius_dict_attr *radius_dict_find(uint32_t vendor, uint32_t attr);

/* The attribute named NAME (case-insensitive, as FreeRADIUS matches), or NULL. */
const radius_dict_attr *radius_dict_find_name(const char *name);

/* The name of VALUE of an enumerated attribute, or NULL (printed as a number). */
const char *radius_dict_value_name(const radius_dict_attr *a, uint32_t value);

/* The number named NAME (case-insensitive) of attribute A: 0 and *OUT set, or -1. */
int radius_dict_value_by_name(const radius_dict_attr *a, const char *name, uint32_t *out);

/* "Cisco", "Microsoft", ... or NULL for a vendor not in the table. */
const char *radius_dict_vendor_name(uint32_t vendor);

/* "string", "octets", "ipaddr", ... as in FreeRADIUS dictionaries. */
const char *radius_dict_type_name(radius_type t);

/* The whole table, sorted by (vendor, attr): for tests and tools. */
const radius_dict_attr *radius_dict_all(size_t *n);

#endif
