from common import *
from scapy.layers.dhcp6 import DHCP6_Solicit, DHCP6OptClientId, DHCP6OptIA_NA, DHCP6OptElapsedTime, DUID_LL, DHCP6OptRapidCommit

VA_LL = "fe80::aa40:25ff:fef0:a"
PACKETS = [
    (0.0, "vm-a", Ether(src=VA["mac"], dst="33:33:00:01:00:02") /
     IPv6(src=VA_LL, dst="ff02::1:2", hlim=1) / UDP(sport=546, dport=547) /
     DHCP6_Solicit(trid=0x4242) / DHCP6OptElapsedTime() /
     DHCP6OptClientId(duid=DUID_LL(lladdr=VA["mac"])) / DHCP6OptIA_NA(iaid=1) / DHCP6OptRapidCommit()),
]
