from common import *

PACKETS = [
    # vm-a sends to 239.1.1.1: vm-b (subscribed, same sled) gets a copy, and one Geneve copy goes
    # to the underlay group towards the forwarding next hop.
    (0.0, "vm-a", Ether(src=VA["mac"], dst="01:00:5e:01:01:01") /
     IP(src=VA["ip"], dst="239.1.1.1", ttl=16) / UDP(sport=42000, dport=6000) / Raw(b"mcast")),
]
