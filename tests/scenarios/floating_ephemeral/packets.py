from common import *

def from_internet(src, dst, l4):
    return geneve_in(Ether(src="a8:40:25:77:77:77", dst=VB["mac"]) / IP(src=src, dst=dst, ttl=60) / l4,
                     src=BOUNDARY, options=oxide_external())

PACKETS = [
    # A new connection from the internet to vm-b's floating IP is let in (default firewall
    # allows nothing in from outside the VNI, so steps open port 80 first).
    (0.0, "ul0", from_internet("198.51.100.7", "203.0.113.31", TCP(sport=51000, dport=80, flags="S"))),
    # vm-b's own new flow out leaves with the floating IP (it takes precedence over ephemeral).
    (0.1, "vm-b", from_vm(VB, "1.1.1.1", UDP(sport=41000, dport=9999) / Raw(b"q1"))),
    # After the step at 1 s drops the floating IP, a new flow leaves with the ephemeral IP.
    (1.1, "vm-b", from_vm(VB, "1.1.1.1", UDP(sport=41001, dport=9999) / Raw(b"q2"))),
]
