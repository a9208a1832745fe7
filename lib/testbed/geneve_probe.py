#!/usr/bin/python3
# Sends one Geneve-encapsulated ICMP echo (scapy, an implementation we did not write) and reports
# every Geneve packet that comes back, decoded, as JSON lines. Run inside a sled namespace:
#   geneve_probe.py '{"src":..., "dst":..., "vni":99, "srcMac":..., "dstMac":..., "src4":...,
#                     "dst4":..., "ifaces":["ul0","ul1"], "timeout":3,
#                     "via": {"iface": "ul0", "srcMac": ..., "dstMac": ...}}'
import json
import sys
import time

from scapy.all import AsyncSniffer, Ether, ICMP, IP, IPv6, UDP, Raw, send, sendp, conf
from scapy.contrib.geneve import GENEVE, GeneveOptions

conf.verb = 0
# scapy 2.5 parses only the first option unless padding extraction hands the rest back.
GeneveOptions.extract_padding = lambda self, s: (b"", s)

a = json.loads(sys.argv[1])
ident = int(time.time()) & 0xFFFF
sniffer = AsyncSniffer(iface=a["ifaces"], filter=f"ip6 and udp port 6081 and src host {a['dst']}",
                       store=True)
sniffer.start()
time.sleep(0.5)
inner = (Ether(src=a["srcMac"], dst=a["dstMac"]) / IP(src=a["src4"], dst=a["dst4"], ttl=64) /
         ICMP(type=8, id=ident, seq=1) / Raw(b"xdeno-testbed-probe"))
# zeroChecksum: the RFC 6936 zero UDP checksum OPTE sends for tunnels over IPv6.
udp = UDP(sport=40000, dport=6081, chksum=0) if a.get("zeroChecksum") else UDP(sport=40000, dport=6081)
pkt = IPv6(src=a["src"], dst=a["dst"], hlim=64) / udp / \
    GENEVE(vni=a["vni"], proto=0x6558) / inner
if "via" in a:
    # Explicit L2 on one link: scapy's IPv6 routing does not follow multipath routes.
    v = a["via"]
    sendp(Ether(src=v["srcMac"], dst=v["dstMac"]) / pkt, iface=v["iface"])
else:
    send(pkt)
time.sleep(a.get("timeout", 3))
sniffer.stop()
for p in sniffer.results or []:
    if GENEVE not in p:
        continue
    g = p[GENEVE]
    u = p[UDP]
    raw_udp = bytes(u)
    # Recompute the UDP checksum scapy-side: zero is the RFC 6936 tunnel exception.
    chk = u.chksum
    if chk:
        u2 = p[IPv6].copy()
        u2[UDP].chksum = None
        good = IPv6(bytes(u2))[UDP].chksum == chk
    else:
        good = None
    opts = []
    for o in g.options or []:
        opts.append({"class": o.classid, "type": o.type, "len": o.length * 4,
                     "data": bytes(o.data).hex() if o.data else ""})
    e = g.payload
    out = {"outerSrc": p[IPv6].src, "outerDst": p[IPv6].dst, "sport": u.sport, "dport": u.dport,
           "udpChecksum": chk, "udpChecksumOk": good, "vni": g.vni, "proto": g.proto,
           "options": opts, "innerSrcMac": e.src if Ether in e else None,
           "innerDstMac": e.dst if Ether in e else None, "len": len(raw_udp)}
    if IP in e:
        ip = e[IP]
        out.update({"innerSrc": ip.src, "innerDst": ip.dst})
        if ICMP in ip:
            out.update({"icmpType": ip[ICMP].type, "icmpId": ip[ICMP].id, "sentId": ident})
    print(json.dumps(out))
