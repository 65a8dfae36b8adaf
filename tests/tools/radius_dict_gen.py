#!/usr/bin/env python3
"""Generate ingest/radius_dict.inc, the attribute table of ingest/radius_dict.c.

  tests/tools/radius_dict_gen.py [--dir /usr/share/freeradius] [--no-oracle] |
    clang-format --assume-filename=radius_dict.c > ingest/radius_dict.inc

Reads the FreeRADIUS dictionary tree (Debian package freeradius-common) in
the order FreeRADIUS loads it: every standard attribute, the vendors in
VENDORS, and every VALUE line for the enumerated ones among them.

Names must be spelled the way FreeRADIUS prints them.  Where a dictionary
gives two names to one number (Alive and Interim-Update; vendor files adding
VALUEs to Service-Type), which one FreeRADIUS prints depends on its load
order, so unless --no-oracle is given the script asks FreeRADIUS itself:
it sends an Accounting-Request with radclient (freeradius-utils) to a UDP
listener on 127.0.0.1 that answers with an Accounting-Response carrying the
attributes in question, and reads the names radclient prints for them.  Only
loopback traffic; nothing is installed or started.

Development tool only: not run by the build or the tests.
"""
import glob, hashlib, os, re, socket, struct, subprocess, sys, threading

# Standard attributes (vendor 0, 1..255) come from every dictionary FreeRADIUS
# loads, so that a number FreeRADIUS can name is named here too; vendor
# attributes only for these vendors.
VENDORS = {9, 311, 2352, 2636, 3561, 4874, 14988}
TYPES = {"string": "RADIUS_T_STRING", "octets": "RADIUS_T_OCTETS", "ipaddr": "RADIUS_T_IPADDR",
         "ipv6addr": "RADIUS_T_IPV6ADDR", "ipv6prefix": "RADIUS_T_IPV6PREFIX",
         "ifid": "RADIUS_T_IFID", "integer": "RADIUS_T_INTEGER", "integer64": "RADIUS_T_INTEGER64",
         "date": "RADIUS_T_DATE", "byte": "RADIUS_T_BYTE", "short": "RADIUS_T_SHORT",
         "signed": "RADIUS_T_SIGNED", "ether": "RADIUS_T_ETHER"}


def parse(path, vendors, attrs, values):
    vendor = 0
    for line in open(path, encoding="latin-1"):
        line = line.split("#", 1)[0].split()
        if not line:
            continue
        kw = line[0]
        if kw == "VENDOR":
            vendors[line[1]] = int(line[2], 0)
        elif kw == "BEGIN-VENDOR":
            vendor = vendors[line[1]]
        elif kw == "END-VENDOR":
            vendor = 0
        elif kw == "ATTRIBUTE":
            name, num, typ = line[1], line[2], line[3].lower()
            flags = line[4] if len(line) > 4 else ""
            if "." in num:
                continue  # TLV children and RFC 6929 extended attributes
            fixed = None
            m = re.match(r"octets\[(\d+)\]", typ)
            if m:
                typ, fixed = "octets", int(m.group(1))
            num = int(num, 0)
            keep = (vendor == 0 and 1 <= num <= 255 and num != 26 and not 241 <= num <= 246) or \
                vendor in VENDORS
            keep = keep and typ in TYPES and "encrypt" not in flags and "virtual" not in flags
            attrs.append({"vendor": vendor, "attr": num, "name": name, "type": typ,
                          "tag": "has_tag" in flags, "fixed": fixed, "keep": keep})
        elif kw == "VALUE":
            values.setdefault(line[1], {}).setdefault(int(line[3], 0), line[2])


def include_order(dict_dir, name):
    """The dictionary files in the order FreeRADIUS loads them ($INCLUDE)."""
    path = os.path.join(dict_dir, name)
    out = []
    for line in open(path, encoding="latin-1"):
        w = line.split("#", 1)[0].split()
        if w and w[0] in ("$INCLUDE", "$INCLUDE-"):
            out += include_order(dict_dir, w[1])
    return [path] + out


SAMPLE = {"string": b"x", "octets": b"\x01\x02", "ipaddr": bytes(4), "ipv6addr": bytes(16),
          "ipv6prefix": bytes([0, 64]) + bytes(8), "ifid": bytes(8), "integer": None,
          "integer64": bytes(8), "date": bytes(4), "byte": b"\x01", "short": b"\x00\x01",
          "signed": bytes(4), "ether": bytes(6)}


def encode(a, body):
    if a["tag"]:
        body = (b"\x01" + body[1:]) if a["type"] == "integer" else b"\x01" + body
    if a["vendor"]:
        return bytes([26, len(body) + 8]) + struct.pack("!I", a["vendor"]) + \
            bytes([a["attr"], len(body) + 2]) + body
    return bytes([a["attr"], len(body) + 2]) + body


