#!/usr/bin/env python3
"""Writes a scenario's input capture: python3 pcapng_gen.py SCENARIO_DIR OUT.pcapng [big]

SCENARIO_DIR/packets.py defines PACKETS, a list of (seconds, interface, scapy packet); the
interface is a port or underlay link name of the scenario's config. scapy 2.5's pcapng writer
has one unnamed interface, so the blocks are packed here: a section header, one interface
block per name (if_name, microsecond if_tsresol) and enhanced packet blocks. "big" writes the
file big-endian (pcapng readers must take both byte orders).
"""
import importlib.util
import struct
import sys

BASE = 1_700_000_000  # capture start (seconds since the epoch); replay counts from the first


def block(e, btype, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


def option(e, code, value):
    return struct.pack(e + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def main():
    scen, out = sys.argv[1], sys.argv[2]
    e = ">" if len(sys.argv) > 3 and sys.argv[3] == "big" else "<"
    spec = importlib.util.spec_from_file_location("packets", f"{scen}/packets.py")
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, scen + "/..")
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    spec.loader.exec_module(mod)
    names, blocks = {}, [block(e, 0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1))]
    for t, ifname, pkt in mod.PACKETS:
        if ifname not in names:
            names[ifname] = len(names)
            opts = option(e, 2, ifname.encode()) + option(e, 9, bytes([6])) + b"\0\0\0\0"
            blocks.append(block(e, 1, struct.pack(e + "HHI", 1, 0, 262144) + opts))
        raw = bytes(pkt)
        ts = int(round((BASE + t) * 1_000_000))
        body = struct.pack(e + "IIIII", names[ifname], ts >> 32, ts & 0xFFFFFFFF, len(raw), len(raw))
        blocks.append(block(e, 6, body + raw))
    with open(out, "wb") as f:
        f.write(b"".join(blocks))


main()
