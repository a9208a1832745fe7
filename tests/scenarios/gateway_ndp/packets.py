from common import *
from scapy.layers.inet6 import ICMPv6ND_RS, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, in6_getnsma, in6_getnsmac, inet_pton
import socket

GW_LL = "fe80::aa40:25ff:feff:7777"  # EUI-64 of the gateway MAC
VA_LL = "fe80::aa40:25ff:fef0:a"

def ns_for(target):
    snm = socket.inet_ntop(socket.AF_INET6, in6_getnsma(inet_pton(socket.AF_INET6, target)))
    return (Ether(src=VA["mac"], dst=in6_getnsmac(inet_pton(socket.AF_INET6, snm))) /
            IPv6(src=VA_LL, dst=snm, hlim=255) / ICMPv6ND_NS(tgt=target) /
            ICMPv6NDOptSrcLLAddr(lladdr=VA["mac"]))

PACKETS = [
    # Router solicitation to all-routers: the gateway answers with a router advertisement.
    (0.0, "vm-a", Ether(src=VA["mac"], dst="33:33:00:00:00:02") /
     IPv6(src=VA_LL, dst="ff02::2", hlim=255) / ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(lladdr=VA["mac"])),
    # Neighbour solicitation for the gateway's link-local address: answered with its MAC.
    (0.5, "vm-a", ns_for(GW_LL)),
]
