#!/usr/bin/python3
# What this kernel accepts from a packet socket with PACKET_VNET_HDR (and PACKET_VNET_HDR_SZ)
# when the frame is a Geneve packet carrying one large inner TCP segment: which gso_type values
# send() takes, and how many frames the peer end of a veth receives. Run as root:
#   /usr/bin/python3 tests/link/gso_probe.py
# Prints one JSON line per case. The namespace carries a random prefix and is always removed.
# First: a UDP_L4 GSO frame whose UDP payload is a row of whole Geneve packets (gso_size each,
# the last shorter), sent from a0 through a router namespace to b0: what the router's and b0's
# packet sockets report (one frame, gso_type 5, or the kernel's datagrams when the router's
# egress has tx-udp-segmentation off).
import ctypes
import json
import os
import random
import select
import socket
import struct
import subprocess

SOL_PACKET, PACKET_VNET_HDR, PACKET_VNET_HDR_SZ, ETH_P_ALL = 263, 15, 24, 0x0003
NEEDS_CSUM = 1
TCPV4, UDP, TCPV6, UDP_L4 = 1, 3, 4, 5
TUNNEL_IPV4, TUNNEL_IPV6, TUNNEL_CSUM = 0x20, 0x40, 0x80  # VIRTIO_NET_HDR_GSO_UDP_TUNNEL_*
MSS, UNITS = 1448, 20


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def frame():
    """Ethernet/IPv6/UDP 6081/Geneve/Ethernet/IPv4/TCP with UNITS * MSS bytes (partial TCP csum)."""
    body = piece(0, UNITS)
    udp_len = 8 + len(body)
    udp = struct.pack("!HHHH", 50000, 6081, udp_len, 0)
    ip6 = struct.pack("!IHBB16s16s", 6 << 28, udp_len, 17, 255,
                      socket.inet_pton(socket.AF_INET6, "fd00:1::1"),
                      socket.inet_pton(socket.AF_INET6, "fd00:2::1"))
    eth = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x86\xdd"
    return eth + ip6 + udp + body


def sh(*a):
    subprocess.run(a, check=True, capture_output=True)


def case(ns, name, hdr, hdr_sz, f):
    """Sends `f` behind `hdr` from pa to pb inside `ns`; returns what happened."""
    fd = os.open(f"/var/run/netns/{ns}", os.O_RDONLY)
    ctypes.CDLL(None, use_errno=True).setns(fd, 0)  # os.setns needs Python 3.12
    os.close(fd)
    rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    rx.bind(("pb", 0))
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    out = {"case": name}
    step = "setsockopt"
    try:
        tx.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
        if hdr_sz != 10:
            tx.setsockopt(SOL_PACKET, PACKET_VNET_HDR_SZ, hdr_sz)
        tx.bind(("pa", 0))
        step = "send"
        tx.send(hdr + b"\0" * (hdr_sz - len(hdr)) + f)
        out["send"] = "ok"
    except OSError as e:
        out["send"] = f"{step}: {e.strerror} (errno {e.errno})"
    got = []
    while select.select([rx], [], [], 0.3)[0]:
        p = rx.recv(70000)
        if len(p) > 56 and p[20] == 17 and p[56:58] == b"\x17\xc1":  # UDP to 6081 only
            got.append(len(p))
    out["rx_frames"] = len(got)
    out["rx_sizes"] = sorted(set(got))
    rx.close()
    tx.close()
    return out


PIECES, PIECE_UNITS = 7, 6  # a UDP_L4 super-frame: 7 Geneve packets of 6 * MSS inner bytes


