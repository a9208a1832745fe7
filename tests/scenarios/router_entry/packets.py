from common import *

def out(n):
    return from_vm(VA, "192.0.2.10", UDP(sport=40000 + n, dport=9000) / Raw(b"x"))

PACKETS = [(0.0, "vm-a", out(1)), (2.0, "vm-a", out(2))]
