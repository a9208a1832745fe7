"""Addresses and frame builders shared by the scenarios' packets.py (see base.yaml)."""
from scapy.all import (ARP, ICMP, IP, TCP, UDP, BOOTP, DHCP, Ether, IPv6, ICMPv6EchoRequest,
                       ICMPv6ND_NS, ICMPv6ND_RS, ICMPv6NDOptSrcLLAddr, Raw)
from scapy.contrib.geneve import GENEVE

GW_MAC = "a8:40:25:ff:77:77"
SLED = "fd00:1122:3344:101::1"
SLED2 = "fd00:1122:3344:102::1"
BOUNDARY = "fd00:99::1"
HOST = dict(name="xde0", mac="a8:40:25:00:00:01", ip=SLED)
ZONE = dict(name="dns0", mac="a8:40:25:00:00:10", ip="fd00:1122:3344:101::10",
            ip4="172.30.1.5")
VA = dict(name="vm-a", mac="a8:40:25:f0:00:0a", ip="10.0.0.5", ip6="fd12::5")
VB = dict(name="vm-b", mac="a8:40:25:f0:00:0b", ip="10.0.0.6", ip6="fd12::6")
# On the other sled (V2P to SLED2).
VC = dict(mac="a8:40:25:f0:00:0c", ip="10.0.0.7")
RACK_MAC = "02:00:00:00:00:01"  # what fe80::1 answers with (replay's derived next-hop MAC)
UL_MAC = "02:00:00:00:aa:01"  # the MAC of our underlay links in the capture (replay adopts it)


def geneve_in(inner, vni=10, src=SLED2, dst=SLED, sport=49152, options=b""):
    """A Geneve frame arriving from the rack on an underlay link."""
    return (Ether(src=RACK_MAC, dst=UL_MAC) /
            IPv6(src=src, dst=dst, hlim=64) / UDP(sport=sport, dport=6081, chksum=0) /
            GENEVE(vni=vni, proto=0x6558, optionlen=len(options) // 4) / Raw(options) / inner)


def oxide_external():
    """The Oxide Geneve option marking traffic from boundary services (class 0x0129, type 0)."""
    return bytes([0x01, 0x29, 0x00, 0x00])


def from_vm(vm, dst_ip, l4, dst_mac=GW_MAC):
    return Ether(src=vm["mac"], dst=dst_mac) / IP(src=vm["ip"], dst=dst_ip, ttl=64) / l4