def piece(seq, units=PIECE_UNITS):
    """Geneve header + inner Ethernet/IPv4/TCP with units * MSS bytes (partial TCP csum)."""
    data = bytes(((seq + i) * 7) & 0xFF for i in range(units * MSS))
    tcp = struct.pack("!HHIIBBHHH", 40000, 5201, 1 + seq, 1, 5 << 4, 0x10, 512, 0, 0)
    ip4 = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(data), 1, 0x4000,
                                64, 6, 0, bytes([172, 30, 0, 10]), bytes([172, 30, 0, 11])))
    struct.pack_into("!H", ip4, 10, ~csum(bytes(ip4)) & 0xFFFF)
    ps = csum(bytes(ip4[12:20]) + struct.pack("!HH", 6, len(tcp) + len(data)))
    tcp = tcp[:16] + struct.pack("!H", ps) + tcp[18:]
    inner = b"\xa8\x40\x25\xfa\x00\x0b\xa8\x40\x25\xfa\x00\x0a\x08\x00" + bytes(ip4) + tcp + data
    return struct.pack("!BBHI", 2, 0, 0x6558, 10 << 8) + struct.pack("!HBBI", 0x0129, 2, 1, MSS) + inner


def super_frame(dst_mac, n=PIECES):
    """Outer Ethernet/IPv6/UDP around n Geneve pieces (the last one shorter), UDP check = pseudo sum."""
    ps = [piece(k * PIECE_UNITS * MSS) for k in range(n)]
    ps[-1] = ps[-1][: len(ps[-1]) - 3 * MSS]
    ps[-1] = ps[-1][:16 + 14 + 2] + struct.pack("!H", len(ps[-1]) - 16 - 14) + ps[-1][16 + 14 + 4:]
    body = b"".join(ps)
    udp_len = 8 + len(body)
    src = socket.inet_pton(socket.AF_INET6, "fd00:1::1")
    dst = socket.inet_pton(socket.AF_INET6, "fd00:2::1")
    check = csum(src + dst + struct.pack("!IxxxB", udp_len, 17))
    udp = struct.pack("!HHHH", 50000, 6081, udp_len, check)
    ip6 = struct.pack("!IHBB16s16s", 6 << 28, udp_len, 17, 64, src, dst)
    eth = dst_mac + b"\x02\x00\x00\x00\x00\x01\x86\xdd"
    return eth + ip6 + udp + body, len(ps[0])


def enter(ns):
    fd = os.open(f"/var/run/netns/{ns}", os.O_RDONLY)
    ctypes.CDLL(None, use_errno=True).setns(fd, 0)
    os.close(fd)


