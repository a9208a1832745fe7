from common import *

PACKETS = [
    # dns0 to a zone on the other sled, inside the underlay prefix: passed through unchanged
    # but for the MACs (link MAC → next hop's MAC), no encapsulation, no pipeline.
    (0.0, "dns0", Ether(src=ZONE["mac"], dst=GW_MAC) /
     IPv6(src=ZONE["ip"], dst="fd00:1122:3344:102::20", hlim=64) / UDP(sport=5301, dport=33000) / Raw(b"answer")),
    # dns0 to the GZ on the same sled: port to port.
    (0.1, "dns0", Ether(src=ZONE["mac"], dst=GW_MAC) /
     IPv6(src=ZONE["ip"], dst=SLED, hlim=64) / UDP(sport=5301, dport=33001) / Raw(b"gz")),
    # A query arriving from the rack for dns0's underlay address: delivered to dns0.
    (0.2, "ul0", Ether(src=RACK_MAC, dst=UL_MAC) /
     IPv6(src="fd00:1122:3344:102::20", dst=ZONE["ip"], hlim=64) / UDP(sport=33002, dport=5301) / Raw(b"query")),
    # dns0's IPv4 overlay identity to an off-rack resolver: the boundary-services overlay (VNI
    # 99), source-translated to its SNAT address.
    (0.3, "dns0", Ether(src=ZONE["mac"], dst=GW_MAC) /
     IP(src=ZONE["ip4"], dst="9.9.9.9", ttl=64) / UDP(sport=33003, dport=5300) / Raw(b"recurse")),
]
# The rack router asks (NDP) who has dns0's underlay address: the switch answers on ul0.
PACKETS.append((0.4, "ul0", Ether(src=RACK_MAC, dst="33:33:ff:00:00:10") /
                IPv6(src="fe80::1", dst="ff02::1:ff00:10", hlim=255) /
                ICMPv6ND_NS(tgt=ZONE["ip"]) / ICMPv6NDOptSrcLLAddr(lladdr=RACK_MAC)))
