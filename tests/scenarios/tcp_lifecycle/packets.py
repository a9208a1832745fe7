from common import *

def a_to_b(sport, flags, seq, ack=0):
    return from_vm(VA, VB["ip"], TCP(sport=sport, dport=8080, flags=flags, seq=seq, ack=ack))

def b_to_a(dport, flags, seq, ack):
    return from_vm(VB, VA["ip"], TCP(sport=8080, dport=dport, flags=flags, seq=seq, ack=ack))

PACKETS = [
    # Flow 1: opened, then closed by both sides.
    (0.0, "vm-a", a_to_b(41001, "S", 1000)),
    (0.01, "vm-b", b_to_a(41001, "SA", 5000, 1001)),
    (0.02, "vm-a", a_to_b(41001, "A", 1001, 5001)),
    (1.0, "vm-a", a_to_b(41001, "FA", 1001, 5001)),
    (1.01, "vm-b", b_to_a(41001, "FA", 5001, 1002)),
    (1.02, "vm-a", a_to_b(41001, "A", 1002, 5002)),
    # Flow 2: opened and left idle.
    (2.0, "vm-a", a_to_b(41002, "S", 2000)),
    (2.01, "vm-b", b_to_a(41002, "SA", 6000, 2001)),
    (2.02, "vm-a", a_to_b(41002, "A", 2001, 6001)),
    # Flow 3: a SYN nobody answers (half-open).
    (3.0, "vm-a", a_to_b(41003, "S", 3000)),
]
