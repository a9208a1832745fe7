from common import *

PACKETS = [
    (0.0, "vm-a", from_vm(VA, "8.8.8.8", TCP(sport=40000, dport=443, flags="S", seq=1000))),
]
# The SYN-ACK from the internet, through boundary services: Geneve on the VPC's VNI with the
# Oxide "external" option, addressed to the SNAT address and the port the first SYN left with.
PACKETS.append((0.05, "ul0", geneve_in(
    Ether(src="a8:40:25:77:77:77", dst=VA["mac"]) / IP(src="8.8.8.8", dst="203.0.113.20", ttl=60) /
    TCP(sport=443, dport=8191, flags="SA", seq=5000, ack=1001), src=BOUNDARY, options=oxide_external())))
# An unsolicited packet to the SNAT address (no flow): dropped.
PACKETS.append((0.1, "ul0", geneve_in(
    Ether(src="a8:40:25:77:77:77", dst=VA["mac"]) / IP(src="8.8.4.4", dst="203.0.113.20", ttl=60) /
    TCP(sport=443, dport=4097, flags="S", seq=1), src=BOUNDARY, options=oxide_external())))
