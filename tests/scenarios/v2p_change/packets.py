from common import *

def to_c(n):
    return from_vm(VA, VC["ip"], UDP(sport=40000, dport=7777) / Raw(b"msg%d" % n))

PACKETS = [
    (0.0, "vm-a", to_c(1)),
    (0.5, "vm-a", to_c(2)),
    # A step at 1 s moves 10.0.0.7 to sled 103: the same live flow follows it.
    (1.5, "vm-a", to_c(3)),
]
