from common import *

PACKETS = [
    (0.0, "vm-a", from_vm(VA, VB["ip"], UDP(sport=40000, dport=4444) / Raw(b"hello b"))),
    (0.1, "vm-b", from_vm(VB, VA["ip"], UDP(sport=4444, dport=40000) / Raw(b"hello a"))),
]