def vnet_socket(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    s.bind((ifname, 0))
    return s


def drain(s, keep):
    """Every Geneve frame waiting on `s` (vnet header first): header fields and length."""
    got = []
    while select.select([s], [], [], 0.3)[0]:
        p = s.recv(70000)
        f = p[10:]
        if len(f) > 56 and f[20] == 17 and f[56:58] == b"\x17\xc1":
            fl, gt, hl, gs, cs, co = struct.unpack("<BBHHHH", p[:10])
            got.append({"len": len(f), "flags": fl, "gso_type": gt, "gso_size": gs,
                        "csum_start": cs, "csum_offset": co} if keep else len(f))
    return got


def mac_of(ns, ifname):
    out = subprocess.run(["ip", "-n", ns, "-j", "link", "show", ifname], capture_output=True,
                         check=True).stdout
    return json.loads(out)[0]["address"]


def routed(ns):
    """a0 -> router (forwarding, r1 tso/gso as asked) -> b0: what b0's packet socket and the
    router's ingress see of one UDP_L4 super-frame, and whether its pieces are whole Geneve
    packets after the kernel's segmentation (router egress with gso off)."""
    a, r, b = ns + "a", ns + "r", ns + "b"
    for n in (a, r, b):
        sh("ip", "netns", "add", n)
    try:
        sh("ip", "link", "add", "a0", "netns", a, "mtu", "9000", "type", "veth", "peer", "r0",
           "netns", r, "mtu", "9000")
        sh("ip", "link", "add", "r1", "netns", r, "mtu", "9000", "type", "veth", "peer", "b0",
           "netns", b, "mtu", "9000")
        for n, i in ((a, "a0"), (r, "r0"), (r, "r1"), (b, "b0")):
            sh("ip", "-n", n, "link", "set", i, "up")
        sh("ip", "netns", "exec", r, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
        sh("ip", "-n", r, "addr", "add", "fd00:1::ff/64", "dev", "r0", "nodad")
        sh("ip", "-n", r, "addr", "add", "fd00:2::ff/64", "dev", "r1", "nodad")
        bmac, rmac = mac_of(b, "b0"), mac_of(r, "r0")
        sh("ip", "-n", r, "neigh", "add", "fd00:2::1", "lladdr", bmac, "dev", "r1", "nud",
           "permanent")
        f, gso = super_frame(bytes.fromhex(rmac.replace(":", "")))
        hdr = struct.pack("<BBHHHH", NEEDS_CSUM, UDP_L4, 14 + 40 + 8, gso, 14 + 40, 6)
        results = []
        for gso_off in (False, True):
            sh("ip", "netns", "exec", r, "ethtool", "-K", "r1", "tx-udp-segmentation",
               "off" if gso_off else "on")
            enter(b)
            rx = vnet_socket("b0")
            enter(r)
            mid = vnet_socket("r0")
            enter(a)
            tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            tx.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
            tx.bind(("a0", 0))
            out = {"case": "UDP_L4 super-frame of Geneve pieces, routed" +
                   (" (router egress tx-udp-segmentation off)" if gso_off else ""),
                   "frame_bytes": len(f), "gso_size": gso}
            try:
                tx.send(hdr + f)
                out["send"] = "ok"
            except OSError as e:
                out["send"] = f"send: {e.strerror} (errno {e.errno})"
            out["router_rx"] = drain(mid, True)
            out["b0_rx"] = drain(rx, True)
            results.append(out)
            for s in (tx, mid, rx):
                s.close()
        return results
    finally:
        for n in (a, r, b):
            subprocess.run(["ip", "netns", "del", n], capture_output=True)


def main():
    ns = f"gp{random.randrange(1 << 20):05x}"
    for r in routed(ns):
        print(json.dumps(r))
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "-n", ns, "link", "add", "pa", "mtu", "9000", "type", "veth", "peer", "pb", "mtu",
           "9000")
        sh("ip", "-n", ns, "link", "set", "pa", "up")
        sh("ip", "-n", ns, "link", "set", "pb", "up")
        f = frame()
        ih = 14 + 40 + 8 + 16  # start of the inner Ethernet header
        in_l4 = ih + 14 + 20
        outer_hdr = 14 + 40 + 8
        big = len(f) > 9014
        def h(gso_type, size, start, off, hdr_len, extra=b""):
            return struct.pack("<BBHHHH", NEEDS_CSUM, gso_type, hdr_len, size, start, off) + extra
        # virtio_net_hdr_v1 + hash (12 + 8) + tunnel outer/inner transport offsets (2 + 2).
        tnl = struct.pack("<HHIHH", 1, 0, 0, outer_hdr - 8, in_l4)
        cases = [
            ("plain frame, no GSO (control, over the MTU)" if big else "plain", h(0, 0, in_l4, 16, 0), 10),
            ("TCPV4 on the Geneve packet (inner offsets)", h(TCPV4, MSS, in_l4, 16, in_l4 + 20), 10),
            ("UDP_L4 on the outer UDP", h(UDP_L4, 8 + 8 + 14 + 20 + 20 + MSS, outer_hdr - 8, 6, outer_hdr), 10),
            ("UDP_TUNNEL_IPV6|TCPV4, 10-byte header", h(TUNNEL_IPV6 | TCPV4, MSS, in_l4, 16, in_l4 + 20), 10),
            ("UDP_TUNNEL_IPV6|TCPV4, 24-byte header (v1 hash tunnel)",
             h(TUNNEL_IPV6 | TCPV4, MSS, in_l4, 16, in_l4 + 20, tnl), 24),
        ]
        for name, hdr, sz in cases:
            print(json.dumps(case(ns, name, hdr, sz, f)))
        print(json.dumps({"kernel": os.uname().release, "frame_bytes": len(f)}))
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


main()