def oracle(attr_bytes, dict_dir):
    """What radclient prints for an Accounting-Response carrying ATTR_BYTES."""
    secret = b"oracle"
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(10)
    port = s.getsockname()[1]

    def serve():
        data, addr = s.recvfrom(5000)
        hdr = struct.pack("!BBH", 5, data[1], 20 + len(attr_bytes))
        auth = hashlib.md5(hdr + data[4:20] + attr_bytes + secret).digest()
        s.sendto(hdr + auth + attr_bytes, addr)

    t = threading.Thread(target=serve)
    t.start()
    out = subprocess.run(["radclient", "-x", "-d", dict_dir, "127.0.0.1:%d" % port, "acct",
                          secret.decode()], input=b"Acct-Status-Type = Start\n",
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={"TZ": "UTC", "PATH": os.environ["PATH"]}).stdout
    t.join()
    s.close()
    lines = out.decode("utf-8", "replace").split("\n")
    if not any(l.startswith("Received") for l in lines):
        sys.exit("radclient: " + out.decode("utf-8", "replace")[-2000:])
    i = next(k for k, l in enumerate(lines) if l.startswith("Received"))
    res = []
    for l in lines[i + 1:]:
        if l.startswith("\t"):
            name, _, val = l[1:].partition(" = ")
            res.append((name, val))
    return res


def batches(items, size):
    b, n = [], 0
    for it in items:
        if n + len(it[1]) > 4000:
            yield b
            b, n = [], 0
        b.append(it)
        n += len(it[1])
    if b:
        yield b


def main():
    dict_dir = "/usr/share/freeradius"
    use_oracle = "--no-oracle" not in sys.argv
    if "--dir" in sys.argv:
        dict_dir = sys.argv[sys.argv.index("--dir") + 1]
    vendors, attrs, values = {}, [], {}
    for path in include_order(dict_dir, "dictionary"):
        parse(path, vendors, attrs, values)
    # One entry per (vendor, attr): like FreeRADIUS, the definition loaded
    # last wins; left out if that one is excluded (encrypted, TLV, ...).
    last = {}
    for a in attrs:
        last[(a["vendor"], a["attr"])] = a
    table = [a for a in last.values() if a["keep"]]
    # VALUEs belong to a number, whichever name they were given under (the
    # Ascend dictionaries reuse standard numbers): FreeRADIUS prints them so.
    number_of = {}
    for a in attrs:
        number_of.setdefault(a["name"], set()).add((a["vendor"], a["attr"]))
    for a in table:
        a["values"] = {}
    by_key = {(a["vendor"], a["attr"]): a for a in table}
    for name, vals in values.items():
        for key in number_of.get(name, ()):
            a = by_key.get(key)
            if a and a["type"] == "integer":
                for num, vname in vals.items():
                    a["values"].setdefault(num, vname)
    if use_oracle:
        items = []
        for a in table:
            if (a["vendor"], a["attr"]) in ((0, 79), (0, 80)):
                continue  # radclient drops a reply with EAP-Message or a wrong Message-Authenticator
            body = a["fixed"] and bytes(a["fixed"]) or SAMPLE[a["type"]] or struct.pack("!I", 0x7ffffff1)
            items.append((a, encode(a, body), None))
            for num in sorted(a["values"]):
                items.append((a, encode(a, struct.pack("!I", num)), num))
        for b in batches(items, 4000):
            got = oracle(b"".join(x[1] for x in b), dict_dir)
            if len(got) != len(b):
                sys.exit("oracle printed %d attributes for %d sent" % (len(got), len(b)))
            for (a, _, num), (name, val) in zip(b, got):
                name = name.split(":")[0]
                if num is None:
                    if name != a["name"]:
                        print("renamed %s -> %s" % (a["name"], name), file=sys.stderr)
                        a["name"] = name
                elif val != a["values"][num]:
                    if re.fullmatch(r"\d+", val):
                        del a["values"][num]
                    else:
                        a["values"][num] = val
    table.sort(key=lambda a: (a["vendor"], a["attr"]))
    vnames = {v: n for n, v in vendors.items()}
    out = ["/* Generated by tests/tools/radius_dict_gen.py from the FreeRADIUS dictionaries",
           " * (Debian freeradius-common); names checked against radclient.  Do not edit. */", ""]
    for a in table:
        if a["values"]:
            ident = "v_%d_%d" % (a["vendor"], a["attr"])
            a["ident"] = ident
            out.append("static const radius_dict_value %s[] = {" % ident)
            for num in sorted(a["values"]):
                out.append('    {%uU, "%s"},' % (num, a["values"][num]))
            out.append("};")
    out.append("")
    out.append("static const radius_dict_attr dict_attrs[] = {")
    for a in table:
        vals = "NV(%s)" % a["ident"] if a["values"] else "NULL, 0"
        out.append('    {%d, %d, "%s", %s, %d, %s},' % (a["vendor"], a["attr"], a["name"],
                                                        TYPES[a["type"]], 1 if a["tag"] else 0,
                                                        vals))
    out.append("};")
    out.append("")
    out.append("static const radius_dict_vendor dict_vendors[] = {")
    used = sorted({a["vendor"] for a in table if a["vendor"]})
    for v in used:
        out.append('    {%d, "%s"},' % (v, vnames[v]))
    out.append("};")
    print("\n".join(out))


main()
