#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Turn simple efimap .scn files into the driver's line protocol (for tests).

Handles map lines of the form `TYPE PHYS PAGES ATTR [virt=V] [pad=P]` with
ATTR a number or bit names joined by '|'; dmesg-style map lines are not
supported (the Rust side is the real translator).

Usage: scn2proto.py [--quiet] FILE.scn...  > input
"""
import re
import sys

LONG = ["Reserved", "Loader Code", "Loader Data", "Boot Code", "Boot Data",
        "Runtime Code", "Runtime Data", "Conventional Memory", "Unusable Memory",
        "ACPI Reclaim Memory", "ACPI Memory NVS", "Memory Mapped I/O",
        "MMIO Port Space", "PAL Code", "Persistent Memory"]
SHORT = ["Reserved", "Loader Code", "Loader Data", "Boot Code", "Boot Data",
         "Runtime Code", "Runtime Data", "Conventional", "Unusable",
         "ACPI Reclaim", "ACPI Mem NVS", "MMIO", "MMIO Port", "PAL Code",
         "Persistent"]
DMESG = re.compile(r"\[([^|\]]+)\|(.*)\] range=\[0x([0-9a-f]+)-0x([0-9a-f]+)\]")

ATTRS = {
    "UC": 0x1, "WC": 0x2, "WT": 0x4, "WB": 0x8, "UCE": 0x10, "WP": 0x1000,
    "RP": 0x2000, "XP": 0x4000, "NV": 0x8000, "MR": 0x10000, "RO": 0x20000,
    "SP": 0x40000, "CC": 0x80000, "HP": 1 << 20, "RUN": 1 << 63,
}


def attr(s):
    try:
        return int(s, 0)
    except ValueError:
        v = 0
        for part in s.split("|"):
            v |= ATTRS[part]
        return v


def convert(path, quiet):
    out = ["boot", "quiet %d" % quiet]
    in_map = False
    for raw in open(path):
        line = raw.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if in_map and line[:1] in " \t" and DMESG.search(line):
            m = DMESG.search(line)
            name = m.group(1).strip()
            t = LONG.index(name) if name in LONG else SHORT.index(name)
            a = 0
            for col in m.group(2).split("|"):
                if col.strip():
                    a |= ATTRS[col.strip()]
            start, end = int(m.group(3), 16), int(m.group(4), 16)
            out.append("desc %d 0x0 0x%x 0x0 0x%x 0x%x" % (t, start, (end + 1 - start) >> 12, a))
            continue
        if in_map and line[:1] in " \t":
            f = line.split()
            virt = pad = 0
            for extra in f[4:]:
                k, v = extra.split("=", 1)
                if k == "virt":
                    virt = int(v, 0)
                elif k == "pad":
                    pad = int(v, 0)
            out.append("desc %s 0x%x 0x%x 0x%x 0x%x 0x%x" % (
                f[0], pad, int(f[1], 0), virt, int(f[2], 0), attr(f[3])))
            continue
        in_map = False
        word, _, rest = line.partition(" ")
        if word == "map":
            in_map = True
        elif word == "fill":
            out.append("fill " + (rest if rest in ("zero", "stale") else "pattern " + rest))
        elif word in ("desc_size", "reserve", "memblock"):
            out.append(line)
        elif word == "cmdline":
            out.append("cmdline " + rest)
        elif word in ("kexec", "virtual-mode"):
            out.append("later " + word)
    out.append("go")
    return "\n".join(out) + "\n"


def main():
    quiet = 0
    files = []
    for a in sys.argv[1:]:
        if a == "--quiet":
            quiet = 1
        else:
            files.append(a)
    for f in files:
        sys.stdout.write(convert(f, quiet))


if __name__ == "__main__":
    main()
