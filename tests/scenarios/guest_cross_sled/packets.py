from common import *

PACKETS = [
    # vm-a to 10.0.0.7 on the other sled: encapsulated to that sled (V2P), VNI 10.
    (0.0, "vm-a", from_vm(VA, VC["ip"], UDP(sport=40000, dport=7777) / Raw(b"to c"))),
    # Its answer arrives from the rack in Geneve and is delivered to vm-a.
    (0.2, "ul1", geneve_in(Ether(src=VC["mac"], dst=VA["mac"]) /
                          IP(src=VC["ip"], dst=VA["ip"], ttl=64) / UDP(sport=7777, dport=40000) / Raw(b"from c"))),
]
