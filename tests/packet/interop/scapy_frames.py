#!/usr/bin/python3
"""Builds one frame per protocol xdeno speaks with scapy, writes them to a pcap (argv[1]) and
prints, as JSON, what scapy reads back from the wire bytes: per frame a flat list of layers
in `xdeno decode`'s field names (ICMP-quoted datagrams follow their ICMP layer) plus the flow
keys the datapath parser must find. The TypeScript interop test compares xdeno against it.
With `--describe FILE` it prints the same description of the frames in an existing pcap."""
import json
import logging
import struct
import sys

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

from scapy.all import (ARP, ICMP, IP, TCP, UDP, Ether, IPOption_Router_Alert, IPv6,  # noqa: E402
                       IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop, Raw, raw, rdpcap, wrpcap)
from scapy.contrib.geneve import GENEVE, GeneveOptions  # noqa: E402
from scapy.layers.dhcp import BOOTP, DHCP  # noqa: E402
from scapy.layers.dhcp6 import (DHCP6, DHCP6_Reply, DHCP6OptClientId,  # noqa: E402
                                DHCP6OptDNSDomains, DHCP6OptDNSServers, DHCP6OptIA_NA,
                                DHCP6OptIAAddress, DHCP6OptRapidCommit, DHCP6OptServerId,
                                DUID_LL)
from scapy.layers.inet6 import (ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS,  # noqa: E402
                                ICMPv6ND_RA, ICMPv6ND_RS, ICMPv6NDOptMTU, ICMPv6NDOptPrefixInfo,
                                ICMPv6NDOptSrcLLAddr, ICMPv6NDOptDstLLAddr, ICMPv6PacketTooBig,
                                _ICMPv6)

# scapy 2.5 parses only the first Geneve option without this (see testbed-notes §5).
GeneveOptions.extract_padding = lambda self, s: (b"", s)

ZONE, GW = "a8:40:25:00:01:0a", "a8:40:25:ff:77:77"
LL_ZONE, LL_GW = "fe80::aa40:25ff:fe00:10a", "fe80::aa40:25ff:feff:7777"


def frames():
    e, eb = Ether(src=ZONE, dst=GW), Ether(src=GW, dst=ZONE)
    yield "arp request", Ether(src=ZONE, dst="ff:ff:ff:ff:ff:ff") / ARP(
        op=1, hwsrc=ZONE, psrc="172.30.0.10", pdst="172.30.0.1")
    yield "arp reply", eb / ARP(op=2, hwsrc=GW, psrc="172.30.0.1", hwdst=ZONE, pdst="172.30.0.10")
    yield "ipv4 options udp", e / IP(src="172.30.0.10", dst="172.30.0.1", ttl=17, id=0x4242,
                                     flags="DF", options=[IPOption_Router_Alert()]) / UDP(
        sport=40010, dport=9000) / Raw(b"query")
    yield "ipv6 ext headers udp", e / IPv6(src="fd00:1::10", dst="fd00:1::11", hlim=9) / \
        IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / UDP(sport=40000, dport=7) / Raw(b"echo")
    yield "icmpv4 echo request", e / IP(src="172.30.0.10", dst="172.30.0.1") / ICMP(
        type=8, id=0x1234, seq=1) / Raw(b"ping")
    yield "icmpv4 frag needed", eb / IP(src="172.30.0.1", dst="172.30.0.10") / ICMP(
        type=3, code=4, nexthopmtu=1400) / IP(src="172.30.0.10", dst="8.8.8.8", flags="DF") / \
        UDP(sport=40001, dport=9000) / Raw(b"x" * 32)
    yield "icmpv4 time exceeded", eb / IP(src="172.30.0.1", dst="172.30.0.10") / ICMP(
        type=11, code=0) / IP(src="172.30.0.10", dst="8.8.8.8", ttl=1) / TCP(
        sport=40002, dport=443, flags="S", options=[("MSS", 1460)])
    yield "icmpv6 echo request", e / IPv6(src="fd00:1::10", dst="fd00:1::1") / \
        ICMPv6EchoRequest(id=0x4321, seq=2, data=b"ping6")
    yield "icmpv6 packet too big", eb / IPv6(src="fd00:1::1", dst="fd00:1::10") / \
        ICMPv6PacketTooBig(mtu=1280) / IPv6(src="fd00:1::10", dst="fd00:2::10") / UDP(
        sport=40003, dport=9) / Raw(b"y" * 40)
    yield "ndp rs", Ether(src=ZONE, dst="33:33:00:00:00:02") / IPv6(
        src=LL_ZONE, dst="ff02::2", hlim=255) / ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(lladdr=ZONE)
    yield "ndp ra", Ether(src=GW, dst="33:33:00:00:00:01") / IPv6(
        src=LL_GW, dst="ff02::1", hlim=255) / ICMPv6ND_RA(chlim=64, routerlifetime=1800) / \
        ICMPv6NDOptSrcLLAddr(lladdr=GW) / ICMPv6NDOptMTU(mtu=1500) / ICMPv6NDOptPrefixInfo(
        prefix="fd00:5::", prefixlen=64, validlifetime=86400, preferredlifetime=14400)
    yield "ndp ns", Ether(src=ZONE, dst="33:33:ff:ff:77:77") / IPv6(
        src=LL_ZONE, dst="ff02::1:ffff:7777", hlim=255) / ICMPv6ND_NS(tgt=LL_GW) / \
        ICMPv6NDOptSrcLLAddr(lladdr=ZONE)
    yield "ndp na", eb / IPv6(src=LL_GW, dst=LL_ZONE, hlim=255) / ICMPv6ND_NA(
        tgt=LL_GW, R=1, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=GW)
    yield "tcp syn mss ipv4", e / IP(src="172.30.0.10", dst="172.30.0.20") / TCP(
        sport=40004, dport=22, flags="S", seq=1000, options=[("MSS", 1460)])
    yield "tcp synack mss ipv6", eb / IPv6(src="fd00:1::11", dst="fd00:1::10") / TCP(
        sport=22, dport=40005, flags="SA", seq=5000, ack=1001, options=[("MSS", 1440)])
    yield "udp ipv4", e / IP(src="172.30.0.10", dst="172.30.0.20") / UDP(
        sport=40006, dport=9999) / Raw(b"hello udp")
    ul = Ether(src="a8:40:25:01:00:01", dst="a8:40:25:02:00:01")
    yield "geneve vni 99 external", ul / IPv6(src="fd00:1::1", dst="fd00:99::1") / UDP(
        sport=51234, dport=6081, chksum=0) / GENEVE(
        vni=99, proto=0x6558, options=[GeneveOptions(classid=0x0129, type=0x00)]) / Ether(
        src="a8:40:25:ff:00:01", dst=ZONE) / IP(src="8.8.8.8", dst="172.30.0.10") / TCP(
        sport=443, dport=40000, flags="SA", seq=7, ack=1001, options=[("MSS", 1400)])
    yield "geneve vni 100 mss", ul / IPv6(src="fd00:1::1", dst="fd00:2::1") / UDP(
        sport=51235, dport=6081, chksum=0) / GENEVE(vni=100, proto=0x6558, options=[
            GeneveOptions(classid=0x0129, type=0x02, data=struct.pack("!I", 1448))]) / Ether(
        src=ZONE, dst="a8:40:25:00:02:0a") / IP(src="172.30.0.10", dst="172.30.1.10") / TCP(
        sport=40007, dport=80, flags="S", options=[("MSS", 1448)])
    yield "geneve vni 77 multicast two options", Ether(
        src="a8:40:25:01:00:01", dst="33:33:00:00:00:fb") / IPv6(
        src="fd00:1::1", dst="ff04::1:2") / UDP(sport=51236, dport=6081, chksum=0) / GENEVE(
        vni=77, proto=0x6558, options=[
            GeneveOptions(classid=0x0129, type=0x01, data=bytes([0x40, 0, 0, 0])),
            GeneveOptions(classid=0x0129, type=0x02, data=struct.pack("!I", 1400))]) / Ether(
        src=ZONE, dst="01:00:5e:01:02:03") / IP(src="172.30.0.10", dst="239.1.2.3", ttl=8) / UDP(
        sport=40008, dport=5000) / Raw(b"mcast")
    yield "dhcpv4 offer", Ether(src=GW, dst="ff:ff:ff:ff:ff:ff") / IP(
        src="172.30.0.1", dst="255.255.255.255") / UDP(sport=67, dport=68) / BOOTP(
        op=2, xid=0x3903f326, yiaddr="172.30.0.10", siaddr="172.30.0.1",
        chaddr=bytes.fromhex(ZONE.replace(":", "")) + b"\0" * 10) / DHCP(options=[
            ("message-type", "offer"), ("server_id", "172.30.0.1"), ("lease_time", 86400),
            ("subnet_mask", "255.255.252.0"), ("router", "172.30.0.1"),
            ("name_server", "1.1.1.1", "8.8.8.8"), ("domain", "oxide.test"),
            ("interface-mtu", 1500), "end"])
    yield "dhcpv6 reply", eb / IPv6(src=LL_GW, dst=LL_ZONE) / UDP(sport=547, dport=546) / \
        DHCP6_Reply(trid=0x123456) / DHCP6OptServerId(duid=DUID_LL(lladdr=GW)) / \
        DHCP6OptClientId(duid=DUID_LL(lladdr=ZONE)) / DHCP6OptIA_NA(
            iaid=1, T1=1800, T2=2880, ianaopts=[DHCP6OptIAAddress(
                addr="fd00:5::132", preflft=3600, validlft=7200)]) / DHCP6OptRapidCommit() / \
        DHCP6OptDNSServers(dnsservers=["fd00:5::1"]) / DHCP6OptDNSDomains(dnsdomains=["oxide.test."])


def ip_str(b):
    return b if isinstance(b, str) else ".".join(str(x) for x in b)


def dhcp_layer(bootp):
    out = {"type": "dhcp", "op": bootp.op, "xid": bootp.xid, "yiaddr": bootp.yiaddr,
           "siaddr": bootp.siaddr, "chaddr": ":".join(f"{x:02x}" for x in bootp.chaddr[:6])}
    for opt in bootp[DHCP].options:
        if not isinstance(opt, tuple):
            continue
        k, vals = opt[0], list(opt[1:])
        if k == "message-type":
            out["message_type"] = vals[0]
        elif k == "server_id":
            out["server_id"] = vals[0]
        elif k == "lease_time":
            out["lease_time"] = vals[0]
        elif k == "subnet_mask":
            out["subnet_mask"] = vals[0]
        elif k == "router":
            out["routers"] = vals
        elif k == "name_server":
            out["dns_servers"] = vals
        elif k == "domain":
            out["domain_name"] = vals[0].decode() if isinstance(vals[0], bytes) else vals[0]
        elif k == "interface-mtu":
            out["mtu"] = vals[0]
    return out


def describe(p):
    """Flat layer list of a re-dissected packet, in xdeno decode's names."""
    layers, meta = [], {}
    cur = p
    while cur is not None and not isinstance(cur, (Raw,)) and cur.name != "NoPayload":
        if isinstance(cur, Ether):
            layers.append({"type": "ethernet", "src": cur.src, "dst": cur.dst, "ethertype": cur.type})
        elif isinstance(cur, ARP):
            layers.append({"type": "arp", "op": cur.op, "sender_mac": cur.hwsrc,
                           "sender_ip": cur.psrc, "target_ip": cur.pdst})
        elif isinstance(cur, IP):
            layers.append({"type": "ipv4", "src": cur.src, "dst": cur.dst, "protocol": cur.proto,
                           "ttl": cur.ttl, "id": cur.id, "header_len": cur.ihl * 4,
                           "total_length": cur.len, "df": bool(cur.flags.DF),
                           "mf": bool(cur.flags.MF)})
        elif isinstance(cur, IPv6):
            layers.append({"type": "ipv6", "src": cur.src, "dst": cur.dst, "next_header": cur.nh,
                           "hop_limit": cur.hlim, "payload_length": cur.plen, "ext_headers": []})
        elif isinstance(cur, (IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt)):
            ip6 = [x for x in layers if x["type"] == "ipv6"][-1]
            ip6["ext_headers"].append(0 if isinstance(cur, IPv6ExtHdrHopByHop) else 60)
        elif isinstance(cur, TCP):
            t = {"type": "tcp", "src_port": cur.sport, "dst_port": cur.dport, "seq": cur.seq,
                 "ack": cur.ack, "flags": int(cur.flags), "window": cur.window}
            for k, v in cur.options:
                if k == "MSS":
                    t["mss"] = v
            layers.append(t)
        elif isinstance(cur, UDP):
            layers.append({"type": "udp", "src_port": cur.sport, "dst_port": cur.dport,
                           "length": cur.len, "checksum": cur.chksum})
        elif isinstance(cur, ICMP):
            i = {"type": "icmp", "icmp_type": cur.type, "code": cur.code}
            if cur.type in (0, 8):
                i.update(id=cur.id, seq=cur.seq)
            if cur.type == 3 and cur.code == 4:
                i["mtu"] = cur.nexthopmtu
            layers.append(i)
        elif isinstance(cur, _ICMPv6) and "NDOpt" not in type(cur).__name__:
            i = {"type": "icmpv6", "icmp_type": cur.type, "code": cur.code}
            if isinstance(cur, ICMPv6EchoRequest):
                i.update(id=cur.id, seq=cur.seq)
            if isinstance(cur, ICMPv6PacketTooBig):
                i["mtu"] = cur.mtu
            if isinstance(cur, (ICMPv6ND_NS, ICMPv6ND_NA)):
                i["target"] = cur.tgt
            if isinstance(cur, ICMPv6ND_NA):
                i.update(router=bool(cur.R), solicited=bool(cur.S), override=bool(cur.O))
            if isinstance(cur, ICMPv6ND_RA):
                i.update(cur_hop_limit=cur.chlim, router_lifetime=cur.routerlifetime)
            if isinstance(cur, (ICMPv6ND_RS, ICMPv6ND_RA, ICMPv6ND_NS, ICMPv6ND_NA)):
                i["option_types"] = []
            layers.append(i)
        elif "NDOpt" in type(cur).__name__:
            layers[-1]["option_types"].append(cur.type)
            if isinstance(cur, ICMPv6NDOptPrefixInfo):
                layers[-1]["prefix"] = cur.prefix
                layers[-1]["prefix_len"] = cur.prefixlen
            if isinstance(cur, ICMPv6NDOptMTU):
                layers[-1]["ra_mtu"] = cur.mtu
        elif isinstance(cur, GENEVE):
            layers.append({"type": "geneve", "vni": cur.vni, "protocol": cur.proto,
                           "options": [{"class": o.classid, "type": o.type,
                                        "data": bytes(o.data).hex()} for o in cur.options]})
            meta["vni"] = cur.vni
            meta["geneve_options"] = len(cur.options)
            for o in cur.options:
                if o.classid == 0x0129 and o.type == 2:
                    meta["oxide_mss"] = struct.unpack("!I", bytes(o.data))[0]
        elif isinstance(cur, BOOTP):
            layers.append(dhcp_layer(cur))
            break
        elif isinstance(cur, DHCP6):
            codes = []
            o = cur.payload
            while o is not None and o.name != "NoPayload" and hasattr(o, "optcode"):
                codes.append(o.optcode)
                o = o.payload
            layers.append({"type": "dhcpv6", "msg_type": cur.msgtype, "transaction_id": cur.trid,
                           "option_codes": sorted(codes)})
            break
        cur = cur.payload
    flow = [x for x in layers if x["type"] in ("tcp", "udp")]
    # ICMP errors are flows of their own (type/code), not of the quoted datagram.
    if flow and not any(x["type"].startswith("icmp") for x in layers):
        meta["flow_ports"] = [flow[-1]["src_port"], flow[-1]["dst_port"]]
    return layers, meta


def main():
    if sys.argv[1] == "--describe":
        # The other direction: what scapy reads in frames someone else (xdeno) wrote.
        out = []
        for p in rdpcap(sys.argv[2]):
            layers, meta = describe(Ether(raw(p)))
            out.append({"name": "", "layers": layers, "meta": meta})
        print(json.dumps(out))
        return
    built = list(frames())
    wrpcap(sys.argv[1], [p for _, p in built])
    out = []
    for name, p in built:
        again = Ether(raw(p))
        layers, meta = describe(again)
        out.append({"name": name, "layers": layers, "meta": meta})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
